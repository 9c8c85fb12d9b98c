// A thread that owns a blocking backend connection (SQLite, hiredis) and runs queued operations
// on it in batches, so that coroutines on the node's I/O threads do not block on that backend.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <pthread.h>
#include <vector>

#include "infra/asio.hpp"

namespace inferd::store::detail {

/// One queued operation. `execute` runs on the worker thread; `invoke` resumes the caller and
/// must run on `executor()`.
template <typename Backend>
class Operation {
 public:
  explicit Operation(bool write) : write_(write) {}
  virtual ~Operation() = default;
  bool write() const { return write_; }
  virtual const asio::any_io_executor& executor() const = 0;
  virtual void execute(Backend& backend) = 0;
  virtual void fail(std::exception_ptr error) = 0;
  virtual void invoke() = 0;

 private:
  bool write_;
};

template <typename Backend, typename T, typename Work, typename Handler>
class OperationFor final : public Operation<Backend> {
 public:
  OperationFor(bool write, Work work, Handler handler)
      : Operation<Backend>(write),
        work_(std::move(work)),
        handler_(std::move(handler)),
        // Keeps the caller's io_context from running out of work while the operation waits.
        executor_(asio::prefer(asio::get_associated_executor(handler_),
                               asio::execution::outstanding_work.tracked)) {}

  const asio::any_io_executor& executor() const override { return executor_; }

  void execute(Backend& backend) override {
    try {
      result_.emplace(work_(backend));
    } catch (...) {
      error_ = std::current_exception();
    }
  }

  void fail(std::exception_ptr error) override {
    result_.reset();
    error_ = std::move(error);
  }

  void invoke() override {
    if (error_ || !result_) {
      std::move(handler_)(error_, T{});
    } else {
      std::move(handler_)(nullptr, std::move(*result_));
    }
  }

 private:
  Work work_;
  Handler handler_;
  asio::any_io_executor executor_;
  std::optional<T> result_;
  std::exception_ptr error_;
};

/// Owns one thread and one Backend. Thread-safe: submit() may be called from any thread.
///
/// The thread takes every queued operation at once and hands the batch to `process`, which
/// must call execute() (or fail()) on each operation; the worker then resumes the callers with
/// one post per run of operations that share an executor.
template <typename Backend>
class BlockingWorker {
 public:
  using Batch = std::vector<std::unique_ptr<Operation<Backend>>>;
  using Opener = std::function<std::unique_ptr<Backend>()>;
  using Processor = std::function<void(Backend&, Batch&)>;

  /// Runs `open` on the new thread, named `thread_name` (at most 15 characters, shown by top
  /// and perf), and waits for it; rethrows what `open` throws.
  BlockingWorker(std::string thread_name, Opener open, Processor process)
      : process_(std::move(process)) {
    std::promise<void> opened;
    auto opened_future = opened.get_future();
    // The thread owns the promise, so set_value never touches a destroyed object.
    thread_ = std::thread([this, thread_name = std::move(thread_name), open = std::move(open),
                           opened = std::move(opened)]() mutable {
      ::pthread_setname_np(::pthread_self(), thread_name.substr(0, 15).c_str());
      run(open, opened);
    });
    try {
      opened_future.get();
    } catch (...) {
      thread_.join();
      throw;
    }
  }

  /// Finishes every queued operation, then closes the backend on its thread.
  ~BlockingWorker() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  BlockingWorker(const BlockingWorker&) = delete;
  BlockingWorker& operator=(const BlockingWorker&) = delete;

  /// Queues `work` (a callable `T(Backend&)`) and completes with its result on the caller's
  /// executor. Pass `work` as a named variable: g++ 12 corrupts a lambda temporary with
  /// captures that is created inside a co_await expression.
  template <typename T, typename Work>
  Awaitable<T> submit(bool write, Work work) {
    return asio::async_initiate<const asio::use_awaitable_t<>, void(std::exception_ptr, T)>(
        [this, write, work = std::move(work)](auto handler) mutable {
          using Handler = decltype(handler);
          enqueue(std::make_unique<OperationFor<Backend, T, Work, Handler>>(write, std::move(work),
                                                                            std::move(handler)));
        },
        asio::use_awaitable);
  }

 private:
  void enqueue(std::unique_ptr<Operation<Backend>> operation) {
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      was_empty = queue_.empty();
      queue_.push_back(std::move(operation));
    }
    // The thread only sleeps on an empty queue, so only the first push needs a wake-up.
    if (was_empty) {
      wake_.notify_one();
    }
  }

  void run(Opener& open, std::promise<void>& opened) {
    std::unique_ptr<Backend> backend;
    try {
      backend = open();
      opened.set_value();
    } catch (...) {
      opened.set_exception(std::current_exception());
      return;
    }

    Batch batch;
    while (true) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) {
          break;  // stopping, and everything queued has been done
        }
        batch.swap(queue_);
      }
      process_(*backend, batch);
      complete(batch);
      batch.clear();
    }
  }

  // One post per run of operations with the same executor, instead of one post (and possibly
  // one thread wake-up) per operation.
  static void complete(Batch& batch) {
    std::size_t i = 0;
    while (i < batch.size()) {
      asio::any_io_executor executor = batch[i]->executor();
      Batch group;
      while (i < batch.size() && batch[i]->executor() == executor) {
        group.push_back(std::move(batch[i]));
        ++i;
      }
      asio::post(executor, [group = std::move(group)]() {
        for (const auto& operation : group) {
          operation->invoke();
        }
      });
    }
  }

  Processor process_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  Batch queue_;
  bool stopping_ = false;
};

}  // namespace inferd::store::detail

// Bounds how many operations run at once, with a bounded queue of waiters behind them.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "infra/asio.hpp"

namespace inferd::infra {

/// Thrown by ConcurrencyLimiter::acquire when the queue of waiters is full.
class QueueFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An asynchronous counting semaphore. Waiters are served in arrival order. Thread-safe.
class ConcurrencyLimiter : public std::enable_shared_from_this<ConcurrencyLimiter> {
 public:
  /// Releases its slot when destroyed.
  class Permit {
   public:
    Permit() = default;
    explicit Permit(std::shared_ptr<ConcurrencyLimiter> owner) : owner_(std::move(owner)) {}
    Permit(Permit&&) noexcept = default;
    Permit& operator=(Permit&& other) noexcept {
      reset();
      owner_ = std::move(other.owner_);
      return *this;
    }
    ~Permit() { reset(); }
    void reset() {
      if (owner_)
        owner_->release();
      owner_.reset();
    }

   private:
    std::shared_ptr<ConcurrencyLimiter> owner_;
  };

  /// `executor` runs the continuation of waiters that get a slot from another thread.
  ConcurrencyLimiter(asio::any_io_executor executor, std::size_t max_running,
                     std::size_t max_waiting)
      : executor_(std::move(executor)), max_running_(max_running), max_waiting_(max_waiting) {}

  /// Waits for a slot. Throws QueueFull at once when `max_waiting` callers already wait.
  Awaitable<Permit> acquire() {
    {
      std::lock_guard lock(mutex_);
      if (running_ < max_running_) {
        ++running_;
        co_return Permit(shared_from_this());
      }
      if (waiters_.size() >= max_waiting_) {
        throw QueueFull("queue of " + std::to_string(max_waiting_) + " waiting calls is full");
      }
    }
    co_await asio::async_initiate<const asio::use_awaitable_t<>, void()>(
        [this](auto handler) {
          std::unique_lock lock(mutex_);
          // A slot may have been released since the check above.
          if (running_ < max_running_) {
            ++running_;
            lock.unlock();
            asio::post(executor_, std::move(handler));
            return;
          }
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          waiters_.emplace_back([shared] { (*shared)(); });
        },
        asio::use_awaitable);
    co_return Permit(shared_from_this());
  }

  /// True when acquire() would not throw QueueFull right now.
  bool has_capacity() const {
    std::lock_guard lock(mutex_);
    return running_ < max_running_ || waiters_.size() < max_waiting_;
  }

  std::size_t running() const {
    std::lock_guard lock(mutex_);
    return running_;
  }

  std::size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiters_.size();
  }

 private:
  void release() {
    std::unique_lock lock(mutex_);
    if (waiters_.empty()) {
      --running_;
      return;
    }
    // The slot passes straight to the oldest waiter, so `running_` stays the same.
    auto next = std::move(waiters_.front());
    waiters_.pop_front();
    lock.unlock();
    asio::post(executor_, std::move(next));
  }

  asio::any_io_executor executor_;
  const std::size_t max_running_;
  const std::size_t max_waiting_;
  mutable std::mutex mutex_;
  std::size_t running_ = 0;
  std::deque<std::function<void()>> waiters_;
};

}  // namespace inferd::infra

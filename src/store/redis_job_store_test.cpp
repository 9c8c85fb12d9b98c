#include "store/redis_job_store.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

extern char** environ;

namespace inferd::store {
namespace {

using nlohmann::json;

// A free TCP port on 127.0.0.1, found by binding port 0.
std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool accepts_connections(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  ::close(fd);
  return connected;
}

// One redis-server on a free loopback port for the whole suite, without persistence.
class RedisServer {
 public:
  RedisServer() : port_(free_port()) {
    std::string port = std::to_string(port_);
    const char* argv[] = {"redis-server", "--port",     port.c_str(),   "--bind", "127.0.0.1",
                          "--save",       "",           "--appendonly", "no",     "--daemonize",
                          "no",           "--loglevel", "warning",      nullptr};
    if (::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, const_cast<char**>(argv),
                       environ) != 0) {
      pid_ = 0;
      return;
    }
    // Wait until it listens: at most 500 tries of 10 ms.
    for (int attempt = 0; attempt < 500 && !accepts_connections(port_); ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  ~RedisServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }

  bool running() const { return pid_ > 0 && accepts_connections(port_); }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  pid_t pid_ = 0;
};

template <typename T>
T run(asio::io_context& io, Awaitable<T> awaitable) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(awaitable), [&](std::exception_ptr e, T value) {
    error = e;
    result = std::move(value);
  });
  io.restart();
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
  return std::move(*result);
}

void run(asio::io_context& io, Awaitable<void> awaitable) {
  std::exception_ptr error;
  asio::co_spawn(io, std::move(awaitable), [&](std::exception_ptr e) { error = e; });
  io.restart();
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
}

JobRecord running_job(std::string id, std::string owner, std::vector<std::string> containers) {
  JobRecord job;
  job.id = std::move(id);
  job.owner = std::move(owner);
  job.containers = std::move(containers);
  return job;
}

ContainerResult output(std::string container, json value) {
  ContainerResult result;
  result.container = std::move(container);
  result.output = std::move(value);
  return result;
}

class RedisJobStoreTest : public testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new RedisServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(server_->running()) << "redis-server did not start; install it with "
                                       "scripts/install-deps.sh";
  }

  RedisStoreOptions options(std::string node_id = "node-a") const {
    RedisStoreOptions result;
    result.port = server_->port();
    result.node_id = std::move(node_id);
    result.key_prefix =
        std::string("test:") + testing::UnitTest::GetInstance()->current_test_info()->name() + ":";
    return result;
  }

  static RedisServer* server_;
  asio::io_context io_;
};

RedisServer* RedisJobStoreTest::server_ = nullptr;

TEST_F(RedisJobStoreTest, CreateAppendFinishGet) {
  RedisJobStore store(options());
  run(io_, store.create(running_job("job-1", "10.0.0.1", {"a", "b"})));
  auto records = run(io_, store.get("10.0.0.1", {"job-1"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status, JobStatus::kRunning);
  EXPECT_EQ(records[0].containers, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(records[0].expires_at_ms, 0);

  run(io_, store.append_result("job-1", output("a", {{"x", 1}})));
  records = run(io_, store.get("10.0.0.1", {"job-1"}));
  ASSERT_EQ(records[0].results.size(), 1u);

  run(io_, store.finish("job-1", JobStatus::kSuccess,
                        {output("a", {{"x", 1}}), output("b", {{"big", 123456789012345678}})}));
  records = run(io_, store.get("10.0.0.1", {"job-1"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].to_json(true), json::parse(R"({"id":"job-1","status":"success",
                            "result":{"container":"b","output":{"big":123456789012345678}},
                            "intermediate_results":[{"container":"a","output":{"x":1}}]})"));
  EXPECT_GT(records[0].expires_at_ms, records[0].updated_at_ms);
}

TEST_F(RedisJobStoreTest, DuplicateIdIsRejected) {
  RedisJobStore store(options());
  run(io_, store.create(running_job("job-1", "o", {"a"})));
  EXPECT_THROW(run(io_, store.create(running_job("job-1", "p", {"a"}))), StoreError);
  EXPECT_EQ(run(io_, store.get("o", {"job-1"})).size(), 1u);
  EXPECT_TRUE(run(io_, store.get("p", {"job-1"})).empty());
}

TEST_F(RedisJobStoreTest, OwnerScopingAndRequestOrder) {
  RedisJobStore store(options());
  for (const char* id : {"a", "b", "c"}) {
    run(io_, store.create(running_job(id, "mine", {"x"})));
  }
  run(io_, store.create(running_job("d", "theirs", {"x"})));

  auto records = run(io_, store.get("mine", {"c", "d", "nope", "a", "c", "b"}));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, "c");
  EXPECT_EQ(records[1].id, "a");
  EXPECT_EQ(records[2].id, "b");
  EXPECT_TRUE(run(io_, store.get("theirs", {"a"})).empty());
}

TEST_F(RedisJobStoreTest, ListFiltersNewestFirstWithLimit) {
  RedisJobStore store(options());
  for (const char* id : {"a", "b", "c", "d"}) {
    run(io_, store.create(running_job(id, "o", {"x"})));
  }
  run(io_, store.finish("a", JobStatus::kSuccess, {}));
  run(io_, store.finish("c", JobStatus::kFailed, {}));

  EXPECT_EQ(run(io_, store.list("o", PendingFilter::kAll, 100)),
            (std::vector<std::string>{"d", "c", "b", "a"}));
  EXPECT_EQ(run(io_, store.list("o", PendingFilter::kPendingOnly, 100)),
            (std::vector<std::string>{"d", "b"}));
  EXPECT_EQ(run(io_, store.list("o", PendingFilter::kCompletedOnly, 100)),
            (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(run(io_, store.list("o", PendingFilter::kAll, 2)),
            (std::vector<std::string>{"d", "c"}));
  EXPECT_EQ(run(io_, store.count_running()), 2u);
}

TEST_F(RedisJobStoreTest, CompletedJobsExpireInRedis) {
  RedisStoreOptions short_ttl = options();
  short_ttl.result_ttl = std::chrono::milliseconds(50);
  RedisJobStore store(short_ttl);
  run(io_, store.create(running_job("done", "o", {"x"})));
  run(io_, store.create(running_job("running", "o", {"x"})));
  run(io_, store.finish("done", JobStatus::kSuccess, {output("x", 1)}));

  // Redis removes the job itself; wait for that, bounded at 5 s.
  bool gone = false;
  for (int attempt = 0; attempt < 500 && !gone; ++attempt) {
    gone = run(io_, store.get("o", {"done"})).empty();
    if (!gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_TRUE(gone);
  EXPECT_EQ(run(io_, store.list("o", PendingFilter::kAll, 10)),
            std::vector<std::string>{"running"});
  EXPECT_EQ(run(io_, store.delete_expired()), 1u);
  EXPECT_EQ(run(io_, store.delete_expired()), 0u);
  EXPECT_EQ(run(io_, store.get("o", {"running"})).size(), 1u);
}

TEST_F(RedisJobStoreTest, PutStatusKeepsOwnersApart) {
  RedisJobStore store(options());
  run(io_, store.put_status("172.17.0.2", "ext", JobStatus::kRunning, {"hello"}));
  EXPECT_EQ(run(io_, store.count_running()), 1u);
  run(io_, store.put_status("172.17.0.2", "ext", JobStatus::kSuccess, {"hello"}));
  EXPECT_EQ(run(io_, store.count_running()), 0u);
  run(io_, store.put_status("10.9.9.9", "ext", JobStatus::kFailed, {"hello"}));

  auto records = run(io_, store.get("172.17.0.2", {"ext"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].to_json(true), json::parse(R"({"id":"ext","status":"success","result":null,
                            "intermediate_results":[]})"));
  EXPECT_TRUE(run(io_, store.get("10.9.9.9", {"ext"})).empty());
}

TEST_F(RedisJobStoreTest, FailRunningOnlyTouchesOwnNode) {
  {
    RedisJobStore node_a(options("node-a"));
    run(io_, node_a.create(running_job("fresh", "o", {"first", "second"})));
    run(io_, node_a.create(running_job("halfway", "o", {"first", "second"})));
    run(io_, node_a.append_result("halfway", output("first", {{"step", 1}})));
  }
  RedisJobStore node_b(options("node-b"));
  run(io_, node_b.create(running_job("other", "o", {"first"})));

  RedisJobStore node_a(options("node-a"));
  EXPECT_EQ(run(io_, node_a.fail_running("node restarted")), 2u);
  EXPECT_EQ(run(io_, node_a.count_running()), 0u);
  EXPECT_EQ(run(io_, node_b.count_running()), 1u);

  auto records = run(io_, node_a.get("o", {"fresh", "halfway", "other"}));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].to_json(true), json::parse(R"({"id":"fresh","status":"failed",
              "result":{"container":"first","error":"node restarted"},
              "intermediate_results":[]})"));
  EXPECT_EQ(records[1].to_json(true), json::parse(R"({"id":"halfway","status":"failed",
              "result":{"container":"second","error":"node restarted"},
              "intermediate_results":[{"container":"first","output":{"step":1}}]})"));
  EXPECT_EQ(records[2].status, JobStatus::kRunning);
}

TEST_F(RedisJobStoreTest, UnreachableServerThrows) {
  RedisStoreOptions unreachable = options();
  unreachable.port = free_port();
  try {
    RedisJobStore store(unreachable);
    FAIL() << "expected StoreError";
  } catch (const StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot connect to redis at 127.0.0.1:"),
              std::string::npos)
        << error.what();
  }
}

// Creates, finishes and reads back `jobs` jobs one after another, counting the correct reads.
Awaitable<void> create_finish_get(RedisJobStore& store, int coroutine, int jobs,
                                  std::atomic<int>& succeeded) {
  for (int i = 0; i < jobs; ++i) {
    std::string id = "job-" + std::to_string(coroutine) + "-" + std::to_string(i);
    std::string owner = "owner-" + std::to_string(coroutine % 3);
    std::vector<std::string> containers;
    containers.push_back("hello");
    JobRecord job = running_job(id, owner, std::move(containers));
    co_await store.create(std::move(job));
    // Named vectors: g++ 12 cannot keep a braced initializer list inside a co_await expression.
    std::vector<ContainerResult> results;
    results.push_back(output(std::string("hello"), json(i)));
    co_await store.finish(id, JobStatus::kSuccess, std::move(results));
    std::vector<std::string> ids;
    ids.push_back(id);
    auto records = co_await store.get(owner, std::move(ids));
    if (records.size() == 1 && records[0].results.at(0).output == json(i)) {
      ++succeeded;
    }
  }
}

TEST_F(RedisJobStoreTest, ConcurrentUseFromSeveralThreads) {
  RedisJobStore store(options());
  asio::io_context io;
  std::atomic<int> succeeded{0};
  std::atomic<int> failed{0};
  for (int c = 0; c < 8; ++c) {
    asio::co_spawn(io, create_finish_get(store, c, 25, succeeded),
                   [&failed](std::exception_ptr error) {
                     if (error) {
                       ++failed;
                     }
                   });
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&io] { io.run(); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(succeeded.load(), 200);
  EXPECT_EQ(run(io_, store.count_running()), 0u);
}

}  // namespace
}  // namespace inferd::store

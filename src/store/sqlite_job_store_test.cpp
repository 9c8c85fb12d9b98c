#include "store/sqlite_job_store.hpp"

#include <atomic>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "infra/config.hpp"

namespace inferd::store {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Runs one awaitable to completion on `io` and returns its result (or rethrows).
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

JobRecord running_job(std::string id, std::string owner,
                      std::vector<std::string> containers = {"hello"}) {
  JobRecord job;
  job.id = std::move(id);
  job.owner = std::move(owner);
  job.status = JobStatus::kRunning;
  job.containers = std::move(containers);
  return job;
}

ContainerResult output(std::string container, json value) {
  ContainerResult result;
  result.container = std::move(container);
  result.output = std::move(value);
  return result;
}

// Creates, finishes and reads back `jobs` jobs one after another, counting the correct reads.
Awaitable<void> create_finish_get(SqliteJobStore& store, int coroutine, int jobs,
                                  std::atomic<int>& succeeded) {
  for (int i = 0; i < jobs; ++i) {
    std::string id = "job-" + std::to_string(coroutine) + "-" + std::to_string(i);
    std::string owner = "owner-" + std::to_string(coroutine % 3);
    std::vector<std::string> containers = {"hello"};
    JobRecord job = running_job(id, owner, std::move(containers));
    co_await store.create(std::move(job));
    // Named vectors: g++ 12 cannot keep a braced initializer list inside a co_await expression.
    std::vector<ContainerResult> results;
    results.push_back(output(std::string("hello"), json(i)));
    co_await store.finish(id, JobStatus::kSuccess, std::move(results));
    std::vector<std::string> ids = {id};
    auto records = co_await store.get(owner, std::move(ids));
    if (records.size() == 1 && records[0].status == JobStatus::kSuccess &&
        records[0].results.at(0).output == json(i)) {
      ++succeeded;
    }
  }
}

class SqliteJobStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("inferd_store_test_" + std::to_string(::getpid()) + "_" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteJobStore> open(std::chrono::milliseconds ttl = std::chrono::hours(24)) {
    return std::make_unique<SqliteJobStore>(dir_, ttl, [this] { return now_ms_.load(); });
  }

  fs::path dir_;
  std::atomic<std::int64_t> now_ms_{1700000000000};
  asio::io_context io_;
};

TEST_F(SqliteJobStoreTest, CreateAppendFinishGet) {
  auto store = open();
  run(io_, store->create(running_job("job-1", "10.0.0.1", {"a", "b"})));

  auto records = run(io_, store->get("10.0.0.1", {"job-1"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status, JobStatus::kRunning);
  EXPECT_EQ(records[0].containers, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(records[0].results.empty());
  EXPECT_EQ(records[0].created_at_ms, now_ms_.load());
  EXPECT_EQ(records[0].expires_at_ms, 0);
  EXPECT_EQ(records[0].to_json(true), json::parse(R"({"id":"job-1","status":"running","result":null,
                            "intermediate_results":[]})"));

  run(io_, store->append_result("job-1", output("a", {{"x", 1}})));
  records = run(io_, store->get("10.0.0.1", {"job-1"}));
  ASSERT_EQ(records[0].results.size(), 1u);
  EXPECT_EQ(records[0].results[0].output, json({{"x", 1}}));

  run(io_, store->finish("job-1", JobStatus::kSuccess,
                         {output("a", {{"x", 1}}), output("b", {{"y", "z"}})}));
  records = run(io_, store->get("10.0.0.1", {"job-1"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status, JobStatus::kSuccess);
  EXPECT_EQ(records[0].expires_at_ms, now_ms_.load() + 24 * 3600 * 1000);
  EXPECT_EQ(records[0].to_json(true), json::parse(R"({"id":"job-1","status":"success",
                            "result":{"container":"b","output":{"y":"z"}},
                            "intermediate_results":[{"container":"a","output":{"x":1}}]})"));
  EXPECT_EQ(records[0].to_json(false), json::parse(R"({"id":"job-1","status":"success",
                            "result":{"container":"b","output":{"y":"z"}}})"));
}

TEST_F(SqliteJobStoreTest, FailedJobKeepsErrorResult) {
  auto store = open();
  run(io_, store->create(running_job("job-1", "o")));
  ContainerResult error;
  error.container = "hello";
  error.error = "container hello answered HTTP 500";
  run(io_, store->finish("job-1", JobStatus::kFailed, {error}));
  auto records = run(io_, store->get("o", {"job-1"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].to_json(false), json::parse(R"({"id":"job-1","status":"failed",
              "result":{"container":"hello","error":"container hello answered HTTP 500"}})"));
}

TEST_F(SqliteJobStoreTest, DuplicateIdIsRejected) {
  auto store = open();
  run(io_, store->create(running_job("job-1", "o")));
  EXPECT_THROW(run(io_, store->create(running_job("job-1", "other"))), StoreError);
  // The failed insert shares its transaction with nothing else and leaves the first job intact.
  auto records = run(io_, store->get("o", {"job-1"}));
  EXPECT_EQ(records.size(), 1u);
}

TEST_F(SqliteJobStoreTest, OwnersSeeOnlyTheirJobs) {
  auto store = open();
  run(io_, store->create(running_job("mine", "10.0.0.1")));
  run(io_, store->create(running_job("theirs", "10.0.0.2")));

  auto records = run(io_, store->get("10.0.0.1", {"mine", "theirs"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].id, "mine");
  EXPECT_EQ(run(io_, store->list("10.0.0.1", PendingFilter::kAll, 100)),
            std::vector<std::string>{"mine"});
  EXPECT_EQ(run(io_, store->list("10.0.0.2", PendingFilter::kAll, 100)),
            std::vector<std::string>{"theirs"});
  EXPECT_TRUE(run(io_, store->list("10.0.0.3", PendingFilter::kAll, 100)).empty());
}

TEST_F(SqliteJobStoreTest, GetFollowsRequestOrder) {
  auto store = open();
  for (const char* id : {"a", "b", "c"}) {
    run(io_, store->create(running_job(id, "o")));
  }
  run(io_, store->finish("b", JobStatus::kSuccess, {output("hello", 1)}));

  auto records = run(io_, store->get("o", {"c", "unknown", "a", "b", "c"}));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].id, "c");
  EXPECT_EQ(records[1].id, "a");
  EXPECT_EQ(records[2].id, "b");
}

TEST_F(SqliteJobStoreTest, ListFiltersNewestFirstWithLimit) {
  auto store = open();
  for (const char* id : {"a", "b", "c", "d"}) {
    run(io_, store->create(running_job(id, "o")));
  }
  run(io_, store->finish("a", JobStatus::kSuccess, {}));
  run(io_, store->finish("c", JobStatus::kFailed, {}));

  EXPECT_EQ(run(io_, store->list("o", PendingFilter::kAll, 100)),
            (std::vector<std::string>{"d", "c", "b", "a"}));
  EXPECT_EQ(run(io_, store->list("o", PendingFilter::kPendingOnly, 100)),
            (std::vector<std::string>{"d", "b"}));
  EXPECT_EQ(run(io_, store->list("o", PendingFilter::kCompletedOnly, 100)),
            (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(run(io_, store->list("o", PendingFilter::kAll, 2)),
            (std::vector<std::string>{"d", "c"}));
  EXPECT_EQ(run(io_, store->count_running()), 2u);
}

TEST_F(SqliteJobStoreTest, CompletedJobsExpire) {
  auto store = open(std::chrono::milliseconds(1000));
  run(io_, store->create(running_job("done", "o")));
  run(io_, store->create(running_job("running", "o")));
  run(io_, store->finish("done", JobStatus::kSuccess, {output("hello", "hi")}));

  now_ms_ += 999;
  EXPECT_EQ(run(io_, store->get("o", {"done"})).size(), 1u);
  EXPECT_EQ(run(io_, store->delete_expired()), 0u);

  now_ms_ += 1;
  // Expired jobs are hidden before they are deleted.
  EXPECT_TRUE(run(io_, store->get("o", {"done"})).empty());
  EXPECT_EQ(run(io_, store->list("o", PendingFilter::kAll, 10)),
            std::vector<std::string>{"running"});
  EXPECT_EQ(run(io_, store->delete_expired()), 1u);
  EXPECT_EQ(run(io_, store->delete_expired()), 0u);

  // A running job never expires, however old.
  now_ms_ += 365LL * 24 * 3600 * 1000;
  EXPECT_EQ(run(io_, store->delete_expired()), 0u);
  EXPECT_EQ(run(io_, store->get("o", {"running"})).size(), 1u);
}

TEST_F(SqliteJobStoreTest, PutStatusCreatesAndUpdatesOwnJobsOnly) {
  auto store = open();
  run(io_, store->put_status("172.17.0.2", "ext-1", JobStatus::kRunning, {"hello"}));
  auto records = run(io_, store->get("172.17.0.2", {"ext-1"}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].status, JobStatus::kRunning);

  run(io_, store->put_status("172.17.0.2", "ext-1", JobStatus::kSuccess, {"hello"}));
  records = run(io_, store->get("172.17.0.2", {"ext-1"}));
  EXPECT_EQ(records[0].to_json(true), json::parse(R"({"id":"ext-1","status":"success","result":null,
                            "intermediate_results":[]})"));

  // Another owner cannot change it.
  run(io_, store->put_status("10.0.0.9", "ext-1", JobStatus::kFailed, {"hello"}));
  records = run(io_, store->get("172.17.0.2", {"ext-1"}));
  EXPECT_EQ(records[0].status, JobStatus::kSuccess);
  EXPECT_TRUE(run(io_, store->get("10.0.0.9", {"ext-1"})).empty());
}

TEST_F(SqliteJobStoreTest, ReopenFailsJobsLeftRunning) {
  {
    auto store = open();
    run(io_, store->create(running_job("fresh", "o", {"first", "second"})));
    run(io_, store->create(running_job("halfway", "o", {"first", "second"})));
    run(io_, store->append_result("halfway", output("first", {{"step", 1}})));
    run(io_, store->create(running_job("done", "o")));
    run(io_, store->finish("done", JobStatus::kSuccess, {output("hello", "ok")}));
    // The store is destroyed with two jobs still running, as after a crash.
  }

  auto store = open();
  EXPECT_EQ(run(io_, store->count_running()), 2u);
  EXPECT_EQ(run(io_, store->fail_running("node restarted")), 2u);
  EXPECT_EQ(run(io_, store->count_running()), 0u);
  EXPECT_EQ(run(io_, store->fail_running("node restarted")), 0u);

  auto records = run(io_, store->get("o", {"fresh", "halfway", "done"}));
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].to_json(true), json::parse(R"({"id":"fresh","status":"failed",
              "result":{"container":"first","error":"node restarted"},
              "intermediate_results":[]})"));
  EXPECT_EQ(records[1].to_json(true), json::parse(R"({"id":"halfway","status":"failed",
              "result":{"container":"second","error":"node restarted"},
              "intermediate_results":[{"container":"first","output":{"step":1}}]})"));
  EXPECT_EQ(records[2].status, JobStatus::kSuccess);
  EXPECT_NE(records[0].expires_at_ms, 0);
}

TEST_F(SqliteJobStoreTest, DatabaseUsesWalAndSchemaVersion) {
  auto store = open();
  EXPECT_EQ(store->database_path(), dir_ / "inferd.db");
  run(io_, store->create(running_job("a", "o")));
  store.reset();  // the store holds an exclusive lock while open

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "inferd.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)), "wal");
  sqlite3_finalize(statement);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &statement, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(statement, 0), 1);
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

TEST_F(SqliteJobStoreTest, NewerSchemaIsRejected) {
  open().reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "inferd.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  try {
    open();
    FAIL() << "expected StoreError";
  } catch (const StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("schema version 99"), std::string::npos)
        << error.what();
  }
}

TEST_F(SqliteJobStoreTest, SecondStoreOnSameDirectoryIsRejected) {
  auto store = open();
  run(io_, store->create(running_job("a", "o")));
  try {
    open();
    FAIL() << "expected StoreError";
  } catch (const StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("is locked by another process"), std::string::npos)
        << error.what();
  }
  // The first store keeps working.
  EXPECT_EQ(run(io_, store->get("o", {"a"})).size(), 1u);
}

TEST_F(SqliteJobStoreTest, UnopenableDirectoryThrows) {
  EXPECT_THROW(SqliteJobStore("/proc/inferd-no-such-dir", std::chrono::seconds(1)), StoreError);
}

TEST_F(SqliteJobStoreTest, ConcurrentUseFromSeveralThreads) {
  auto store = open();
  constexpr int kThreads = 4;
  constexpr int kJobsPerCoroutine = 50;
  constexpr int kCoroutines = 16;
  asio::io_context io;
  std::atomic<int> succeeded{0};
  std::atomic<int> failed{0};

  for (int c = 0; c < kCoroutines; ++c) {
    asio::co_spawn(io, create_finish_get(*store, c, kJobsPerCoroutine, succeeded),
                   [&failed](std::exception_ptr error) {
                     if (error) {
                       ++failed;
                     }
                   });
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&io] { io.run(); });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(succeeded.load(), kCoroutines * kJobsPerCoroutine);
  EXPECT_EQ(run(io_, store->count_running()), 0u);
  EXPECT_EQ(run(io_, store->list("owner-0", PendingFilter::kAll, 100000)).size(),
            static_cast<std::size_t>(6 * kJobsPerCoroutine));
}

}  // namespace
}  // namespace inferd::store

namespace inferd::store {
namespace {

TEST(OpenJobStore, SqliteBackendFromConfig) {
  auto dir = std::filesystem::temp_directory_path() /
             ("inferd_open_store_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  infra::NodeConfig config;
  config.store.backend = "sqlite";
  config.store.data_dir = (dir / "nested").string();
  config.store.result_ttl = 60;
  {
    auto store = open_job_store(config, "node");
    ASSERT_NE(dynamic_cast<SqliteJobStore*>(store.get()), nullptr);
    EXPECT_TRUE(std::filesystem::exists(dir / "nested" / "inferd.db"));
  }
  config.store.backend = "postgres";
  EXPECT_THROW(open_job_store(config, "node"), StoreError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace inferd::store

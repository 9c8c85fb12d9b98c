// The embedded job store: one SQLite database, <data_dir>/inferd.db, in WAL mode.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include "store/job_store.hpp"

namespace inferd::store {

/// JobStore on SQLite. Every SQLite call runs on the store's own thread; callers' coroutines
/// resume on their own executor.
///
/// Writes are group-committed: the store thread takes every queued operation at once, runs the
/// writes in one transaction, commits, runs the reads, and only then completes all of them. So
/// a write has committed when its awaitable completes, and a read sees every write that
/// completed before the read was issued. Settings: journal_mode=WAL, synchronous=NORMAL (a
/// power cut can lose the last commits, a process crash cannot).
///
/// put_status never changes a job that belongs to another owner. Jobs finished by finish(),
/// put_status() or fail_running() expire result_ttl after that; get() and list() skip expired
/// jobs even before delete_expired() removes them.
class SqliteJobStore final : public JobStore {
 public:
  /// Milliseconds since the Unix epoch.
  using Clock = std::function<std::int64_t()>;

  /// Opens (creating the directory, the file and the schema when missing) <data_dir>/inferd.db.
  /// Without a clock, std::chrono::system_clock is used. Throws StoreError naming the path when
  /// the database cannot be opened or has a newer schema version than this build knows.
  SqliteJobStore(std::filesystem::path data_dir, std::chrono::milliseconds result_ttl,
                 Clock clock = {});

  /// Finishes every queued operation, then closes the database.
  ~SqliteJobStore() override;

  SqliteJobStore(const SqliteJobStore&) = delete;
  SqliteJobStore& operator=(const SqliteJobStore&) = delete;

  /// Path of the database file.
  const std::filesystem::path& database_path() const;

  /// Throws StoreError when a job with this id already exists.
  Awaitable<void> create(JobRecord job) override;
  /// Does nothing when the job does not exist or is no longer running.
  Awaitable<void> append_result(std::string id, ContainerResult result) override;
  /// Does nothing when the job does not exist.
  Awaitable<void> finish(std::string id, JobStatus status,
                         std::vector<ContainerResult> results) override;
  Awaitable<void> put_status(std::string owner, std::string id, JobStatus status,
                             std::vector<std::string> containers) override;
  Awaitable<std::vector<JobRecord>> get(std::string owner, std::vector<std::string> ids) override;
  Awaitable<std::vector<std::string>> list(std::string owner, PendingFilter filter,
                                           std::size_t limit) override;
  Awaitable<std::size_t> count_running() override;
  /// Appends {"container": <the container that was running>, "error": reason} to every running
  /// job's results and marks it failed, so GET shows the reason as the job's result.
  Awaitable<std::size_t> fail_running(std::string reason) override;
  Awaitable<std::size_t> delete_expired() override;

 private:
  class Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace inferd::store

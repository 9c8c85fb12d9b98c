// The shared job store: Redis, so that several inferd nodes behind a load balancer can read
// each other's jobs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "store/job_store.hpp"

namespace inferd::store {

/// Connection and naming settings of a RedisJobStore.
struct RedisStoreOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::chrono::milliseconds result_ttl = std::chrono::hours(24);
  /// Identifies this node among the nodes sharing the server: count_running and fail_running
  /// only see the jobs this node started, so one node's restart does not fail another's jobs.
  std::string node_id = "default";
  /// Prepended to every key, so that several deployments (or tests) can share one server.
  std::string key_prefix = "inferd:";
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(2);
  std::chrono::milliseconds command_timeout = std::chrono::seconds(5);
};

/// JobStore on Redis through hiredis. Every Redis call runs on the store's own thread;
/// callers' coroutines resume on their own executor.
///
/// Keys, after the prefix: `job:<id>` (hash: owner, status, containers, created, updated,
/// expires), `results:<id>` (list of ContainerResult JSON), `owner:<owner>` (sorted set of the
/// owner's job ids in creation order), `running:<node_id>` (set of running job ids), `seq`
/// (creation counter). Each write is one Lua script, so it is atomic. Completed jobs get a
/// Redis expiry (PEXPIREAT) and disappear by themselves; delete_expired() only prunes their
/// ids from the owner indexes. The scripts touch keys they compute themselves, so the store
/// needs a single Redis server, not Redis Cluster.
///
/// A lost connection fails the operation in progress with StoreError; the next operation
/// reconnects.
class RedisJobStore final : public JobStore {
 public:
  /// Connects and checks the server with PING. Throws StoreError naming host and port when
  /// the server cannot be reached.
  explicit RedisJobStore(RedisStoreOptions options);
  ~RedisJobStore() override;

  RedisJobStore(const RedisJobStore&) = delete;
  RedisJobStore& operator=(const RedisJobStore&) = delete;

  /// Throws StoreError when a job with this id already exists.
  Awaitable<void> create(JobRecord job) override;
  /// Does nothing when the job does not exist or is no longer running.
  Awaitable<void> append_result(std::string id, ContainerResult result) override;
  /// Does nothing when the job does not exist.
  Awaitable<void> finish(std::string id, JobStatus status,
                         std::vector<ContainerResult> results) override;
  /// Never changes a job that belongs to another owner.
  Awaitable<void> put_status(std::string owner, std::string id, JobStatus status,
                             std::vector<std::string> containers) override;
  Awaitable<std::vector<JobRecord>> get(std::string owner, std::vector<std::string> ids) override;
  Awaitable<std::vector<std::string>> list(std::string owner, PendingFilter filter,
                                           std::size_t limit) override;
  /// Counts this node's running jobs.
  Awaitable<std::size_t> count_running() override;
  /// Fails this node's running jobs like SqliteJobStore::fail_running.
  Awaitable<std::size_t> fail_running(std::string reason) override;
  /// Removes the ids of jobs that Redis has expired from the owner indexes; returns how many.
  Awaitable<std::size_t> delete_expired() override;

 private:
  class Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace inferd::store

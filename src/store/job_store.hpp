// The job store: where off-chain jobs and their results live.
//
// Two implementations share this interface: SQLite in WAL mode (the embedded default) and Redis
// (shared by several nodes). The rest of the node does not know which one is in use.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infra/asio.hpp"

namespace inferd::infra {
struct NodeConfig;
}

namespace inferd::store {

/// Job status strings as the Infernet REST API spells them.
enum class JobStatus { kRunning, kSuccess, kFailed };

/// Returns "running", "success" or "failed".
std::string_view to_string(JobStatus status);
/// Parses a status string; std::nullopt for anything else.
std::optional<JobStatus> parse_job_status(std::string_view text);

/// One container's outcome: exactly one of `output` and `error` is set.
struct ContainerResult {
  std::string container;
  std::optional<nlohmann::json> output;
  std::optional<std::string> error;
  /// The reply body as the container sent it; kept only for on-chain jobs (destination 0),
  /// whose output encoding depends on the key order. Never stored.
  std::string raw_body;

  /// {"container": id, "output": ...} or {"container": id, "error": "..."}.
  nlohmann::json to_json() const;
};

/// Reads a ContainerResult back from its to_json() form; std::nullopt when `value` is not an
/// object with a string "container" and either "output" or a string "error".
std::optional<ContainerResult> parse_container_result(const nlohmann::json& value);

/// A stored job. `results` holds every container result in order; the last one is the job's
/// result and the ones before it are the intermediate results.
struct JobRecord {
  std::string id;
  std::string owner;  ///< client identity (peer address) that created the job
  JobStatus status = JobStatus::kRunning;
  std::vector<std::string> containers;
  std::vector<ContainerResult> results;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t expires_at_ms = 0;  ///< 0 while running; completed jobs expire at this time

  /// The reference JobResult: {"id","status","result","intermediate_results"}; the last key is
  /// only present when `with_intermediate` is true.
  nlohmann::json to_json(bool with_intermediate) const;
};

/// Which jobs `list` returns.
enum class PendingFilter { kAll, kPendingOnly, kCompletedOnly };

/// Asynchronous job store. Every method may be called from any thread and completes on the
/// caller's executor; blocking work (SQLite) runs on the store's own thread. Methods throw
/// StoreError when the backend fails.
class JobStore {
 public:
  virtual ~JobStore() = default;

  /// Stores a new job as running. Completes once the record is durable, so a crash after this
  /// point leaves a job that the next start marks failed.
  virtual Awaitable<void> create(JobRecord job) = 0;

  /// Stores the intermediate result of one container of a running job.
  virtual Awaitable<void> append_result(std::string id, ContainerResult result) = 0;

  /// Finishes a job: sets its final status and its complete list of results, and its expiry.
  virtual Awaitable<void> finish(std::string id, JobStatus status,
                                 std::vector<ContainerResult> results) = 0;

  /// Sets a status without results (PUT /api/status). Creates the job when it does not exist.
  virtual Awaitable<void> put_status(std::string owner, std::string id, JobStatus status,
                                     std::vector<std::string> containers) = 0;

  /// Returns the jobs with these ids that belong to `owner`, in the order of `ids`, each id at
  /// most once; unknown ids and other owners' jobs are skipped.
  virtual Awaitable<std::vector<JobRecord>> get(std::string owner,
                                                std::vector<std::string> ids) = 0;

  /// Returns the ids of `owner`'s jobs, newest first, at most `limit` of them.
  virtual Awaitable<std::vector<std::string>> list(std::string owner, PendingFilter filter,
                                                   std::size_t limit) = 0;

  /// Counts jobs that are still running (for /info "pending.offchain").
  virtual Awaitable<std::size_t> count_running() = 0;

  /// Marks every job still running as failed with `reason` (called once at start-up, after a
  /// crash). Returns how many jobs it changed.
  virtual Awaitable<std::size_t> fail_running(std::string reason) = 0;

  /// Deletes completed jobs whose expiry has passed. Returns how many it deleted.
  virtual Awaitable<std::size_t> delete_expired() = 0;
};

/// A failure of the store's backend (SQLite error, Redis connection lost), with the operation.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Opens the store that `config.store.backend` names: SqliteJobStore in `store.data_dir`, or
/// RedisJobStore at `redis.host`:`redis.port`; both keep completed jobs `store.result_ttl`.
/// `node_id` tells apart nodes that share one Redis server (e.g. "<hostname>:<server.port>").
/// Throws StoreError when the backend cannot be opened.
std::unique_ptr<JobStore> open_job_store(const infra::NodeConfig& config, std::string node_id);

}  // namespace inferd::store

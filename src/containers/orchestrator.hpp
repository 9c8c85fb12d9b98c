// Runs jobs through chains of service containers over HTTP.
//
// Each container gets `POST /service_output` with the envelope {source, destination, data,
// requires_proof}; each output becomes the next container's data. Calls to one container are
// bounded by its `max_concurrency`, with at most `queue_size` more waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infra/concurrency_limiter.hpp"
#include "infra/config.hpp"
#include "infra/http_client.hpp"
#include "infra/metrics.hpp"
#include "store/job_store.hpp"

namespace inferd::containers {

/// Origin of a job's data or destination of its result (JobLocation in the reference).
enum class JobLocation : int { kOnchain = 0, kOffchain = 1, kStream = 2 };

/// A job to run: its containers in order and the first container's data.
struct JobSpec {
  std::string id;
  std::string owner;
  std::vector<std::string> containers;
  nlohmann::json data;
  bool requires_proof = false;
  JobLocation source = JobLocation::kOffchain;
  JobLocation destination = JobLocation::kOffchain;
};

/// A configured service as the orchestrator calls it.
struct ServiceEndpoint {
  infra::ContainerConfig config;
  infra::Url base;  ///< `url` when set, else http://<host>:<port>
  std::shared_ptr<infra::ConcurrencyLimiter> limiter;
  infra::metrics::Counter* calls_succeeded = nullptr;
  infra::metrics::Counter* calls_failed = nullptr;
  infra::metrics::Histogram* call_seconds = nullptr;
};

/// Receives the bytes of a streamed reply. The first call comes after the container accepted
/// the request with a 2xx status.
using StreamSink = std::function<Awaitable<void>(std::string_view)>;

/// Thread-safe. Owned by the node; outlives every job it runs.
class Orchestrator {
 public:
  Orchestrator(asio::any_io_executor executor, infra::HttpClient& client, store::JobStore& store,
               const std::vector<infra::ContainerConfig>& containers,
               infra::metrics::Registry& metrics);

  /// The endpoint of a configured container, or nullptr.
  const ServiceEndpoint* find(std::string_view id) const;
  const std::vector<std::string>& container_ids() const { return ids_; }

  /// True when every container of `ids` can take one more call without exceeding its queue.
  bool has_capacity(const std::vector<std::string>& ids) const;

  /// Runs the chain and returns every container result in order; the last one is an error
  /// result when a container failed. Never throws for container failures.
  Awaitable<std::vector<store::ContainerResult>> run_chain(JobSpec job);

  /// Runs an off-chain job that is already stored as running, then stores its outcome.
  Awaitable<void> run_offchain(JobSpec job);

  /// Streams the first container's reply into `sink` and stores the joined text as the result
  /// ({"output": text}). Returns the stored results. A failure before the first byte returns an
  /// error result without calling `sink`; a failure after it throws nothing but is recorded.
  Awaitable<std::vector<store::ContainerResult>> run_stream(JobSpec job, StreamSink sink);

  /// Waits until a managed container is ready for calls, or throws naming why it is not.
  using ReadinessCheck = std::function<Awaitable<void>(
      std::string id, std::chrono::steady_clock::time_point deadline)>;
  /// Makes every call to a container without `url` wait for `check` first (managed containers
  /// that are still warming up or restarting). Set before the first job.
  void set_readiness_check(ReadinessCheck check) { readiness_ = std::move(check); }

  /// Called with the job's final record whenever a job is finished and stored.
  void on_finished(std::function<void(const store::JobRecord&)> callback) {
    on_finished_ = std::move(callback);
  }

  /// Jobs started by run_offchain or run_stream that have not finished yet.
  std::size_t in_flight() const { return in_flight_.load(); }

 private:
  // `envelope` is the request body. `onchain` marks a call whose output goes on-chain, so the
  // container's raw body is kept.
  Awaitable<store::ContainerResult> call(const ServiceEndpoint& endpoint, std::string envelope,
                                         bool onchain);
  Awaitable<store::ContainerResult> call_once(const ServiceEndpoint& endpoint, std::string envelope,
                                              bool onchain);
  /// Waits for a managed container's readiness; returns an error message when it is not ready.
  Awaitable<std::optional<std::string>> await_ready(const ServiceEndpoint& endpoint,
                                                    std::chrono::steady_clock::time_point deadline);
  Awaitable<void> store_outcome(const JobSpec& job, std::vector<store::ContainerResult> results);

  asio::any_io_executor executor_;
  infra::HttpClient& client_;
  store::JobStore& store_;
  std::map<std::string, ServiceEndpoint, std::less<>> endpoints_;
  std::vector<std::string> ids_;
  std::function<void(const store::JobRecord&)> on_finished_;
  ReadinessCheck readiness_;
  std::atomic<std::size_t> in_flight_{0};
  infra::metrics::Counter& jobs_succeeded_;
  infra::metrics::Counter& jobs_failed_;
};

/// Serializes the envelope for container `index` of `job` (0-based), keys in the reference node's
/// order because a container may echo its input. Streaming calls carry no requires_proof.
std::string make_envelope(const JobSpec& job, std::size_t index, const nlohmann::json& data,
                          bool streaming = false);

/// At most `max_bytes` of `text`, with "..." appended when it was cut.
std::string excerpt(std::string_view text, std::size_t max_bytes = 256);

}  // namespace inferd::containers

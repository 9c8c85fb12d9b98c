// The node's REST API: the Infernet node's paths and JSON shapes, on the project's HTTP server.
//
// Routes: GET /health, /info, /resources, /metrics; POST /api/jobs, /api/jobs/batch,
// /api/jobs/stream; GET /api/jobs; PUT /api/status. Differences from the reference node are
// listed in docs/compat.md.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "api/guardian.hpp"
#include "api/job_request.hpp"
#include "api/job_waiters.hpp"
#include "api/recent_jobs.hpp"
#include "containers/orchestrator.hpp"
#include "infra/config.hpp"
#include "infra/http_client.hpp"
#include "infra/http_server.hpp"
#include "infra/rate_limiter.hpp"
#include "store/job_store.hpp"

namespace inferd::api {

/// The protocol version reported by /info: the Infernet node release whose API this matches.
inline constexpr const char* kCompatibleNodeVersion = "1.4.0";

/// Callbacks through which the node gives the API the state of other subsystems.
struct ApiHooks {
  /// Extra health checks merged into /health; a component whose "status" is not "ok" makes the
  /// node unhealthy (503).
  std::function<Awaitable<nlohmann::json>()> health;
  /// Whether a configured container is running (for /info's container list).
  std::function<bool(const std::string&)> container_running;
  /// Prometheus text for /metrics.
  std::function<std::string()> metrics;
  /// The chain pipeline's record of a subscription (GET /api/subscriptions/{id}); nullopt when
  /// the node does not know it. Unset when the chain is disabled.
  std::function<Awaitable<std::optional<nlohmann::json>>(std::uint32_t)> subscription;
  /// Admits a delegated subscription request, whose body is parsed with big integers kept exact.
  /// Returns nullopt when accepted, else the HTTP status and JSON body of the rejection. Unset
  /// when the chain is disabled.
  std::function<Awaitable<std::optional<std::pair<int, nlohmann::json>>>(nlohmann::json)> delegated;
};

/// Thread-safe after install(); shared by all connections.
class RestApi {
 public:
  RestApi(asio::any_io_executor executor, const infra::NodeConfig& config,
          containers::Orchestrator& orchestrator, store::JobStore& store, infra::HttpClient& client,
          ApiHooks hooks);

  /// Adds every route to `server`.
  void install(infra::HttpServer& server);

  /// New jobs are rejected with 503 from now on (shutdown).
  void stop_intake() { accepting_ = false; }

 private:
  struct ClientIdentity {
    asio::ip::address address;
    std::string key;  ///< the address as text: job owner and rate-limit key
  };

  ClientIdentity identify(const infra::RequestContext& context) const;
  /// Applies the per-route rate limit; throws HttpError 429 when over it and adds the
  /// RateLimit-* headers to `headers` otherwise.
  void rate_limit(std::string_view route, const ClientIdentity& client, infra::HeaderList& headers);
  void require_json(const infra::RequestContext& context) const;
  /// Runs the steps shared by the routes that create one job: rate limit, intake, content type,
  /// body parsing. Throws HttpError.
  JobRequest read_job_request(const infra::RequestContext& context, std::string_view route,
                              const ClientIdentity& client, infra::HeaderList& headers);
  void require_intake() const;
  /// Admits one off-chain job: guardian, queue capacity. Throws HttpError.
  void admit(const OffchainJobRequest& job, const ClientIdentity& client) const;
  Awaitable<std::string> start_job(OffchainJobRequest job, const ClientIdentity& client);
  /// Reads jobs from the in-memory cache first and from the store for the rest, in the order
  /// of `ids`.
  Awaitable<std::vector<store::JobRecord>> read_jobs(const std::string& owner,
                                                     const std::vector<std::string>& ids);
  /// Records a finished job for readers: the cache, then the waiters.
  void job_finished(store::JobRecord record);

  static constexpr std::size_t kRecentJobs = 100000;
  nlohmann::json delegated_rejection() const;
  /// Hands a delegated request to the chain pipeline; returns the reply status and body.
  Awaitable<std::pair<http::status, nlohmann::json>> submit_delegated(nlohmann::json exact_body);

  Awaitable<infra::HttpResponse> health(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> info(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> resources(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> metrics(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> create_job(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> create_batch(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> create_stream(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> get_jobs(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> put_status(infra::RequestContext& context);
  Awaitable<infra::HttpResponse> get_subscription(infra::RequestContext& context);

  asio::any_io_executor executor_;
  const infra::NodeConfig& config_;
  containers::Orchestrator& orchestrator_;
  store::JobStore& store_;
  infra::HttpClient& client_;
  ApiHooks hooks_;
  Guardian guardian_;
  NetworkList trusted_proxies_;
  NetworkList status_networks_;
  infra::RateLimiter rate_limiter_;
  std::shared_ptr<JobWaiters> waiters_;
  RecentJobs recent_{kRecentJobs};
  std::atomic<bool> accepting_{true};
};

/// A new random (version 4) UUID as text, from OpenSSL's CSPRNG.
std::string new_job_id();

}  // namespace inferd::api

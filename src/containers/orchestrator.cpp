#include "containers/orchestrator.hpp"

#include <cstdlib>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/json_depth.hpp"
#include "infra/logging.hpp"

namespace inferd::containers {
namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<spdlog::logger> logger() {
  return infra::logging::get_logger("orchestrator");
}

Clock::duration seconds(double value) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(value));
}

infra::Url endpoint_base(const infra::ContainerConfig& config) {
  if (!config.url.empty())
    return infra::Url::parse(config.url);
  // The reference reaches containers through host.docker.internal when the node itself runs in
  // Docker (RUNTIME=docker), else on the local host.
  const char* runtime = std::getenv("RUNTIME");
  std::string host = runtime != nullptr && std::string_view(runtime) == "docker"
                         ? "host.docker.internal"
                         : "127.0.0.1";
  return infra::Url::parse("http://" + host + ":" + std::to_string(config.port));
}

// A managed container that did not become ready in time for a call.
class NotReady : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

store::ContainerResult error_result(const std::string& container, std::string message) {
  return store::ContainerResult{container, std::nullopt, std::move(message)};
}

}  // namespace

std::string excerpt(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes)
    return std::string(text);
  return std::string(text.substr(0, max_bytes)) + "...";
}

std::string make_envelope(const JobSpec& job, std::size_t index, const nlohmann::json& data,
                          bool streaming) {
  bool first = index == 0;
  bool last = index + 1 == job.containers.size();
  int source = static_cast<int>(first ? job.source : JobLocation::kOffchain);
  int destination = static_cast<int>(last ? job.destination : JobLocation::kOffchain);
  std::string body = fmt::format(R"({{"source":{},"destination":{},"data":)", source, destination);
  body += data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (!streaming)
    body += job.requires_proof ? R"(,"requires_proof":true)" : R"(,"requires_proof":false)";
  body += '}';
  return body;
}

Orchestrator::Orchestrator(asio::any_io_executor executor, infra::HttpClient& client,
                           store::JobStore& store,
                           const std::vector<infra::ContainerConfig>& containers,
                           infra::metrics::Registry& metrics)
    : executor_(std::move(executor)),
      client_(client),
      store_(store),
      jobs_succeeded_(
          metrics.counter("inferd_jobs_total", "Finished jobs by status", {{"status", "success"}})),
      jobs_failed_(
          metrics.counter("inferd_jobs_total", "Finished jobs by status", {{"status", "failed"}})) {
  metrics.gauge_callback("inferd_jobs_in_flight", "Jobs being run now", {},
                         [this] { return static_cast<double>(in_flight_.load()); });
  for (const auto& config : containers) {
    ServiceEndpoint endpoint{config, endpoint_base(config),
                             std::make_shared<infra::ConcurrencyLimiter>(
                                 executor_, config.max_concurrency, config.queue_size)};
    infra::metrics::Labels labels{{"container", config.id}};
    auto with_outcome = [&labels](const char* outcome) {
      auto copy = labels;
      copy.emplace_back("outcome", outcome);
      return copy;
    };
    endpoint.calls_succeeded = &metrics.counter(
        "inferd_container_calls_total", "Container calls by outcome", with_outcome("success"));
    endpoint.calls_failed = &metrics.counter("inferd_container_calls_total",
                                             "Container calls by outcome", with_outcome("failed"));
    endpoint.call_seconds =
        &metrics.histogram("inferd_container_call_seconds", "Latency of container calls",
                           infra::metrics::default_buckets(), labels);
    metrics.gauge_callback(
        "inferd_container_queue_depth", "Calls waiting for a container slot", labels,
        [limiter = endpoint.limiter] { return static_cast<double>(limiter->waiting()); });
    ids_.push_back(config.id);
    endpoints_.emplace(config.id, std::move(endpoint));
  }
}

const ServiceEndpoint* Orchestrator::find(std::string_view id) const {
  auto found = endpoints_.find(id);
  return found == endpoints_.end() ? nullptr : &found->second;
}

bool Orchestrator::has_capacity(const std::vector<std::string>& ids) const {
  for (const auto& id : ids) {
    const auto* endpoint = find(id);
    if (endpoint != nullptr && !endpoint->limiter->has_capacity())
      return false;
  }
  return true;
}

Awaitable<store::ContainerResult> Orchestrator::call(const ServiceEndpoint& endpoint,
                                                     std::string envelope, bool onchain) {
  auto started = Clock::now();
  auto result = co_await call_once(endpoint, std::move(envelope), onchain);
  endpoint.call_seconds->observe(std::chrono::duration<double>(Clock::now() - started).count());
  (result.error ? endpoint.calls_failed : endpoint.calls_succeeded)->inc();
  co_return result;
}

Awaitable<store::ContainerResult> Orchestrator::call_once(const ServiceEndpoint& endpoint,
                                                          std::string envelope, bool onchain) {
  const std::string& id = endpoint.config.id;
  infra::ConcurrencyLimiter::Permit permit;
  try {
    permit = co_await endpoint.limiter->acquire();
  } catch (const infra::QueueFull& error) {
    co_return error_result(id, "container " + id + " is overloaded: " + error.what());
  }
  auto deadline = Clock::now() + seconds(endpoint.config.timeout);
  auto not_ready = co_await await_ready(endpoint, deadline);
  if (not_ready)
    co_return error_result(id, *not_ready);

  infra::ClientRequest request;
  request.method = http::verb::post;
  request.content_type = "application/json";
  request.body = std::move(envelope);
  if (!endpoint.config.bearer.empty()) {
    request.headers.emplace_back("Authorization", "Bearer " + endpoint.config.bearer);
  }

  infra::ClientResponse response;
  try {
    response = co_await client_.send(endpoint.base.with_path("/service_output"), std::move(request),
                                     deadline);
  } catch (const infra::ClientError& error) {
    std::string reason =
        error.kind() == infra::ClientErrorKind::kTimeout
            ? fmt::format("timed out after {:g} s (containers[].timeout)", endpoint.config.timeout)
            : std::string(error.what());
    co_return error_result(id, "container " + id + ": " + reason);
  }

  if (response.status_code < 200 || response.status_code >= 300) {
    co_return error_result(id, "container " + id + " answered HTTP " +
                                   std::to_string(response.status_code) + ": " +
                                   excerpt(response.body));
  }
  if (!response.is_json()) {
    std::string type = response.header("content-type");
    co_return error_result(id, "container " + id + " answered a non-JSON body (Content-Type: " +
                                   (type.empty() ? "none" : type) + "): " + excerpt(response.body));
  }
  if (core::json_nesting_depth(response.body, core::kMaxJsonDepth) > core::kMaxJsonDepth) {
    co_return error_result(id, "container " + id + " answered JSON nested deeper than " +
                                   std::to_string(core::kMaxJsonDepth) + " levels");
  }
  auto output = nlohmann::json::parse(response.body, nullptr, false);
  if (output.is_discarded()) {
    co_return error_result(id,
                           "container " + id + " answered invalid JSON: " + excerpt(response.body));
  }
  store::ContainerResult result{id, std::move(output), std::nullopt};
  if (onchain)
    result.raw_body = std::move(response.body);
  co_return result;
}

Awaitable<std::optional<std::string>> Orchestrator::await_ready(const ServiceEndpoint& endpoint,
                                                                Clock::time_point deadline) {
  if (!readiness_ || !endpoint.config.url.empty())
    co_return std::nullopt;
  try {
    std::string id = endpoint.config.id;
    co_await readiness_(std::move(id), deadline);
  } catch (const std::exception& error) {
    co_return "container " + endpoint.config.id + " is not ready: " + error.what();
  }
  co_return std::nullopt;
}

Awaitable<std::vector<store::ContainerResult>> Orchestrator::run_chain(JobSpec job) {
  std::vector<store::ContainerResult> results;
  nlohmann::json data = job.data;
  for (std::size_t index = 0; index < job.containers.size(); ++index) {
    const auto* endpoint = find(job.containers[index]);
    if (endpoint == nullptr) {
      results.push_back(error_result(job.containers[index],
                                     "container " + job.containers[index] + " is not configured"));
      break;
    }
    bool onchain = index + 1 == job.containers.size() && job.destination == JobLocation::kOnchain;
    auto envelope = make_envelope(job, index, data);
    auto result = co_await call(*endpoint, std::move(envelope), onchain);
    bool failed = result.error.has_value();
    if (!failed)
      data = *result.output;
    results.push_back(std::move(result));
    if (failed) {
      // A failing container is the job's outcome, not the node's problem: debug level, and the
      // inferd_container_calls_total metric counts it.
      logger()->debug("job failed job_id={} container={} error={}", job.id, job.containers[index],
                      *results.back().error);
      break;
    }
    if (index + 1 < job.containers.size() && !job.id.empty()) {
      co_await store_.append_result(job.id, results.back());
    }
  }
  co_return results;
}

Awaitable<void> Orchestrator::store_outcome(const JobSpec& job,
                                            std::vector<store::ContainerResult> results) {
  bool failed = results.empty() || results.back().error.has_value();
  (failed ? jobs_failed_ : jobs_succeeded_).inc();
  store::JobRecord record;
  record.id = job.id;
  record.owner = job.owner;
  record.status = failed ? store::JobStatus::kFailed : store::JobStatus::kSuccess;
  record.containers = job.containers;
  record.results = std::move(results);
  bool stored = true;
  try {
    std::string id = job.id;
    std::vector<store::ContainerResult> stored_results = record.results;
    co_await store_.finish(std::move(id), record.status, std::move(stored_results));
  } catch (const std::exception& error) {
    stored = false;
    logger()->error("storing job outcome failed job_id={} error={}", job.id, error.what());
  }
  // Only a stored outcome is announced: a reader must never see what a restart would undo.
  if (stored && on_finished_)
    on_finished_(record);
}

Awaitable<void> Orchestrator::run_offchain(JobSpec job) {
  ++in_flight_;
  std::vector<store::ContainerResult> results;
  try {
    results = co_await run_chain(job);
  } catch (const std::exception& error) {
    logger()->error("job aborted job_id={} error={}", job.id, error.what());
    results.push_back(error_result(job.containers.empty() ? "" : job.containers.front(),
                                   "job aborted by an internal error"));
  }
  co_await store_outcome(job, std::move(results));
  --in_flight_;
}

Awaitable<std::vector<store::ContainerResult>> Orchestrator::run_stream(JobSpec job,
                                                                        StreamSink sink) {
  ++in_flight_;
  const std::string container = job.containers.front();
  std::vector<store::ContainerResult> results;
  const auto* endpoint = find(container);

  std::string text;
  bool started = false;
  std::optional<std::string> failure;
  infra::ConcurrencyLimiter::Permit permit;
  try {
    permit = co_await endpoint->limiter->acquire();
    auto deadline = Clock::now() + seconds(endpoint->config.stream_timeout);
    auto not_ready = co_await await_ready(*endpoint, deadline);
    if (not_ready)
      throw NotReady(*not_ready);
    infra::ClientRequest request;
    request.method = http::verb::post;
    request.content_type = "application/json";
    request.body = make_envelope(job, 0, job.data, true);
    if (!endpoint->config.bearer.empty()) {
      request.headers.emplace_back("Authorization", "Bearer " + endpoint->config.bearer);
    }
    infra::ChunkHandler relay = [&](std::string_view chunk) -> Awaitable<void> {
      text.append(chunk);
      started = true;
      co_await sink(chunk);
    };
    auto response = co_await client_.stream(endpoint->base.with_path("/service_output"),
                                            std::move(request), deadline, relay);
    if (response.status_code < 200 || response.status_code >= 300) {
      failure = "container " + container + " answered HTTP " +
                std::to_string(response.status_code) + ": " + excerpt(response.body);
    }
  } catch (const infra::QueueFull& error) {
    failure = "container " + container + " is overloaded: " + error.what();
  } catch (const NotReady& error) {
    failure = error.what();
  } catch (const infra::ClientError& error) {
    failure = error.kind() == infra::ClientErrorKind::kTimeout
                  ? "container " + container +
                        fmt::format(": stream timed out after {:g} s (containers[].stream_timeout)",
                                    endpoint->config.stream_timeout)
                  : "container " + container + ": " + error.what();
  } catch (const std::exception& error) {
    // The client of the stream went away while bytes were being relayed.
    failure = std::string("stream to the client failed: ") + error.what();
  }
  if (failure) {
    if (started)
      *failure += " (after " + std::to_string(text.size()) + " bytes were relayed)";
    results.push_back(error_result(container, *failure));
  } else {
    results.push_back(store::ContainerResult{container, nlohmann::json{{"output", text}}, {}});
  }
  co_await store_outcome(job, results);
  --in_flight_;
  co_return results;
}

}  // namespace inferd::containers

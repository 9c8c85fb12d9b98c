// Calls to a remote inference server (an LLM provider, a TGI server, the Hugging Face inference
// API) with retries on transient failures, and the mapping of their failures to container errors.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "infernet/sdk/errors.hpp"
#include "infernet/sdk/service.hpp"
#include "infra/http_client.hpp"

namespace infernet::services {

using inferd::infra::ChunkHandler;
using inferd::infra::HeaderList;
using inferd::infra::HttpClient;
using inferd::infra::Url;

/// When and how often a failed call is tried again. The JSON form is the RETRY_PARAMS object of
/// Ritual's Python services, which follows the `retry` package: the first wait is `delay`, and
/// each later wait is the previous one times `backoff` plus a jitter sample, capped at
/// `max_delay`. All durations are in seconds.
struct RetryPolicy {
  unsigned tries = 3;  ///< attempts in total, at least 1
  double delay_seconds = 3;
  std::optional<double> max_delay_seconds;  ///< no cap when absent
  double backoff = 2;
  double jitter_min_seconds = 0.5;  ///< the jitter is uniform in [min, max]
  double jitter_max_seconds = 1.5;

  /// Parses {"tries": 3, "delay": 3, "max_delay": null, "backoff": 2, "jitter": [0.5, 1.5]}.
  /// Absent keys keep their defaults; "jitter" may also be one number. Throws
  /// std::invalid_argument naming the key and the expected form.
  static RetryPolicy from_json(const nlohmann::json& params);

  /// Returns the wait that follows a wait of `current_seconds`, given a jitter sample.
  double next_delay(double current_seconds, double jitter_seconds) const;
};

/// Whether an HTTP status from a remote server is worth another attempt: 429 (rate limited) and
/// 500, 502, 503, 504 (server-side failures, including a model that is still loading).
bool is_retryable_status(unsigned status);

/// Reads a JSON-valued environment variable the way Quart's from_prefixed_env does: the value
/// is parsed as JSON when it parses, otherwise it is the plain string. Returns nullopt when the
/// variable is unset or empty.
std::optional<nlohmann::json> json_from_environment(const char* name);

/// The outcome of one readiness probe: the HTTP status, or 0 and the transport error.
struct ProbeResult {
  unsigned status = 0;
  std::string error;
};

/// Calls remote servers through a shared HttpClient. Thread-safe.
class Upstream {
 public:
  /// `secrets` (API keys, tokens) are replaced by "***" in every error description and log line
  /// built from a remote reply.
  Upstream(HttpClient& client, RetryPolicy retry, std::chrono::milliseconds timeout,
           std::vector<std::string> secrets);

  /// Posts `body` as JSON to `url` and returns the parsed JSON reply of the first 2xx attempt.
  /// `name` names the remote server in logs and errors. Retries retryable statuses and failed
  /// connections per the retry policy; every attempt gets the full timeout. Throws ServiceError:
  /// 504 on a timeout, 502 when the server cannot be reached or replies 5xx, 401 or 403 or a
  /// non-JSON 2xx body, and the remote status for any other 4xx (a bad model name, bad
  /// parameters).
  sdk::Awaitable<nlohmann::json> post_json(std::string name, Url url, nlohmann::json body,
                                           HeaderList headers) const;

  /// Posts `body` as JSON and hands each piece of a 2xx reply body to `on_chunk` as it arrives.
  /// Retries like post_json() as long as no piece was handed on. Before the first piece, fails
  /// with the ServiceErrors of post_json(); after it, a broken connection is rethrown as the
  /// ClientError.
  sdk::Awaitable<void> post_stream(std::string name, Url url, nlohmann::json body,
                                   HeaderList headers, ChunkHandler on_chunk) const;

  /// Sends GET `url` once and returns the HTTP status, or the error (refused connection, TLS
  /// failure, timeout) when no reply arrived within `timeout`.
  sdk::Awaitable<ProbeResult> probe(Url url, std::chrono::milliseconds timeout) const;

  /// Returns `text` with every secret replaced by "***".
  std::string redact(std::string text) const;

 private:
  sdk::Awaitable<void> wait_before_retry(double seconds) const;
  sdk::ServiceError status_error(const std::string& name,
                                 const inferd::infra::ClientResponse& response,
                                 unsigned attempts) const;

  HttpClient& client_;
  RetryPolicy retry_;
  std::chrono::milliseconds timeout_;
  std::vector<std::string> secrets_;
};

/// Validates a model name that becomes part of a URL path ("org/model-1.5", "gpt-4o:latest"):
/// letters, digits and "-_.:/@+", no empty or "."/".." segments, at most 256 bytes. Throws
/// ServiceError (400) naming `field` otherwise.
void check_model_name(const std::string& model, std::string_view field);

}  // namespace infernet::services

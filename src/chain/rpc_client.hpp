// Asynchronous Ethereum JSON-RPC 2.0 client over HTTP(S): single and batched calls, per-call
// deadlines, retries with jittered exponential backoff, failover across several RPC URLs, and
// counters per method and outcome.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infra/asio.hpp"
#include "infra/http_client.hpp"
#include "infra/metrics.hpp"

namespace inferd::chain {

/// Kinds of RPC call failure. The retry policy is decided from this list: kTransport, kTimeout,
/// kHttpServerError, kRateLimited and kInvalidResponse are transient and retried; the others
/// end the call at once.
enum class RpcErrorKind {
  kTransport,         ///< connection refused or reset, TLS failure, truncated reply
  kTimeout,           ///< an attempt passed its deadline (including a peer that stalls)
  kHttpServerError,   ///< HTTP 5xx
  kRateLimited,       ///< HTTP 429 (Retry-After is honoured)
  kInvalidResponse,   ///< a 200 reply that is not a JSON-RPC response (garbage, wrong id)
  kUnauthorized,      ///< HTTP 401 or 403: wrong or missing credentials in the URL
  kHttpClientError,   ///< any other non-2xx status
  kRpcError,          ///< the node returned a JSON-RPC error object (e.g. a revert)
  kDeadlineExceeded,  ///< the call's overall deadline passed before any attempt succeeded
  kCancelled,         ///< the surrounding operation was cancelled
};

/// The label value used for `kind` in metrics and messages, e.g. "rate_limited".
const char* to_string(RpcErrorKind kind);

/// A failed JSON-RPC call. The message names the method and the RPC URL with its credentials
/// redacted. For kRpcError, `rpc_code`, `rpc_message` and `rpc_data` hold the error object
/// (for a revert, `rpc_data` is usually the hex revert data).
class RpcError : public std::runtime_error {
 public:
  RpcError(RpcErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}

  RpcErrorKind kind() const { return kind_; }

  std::int64_t rpc_code = 0;
  std::string rpc_message;
  nlohmann::json rpc_data;

 private:
  RpcErrorKind kind_;
};

/// One request of a batch.
struct RpcRequest {
  std::string method;
  nlohmann::json params = nlohmann::json::array();
};

/// The answer to one request of a batch: a result, or the node's JSON-RPC error.
struct RpcResponse {
  std::optional<nlohmann::json> result;
  std::int64_t error_code = 0;
  std::string error_message;
  nlohmann::json error_data;

  bool ok() const { return result.has_value(); }
};

/// A retry about to be made; passed to RpcClientOptions::on_retry.
struct RpcRetry {
  std::string method;
  int attempt = 0;  ///< the attempt that failed, from 1
  RpcErrorKind kind = RpcErrorKind::kTransport;
  std::string url;  ///< redacted
  std::chrono::milliseconds delay{0};
};

struct RpcClientOptions {
  /// RPC endpoints in order of preference. After a transient failure the next attempt goes to
  /// the next URL; the URL that last succeeded is tried first.
  std::vector<std::string> urls;
  /// Overall deadline of a call (all attempts and waits) unless the call passes its own.
  std::chrono::milliseconds call_timeout{30000};
  /// Deadline of one HTTP attempt; a peer that stalls longer is abandoned and retried.
  std::chrono::milliseconds attempt_timeout{10000};
  /// Attempts per call, the first included.
  int max_attempts = 6;
  /// Backoff before retry n (from 0) is uniformly random in [0, min(max_backoff,
  /// initial_backoff * 2^n)] ("full jitter").
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  /// Longest Retry-After honoured; a larger value is capped to this.
  std::chrono::milliseconds max_retry_after{30000};
  /// Seed of the jitter generator; 0 seeds from std::random_device.
  std::uint64_t jitter_seed = 0;
  /// Called before each retry wait, e.g. to log it.
  std::function<void(const RpcRetry&)> on_retry;
};

/// A JSON-RPC client shared by all coroutines of the node. Thread-safe.
///
/// Counters: `inferd_rpc_attempts_total{method, outcome}` in the metrics registry, with outcome
/// "ok" or one of the RpcErrorKind labels; a batch counts under method "batch".
class RpcClient {
 public:
  /// `http` and `metrics` must outlive the client. Throws std::invalid_argument when `urls` is
  /// empty or a URL does not parse (the message redacts credentials).
  RpcClient(infra::HttpClient& http, RpcClientOptions options, infra::metrics::Registry& metrics);

  /// Calls `method` and returns its "result". Throws RpcError.
  Awaitable<nlohmann::json> call(std::string method,
                                 nlohmann::json params = nlohmann::json::array(),
                                 std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// Sends `requests` as one JSON-RPC batch and returns the responses in request order. A
  /// JSON-RPC error of one request is returned in its RpcResponse; transport and HTTP failures of
  /// the whole batch are retried and finally thrown as RpcError. An empty batch returns at once.
  Awaitable<std::vector<RpcResponse>> batch(
      std::vector<RpcRequest> requests,
      std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  /// The configured URLs, redacted for display.
  std::vector<std::string> redacted_urls() const;

 private:
  struct Attempt;

  // Posts `body` with retries and failover until `accept` takes a parsed reply; returns it.
  Awaitable<nlohmann::json> post(const std::string& label, std::string body,
                                 std::chrono::steady_clock::time_point deadline,
                                 const std::function<bool(const nlohmann::json&)>& accept);
  std::chrono::milliseconds backoff(int retry);
  void count(const std::string& method, const char* outcome);

  infra::HttpClient& http_;
  RpcClientOptions options_;
  infra::metrics::Registry& metrics_;
  std::vector<infra::Url> urls_;
  std::atomic<std::size_t> preferred_{0};
  std::atomic<std::uint64_t> next_id_{1};
  std::mutex jitter_mutex_;
  std::mt19937_64 jitter_;
};

}  // namespace inferd::chain

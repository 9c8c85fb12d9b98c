#include "chain/rpc_client.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

namespace inferd::chain {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kAttemptsMetric = "inferd_rpc_attempts_total";
constexpr const char* kAttemptsHelp = "JSON-RPC HTTP attempts by method and outcome.";

// Retry-After as delta-seconds (RFC 9110 also allows an HTTP date, which RPC providers do not
// send; a date is ignored and the normal backoff applies).
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string& value) {
  std::uint64_t seconds = 0;
  const char* end = value.data() + value.size();
  auto [ptr, error] = std::from_chars(value.data(), end, seconds);
  if (error != std::errc() || ptr != end || value.empty()) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(std::min<std::uint64_t>(seconds, 86400) * 1000);
}

// Whether `reply` is a JSON-RPC 2.0 response object for `id`.
bool is_response_for(const json& reply, std::uint64_t id) {
  return reply.is_object() && reply.contains("id") && reply["id"].is_number_unsigned() &&
         reply["id"].get<std::uint64_t>() == id &&
         (reply.contains("result") || reply.contains("error"));
}

RpcResponse to_response(const json& reply) {
  RpcResponse response;
  if (reply.contains("error") && !reply["error"].is_null()) {
    const json& error = reply["error"];
    response.error_code = error.value("code", std::int64_t{0});
    response.error_message = error.value("message", std::string("(no message)"));
    response.error_data = error.contains("data") ? error["data"] : json();
    return response;
  }
  response.result = reply.contains("result") ? reply["result"] : json();
  return response;
}

std::string describe_status(const infra::ClientResponse& response) {
  return "HTTP " + std::to_string(response.status_code);
}

}  // namespace

const char* to_string(RpcErrorKind kind) {
  switch (kind) {
    case RpcErrorKind::kTransport:
      return "transport";
    case RpcErrorKind::kTimeout:
      return "timeout";
    case RpcErrorKind::kHttpServerError:
      return "http_5xx";
    case RpcErrorKind::kRateLimited:
      return "rate_limited";
    case RpcErrorKind::kInvalidResponse:
      return "invalid_response";
    case RpcErrorKind::kUnauthorized:
      return "unauthorized";
    case RpcErrorKind::kHttpClientError:
      return "http_4xx";
    case RpcErrorKind::kRpcError:
      return "rpc_error";
    case RpcErrorKind::kDeadlineExceeded:
      return "deadline_exceeded";
    case RpcErrorKind::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

// The outcome of one HTTP attempt that did not produce an accepted reply.
struct RpcClient::Attempt {
  RpcErrorKind kind;
  std::string detail;
  std::optional<std::chrono::milliseconds> retry_after;
};

RpcClient::RpcClient(infra::HttpClient& http, RpcClientOptions options,
                     infra::metrics::Registry& metrics)
    : http_(http), options_(std::move(options)), metrics_(metrics) {
  if (options_.urls.empty()) {
    throw std::invalid_argument("the JSON-RPC client needs at least one RPC URL");
  }
  for (const std::string& text : options_.urls) {
    urls_.push_back(infra::Url::parse(text));  // throws with the URL redacted
  }
  if (options_.max_attempts < 1) {
    options_.max_attempts = 1;
  }
  const std::uint64_t seed =
      options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}();
  jitter_.seed(seed);
}

std::vector<std::string> RpcClient::redacted_urls() const {
  std::vector<std::string> out;
  for (const infra::Url& url : urls_) {
    out.push_back(url.redacted());
  }
  return out;
}

void RpcClient::count(const std::string& method, const char* outcome) {
  metrics_.counter(kAttemptsMetric, kAttemptsHelp, {{"method", method}, {"outcome", outcome}})
      .inc();
}

std::chrono::milliseconds RpcClient::backoff(int retry) {
  const auto initial = options_.initial_backoff.count();
  const auto cap = options_.max_backoff.count();
  // Doubling stops at the cap; the shift is bounded so it cannot overflow.
  const auto ceiling = std::min<std::int64_t>(cap, initial << std::min(retry, 30));
  std::lock_guard lock(jitter_mutex_);
  std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(ceiling, 0));
  return std::chrono::milliseconds(pick(jitter_));
}

Awaitable<json> RpcClient::post(const std::string& label, std::string body,
                                Clock::time_point deadline,
                                const std::function<bool(const json&)>& accept) {
  const std::size_t first = preferred_.load(std::memory_order_relaxed);
  std::optional<Attempt> last;

  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    const std::size_t index = (first + static_cast<std::size_t>(attempt)) % urls_.size();
    const infra::Url& url = urls_[index];
    const auto attempt_deadline = std::min(deadline, Clock::now() + options_.attempt_timeout);

    infra::ClientRequest request;
    request.method = http::verb::post;
    request.body = body;
    request.content_type = "application/json";

    std::optional<Attempt> failure;
    try {
      const infra::ClientResponse response = co_await http_.send(url, request, attempt_deadline);
      const unsigned status = response.status_code;

      if (status == 401 || status == 403) {
        count(label, to_string(RpcErrorKind::kUnauthorized));
        throw RpcError(RpcErrorKind::kUnauthorized,
                       label + " rejected by " + url.redacted() + " with " +
                           describe_status(response) +
                           ": check the credentials (API key or user:password) in the RPC URL");
      }

      if (status == 429) {
        failure = Attempt{RpcErrorKind::kRateLimited, describe_status(response),
                          parse_retry_after(response.header("Retry-After"))};
      } else if (status >= 500) {
        failure = Attempt{RpcErrorKind::kHttpServerError, describe_status(response), std::nullopt};
      } else {
        json reply = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
        if (!reply.is_discarded() && accept(reply)) {
          // Some providers answer JSON-RPC errors with a 4xx status; the body is what counts.
          preferred_.store(index, std::memory_order_relaxed);
          count(label, "ok");
          co_return reply;
        }
        if (status >= 300) {
          count(label, to_string(RpcErrorKind::kHttpClientError));
          throw RpcError(RpcErrorKind::kHttpClientError, label + " rejected by " + url.redacted() +
                                                             " with " + describe_status(response));
        }
        failure = Attempt{RpcErrorKind::kInvalidResponse,
                          "the reply is not a JSON-RPC response (" +
                              std::to_string(response.body.size()) + " bytes)",
                          std::nullopt};
      }
    } catch (const infra::ClientError& error) {
      if (error.kind() == infra::ClientErrorKind::kCancelled) {
        count(label, to_string(RpcErrorKind::kCancelled));
        throw RpcError(RpcErrorKind::kCancelled, label + " cancelled");
      }
      const RpcErrorKind kind = error.kind() == infra::ClientErrorKind::kTimeout
                                    ? RpcErrorKind::kTimeout
                                    : RpcErrorKind::kTransport;
      failure = Attempt{kind, error.what(), std::nullopt};
    }

    count(label, to_string(failure->kind));
    last = failure;

    if (attempt + 1 >= options_.max_attempts) {
      break;
    }
    std::chrono::milliseconds delay = backoff(attempt);
    if (failure->retry_after) {
      delay = std::max(delay, std::min(*failure->retry_after, options_.max_retry_after));
    }
    if (Clock::now() + delay >= deadline) {
      throw RpcError(RpcErrorKind::kDeadlineExceeded,
                     label + " did not succeed before its deadline; last attempt at " +
                         url.redacted() + " failed: " + to_string(failure->kind) + ": " +
                         failure->detail);
    }
    if (options_.on_retry) {
      options_.on_retry(RpcRetry{label, attempt + 1, failure->kind, url.redacted(), delay});
    }
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
  }

  throw RpcError(last->kind, label + " failed after " + std::to_string(options_.max_attempts) +
                                 " attempts across " + std::to_string(urls_.size()) +
                                 " RPC URL(s); last error: " + to_string(last->kind) + ": " +
                                 last->detail);
}

Awaitable<json> RpcClient::call(std::string method, json params,
                                std::optional<std::chrono::milliseconds> timeout) {
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);
  const json request = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
  const auto deadline = Clock::now() + timeout.value_or(options_.call_timeout);

  const json reply = co_await post(method, request.dump(), deadline,
                                   [id](const json& r) { return is_response_for(r, id); });

  RpcResponse response = to_response(reply);
  if (!response.ok()) {
    RpcError error(RpcErrorKind::kRpcError, method + " returned JSON-RPC error " +
                                                std::to_string(response.error_code) + ": " +
                                                response.error_message);
    error.rpc_code = response.error_code;
    error.rpc_message = response.error_message;
    error.rpc_data = response.error_data;
    throw error;
  }
  co_return std::move(*response.result);
}

Awaitable<std::vector<RpcResponse>> RpcClient::batch(
    std::vector<RpcRequest> requests, std::optional<std::chrono::milliseconds> timeout) {
  if (requests.empty()) {
    co_return std::vector<RpcResponse>{};
  }
  const std::uint64_t first_id = next_id_.fetch_add(requests.size(), std::memory_order_relaxed);
  json body = json::array();
  for (std::size_t i = 0; i < requests.size(); ++i) {
    body.push_back({{"jsonrpc", "2.0"},
                    {"id", first_id + i},
                    {"method", requests[i].method},
                    {"params", requests[i].params}});
  }
  const auto deadline = Clock::now() + timeout.value_or(options_.call_timeout);
  const std::size_t size = requests.size();

  // A batch reply is an array with one response per id, in any order (JSON-RPC 2.0, section 6).
  auto accept = [first_id, size](const json& reply) {
    if (!reply.is_array() || reply.size() != size) {
      return false;
    }
    std::vector<bool> seen(size, false);
    for (const json& item : reply) {
      if (!item.is_object() || !item.contains("id") || !item["id"].is_number_unsigned()) {
        return false;
      }
      const std::uint64_t id = item["id"].get<std::uint64_t>();
      if (id < first_id || id >= first_id + size || seen[id - first_id]) {
        return false;
      }
      seen[id - first_id] = true;
    }
    return true;
  };
  const json reply = co_await post("batch", body.dump(), deadline, accept);

  std::vector<RpcResponse> responses(size);
  for (const json& item : reply) {
    responses[item["id"].get<std::uint64_t>() - first_id] = to_response(item);
  }
  co_return responses;
}

}  // namespace inferd::chain

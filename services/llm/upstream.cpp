#include "llm/upstream.hpp"

#include <cstdlib>
#include <random>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace infernet::services {
namespace {

using inferd::infra::ClientError;
using inferd::infra::ClientErrorKind;
using inferd::infra::ClientRequest;
using inferd::infra::ClientResponse;
using sdk::Awaitable;
using sdk::ServiceError;
using sdk::Status;
using Clock = std::chrono::steady_clock;
namespace asio = sdk::asio;
namespace http = sdk::http;

constexpr std::size_t kMaxDetailBytes = 300;

double number_field(const nlohmann::json& params, const char* key, double fallback) {
  if (!params.contains(key) || params[key].is_null())
    return fallback;
  if (!params[key].is_number() || params[key].get<double>() < 0) {
    throw std::invalid_argument(std::string("retry parameter \"") + key +
                                "\" must be a non-negative number, got " + params[key].dump());
  }
  return params[key].get<double>();
}

double jitter_sample(const RetryPolicy& policy) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  if (policy.jitter_max_seconds <= policy.jitter_min_seconds)
    return policy.jitter_min_seconds;
  std::uniform_real_distribution<double> distribution(policy.jitter_min_seconds,
                                                      policy.jitter_max_seconds);
  return distribution(engine);
}

// The error message of a remote reply: OpenAI's {"error": {"message"}}, TGI's and Hugging Face's
// {"error": "..."}, or the start of a plain-text body. HTML pages are not quoted.
std::string reply_detail(const ClientResponse& response) {
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  std::string detail;
  if (parsed.is_object() && parsed.contains("error")) {
    const auto& error = parsed["error"];
    if (error.is_string())
      detail = error.get<std::string>();
    else if (error.is_object() && error.contains("message") && error["message"].is_string())
      detail = error["message"].get<std::string>();
    else
      detail = error.dump();
  } else if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
    detail = parsed["message"].get<std::string>();
  } else if (!parsed.is_discarded()) {
    detail = parsed.dump();
  } else if (response.body.find('<') == std::string::npos) {
    detail = response.body;
  } else {
    detail = "a non-JSON body";
  }
  if (detail.size() > kMaxDetailBytes)
    detail = detail.substr(0, kMaxDetailBytes) + "...";
  return detail;
}

// Failed connections and connections closed mid-reply may succeed on another attempt; a timeout
// already used the full per-attempt budget, so it is not retried.
bool is_retryable_transport(const ClientError& error) {
  return error.kind() == ClientErrorKind::kConnect || error.kind() == ClientErrorKind::kClosed;
}

ServiceError transport_error(const std::string& name, const ClientError& error, unsigned attempts) {
  const std::string after = " after " + std::to_string(attempts) + " attempt(s)";
  if (error.kind() == ClientErrorKind::kTimeout) {
    return ServiceError(Status::gateway_timeout,
                        name + " did not reply in time" + after + ": " + error.what());
  }
  return ServiceError(Status::bad_gateway,
                      "cannot reach " + name + after + ": " + std::string(error.what()));
}

ClientRequest json_request(const nlohmann::json& body, HeaderList headers) {
  ClientRequest request;
  request.method = http::verb::post;
  request.body = body.dump();
  request.content_type = "application/json";
  request.headers = std::move(headers);
  return request;
}

}  // namespace

RetryPolicy RetryPolicy::from_json(const nlohmann::json& params) {
  if (!params.is_object()) {
    throw std::invalid_argument(
        "retry parameters must be a JSON object such as {\"tries\": 3, "
        "\"delay\": 3}, got " +
        params.dump());
  }
  RetryPolicy policy;
  if (params.contains("tries") && !params["tries"].is_null()) {
    if (!params["tries"].is_number_integer() || params["tries"].get<long long>() < 1 ||
        params["tries"].get<long long>() > 100) {
      throw std::invalid_argument(
          "retry parameter \"tries\" must be an integer from 1 to 100, got " +
          params["tries"].dump());
    }
    policy.tries = params["tries"].get<unsigned>();
  }
  policy.delay_seconds = number_field(params, "delay", policy.delay_seconds);
  policy.backoff = number_field(params, "backoff", policy.backoff);
  if (params.contains("max_delay") && !params["max_delay"].is_null())
    policy.max_delay_seconds = number_field(params, "max_delay", 0);

  if (params.contains("jitter") && !params["jitter"].is_null()) {
    const auto& jitter = params["jitter"];
    if (jitter.is_number()) {
      policy.jitter_min_seconds = policy.jitter_max_seconds = jitter.get<double>();
    } else if (jitter.is_array() && jitter.size() == 2 && jitter[0].is_number() &&
               jitter[1].is_number() && jitter[0].get<double>() <= jitter[1].get<double>()) {
      policy.jitter_min_seconds = jitter[0].get<double>();
      policy.jitter_max_seconds = jitter[1].get<double>();
    } else {
      throw std::invalid_argument(
          "retry parameter \"jitter\" must be a number or a [min, max] pair, got " + jitter.dump());
    }
  }
  return policy;
}

double RetryPolicy::next_delay(double current_seconds, double jitter_seconds) const {
  double next = current_seconds * backoff + jitter_seconds;
  if (next < 0)
    next = 0;
  if (max_delay_seconds && next > *max_delay_seconds)
    next = *max_delay_seconds;
  return next;
}

bool is_retryable_status(unsigned status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<nlohmann::json> json_from_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0')
    return std::nullopt;
  auto parsed = nlohmann::json::parse(value, nullptr, false);
  if (parsed.is_discarded())
    return nlohmann::json(value);
  return parsed;
}

Upstream::Upstream(HttpClient& client, RetryPolicy retry, std::chrono::milliseconds timeout,
                   std::vector<std::string> secrets)
    : client_(client), retry_(retry), timeout_(timeout) {
  for (auto& secret : secrets) {
    if (!secret.empty())
      secrets_.push_back(std::move(secret));
  }
}

std::string Upstream::redact(std::string text) const {
  for (const auto& secret : secrets_) {
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
      text.replace(at, secret.size(), "***");
  }
  return text;
}

Awaitable<void> Upstream::wait_before_retry(double seconds) const {
  asio::steady_timer timer(
      co_await asio::this_coro::executor,
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
  co_await timer.async_wait(asio::use_awaitable);
}

ServiceError Upstream::status_error(const std::string& name, const ClientResponse& response,
                                    unsigned attempts) const {
  const unsigned code = response.status_code;
  std::string description = name + " replied HTTP " + std::to_string(code);
  if (attempts > 1)
    description += " after " + std::to_string(attempts) + " attempts";
  description += ": " + redact(reply_detail(response));

  // 401 and 403 mean this service's own credentials are wrong, which the caller cannot fix.
  Status status = Status::bad_gateway;
  if (code >= 400 && code < 500 && code != 401 && code != 403)
    status = static_cast<Status>(code);
  return ServiceError(status, description);
}

Awaitable<nlohmann::json> Upstream::post_json(std::string name, Url url, nlohmann::json body,
                                              HeaderList headers) const {
  const ClientRequest request = json_request(body, std::move(headers));
  double delay = retry_.delay_seconds;
  for (unsigned attempt = 1;; ++attempt) {
    std::string failure;
    try {
      auto response = co_await client_.send(url, request, Clock::now() + timeout_);
      if (response.status_code >= 200 && response.status_code < 300) {
        auto parsed = nlohmann::json::parse(response.body, nullptr, false);
        if (parsed.is_discarded()) {
          spdlog::warn("reply is not JSON upstream={} url={} bytes={}", name, url.redacted(),
                       response.body.size());
          throw ServiceError(Status::bad_gateway, name + " replied HTTP " +
                                                      std::to_string(response.status_code) +
                                                      " with a body that is not JSON");
        }
        co_return parsed;
      }
      if (!is_retryable_status(response.status_code) || attempt >= retry_.tries) {
        auto error = status_error(name, response, attempt);
        spdlog::warn("request failed upstream={} url={} status={} attempts={} error={}", name,
                     url.redacted(), response.status_code, attempt, error.what());
        throw error;
      }
      failure = "status=" + std::to_string(response.status_code);
    } catch (const ClientError& error) {
      if (!is_retryable_transport(error) || attempt >= retry_.tries) {
        spdlog::warn("request failed upstream={} url={} attempts={} error={}", name, url.redacted(),
                     attempt, error.what());
        throw transport_error(name, error, attempt);
      }
      failure = error.what();
    }

    spdlog::warn("retrying request upstream={} url={} attempt={}/{} delay_ms={} reason={}", name,
                 url.redacted(), attempt + 1, retry_.tries, static_cast<long>(delay * 1000),
                 failure);
    co_await wait_before_retry(delay);
    delay = retry_.next_delay(delay, jitter_sample(retry_));
  }
}

Awaitable<void> Upstream::post_stream(std::string name, Url url, nlohmann::json body,
                                      HeaderList headers, ChunkHandler on_chunk) const {
  const ClientRequest request = json_request(body, std::move(headers));
  bool received = false;
  ChunkHandler forward = [&received, &on_chunk](std::string_view chunk) -> Awaitable<void> {
    received = true;
    co_await on_chunk(chunk);
  };

  double delay = retry_.delay_seconds;
  for (unsigned attempt = 1;; ++attempt) {
    std::string failure;
    try {
      auto response = co_await client_.stream(url, request, Clock::now() + timeout_, forward);
      if (response.status_code >= 200 && response.status_code < 300)
        co_return;
      if (!is_retryable_status(response.status_code) || attempt >= retry_.tries) {
        auto error = status_error(name, response, attempt);
        spdlog::warn("stream request failed upstream={} url={} status={} attempts={} error={}",
                     name, url.redacted(), response.status_code, attempt, error.what());
        throw error;
      }
      failure = "status=" + std::to_string(response.status_code);
    } catch (const ClientError& error) {
      if (received)
        throw;
      if (!is_retryable_transport(error) || attempt >= retry_.tries) {
        spdlog::warn("stream request failed upstream={} url={} attempts={} error={}", name,
                     url.redacted(), attempt, error.what());
        throw transport_error(name, error, attempt);
      }
      failure = error.what();
    }

    spdlog::warn("retrying stream request upstream={} url={} attempt={}/{} delay_ms={} reason={}",
                 name, url.redacted(), attempt + 1, retry_.tries, static_cast<long>(delay * 1000),
                 failure);
    co_await wait_before_retry(delay);
    delay = retry_.next_delay(delay, jitter_sample(retry_));
  }
}

Awaitable<ProbeResult> Upstream::probe(Url url, std::chrono::milliseconds timeout) const {
  ClientRequest request;
  request.method = http::verb::get;
  try {
    auto response = co_await client_.send(url, request, Clock::now() + timeout);
    co_return ProbeResult{response.status_code, {}};
  } catch (const ClientError& error) {
    spdlog::debug("readiness probe failed url={} error={}", url.redacted(), error.what());
    co_return ProbeResult{0, error.what()};
  }
}

void check_model_name(const std::string& model, std::string_view field) {
  const std::string prefix = std::string(field) + " \"" + model + "\" ";
  if (model.empty() || model.size() > 256)
    throw ServiceError::bad_request(std::string(field) + " must have 1 to 256 characters");

  for (char c : model) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '@' || c == '+';
    if (!allowed) {
      throw ServiceError::bad_request(prefix +
                                      "contains a character outside letters, digits and -_.:/@+");
    }
  }

  std::size_t start = 0;
  while (start <= model.size()) {
    auto end = model.find('/', start);
    if (end == std::string::npos)
      end = model.size();
    auto segment = std::string_view(model).substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..")
      throw ServiceError::bad_request(prefix + "has an empty, \".\" or \"..\" path segment");
    start = end + 1;
  }
}

}  // namespace infernet::services

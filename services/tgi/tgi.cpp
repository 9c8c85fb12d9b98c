#include "tgi/tgi.hpp"

#include <cstdlib>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "llm/sse.hpp"

namespace infernet::services {
namespace {

using nlohmann::json;
using sdk::Awaitable;
using sdk::ServiceError;
using sdk::Status;

constexpr const char* kProofsUnsupported =
    "Proofs are not supported for TGI Client Inference Service";
constexpr auto kProbeTimeout = std::chrono::seconds(2);

HeaderList string_headers(const json& object, const char* variable) {
  if (!object.is_object())
    throw std::invalid_argument(std::string(variable) + " must be a JSON object, got " +
                                object.dump());
  HeaderList headers;
  for (const auto& [name, value] : object.items()) {
    if (!value.is_string()) {
      throw std::invalid_argument(std::string(variable) + " value of \"" + name +
                                  "\" must be a string");
    }
    headers.emplace_back(name, value.get<std::string>());
  }
  return headers;
}

}  // namespace

TgiConfig TgiConfig::from_environment() {
  constexpr const char* kPositional = "TGI_INF_WORKFLOW_POSITIONAL_ARGS";
  TgiConfig config;
  auto positional = json_from_environment(kPositional);
  if (!positional || !positional->is_array() || positional->empty() ||
      !(*positional)[0].is_string()) {
    throw std::invalid_argument(std::string(kPositional) +
                                " must be a JSON list starting with the TGI server URL, e.g. "
                                "[\"http://tgi:80\", 30]");
  }
  const json& args = *positional;
  config.server_url = args[0].get<std::string>();
  try {
    Url::parse(config.server_url);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string(kPositional) + "[0]: " + error.what());
  }

  if (args.size() > 1 && !args[1].is_null()) {
    if (!args[1].is_number() || args[1].get<double>() <= 0) {
      throw std::invalid_argument(std::string(kPositional) +
                                  "[1] (timeout) must be a positive number of seconds, got " +
                                  args[1].dump());
    }
    config.timeout =
        std::chrono::milliseconds(static_cast<long long>(args[1].get<double>() * 1000));
  }
  if (args.size() > 2 && !args[2].is_null())
    config.headers = string_headers(args[2], "TGI_INF_WORKFLOW_POSITIONAL_ARGS[2] (headers)");
  if (args.size() > 3 && !args[3].is_null()) {
    std::string cookie;
    for (const auto& [name, value] :
         string_headers(args[3], "TGI_INF_WORKFLOW_POSITIONAL_ARGS[3] (cookies)")) {
      cookie += (cookie.empty() ? "" : "; ") + name + "=" + value;
    }
    if (!cookie.empty())
      config.headers.emplace_back("Cookie", cookie);
  }
  try {
    if (args.size() > 4 && !args[4].is_null())
      config.retry = RetryPolicy::from_json(args[4]);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string(kPositional) + "[4] (retry_params): " + error.what());
  }

  if (auto keywords = json_from_environment("TGI_INF_WORKFLOW_KW_ARGS")) {
    if (!keywords->is_object()) {
      throw std::invalid_argument(
          "TGI_INF_WORKFLOW_KW_ARGS must be a JSON object of generation "
          "parameters, got " +
          keywords->dump());
    }
    config.parameters = *keywords;
    if (config.parameters.contains("retry_params")) {
      try {
        config.retry = RetryPolicy::from_json(config.parameters["retry_params"]);
      } catch (const std::invalid_argument& error) {
        throw std::invalid_argument(std::string("TGI_INF_WORKFLOW_KW_ARGS.retry_params: ") +
                                    error.what());
      }
      config.parameters.erase("retry_params");
    }
  }

  const char* token = std::getenv("TGI_INF_TOKEN");
  if (token != nullptr && *token != '\0')
    config.headers.emplace_back("Authorization", std::string("Bearer ") + token);
  return config;
}

std::string tgi_prompt(const sdk::Envelope& envelope) {
  if (envelope.onchain_source()) {
    static const sdk::AbiType kType = sdk::abi_type("(string)");
    return sdk::abi_decode(kType, envelope.input_bytes)[0].as_string();
  }
  if (!envelope.data.contains("text") || !envelope.data["text"].is_string())
    throw ServiceError::bad_request("data.text must be a string: the prompt");
  return envelope.data["text"].get<std::string>();
}

std::string tgi_generated_text(const json& reply) {
  const json& object = reply.is_array() && reply.size() == 1 ? reply[0] : reply;
  if (object.is_object() && object.contains("generated_text") &&
      object["generated_text"].is_string()) {
    return object["generated_text"].get<std::string>();
  }
  throw ServiceError(Status::bad_gateway,
                     "TGI reply has no generated_text: " + reply.dump().substr(0, 200));
}

TgiStreamEvent parse_tgi_stream_event(const json& event) {
  if (!event.is_object())
    throw ServiceError(Status::bad_gateway, "TGI streamed an event that is not a JSON object");
  if (event.contains("error")) {
    std::string message =
        event["error"].is_string() ? event["error"].get<std::string>() : event["error"].dump();
    throw ServiceError(Status::bad_gateway, "TGI stream failed: " + message);
  }
  if (!event.contains("token") || !event["token"].is_object() || !event["token"].contains("text") ||
      !event["token"]["text"].is_string()) {
    throw ServiceError(Status::bad_gateway,
                       "TGI streamed an event without token.text: " + event.dump().substr(0, 200));
  }

  TgiStreamEvent parsed;
  // Special tokens (end of sequence and the like) are markup of the model, not text.
  if (!event["token"].value("special", false))
    parsed.text = event["token"]["text"].get<std::string>();
  parsed.final = event.contains("generated_text") && event["generated_text"].is_string();
  return parsed;
}

TgiService::TgiService(TgiConfig config)
    : config_(std::move(config)), server_(Url::parse(config_.server_url)) {}

void TgiService::start(sdk::asio::io_context& io) {
  client_ = std::make_unique<HttpClient>(io.get_executor());
  std::vector<std::string> secrets;
  const char* token = std::getenv("TGI_INF_TOKEN");
  if (token != nullptr)
    secrets.emplace_back(token);
  upstream_ = std::make_unique<Upstream>(*client_, config_.retry, config_.timeout, secrets);
}

void TgiService::stop() {
  upstream_.reset();
  if (client_)
    client_->clear_idle();
  client_.reset();
}

json TgiService::request_body(const std::string& prompt) const {
  json body{{"inputs", prompt}};
  if (!config_.parameters.empty())
    body["parameters"] = config_.parameters;
  return body;
}

Awaitable<json> TgiService::run(const sdk::Envelope& envelope) const {
  if (envelope.requires_proof)
    throw ServiceError::bad_request(kProofsUnsupported);
  const std::string prompt = tgi_prompt(envelope);

  json reply = co_await upstream_->post_json("TGI", server_.with_path("/generate"),
                                             request_body(prompt), config_.headers);
  std::string text = tgi_generated_text(reply);
  ready_.store(true);

  if (!envelope.onchain_destination())
    co_return json{{"output", std::move(text)}};
  sdk::OnchainOutput onchain;
  if (envelope.onchain_source())
    onchain.raw_input = envelope.input_bytes;
  onchain.raw_output = sdk::abi_encode_string(text);
  co_return onchain.to_json();
}

Awaitable<void> TgiService::stream(const sdk::Envelope& envelope, sdk::StreamWriter& writer) const {
  const std::string prompt = tgi_prompt(envelope);
  SseParser parser;
  bool final_seen = false;
  std::size_t token_count = 0;
  ChunkHandler relay = [&](std::string_view chunk) -> Awaitable<void> {
    std::vector<SseEvent> events = parser.feed(chunk);
    for (const auto& event : events) {
      json parsed = json::parse(event.data, nullptr, false);
      if (parsed.is_discarded())
        throw ServiceError(Status::bad_gateway, "TGI streamed an event that is not JSON");
      TgiStreamEvent token = parse_tgi_stream_event(parsed);
      final_seen = final_seen || token.final;
      if (!token.text.empty()) {
        ++token_count;
        co_await writer.write(token.text);
      }
    }
  };

  try {
    co_await upstream_->post_stream("TGI", server_.with_path("/generate_stream"),
                                    request_body(prompt), config_.headers, relay);
    // The last event of a complete TGI stream carries generated_text.
    if (!final_seen)
      throw ServiceError(Status::bad_gateway, "TGI stream ended before its final event");
  } catch (const std::exception& error) {
    if (writer.started()) {
      spdlog::warn("stream broken after output began upstream=TGI tokens={} error={}", token_count,
                   error.what());
    }
    throw;
  }
  ready_.store(true);
}

Awaitable<std::string> TgiService::readiness() const {
  if (ready_.load())
    co_return std::string();
  const Url health = server_.with_path("/health");
  const ProbeResult probe = co_await upstream_->probe(health, kProbeTimeout);
  if (probe.status == 200) {
    spdlog::info("TGI server is ready url={}", health.redacted());
    ready_.store(true);
    co_return std::string();
  }
  if (probe.status == 0)
    co_return "TGI server " + server_.redacted() + " is not reachable yet: " + probe.error;
  co_return "TGI server " + server_.redacted() + " is not ready: GET /health replied HTTP " +
      std::to_string(probe.status);
}

}  // namespace infernet::services

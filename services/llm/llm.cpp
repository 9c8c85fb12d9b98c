#include "llm/llm.hpp"

#include <cstdlib>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "llm/sse.hpp"

namespace infernet::services {
namespace {

using nlohmann::json;
using sdk::AbiValue;
using sdk::Awaitable;
using sdk::ServiceError;
using sdk::Status;

constexpr const char* kProofsUnsupported = "Proofs are not supported for CSS Inference";

struct ProviderDefaults {
  Provider provider;
  const char* name;
  const char* base_url_variable;
  const char* default_base_url;  // empty: the variable is required to use the provider
  const char* key_variable;
  bool key_required;
};

// Ritual's defaults for the hosted providers; the OpenAI-compatible provider has none.
constexpr std::array<ProviderDefaults, kProviderCount> kProviders{{
    {Provider::kOpenai, "OPENAI", "OPENAI_BASE_URL", "https://api.openai.com/v1/", "OPENAI_API_KEY",
     true},
    {Provider::kGooseai, "GOOSEAI", "GOOSEAI_BASE_URL", "https://api.goose.ai/v1/",
     "GOOSEAI_API_KEY", true},
    {Provider::kPerplexityai, "PERPLEXITYAI", "PERPLEXITYAI_BASE_URL", "https://api.perplexity.ai/",
     "PERPLEXITYAI_API_KEY", true},
    {Provider::kOpenaiCompatible, "OPENAI_COMPATIBLE", "OPENAI_COMPATIBLE_BASE_URL", "",
     "OPENAI_COMPATIBLE_API_KEY", false},
}};

// Body fields the service sets itself; extra_args may not replace them.
constexpr std::array<const char*, 5> kReservedFields{"model", "messages", "prompt", "input",
                                                     "stream"};

const ProviderDefaults& defaults_of(Provider provider) {
  return kProviders[static_cast<std::size_t>(provider)];
}

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

const std::string& string_field(const json& object, const char* key, const std::string& where) {
  if (!object.contains(key))
    throw ServiceError::bad_request(where + key + " is missing");
  if (!object[key].is_string())
    throw ServiceError::bad_request(where + key + " must be a string, got " + object[key].dump());
  return object[key].get_ref<const std::string&>();
}

Provider provider_from_name(const json& value) {
  if (value.is_string()) {
    for (const auto& entry : kProviders) {
      if (value.get<std::string>() == entry.name)
        return entry.provider;
    }
  }
  throw ServiceError::bad_request(
      "provider must be one of \"OPENAI\", \"PERPLEXITYAI\", \"GOOSEAI\", \"OPENAI_COMPATIBLE\", "
      "got " +
      value.dump());
}

std::vector<ChatMessage> parse_messages(const json& params) {
  if (!params.contains("messages") || !params["messages"].is_array() ||
      params["messages"].empty()) {
    throw ServiceError::bad_request(
        "params.messages must be a non-empty array of {\"role\", \"content\"} objects for the "
        "completions endpoint");
  }
  std::vector<ChatMessage> messages;
  for (std::size_t i = 0; i < params["messages"].size(); ++i) {
    const auto& message = params["messages"][i];
    const std::string where = "params.messages[" + std::to_string(i) + "].";
    if (!message.is_object())
      throw ServiceError::bad_request(where.substr(0, where.size() - 1) + " must be an object");
    messages.push_back(
        {string_field(message, "role", where), string_field(message, "content", where)});
  }
  return messages;
}

const json& first_choice(const json& reply, const char* provider) {
  if (!reply.is_object() || !reply.contains("choices") || !reply["choices"].is_array() ||
      reply["choices"].empty() || !reply["choices"][0].is_object()) {
    throw ServiceError(Status::bad_gateway, std::string(provider) + " reply has no choices[0]: " +
                                                reply.dump().substr(0, 200));
  }
  return reply["choices"][0];
}

}  // namespace

const char* provider_name(Provider provider) {
  return defaults_of(provider).name;
}

LlmConfig LlmConfig::from_environment() {
  LlmConfig config;
  for (const auto& entry : kProviders) {
    ProviderSettings settings;
    settings.base_url = environment(entry.base_url_variable);
    if (settings.base_url.empty())
      settings.base_url = entry.default_base_url;
    if (!settings.base_url.empty()) {
      try {
        Url::parse(settings.base_url);
      } catch (const std::invalid_argument& error) {
        throw std::invalid_argument(std::string(entry.base_url_variable) + ": " + error.what());
      }
    }
    settings.api_key = environment(entry.key_variable);
    settings.key_required = entry.key_required;
    config.providers[static_cast<std::size_t>(entry.provider)] = std::move(settings);
  }

  if (auto params = json_from_environment("RETRY_PARAMS")) {
    try {
      config.retry = RetryPolicy::from_json(*params);
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(std::string("RETRY_PARAMS: ") + error.what());
    }
  }

  if (auto timeout = json_from_environment("PROVIDER_TIMEOUT_SECONDS")) {
    if (!timeout->is_number() || timeout->get<double>() <= 0) {
      throw std::invalid_argument(
          "PROVIDER_TIMEOUT_SECONDS must be a positive number of seconds, "
          "got " +
          timeout->dump());
    }
    config.timeout =
        std::chrono::milliseconds(static_cast<long long>(timeout->get<double>() * 1000));
  }
  return config;
}

LlmRequest parse_llm_request(const json& data) {
  if (!data.is_object())
    throw ServiceError::bad_request("data must be a JSON object, got " + data.dump());

  LlmRequest request;
  if (!data.contains("provider"))
    throw ServiceError::bad_request("provider is missing");
  request.provider = provider_from_name(data["provider"]);

  const std::string& endpoint = string_field(data, "endpoint", "");
  if (endpoint == "completions") {
    request.endpoint = Endpoint::kCompletions;
  } else if (endpoint == "embeddings") {
    request.endpoint = Endpoint::kEmbeddings;
  } else {
    throw ServiceError::bad_request("endpoint must be \"completions\" or \"embeddings\", got \"" +
                                    endpoint + "\"");
  }

  request.model = string_field(data, "model", "");
  if (request.model.empty())
    throw ServiceError::bad_request("model must not be empty");

  if (!data.contains("params") || !data["params"].is_object())
    throw ServiceError::bad_request("params must be an object");
  const json& params = data["params"];
  if (request.endpoint == Endpoint::kCompletions)
    request.messages = parse_messages(params);
  else
    request.input = string_field(params, "input", "params.");

  if (data.contains("extra_args") && !data["extra_args"].is_null()) {
    if (!data["extra_args"].is_object())
      throw ServiceError::bad_request("extra_args must be an object, got " +
                                      data["extra_args"].dump());
    request.extra_args = data["extra_args"];
  }
  return request;
}

LlmRequest decode_llm_request(sdk::ByteView input) {
  static const sdk::AbiType kType = sdk::abi_type("(uint8,uint8,string,(string,string)[])");
  const AbiValue decoded = sdk::abi_decode(kType, input);

  const auto provider = decoded[0].as_uint().low_u64();
  if (provider >= kProviderCount) {
    throw ServiceError::bad_request("on-chain provider " + std::to_string(provider) +
                                    " is unknown: use 0 (OPENAI), 1 (GOOSEAI), 2 (PERPLEXITYAI) "
                                    "or 3 (OPENAI_COMPATIBLE)");
  }
  const auto endpoint = decoded[1].as_uint().low_u64();
  if (endpoint == static_cast<std::uint64_t>(Endpoint::kEmbeddings)) {
    throw ServiceError::bad_request(
        "on-chain endpoint 1 (embeddings) is not supported: the on-chain request carries chat "
        "messages only, so send embeddings requests off-chain");
  }
  if (endpoint != static_cast<std::uint64_t>(Endpoint::kCompletions)) {
    throw ServiceError::bad_request("on-chain endpoint " + std::to_string(endpoint) +
                                    " is unknown: use 0 (completions)");
  }

  LlmRequest request;
  request.provider = static_cast<Provider>(provider);
  request.endpoint = Endpoint::kCompletions;
  request.model = decoded[2].as_string();
  if (request.model.empty())
    throw ServiceError::bad_request("on-chain model must not be empty");
  for (const auto& message : decoded[3].as_list())
    request.messages.push_back({message[0].as_string(), message[1].as_string()});
  if (request.messages.empty())
    throw ServiceError::bad_request("on-chain messages must not be empty");
  return request;
}

ProviderCall build_provider_call(const LlmConfig& config, const LlmRequest& request, bool stream) {
  const ProviderDefaults& defaults = defaults_of(request.provider);
  const ProviderSettings& settings = config.settings(request.provider);
  const std::string name = defaults.name;

  if (settings.base_url.empty()) {
    throw ServiceError::bad_request("provider " + name + " is not configured on this service: " +
                                    defaults.base_url_variable + " is not set");
  }
  if (settings.key_required && settings.api_key.empty()) {
    throw ServiceError::bad_request("provider " + name + " is not available on this service: " +
                                    defaults.key_variable + " is not set");
  }
  for (const char* field : kReservedFields) {
    if (request.extra_args.contains(field)) {
      throw ServiceError::bad_request(std::string("extra_args.") + field +
                                      " is not allowed: the service sets it from the request");
    }
  }

  ProviderCall call{Url::parse(settings.base_url), request.extra_args, {}};
  const bool gooseai = request.provider == Provider::kGooseai;

  if (request.endpoint == Endpoint::kEmbeddings) {
    if (gooseai || request.provider == Provider::kPerplexityai)
      throw ServiceError::bad_request("provider " + name + " has no embeddings endpoint");
    if (stream)
      throw ServiceError::bad_request("the embeddings endpoint cannot be streamed");
    call.url = call.url.with_path("/embeddings");
    call.body["model"] = request.model;
    call.body["input"] = request.input;
  } else if (gooseai) {
    // GooseAI's completions take one prompt, so the request must carry exactly one message.
    if (request.messages.size() != 1) {
      throw ServiceError::bad_request("provider GOOSEAI takes exactly one message, got " +
                                      std::to_string(request.messages.size()));
    }
    check_model_name(request.model, "model");
    call.url = call.url.with_path("/engines/" + request.model + "/completions");
    call.body["prompt"] = request.messages.front().content;
  } else {
    call.url = call.url.with_path("/chat/completions");
    call.body["model"] = request.model;
    json messages = json::array();
    for (const auto& message : request.messages)
      messages.push_back({{"role", message.role}, {"content", message.content}});
    call.body["messages"] = std::move(messages);
  }

  if (stream)
    call.body["stream"] = true;
  if (!settings.api_key.empty())
    call.headers.emplace_back("Authorization", "Bearer " + settings.api_key);
  return call;
}

json extract_output(const LlmRequest& request, const json& reply) {
  const char* name = provider_name(request.provider);
  if (request.endpoint == Endpoint::kEmbeddings) {
    if (reply.is_object() && reply.contains("data") && reply["data"].is_array() &&
        !reply["data"].empty() && reply["data"][0].is_object() &&
        reply["data"][0].contains("embedding") && reply["data"][0]["embedding"].is_array()) {
      return reply["data"][0]["embedding"];
    }
    throw ServiceError(Status::bad_gateway, std::string(name) +
                                                " embeddings reply has no data[0].embedding: " +
                                                reply.dump().substr(0, 200));
  }

  const json& choice = first_choice(reply, name);
  if (request.provider == Provider::kGooseai) {
    if (choice.contains("text") && choice["text"].is_string())
      return choice["text"];
  } else if (choice.contains("message") && choice["message"].is_object() &&
             choice["message"].contains("content") && choice["message"]["content"].is_string()) {
    return choice["message"]["content"];
  }
  throw ServiceError(Status::bad_gateway, std::string(name) +
                                              " reply has no completion text in choices[0]: " +
                                              choice.dump().substr(0, 200));
}

std::string extract_delta(Provider provider, const json& event) {
  const char* name = provider_name(provider);
  if (!event.is_object()) {
    throw ServiceError(Status::bad_gateway,
                       std::string(name) + " streamed an event that is not a JSON object");
  }
  if (event.contains("error")) {
    const json& error = event["error"];
    std::string message =
        error.is_object() && error.contains("message") && error["message"].is_string()
            ? error["message"].get<std::string>()
            : error.dump();
    throw ServiceError(Status::bad_gateway, std::string(name) + " stream failed: " + message);
  }
  // Events without choices (usage reports) carry no text.
  if (!event.contains("choices") || !event["choices"].is_array() || event["choices"].empty())
    return {};

  const json& choice = event["choices"][0];
  if (provider == Provider::kGooseai) {
    if (choice.contains("text") && choice["text"].is_string())
      return choice["text"].get<std::string>();
    return {};
  }
  if (choice.contains("delta") && choice["delta"].is_object() &&
      choice["delta"].contains("content") && choice["delta"]["content"].is_string()) {
    return choice["delta"]["content"].get<std::string>();
  }
  return {};
}

bool provider_serves_model(const LlmConfig& config, const std::string& model_id) {
  const auto slash = model_id.find('/');
  if (slash == std::string::npos || slash + 1 == model_id.size())
    return false;
  const std::string name = model_id.substr(0, slash);
  for (const auto& entry : kProviders) {
    if (name != entry.name)
      continue;
    const ProviderSettings& settings = config.settings(entry.provider);
    return !settings.base_url.empty() && (!settings.key_required || !settings.api_key.empty());
  }
  return false;
}

LlmService::LlmService(LlmConfig config) : config_(std::move(config)) {}

void LlmService::start(sdk::asio::io_context& io) {
  client_ = std::make_unique<HttpClient>(io.get_executor());
  std::vector<std::string> secrets;
  for (const auto& settings : config_.providers)
    secrets.push_back(settings.api_key);
  upstream_ = std::make_unique<Upstream>(*client_, config_.retry, config_.timeout, secrets);
}

void LlmService::stop() {
  upstream_.reset();
  if (client_)
    client_->clear_idle();
  client_.reset();
}

LlmRequest LlmService::request_of(const sdk::Envelope& envelope) const {
  if (envelope.onchain_source())
    return decode_llm_request(envelope.input_bytes);
  return parse_llm_request(envelope.data);
}

Awaitable<json> LlmService::run(const sdk::Envelope& envelope) const {
  if (envelope.requires_proof)
    throw ServiceError::bad_request(kProofsUnsupported);

  const LlmRequest request = request_of(envelope);
  if (envelope.onchain_destination() && request.endpoint == Endpoint::kEmbeddings) {
    throw ServiceError::bad_request(
        "embeddings cannot be delivered on-chain: the on-chain output is abi.encode(string)");
  }
  ProviderCall call = build_provider_call(config_, request, false);
  spdlog::debug("job provider={} endpoint={} model={}", provider_name(request.provider),
                static_cast<int>(request.endpoint), request.model);

  json reply = co_await upstream_->post_json(provider_name(request.provider), std::move(call.url),
                                             std::move(call.body), std::move(call.headers));
  json output = extract_output(request, reply);

  if (!envelope.onchain_destination())
    co_return json{{"output", std::move(output)}};

  sdk::OnchainOutput onchain;
  if (envelope.onchain_source())
    onchain.raw_input = envelope.input_bytes;
  onchain.raw_output = sdk::abi_encode_string(output.get<std::string>());
  co_return onchain.to_json();
}

Awaitable<void> LlmService::stream(const sdk::Envelope& envelope, sdk::StreamWriter& writer) const {
  const LlmRequest request = request_of(envelope);
  if (request.endpoint == Endpoint::kEmbeddings)
    throw ServiceError::bad_request("the embeddings endpoint cannot be streamed");
  ProviderCall call = build_provider_call(config_, request, true);
  const char* name = provider_name(request.provider);

  SseParser parser;
  bool done = false;
  std::size_t delta_count = 0;
  ChunkHandler relay = [&](std::string_view chunk) -> Awaitable<void> {
    std::vector<SseEvent> events = parser.feed(chunk);
    for (const auto& event : events) {
      // OpenAI-style streams end with the literal event "[DONE]".
      if (done)
        continue;
      if (event.data == "[DONE]") {
        done = true;
        continue;
      }
      json parsed = json::parse(event.data, nullptr, false);
      if (parsed.is_discarded()) {
        throw ServiceError(Status::bad_gateway,
                           std::string(name) + " streamed an event that is not JSON");
      }
      std::string delta = extract_delta(request.provider, parsed);
      if (!delta.empty()) {
        ++delta_count;
        co_await writer.write(delta);
      }
    }
  };

  try {
    co_await upstream_->post_stream(name, std::move(call.url), std::move(call.body),
                                    std::move(call.headers), relay);
    if (!done) {
      throw ServiceError(Status::bad_gateway,
                         std::string(name) + " stream ended without its final [DONE] event");
    }
  } catch (const std::exception& error) {
    if (writer.started()) {
      spdlog::warn("stream broken after output began provider={} model={} deltas={} error={}", name,
                   request.model, delta_count, error.what());
    }
    throw;
  }
}

}  // namespace infernet::services

// llm-service: a proxy to hosted LLM APIs (OpenAI, Perplexity, GooseAI, or any server with the
// OpenAI chat completions API such as vLLM or llama.cpp), wire-compatible with Ritual's
// css_inference_service.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/service.hpp"
#include "llm/upstream.hpp"

namespace infernet::services {

/// The providers, numbered as in the on-chain request (Ritual's CSSProvider integers, which are
/// not the order of the names). kOpenaiCompatible is this service's own addition.
enum class Provider : std::uint8_t {
  kOpenai = 0,
  kGooseai = 1,
  kPerplexityai = 2,
  kOpenaiCompatible = 3,
};
inline constexpr std::size_t kProviderCount = 4;

/// The request kinds, numbered as in the on-chain request (CSSEndpoint).
enum class Endpoint : std::uint8_t { kCompletions = 0, kEmbeddings = 1 };

/// The name of a provider in off-chain requests and messages, e.g. "PERPLEXITYAI".
const char* provider_name(Provider provider);

/// The location and the credentials of a provider.
struct ProviderSettings {
  std::string base_url;  ///< e.g. "https://api.openai.com/v1/"; empty means not configured
  std::string api_key;   ///< sent as a bearer token; empty sends none
  bool key_required = true;
};

/// Settings read from the environment at start.
struct LlmConfig {
  std::array<ProviderSettings, kProviderCount> providers;
  RetryPolicy retry;
  std::chrono::milliseconds timeout{120'000};

  /// Reads OPENAI_API_KEY, PERPLEXITYAI_API_KEY, GOOSEAI_API_KEY, OPENAI_COMPATIBLE_API_KEY,
  /// the *_BASE_URL variables, RETRY_PARAMS and PROVIDER_TIMEOUT_SECONDS. Throws
  /// std::invalid_argument naming the variable when a value is invalid.
  static LlmConfig from_environment();

  const ProviderSettings& settings(Provider provider) const {
    return providers[static_cast<std::size_t>(provider)];
  }
};

struct ChatMessage {
  std::string role;
  std::string content;
};

/// A parsed request: Ritual's CSSRequest, or its on-chain form.
struct LlmRequest {
  Provider provider = Provider::kOpenai;
  Endpoint endpoint = Endpoint::kCompletions;
  std::string model;
  std::vector<ChatMessage> messages;                     ///< completions
  std::string input;                                     ///< embeddings
  nlohmann::json extra_args = nlohmann::json::object();  ///< merged into the provider's body
};

/// Parses an off-chain request {"provider", "endpoint", "model", "params": {"messages": [...]}
/// or {"input": "..."}, "extra_args"}. "stream" and "api_keys" are accepted and ignored: the
/// destination selects streaming and keys come only from the environment. Throws ServiceError
/// (400) naming the field that is missing or invalid.
LlmRequest parse_llm_request(const nlohmann::json& data);

/// Decodes the on-chain request abi.encode(uint8 provider, uint8 endpoint, string model,
/// (string role, string content)[] messages). Throws ServiceError (400) when the bytes do not
/// decode, an enum value is unknown, or the endpoint is embeddings (the on-chain form carries
/// chat messages only).
LlmRequest decode_llm_request(sdk::ByteView input);

/// The HTTP request to a provider that carries one LlmRequest.
struct ProviderCall {
  Url url;
  nlohmann::json body;
  HeaderList headers;
};

/// Builds the provider request: chat/completions (OpenAI, Perplexity, OpenAI-compatible),
/// engines/{model}/completions with the single message as the prompt (GooseAI), or embeddings
/// (OpenAI, OpenAI-compatible). Throws ServiceError (400) when the provider is not configured
/// here, does not offer the endpoint, or extra_args tries to replace a field the service sets.
ProviderCall build_provider_call(const LlmConfig& config, const LlmRequest& request, bool stream);

/// Extracts the result from a provider reply: the completion text, or the embedding as a JSON
/// array of numbers. Throws ServiceError (502) when the reply does not have that shape.
nlohmann::json extract_output(const LlmRequest& request, const nlohmann::json& reply);

/// Extracts the text delta of one streamed event (empty when the event carries none, e.g. the
/// role-only first event). Throws ServiceError (502) for an error event or an unexpected shape.
std::string extract_delta(Provider provider, const nlohmann::json& event);

/// Whether `model_id` has the form "PROVIDER/model" (e.g. "OPENAI/gpt-4o") with a provider
/// this service can call: its base URL is set and so is its key where one is required.
bool provider_serves_model(const LlmConfig& config, const std::string& model_id);

/// The service: handles jobs and streaming jobs. Thread-safe once started.
class LlmService {
 public:
  explicit LlmService(LlmConfig config);

  /// Creates the HTTP client on the service's I/O context; stop() releases it.
  void start(sdk::asio::io_context& io);
  void stop();

  /// Runs a job: {"output": text or embedding} for an off-chain destination, the five on-chain
  /// keys with raw_output = abi.encode(string text) for an on-chain one.
  sdk::Awaitable<nlohmann::json> run(const sdk::Envelope& envelope) const;

  /// Streams the completion text deltas of a job with destination 2 as they arrive.
  sdk::Awaitable<void> stream(const sdk::Envelope& envelope, sdk::StreamWriter& writer) const;

 private:
  LlmRequest request_of(const sdk::Envelope& envelope) const;

  LlmConfig config_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<Upstream> upstream_;
};

}  // namespace infernet::services

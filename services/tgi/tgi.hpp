// tgi-service: a client of a Text Generation Inference (TGI) server, wire-compatible with
// Ritual's tgi_client_inference_service.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "infernet/sdk/service.hpp"
#include "llm/upstream.hpp"

namespace infernet::services {

/// Settings read from the environment at start.
struct TgiConfig {
  std::string server_url;  ///< the TGI server, e.g. "http://tgi:80"
  std::chrono::milliseconds timeout{30'000};
  HeaderList headers;                                    ///< sent with every request
  nlohmann::json parameters = nlohmann::json::object();  ///< TGI generation parameters
  RetryPolicy retry;

  /// Reads the variables of Ritual's service. TGI_INF_WORKFLOW_POSITIONAL_ARGS is a JSON list:
  /// the server URL, the timeout in seconds, then optionally headers, cookies and retry
  /// parameters as objects. TGI_INF_WORKFLOW_KW_ARGS is a JSON object of generation parameters
  /// whose "retry_params" key sets the retry policy instead. TGI_INF_TOKEN is a bearer token.
  /// Throws std::invalid_argument naming the variable when one is missing or invalid.
  static TgiConfig from_environment();
};

/// Reads the prompt of a job: {"text": "..."} off-chain, abi.encode(string) on-chain. Throws
/// ServiceError (400) when it is missing or does not decode.
std::string tgi_prompt(const sdk::Envelope& envelope);

/// Extracts generated_text from a /generate reply (an object, or a one-element array as the
/// Hugging Face serverless API returns). Throws ServiceError (502) otherwise.
std::string tgi_generated_text(const nlohmann::json& reply);

/// One parsed /generate_stream event.
struct TgiStreamEvent {
  std::string text;    ///< the token text; empty for a special token (e.g. end of sequence)
  bool final = false;  ///< the last event, which carries generated_text
};

/// Parses a /generate_stream event. Throws ServiceError (502) for an error event or an
/// unexpected shape.
TgiStreamEvent parse_tgi_stream_event(const nlohmann::json& event);

/// The service: jobs, streaming jobs and readiness. Thread-safe once started.
class TgiService {
 public:
  explicit TgiService(TgiConfig config);

  void start(sdk::asio::io_context& io);
  void stop();

  /// Runs a job: {"output": text} off-chain, raw_output = abi.encode(string text) on-chain.
  sdk::Awaitable<nlohmann::json> run(const sdk::Envelope& envelope) const;
  /// Streams the token texts of a job with destination 2 as they arrive.
  sdk::Awaitable<void> stream(const sdk::Envelope& envelope, sdk::StreamWriter& writer) const;
  /// Returns "" once the server's GET /health replied 200, otherwise why the service is not
  /// ready. After the first success the server is not asked again.
  sdk::Awaitable<std::string> readiness() const;

 private:
  nlohmann::json request_body(const std::string& prompt) const;

  TgiConfig config_;
  Url server_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<Upstream> upstream_;
  mutable std::atomic<bool> ready_{false};
};

}  // namespace infernet::services

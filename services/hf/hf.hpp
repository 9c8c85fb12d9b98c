// hf-service: a client of the Hugging Face inference API for four tasks, wire-compatible with
// Ritual's hf_inference_client_service.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/service.hpp"
#include "llm/upstream.hpp"

namespace infernet::services {

/// The tasks, numbered as Ritual's HFTaskId (0 is UNSET, 5 is text-to-image, which this service
/// does not offer).
enum class HfTask : std::uint8_t {
  kTextGeneration = 1,
  kTextClassification = 2,
  kTokenClassification = 3,
  kSummarization = 4,
};

/// The task's name as the Hugging Face Hub spells it, e.g. "text-classification".
const char* hf_task_name(HfTask task);

/// Settings read from the environment at start.
struct HfConfig {
  std::string base_url = "https://api-inference.huggingface.co";
  std::string token;
  /// The model used when a request names none, indexed by task id - 1.
  std::array<std::string, 4> default_models{
      "HuggingFaceH4/zephyr-7b-beta",
      "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
      "dslim/bert-base-NER",
      "facebook/bart-large-cnn",
  };
  RetryPolicy retry;
  std::chrono::milliseconds timeout{60'000};

  /// Reads HF_INF_TOKEN, HF_INF_BASE_URL, HF_INF_DEFAULT_MODELS (a JSON object from task name
  /// to model), HF_INF_RETRY_PARAMS and HF_INF_TIMEOUT_SECONDS. Throws std::invalid_argument
  /// naming the variable when a value is invalid.
  static HfConfig from_environment();

  const std::string& default_model(HfTask task) const {
    return default_models[static_cast<std::size_t>(task) - 1];
  }
};

/// A parsed request.
struct HfRequest {
  HfTask task = HfTask::kTextGeneration;
  std::string model;  ///< empty selects the configured default for the task
  std::string text;   ///< the prompt (generation) or the input text
  nlohmann::json parameters = nlohmann::json::object();  ///< the API's "parameters" object
  bool details = false;  ///< generation: return the whole reply object, not only the text
};

/// Parses an off-chain request: {"task_id", "model"?, "prompt" and generation options} for
/// task 1, {"task_id", "model"?, "text"} for tasks 2 and 3, and the same with "parameters" for
/// task 4. Throws ServiceError (400) naming the field that is missing or invalid.
HfRequest parse_hf_request(const nlohmann::json& data);

/// Decodes the on-chain request abi.encode(uint8 task_id, string model, string text). Throws
/// ServiceError (400) when it does not decode or the task is unknown.
HfRequest decode_hf_request(sdk::ByteView input);

/// The body posted to {base}/models/{model}: {"inputs": text, "parameters": ...}.
nlohmann::json hf_request_body(const HfRequest& request);

/// Turns the API reply into the off-chain "output": the generated text (or the reply object
/// with details), a list of {label, score}, a list of entities, or {"summary_text"}. Throws
/// ServiceError (502) when the reply does not have the task's shape.
nlohmann::json hf_output(const HfRequest& request, const nlohmann::json& reply);

/// Encodes an output for on-chain delivery: (string) for generation and summarization,
/// (string[] labels, uint256[] scores) for classification, (string[] entity_groups,
/// uint256[] scores) for token classification, each score as int(score * 1e6).
sdk::Bytes encode_hf_output(HfTask task, const nlohmann::json& output);

/// The service: jobs and readiness. Thread-safe once started.
class HfService {
 public:
  explicit HfService(HfConfig config);

  void start(sdk::asio::io_context& io);
  void stop();

  /// Runs a job: {"output": ...} off-chain, the task's encoding as raw_output on-chain.
  sdk::Awaitable<nlohmann::json> run(const sdk::Envelope& envelope) const;
  /// Returns "" once the API's base URL replied with any status below 500, otherwise why the
  /// service is not ready. After the first success the API is not asked again.
  sdk::Awaitable<std::string> readiness() const;

 private:
  HfConfig config_;
  Url base_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<Upstream> upstream_;
  mutable std::atomic<bool> ready_{false};
};

}  // namespace infernet::services

#include "hf/hf.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace infernet::services {
namespace {

using nlohmann::json;
using sdk::AbiValue;
using sdk::Awaitable;
using sdk::ServiceError;
using sdk::Status;

constexpr const char* kProofsUnsupported =
    "Proofs are not supported for HF Client Inference Service";
constexpr auto kProbeTimeout = std::chrono::seconds(2);
constexpr std::array<const char*, 4> kTaskNames{"text-generation", "text-classification",
                                                "token-classification", "summarization"};

enum class FieldType { kBool, kInteger, kNumber, kStop };

struct GenerationField {
  const char* name;       // the field of the off-chain request
  const char* parameter;  // the name in the API's "parameters" object
  FieldType type;
};

// The text generation options of Ritual's request; stop_sequences is the API's "stop".
constexpr std::array<GenerationField, 15> kGenerationFields{{
    {"details", "details", FieldType::kBool},
    {"do_sample", "do_sample", FieldType::kBool},
    {"max_new_tokens", "max_new_tokens", FieldType::kInteger},
    {"best_of", "best_of", FieldType::kInteger},
    {"repetition_penalty", "repetition_penalty", FieldType::kNumber},
    {"return_full_text", "return_full_text", FieldType::kBool},
    {"seed", "seed", FieldType::kInteger},
    {"stop_sequences", "stop", FieldType::kStop},
    {"temperature", "temperature", FieldType::kNumber},
    {"top_k", "top_k", FieldType::kInteger},
    {"top_p", "top_p", FieldType::kNumber},
    {"truncate", "truncate", FieldType::kInteger},
    {"typical_p", "typical_p", FieldType::kNumber},
    {"watermark", "watermark", FieldType::kBool},
    {"decoder_input_details", "decoder_input_details", FieldType::kBool},
}};

HfTask task_from_id(std::uint64_t id) {
  if (id == 0)
    throw ServiceError::bad_request("task_id 0 (UNSET) is not a task: use 1 to 4");
  if (id == 5) {
    throw ServiceError::bad_request(
        "task_id 5 (text to image) is not supported by this service: use 1 (text generation), 2 "
        "(text classification), 3 (token classification) or 4 (summarization)");
  }
  if (id > 5)
    throw ServiceError::bad_request("task_id " + std::to_string(id) + " is unknown: use 1 to 4");
  return static_cast<HfTask>(id);
}

const std::string& text_field(const json& data, const char* key) {
  if (!data.contains(key) || !data[key].is_string())
    throw ServiceError::bad_request(std::string(key) + " must be a string");
  return data[key].get_ref<const std::string&>();
}

json checked_generation_value(const GenerationField& field, const json& value) {
  bool valid = false;
  switch (field.type) {
    case FieldType::kBool:
      valid = value.is_boolean();
      break;
    case FieldType::kInteger:
      valid = value.is_number_integer();
      break;
    case FieldType::kNumber:
      valid = value.is_number();
      break;
    case FieldType::kStop:
      if (value.is_string())
        return json::array({value});
      valid = value.is_array();
      for (const auto& item : value)
        valid = valid && item.is_string();
      break;
  }
  if (!valid) {
    static constexpr std::array<const char*, 4> kExpected{"a boolean", "an integer", "a number",
                                                          "a string or a list of strings"};
    throw ServiceError::bad_request(std::string(field.name) + " must be " +
                                    kExpected[static_cast<std::size_t>(field.type)] + ", got " +
                                    value.dump());
  }
  return value;
}

std::vector<AbiValue> to_strings(const std::vector<std::string>& values) {
  std::vector<AbiValue> list;
  for (const auto& value : values)
    list.push_back(AbiValue::string(value));
  return list;
}

// Ritual's encoding: int(score * 1e6), which truncates toward zero.
AbiValue scaled_score(double score) {
  if (!(score > 0))
    return AbiValue::uint(0);
  return AbiValue::uint(static_cast<std::uint64_t>(std::trunc(score * 1e6)));
}

sdk::Bytes encode_labels_and_scores(const json& items, const char* label_key,
                                    const char* fallback_key) {
  std::vector<std::string> labels;
  AbiValue::List scores;
  for (const auto& item : items) {
    const char* key = item.contains(label_key) ? label_key : fallback_key;
    labels.push_back(item.at(key).get<std::string>());
    scores.push_back(scaled_score(item.at("score").get<double>()));
  }
  static const sdk::AbiType kType = sdk::abi_type("(string[],uint256[])");
  return sdk::abi_encode(kType, {AbiValue::list(to_strings(labels)), AbiValue::list(scores)});
}

[[noreturn]] void throw_bad_reply(HfTask task, const json& reply) {
  throw ServiceError(Status::bad_gateway,
                     std::string("Hugging Face ") + hf_task_name(task) +
                         " reply has an unexpected shape: " + reply.dump().substr(0, 200));
}

}  // namespace

const char* hf_task_name(HfTask task) {
  return kTaskNames[static_cast<std::size_t>(task) - 1];
}

HfConfig HfConfig::from_environment() {
  HfConfig config;
  if (auto base = json_from_environment("HF_INF_BASE_URL")) {
    if (!base->is_string())
      throw std::invalid_argument("HF_INF_BASE_URL must be a URL, got " + base->dump());
    config.base_url = base->get<std::string>();
  }
  try {
    Url::parse(config.base_url);
  } catch (const std::invalid_argument& error) {
    throw std::invalid_argument(std::string("HF_INF_BASE_URL: ") + error.what());
  }

  const char* token = std::getenv("HF_INF_TOKEN");
  if (token != nullptr)
    config.token = token;

  if (auto models = json_from_environment("HF_INF_DEFAULT_MODELS")) {
    if (!models->is_object())
      throw std::invalid_argument(
          "HF_INF_DEFAULT_MODELS must be a JSON object from task name to model");
    for (const auto& [task, model] : models->items()) {
      std::size_t index = 0;
      while (index < kTaskNames.size() && task != kTaskNames[index])
        ++index;
      if (index == kTaskNames.size() || !model.is_string() || model.get<std::string>().empty()) {
        throw std::invalid_argument("HF_INF_DEFAULT_MODELS: \"" + task +
                                    "\" must be text-generation, text-classification, "
                                    "token-classification or summarization, with a model name");
      }
      config.default_models[index] = model.get<std::string>();
    }
  }

  if (auto params = json_from_environment("HF_INF_RETRY_PARAMS")) {
    try {
      config.retry = RetryPolicy::from_json(*params);
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(std::string("HF_INF_RETRY_PARAMS: ") + error.what());
    }
  }
  if (auto timeout = json_from_environment("HF_INF_TIMEOUT_SECONDS")) {
    if (!timeout->is_number() || timeout->get<double>() <= 0) {
      throw std::invalid_argument(
          "HF_INF_TIMEOUT_SECONDS must be a positive number of seconds, got " + timeout->dump());
    }
    config.timeout =
        std::chrono::milliseconds(static_cast<long long>(timeout->get<double>() * 1000));
  }
  return config;
}

HfRequest parse_hf_request(const json& data) {
  if (!data.is_object())
    throw ServiceError::bad_request("data must be a JSON object, got " + data.dump());
  if (!data.contains("task_id") || !data["task_id"].is_number_integer() ||
      data["task_id"].get<long long>() < 0) {
    throw ServiceError::bad_request("task_id must be an integer from 1 to 4");
  }

  HfRequest request;
  request.task = task_from_id(data["task_id"].get<std::uint64_t>());
  if (data.contains("model") && !data["model"].is_null()) {
    if (!data["model"].is_string())
      throw ServiceError::bad_request("model must be a string, got " + data["model"].dump());
    request.model = data["model"].get<std::string>();
  }

  std::vector<std::string> known{"task_id", "model"};
  if (request.task == HfTask::kTextGeneration) {
    request.text = text_field(data, "prompt");
    known.push_back("prompt");
    if (data.value("stream", false) == true) {
      throw ServiceError::bad_request(
          "stream: true is not supported: this service returns the whole text");
    }
    known.push_back("stream");
    // The API's defaults differ from the Python client's, so these two are always sent.
    request.parameters["max_new_tokens"] = 20;
    request.parameters["return_full_text"] = false;
    for (const auto& field : kGenerationFields) {
      known.push_back(field.name);
      if (data.contains(field.name) && !data[field.name].is_null())
        request.parameters[field.parameter] = checked_generation_value(field, data[field.name]);
    }
    request.details = request.parameters.value("details", false);
  } else {
    request.text = text_field(data, "text");
    known.push_back("text");
    if (request.task == HfTask::kSummarization) {
      known.push_back("parameters");
      if (data.contains("parameters") && !data["parameters"].is_null()) {
        if (!data["parameters"].is_object())
          throw ServiceError::bad_request("parameters must be an object");
        request.parameters = data["parameters"];
      }
    }
  }

  for (const auto& [key, value] : data.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      throw ServiceError::bad_request("field \"" + key + "\" is not an option of task " +
                                      hf_task_name(request.task));
    }
  }
  return request;
}

HfRequest decode_hf_request(sdk::ByteView input) {
  static const sdk::AbiType kType = sdk::abi_type("(uint8,string,string)");
  const AbiValue decoded = sdk::abi_decode(kType, input);
  HfRequest request;
  request.task = task_from_id(decoded[0].as_uint().low_u64());
  request.model = decoded[1].as_string();
  request.text = decoded[2].as_string();
  if (request.task == HfTask::kTextGeneration) {
    request.parameters["max_new_tokens"] = 20;
    request.parameters["return_full_text"] = false;
  }
  return request;
}

json hf_request_body(const HfRequest& request) {
  json body{{"inputs", request.text}};
  if (!request.parameters.empty())
    body["parameters"] = request.parameters;
  return body;
}

json hf_output(const HfRequest& request, const json& reply) {
  switch (request.task) {
    case HfTask::kTextGeneration: {
      const json& first = reply.is_array() && !reply.empty() ? reply[0] : reply;
      if (!first.is_object() || !first.contains("generated_text") ||
          !first["generated_text"].is_string()) {
        throw_bad_reply(request.task, reply);
      }
      return request.details ? first : first["generated_text"];
    }
    case HfTask::kTextClassification: {
      // The API nests the list of one input in another list.
      const json& items =
          reply.is_array() && !reply.empty() && reply[0].is_array() ? reply[0] : reply;
      if (!items.is_array())
        throw_bad_reply(request.task, reply);
      for (const auto& item : items) {
        if (!item.is_object() || !item.contains("label") || !item["label"].is_string() ||
            !item.contains("score") || !item["score"].is_number()) {
          throw_bad_reply(request.task, reply);
        }
      }
      return items;
    }
    case HfTask::kTokenClassification: {
      if (!reply.is_array())
        throw_bad_reply(request.task, reply);
      for (const auto& item : reply) {
        bool has_group = item.is_object() &&
                         ((item.contains("entity_group") && item["entity_group"].is_string()) ||
                          (item.contains("entity") && item["entity"].is_string()));
        if (!has_group || !item.contains("score") || !item["score"].is_number())
          throw_bad_reply(request.task, reply);
      }
      return reply;
    }
    case HfTask::kSummarization: {
      const json& first = reply.is_array() && !reply.empty() ? reply[0] : reply;
      if (!first.is_object() || !first.contains("summary_text") ||
          !first["summary_text"].is_string())
        throw_bad_reply(request.task, reply);
      return json{{"summary_text", first["summary_text"]}};
    }
  }
  throw_bad_reply(request.task, reply);
}

sdk::Bytes encode_hf_output(HfTask task, const json& output) {
  switch (task) {
    case HfTask::kTextGeneration:
      return sdk::abi_encode_string(output.is_string()
                                        ? output.get<std::string>()
                                        : output.at("generated_text").get<std::string>());
    case HfTask::kTextClassification:
      return encode_labels_and_scores(output, "label", "label");
    case HfTask::kTokenClassification:
      return encode_labels_and_scores(output, "entity_group", "entity");
    case HfTask::kSummarization:
      return sdk::abi_encode_string(output.at("summary_text").get<std::string>());
  }
  throw ServiceError(Status::internal_server_error, "unknown task");
}

HfService::HfService(HfConfig config)
    : config_(std::move(config)), base_(Url::parse(config_.base_url)) {}

void HfService::start(sdk::asio::io_context& io) {
  client_ = std::make_unique<HttpClient>(io.get_executor());
  upstream_ = std::make_unique<Upstream>(*client_, config_.retry, config_.timeout,
                                         std::vector<std::string>{config_.token});
}

void HfService::stop() {
  upstream_.reset();
  if (client_)
    client_->clear_idle();
  client_.reset();
}

Awaitable<json> HfService::run(const sdk::Envelope& envelope) const {
  if (envelope.requires_proof)
    throw ServiceError::bad_request(kProofsUnsupported);

  HfRequest request = envelope.onchain_source() ? decode_hf_request(envelope.input_bytes)
                                                : parse_hf_request(envelope.data);
  if (request.model.empty())
    request.model = config_.default_model(request.task);
  check_model_name(request.model, "model");

  HeaderList headers;
  if (!config_.token.empty())
    headers.emplace_back("Authorization", "Bearer " + config_.token);
  spdlog::debug("job task={} model={}", hf_task_name(request.task), request.model);

  json reply = co_await upstream_->post_json("Hugging Face inference API",
                                             base_.with_path("/models/" + request.model),
                                             hf_request_body(request), std::move(headers));
  ready_.store(true);
  json output = hf_output(request, reply);

  if (!envelope.onchain_destination())
    co_return json{{"output", std::move(output)}};
  sdk::OnchainOutput onchain;
  if (envelope.onchain_source())
    onchain.raw_input = envelope.input_bytes;
  onchain.raw_output = encode_hf_output(request.task, output);
  co_return onchain.to_json();
}

Awaitable<std::string> HfService::readiness() const {
  if (ready_.load())
    co_return std::string();
  const ProbeResult probe = co_await upstream_->probe(base_.with_path("/"), kProbeTimeout);
  if (probe.status != 0 && probe.status < 500) {
    spdlog::info("Hugging Face inference API is reachable url={}", base_.redacted());
    ready_.store(true);
    co_return std::string();
  }
  if (probe.status == 0) {
    co_return "Hugging Face inference API " + base_.redacted() +
        " is not reachable yet: " + probe.error;
  }
  co_return "Hugging Face inference API " + base_.redacted() + " is not ready: it replied HTTP " +
      std::to_string(probe.status);
}

}  // namespace infernet::services

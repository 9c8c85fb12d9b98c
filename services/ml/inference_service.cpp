#include "ml/inference_service.hpp"

#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <utility>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::services::ml {
namespace {

namespace asio = boost::asio;
using sdk::ServiceError;

// The value of `name`, with JSON string quotes removed, or nullopt when unset or empty.
std::optional<std::string> environment_value(const std::string& name) {
  const char* raw = std::getenv(name.c_str());
  if (raw == nullptr || *raw == '\0')
    return std::nullopt;
  std::string value = raw;
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    auto parsed = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_string())
      return parsed.get<std::string>();
  }
  return value;
}

std::size_t environment_count(const std::string& name, std::size_t fallback, std::size_t minimum) {
  auto value = environment_value(name);
  if (!value)
    return fallback;
  std::size_t used = 0;
  unsigned long long parsed = 0;
  try {
    parsed = std::stoull(*value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value->size() || (*value)[0] == '-' || parsed < minimum) {
    throw std::invalid_argument("invalid " + name + "=\"" + *value +
                                "\": expected an integer of at least " + std::to_string(minimum));
  }
  return static_cast<std::size_t>(parsed);
}

// Runs one job on the pool; a named coroutine, so the envelope copy lives in its frame.
sdk::Awaitable<nlohmann::json> run_job(InferenceService* service, sdk::Envelope envelope) {
  co_return service->run(envelope);
}

}  // namespace

void InferenceSettings::read_environment(const std::string& prefix) {
  model_directory =
      expand_home(environment_value(prefix + "_CACHE_DIR").value_or("~/.cache/ritual"));
  default_model_id = environment_value(prefix + "_DEFAULT_MODEL_ID").value_or("");
  model_cache_size = environment_count(prefix + "_MODEL_LRU_CACHE_SIZE", 64, 0);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  inference_threads =
      static_cast<unsigned>(environment_count(prefix + "_INFERENCE_THREADS", cores, 1));
}

struct InferenceService::Pool {
  explicit Pool(unsigned threads) : pool(threads) {}
  asio::thread_pool pool;
};

InferenceService::InferenceService(InferenceSettings settings, std::unique_ptr<Engine> engine)
    : settings_(std::move(settings)),
      engine_(std::move(engine)),
      locator_(settings_.model_directory, settings_.model_extensions),
      cache_(settings_.model_cache_size),
      pool_(std::make_unique<Pool>(settings_.inference_threads)) {}

InferenceService::~InferenceService() {
  pool_->pool.join();
}

void InferenceService::preload() {
  if (settings_.default_model_id.empty()) {
    spdlog::info("no default model configured; requests must name a model_id");
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  model_for(settings_.default_model_id);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  spdlog::info("default model loaded model_id={} ms={}", settings_.default_model_id,
               elapsed.count());
}

sdk::Awaitable<nlohmann::json> InferenceService::handle(const sdk::Envelope& envelope) {
  co_return co_await asio::co_spawn(pool_->pool, run_job(this, envelope), asio::use_awaitable);
}

std::shared_ptr<Model> InferenceService::model_for(const std::string& model_id) {
  const auto path = locator_.resolve(model_id);
  return cache_.get_or_load(path.string(), [&]() -> std::shared_ptr<Model> {
    spdlog::info("loading model model_id={} file={}", model_id, path.string());
    try {
      return engine_->load(path);
    } catch (const std::exception& error) {
      // The file exists but is not a model this engine can run: the request named it.
      throw ServiceError::bad_request("cannot load model \"" + model_id + "\": " + error.what());
    }
  });
}

nlohmann::json InferenceService::run(const sdk::Envelope& envelope) {
  if (envelope.requires_proof)
    throw ServiceError::bad_request(settings_.proof_error);

  const InferenceRequest request = envelope.onchain_source()
                                       ? parse_onchain_request(envelope.input_bytes)
                                       : parse_offchain_request(envelope.data);
  const std::string& model_id =
      request.model_id.empty() ? settings_.default_model_id : request.model_id;
  if (model_id.empty()) {
    throw ServiceError::bad_request(
        "missing model_id: this service has no default model, so the request must name one");
  }

  auto model = model_for(model_id);
  const auto started = std::chrono::steady_clock::now();
  auto outputs = model->run(request.inputs);
  spdlog::debug("inference done model_id={} outputs={} us={}", model_id, outputs.size(),
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count());
  if (outputs.empty())
    throw ServiceError(sdk::Status::internal_server_error,
                       "model \"" + model_id + "\" has no output");
  return reply(envelope, request, outputs);
}

nlohmann::json InferenceService::reply(const sdk::Envelope& envelope,
                                       const InferenceRequest& request,
                                       const std::vector<sdk::RitualVector>& outputs) const {
  if (envelope.onchain_destination()) {
    // raw_input stays empty, as in the reference services.
    sdk::OnchainOutput output;
    output.raw_output =
        outputs.front().abi_encode(request.output_arithmetic, request.output_num_decimals);
    return output.to_json();
  }
  if (settings_.offchain_reply == OffchainReply::kFirstVector)
    return outputs.front().to_json();
  nlohmann::json result = nlohmann::json::array();
  for (const auto& output : outputs)
    result.push_back(output.to_json());
  return {{"result", std::move(result)}};
}

int run_inference_service(int argc, char** argv, InferenceSettings settings,
                          const std::string& prefix, std::unique_ptr<Engine> engine) {
  // Logs go to stderr: stdout carries only the "listening on" line.
  auto logger = spdlog::stderr_color_mt(settings.service_name);
  spdlog::set_default_logger(logger);

  std::unique_ptr<InferenceService> inference;
  try {
    settings.read_environment(prefix);
    logger->info("starting engine=\"{}\" model_directory={} cache_size={} inference_threads={}",
                 engine->description(), settings.model_directory.string(),
                 settings.model_cache_size, settings.inference_threads);
    inference = std::make_unique<InferenceService>(std::move(settings), std::move(engine));
    inference->preload();
  } catch (const std::exception& error) {
    logger->error("cannot start: {}", error.what());
    return 1;
  }

  sdk::Service service{inference->settings().service_name};
  // The service object outlives the handler calls: run() returns after the server stopped.
  service.on_job(
      [&inference](const sdk::Envelope& envelope) { return inference->handle(envelope); });
  return service.run(argc, argv);
}

}  // namespace infernet::services::ml

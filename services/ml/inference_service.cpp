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
#include "infernet/sdk/model_id.hpp"
#include "infernet/sdk/resources.hpp"

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

// Runs one inference on the pool; a named coroutine, so the copies live in its frame.
sdk::Awaitable<nlohmann::json> run_inference(InferenceService* service, InferenceRequest request,
                                             std::string model_id, bool onchain_destination) {
  co_return service->infer(request, model_id, onchain_destination);
}

}  // namespace

void InferenceSettings::read_environment(const std::string& prefix) {
  cache_options = sdk::ModelCacheOptions::from_environment(prefix);
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
      model_cache_(settings_.cache_options),
      locator_(settings_.cache_options.directory),
      loaded_models_(settings_.model_cache_size),
      pool_(std::make_unique<Pool>(settings_.inference_threads)) {}

InferenceService::~InferenceService() {
  pool_->pool.join();
}

void InferenceService::preload() {
  const std::string& model_id = settings_.default_model_id;
  if (model_id.empty()) {
    spdlog::info("no default model configured; requests must name a model_id");
    return;
  }
  const auto started = std::chrono::steady_clock::now();
  if (is_repo_model_id(model_id)) {
    // The cache fetches with coroutines; before the service runs, a local I/O context serves.
    asio::io_context io;
    auto fetched = asio::co_spawn(io, model_cache_.fetch(sdk::ModelId::parse(model_id).repo),
                                  asio::use_future);
    io.run();
    fetched.get();
  }
  model_for(model_id);
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  spdlog::info("default model loaded model_id={} ms={}", model_id, elapsed.count());
}

sdk::Awaitable<nlohmann::json> InferenceService::handle(const sdk::Envelope& envelope) {
  if (envelope.requires_proof)
    throw ServiceError::bad_request(settings_.proof_error);

  InferenceRequest request = envelope.onchain_source() ? parse_onchain_request(envelope.input_bytes)
                                                       : parse_offchain_request(envelope.data);
  std::string model_id = request.model_id.empty() ? settings_.default_model_id : request.model_id;
  if (model_id.empty()) {
    throw ServiceError::bad_request(
        "missing model_id: this service has no default model, so the request must name one");
  }

  // Downloads run on the I/O executor; reading and hashing the files happens on the pool.
  if (is_repo_model_id(model_id) && !loaded_models_.contains(model_id))
    co_await model_cache_.fetch(sdk::ModelId::parse(model_id).repo);

  co_return co_await asio::co_spawn(
      pool_->pool,
      run_inference(this, std::move(request), std::move(model_id), envelope.onchain_destination()),
      asio::use_awaitable);
}

std::shared_ptr<Model> InferenceService::model_for(const std::string& model_id) {
  return loaded_models_.get_or_load(model_id, [&]() -> std::shared_ptr<Model> {
    std::filesystem::path path;
    if (is_repo_model_id(model_id)) {
      // open() checks every file of the model against the manifest's sha256.
      auto local = model_cache_.open(sdk::ModelId::parse(model_id));
      path = pick_model_file(local.files, settings_.model_extensions);
    } else {
      path = locator_.resolve(model_id);
    }

    spdlog::info("loading model model_id={} file={}", model_id, path.string());
    try {
      return engine_->load(path);
    } catch (const std::exception& error) {
      // The file exists but is not a model this engine can run: the request named it.
      throw ServiceError::bad_request("cannot load model \"" + model_id + "\": " + error.what());
    }
  });
}

nlohmann::json InferenceService::infer(const InferenceRequest& request, const std::string& model_id,
                                       bool onchain_destination) {
  auto model = model_for(model_id);
  const auto started = std::chrono::steady_clock::now();
  auto outputs = model->run(request.inputs);
  spdlog::debug("inference done model_id={} outputs={} us={}", model_id, outputs.size(),
                std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count());
  if (outputs.empty()) {
    throw ServiceError(sdk::Status::internal_server_error,
                       "model \"" + model_id + "\" has no output");
  }
  return reply(onchain_destination, request, outputs);
}

nlohmann::json InferenceService::reply(bool onchain_destination, const InferenceRequest& request,
                                       const std::vector<sdk::RitualVector>& outputs) const {
  if (onchain_destination) {
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

sdk::Service::ResourcesHandler InferenceService::resources_handler() const {
  sdk::ResourcesOptions options;
  options.service_id = settings_.service_name;
  options.compute_capability = [this] {
    return nlohmann::json::array({sdk::ml_compute_capability(
        settings_.ml_type, {}, nlohmann::json::array(), model_cache_.cached_repos(),
        engine_->name(), engine_->version())});
  };
  // Like the reference: the first file of the model id decides, whether or not it is cached.
  options.supports_model = [this](const std::string& model_id) {
    auto parsed = sdk::ModelId::parse(model_id);
    return !parsed.files.empty() && has_extension(parsed.files.front(), settings_.model_extensions);
  };
  return sdk::make_resources_handler(std::move(options));
}

int run_inference_service(int argc, char** argv, InferenceSettings settings,
                          const std::string& prefix, std::unique_ptr<Engine> engine) {
  // Logs go to stderr: stdout carries only the "listening on" line.
  auto logger = spdlog::stderr_color_mt(settings.service_name);
  spdlog::set_default_logger(logger);

  std::unique_ptr<InferenceService> inference;
  try {
    settings.read_environment(prefix);
    logger->info("starting engine=\"{} {}\" model_directory={} cache_size={} inference_threads={}",
                 engine->name(), engine->version(), settings.cache_options.directory.string(),
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
  service.on_resources(inference->resources_handler());
  return service.run(argc, argv);
}

}  // namespace infernet::services::ml

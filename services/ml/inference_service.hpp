// The job handling shared by the ONNX and Torch inference services: settings from the
// environment, a least-recently-used cache of loaded models, inference on a thread pool and the
// reference's request and reply shapes.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infernet/sdk/envelope.hpp"
#include "infernet/sdk/model_cache.hpp"
#include "infernet/sdk/service.hpp"
#include "infernet/sdk/vector.hpp"
#include "ml/inference_request.hpp"
#include "ml/lru_cache.hpp"
#include "ml/model_locator.hpp"

namespace infernet::services::ml {

/// A loaded model.
class Model {
 public:
  virtual ~Model() = default;

  /// Runs the model on `inputs` and returns its outputs in the model's order. Thread-safe.
  /// Throws ServiceError 400 when the model rejects the inputs (unknown input name, wrong shape
  /// or dtype).
  virtual std::vector<sdk::RitualVector> run(const std::vector<NamedInput>& inputs) = 0;
};

/// Loads model files of one format.
class Engine {
 public:
  virtual ~Engine() = default;

  /// The inference library, e.g. "OpenCV DNN", for logs and /service-resources.
  virtual std::string name() const = 0;
  /// The library's version, e.g. "4.6.0".
  virtual std::string version() const = 0;

  /// Loads the model in `file`. Throws std::runtime_error naming the file when it is not a
  /// valid model of this format.
  virtual std::shared_ptr<Model> load(const std::filesystem::path& file) = 0;
};

/// Form of an off-chain reply.
enum class OffchainReply {
  kResultList,   ///< {"result": [<vector>, ...]}, the ONNX service's form
  kFirstVector,  ///< the first output's vector object itself, the Torch service's form
};

struct InferenceSettings {
  /// The readiness message and log name, e.g. "onnx-inference-service".
  std::string service_name;
  /// The description of the 400 reply to a job that requires a proof.
  std::string proof_error;
  OffchainReply offchain_reply = OffchainReply::kResultList;
  /// The reference's MLType for /service-resources: "onnx" or "torch".
  std::string ml_type;
  /// Used to pick a file from a model id that lists several, e.g. {".onnx"}, and to report
  /// which model ids the service supports.
  std::vector<std::string> model_extensions;

  /// The SDK's model cache. Its directory also contains the models named by relative paths.
  sdk::ModelCacheOptions cache_options;
  /// Loaded at start-up and used by requests without a model id; empty for none.
  std::string default_model_id;
  std::size_t model_cache_size = 64;
  /// Threads that run inference, apart from the HTTP I/O threads.
  unsigned inference_threads = 1;

  /// Reads the model cache's variables (see sdk::ModelCacheOptions::from_environment: among
  /// them <prefix>_CACHE_DIR, default "~/.cache/ritual"), <prefix>_DEFAULT_MODEL_ID,
  /// <prefix>_MODEL_LRU_CACHE_SIZE (default 64) and <prefix>_INFERENCE_THREADS (default: the
  /// number of CPU cores). A value in JSON string quotes is unquoted, as the reference's
  /// configuration loader does. Throws std::invalid_argument naming the variable when a number
  /// is invalid.
  void read_environment(const std::string& prefix);
};

/// Runs inference jobs: parses requests, loads models and builds replies. Thread-safe.
class InferenceService {
 public:
  InferenceService(InferenceSettings settings, std::unique_ptr<Engine> engine);
  ~InferenceService();
  InferenceService(const InferenceService&) = delete;
  InferenceService& operator=(const InferenceService&) = delete;

  /// Loads the default model when one is configured, fetching its repo into the model cache
  /// first. Throws what the cache or the engine throws, so the service does not start with a
  /// broken default model.
  void preload();

  /// Handles a job: checks the proof flag, parses the request, fetches the model's repo into
  /// the model cache when it is missing, then loads and runs the model on the inference thread
  /// pool and builds the reply. Resumes on the caller's executor. Throws ServiceError for every
  /// client error.
  sdk::Awaitable<nlohmann::json> handle(const sdk::Envelope& envelope);

  /// The /service-resources handler: hardware facts read once, the cached repos and the
  /// model ids whose model file has one of the service's extensions.
  sdk::Service::ResourcesHandler resources_handler() const;

  const InferenceSettings& settings() const { return settings_; }
  const LruCache<Model>& loaded_models() const { return loaded_models_; }

  /// Loads `model_id` (or takes it from the loaded models) and runs `request` on the calling
  /// thread. Blocks; handle() calls it on the inference thread pool.
  nlohmann::json infer(const InferenceRequest& request, const std::string& model_id,
                       bool onchain_destination);

 private:
  std::shared_ptr<Model> model_for(const std::string& model_id);
  nlohmann::json reply(bool onchain_destination, const InferenceRequest& request,
                       const std::vector<sdk::RitualVector>& outputs) const;

  InferenceSettings settings_;
  std::unique_ptr<Engine> engine_;
  sdk::ModelCache model_cache_;
  ModelLocator locator_;
  LruCache<Model> loaded_models_;
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

/// The main() of an inference service: reads the settings from the environment with `prefix`,
/// preloads the default model, then serves until SIGTERM or SIGINT. Returns the exit status:
/// 1 when the settings are invalid or the default model does not load.
int run_inference_service(int argc, char** argv, InferenceSettings settings,
                          const std::string& prefix, std::unique_ptr<Engine> engine);

}  // namespace infernet::services::ml

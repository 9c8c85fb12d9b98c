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

  /// The inference library and its version, e.g. "OpenCV DNN 4.6.0", for logs.
  virtual std::string description() const = 0;

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
  /// Used to pick a file from a model id that lists several, e.g. {".onnx"}.
  std::vector<std::string> model_extensions;

  /// Model ids resolve to files under this directory (see ModelLocator).
  std::filesystem::path model_directory;
  /// Loaded at start-up and used by requests without a model id; empty for none.
  std::string default_model_id;
  std::size_t model_cache_size = 64;
  /// Threads that run inference, apart from the HTTP I/O threads.
  unsigned inference_threads = 1;

  /// Reads <prefix>_CACHE_DIR (default "~/.cache/ritual", "~" expanded with $HOME),
  /// <prefix>_DEFAULT_MODEL_ID, <prefix>_MODEL_LRU_CACHE_SIZE (default 64) and
  /// <prefix>_INFERENCE_THREADS (default: the number of CPU cores) into the matching fields. A
  /// value in JSON string quotes is unquoted, as the reference's configuration loader does.
  /// Throws std::invalid_argument naming the variable when a number is invalid.
  void read_environment(const std::string& prefix);
};

/// Runs inference jobs: parses requests, loads models and builds replies. Thread-safe.
class InferenceService {
 public:
  InferenceService(InferenceSettings settings, std::unique_ptr<Engine> engine);
  ~InferenceService();
  InferenceService(const InferenceService&) = delete;
  InferenceService& operator=(const InferenceService&) = delete;

  /// Loads the default model into the cache when one is configured. Throws what the engine or
  /// the locator throws, so the service does not start with a broken default model.
  void preload();

  /// Handles a job on the inference thread pool and resumes on the caller's executor.
  sdk::Awaitable<nlohmann::json> handle(const sdk::Envelope& envelope);

  /// Handles a job on the calling thread: checks the proof flag, parses the request, loads the
  /// model (or takes it from the cache), runs it and builds the reply. Throws ServiceError for
  /// every client error.
  nlohmann::json run(const sdk::Envelope& envelope);

  const InferenceSettings& settings() const { return settings_; }
  const LruCache<Model>& cache() const { return cache_; }

 private:
  std::shared_ptr<Model> model_for(const std::string& model_id);
  nlohmann::json reply(const sdk::Envelope& envelope, const InferenceRequest& request,
                       const std::vector<sdk::RitualVector>& outputs) const;

  InferenceSettings settings_;
  std::unique_ptr<Engine> engine_;
  ModelLocator locator_;
  LruCache<Model> cache_;
  struct Pool;
  std::unique_ptr<Pool> pool_;
};

/// The main() of an inference service: reads the settings from the environment with `prefix`,
/// preloads the default model, then serves until SIGTERM or SIGINT. Returns the exit status:
/// 1 when the settings are invalid or the default model does not load.
int run_inference_service(int argc, char** argv, InferenceSettings settings,
                          const std::string& prefix, std::unique_ptr<Engine> engine);

}  // namespace infernet::services::ml

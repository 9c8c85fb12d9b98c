// hf-service: a client of the Hugging Face inference API (see hf/hf.hpp and hf/README.md).
#include <algorithm>
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "hf/hf.hpp"
#include "infernet/sdk/resources.hpp"
#include "infernet/sdk/service.hpp"

int main(int argc, char** argv) {
  using infernet::sdk::Envelope;

  std::optional<infernet::services::HfService> hf;
  infernet::services::HfConfig config;
  try {
    config = infernet::services::HfConfig::from_environment();
    hf.emplace(config);
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "hf-service: invalid configuration: %s\n", error.what());
    return 2;
  }

  infernet::sdk::Service service{"hf"};
  // The handlers live in the service until run() returns, so the reference stays valid.
  auto& client = *hf;
  service.on_start([&client](infernet::sdk::asio::io_context& io) { client.start(io); },
                   [&client] { client.stop(); });
  // GET /service-resources. NOTE: Ritual's service asks the Hugging Face Hub whether a model
  // has a supported task tag; this one supports exactly its configured default models.
  infernet::sdk::ResourcesOptions resources;
  resources.service_id = "hf-inference-client-service";
  resources.compute_capability = [] {
    return nlohmann::json::array({infernet::sdk::ml_compute_capability(
        "hf_client",
        {"text_generation", "text_classification", "token_classification", "summarization"},
        nlohmann::json::array(), {})});
  };
  resources.supports_model = [models = config.default_models](const std::string& model_id) {
    return std::find(models.begin(), models.end(), model_id) != models.end();
  };
  service.on_resources(infernet::sdk::make_resources_handler(std::move(resources)));
  service.on_readiness([&client] { return client.readiness(); });
  service.on_job([&client](const Envelope& envelope) { return client.run(envelope); });
  return service.run(argc, argv);
}

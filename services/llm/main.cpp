// llm-service: the hosted-LLM proxy (see llm/llm.hpp and llm/README.md).
#include <cstdio>
#include <stdexcept>

#include "infernet/sdk/resources.hpp"
#include "infernet/sdk/service.hpp"
#include "llm/llm.hpp"

int main(int argc, char** argv) {
  using infernet::sdk::Envelope;
  using infernet::sdk::StreamWriter;

  infernet::services::LlmConfig config;
  try {
    config = infernet::services::LlmConfig::from_environment();
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "llm-service: invalid configuration: %s\n", error.what());
    return 2;
  }

  // GET /service-resources: a model id "PROVIDER/model" is supported when that provider has
  // its base URL and, where one is required, its key. NOTE: Ritual's service checks a fixed
  // list of model names as well, which this service does not keep.
  infernet::sdk::ResourcesOptions resources;
  resources.service_id = "css-inference-service";
  resources.compute_capability = [] {
    return nlohmann::json::array({infernet::sdk::ml_compute_capability(
        "css", {"text_generation"}, nlohmann::json::array(), {})});
  };
  resources.supports_model = [config](const std::string& model_id) {
    return infernet::services::provider_serves_model(config, model_id);
  };

  infernet::services::LlmService llm(std::move(config));
  infernet::sdk::Service service{"llm"};
  // The handlers live in the service until run() returns, so the reference stays valid.
  service.on_start([&llm](infernet::sdk::asio::io_context& io) { llm.start(io); },
                   [&llm] { llm.stop(); });
  service.on_resources(infernet::sdk::make_resources_handler(std::move(resources)));
  service.on_job([&llm](const Envelope& envelope) { return llm.run(envelope); });
  service.on_stream([&llm](const Envelope& envelope, StreamWriter& writer) {
    return llm.stream(envelope, writer);
  });
  return service.run(argc, argv);
}

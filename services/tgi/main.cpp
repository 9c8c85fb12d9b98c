// tgi-service: a client of a TGI server (see tgi/tgi.hpp and tgi/README.md).
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "infernet/sdk/resources.hpp"
#include "infernet/sdk/service.hpp"
#include "tgi/tgi.hpp"

int main(int argc, char** argv) {
  using infernet::sdk::Envelope;
  using infernet::sdk::StreamWriter;

  std::optional<infernet::services::TgiService> tgi;
  try {
    tgi.emplace(infernet::services::TgiConfig::from_environment());
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "tgi-service: invalid configuration: %s\n", error.what());
    return 2;
  }

  infernet::sdk::Service service{"tgi"};
  // The handlers live in the service until run() returns, so the reference stays valid.
  auto& client = *tgi;
  service.on_start([&client](infernet::sdk::asio::io_context& io) { client.start(io); },
                   [&client] { client.stop(); });
  // GET /service-resources: like Ritual's service, it supports no model id.
  infernet::sdk::ResourcesOptions resources;
  resources.service_id = "tgi-client-inference-service";
  resources.compute_capability = [] {
    return nlohmann::json::array({infernet::sdk::ml_compute_capability(
        "tgi_client", {"text_generation"}, nlohmann::json::array(), {})});
  };
  service.on_resources(infernet::sdk::make_resources_handler(std::move(resources)));
  service.on_readiness([&client] { return client.readiness(); });
  service.on_job([&client](const Envelope& envelope) { return client.run(envelope); });
  service.on_stream([&client](const Envelope& envelope, StreamWriter& writer) {
    return client.stream(envelope, writer);
  });
  return service.run(argc, argv);
}

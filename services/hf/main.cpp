// hf-service: a client of the Hugging Face inference API (see hf/hf.hpp and hf/README.md).
#include <cstdio>
#include <optional>
#include <stdexcept>

#include "hf/hf.hpp"
#include "infernet/sdk/service.hpp"

int main(int argc, char** argv) {
  using infernet::sdk::Envelope;

  std::optional<infernet::services::HfService> hf;
  try {
    hf.emplace(infernet::services::HfConfig::from_environment());
  } catch (const std::invalid_argument& error) {
    std::fprintf(stderr, "hf-service: invalid configuration: %s\n", error.what());
    return 2;
  }

  infernet::sdk::Service service{"hf"};
  // The handlers live in the service until run() returns, so the reference stays valid.
  auto& client = *hf;
  service.on_start([&client](infernet::sdk::asio::io_context& io) { client.start(io); },
                   [&client] { client.stop(); });
  service.on_readiness([&client] { return client.readiness(); });
  service.on_job([&client](const Envelope& envelope) { return client.run(envelope); });
  return service.run(argc, argv);
}

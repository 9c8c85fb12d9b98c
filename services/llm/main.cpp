// llm-service: the hosted-LLM proxy (see llm/llm.hpp and llm/README.md).
#include <cstdio>
#include <stdexcept>

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

  infernet::services::LlmService llm(std::move(config));
  infernet::sdk::Service service{"llm"};
  // The handlers live in the service until run() returns, so the reference stays valid.
  service.on_start([&llm](infernet::sdk::asio::io_context& io) { llm.start(io); },
                   [&llm] { llm.stop(); });
  service.on_job([&llm](const Envelope& envelope) { return llm.run(envelope); });
  service.on_stream([&llm](const Envelope& envelope, StreamWriter& writer) {
    return llm.stream(envelope, writer);
  });
  return service.run(argc, argv);
}

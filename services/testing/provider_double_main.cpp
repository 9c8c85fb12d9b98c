// provider-double: the test double of remote inference servers (see testing/provider_double.hpp).
// Prints "listening on 127.0.0.1:<port>" once bound; SIGTERM or SIGINT stops it.
#include <csignal>
#include <cstdio>
#include <exception>

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "infra/asio.hpp"
#include "testing/provider_double.hpp"

int main(int argc, char** argv) {
  CLI::App cli{"provider-double: a test double of OpenAI, GooseAI, TGI and Hugging Face servers"};
  std::string bind_address = "127.0.0.1";
  unsigned short port = 0;
  cli.add_option("--bind-address", bind_address, "loopback address to listen on")
      ->capture_default_str();
  cli.add_option("-p,--port", port, "TCP port; 0 picks a free one")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);

  boost::asio::io_context io(1);
  try {
    infernet::services::ProviderDouble provider(io, bind_address, port);
    provider.start();
    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) {
      provider.stop();
      io.stop();
    });
    std::printf("listening on %s:%u\n", bind_address.c_str(),
                static_cast<unsigned>(provider.port()));
    std::fflush(stdout);
    io.run();
  } catch (const std::exception& error) {
    spdlog::error("provider double failed: {}", error.what());
    return 1;
  }
  return 0;
}

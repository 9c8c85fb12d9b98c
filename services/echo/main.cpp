// echo-service: the Infernet echo test service (see echo/echo.hpp).
#include "echo/echo.hpp"
#include "infernet/sdk/service.hpp"

int main(int argc, char** argv) {
  using infernet::sdk::Awaitable;
  using infernet::sdk::Envelope;

  const infernet::services::Echo echo;
  infernet::sdk::Service service{"echo"};
  // The lambda lives in the service until run() returns, so the reference stays valid.
  service.on_job([&echo](const Envelope& envelope) -> Awaitable<nlohmann::json> {
    co_return echo.run(envelope);
  });
  return service.run(argc, argv);
}

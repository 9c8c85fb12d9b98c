// hello-service: replies to every job with a greeting that quotes the request.
#include "hello/hello.hpp"
#include "infernet/sdk/service.hpp"

namespace {

using infernet::sdk::Awaitable;
using infernet::sdk::Envelope;

Awaitable<nlohmann::json> greet(const Envelope& envelope) {
  co_return infernet::services::hello_output(envelope.body);
}

}  // namespace

int main(int argc, char** argv) {
  infernet::sdk::Service service{"hello"};
  service.on_job(greet);
  return service.run(argc, argv);
}

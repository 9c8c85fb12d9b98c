// test-service: a configurable test double for the node's tests (see testing/test_service.hpp).
#include "testing/test_service.hpp"

int main(int argc, char** argv) {
  infernet::services::TestServiceConfig config;
  infernet::sdk::Service service{"test-service"};
  infernet::services::add_test_service_flags(service.cli(), config);
  infernet::services::install_test_service(service, config);
  return service.run(argc, argv);
}

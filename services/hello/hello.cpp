#include "hello/hello.hpp"

#include <string>

#include "core/python_repr.hpp"

namespace infernet::services {

nlohmann::json hello_output(std::string_view request_body) {
  // Parsed again with key order kept: the SDK's envelope sorts keys, Python's dict does not.
  auto body = nlohmann::ordered_json::parse(request_body);
  return nlohmann::json{
      {"output", "hello, world!, your input was: " + inferd::core::python_repr(body)}};
}

}  // namespace infernet::services

// The hello-world service: the starter project's minimal container.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

namespace infernet::services {

/// The reply to any job: {"output": "hello, world!, your input was: <repr>"}, where <repr> is
/// Python's repr() of the whole request body (the envelope), keys in the order received.
nlohmann::json hello_output(std::string_view request_body);

}  // namespace infernet::services

// The node: owns every service, starts them in order and shuts them down.
#pragma once

#include <functional>
#include <memory>

#include "infra/config.hpp"

namespace inferd::node {

/// A configuration the node cannot serve (as opposed to an invalid file). The CLI exits with
/// status 2 and prints the message, like for a ConfigError.
class UnsupportedConfig : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Runs the node until SIGINT or SIGTERM. Returns the process exit status: 0 after a clean
/// shutdown. Throws UnsupportedConfig, or std::runtime_error when start-up fails (e.g. the port
/// is taken or the data directory cannot be opened).
int run_node(const infra::NodeConfig& config);

}  // namespace inferd::node

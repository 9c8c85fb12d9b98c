// inferd: an Infernet node. Parses the command line, then makes one call into the node or a
// client.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/check_command.hpp"
#include "cli/job_command.hpp"
#include "cli/keys_command.hpp"
#include "infra/config.hpp"
#include "node/node.hpp"

namespace {

constexpr int kConfigErrorStatus = 2;

int run_command(const std::optional<std::string>& config_path) {
  inferd::infra::NodeConfig config;
  try {
    config = inferd::infra::load_config(inferd::infra::choose_config_path(config_path));
    return inferd::node::run_node(config);
  } catch (const inferd::infra::ConfigError& error) {
    std::cerr << "inferd: " << error.what() << "\n";
    return kConfigErrorStatus;
  } catch (const inferd::node::UnsupportedConfig& error) {
    std::cerr << "inferd: " << error.what() << "\n";
    return kConfigErrorStatus;
  } catch (const std::exception& error) {
    std::cerr << "inferd: start-up failed: " << error.what() << "\n";
    return 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"inferd: an Infernet node (off-chain jobs over REST, service containers)"};
  app.require_subcommand(1);
  int exit_code = 0;

  std::optional<std::string> config_path;
  auto* run = app.add_subcommand("run", "Run the node until SIGINT or SIGTERM");
  run->add_option("-c,--config", config_path,
                  "Config file (default: $INFERNET_CONFIG_PATH, else ./config.json)");
  run->callback([&] { exit_code = run_command(config_path); });

  inferd::cli::add_check_command(app, exit_code);
  inferd::cli::add_job_command(app, exit_code);
  inferd::cli::add_keys_command(app, exit_code);

  CLI11_PARSE(app, argc, argv);
  return exit_code;
}

// `inferd check`: runs the node's start-up checks (config, wallet key, chain, container images
// and ports, the REST port) and prints one line per check without starting the node.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace inferd::cli {

/// Adds `check [--config FILE]` to `app`; the subcommand sets `exit_code` to run_check's result.
void add_check_command(CLI::App& app, int& exit_code);

/// Loads the config chosen by infra::choose_config_path(`config_path`) and runs every check,
/// writing one line per check to `out`: "<ok|warning|error> <check>: <message>". Returns 0 when
/// no check is an error, 1 otherwise (warnings do not count). An invalid config is one error
/// and ends the run. The wallet key never appears in the output.
int run_check(const std::optional<std::string>& config_path, std::ostream& out);

}  // namespace inferd::cli

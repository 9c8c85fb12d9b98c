// `inferd job …`: a client of a node's REST API.
#pragma once

#include <CLI/CLI.hpp>

namespace inferd::cli {

/// Adds `job submit|get|list|stream|batch` to `app`. Each subcommand sets the process exit
/// status through `exit_code`.
void add_job_command(CLI::App& app, int& exit_code);

}  // namespace inferd::cli

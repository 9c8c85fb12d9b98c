// `inferd keys new|import|address`: creating, importing and inspecting the node's signing key.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace inferd::cli {

/// Adds `keys new|import|address` to `app`. Each subcommand sets the process exit status through
/// `exit_code` (0 on success, 1 on failure, with the reason on standard error).
void add_keys_command(CLI::App& app, int& exit_code);

/// The key source of `keys import` and `keys address`. At most one source is set; with none, the
/// key is read from the first line of standard input.
struct KeySourceOptions {
  std::optional<std::string> keystore;
  std::optional<std::string> password_file;
  std::optional<std::string> private_key_env;
  std::optional<std::string> private_key_file;
  std::optional<std::string> config;  ///< a node config.json: chain.wallet.private_key
};

/// Options of `keys new` and `keys import`.
struct KeystoreOptions {
  std::string keystore;
  std::string password_file;
  std::string kdf = "scrypt";
  std::uint64_t scrypt_n = 262144;
  std::uint32_t pbkdf2_iterations = 262144;
};

// The subcommands' work, callable from tests. Each returns the exit status and writes only the
// address and file paths to `out`, errors to `err`; neither ever receives key material.
int run_keys_new(const KeystoreOptions& options, std::ostream& out, std::ostream& err);
int run_keys_import(const KeystoreOptions& options, const KeySourceOptions& source,
                    std::istream& in, std::ostream& out, std::ostream& err);
int run_keys_address(const KeySourceOptions& source, std::istream& in, std::ostream& out,
                     std::ostream& err);

}  // namespace inferd::cli

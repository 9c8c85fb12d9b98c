#include "cli/keys_command.hpp"

#include <iostream>
#include <memory>

#include <crypto++/misc.h>

#include "chain/wallet_key.hpp"
#include "infra/config.hpp"

namespace inferd::cli {

namespace {

constexpr int kFailureStatus = 1;

core::KeystoreKdf make_kdf(const KeystoreOptions& options) {
  core::KeystoreKdf kdf;
  if (options.kdf == "pbkdf2") {
    kdf.kind = core::KeystoreKdf::Kind::kPbkdf2;
    kdf.pbkdf2_iterations = options.pbkdf2_iterations;
  } else if (options.kdf == "scrypt") {
    kdf.scrypt_n = options.scrypt_n;
  } else {
    throw chain::KeyError("invalid --kdf \"" + options.kdf + "\"; use scrypt or pbkdf2");
  }
  return kdf;
}

core::PrivateKey load_key(const core::Secp256k1Context& context, const KeySourceOptions& source,
                          std::istream& in) {
  const int sources = (source.keystore ? 1 : 0) + (source.private_key_env ? 1 : 0) +
                      (source.private_key_file ? 1 : 0) + (source.config ? 1 : 0);
  if (sources > 1) {
    throw chain::KeyError(
        "choose one key source: --keystore, --private-key-env, --private-key-file or --config");
  }

  if (source.keystore) {
    if (!source.password_file) {
      throw chain::KeyError("missing --password-file, which --keystore requires");
    }
    return chain::private_key_from_keystore(context, *source.keystore, *source.password_file);
  }

  if (source.private_key_env) {
    return chain::private_key_from_env(context, *source.private_key_env);
  }

  if (source.private_key_file) {
    return chain::private_key_from_file(context, *source.private_key_file);
  }

  if (source.config) {
    const infra::NodeConfig config = infra::load_config(*source.config);
    if (!config.chain.wallet || !config.chain.wallet->private_key) {
      throw chain::KeyError("config " + *source.config + " has no chain.wallet.private_key");
    }
    return chain::private_key_from_config(context, *config.chain.wallet->private_key);
  }

  // Standard input keeps the key out of the process list and the shell history.
  std::string line;
  std::getline(in, line);
  auto key = core::PrivateKey::from_hex(context, line);
  CryptoPP::SecureWipeArray(line.data(), line.size());
  if (!key) {
    throw chain::KeyError("invalid private key on standard input: " + key.error().message);
  }
  return *key;
}

// Runs `work`, turning the errors a user can cause into a message and exit status 1.
template <typename Work>
int report_errors(std::ostream& err, Work&& work) {
  try {
    return work();
  } catch (const chain::KeyError& error) {
    err << "inferd keys: " << error.what() << "\n";
  } catch (const infra::ConfigError& error) {
    err << "inferd keys: " << error.what() << "\n";
  }
  return kFailureStatus;
}

void add_keystore_options(CLI::App& command, KeystoreOptions& options) {
  command.add_option("--keystore", options.keystore, "Keystore file to create (mode 0600)")
      ->required();
  command
      .add_option("--password-file", options.password_file,
                  "File holding the keystore password (one trailing newline is ignored)")
      ->required();
  command.add_option("--kdf", options.kdf, "Key derivation: scrypt or pbkdf2")
      ->check(CLI::IsMember({"scrypt", "pbkdf2"}))
      ->capture_default_str();
  command.add_option("--scrypt-n", options.scrypt_n, "scrypt cost N (a power of two)")
      ->capture_default_str();
  command.add_option("--pbkdf2-iterations", options.pbkdf2_iterations, "PBKDF2 iteration count")
      ->capture_default_str();
}

void add_source_options(CLI::App& command, KeySourceOptions& source, bool with_keystore) {
  if (with_keystore) {
    command.add_option("--keystore", source.keystore, "V3 keystore file to read the key from");
    command.add_option("--password-file", source.password_file, "Password file of --keystore");
    command.add_option("--config", source.config,
                       "Node config.json whose chain.wallet.private_key to read");
  }
  command.add_option("--private-key-env", source.private_key_env,
                     "Environment variable holding the private key (hex)");
  command.add_option("--private-key-file", source.private_key_file,
                     "File whose first line is the private key (hex)");
}

// Registers the subcommands; `finish` receives each run's exit status.
template <typename Finish>
void add_subcommands(CLI::App& app, Finish finish) {
  auto* keys = app.add_subcommand("keys", "Create, import and inspect the node's signing key");
  keys->require_subcommand(1);

  auto new_options = std::make_shared<KeystoreOptions>();
  auto* create = keys->add_subcommand("new", "Generate a key and store it in a new keystore");
  add_keystore_options(*create, *new_options);
  create->callback(
      [new_options, finish] { finish(run_keys_new(*new_options, std::cout, std::cerr)); });

  auto import_options = std::make_shared<KeystoreOptions>();
  auto import_source = std::make_shared<KeySourceOptions>();
  auto* import = keys->add_subcommand(
      "import", "Encrypt an existing key into a new keystore (key from stdin by default)");
  add_keystore_options(*import, *import_options);
  add_source_options(*import, *import_source, /*with_keystore=*/false);
  import->callback([import_options, import_source, finish] {
    finish(run_keys_import(*import_options, *import_source, std::cin, std::cout, std::cerr));
});

auto address_source = std::make_shared<KeySourceOptions>();
auto* address = keys->add_subcommand(
    "address",
    "Print the address of a key (from a keystore, a variable, a file, a config or stdin)");
add_source_options(*address, *address_source, /*with_keystore=*/true);
address->callback([address_source, finish] {
  finish(run_keys_address(*address_source, std::cin, std::cout, std::cerr));
});
}  // namespace

}  // namespace inferd::cli

int run_keys_new(const KeystoreOptions& options, std::ostream& out, std::ostream& err) {
  return report_errors(err, [&] {
    const core::Secp256k1Context context(chain::random_bytes32());
    const core::KeystoreKdf kdf = make_kdf(options);
    std::string password = chain::read_password_file(options.password_file);
    const core::PrivateKey key = chain::generate_private_key(context);
    chain::write_keystore_file(context, key, password, kdf, options.keystore);
    CryptoPP::SecureWipeArray(password.data(), password.size());
    out << core::derive_public_key(context, key).address().to_checksum_hex() << "\n";
    err << "inferd keys: created keystore " << options.keystore << "\n";
    return 0;
  });
}

int run_keys_import(const KeystoreOptions& options, const KeySourceOptions& source,
                    std::istream& in, std::ostream& out, std::ostream& err) {
  return report_errors(err, [&] {
    const core::Secp256k1Context context(chain::random_bytes32());
    const core::KeystoreKdf kdf = make_kdf(options);
    const core::PrivateKey key = load_key(context, source, in);
    std::string password = chain::read_password_file(options.password_file);
    chain::write_keystore_file(context, key, password, kdf, options.keystore);
    CryptoPP::SecureWipeArray(password.data(), password.size());
    out << core::derive_public_key(context, key).address().to_checksum_hex() << "\n";
    err << "inferd keys: created keystore " << options.keystore << "\n";
    return 0;
  });
}

int run_keys_address(const KeySourceOptions& source, std::istream& in, std::ostream& out,
                     std::ostream& err) {
  return report_errors(err, [&] {
    const core::Secp256k1Context context;
    const core::PrivateKey key = load_key(context, source, in);
    out << core::derive_public_key(context, key).address().to_checksum_hex() << "\n";
    return 0;
  });
}

void add_keys_command(CLI::App& app, int& exit_code) {
  add_subcommands(app, [&exit_code](int status) { exit_code = status; });
}

}  // namespace inferd::cli

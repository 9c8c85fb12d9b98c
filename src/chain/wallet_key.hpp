// Loading the node's signing key: from the config value `chain.wallet.private_key`, from an
// environment variable, or from an Ethereum V3 keystore file with a password file; and creating
// new keys and keystore files. Error messages name the source (variable, file), never the key.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/keystore.hpp"
#include "core/secp256k1.hpp"
#include "infra/config.hpp"

namespace inferd::chain {

/// A key could not be loaded or stored. The message names the source and the fix and never
/// contains key material or a password.
class KeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses the config value `chain.wallet.private_key` (64 hex digits, with or without "0x").
/// Throws KeyError.
core::PrivateKey private_key_from_config(const core::Secp256k1Context& context,
                                         std::string_view value);

/// Reads a hex private key from the environment variable `variable`. Throws KeyError when the
/// variable is unset, empty or not a valid key.
core::PrivateKey private_key_from_env(const core::Secp256k1Context& context,
                                      const std::string& variable);

/// Reads a hex private key from the first line of a file. Throws KeyError.
core::PrivateKey private_key_from_file(const core::Secp256k1Context& context,
                                       const std::filesystem::path& path);

/// Reads a password file: its whole content without one trailing "\n" or "\r\n".
/// Throws KeyError when the file cannot be read.
std::string read_password_file(const std::filesystem::path& path);

/// Decrypts a V3 keystore file with the password in `password_file`. Throws KeyError naming the
/// keystore path, with "wrong password" when the MAC check fails.
core::PrivateKey private_key_from_keystore(const core::Secp256k1Context& context,
                                           const std::filesystem::path& keystore,
                                           const std::filesystem::path& password_file);

/// Loads the node's key from whichever source `wallet` configures: private_key,
/// private_key_env, or keystore with password_file. Throws KeyError naming the source.
core::PrivateKey private_key_from_wallet_config(const core::Secp256k1Context& context,
                                                const infra::WalletConfig& wallet);

/// 32 bytes from OpenSSL's CSPRNG (RAND_bytes); throws KeyError if it fails.
core::Bytes32 random_bytes32();

/// A new private key drawn from OpenSSL's CSPRNG.
core::PrivateKey generate_private_key(const core::Secp256k1Context& context);

/// Encrypts `key` into a new keystore file created with mode 0600. Refuses to overwrite an
/// existing file. Throws KeyError.
void write_keystore_file(const core::Secp256k1Context& context, const core::PrivateKey& key,
                         std::string_view password, const core::KeystoreKdf& kdf,
                         const std::filesystem::path& path);

}  // namespace inferd::chain

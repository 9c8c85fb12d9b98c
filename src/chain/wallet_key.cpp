#include "chain/wallet_key.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <crypto++/misc.h>
#include <openssl/rand.h>

namespace inferd::chain {

namespace {

std::string read_file(const std::filesystem::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw KeyError(std::string("cannot read ") + what + " " + path.string() + ": " +
                   std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void wipe(std::string& secret) {
  CryptoPP::SecureWipeArray(secret.data(), secret.size());
  secret.clear();
}

}  // namespace

core::PrivateKey private_key_from_config(const core::Secp256k1Context& context,
                                         std::string_view value) {
  auto key = core::PrivateKey::from_hex(context, value);
  if (!key) {
    throw KeyError("invalid chain.wallet.private_key: " + key.error().message +
                   "; expected 64 hex digits, with or without 0x");
  }
  return *key;
}

core::PrivateKey private_key_from_env(const core::Secp256k1Context& context,
                                      const std::string& variable) {
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr || *value == '\0') {
    throw KeyError("environment variable " + variable + " is not set or empty; set it to the " +
                   "node's private key (64 hex digits)");
  }
  auto key = core::PrivateKey::from_hex(context, value);
  if (!key) {
    throw KeyError("invalid private key in environment variable " + variable + ": " +
                   key.error().message);
  }
  return *key;
}

core::PrivateKey private_key_from_file(const core::Secp256k1Context& context,
                                       const std::filesystem::path& path) {
  std::string content = read_file(path, "private key file");
  const std::string first_line = content.substr(0, content.find('\n'));
  auto key = core::PrivateKey::from_hex(context, first_line);
  wipe(content);
  if (!key) {
    throw KeyError("invalid private key in " + path.string() + ": " + key.error().message);
  }
  return *key;
}

std::string read_password_file(const std::filesystem::path& path) {
  std::string password = read_file(path, "password file");
  if (!password.empty() && password.back() == '\n') {
    password.pop_back();
    if (!password.empty() && password.back() == '\r') {
      password.pop_back();
    }
  }
  return password;
}

core::PrivateKey private_key_from_keystore(const core::Secp256k1Context& context,
                                           const std::filesystem::path& keystore,
                                           const std::filesystem::path& password_file) {
  const std::string json = read_file(keystore, "keystore");
  std::string password = read_password_file(password_file);
  auto key = core::decrypt_keystore(context, json, password);
  wipe(password);
  if (!key) {
    if (key.error().code == core::Errc::kWrongPassword) {
      throw KeyError("cannot decrypt keystore " + keystore.string() + ": wrong password in " +
                     password_file.string() + " (or a corrupt keystore)");
    }
    throw KeyError("cannot decrypt keystore " + keystore.string() + ": " + key.error().message);
  }
  return *key;
}

core::Bytes32 random_bytes32() {
  core::Bytes32 out;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    throw KeyError("OpenSSL RAND_bytes failed to produce random bytes");
  }
  return out;
}

core::PrivateKey generate_private_key(const core::Secp256k1Context& context) {
  // A random 32-byte string is a valid key unless it is zero or >= n (probability ~2^-128), so
  // a retry practically never happens; the bound only guards against a broken generator.
  for (int attempt = 0; attempt < 16; ++attempt) {
    core::Bytes32 candidate = random_bytes32();
    auto key = core::PrivateKey::from_bytes(context, candidate.view());
    CryptoPP::SecureWipeArray(candidate.data(), candidate.size());
    if (key) {
      return *key;
    }
  }
  throw KeyError("could not generate a valid private key: the random generator looks broken");
}

void write_keystore_file(const core::Secp256k1Context& context, const core::PrivateKey& key,
                         std::string_view password, const core::KeystoreKdf& kdf,
                         const std::filesystem::path& path) {
  core::KeystoreRandomness randomness;
  randomness.salt = random_bytes32();
  const core::Bytes32 more = random_bytes32();
  std::copy(more.bytes.begin(), more.bytes.begin() + 16, randomness.iv.bytes.begin());
  std::copy(more.bytes.begin() + 16, more.bytes.end(), randomness.uuid.bytes.begin());

  auto json = core::encrypt_keystore(context, key, password, kdf, randomness);
  if (!json) {
    throw KeyError("cannot encrypt keystore: " + json.error().message);
  }

  // O_EXCL: never replace an existing keystore, which may hold the only copy of a key.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw KeyError(
        "cannot create keystore " + path.string() + ": " + std::strerror(errno) +
        (errno == EEXIST ? " (choose a new path; existing keystores are not replaced)" : ""));
  }
  const std::string content = *json + "\n";
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int error = errno;
      ::close(fd);
      throw KeyError("cannot write keystore " + path.string() + ": " + std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    throw KeyError("cannot write keystore " + path.string() + ": " + std::strerror(errno));
  }
}

core::PrivateKey private_key_from_wallet_config(const core::Secp256k1Context& context,
                                                const infra::WalletConfig& wallet) {
  if (wallet.private_key)
    return private_key_from_config(context, *wallet.private_key);
  if (wallet.private_key_env && !wallet.private_key_env->empty())
    return private_key_from_env(context, *wallet.private_key_env);
  if (wallet.keystore && !wallet.keystore->empty()) {
    return private_key_from_keystore(context, *wallet.keystore, wallet.password_file.value_or(""));
  }
  throw KeyError(
      "chain.wallet names no key: set private_key, private_key_env, or keystore with "
      "password_file");
}

}  // namespace inferd::chain

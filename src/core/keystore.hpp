// Ethereum V3 keystores ("Web3 Secret Storage"): decryption and encryption of a private key
// with scrypt or PBKDF2-HMAC-SHA256, AES-128-CTR and a keccak-256 MAC. Pure: the caller reads
// files and supplies randomness.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "core/secp256k1.hpp"

namespace inferd::core {

/// Key-derivation settings for a new keystore.
struct KeystoreKdf {
  enum class Kind { kScrypt, kPbkdf2 };
  Kind kind = Kind::kScrypt;
  /// scrypt: N (a power of two). geth's "standard" setting is 2^18, its "light" one 2^12.
  std::uint64_t scrypt_n = 1u << 18;
  std::uint32_t scrypt_r = 8;
  std::uint32_t scrypt_p = 1;
  /// PBKDF2: iteration count.
  std::uint32_t pbkdf2_iterations = 262144;
};

/// The random inputs of a new keystore, drawn by the caller from a CSPRNG.
struct KeystoreRandomness {
  Bytes32 salt;
  FixedBytes<16> iv;
  FixedBytes<16> uuid;  ///< becomes the "id" field (a version-4 UUID is formed from it)
};

/// Decrypts a V3 keystore given as JSON text. Accepts "crypto" or "Crypto", kdf "scrypt" or
/// "pbkdf2" (prf "hmac-sha256"), cipher "aes-128-ctr", dklen 32. Fails with kKeystore for a
/// malformed or unsupported file (naming the field), kWrongPassword when the MAC does not
/// match, and kInvalidPrivateKey when the decrypted bytes are not a valid key. Limits the
/// scrypt cost to N*r <= 2^22 (512 MiB of memory, twice geth's default) and p <= 16, and PBKDF2
/// to 10^7 iterations, so a hostile file cannot exhaust memory or stall the node.
Result<PrivateKey> decrypt_keystore(const Secp256k1Context& context, std::string_view json,
                                    std::string_view password);

/// Encrypts `key` into V3 keystore JSON text (with the lowercase "address" field).
Result<std::string> encrypt_keystore(const Secp256k1Context& context, const PrivateKey& key,
                                     std::string_view password, const KeystoreKdf& kdf,
                                     const KeystoreRandomness& randomness);

/// Returns the "address" field of a keystore without decrypting it, if present and valid.
Result<Address> keystore_address(std::string_view json);

}  // namespace inferd::core

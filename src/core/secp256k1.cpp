#include "core/secp256k1.hpp"

#include <cctype>
#include <stdexcept>

#include <crypto++/misc.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "core/hex.hpp"
#include "core/keccak.hpp"

namespace inferd::core {

Secp256k1Context::Secp256k1Context(const std::optional<Bytes32>& randomization_seed)
    : context_(secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY)) {
  if (context_ == nullptr) {
    throw std::bad_alloc();
  }
  if (randomization_seed) {
    // Fails only for a seed that is not a valid scalar, which a CSPRNG output practically never
    // is. The context then stays unblinded but correct, so the result is not an error.
    const int randomized = secp256k1_context_randomize(context_, randomization_seed->data());
    static_cast<void>(randomized);
  }
}

Secp256k1Context::~Secp256k1Context() {
  secp256k1_context_destroy(context_);
}

PrivateKey::~PrivateKey() {
  CryptoPP::SecureWipeArray(secret_.data(), secret_.size());
}

Result<PrivateKey> PrivateKey::from_bytes(const Secp256k1Context& context, ByteView bytes) {
  if (bytes.size() != 32) {
    return make_error(Errc::kInvalidPrivateKey,
                      "a private key has 32 bytes, got " + std::to_string(bytes.size()));
  }
  PrivateKey key;
  std::copy(bytes.begin(), bytes.end(), key.secret_.bytes.begin());
  if (secp256k1_ec_seckey_verify(context.get(), key.secret_.data()) != 1) {
    return make_error(Errc::kInvalidPrivateKey,
                      "the private key is zero or not below the secp256k1 group order");
  }
  return key;
}

Result<PrivateKey> PrivateKey::from_hex(const Secp256k1Context& context, std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  const std::string_view digits = strip_hex_prefix(text);
  if (digits.size() != 64) {
    return make_error(Errc::kInvalidPrivateKey,
                      "a private key needs 64 hex digits, got " + std::to_string(digits.size()));
  }
  auto bytes = core::from_hex(digits);
  if (!bytes) {
    // The message of from_hex names a position only, never the digits.
    return make_error(Errc::kInvalidPrivateKey, "invalid private key: " + bytes.error().message);
  }
  auto key = from_bytes(context, *bytes);
  CryptoPP::SecureWipeArray(bytes->data(), bytes->size());
  return key;
}

Address PublicKey::address() const {
  const Bytes32 hash = keccak256(xy.view());
  return *Address::from_view(hash.view().subspan(12));
}

FixedBytes<65> RecoverableSignature::to_rsv() const {
  FixedBytes<65> out;
  std::copy(r.bytes.begin(), r.bytes.end(), out.bytes.begin());
  std::copy(s.bytes.begin(), s.bytes.end(), out.bytes.begin() + 32);
  out[64] = static_cast<std::uint8_t>(27 + recovery_id);
  return out;
}

Result<RecoverableSignature> RecoverableSignature::from_rsv(ByteView bytes) {
  if (bytes.size() != 65) {
    return make_error(Errc::kInvalidSignature,
                      "a signature has 65 bytes (r, s, v), got " + std::to_string(bytes.size()));
  }
  std::uint8_t v = bytes[64];
  if (v >= 27) {
    v = static_cast<std::uint8_t>(v - 27);
  }
  if (v > 1) {
    return make_error(Errc::kInvalidSignature,
                      "signature v must be 0, 1, 27 or 28, got " + std::to_string(bytes[64]));
  }
  RecoverableSignature signature;
  std::copy(bytes.begin(), bytes.begin() + 32, signature.r.bytes.begin());
  std::copy(bytes.begin() + 32, bytes.begin() + 64, signature.s.bytes.begin());
  signature.recovery_id = v;
  return signature;
}

PublicKey derive_public_key(const Secp256k1Context& context, const PrivateKey& key) {
  secp256k1_pubkey pubkey;
  // Cannot fail: the key was validated with secp256k1_ec_seckey_verify when it was built.
  if (secp256k1_ec_pubkey_create(context.get(), &pubkey, key.secret().data()) != 1) {
    throw std::logic_error("secp256k1_ec_pubkey_create rejected a validated private key");
  }
  std::uint8_t serialized[65];
  std::size_t length = sizeof(serialized);
  secp256k1_ec_pubkey_serialize(context.get(), serialized, &length, &pubkey,
                                SECP256K1_EC_UNCOMPRESSED);
  PublicKey out;
  std::copy(serialized + 1, serialized + 65, out.xy.bytes.begin());
  return out;
}

RecoverableSignature sign_hash(const Secp256k1Context& context, const PrivateKey& key,
                               const Bytes32& hash) {
  secp256k1_ecdsa_recoverable_signature signature;
  // With the default RFC 6979 nonce function this fails only for an invalid key, which
  // PrivateKey excludes.
  if (secp256k1_ecdsa_sign_recoverable(context.get(), &signature, hash.data(), key.secret().data(),
                                       nullptr, nullptr) != 1) {
    throw std::logic_error("secp256k1_ecdsa_sign_recoverable failed for a validated key");
  }
  std::uint8_t compact[64];
  int recovery_id = 0;
  secp256k1_ecdsa_recoverable_signature_serialize_compact(context.get(), compact, &recovery_id,
                                                          &signature);
  RecoverableSignature out;
  std::copy(compact, compact + 32, out.r.bytes.begin());
  std::copy(compact + 32, compact + 64, out.s.bytes.begin());
  out.recovery_id = static_cast<std::uint8_t>(recovery_id);
  return out;
}

Result<PublicKey> recover_public_key(const Secp256k1Context& context, const Bytes32& hash,
                                     const RecoverableSignature& signature) {
  if (signature.recovery_id > 1) {
    return make_error(Errc::kInvalidSignature,
                      "recovery id must be 0 or 1, got " + std::to_string(signature.recovery_id));
  }
  std::uint8_t compact[64];
  std::copy(signature.r.bytes.begin(), signature.r.bytes.end(), compact);
  std::copy(signature.s.bytes.begin(), signature.s.bytes.end(), compact + 32);
  secp256k1_ecdsa_recoverable_signature parsed;
  if (secp256k1_ecdsa_recoverable_signature_parse_compact(context.get(), &parsed, compact,
                                                          signature.recovery_id) != 1) {
    return make_error(Errc::kInvalidSignature, "signature r or s is not below the group order");
  }
  secp256k1_pubkey pubkey;
  if (secp256k1_ecdsa_recover(context.get(), &pubkey, &parsed, hash.data()) != 1) {
    return make_error(Errc::kInvalidSignature, "no public key recovers from the signature");
  }
  std::uint8_t serialized[65];
  std::size_t length = sizeof(serialized);
  secp256k1_ec_pubkey_serialize(context.get(), serialized, &length, &pubkey,
                                SECP256K1_EC_UNCOMPRESSED);
  PublicKey out;
  std::copy(serialized + 1, serialized + 65, out.xy.bytes.begin());
  return out;
}

Result<Address> recover_address(const Secp256k1Context& context, const Bytes32& hash,
                                const RecoverableSignature& signature) {
  auto key = recover_public_key(context, hash, signature);
  if (!key) {
    return key.error();
  }
  return key->address();
}

}  // namespace inferd::core

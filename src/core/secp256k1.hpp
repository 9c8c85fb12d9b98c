// secp256k1 ECDSA with recovery ids (libsecp256k1 and its recovery module): private keys,
// public keys, Ethereum addresses, signing of 32-byte hashes and public-key recovery.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>

#include "core/address.hpp"
#include "core/bytes.hpp"
#include "core/result.hpp"

struct secp256k1_context_struct;

namespace inferd::core {

/// Owns one libsecp256k1 context. Create one per process (creation costs about a millisecond)
/// and pass it by reference. After construction the signing, derivation and recovery functions
/// below may use it from several threads at once, because they only read it.
class Secp256k1Context {
 public:
  /// Creates a context. A `randomization_seed` (32 bytes from a CSPRNG) blinds the signing
  /// computations against side channels; the core does no I/O, so the caller supplies it.
  explicit Secp256k1Context(const std::optional<Bytes32>& randomization_seed = std::nullopt);
  ~Secp256k1Context();
  Secp256k1Context(const Secp256k1Context&) = delete;
  Secp256k1Context& operator=(const Secp256k1Context&) = delete;

  const secp256k1_context_struct* get() const { return context_; }

 private:
  secp256k1_context_struct* context_;
};

/// A secp256k1 private key: 32 bytes in [1, n-1]. The bytes are wiped on destruction, and the
/// stream operator prints a placeholder, never the key. Copying is allowed but deliberate.
class PrivateKey {
 public:
  /// Validates 32 bytes; fails with kInvalidPrivateKey for another size, zero or >= n.
  /// The error message never contains key material.
  static Result<PrivateKey> from_bytes(const Secp256k1Context& context, ByteView bytes);

  /// Parses 64 hex digits with or without "0x" (surrounding whitespace is ignored); fails with
  /// kInvalidPrivateKey, naming only the length or the problem, never the text.
  static Result<PrivateKey> from_hex(const Secp256k1Context& context, std::string_view text);

  PrivateKey(const PrivateKey&) = default;
  PrivateKey& operator=(const PrivateKey&) = default;
  ~PrivateKey();

  /// The raw secret, for signing and keystore encryption only. Never log or format it.
  ByteView secret() const { return secret_.view(); }

  friend std::ostream& operator<<(std::ostream& out, const PrivateKey&) {
    return out << "PrivateKey(redacted)";
  }

 private:
  PrivateKey() = default;
  Bytes32 secret_;
};

/// An uncompressed public key without the 0x04 prefix: x ‖ y, 64 bytes.
struct PublicKey {
  FixedBytes<64> xy;

  /// The Ethereum address: the last 20 bytes of keccak256(x ‖ y).
  Address address() const;

  friend bool operator==(const PublicKey&, const PublicKey&) = default;
};

/// An ECDSA signature with its recovery id (0 or 1; y-parity of the nonce point).
struct RecoverableSignature {
  Bytes32 r;
  Bytes32 s;
  std::uint8_t recovery_id = 0;

  /// r ‖ s ‖ v with v = 27 + recovery_id: the 65-byte form of eth_sign and ecrecover.
  FixedBytes<65> to_rsv() const;

  /// Parses r ‖ s ‖ v, accepting v as 0/1 or 27/28; fails with kInvalidSignature.
  static Result<RecoverableSignature> from_rsv(ByteView bytes);

  friend bool operator==(const RecoverableSignature&, const RecoverableSignature&) = default;
};

/// Derives the public key of `key`.
PublicKey derive_public_key(const Secp256k1Context& context, const PrivateKey& key);

/// Signs a 32-byte hash with an RFC 6979 deterministic nonce. The result has a low s
/// (s <= n/2), as Ethereum's EIP-2 requires for transactions.
RecoverableSignature sign_hash(const Secp256k1Context& context, const PrivateKey& key,
                               const Bytes32& hash);

/// Recovers the public key that produced `signature` over `hash`; fails with
/// kInvalidSignature when r or s is out of range or no point recovers.
Result<PublicKey> recover_public_key(const Secp256k1Context& context, const Bytes32& hash,
                                     const RecoverableSignature& signature);

/// Recovers the signer's address (what Solidity's ecrecover returns for a valid signature).
Result<Address> recover_address(const Secp256k1Context& context, const Bytes32& hash,
                                const RecoverableSignature& signature);

}  // namespace inferd::core

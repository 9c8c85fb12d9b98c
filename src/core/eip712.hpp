// EIP-712 typed-data hashing, with the Infernet coordinator's DelegateSubscription type.
#pragma once

#include <cstdint>
#include <string>

#include "core/address.hpp"
#include "core/bytes.hpp"
#include "core/u256.hpp"

namespace inferd::core {

/// An EIP-712 domain with the fields name, version, chainId and verifyingContract (no salt),
/// which is the domain the Infernet EIP712Coordinator uses ("InfernetCoordinator", "1").
struct Eip712Domain {
  std::string name;
  std::string version;
  U256 chain_id;
  Address verifying_contract;

  /// keccak256(abi.encode(typeHash, keccak256(name), keccak256(version), chainId,
  /// verifyingContract)) with typeHash = keccak256("EIP712Domain(string name,string version,
  /// uint256 chainId,address verifyingContract)").
  Bytes32 separator() const;
};

/// The digest that is signed: keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ structHash).
Bytes32 eip712_digest(const Bytes32& domain_separator, const Bytes32& struct_hash);

/// The Infernet coordinator's Subscription struct, in declaration order.
struct Subscription {
  Address owner;
  std::uint32_t active_at = 0;
  std::uint32_t period = 0;
  std::uint32_t frequency = 0;
  std::uint16_t redundancy = 0;
  Bytes32 container_id;  ///< keccak256(abi.encode(string)) of the container list, not the text
  bool lazy = false;
  Address verifier;
  U256 payment_amount;
  Address payment_token;
  Address wallet;
};

/// The EIP-712 type string of Subscription (its type hash is keccak256 of it).
inline constexpr const char* kSubscriptionType =
    "Subscription(address owner,uint32 activeAt,uint32 period,uint32 frequency,"
    "uint16 redundancy,bytes32 containerId,bool lazy,address verifier,uint256 paymentAmount,"
    "address paymentToken,address wallet)";

/// The EIP-712 type string of DelegateSubscription: its own fields, then the referenced
/// Subscription type appended, as EIP-712's encodeType requires.
inline constexpr const char* kDelegateSubscriptionType =
    "DelegateSubscription(uint32 nonce,uint32 expiry,Subscription sub)"
    "Subscription(address owner,uint32 activeAt,uint32 period,uint32 frequency,"
    "uint16 redundancy,bytes32 containerId,bool lazy,address verifier,uint256 paymentAmount,"
    "address paymentToken,address wallet)";

/// hashStruct(Subscription): keccak256 of the type hash followed by the 11 fields, each as one
/// 32-byte word (containerId is already a bytes32 and is not hashed again).
Bytes32 subscription_struct_hash(const Subscription& subscription);

/// hashStruct(DelegateSubscription) = keccak256(abi.encode(typeHash, nonce, expiry,
/// hashStruct(sub))).
Bytes32 delegate_subscription_struct_hash(std::uint32_t nonce, std::uint32_t expiry,
                                          const Subscription& subscription);

/// The digest a subscriber signs to delegate `subscription` with `nonce` and `expiry`.
Bytes32 delegate_subscription_digest(const Eip712Domain& domain, std::uint32_t nonce,
                                     std::uint32_t expiry, const Subscription& subscription);

}  // namespace inferd::core

// The Infernet SDK contracts' ABI as the node uses it: the Subscription tuple, calldata of the
// calls the node sends, storage-mapping keys, container-set ids and the custom errors by name.
// Selectors and layouts are those of the Infernet SDK v1 contracts (Coordinator,
// EIP712Coordinator, Reader, Registry, WalletFactory, Wallet).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/abi.hpp"
#include "core/eip712.hpp"
#include "core/secp256k1.hpp"

namespace inferd::core::infernet {

/// The canonical tuple type of Subscription: 11 static fields, 352 bytes when encoded.
inline constexpr const char* kSubscriptionTuple =
    "(address,uint32,uint32,uint32,uint16,bytes32,bool,address,uint256,address,address)";

/// `activeAt` of a cancelled subscription (type(uint32).max).
inline constexpr std::uint32_t kCancelledActiveAt = 0xffffffff;

/// Converts a Subscription to its ABI tuple value, in declaration order.
abi::AbiValue to_abi(const Subscription& subscription);

/// Reads a decoded Subscription tuple; fails with kAbiValueMismatch on another shape.
Result<Subscription> subscription_from_abi(const abi::AbiValue& value);

/// Decodes the return data of `getSubscription(uint32)`.
Result<Subscription> decode_subscription(ByteView return_data);

/// Decodes the return data of `Reader.readSubscriptionBatch(uint32,uint32)`.
Result<std::vector<Subscription>> decode_subscription_batch(ByteView return_data);

/// Decodes the return data of `Reader.readRedundancyCountBatch(uint32[],uint32[])`.
Result<std::vector<std::uint16_t>> decode_redundancy_counts(ByteView return_data);

/// Calldata of `deliverCompute(uint32,uint32,bytes,bytes,bytes,address)` (0xc509543d).
Bytes encode_deliver_compute(std::uint32_t subscription_id, std::uint32_t interval, ByteView input,
                             ByteView output, ByteView proof, const Address& node_wallet);

/// Calldata of `deliverComputeDelegatee(uint32,uint32,SUB,uint8,bytes32,bytes32,uint32,bytes,
/// bytes,bytes,address)` (0x9fff314a); v is 27 or 28 as the coordinator's ecrecover expects.
Bytes encode_deliver_compute_delegatee(std::uint32_t nonce, std::uint32_t expiry,
                                       const Subscription& subscription,
                                       const RecoverableSignature& signature,
                                       std::uint32_t interval, ByteView input, ByteView output,
                                       ByteView proof, const Address& node_wallet);

/// Key of `redundancyCount`: keccak256(abi.encode(uint32 id, uint32 interval)).
Bytes32 redundancy_key(std::uint32_t subscription_id, std::uint32_t interval);

/// Key of `nodeResponded`: keccak256(abi.encode(uint32 id, uint32 interval, address node)).
Bytes32 node_responded_key(std::uint32_t subscription_id, std::uint32_t interval,
                           const Address& node);

/// Key of `delegateCreatedIds`: keccak256(abi.encode(address owner, uint32 nonce)).
Bytes32 delegate_key(const Address& owner, std::uint32_t nonce);

/// A subscription's containerId for an ordered container list:
/// keccak256(abi.encode(string)) of the ids joined with ",".
Bytes32 container_set_id(const std::vector<std::string>& container_ids);

/// The custom errors of the Infernet contracts (and the Solady libraries they use).
enum class InfernetError {
  kInvalidWallet,
  kIntervalMismatch,
  kIntervalCompleted,
  kUnauthorizedVerifier,
  kNodeRespondedAlready,
  kSubscriptionNotFound,
  kProofRequestNotFound,
  kNotSubscriptionOwner,
  kSubscriptionCompleted,
  kSubscriptionNotActive,
  kUnsupportedVerifierToken,
  kSignerMismatch,
  kSignatureExpired,
  kInvalidSignature,
  kReentrancy,
  kNotCoordinator,
  kNodeNotAllowed,
  kInsufficientFunds,
  kInsufficientAllowance,
  kEthTransferFailed,
  kTransferFailed,
  kUnauthorized,
};

/// The error's Solidity name, e.g. "NodeRespondedAlready".
std::string_view error_name(InfernetError error);

/// A table of every InfernetError declaration, for abi::decode_revert.
abi::ErrorTable make_error_table();

/// The Infernet error a revert carries, if it is one of them.
std::optional<InfernetError> classify_revert(const abi::RevertReason& reason);

/// Whether the error means another node won a race for the same interval or the subscription
/// needs no more deliveries (NodeRespondedAlready, IntervalCompleted, SubscriptionCompleted), so
/// the attempt should end quietly rather than be reported as a failure.
bool is_benign_race(InfernetError error);

}  // namespace inferd::core::infernet

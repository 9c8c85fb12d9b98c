#include "core/infernet.hpp"

#include <array>
#include <utility>

#include "core/keccak.hpp"

namespace inferd::core::infernet {

namespace {

using abi::AbiValue;

const std::array<std::pair<InfernetError, const char*>, 22> kErrors = {{
    {InfernetError::kInvalidWallet, "InvalidWallet"},
    {InfernetError::kIntervalMismatch, "IntervalMismatch"},
    {InfernetError::kIntervalCompleted, "IntervalCompleted"},
    {InfernetError::kUnauthorizedVerifier, "UnauthorizedVerifier"},
    {InfernetError::kNodeRespondedAlready, "NodeRespondedAlready"},
    {InfernetError::kSubscriptionNotFound, "SubscriptionNotFound"},
    {InfernetError::kProofRequestNotFound, "ProofRequestNotFound"},
    {InfernetError::kNotSubscriptionOwner, "NotSubscriptionOwner"},
    {InfernetError::kSubscriptionCompleted, "SubscriptionCompleted"},
    {InfernetError::kSubscriptionNotActive, "SubscriptionNotActive"},
    {InfernetError::kUnsupportedVerifierToken, "UnsupportedVerifierToken"},
    {InfernetError::kSignerMismatch, "SignerMismatch"},
    {InfernetError::kSignatureExpired, "SignatureExpired"},
    {InfernetError::kInvalidSignature, "InvalidSignature"},
    {InfernetError::kReentrancy, "Reentrancy"},
    {InfernetError::kNotCoordinator, "NotCoordinator"},
    {InfernetError::kNodeNotAllowed, "NodeNotAllowed"},
    {InfernetError::kInsufficientFunds, "InsufficientFunds"},
    {InfernetError::kInsufficientAllowance, "InsufficientAllowance"},
    {InfernetError::kEthTransferFailed, "ETHTransferFailed"},
    {InfernetError::kTransferFailed, "TransferFailed"},
    {InfernetError::kUnauthorized, "Unauthorized"},
}};

AbiValue u32(std::uint32_t value) {
  return AbiValue::uint(U256(value));
}

Bytes must_encode(std::string_view signature, const AbiValue::List& args) {
  // The signatures and argument shapes here are fixed, so encoding cannot fail.
  return abi::encode_call(signature, args).value();
}

Bytes32 hash_encoded(std::string_view types, const AbiValue::List& values) {
  return keccak256(abi::encode(types, values).value());
}

}  // namespace

AbiValue to_abi(const Subscription& s) {
  return AbiValue::list({AbiValue::address(s.owner), u32(s.active_at), u32(s.period),
                         u32(s.frequency), AbiValue::uint(U256(s.redundancy)),
                         AbiValue::fixed_bytes(s.container_id), AbiValue::boolean(s.lazy),
                         AbiValue::address(s.verifier), AbiValue::uint(s.payment_amount),
                         AbiValue::address(s.payment_token), AbiValue::address(s.wallet)});
}

Result<Subscription> subscription_from_abi(const AbiValue& value) {
  // Checking the shape first keeps the accessors below from throwing.
  if (value.kind() != AbiValue::Kind::kList || value.as_list().size() != 11) {
    return make_error(Errc::kAbiValueMismatch, "a Subscription is a tuple of 11 fields");
  }
  const AbiValue::List& f = value.as_list();
  const AbiValue::Kind expected[] = {
      AbiValue::Kind::kAddress, AbiValue::Kind::kWord,    AbiValue::Kind::kWord,
      AbiValue::Kind::kWord,    AbiValue::Kind::kWord,    AbiValue::Kind::kBytes,
      AbiValue::Kind::kBool,    AbiValue::Kind::kAddress, AbiValue::Kind::kWord,
      AbiValue::Kind::kAddress, AbiValue::Kind::kAddress};
  for (std::size_t i = 0; i < 11; ++i) {
    if (f[i].kind() != expected[i]) {
      return make_error(Errc::kAbiValueMismatch,
                        "Subscription field " + std::to_string(i) + " has the wrong type");
    }
  }
  if (f[5].as_bytes().size() != 32 || f[1].as_uint().bit_length() > 32 ||
      f[2].as_uint().bit_length() > 32 || f[3].as_uint().bit_length() > 32 ||
      f[4].as_uint().bit_length() > 16) {
    return make_error(Errc::kAbiValueMismatch, "Subscription field out of range");
  }
  Subscription s;
  s.owner = f[0].as_address();
  s.active_at = static_cast<std::uint32_t>(f[1].as_uint().low_u64());
  s.period = static_cast<std::uint32_t>(f[2].as_uint().low_u64());
  s.frequency = static_cast<std::uint32_t>(f[3].as_uint().low_u64());
  s.redundancy = static_cast<std::uint16_t>(f[4].as_uint().low_u64());
  s.container_id = f[5].as_bytes32();
  s.lazy = f[6].as_bool();
  s.verifier = f[7].as_address();
  s.payment_amount = f[8].as_uint();
  s.payment_token = f[9].as_address();
  s.wallet = f[10].as_address();
  return s;
}

Result<Subscription> decode_subscription(ByteView return_data) {
  auto decoded = abi::decode(std::string("(") + kSubscriptionTuple + ")", return_data);
  if (!decoded) {
    return decoded.error();
  }
  return subscription_from_abi((*decoded)[0]);
}

Result<std::vector<Subscription>> decode_subscription_batch(ByteView return_data) {
  auto decoded = abi::decode(std::string("(") + kSubscriptionTuple + "[])", return_data);
  if (!decoded) {
    return decoded.error();
  }
  std::vector<Subscription> out;
  for (const AbiValue& item : (*decoded)[0].as_list()) {
    auto subscription = subscription_from_abi(item);
    if (!subscription) {
      return subscription.error();
    }
    out.push_back(*subscription);
  }
  return out;
}

Result<std::vector<std::uint16_t>> decode_redundancy_counts(ByteView return_data) {
  auto decoded = abi::decode("(uint16[])", return_data);
  if (!decoded) {
    return decoded.error();
  }
  std::vector<std::uint16_t> out;
  for (const AbiValue& item : (*decoded)[0].as_list()) {
    out.push_back(static_cast<std::uint16_t>(item.as_uint().low_u64()));
  }
  return out;
}

Bytes encode_deliver_compute(std::uint32_t subscription_id, std::uint32_t interval, ByteView input,
                             ByteView output, ByteView proof, const Address& node_wallet) {
  return must_encode("deliverCompute(uint32,uint32,bytes,bytes,bytes,address)",
                     {u32(subscription_id), u32(interval), AbiValue::bytes(to_bytes(input)),
                      AbiValue::bytes(to_bytes(output)), AbiValue::bytes(to_bytes(proof)),
                      AbiValue::address(node_wallet)});
}

Bytes encode_deliver_compute_delegatee(std::uint32_t nonce, std::uint32_t expiry,
                                       const Subscription& subscription,
                                       const RecoverableSignature& signature,
                                       std::uint32_t interval, ByteView input, ByteView output,
                                       ByteView proof, const Address& node_wallet) {
  const std::string signature_text = std::string("deliverComputeDelegatee(uint32,uint32,") +
                                     kSubscriptionTuple +
                                     ",uint8,bytes32,bytes32,uint32,bytes,bytes,bytes,address)";
  return must_encode(
      signature_text,
      {u32(nonce), u32(expiry), to_abi(subscription),
       AbiValue::uint(U256(27 + signature.recovery_id)), AbiValue::fixed_bytes(signature.r),
       AbiValue::fixed_bytes(signature.s), u32(interval), AbiValue::bytes(to_bytes(input)),
       AbiValue::bytes(to_bytes(output)), AbiValue::bytes(to_bytes(proof)),
       AbiValue::address(node_wallet)});
}

Bytes32 redundancy_key(std::uint32_t subscription_id, std::uint32_t interval) {
  return hash_encoded("(uint32,uint32)", {u32(subscription_id), u32(interval)});
}

Bytes32 node_responded_key(std::uint32_t subscription_id, std::uint32_t interval,
                           const Address& node) {
  return hash_encoded("(uint32,uint32,address)",
                      {u32(subscription_id), u32(interval), AbiValue::address(node)});
}

Bytes32 delegate_key(const Address& owner, std::uint32_t nonce) {
  return hash_encoded("(address,uint32)", {AbiValue::address(owner), u32(nonce)});
}

Bytes32 container_set_id(const std::vector<std::string>& container_ids) {
  std::string joined;
  for (std::size_t i = 0; i < container_ids.size(); ++i) {
    joined += (i > 0 ? "," : "") + container_ids[i];
  }
  return hash_encoded("(string)", {AbiValue::string(joined)});
}

std::string_view error_name(InfernetError error) {
  for (const auto& [value, name] : kErrors) {
    if (value == error) {
      return name;
    }
  }
  return "unknown";
}

abi::ErrorTable make_error_table() {
  abi::ErrorTable table;
  for (const auto& [value, name] : kErrors) {
    // Every Infernet error takes no arguments.
    static_cast<void>(table.add(std::string(name) + "()"));
  }
  return table;
}

std::optional<InfernetError> classify_revert(const abi::RevertReason& reason) {
  if (reason.kind != abi::RevertReason::Kind::kCustom) {
    return std::nullopt;
  }
  for (const auto& [value, name] : kErrors) {
    if (reason.name == name) {
      return value;
    }
  }
  return std::nullopt;
}

bool is_benign_race(InfernetError error) {
  return error == InfernetError::kNodeRespondedAlready ||
         error == InfernetError::kIntervalCompleted ||
         error == InfernetError::kSubscriptionCompleted;
}

}  // namespace inferd::core::infernet

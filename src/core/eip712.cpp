#include "core/eip712.hpp"

#include "core/keccak.hpp"

namespace inferd::core {

namespace {

// Word builders for abi.encode of static values: every value is one left-padded 32-byte word.
void put_word(Bytes& out, const Bytes32& word) {
  append(out, word.view());
}

void put_uint(Bytes& out, const U256& value) {
  put_word(out, value.to_word());
}

void put_address(Bytes& out, const Address& address) {
  Bytes32 word;
  std::copy(address.bytes().bytes.begin(), address.bytes().bytes.end(), word.bytes.begin() + 12);
  put_word(out, word);
}

}  // namespace

Bytes32 Eip712Domain::separator() const {
  Bytes encoded;
  put_word(encoded, keccak256("EIP712Domain(string name,string version,uint256 chainId,"
                              "address verifyingContract)"));
  put_word(encoded, keccak256(name));
  put_word(encoded, keccak256(version));
  put_uint(encoded, chain_id);
  put_address(encoded, verifying_contract);
  return keccak256(encoded);
}

Bytes32 eip712_digest(const Bytes32& domain_separator, const Bytes32& struct_hash) {
  Bytes encoded{0x19, 0x01};
  append(encoded, domain_separator.view());
  append(encoded, struct_hash.view());
  return keccak256(encoded);
}

Bytes32 subscription_struct_hash(const Subscription& subscription) {
  Bytes encoded;
  put_word(encoded, keccak256(kSubscriptionType));
  put_address(encoded, subscription.owner);
  put_uint(encoded, subscription.active_at);
  put_uint(encoded, subscription.period);
  put_uint(encoded, subscription.frequency);
  put_uint(encoded, subscription.redundancy);
  put_word(encoded, subscription.container_id);
  put_uint(encoded, subscription.lazy ? 1 : 0);
  put_address(encoded, subscription.verifier);
  put_uint(encoded, subscription.payment_amount);
  put_address(encoded, subscription.payment_token);
  put_address(encoded, subscription.wallet);
  return keccak256(encoded);
}

Bytes32 delegate_subscription_struct_hash(std::uint32_t nonce, std::uint32_t expiry,
                                          const Subscription& subscription) {
  Bytes encoded;
  put_word(encoded, keccak256(kDelegateSubscriptionType));
  put_uint(encoded, nonce);
  put_uint(encoded, expiry);
  put_word(encoded, subscription_struct_hash(subscription));
  return keccak256(encoded);
}

Bytes32 delegate_subscription_digest(const Eip712Domain& domain, std::uint32_t nonce,
                                     std::uint32_t expiry, const Subscription& subscription) {
  return eip712_digest(domain.separator(),
                       delegate_subscription_struct_hash(nonce, expiry, subscription));
}

}  // namespace inferd::core

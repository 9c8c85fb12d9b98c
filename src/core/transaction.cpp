#include "core/transaction.hpp"

#include "core/keccak.hpp"
#include "core/rlp.hpp"

namespace inferd::core {

namespace {

Bytes encode_to(const std::optional<Address>& to) {
  return to ? rlp::encode_bytes(to->view()) : rlp::encode_bytes({});
}

// r and s are integers in RLP, so their leading zero bytes are dropped.
Bytes encode_word_as_uint(const Bytes32& word) {
  return rlp::encode_uint(U256::from_word(word));
}

Bytes encode_access_list(const std::vector<AccessListEntry>& access_list) {
  std::vector<Bytes> entries;
  for (const AccessListEntry& entry : access_list) {
    std::vector<Bytes> keys;
    for (const Bytes32& key : entry.storage_keys) {
      keys.push_back(rlp::encode_bytes(key.view()));
    }
    entries.push_back(
        rlp::encode_list({rlp::encode_bytes(entry.address.view()), rlp::encode_list(keys)}));
  }
  return rlp::encode_list(entries);
}

std::vector<Bytes> legacy_fields(const LegacyTransaction& tx) {
  return {rlp::encode_uint(tx.nonce),     rlp::encode_uint(tx.gas_price),
          rlp::encode_uint(tx.gas_limit), encode_to(tx.to),
          rlp::encode_uint(tx.value),     rlp::encode_bytes(tx.data)};
}

std::vector<Bytes> eip1559_fields(const Eip1559Transaction& tx) {
  return {rlp::encode_uint(tx.chain_id),
          rlp::encode_uint(tx.nonce),
          rlp::encode_uint(tx.max_priority_fee_per_gas),
          rlp::encode_uint(tx.max_fee_per_gas),
          rlp::encode_uint(tx.gas_limit),
          encode_to(tx.to),
          rlp::encode_uint(tx.value),
          rlp::encode_bytes(tx.data),
          encode_access_list(tx.access_list)};
}

constexpr std::uint8_t kEip1559Type = 0x02;

Bytes typed(std::uint8_t type, const Bytes& payload) {
  Bytes out{type};
  append(out, payload);
  return out;
}

}  // namespace

Bytes32 signing_hash(const LegacyTransaction& tx) {
  std::vector<Bytes> fields = legacy_fields(tx);
  fields.push_back(rlp::encode_uint(tx.chain_id));
  fields.push_back(rlp::encode_uint(0));
  fields.push_back(rlp::encode_uint(0));
  return keccak256(rlp::encode_list(fields));
}

Bytes32 signing_hash(const Eip1559Transaction& tx) {
  return keccak256(typed(kEip1559Type, rlp::encode_list(eip1559_fields(tx))));
}

Bytes encode_signed(const LegacyTransaction& tx, const RecoverableSignature& signature) {
  std::vector<Bytes> fields = legacy_fields(tx);
  const U256 v = U256(tx.chain_id) * U256(2) + U256(35 + signature.recovery_id);
  fields.push_back(rlp::encode_uint(v));
  fields.push_back(encode_word_as_uint(signature.r));
  fields.push_back(encode_word_as_uint(signature.s));
  return rlp::encode_list(fields);
}

Bytes encode_signed(const Eip1559Transaction& tx, const RecoverableSignature& signature) {
  std::vector<Bytes> fields = eip1559_fields(tx);
  fields.push_back(rlp::encode_uint(signature.recovery_id));
  fields.push_back(encode_word_as_uint(signature.r));
  fields.push_back(encode_word_as_uint(signature.s));
  return typed(kEip1559Type, rlp::encode_list(fields));
}

SignedTransaction sign_transaction(const Secp256k1Context& context, const PrivateKey& key,
                                   const LegacyTransaction& tx) {
  const RecoverableSignature signature = sign_hash(context, key, signing_hash(tx));
  Bytes raw = encode_signed(tx, signature);
  const Bytes32 hash = keccak256(raw);
  return {std::move(raw), hash};
}

SignedTransaction sign_transaction(const Secp256k1Context& context, const PrivateKey& key,
                                   const Eip1559Transaction& tx) {
  const RecoverableSignature signature = sign_hash(context, key, signing_hash(tx));
  Bytes raw = encode_signed(tx, signature);
  const Bytes32 hash = keccak256(raw);
  return {std::move(raw), hash};
}

}  // namespace inferd::core

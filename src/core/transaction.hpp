// Ethereum transactions: legacy with EIP-155 replay protection and EIP-1559 (type 2), their
// signing hashes, signing and the raw encoding sent with eth_sendRawTransaction.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/address.hpp"
#include "core/bytes.hpp"
#include "core/secp256k1.hpp"
#include "core/u256.hpp"

namespace inferd::core {

/// A legacy transaction signed under EIP-155 (chain id folded into v).
struct LegacyTransaction {
  std::uint64_t chain_id = 1;
  U256 nonce;
  U256 gas_price;
  U256 gas_limit;
  std::optional<Address> to;  ///< nullopt creates a contract
  U256 value;
  Bytes data;
};

/// One EIP-2930 access-list entry.
struct AccessListEntry {
  Address address;
  std::vector<Bytes32> storage_keys;
};

/// An EIP-1559 transaction (type 2).
struct Eip1559Transaction {
  std::uint64_t chain_id = 1;
  U256 nonce;
  U256 max_priority_fee_per_gas;
  U256 max_fee_per_gas;
  U256 gas_limit;
  std::optional<Address> to;  ///< nullopt creates a contract
  U256 value;
  Bytes data;
  std::vector<AccessListEntry> access_list;
};

/// The raw signed bytes and the transaction hash (keccak256 of the raw bytes).
struct SignedTransaction {
  Bytes raw;
  Bytes32 hash;
};

/// EIP-155 signing hash: keccak256(rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])).
Bytes32 signing_hash(const LegacyTransaction& tx);

/// EIP-1559 signing hash: keccak256(0x02 ‖ rlp([chainId, nonce, maxPriorityFeePerGas,
/// maxFeePerGas, gas, to, value, data, accessList])).
Bytes32 signing_hash(const Eip1559Transaction& tx);

/// rlp([nonce, gasPrice, gas, to, value, data, v, r, s]) with v = chainId * 2 + 35 + recovery id.
Bytes encode_signed(const LegacyTransaction& tx, const RecoverableSignature& signature);

/// 0x02 ‖ rlp([chainId, nonce, …, accessList, yParity, r, s]).
Bytes encode_signed(const Eip1559Transaction& tx, const RecoverableSignature& signature);

/// Signs `tx` with `key` and returns the raw bytes and hash.
SignedTransaction sign_transaction(const Secp256k1Context& context, const PrivateKey& key,
                                   const LegacyTransaction& tx);
SignedTransaction sign_transaction(const Secp256k1Context& context, const PrivateKey& key,
                                   const Eip1559Transaction& tx);

}  // namespace inferd::core

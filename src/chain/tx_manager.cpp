#include "chain/tx_manager.hpp"

#include <algorithm>
#include <cctype>

#include "core/hex.hpp"

namespace inferd::chain {

namespace {

using core::U256;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

U256 parse_quantity(const json& value, const char* what) {
  if (!value.is_string()) {
    throw RpcError(RpcErrorKind::kInvalidResponse, std::string(what) + " is not a hex quantity");
  }
  auto parsed = U256::from_hex(value.get<std::string>());
  if (!parsed) {
    throw RpcError(RpcErrorKind::kInvalidResponse,
                   std::string(what) + " is not a hex quantity: " + parsed.error().message);
  }
  return *parsed;
}

// fee × 1125 / 1000 rounded up, plus 1 wei: strictly above the 12.5% replacement minimum.
U256 bumped(const U256& fee) {
  return (fee * U256(1125) + U256(999)) / U256(1000) + U256(1);
}

bool mentions(const std::string& text, const char* needle) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find(needle) != std::string::npos;
}

Awaitable<void> pause(std::chrono::milliseconds delay) {
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

TxManager::TxManager(RpcClient& rpc, const core::Secp256k1Context& context, core::PrivateKey key,
                     TxManagerOptions options, const core::abi::ErrorTable& errors)
    : rpc_(rpc),
      context_(context),
      key_(std::move(key)),
      address_(core::derive_public_key(context, key_).address()),
      options_(std::move(options)),
      errors_(errors) {}

Awaitable<U256> TxManager::pending_nonce() {
  // Parameters are built before co_await: g++ 12 rejects braced lists with string literals
  // inside a co_await expression ("array used as initializer").
  json params = json::array({address_.to_checksum_hex(), std::string("pending")});
  const json count = co_await rpc_.call("eth_getTransactionCount", std::move(params));
  co_return parse_quantity(count, "eth_getTransactionCount result");
}

Awaitable<void> TxManager::start() {
  U256 nonce = co_await pending_nonce();

  if (options_.journal != nullptr) {
    const std::vector<JournalEntry> entries = co_await options_.journal->pending();
    for (const JournalEntry& entry : entries) {
      nonce = std::max(nonce, entry.nonce + U256(1));
      auto receipt = co_await fetch_receipt(entry.hash, entry.nonce, 0);
      if (receipt) {
        JournalEntry mined = entry;
        mined.status = JournalEntry::Status::kMined;
        co_await options_.journal->record(std::move(mined));
        continue;
      }
      // Signed before the restart and maybe never sent: send the same bytes, never new ones.
      core::SignedTransaction signed_tx{entry.raw, entry.hash};
      try {
        co_await broadcast(signed_tx, entry.purpose + " (resumed)");
      } catch (const RpcError& error) {
        // "nonce too low" means another version was mined; watch() settles it later.
        if (error.kind() != RpcErrorKind::kRpcError) {
          throw;
        }
      }
    }
  }

  std::lock_guard lock(nonce_mutex_);
  next_nonce_ = nonce;
}

Awaitable<void> TxManager::journal(const std::string& purpose, const U256& nonce,
                                   const core::SignedTransaction& signed_tx, const Fees& fees,
                                   JournalEntry::Status status) {
  if (options_.journal == nullptr) {
    co_return;
  }
  JournalEntry entry{purpose, nonce,        signed_tx.hash,   signed_tx.raw,
                     status,  fees.max_fee, fees.priority_fee};
  co_await options_.journal->record(entry);
  if (options_.on_journaled && status == JournalEntry::Status::kPending) {
    options_.on_journaled(entry);
  }
}

Awaitable<std::optional<TxReceipt>> TxManager::fetch_receipt(const core::Bytes32& hash,
                                                             const U256& nonce, int bumps) {
  json params = json::array({core::to_hex(hash.view())});
  const json receipt = co_await rpc_.call("eth_getTransactionReceipt", std::move(params));
  if (receipt.is_null()) {
    co_return std::nullopt;
  }
  TxReceipt out;
  out.hash = hash;
  out.nonce = nonce;
  out.success = receipt.value("status", std::string()) == "0x1";
  out.gas_used = parse_quantity(receipt["gasUsed"], "receipt gasUsed");
  out.block_number = parse_quantity(receipt["blockNumber"], "receipt blockNumber");
  if (receipt.contains("contractAddress") && receipt["contractAddress"].is_string()) {
    auto contract = core::Address::from_hex(receipt["contractAddress"].get<std::string>());
    if (contract) {
      out.contract_address = *contract;
    }
  }
  out.bumps = bumps;
  co_return out;
}

Awaitable<TxReceipt> TxManager::watch(JournalEntry entry) {
  const auto deadline = Clock::now() + options_.receipt_timeout;
  while (Clock::now() < deadline) {
    auto receipt = co_await fetch_receipt(entry.hash, entry.nonce, 0);
    if (receipt) {
      entry.status = JournalEntry::Status::kMined;
      co_await options_.journal->record(entry);
      co_return *receipt;
    }
    co_await pause(options_.poll_interval);
  }
  throw TxError(TxErrorKind::kNotMined, entry.purpose + " with nonce " + entry.nonce.to_dec() +
                                            " (from the journal) was not mined within the "
                                            "receipt timeout");
}

U256 TxManager::allocate_nonce() {
  std::lock_guard lock(nonce_mutex_);
  if (!next_nonce_) {
    throw std::logic_error("TxManager::send called before start()");
  }
  const U256 nonce = *next_nonce_;
  *next_nonce_ += U256(1);
  return nonce;
}

Awaitable<U256> TxManager::block_number() {
  co_return parse_quantity(co_await rpc_.call("eth_blockNumber"), "eth_blockNumber result");
}

json TxManager::call_object(const TxRequest& request) const {
  json object = {{"from", address_.to_checksum_hex()},
                 {"data", core::to_hex(request.data)},
                 {"value", request.value.to_hex()}};
  if (request.to) {
    object["to"] = request.to->to_checksum_hex();
  }
  return object;
}

Awaitable<std::optional<core::abi::RevertReason>> TxManager::simulate(const TxRequest& request) {
  try {
    json params = json::array({call_object(request), std::string("latest")});
    co_await rpc_.call("eth_call", std::move(params));
  } catch (const RpcError& error) {
    // Nodes report a revert as a JSON-RPC error whose data is the revert data (anvil and geth
    // use code 3; some providers put the data inside a nested object or omit it).
    if (error.kind() != RpcErrorKind::kRpcError || !mentions(error.rpc_message, "revert")) {
      throw;
    }
    core::Bytes data;
    if (error.rpc_data.is_string()) {
      auto parsed = core::from_hex(error.rpc_data.get<std::string>());
      if (parsed) {
        data = std::move(*parsed);
      }
    }
    co_return core::abi::decode_revert(data, &errors_);
  }
  co_return std::nullopt;
}

Awaitable<U256> TxManager::estimate_gas(const TxRequest& request) {
  json params = json::array({call_object(request)});
  const json estimate = co_await rpc_.call("eth_estimateGas", std::move(params));
  co_return parse_quantity(estimate, "eth_estimateGas result");
}

Awaitable<TxManager::Fees> TxManager::current_fees() {
  json params = json::array({std::string("latest"), false});
  const json block = co_await rpc_.call("eth_getBlockByNumber", std::move(params));
  Fees fees;
  if (block.is_object() && block.contains("baseFeePerGas") && !block["baseFeePerGas"].is_null()) {
    const U256 base_fee = parse_quantity(block["baseFeePerGas"], "baseFeePerGas");
    try {
      fees.priority_fee = parse_quantity(co_await rpc_.call("eth_maxPriorityFeePerGas"),
                                         "eth_maxPriorityFeePerGas result");
    } catch (const RpcError& error) {
      if (error.kind() != RpcErrorKind::kRpcError) {
        throw;
      }
      // A node without the method: 1 gwei, the usual default tip.
      fees.priority_fee = U256(1000000000ULL);
    }
    // Twice the base fee absorbs six full blocks of base-fee growth (12.5% each).
    fees.max_fee = base_fee * U256(2) + fees.priority_fee;
    co_return fees;
  }
  // No base fee: a chain without EIP-1559.
  fees.eip1559 = false;
  fees.max_fee = parse_quantity(co_await rpc_.call("eth_gasPrice"), "eth_gasPrice result");
  co_return fees;
}

core::SignedTransaction TxManager::sign(const TxRequest& request, const U256& nonce,
                                        const U256& gas_limit, const Fees& fees) const {
  if (fees.eip1559) {
    core::Eip1559Transaction tx;
    tx.chain_id = options_.chain_id;
    tx.nonce = nonce;
    tx.max_priority_fee_per_gas = fees.priority_fee;
    tx.max_fee_per_gas = fees.max_fee;
    tx.gas_limit = gas_limit;
    tx.to = request.to;
    tx.value = request.value;
    tx.data = request.data;
    return core::sign_transaction(context_, key_, tx);
  }
  core::LegacyTransaction tx;
  tx.chain_id = options_.chain_id;
  tx.nonce = nonce;
  tx.gas_price = fees.max_fee;
  tx.gas_limit = gas_limit;
  tx.to = request.to;
  tx.value = request.value;
  tx.data = request.data;
  return core::sign_transaction(context_, key_, tx);
}

Awaitable<void> TxManager::broadcast(const core::SignedTransaction& signed_tx,
                                     const std::string& purpose) {
  try {
    json params = json::array({core::to_hex(signed_tx.raw)});
    co_await rpc_.call("eth_sendRawTransaction", std::move(params));
  } catch (const RpcError& error) {
    // A resend of a transaction the node already has is not a failure.
    if (error.kind() == RpcErrorKind::kRpcError && mentions(error.rpc_message, "already known")) {
      co_return;
    }
    throw RpcError(error.kind(), "broadcasting " + purpose + " (" +
                                     core::to_hex(signed_tx.hash.view()) +
                                     ") failed: " + error.what());
  }
}

Awaitable<std::optional<TxReceipt>> TxManager::resume(std::string purpose) {
  if (options_.journal == nullptr)
    co_return std::nullopt;
  auto existing = co_await options_.journal->find(std::move(purpose));
  if (!existing)
    co_return std::nullopt;
  if (existing->status == JournalEntry::Status::kPending) {
    // It may never have reached the node (a failed broadcast, a crash before it): send it
    // again. The node ignores a transaction it already has, and a mined nonce rejects it.
    try {
      json params = json::array({core::to_hex(existing->raw)});
      co_await rpc_.call("eth_sendRawTransaction", std::move(params));
    } catch (const RpcError&) {
    }
  }
  co_return co_await watch(std::move(*existing));
}

Awaitable<TxReceipt> TxManager::send(TxRequest request) {
  const std::string purpose = request.purpose.empty() ? "transaction" : request.purpose;

  if (options_.journal != nullptr && !request.purpose.empty()) {
    auto existing = co_await options_.journal->find(request.purpose);
    if (existing) {
      // Already signed for this purpose (perhaps before a restart): never sign it twice.
      co_return co_await watch(std::move(*existing));
    }
  }

  U256 gas_limit = options_.max_gas_limit;
  if (!request.skip_simulation) {
    auto revert = co_await simulate(request);
    if (revert) {
      TxError error(TxErrorKind::kSimulationReverted,
                    purpose + " would revert: " + revert->describe() + "; nothing was sent");
      error.revert = std::move(revert);
      throw error;
    }

    const U256 estimate = co_await estimate_gas(request);
    if (estimate > options_.max_gas_limit) {
      throw TxError(TxErrorKind::kGasCapExceeded,
                    purpose + " needs an estimated " + estimate.to_dec() +
                        " gas, above chain.wallet.max_gas_limit " +
                        options_.max_gas_limit.to_dec() + "; nothing was sent");
    }
    gas_limit = std::min(options_.max_gas_limit,
                         estimate * U256(100 + options_.gas_margin_percent) / U256(100));
  }

  Fees fees = co_await current_fees();
  U256 nonce = allocate_nonce();
  core::SignedTransaction signed_tx = sign(request, nonce, gas_limit, fees);
  co_await journal(purpose, nonce, signed_tx, fees, JournalEntry::Status::kPending);
  bool nonce_too_low = false;
  try {
    co_await broadcast(signed_tx, purpose);
    if (request.on_broadcast)
      request.on_broadcast();
  } catch (const RpcError& error) {
    if (error.kind() != RpcErrorKind::kRpcError || !mentions(error.what(), "nonce too low")) {
      throw;
    }
    nonce_too_low = true;
  }

  if (nonce_too_low) {
    // Another sender used this key, or the chain moved on: resynchronise and sign again.
    const U256 chain_nonce = co_await pending_nonce();
    {
      std::lock_guard lock(nonce_mutex_);
      next_nonce_ = std::max(*next_nonce_, chain_nonce);
    }
    nonce = allocate_nonce();
    signed_tx = sign(request, nonce, gas_limit, fees);
    co_await journal(purpose, nonce, signed_tx, fees, JournalEntry::Status::kPending);
    co_await broadcast(signed_tx, purpose);
    if (request.on_broadcast)
      request.on_broadcast();
  }

  // Wait for a receipt of any broadcast version; replace the transaction when it is stuck.
  std::vector<core::Bytes32> hashes{signed_tx.hash};
  U256 last_broadcast_block = co_await block_number();
  int bumps = 0;
  const auto deadline = Clock::now() + options_.receipt_timeout;
  while (Clock::now() < deadline) {
    for (const core::Bytes32& hash : hashes) {
      auto receipt = co_await fetch_receipt(hash, nonce, bumps);
      if (!receipt) {
        continue;
      }
      if (options_.journal != nullptr) {
        JournalEntry mined{purpose,
                           nonce,
                           hash,
                           signed_tx.raw,
                           JournalEntry::Status::kMined,
                           fees.max_fee,
                           fees.priority_fee};
        co_await options_.journal->record(std::move(mined));
      }
      co_return *receipt;
    }

    const U256 head = co_await block_number();
    if (bumps < options_.max_bumps &&
        head >= last_broadcast_block + U256(options_.bump_after_blocks)) {
      fees.max_fee = bumped(fees.max_fee);
      fees.priority_fee = bumped(fees.priority_fee);
      core::SignedTransaction replacement = sign(request, nonce, gas_limit, fees);
      const std::string label = purpose + " (fee bump " + std::to_string(bumps + 1) + ")";
      bool accepted = true;
      co_await journal(purpose, nonce, replacement, fees, JournalEntry::Status::kPending);
      try {
        co_await broadcast(replacement, label);
      } catch (const RpcError& error) {
        // A node may reject a replacement (underpriced, below the base fee); the earlier
        // versions stay valid, and the next bump raises the fees again.
        if (error.kind() != RpcErrorKind::kRpcError) {
          throw;
        }
        accepted = false;
      }
      if (accepted) {
        hashes.push_back(replacement.hash);
        signed_tx = replacement;
      }
      last_broadcast_block = head;
      ++bumps;
    }
    co_await pause(options_.poll_interval);
  }
  throw TxError(TxErrorKind::kNotMined, purpose + " with nonce " + nonce.to_dec() +
                                            " was not mined within the receipt timeout");
}

}  // namespace inferd::chain

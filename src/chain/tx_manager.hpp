// Sending transactions from the node's one key: nonce allocation, EIP-1559 or legacy fees from
// the chain, eth_call simulation with the revert decoded, a gas estimate capped by
// max_gas_limit, signing, broadcast, receipt tracking and fee bumping of a stuck transaction.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chain/rpc_client.hpp"
#include "chain/tx_journal.hpp"
#include "core/abi.hpp"
#include "core/secp256k1.hpp"
#include "core/transaction.hpp"

namespace inferd::chain {

struct TxManagerOptions {
  std::uint64_t chain_id = 1;
  /// Highest gas limit the node sends (`chain.wallet.max_gas_limit`). An estimate above it is
  /// rejected before anything is signed.
  core::U256 max_gas_limit = 5000000;
  /// Gas limit = estimate × (100 + margin) / 100, capped at max_gas_limit.
  unsigned gas_margin_percent = 20;
  /// A transaction not mined this many blocks after its last broadcast is replaced with fees
  /// raised by 12.5% (geth's minimum for a replacement is 10%) plus 1 wei, at most max_bumps
  /// times. A replacement the node rejects is skipped, and the next bump raises the fees again.
  std::uint64_t bump_after_blocks = 3;
  int max_bumps = 5;
  /// How often the receipt and the block number are polled.
  std::chrono::milliseconds poll_interval{500};
  /// How long send() waits for a receipt before giving up with kNotMined.
  std::chrono::milliseconds receipt_timeout{300000};
  /// Where signed transactions are recorded before broadcast; must outlive the manager. Without
  /// one, a restart loses track of transactions in flight.
  TxJournal* journal = nullptr;
  /// Test seam, not for production use: called after each pending entry is recorded in the
  /// journal and before that version is broadcast, so a crash test can kill the process there.
  std::function<void(const JournalEntry&)> on_journaled;
};

/// A transaction to send. `to` empty deploys `data` as init code.
struct TxRequest {
  std::optional<core::Address> to;
  core::Bytes data;
  core::U256 value;
  std::string purpose;  ///< for messages, e.g. "deliverCompute sub=5 interval=2"
  /// Called once the RPC node accepted the first broadcast (e.g. to measure latency).
  std::function<void()> on_broadcast;
  /// Sends without simulation or estimate, with gas = max_gas_limit: for a delivery whose
  /// simulation error the operator allowed (chain.wallet.allowed_sim_errors).
  bool skip_simulation = false;
};

/// A mined transaction.
struct TxReceipt {
  core::Bytes32 hash;  ///< the hash that was mined (the last replacement, if bumped)
  core::U256 nonce;
  bool success = false;  ///< receipt status 1
  core::U256 gas_used;
  core::U256 block_number;
  std::optional<core::Address> contract_address;
  int bumps = 0;
};

/// Kinds of send() failure.
enum class TxErrorKind {
  kSimulationReverted,  ///< eth_call reverted; `revert` holds the decoded reason, nothing sent
  kGasCapExceeded,      ///< the estimate exceeds max_gas_limit; nothing sent
  kRpc,                 ///< an RPC call failed after its retries
  kNotMined,            ///< no receipt before receipt_timeout
};

class TxError : public std::runtime_error {
 public:
  TxError(TxErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  TxErrorKind kind() const { return kind_; }

  std::optional<core::abi::RevertReason> revert;

 private:
  TxErrorKind kind_;
};

/// Sends transactions for one key. Safe to call send() from many coroutines at once: nonces are
/// allocated consecutively under a mutex that is never held across I/O.
///
/// With a journal, each signed version is recorded before it is broadcast. start() then
/// re-broadcasts or confirms what was pending, and send() for a purpose already in the journal
/// watches that transaction instead of signing a new one.
class TxManager {
 public:
  /// `rpc`, `context` and `errors` must outlive the manager. `errors` names custom-error reverts.
  TxManager(RpcClient& rpc, const core::Secp256k1Context& context, core::PrivateKey key,
            TxManagerOptions options, const core::abi::ErrorTable& errors);

  const core::Address& address() const { return address_; }

  /// Reads the account's pending nonce from the chain and resumes the journal's pending entries
  /// (re-broadcasting those without a receipt); call once before send().
  Awaitable<void> start();

  /// Simulates, estimates, signs, broadcasts and waits for the receipt of `request`. Throws
  /// TxError. A transaction that is mined but reverts returns a receipt with success false.
  Awaitable<TxReceipt> send(TxRequest request);

  /// Re-sends and watches the journalled transaction for `purpose` (one signed before a restart,
  /// for example) and returns its receipt. Returns nullopt when nothing was signed for `purpose`.
  Awaitable<std::optional<TxReceipt>> resume(std::string purpose);

  /// Runs `request` through eth_call at the latest block; returns the decoded revert, or nullopt
  /// when the call succeeds. Throws RpcError for failures other than a revert.
  Awaitable<std::optional<core::abi::RevertReason>> simulate(const TxRequest& request);

 private:
  struct Fees {
    bool eip1559 = true;
    core::U256 max_fee;       ///< or the gas price of a legacy transaction
    core::U256 priority_fee;  ///< EIP-1559 only
  };

  Awaitable<Fees> current_fees();
  Awaitable<core::U256> estimate_gas(const TxRequest& request);
  Awaitable<core::U256> block_number();
  Awaitable<core::U256> pending_nonce();
  core::U256 allocate_nonce();
  core::SignedTransaction sign(const TxRequest& request, const core::U256& nonce,
                               const core::U256& gas_limit, const Fees& fees) const;
  Awaitable<void> broadcast(const core::SignedTransaction& signed_tx, const std::string& purpose);
  Awaitable<void> journal(const std::string& purpose, const core::U256& nonce,
                          const core::SignedTransaction& signed_tx, const Fees& fees,
                          JournalEntry::Status status);
  Awaitable<std::optional<TxReceipt>> fetch_receipt(const core::Bytes32& hash,
                                                    const core::U256& nonce, int bumps);
  Awaitable<TxReceipt> watch(JournalEntry entry);
  nlohmann::json call_object(const TxRequest& request) const;

  RpcClient& rpc_;
  const core::Secp256k1Context& context_;
  core::PrivateKey key_;
  core::Address address_;
  TxManagerOptions options_;
  const core::abi::ErrorTable& errors_;
  std::mutex nonce_mutex_;
  std::optional<core::U256> next_nonce_;
};

}  // namespace inferd::chain

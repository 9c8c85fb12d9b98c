// Start-up checks of the chain side: the connected chain, the Registry and the addresses it
// publishes, the node's payment wallet and balance, and the chain's length. The node runs them
// before it syncs; `inferd check` prints them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "chain/infernet_client.hpp"
#include "chain/rpc_client.hpp"
#include "core/address.hpp"
#include "infra/config.hpp"

namespace inferd::chain {

/// The outcome of one start-up check. `message` is one line that names the values involved and,
/// for a warning or an error, what to change.
struct CheckResult {
  std::string name;  ///< e.g. "chain id", "registry code", "node balance"
  enum Status { kOk, kWarning, kError } status = kOk;
  std::string message;
};

/// "ok", "warning" or "error".
const char* to_string(CheckResult::Status status);

/// Whether any result is an error (warnings do not count).
bool has_error(const std::vector<CheckResult>& results);

/// Runs the chain checks for `config.chain` (which must be enabled, with rpc_url,
/// registry_address and wallet set, as the config loader guarantees) in this order:
///  1. "chain id": eth_chainId, compared with `chain.chain_id` when set. When the RPC node cannot
///     be reached, this is the only result, an error.
///  2. "registry code": the Registry address has code (eth_getCode); an error names the address
///     and the chain id, and the Registry reads below are skipped.
///  3. "registry addresses": COORDINATOR(), INBOX(), READER(), FEE() and WALLET_FACTORY() read;
///     an error when the reads fail or the coordinator is the zero address.
///  4. "payment address" (only when `chain.wallet.payment_address` is set): an error unless the
///     WalletFactory reports it as one of its wallets.
///  5. "node balance": a warning when the balance of `node_address` is below
///     `chain.min_balance_deliveries` x `max_gas_limit` x eth_gasPrice.
///  6. "chain head": a warning "waiting for block N" while the head is below
///     `trail_head_blocks`, because sync reads at head - trail_head_blocks.
/// An RPC failure inside one check makes that check an error and the others still run.
/// Never throws for chain or RPC problems; throws std::invalid_argument for a config that the
/// loader would have rejected (chain disabled or a required key missing).
Awaitable<std::vector<CheckResult>> run_chain_checks(const infra::NodeConfig& config,
                                                     RpcClient& rpc, InfernetClient& infernet,
                                                     core::Address node_address);

/// Like the above, but without `node_address` (e.g. the configured key is invalid) the
/// "node balance" check is left out.
Awaitable<std::vector<CheckResult>> run_chain_checks(const infra::NodeConfig& config,
                                                     RpcClient& rpc, InfernetClient& infernet,
                                                     std::optional<core::Address> node_address);

}  // namespace inferd::chain

// The chain pipeline: subscription sync, admission, scheduling on chain time, container runs and
// delivery. See docs/ARCHITECTURE.md "Chain pipeline".
//
// All mutable state lives on one strand: the sync loop, every delivery coroutine and the REST
// hooks run there, so no state is shared across threads. Exactly-once delivery rests on the
// chain and the transaction journal, not on memory. Before an interval is computed the node
// reads whether it already responded, and a delivery whose purpose is in the journal is watched,
// never signed again.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/chain_state.hpp"
#include "chain/infernet_client.hpp"
#include "chain/rpc_client.hpp"
#include "chain/tx_manager.hpp"
#include "containers/orchestrator.hpp"
#include "core/infernet.hpp"
#include "infra/config.hpp"
#include "infra/logging.hpp"
#include "infra/metrics.hpp"

namespace inferd::chain {

/// Maps a subscription's containerId to the configured container ids it names: every ordered
/// selection of distinct configured ids, up to a bound on the table size.
class ContainerLookup {
 public:
  /// Selections are enumerated by length until the table would exceed `max_entries`.
  explicit ContainerLookup(const std::vector<std::string>& ids, std::size_t max_entries = 200000);
  /// The ids for `container_id`, or nullptr.
  const std::vector<std::string>* find(const core::Bytes32& container_id) const;
  std::size_t size() const { return table_.size(); }
  /// The length of the longest selection in the table.
  std::size_t max_length() const { return max_length_; }

 private:
  std::map<core::Bytes32, std::vector<std::string>> table_;
  std::size_t max_length_ = 0;
};

/// A request the REST API refused: its HTTP status and JSON body.
struct DelegatedRejection {
  int status = 400;
  nlohmann::json body;
};

class ChainProcessor {
 public:
  /// Every reference must outlive the processor. `node` is the node's signing address.
  ChainProcessor(asio::any_io_executor executor, const infra::NodeConfig& config, RpcClient& rpc,
                 InfernetClient& client, TxManager& tx, containers::Orchestrator& orchestrator,
                 ChainState& state, infra::metrics::Registry& metrics);
  ~ChainProcessor();

  /// Reads the registry's addresses and the persisted state. Call it after run_chain_checks.
  /// Throws when the persisted state belongs to another chain, registry or chain history.
  Awaitable<void> start();
  /// Starts the sync and scheduling loop; returns at once.
  void run();
  /// Stops the loop and the deliveries at their next await.
  void stop();

  /// GET /api/subscriptions/{id}: the node's record, or nullopt when it does not know the id.
  Awaitable<std::optional<nlohmann::json>> subscription(std::uint32_t id);
  /// POST /api/jobs with a delegated subscription: nullopt when accepted.
  Awaitable<std::optional<DelegatedRejection>> submit_delegated(nlohmann::json body);
  /// For /health: head lag and counts.
  nlohmann::json health() const;

 private:
  struct Tracked;
  struct Delivery;

  Awaitable<void> loop();
  Awaitable<void> sync_to(std::uint64_t block, std::uint32_t timestamp);
  Awaitable<void> read_new_subscriptions(std::uint32_t first, std::uint32_t end,
                                         std::uint64_t block);
  Awaitable<std::vector<core::Subscription>> read_batch(std::uint32_t first, std::uint32_t end,
                                                        std::uint64_t block);
  Awaitable<void> apply_events(std::uint64_t from, std::uint64_t to);
  Awaitable<void> admit(Tracked& tracked);
  void schedule(Tracked& tracked);
  Awaitable<void> run_due(std::uint32_t timestamp);
  Awaitable<void> deliver(std::string key, std::uint32_t interval,
                          std::chrono::steady_clock::time_point seen);
  Awaitable<std::optional<std::string>> check_payment(const Tracked& tracked);
  bool simulation_error_allowed(const TxError& error) const;
  Awaitable<void> ensure_proof_allowance(const Tracked& tracked);
  void finish_attempt(Tracked& tracked, std::uint32_t interval, const std::string& outcome,
                      const std::string& reason, bool count_failure);
  Awaitable<void> persist(const Tracked& tracked);
  Awaitable<void> persist_checkpoint();
  nlohmann::json to_json(const Tracked& tracked) const;
  Tracked* find(const std::string& key);
  std::optional<std::uint32_t> interval_at(const core::Subscription& sub,
                                           std::uint32_t timestamp) const;
  Awaitable<void> sleep_for(std::chrono::milliseconds delay);

  asio::strand<asio::any_io_executor> strand_;
  const infra::NodeConfig& config_;
  RpcClient& rpc_;
  InfernetClient& client_;
  TxManager& tx_;
  containers::Orchestrator& orchestrator_;
  ChainState& state_;
  std::shared_ptr<spdlog::logger> log_;
  ContainerLookup lookup_;
  core::Address registry_;
  core::Address node_wallet_;  ///< payment_address or zero
  InfernetAddresses addresses_;
  std::uint64_t chain_id_ = 0;
  core::abi::ErrorTable errors_;
  core::Secp256k1Context secp_;

  // Sync progress.
  std::uint64_t last_block_ = 0;
  std::uint32_t last_sub_id_ = 0;
  std::uint64_t head_block_ = 0;
  std::uint32_t head_time_ = 0;
  std::string head_hash_;
  std::chrono::steady_clock::time_point head_seen_;  ///< when the head block was first read
  std::uint64_t next_balance_block_ = 0;
  std::map<core::Address, bool> owner_has_code_;
  bool synced_once_ = false;

  std::map<std::string, std::unique_ptr<Tracked>> tracked_;
  /// (due time, key): the next interval of a subscription opens at `due time` (chain time).
  std::priority_queue<std::pair<std::uint64_t, std::string>,
                      std::vector<std::pair<std::uint64_t, std::string>>, std::greater<>>
      due_;
  std::set<std::pair<std::string, std::uint32_t>> in_flight_;
  bool stopping_ = false;

  // Metrics.
  infra::metrics::Registry& metrics_;
  infra::metrics::Gauge& head_lag_;
  infra::metrics::Gauge& head_block_gauge_;
  infra::metrics::Gauge& tracked_gauge_;
  infra::metrics::Counter& gas_used_;
  infra::metrics::Gauge& balance_gauge_;
  infra::metrics::Histogram& due_to_broadcast_;
};

}  // namespace inferd::chain

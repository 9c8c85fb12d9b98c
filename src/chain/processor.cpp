#include "chain/processor.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/delivery_payload.hpp"
#include "core/hex.hpp"
#include "core/keccak.hpp"
#include "infra/json_exact.hpp"

namespace inferd::chain {

using core::Address;
using core::Bytes;
using core::Subscription;
using core::U256;
using nlohmann::json;
namespace infernet = core::infernet;

namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kMaxLogRange = 2000;
constexpr const char* kCancelledEvent = "SubscriptionCancelled(uint32)";
// The Subscription tuple as a one-parameter list, for encoding a stored record.
const std::string kSubscriptionParams = std::string("(") + infernet::kSubscriptionTuple + ")";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string quantity(std::uint64_t value) {
  return fmt::format("0x{:x}", value);
}

std::uint64_t parse_u64(const json& value, const char* what) {
  if (!value.is_string())
    throw std::runtime_error(std::string(what) + " is not a hex quantity");
  auto parsed = U256::from_hex(value.get_ref<const std::string&>());
  if (!parsed || !parsed.value().fits_u64())
    throw std::runtime_error(std::string(what) + " is not a 64-bit hex quantity");
  return parsed.value().low_u64();
}

std::string sub_label(std::uint32_t id) {
  return std::to_string(id);
}

// Reads an unsigned integer field of a delegated request: a JSON number, a big integer kept as
// digits by ExactJsonBuilder, or a decimal or 0x-hex string.
std::optional<U256> read_uint(const json& object, const char* key) {
  auto found = object.find(key);
  if (found == object.end())
    return std::nullopt;
  if (found->is_number_unsigned())
    return U256(found->get<std::uint64_t>());
  if (found->is_number_integer() && found->get<std::int64_t>() >= 0)
    return U256(static_cast<std::uint64_t>(found->get<std::int64_t>()));
  if (found->is_binary()) {
    std::string digits(found->get_binary().begin(), found->get_binary().end());
    auto parsed = U256::from_dec(digits);
    return parsed ? std::optional<U256>(parsed.value()) : std::nullopt;
  }
  if (found->is_string()) {
    auto parsed = U256::parse(found->get_ref<const std::string&>());
    return parsed ? std::optional<U256>(parsed.value()) : std::nullopt;
  }
  return std::nullopt;
}

// A string member of a stored record; null or absent reads as empty.
std::string text_or_empty(const json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

DelegatedRejection reject(int status, std::string error, json params = json::object()) {
  return DelegatedRejection{status,
                            json{{"error", std::move(error)}, {"params", std::move(params)}}};
}

}  // namespace

// ---------------------------------------------------------------------------------------------

ContainerLookup::ContainerLookup(const std::vector<std::string>& ids, std::size_t max_entries) {
  // Ordered selections of distinct ids, shortest first, as the reference node enumerates them.
  std::vector<std::vector<std::size_t>> current{{}};
  for (std::size_t length = 1; length <= ids.size(); ++length) {
    std::vector<std::vector<std::size_t>> next;
    for (const auto& prefix : current) {
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (std::find(prefix.begin(), prefix.end(), i) != prefix.end())
          continue;
        auto extended = prefix;
        extended.push_back(i);
        next.push_back(std::move(extended));
      }
    }
    if (table_.size() + next.size() > max_entries)
      break;
    for (const auto& selection : next) {
      std::vector<std::string> names;
      for (auto index : selection)
        names.push_back(ids[index]);
      table_.emplace(infernet::container_set_id(names), std::move(names));
    }
    max_length_ = length;
    current = std::move(next);
  }
}

const std::vector<std::string>* ContainerLookup::find(const core::Bytes32& container_id) const {
  auto found = table_.find(container_id);
  return found == table_.end() ? nullptr : &found->second;
}

// ---------------------------------------------------------------------------------------------

struct ChainProcessor::Delivery {
  std::uint32_t interval = 0;
  std::string outcome;  ///< in_flight, delivered, benign_race, reverted, failed, skipped
  std::string tx_hash;
  std::uint32_t attempts = 0;
  std::string reason;
};

struct ChainProcessor::Tracked {
  std::string key;       ///< "<id>", or "d:<owner>:<nonce>" for a delegated request
  std::uint32_t id = 0;  ///< 0 for a delegated request not yet created on-chain
  Subscription sub;
  std::vector<std::string> containers;
  std::string status = "active";  ///< active, skipped, completed, cancelled, stopped
  std::string reason;
  std::uint32_t next_interval = 1;
  std::uint32_t failed_intervals = 0;  ///< consecutive intervals given up
  std::map<std::uint32_t, Delivery> deliveries;
  // A delegated request.
  bool delegated = false;
  std::uint32_t nonce = 0;
  std::uint32_t expiry = 0;
  core::RecoverableSignature signature;
  json data;

  bool callback() const { return sub.period == 0; }
};

ChainProcessor::ChainProcessor(asio::any_io_executor executor, const infra::NodeConfig& config,
                               RpcClient& rpc, InfernetClient& client, TxManager& tx,
                               containers::Orchestrator& orchestrator, ChainState& state,
                               infra::metrics::Registry& metrics)
    : strand_(asio::make_strand(executor)),
      config_(config),
      rpc_(rpc),
      client_(client),
      tx_(tx),
      orchestrator_(orchestrator),
      state_(state),
      log_(infra::logging::get_logger("chain")),
      lookup_(orchestrator.container_ids()),
      errors_(infernet::make_error_table()),
      metrics_(metrics),
      head_lag_(metrics.gauge("inferd_chain_head_lag_blocks",
                              "Blocks between the chain head and the block the node last synced.")),
      head_block_gauge_(metrics.gauge("inferd_chain_synced_block", "Block the node last synced.")),
      tracked_gauge_(metrics.gauge("inferd_chain_subscriptions_tracked",
                                   "Subscriptions the node serves (status active).")),
      gas_used_(metrics.counter("inferd_chain_gas_used_total",
                                "Gas used by the node's delivery transactions.")),
      balance_gauge_(metrics.gauge("inferd_chain_node_balance_eth",
                                   "Balance of the node's sending account, in ether.")),
      due_to_broadcast_(metrics.histogram(
          "inferd_chain_due_to_broadcast_seconds",
          "From the node seeing the block that makes an interval due to its delivery "
          "transaction being accepted by the RPC node.",
          {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60})) {
  registry_ = Address::from_hex(config.chain.registry_address.value_or("")).value();
  const auto& payment = config.chain.wallet ? config.chain.wallet->payment_address : std::nullopt;
  if (payment && !payment->empty())
    node_wallet_ = Address::from_hex(*payment).value();
  if (lookup_.max_length() < orchestrator.container_ids().size()) {
    log_->warn(
        "container-set lookup contains selections of up to {} of {} containers; subscriptions "
        "naming "
        "longer chains are skipped",
        lookup_.max_length(), orchestrator.container_ids().size());
  }
}

ChainProcessor::~ChainProcessor() = default;

// ---------------------------------------------------------------------------------------------
// Start-up and the loop.

Awaitable<void> ChainProcessor::start() {
  // run_chain_checks has already checked the chain id, the registry's code, a non-zero
  // coordinator and the payment wallet; this only reads what the pipeline needs.
  chain_id_ = parse_u64(co_await rpc_.call("eth_chainId"), "eth_chainId result");
  addresses_ = co_await client_.read_registry(registry_);

  // Persisted progress and subscriptions.
  if (auto checkpoint = co_await state_.get("checkpoint")) {
    last_block_ = checkpoint->value("block", std::uint64_t{0});
    last_sub_id_ = checkpoint->value("sub_id", std::uint32_t{0});
    synced_once_ = last_block_ > 0;
    // State from another chain, or from a chain that was reset (a restarted anvil), would
    // make the node skip or repeat work, so the node rejects it.
    const std::string saved_hash = checkpoint->value("block_hash", "");
    json params = json::array({quantity(last_block_), false});
    auto block = co_await rpc_.call("eth_getBlockByNumber", std::move(params));
    const std::string hash = block.is_object() ? block.value("hash", "") : "";
    if (checkpoint->value("chain_id", chain_id_) != chain_id_ ||
        checkpoint->value("registry", registry_.to_lower_hex()) != registry_.to_lower_hex() ||
        (!saved_hash.empty() && hash != saved_hash)) {
      throw std::runtime_error(
          "the chain state in " + config_.store.data_dir +
          "/chain.db was written for another chain, registry or chain history (block " +
          std::to_string(last_block_) +
          " differs); if the chain was reset on purpose, stop the node and delete chain.db");
    }
  } else {
    last_sub_id_ = static_cast<std::uint32_t>(config_.chain.snapshot_sync.starting_sub_id);
  }
  auto records = co_await state_.scan("sub:");
  for (auto& [key, value] : records) {
    auto tracked = std::make_unique<Tracked>();
    tracked->key = value.at("key").get<std::string>();
    tracked->id = value.at("id").get<std::uint32_t>();
    auto sub_bytes = core::from_hex(value.at("sub").get<std::string>());
    if (!sub_bytes)
      continue;
    auto sub = infernet::decode_subscription(sub_bytes.value());
    if (!sub)
      continue;
    tracked->sub = sub.value();
    tracked->containers = value.at("containers").get<std::vector<std::string>>();
    tracked->status = value.at("status").get<std::string>();
    tracked->reason = text_or_empty(value, "reason");
    tracked->next_interval = value.value("next_interval", std::uint32_t{1});
    tracked->failed_intervals = value.value("failed_intervals", std::uint32_t{0});
    for (const auto& d : value.value("deliveries", json::array())) {
      Delivery delivery;
      delivery.interval = d.at("interval").get<std::uint32_t>();
      delivery.outcome = text_or_empty(d, "outcome");
      delivery.tx_hash = text_or_empty(d, "tx_hash");
      delivery.attempts = d.value("attempts", std::uint32_t{0});
      delivery.reason = text_or_empty(d, "reason");
      // An attempt the previous run had started: its transaction may be signed and in the
      // journal, so the next try resumes it under the same attempt number.
      if (delivery.outcome == "in_flight" || delivery.outcome == "retrying")
        delivery.outcome = "interrupted";
      tracked->deliveries[delivery.interval] = delivery;
    }
    if (value.contains("delegated")) {
      const auto& d = value["delegated"];
      tracked->delegated = true;
      tracked->nonce = d.at("nonce").get<std::uint32_t>();
      tracked->expiry = d.at("expiry").get<std::uint32_t>();
      auto rsv = core::from_hex(d.at("signature").get<std::string>());
      if (rsv) {
        auto parsed = core::RecoverableSignature::from_rsv(core::ByteView(rsv.value()));
        if (parsed)
          tracked->signature = parsed.value();
      }
      tracked->data = d.at("data");
    }
    auto* raw = tracked.get();
    tracked_[raw->key] = std::move(tracked);
    schedule(*raw);
  }
  log_->info(
      "chain ready chain_id={} coordinator={} reader={} node={} resume_block={} resume_sub_id={} "
      "subscriptions_loaded={}",
      chain_id_, addresses_.coordinator.to_checksum_hex(), addresses_.reader.to_checksum_hex(),
      tx_.address().to_checksum_hex(), last_block_, last_sub_id_, tracked_.size());
}

void ChainProcessor::run() {
  asio::co_spawn(strand_, loop(), [log = log_](std::exception_ptr error) {
    if (!error)
      return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log->error("chain loop stopped error=\"{}\"", e.what());
    }
  });
}

void ChainProcessor::stop() {
  asio::post(strand_, [this] { stopping_ = true; });
}

Awaitable<void> ChainProcessor::sleep_for(std::chrono::milliseconds delay) {
  asio::steady_timer timer(strand_);
  timer.expires_after(delay);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

Awaitable<void> ChainProcessor::loop() {
  const auto period = std::chrono::milliseconds(
      std::max<long>(10, static_cast<long>(config_.chain.snapshot_sync.sync_period * 1000)));
  bool waiting_logged = false;
  int failures = 0;
  while (!stopping_) {
    try {
      const std::uint64_t head = parse_u64(co_await rpc_.call("eth_blockNumber"), "block number");
      const std::uint64_t trail = config_.chain.trail_head_blocks;
      if (head < trail) {
        if (!waiting_logged) {
          log_->info("waiting for the chain to reach block {} (chain.trail_head_blocks) head={}",
                     trail, head);
          waiting_logged = true;
        }
      } else {
        const std::uint64_t target = head - trail;
        head_lag_.set(static_cast<double>(head - std::min(head, last_block_)));
        if (target > last_block_ || !synced_once_) {
          json params = json::array({quantity(target), false});
          auto block = co_await rpc_.call("eth_getBlockByNumber", std::move(params));
          if (!block.is_object())
            throw std::runtime_error("eth_getBlockByNumber returned no block " +
                                     std::to_string(target));
          const auto timestamp =
              static_cast<std::uint32_t>(parse_u64(block.at("timestamp"), "block timestamp"));
          head_hash_ = block.value("hash", "");
          co_await sync_to(target, timestamp);
          if (target >= next_balance_block_) {
            json params = json::array({tx_.address().to_checksum_hex(), "latest"});
            auto balance = co_await rpc_.call("eth_getBalance", std::move(params));
            auto wei = U256::from_hex(balance.get<std::string>());
            if (wei)
              balance_gauge_.set(std::stod(wei.value().to_dec()) / 1e18);
            next_balance_block_ = target + 10;
          }
        }
        co_await run_due(head_time_);
      }
      if (failures > 0)
        log_->info("chain sync recovered after {} failed rounds", failures);
      failures = 0;
    } catch (const std::exception& error) {
      ++failures;
      if (failures == 1 || failures % 20 == 0) {
        log_->warn("chain sync round failed; retrying failures={} error=\"{}\"", failures,
                   error.what());
      }
    }
    co_await sleep_for(period);
  }
}

Awaitable<void> ChainProcessor::sync_to(std::uint64_t block, std::uint32_t timestamp) {
  const auto seen = std::chrono::steady_clock::now();
  if (synced_once_ && block > last_block_)
    co_await apply_events(last_block_ + 1, block);
  const std::string tag = quantity(block);
  const std::uint32_t next_id = co_await client_.next_subscription_id(addresses_.coordinator, tag);
  const std::uint32_t newest = next_id == 0 ? 0 : next_id - 1;
  if (newest > last_sub_id_)
    co_await read_new_subscriptions(last_sub_id_ + 1, next_id, block);
  last_block_ = block;
  last_sub_id_ = std::max(last_sub_id_, newest);
  head_block_ = block;
  head_time_ = timestamp;
  head_seen_ = seen;
  synced_once_ = true;
  head_block_gauge_.set(static_cast<double>(block));
  co_await persist_checkpoint();
}

Awaitable<std::vector<Subscription>> ChainProcessor::read_batch(std::uint32_t first,
                                                                std::uint32_t end,
                                                                std::uint64_t block) {
  try {
    co_return co_await client_.read_subscription_batch(addresses_.reader, first, end,
                                                       quantity(block));
  } catch (const std::exception& error) {
    if (end - first <= 1)
      throw;
    log_->info("subscription batch failed; halving it first={} end={} error=\"{}\"", first, end,
               error.what());
  }
  const std::uint32_t middle = first + (end - first) / 2;
  auto left = co_await read_batch(first, middle, block);
  auto right = co_await read_batch(middle, end, block);
  left.insert(left.end(), right.begin(), right.end());
  co_return left;
}

Awaitable<void> ChainProcessor::read_new_subscriptions(std::uint32_t first, std::uint32_t end,
                                                       std::uint64_t block) {
  const std::uint32_t batch = std::max<std::uint32_t>(1, config_.chain.snapshot_sync.batch_size);
  std::size_t accepted = 0;
  std::size_t skipped = 0;
  for (std::uint32_t start = first; start < end && !stopping_;) {
    const std::uint32_t stop = static_cast<std::uint32_t>(
        std::min<std::uint64_t>(end, static_cast<std::uint64_t>(start) + batch));
    auto subs = co_await read_batch(start, stop, block);
    // Every created subscription has an owner. An empty record means the RPC node read a state
    // without it (seen on anvil right after a block), so the next round reads it again.
    for (std::size_t i = 0; i < subs.size(); ++i) {
      if (subs[i].owner.is_zero()) {
        throw std::runtime_error("subscription " + std::to_string(start + i) +
                                 " read as empty at block " + std::to_string(block) +
                                 " although id() counts it; retrying");
      }
    }
    std::vector<std::pair<std::string, json>> records;
    for (std::size_t i = 0; i < subs.size(); ++i) {
      const std::uint32_t id = start + static_cast<std::uint32_t>(i);
      const std::string key = sub_label(id);
      if (tracked_.count(key) != 0)
        continue;
      auto tracked = std::make_unique<Tracked>();
      tracked->key = key;
      tracked->id = id;
      tracked->sub = subs[i];
      co_await admit(*tracked);
      (tracked->status == "active" ? accepted : skipped) += 1;
      records.emplace_back("sub:" + key, to_json(*tracked));
      auto* raw = tracked.get();
      tracked_[key] = std::move(tracked);
      schedule(*raw);
    }
    co_await state_.put(std::move(records));
    start = stop;
    if (start < end && config_.chain.snapshot_sync.sleep > 0)
      co_await sleep_for(
          std::chrono::milliseconds(static_cast<long>(config_.chain.snapshot_sync.sleep * 1000)));
  }
  tracked_gauge_.set(
      static_cast<double>(std::count_if(tracked_.begin(), tracked_.end(), [](const auto& t) {
        return t.second->status == "active";
      })));
  log_->info("subscriptions synced first={} last={} accepted={} skipped={} block={}", first,
             end - 1, accepted, skipped, block);
}

Awaitable<void> ChainProcessor::apply_events(std::uint64_t from, std::uint64_t to) {
  const std::string topic = core::to_hex(core::keccak256(std::string_view(kCancelledEvent)).view());
  for (std::uint64_t start = from; start <= to; start += kMaxLogRange) {
    const std::uint64_t stop = std::min(to, start + kMaxLogRange - 1);
    json filter = {{"address", addresses_.coordinator.to_checksum_hex()},
                   {"fromBlock", quantity(start)},
                   {"toBlock", quantity(stop)},
                   {"topics", json::array({topic})}};
    json params = json::array({std::move(filter)});
    auto logs = co_await rpc_.call("eth_getLogs", std::move(params));
    for (const auto& entry : logs) {
      const auto& topics = entry.at("topics");
      if (topics.size() < 2)
        continue;
      auto word = U256::from_hex(topics[1].get<std::string>());
      if (!word)
        continue;
      const std::string key = sub_label(static_cast<std::uint32_t>(word.value().low_u64()));
      if (auto* tracked = find(key); tracked != nullptr && tracked->status == "active") {
        tracked->status = "cancelled";
        tracked->reason = "subscription cancelled by its owner";
        tracked->sub.active_at = infernet::kCancelledActiveAt;
        log_->info("subscription cancelled subscription={}", key);
        co_await persist(*tracked);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Admission.

Awaitable<void> ChainProcessor::admit(Tracked& tracked) {
  const Subscription& sub = tracked.sub;
  auto skip = [&](std::string reason, const char* kind) {
    tracked.status = "skipped";
    tracked.reason = std::move(reason);
    metrics_
        .counter("inferd_chain_subscriptions_skipped_total",
                 "Subscriptions the node does not serve, by reason.", {{"reason", kind}})
        .inc();
    log_->info("skipping subscription subscription={} reason=\"{}\"",
               tracked.id != 0 ? sub_label(tracked.id) : tracked.key, tracked.reason);
  };

  if (sub.active_at == infernet::kCancelledActiveAt) {
    tracked.status = "cancelled";
    tracked.reason = "subscription cancelled by its owner";
    co_return;
  }
  if (sub.frequency == 0)
    co_return skip("frequency is 0: the subscription can never be delivered", "invalid");
  if (sub.redundancy == 0)
    co_return skip("redundancy is 0: the subscription can never be delivered", "invalid");

  const auto* ids = lookup_.find(sub.container_id);
  if (ids == nullptr) {
    co_return skip("container-set not supported: containerId " +
                       core::to_hex(sub.container_id.view()) +
                       " names no ordered selection of this node's containers",
                   "containers");
  }
  tracked.containers = *ids;
  const auto* first = orchestrator_.find(ids->front());
  if (first == nullptr || !first->config.external)
    co_return skip("first container must be external: " + ids->front(), "containers");

  const std::string owner = lower(sub.owner.to_lower_hex());
  for (const auto& id : *ids) {
    const auto& allowed = orchestrator_.find(id)->config.allowed_addresses;
    if (allowed.empty())
      continue;
    bool listed = std::any_of(allowed.begin(), allowed.end(),
                              [&](const std::string& a) { return lower(a) == owner; });
    if (!listed)
      co_return skip("container not allowed for address " + sub.owner.to_checksum_hex() +
                         " (containers[" + id + "].allowed_addresses)",
                     "allowlist");
  }

  if (!sub.verifier.is_zero() && !orchestrator_.find(ids->back())->config.generates_proofs) {
    co_return skip("container does not generate proof: the subscription names verifier " +
                       sub.verifier.to_checksum_hex() + " but " + ids->back() +
                       " has generates_proofs false",
                   "proof");
  }

  if (!sub.payment_amount.is_zero() && node_wallet_.is_zero()) {
    co_return skip(
        "invalid payment: the subscription pays but this node has no "
        "chain.wallet.payment_address",
        "payment");
  }
  const std::string token = lower(sub.payment_token.to_lower_hex());
  U256 minimum;
  for (const auto& id : *ids) {
    const auto& accepted = orchestrator_.find(id)->config.accepted_payments;
    if (accepted.empty())
      continue;
    auto entry = std::find_if(accepted.begin(), accepted.end(),
                              [&](const auto& pair) { return lower(pair.first) == token; });
    if (entry == accepted.end()) {
      co_return skip("invalid payment: token " + sub.payment_token.to_checksum_hex() +
                         " not accepted by container " + id,
                     "payment");
    }
    minimum += U256::from_dec(entry->second).value();
  }
  if (sub.payment_amount < minimum) {
    co_return skip("invalid payment: " + sub.payment_amount.to_dec() + " of token " +
                       sub.payment_token.to_checksum_hex() + " below minimum payment " +
                       minimum.to_dec(),
                   "payment");
  }

  auto cached = owner_has_code_.find(sub.owner);
  if (cached == owner_has_code_.end()) {
    json params = json::array({sub.owner.to_checksum_hex(), "latest"});
    auto code = co_await rpc_.call("eth_getCode", std::move(params));
    // Code, once deployed, stays (a self-destructed owner only makes deliveries revert).
    const bool has_code = code.is_string() && code.get<std::string>().size() > 2;
    cached = owner_has_code_.emplace(sub.owner, has_code).first;
  }
  if (!cached->second) {
    co_return skip("owner has no code: " + sub.owner.to_checksum_hex() +
                       " is not a contract, so it cannot receive a delivery",
                   "owner");
  }
  tracked.status = "active";
  tracked.reason.clear();
}

// ---------------------------------------------------------------------------------------------
// Scheduling.

std::optional<std::uint32_t> ChainProcessor::interval_at(const Subscription& sub,
                                                         std::uint32_t timestamp) const {
  if (timestamp < sub.active_at)
    return std::nullopt;
  if (sub.period == 0)
    return 1;
  return (timestamp - sub.active_at) / sub.period + 1;
}

void ChainProcessor::schedule(Tracked& tracked) {
  if (tracked.status != "active")
    return;
  if (tracked.next_interval > tracked.sub.frequency) {
    tracked.status = "completed";
    tracked.reason = "every interval is done";
    return;
  }
  std::uint64_t due = tracked.sub.active_at;
  if (tracked.sub.period != 0)
    due += static_cast<std::uint64_t>(tracked.next_interval - 1) * tracked.sub.period;
  due_.emplace(due, tracked.key);
}

ChainProcessor::Tracked* ChainProcessor::find(const std::string& key) {
  auto found = tracked_.find(key);
  return found == tracked_.end() ? nullptr : found->second.get();
}

Awaitable<void> ChainProcessor::run_due(std::uint32_t now) {
  std::vector<std::string> keys;
  while (!due_.empty() && due_.top().first <= now) {
    auto key = due_.top().second;
    due_.pop();
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      keys.push_back(std::move(key));
  }
  if (keys.empty())
    co_return;

  struct Candidate {
    Tracked* tracked;
    std::uint32_t interval;
  };
  std::vector<Candidate> candidates;
  std::vector<std::pair<std::string, Tracked*>> changed;
  for (const auto& key : keys) {
    Tracked* tracked = find(key);
    if (tracked == nullptr || tracked->status != "active")
      continue;
    auto current = interval_at(tracked->sub, now);
    if (!current) {
      schedule(*tracked);
      continue;
    }
    if (*current > tracked->sub.frequency) {
      tracked->status = "completed";
      tracked->reason = "past its last interval";
      changed.emplace_back(key, tracked);
      continue;
    }
    if (tracked->delegated && tracked->expiry <= now) {
      tracked->status = "stopped";
      tracked->reason = "subscription expired: the signature expired at " +
                        std::to_string(tracked->expiry) + " before delivery";
      log_->info("delegated subscription expired key={} expiry={}", key, tracked->expiry);
      changed.emplace_back(key, tracked);
      continue;
    }
    tracked->next_interval = std::max(tracked->next_interval, *current);
    // An interval that closes before the next block cannot be delivered; wait for the next.
    if (tracked->sub.period != 0) {
      const std::uint64_t closes =
          static_cast<std::uint64_t>(tracked->sub.active_at) +
          static_cast<std::uint64_t>(tracked->next_interval) * tracked->sub.period;
      if (closes <= static_cast<std::uint64_t>(now) + 1) {
        tracked->next_interval += 1;
        schedule(*tracked);
        continue;
      }
    }
    if (in_flight_.count({key, tracked->next_interval}) != 0)
      continue;
    candidates.push_back({tracked, tracked->next_interval});
  }

  // Redundancy and "already responded" for the on-chain ones, in two batched reads.
  std::vector<std::uint32_t> ids;
  std::vector<std::uint32_t> intervals;
  std::vector<RpcRequest> responded;
  const Address node = tx_.address();
  for (const auto& c : candidates) {
    if (c.tracked->id == 0)
      continue;
    ids.push_back(c.tracked->id);
    intervals.push_back(c.interval);
    auto key = infernet::node_responded_key(c.tracked->id, c.interval, node);
    auto calldata =
        core::abi::encode_call("nodeResponded(bytes32)", {core::abi::AbiValue::fixed_bytes(key)});
    json call = {{"to", addresses_.coordinator.to_checksum_hex()},
                 {"data", core::to_hex(calldata.value())}};
    responded.push_back(RpcRequest{"eth_call", json::array({call, "latest"})});
  }
  std::vector<std::uint16_t> counts;
  std::vector<RpcResponse> responses;
  if (!ids.empty()) {
    counts = co_await client_.read_redundancy_count_batch(addresses_.reader, ids, intervals);
    responses = co_await rpc_.batch(std::move(responded));
  }

  std::size_t index = 0;
  for (const auto& c : candidates) {
    Tracked& tracked = *c.tracked;
    if (tracked.id != 0) {
      const std::size_t i = index++;
      const bool full = i < counts.size() && counts[i] >= tracked.sub.redundancy;
      bool already = false;
      if (i < responses.size() && responses[i].ok()) {
        auto word = core::from_hex(responses[i].result->get<std::string>());
        already = word && !word.value().empty() && word.value().back() == 1;
      }
      if (already || full) {
        auto& delivery = tracked.deliveries[c.interval];
        delivery.interval = c.interval;
        if (delivery.outcome.empty() || delivery.outcome == "in_flight")
          delivery.outcome = already ? "delivered" : "benign_race";
        if (full && !already)
          delivery.reason = "interval already has its redundancy";
        tracked.next_interval = c.interval + 1;
        schedule(tracked);
        changed.emplace_back(tracked.key, &tracked);
        continue;
      }
    }
    in_flight_.insert({tracked.key, c.interval});
    asio::co_spawn(strand_, deliver(tracked.key, c.interval, head_seen_), asio::detached);
  }
  for (auto& [key, tracked] : changed)
    co_await persist(*tracked);
}

// ---------------------------------------------------------------------------------------------
// Execution and delivery.

Awaitable<std::optional<std::string>> ChainProcessor::check_payment(const Tracked& tracked) {
  const Subscription& sub = tracked.sub;
  if (sub.payment_amount.is_zero())
    co_return std::nullopt;
  bool valid = co_await client_.is_valid_wallet(addresses_.wallet_factory, sub.wallet);
  if (!valid) {
    co_return "subscription wallet " + sub.wallet.to_checksum_hex() +
        " is not a WalletFactory wallet";
  }
  U256 balance;
  if (sub.payment_token.is_zero()) {
    json params = json::array({sub.wallet.to_checksum_hex(), "latest"});
    auto value = co_await rpc_.call("eth_getBalance", std::move(params));
    balance = U256::from_hex(value.get<std::string>()).value();
  } else {
    balance = co_await client_.erc20_balance(sub.payment_token, sub.wallet);
  }
  if (balance < sub.payment_amount) {
    co_return "subscription wallet " + sub.wallet.to_checksum_hex() +
        " has insufficient balance: " + balance.to_dec() + " < " + sub.payment_amount.to_dec();
  }
  co_return std::nullopt;
}

Awaitable<void> ChainProcessor::ensure_proof_allowance(const Tracked& tracked) {
  const Subscription& sub = tracked.sub;
  if (sub.verifier.is_zero() || sub.payment_amount.is_zero() || node_wallet_.is_zero())
    co_return;
  U256 allowance =
      co_await client_.wallet_allowance(node_wallet_, tx_.address(), sub.payment_token);
  if (!(allowance < sub.payment_amount))
    co_return;
  auto calldata = core::abi::encode_call(
      "approve(address,address,uint256)",
      {core::abi::AbiValue::address(tx_.address()), core::abi::AbiValue::address(sub.payment_token),
       core::abi::AbiValue::uint(sub.payment_amount)});
  TxRequest request;
  request.to = node_wallet_;
  request.data = calldata.value();
  request.purpose = "approve wallet=" + node_wallet_.to_lower_hex() +
                    " token=" + sub.payment_token.to_lower_hex() + " for=" + tracked.key +
                    " amount=" + sub.payment_amount.to_dec();
  auto receipt = co_await tx_.send(std::move(request));
  if (!receipt.success)
    throw std::runtime_error("the approve transaction of the node's payment wallet reverted");
  log_->info("payment wallet allowance approved key={} token={} amount={} tx={}", tracked.key,
             sub.payment_token.to_checksum_hex(), sub.payment_amount.to_dec(),
             core::to_hex(receipt.hash.view()));
}

void ChainProcessor::finish_attempt(Tracked& tracked, std::uint32_t interval,
                                    const std::string& outcome, const std::string& reason,
                                    bool count_failure) {
  in_flight_.erase({tracked.key, interval});
  auto& delivery = tracked.deliveries[interval];
  delivery.interval = interval;
  delivery.outcome = outcome;
  delivery.reason = reason;
  metrics_
      .counter("inferd_chain_deliveries_total", "Delivery attempts by outcome.",
               {{"outcome", outcome}})
      .inc();
  if (tracked.status != "active")
    return;

  if (!count_failure) {
    tracked.failed_intervals = 0;
    tracked.next_interval = std::max(tracked.next_interval, interval + 1);
    if (tracked.delegated && outcome == "delivered") {
      // Created on-chain: the sync serves its later intervals under its id.
      tracked.status = "completed";
      tracked.reason = "created on-chain by this node's delivery";
      return;
    }
    schedule(tracked);
    return;
  }

  const std::uint32_t limit = config_.chain.max_delivery_attempts;
  const bool open = [&] {
    if (tracked.sub.period == 0)
      return true;
    const std::uint64_t closes = static_cast<std::uint64_t>(tracked.sub.active_at) +
                                 static_cast<std::uint64_t>(interval) * tracked.sub.period;
    return closes > static_cast<std::uint64_t>(head_time_) + 1;
  }();
  if (delivery.attempts < limit && open) {
    // Retry the same interval after a backoff of 2^attempts seconds of chain time.
    const std::uint64_t backoff = std::uint64_t{1} << std::min<std::uint32_t>(delivery.attempts, 6);
    due_.emplace(static_cast<std::uint64_t>(head_time_) + backoff, tracked.key);
    log_->warn("delivery attempt failed; retrying key={} interval={} attempt={} reason=\"{}\"",
               tracked.key, interval, delivery.attempts, reason);
    return;
  }
  tracked.failed_intervals += 1;
  if (tracked.callback() || tracked.delegated || tracked.failed_intervals >= limit) {
    tracked.status = "stopped";
    tracked.reason = "subscription has exceeded the maximum number of attempts (" +
                     std::to_string(limit) + "): " + reason;
    log_->warn(
        "subscription has exceeded the maximum number of attempts key={} interval={} "
        "reason=\"{}\"",
        tracked.key, interval, reason);
    return;
  }
  log_->warn(
      "interval given up after {} attempts; the subscription goes on key={} interval={} "
      "reason=\"{}\"",
      delivery.attempts, tracked.key, interval, reason);
  tracked.next_interval = std::max(tracked.next_interval, interval + 1);
  schedule(tracked);
}

bool ChainProcessor::simulation_error_allowed(const TxError& error) const {
  if (!config_.chain.wallet)
    return false;
  const std::string text = lower(error.what());
  for (const auto& allowed : config_.chain.wallet->allowed_sim_errors) {
    if (!allowed.empty() && text.find(lower(allowed)) != std::string::npos)
      return true;
  }
  return false;
}

Awaitable<void> ChainProcessor::deliver(std::string key, std::uint32_t interval,
                                        std::chrono::steady_clock::time_point seen) {
  Tracked* tracked = find(key);
  if (tracked == nullptr)
    co_return;
  auto& delivery = tracked->deliveries[interval];
  delivery.interval = interval;
  if (delivery.outcome != "interrupted" || delivery.attempts == 0)
    delivery.attempts += 1;
  delivery.outcome = "in_flight";
  const std::uint32_t attempt = delivery.attempts;
  const std::string purpose =
      tracked->delegated
          ? "deliver owner=" + tracked->sub.owner.to_lower_hex() +
                " nonce=" + std::to_string(tracked->nonce) +
                " interval=" + std::to_string(interval) + " attempt=" + std::to_string(attempt)
          : "deliver sub=" + std::to_string(tracked->id) + " interval=" + std::to_string(interval) +
                " attempt=" + std::to_string(attempt);
  // The attempt number is durable before anything is signed under it.
  co_await persist(*tracked);

  std::string outcome = "failed";
  std::string reason;
  bool failure = true;
  bool transient = false;
  try {
    std::optional<TxReceipt> receipt = co_await tx_.resume(purpose);
    if (!receipt) {
      if (auto problem = co_await check_payment(*tracked)) {
        reason = *problem;
        log_->warn("delivery skipped key={} interval={} reason=\"{}\"", key, interval, reason);
        throw std::runtime_error(reason);
      }

      containers::JobSpec job;
      job.id = "chain-" + key + "-" + std::to_string(interval);
      job.owner = "chain";
      job.containers = tracked->containers;
      job.requires_proof = !tracked->sub.verifier.is_zero();
      job.destination = containers::JobLocation::kOnchain;
      if (tracked->delegated) {
        job.source = containers::JobLocation::kOffchain;
        job.data = tracked->data;
      } else {
        job.source = containers::JobLocation::kOnchain;
        Bytes input;
        try {
          input = co_await client_.get_container_inputs(tracked->sub.owner, tracked->id, interval,
                                                        head_time_, tx_.address());
        } catch (const std::exception& error) {
          log_->info(
              "getContainerInputs failed; sending empty input key={} interval={} "
              "error=\"{}\"",
              key, interval, error.what());
        }
        job.data = core::to_hex(input, core::HexPrefix::kWithout);
      }
      auto results = co_await orchestrator_.run_chain(std::move(job));
      tracked = find(key);
      if (results.empty())
        throw std::runtime_error("no container ran");
      const auto& last = results.back();
      if (last.error)
        throw std::runtime_error(*last.error);
      if (infernet::output_reports_failure(*last.output)) {
        throw std::runtime_error("container " + last.container +
                                 " reported failure: " + last.output->dump().substr(0, 300));
      }
      auto payload = infernet::encode_delivery(*last.output, last.raw_body);
      if (!payload)
        throw std::runtime_error(payload.error().message);
      co_await ensure_proof_allowance(*tracked);

      TxRequest request;
      request.to = addresses_.coordinator;
      request.purpose = purpose;
      request.on_broadcast = [this, seen] {
        due_to_broadcast_.observe(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - seen).count());
      };
      if (tracked->delegated) {
        request.data = infernet::encode_deliver_compute_delegatee(
            tracked->nonce, tracked->expiry, tracked->sub, tracked->signature, interval,
            payload.value().input, payload.value().output, payload.value().proof, node_wallet_);
      } else {
        request.data = infernet::encode_deliver_compute(
            tracked->id, interval, payload.value().input, payload.value().output,
            payload.value().proof, node_wallet_);
      }
      TxRequest forced = request;
      bool allowed = false;
      try {
        receipt = co_await tx_.send(std::move(request));
      } catch (const TxError& error) {
        if (error.kind() != TxErrorKind::kSimulationReverted || !simulation_error_allowed(error))
          throw;
        log_->info(
            "simulation error allowed by chain.wallet.allowed_sim_errors; sending with "
            "max_gas_limit key={} interval={} error=\"{}\"",
            key, interval, error.what());
        allowed = true;
      }
      if (allowed) {
        forced.skip_simulation = true;
        receipt = co_await tx_.send(std::move(forced));
      }
    }
    tracked = find(key);
    auto& d = tracked->deliveries[interval];
    d.tx_hash = core::to_hex(receipt->hash.view());
    gas_used_.inc(receipt->gas_used.low_u64());
    if (receipt->success) {
      outcome = "delivered";
      failure = false;
      log_->info("delivered key={} interval={} tx={} gas={} block={}", key, interval, d.tx_hash,
                 receipt->gas_used.to_dec(), receipt->block_number.to_dec());
    } else {
      outcome = "reverted";
      reason = "transaction " + d.tx_hash + " reverted on-chain";
    }
  } catch (const RpcError& error) {
    transient = true;
    reason = error.what();
  } catch (const TxError& error) {
    transient = error.kind() == TxErrorKind::kRpc || error.kind() == TxErrorKind::kNotMined;
    if (error.kind() == TxErrorKind::kSimulationReverted && error.revert) {
      auto named = infernet::classify_revert(*error.revert);
      if (named && infernet::is_benign_race(*named)) {
        outcome = "benign_race";
        failure = false;
        reason = std::string(infernet::error_name(*named));
        log_->info("delivery not needed key={} interval={} reason={}", key, interval, reason);
      } else {
        reason = error.what();
      }
    } else {
      reason = error.what();
    }
  } catch (const std::exception& error) {
    if (reason.empty())
      reason = error.what();
  }
  tracked = find(key);
  if (tracked == nullptr)
    co_return;
  if (failure && reason.empty())
    reason = "delivery failed";
  if (transient && tracked->status == "active") {
    // An RPC outage is not the subscription's fault, so the attempt keeps its number and journal
    // purpose and is retried once the RPC node responds again.
    in_flight_.erase({key, interval});
    auto& d = tracked->deliveries[interval];
    d.outcome = "interrupted";  // the next try resumes this attempt and its journal purpose
    d.reason = reason;
    due_.emplace(static_cast<std::uint64_t>(head_time_) + 2, key);
    log_->warn("delivery interrupted by an RPC failure; will retry key={} interval={} error=\"{}\"",
               key, interval, reason);
    co_await persist(*tracked);
    co_return;
  }
  finish_attempt(*tracked, interval, outcome, reason, failure);
  co_await persist(*tracked);
}

// ---------------------------------------------------------------------------------------------
// Persistence and queries.

json ChainProcessor::to_json(const Tracked& tracked) const {
  json deliveries = json::array();
  for (const auto& [interval, d] : tracked.deliveries) {
    json entry = {{"interval", interval},
                  {"outcome", d.outcome},
                  {"attempts", d.attempts},
                  {"tx_hash", d.tx_hash.empty() ? json(nullptr) : json(d.tx_hash)}};
    if (!d.reason.empty())
      entry["reason"] = d.reason;
    deliveries.push_back(std::move(entry));
  }
  json out = {
      {"key", tracked.key},
      {"id", tracked.id},
      {"owner", tracked.sub.owner.to_checksum_hex()},
      {"containers", tracked.containers},
      {"status", tracked.status},
      {"reason", tracked.reason.empty() ? json(nullptr) : json(tracked.reason)},
      {"next_interval", tracked.next_interval},
      {"failed_intervals", tracked.failed_intervals},
      {"deliveries", std::move(deliveries)},
      {"sub",
       core::to_hex(
           core::abi::encode(kSubscriptionParams, {infernet::to_abi(tracked.sub)}).value())}};
  if (tracked.delegated) {
    out["delegated"] = {{"nonce", tracked.nonce},
                        {"expiry", tracked.expiry},
                        {"signature", core::to_hex(tracked.signature.to_rsv().view())},
                        {"data", tracked.data}};
  }
  return out;
}

Awaitable<void> ChainProcessor::persist(const Tracked& tracked) {
  std::vector<std::pair<std::string, json>> records;
  records.emplace_back("sub:" + tracked.key, to_json(tracked));
  co_await state_.put(std::move(records));
}

Awaitable<void> ChainProcessor::persist_checkpoint() {
  std::vector<std::pair<std::string, json>> records;
  records.emplace_back("checkpoint", json{{"block", last_block_},
                                          {"block_hash", head_hash_},
                                          {"sub_id", last_sub_id_},
                                          {"chain_id", chain_id_},
                                          {"registry", registry_.to_lower_hex()}});
  co_await state_.put(std::move(records));
}

Awaitable<std::optional<json>> ChainProcessor::subscription(std::uint32_t id) {
  auto work = [this, id]() -> Awaitable<std::optional<json>> {
    const Tracked* tracked = find(sub_label(id));
    if (tracked == nullptr)
      co_return std::nullopt;
    json out = to_json(*tracked);
    out.erase("sub");
    out.erase("key");
    if (out.contains("delegated"))
      out["delegated"].erase("signature");
    co_return out;
  };
  co_return co_await asio::co_spawn(strand_, std::move(work), asio::use_awaitable);
}

json ChainProcessor::health() const {
  return {{"status", synced_once_ ? "ok" : "syncing"},
          {"synced_block", last_block_},
          {"last_subscription_id", last_sub_id_}};
}

// ---------------------------------------------------------------------------------------------
// Delegated subscriptions.

Awaitable<std::optional<DelegatedRejection>> ChainProcessor::submit_delegated(json body) {
  auto work = [this, body = std::move(body)]() -> Awaitable<std::optional<DelegatedRejection>> {
    const json& s = body.at("subscription");
    const json sig = body.value("signature", json(nullptr));
    if (!s.is_object())
      co_return reject(400, "subscription: expected an object");
    if (!sig.is_object())
      co_return reject(400, "signature: expected an object with nonce, expiry, v, r and s");

    Subscription sub;
    auto address = [&](const char* key, Address& out) -> std::optional<DelegatedRejection> {
      auto found = s.find(key);
      if (found == s.end() || !found->is_string())
        return reject(400, std::string("subscription.") + key + ": expected an address string");
      auto parsed = Address::from_hex(found->get_ref<const std::string&>());
      if (!parsed) {
        return reject(400, std::string("subscription.") + key + ": " + parsed.error().message);
      }
      out = parsed.value();
      return std::nullopt;
    };
    for (auto [key, out] : {std::pair<const char*, Address*>{"owner", &sub.owner},
                            {"verifier", &sub.verifier},
                            {"payment_token", &sub.payment_token},
                            {"wallet", &sub.wallet}}) {
      if (auto bad = address(key, *out))
        co_return *bad;
    }
    auto number = [&](const json& object, const char* prefix, const char* key, U256 max,
                      U256& out) -> std::optional<DelegatedRejection> {
      auto value = read_uint(object, key);
      if (!value || max < *value) {
        return reject(
            400, std::string(prefix) + key + ": expected an integer from 0 to " + max.to_dec());
      }
      out = *value;
      return std::nullopt;
    };
    const U256 u32 = U256(0xffffffffULL);
    U256 active_at, period, frequency, redundancy, nonce, expiry, v, r, s_value;
    for (auto [key, out, max] : {std::tuple<const char*, U256*, U256>{"active_at", &active_at, u32},
                                 {"period", &period, u32},
                                 {"frequency", &frequency, u32},
                                 {"redundancy", &redundancy, U256(0xffffULL)},
                                 {"payment_amount", &sub.payment_amount, U256::max()}}) {
      if (auto bad = number(s, "subscription.", key, max, *out))
        co_return *bad;
    }
    for (auto [key, out, max] : {std::tuple<const char*, U256*, U256>{"nonce", &nonce, u32},
                                 {"expiry", &expiry, u32},
                                 {"v", &v, U256(255)},
                                 {"r", &r, U256::max()},
                                 {"s", &s_value, U256::max()}}) {
      if (auto bad = number(sig, "signature.", key, max, *out))
        co_return *bad;
    }
    sub.active_at = static_cast<std::uint32_t>(active_at.low_u64());
    sub.period = static_cast<std::uint32_t>(period.low_u64());
    sub.frequency = static_cast<std::uint32_t>(frequency.low_u64());
    sub.redundancy = static_cast<std::uint16_t>(redundancy.low_u64());
    if (auto lazy = s.find("lazy"); lazy != s.end() && !lazy->is_boolean())
      co_return reject(400, "subscription.lazy: expected true or false");
    sub.lazy = s.value("lazy", false);
    auto containers_hex = s.find("containers");
    if (containers_hex == s.end() || !containers_hex->is_string())
      co_return reject(400,
                       "subscription.containers: expected the 0x hex of the bytes32 "
                       "containerId");
    auto container_id = core::fixed_from_hex<32>(containers_hex->get_ref<const std::string&>());
    if (!container_id)
      co_return reject(400, "subscription.containers: " + container_id.error().message);
    sub.container_id = container_id.value();
    if (v.low_u64() != 27 && v.low_u64() != 28)
      co_return reject(400, "signature.v: expected 27 or 28, got " + v.to_dec());
    core::RecoverableSignature signature;
    signature.r = r.to_word();
    signature.s = s_value.to_word();
    signature.recovery_id = static_cast<std::uint8_t>(v.low_u64() - 27);
    json data = body.value("data", json::object());
    if (!data.is_object())
      co_return reject(400, "data: expected an object, the input of the first container");

    const auto expiry32 = static_cast<std::uint32_t>(expiry.low_u64());
    const auto nonce32 = static_cast<std::uint32_t>(nonce.low_u64());
    json params = {{"owner", sub.owner.to_checksum_hex()}, {"nonce", nonce32}};
    // The coordinator rejects block.timestamp >= expiry; compare with the newest block.
    std::uint32_t now = head_time_;
    try {
      json latest_params = json::array({"latest", false});
      auto latest = co_await rpc_.call("eth_getBlockByNumber", std::move(latest_params));
      if (latest.is_object())
        now = std::max(
            now, static_cast<std::uint32_t>(parse_u64(latest.at("timestamp"), "block timestamp")));
    } catch (const std::exception&) {
    }
    if (expiry32 <= now) {
      params["expiry"] = expiry32;
      params["block_timestamp"] = now;
      co_return reject(403, "Signature expired", params);
    }

    // Guardian rules for delegated work, in the reference's order.
    const auto* ids = lookup_.find(sub.container_id);
    if (ids == nullptr) {
      params["containers_hash"] = core::to_hex(sub.container_id.view());
      co_return reject(404, "Container-set not supported", params);
    }
    if (!orchestrator_.find(ids->front())->config.external) {
      params["first_container"] = ids->front();
      co_return reject(403, "First container must be external", params);
    }
    if (!sub.verifier.is_zero() && !orchestrator_.find(ids->back())->config.generates_proofs) {
      params["container"] = ids->back();
      co_return reject(403, "Container does not generate proof", params);
    }
    const std::string owner = lower(sub.owner.to_lower_hex());
    for (const auto& id : *ids) {
      const auto& allowed = orchestrator_.find(id)->config.allowed_delegate_addresses;
      if (!allowed.empty() && std::none_of(allowed.begin(), allowed.end(),
                                           [&](const auto& a) { return lower(a) == owner; })) {
        params["container"] = id;
        params["address"] = sub.owner.to_checksum_hex();
        co_return reject(403, "Container not allowed for address", params);
      }
    }

    core::Eip712Domain domain{"InfernetCoordinator", "1", U256(chain_id_), addresses_.coordinator};
    auto digest = core::delegate_subscription_digest(domain, nonce32, expiry32, sub);
    auto signer = core::recover_address(secp_, digest, signature);
    if (!signer)
      co_return reject(400, "signature: " + signer.error().message, params);
    Address expected;
    try {
      expected = co_await client_.get_signer(sub.owner);
    } catch (const std::exception& error) {
      co_return reject(403,
                       "subscription.owner " + sub.owner.to_checksum_hex() +
                           " has no getSigner(): it is not a Delegator consumer",
                       params);
    }
    if (!(expected == signer.value())) {
      params["signer"] = signer.value().to_checksum_hex();
      co_return reject(403,
                       "Signer mismatch: the signature is not by the consumer's signer "
                       "(getSigner() of the owner)",
                       params);
    }

    auto created = co_await client_.delegate_created_id(addresses_.coordinator, sub.owner, nonce32);
    if (created != 0) {
      log_->info("delegated subscription already on-chain owner={} nonce={} subscription={}",
                 sub.owner.to_checksum_hex(), nonce32, created);
      co_return std::nullopt;
    }
    const std::string key = "d:" + owner + ":" + std::to_string(nonce32);
    if (find(key) != nullptr)
      co_return std::nullopt;

    auto tracked = std::make_unique<Tracked>();
    tracked->key = key;
    tracked->sub = sub;
    tracked->delegated = true;
    tracked->nonce = nonce32;
    tracked->expiry = expiry32;
    tracked->signature = signature;
    tracked->data = std::move(data);
    auto* raw = tracked.get();
    tracked_[key] = std::move(tracked);
    co_await admit(*raw);
    if (raw->status != "active") {
      auto reason = raw->reason;
      tracked_.erase(key);
      co_return reject(403, reason, params);
    }
    schedule(*raw);
    co_await persist(*raw);
    log_->info("delegated subscription accepted owner={} nonce={} active_at={} frequency={}",
               sub.owner.to_checksum_hex(), nonce32, sub.active_at, sub.frequency);
    co_return std::nullopt;
  };
  co_return co_await asio::co_spawn(strand_, std::move(work), asio::use_awaitable);
}

}  // namespace inferd::chain

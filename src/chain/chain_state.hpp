// What the chain pipeline keeps across restarts: the sync checkpoint and one record per
// subscription (on-chain by id, delegated by owner and nonce), in table `chain_state` of a
// SQLite file. The transaction journal records whether a delivery was signed. These records let
// a restart resume sync where it stopped and serve GET /api/subscriptions/{id}.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "infra/asio.hpp"

namespace inferd::chain {

namespace detail {
class StateDatabase;
}

/// Key-value records (JSON values) in SQLite, WAL mode, synchronous=FULL. Every SQLite call runs
/// on the store's own thread. Thread-safe.
class ChainState {
 public:
  /// Opens or creates the database; throws std::runtime_error naming the path when it cannot.
  explicit ChainState(const std::filesystem::path& path);
  ~ChainState();
  ChainState(const ChainState&) = delete;
  ChainState& operator=(const ChainState&) = delete;

  /// Writes all `records` (key, value) in one transaction; durable when it returns.
  Awaitable<void> put(std::vector<std::pair<std::string, nlohmann::json>> records);
  Awaitable<std::optional<nlohmann::json>> get(std::string key);
  /// Every record whose key starts with `prefix`, in key order.
  Awaitable<std::vector<std::pair<std::string, nlohmann::json>>> scan(std::string prefix);

 private:
  struct Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace inferd::chain

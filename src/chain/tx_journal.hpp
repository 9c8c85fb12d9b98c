// The transaction journal: every signed transaction is recorded before it is broadcast, so after
// a restart the node watches or re-broadcasts what was in flight and never signs a second
// transaction for the same purpose.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/bytes.hpp"
#include "core/u256.hpp"
#include "infra/asio.hpp"

namespace inferd::chain {

/// One journalled transaction, keyed by its purpose (e.g. "deliver sub=5 interval=2").
struct JournalEntry {
  enum class Status { kPending, kMined };

  std::string purpose;
  core::U256 nonce;
  core::Bytes32 hash;  ///< of the latest signed version
  core::Bytes raw;     ///< the latest signed version, re-broadcast after a restart
  Status status = Status::kPending;
  core::U256 max_fee;       ///< of the latest signed version (the gas price if legacy)
  core::U256 priority_fee;  ///< of the latest signed version (EIP-1559 only)
};

/// Storage of journal entries. Implementations must make record() durable before it returns.
class TxJournal {
 public:
  virtual ~TxJournal() = default;

  /// Inserts or replaces the entry for `entry.purpose`.
  virtual Awaitable<void> record(JournalEntry entry) = 0;
  /// The entry for `purpose`, if any.
  virtual Awaitable<std::optional<JournalEntry>> find(std::string purpose) = 0;
  /// Every entry still pending.
  virtual Awaitable<std::vector<JournalEntry>> pending() = 0;
};

/// A journal in memory: survives a TxManager, not the process. For tests and for nodes that
/// accept losing track of in-flight transactions on a crash. Thread-safe.
class MemoryTxJournal : public TxJournal {
 public:
  Awaitable<void> record(JournalEntry entry) override;
  Awaitable<std::optional<JournalEntry>> find(std::string purpose) override;
  Awaitable<std::vector<JournalEntry>> pending() override;

 private:
  std::mutex mutex_;
  std::map<std::string, JournalEntry> entries_;
};

}  // namespace inferd::chain

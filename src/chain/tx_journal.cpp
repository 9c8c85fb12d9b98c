#include "chain/tx_journal.hpp"

namespace inferd::chain {

Awaitable<void> MemoryTxJournal::record(JournalEntry entry) {
  std::lock_guard lock(mutex_);
  entries_[entry.purpose] = std::move(entry);
  co_return;
}

Awaitable<std::optional<JournalEntry>> MemoryTxJournal::find(std::string purpose) {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(purpose);
  if (found == entries_.end()) {
    co_return std::nullopt;
  }
  co_return found->second;
}

Awaitable<std::vector<JournalEntry>> MemoryTxJournal::pending() {
  std::lock_guard lock(mutex_);
  std::vector<JournalEntry> out;
  for (const auto& [purpose, entry] : entries_) {
    if (entry.status == JournalEntry::Status::kPending) {
      out.push_back(entry);
    }
  }
  co_return out;
}

}  // namespace inferd::chain

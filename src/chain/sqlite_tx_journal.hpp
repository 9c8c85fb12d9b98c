// A transaction journal in an SQLite file: what TxManager records survives a crash of the
// process, so a restarted node re-broadcasts the same signed bytes instead of signing again.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chain/tx_journal.hpp"

namespace inferd::chain {

namespace detail {
class JournalDatabase;
}

/// A journal with one row per purpose in table `tx_journal` of the file at `path` (created with
/// the table when missing, WAL mode, synchronous=FULL so that a committed row survives a power
/// loss). Every SQLite call runs on the journal's own thread, never on the caller's I/O
/// threads, and record() returns once its row is committed. Thread-safe.
class SqliteTxJournal : public TxJournal {
 public:
  /// Opens or creates the database. Throws std::runtime_error naming the path when it cannot.
  explicit SqliteTxJournal(const std::filesystem::path& path);
  ~SqliteTxJournal() override;
  SqliteTxJournal(const SqliteTxJournal&) = delete;
  SqliteTxJournal& operator=(const SqliteTxJournal&) = delete;

  Awaitable<void> record(JournalEntry entry) override;
  Awaitable<std::optional<JournalEntry>> find(std::string purpose) override;
  Awaitable<std::vector<JournalEntry>> pending() override;

 private:
  struct Worker;
  std::unique_ptr<Worker> worker_;
};

}  // namespace inferd::chain

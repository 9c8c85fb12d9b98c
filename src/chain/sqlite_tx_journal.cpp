#include "chain/sqlite_tx_journal.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include "store/blocking_worker.hpp"

namespace inferd::chain {

namespace detail {

// One open connection. Used only on the journal's thread.
class JournalDatabase {
 public:
  explicit JournalDatabase(const std::filesystem::path& path) : path_(path) {
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw std::runtime_error("cannot open transaction journal " + path.string() + ": " + message +
                               "; check the directory exists and is writable");
    }
    try {
      sqlite3_busy_timeout(db_, 5000);
      exec("PRAGMA journal_mode=WAL");
      // FULL: a commit is on disk before record() returns, not only in the WAL buffer.
      exec("PRAGMA synchronous=FULL");
      exec(
          "CREATE TABLE IF NOT EXISTS tx_journal ("
          " purpose TEXT PRIMARY KEY,"
          " nonce TEXT NOT NULL,"
          " hash BLOB NOT NULL,"
          " raw BLOB NOT NULL,"
          " max_fee TEXT NOT NULL,"
          " priority_fee TEXT NOT NULL,"
          " status INTEGER NOT NULL)");
    } catch (...) {
      sqlite3_close(db_);
      throw;
    }
  }
  ~JournalDatabase() { sqlite3_close(db_); }
  JournalDatabase(const JournalDatabase&) = delete;
  JournalDatabase& operator=(const JournalDatabase&) = delete;

  void record(const JournalEntry& entry) {
    Statement s(*this,
                "INSERT INTO tx_journal (purpose, nonce, hash, raw, max_fee, priority_fee, status)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(purpose) DO UPDATE SET"
                " nonce = excluded.nonce, hash = excluded.hash, raw = excluded.raw,"
                " max_fee = excluded.max_fee, priority_fee = excluded.priority_fee,"
                " status = excluded.status");
    s.bind_text(1, entry.purpose);
    s.bind_text(2, entry.nonce.to_dec());
    s.bind_blob(3, entry.hash.data(), entry.hash.size());
    s.bind_blob(4, entry.raw.data(), entry.raw.size());
    s.bind_text(5, entry.max_fee.to_dec());
    s.bind_text(6, entry.priority_fee.to_dec());
    s.bind_int(7, entry.status == JournalEntry::Status::kMined ? 1 : 0);
    s.done("recording " + entry.purpose);
  }

  std::vector<JournalEntry> select(const std::string* purpose) {
    const char* sql = purpose != nullptr
                          ? "SELECT purpose, nonce, hash, raw, max_fee, priority_fee, status"
                            " FROM tx_journal WHERE purpose = ?1"
                          : "SELECT purpose, nonce, hash, raw, max_fee, priority_fee, status"
                            " FROM tx_journal WHERE status = 0 ORDER BY purpose";
    Statement s(*this, sql);
    if (purpose != nullptr) {
      s.bind_text(1, *purpose);
    }
    std::vector<JournalEntry> out;
    while (s.row("reading")) {
      JournalEntry entry;
      entry.purpose = s.text(0);
      entry.nonce = number(s.text(1), "nonce");
      const std::string hash = s.blob(2);
      auto parsed = core::Bytes32::from_view(
          core::ByteView(reinterpret_cast<const std::uint8_t*>(hash.data()), hash.size()));
      if (!parsed) {
        throw std::runtime_error("transaction journal " + path_.string() + ": the hash of " +
                                 entry.purpose + " is not 32 bytes");
      }
      entry.hash = *parsed;
      const std::string raw = s.blob(3);
      entry.raw.assign(raw.begin(), raw.end());
      entry.max_fee = number(s.text(4), "max_fee");
      entry.priority_fee = number(s.text(5), "priority_fee");
      entry.status =
          s.integer(6) == 1 ? JournalEntry::Status::kMined : JournalEntry::Status::kPending;
      out.push_back(std::move(entry));
    }
    return out;
  }

 private:
  class Statement {
   public:
    Statement(JournalDatabase& db, const char* sql) : db_(db) {
      if (sqlite3_prepare_v2(db_.db_, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
        db_.fail("preparing a statement");
      }
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    void bind_text(int index, const std::string& value) {
      sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                        SQLITE_TRANSIENT);
    }
    void bind_blob(int index, const std::uint8_t* data, std::size_t size) {
      sqlite3_bind_blob(stmt_, index, data, static_cast<int>(size), SQLITE_TRANSIENT);
    }
    void bind_int(int index, int value) { sqlite3_bind_int(stmt_, index, value); }

    void done(const std::string& what) {
      if (sqlite3_step(stmt_) != SQLITE_DONE) {
        db_.fail(what);
      }
    }
    bool row(const std::string& what) {
      const int rc = sqlite3_step(stmt_);
      if (rc == SQLITE_ROW) {
        return true;
      }
      if (rc != SQLITE_DONE) {
        db_.fail(what);
      }
      return false;
    }
    std::string text(int column) {
      const auto* value = sqlite3_column_text(stmt_, column);
      return value != nullptr ? std::string(reinterpret_cast<const char*>(value)) : std::string();
    }
    std::string blob(int column) {
      const void* value = sqlite3_column_blob(stmt_, column);
      const int size = sqlite3_column_bytes(stmt_, column);
      return value != nullptr ? std::string(static_cast<const char*>(value), size) : std::string();
    }
    std::int64_t integer(int column) { return sqlite3_column_int64(stmt_, column); }

   private:
    JournalDatabase& db_;
    sqlite3_stmt* stmt_ = nullptr;
  };

  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("transaction journal " + path_.string() + ": " + what +
                             " failed: " + sqlite3_errmsg(db_));
  }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("transaction journal " + path_.string() + ": " + sql +
                               " failed: " + message);
    }
  }

  core::U256 number(const std::string& text, const char* column) const {
    auto parsed = core::U256::from_dec(text);
    if (!parsed) {
      throw std::runtime_error("transaction journal " + path_.string() + ": column " + column +
                               " contains '" + text + "', not a decimal number");
    }
    return *parsed;
  }

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

}  // namespace detail

struct SqliteTxJournal::Worker : store::detail::BlockingWorker<detail::JournalDatabase> {
  using store::detail::BlockingWorker<detail::JournalDatabase>::BlockingWorker;
};

namespace {

// Each operation runs on its own: a write is its own committed transaction (autocommit).
void process(detail::JournalDatabase& db,
             store::detail::BlockingWorker<detail::JournalDatabase>::Batch& batch) {
  for (auto& operation : batch) {
    operation->execute(db);
  }
}

struct Done {};

}  // namespace

SqliteTxJournal::SqliteTxJournal(const std::filesystem::path& path)
    : worker_(std::make_unique<Worker>(
          "tx-journal", [path] { return std::make_unique<detail::JournalDatabase>(path); },
          process)) {}

SqliteTxJournal::~SqliteTxJournal() = default;

Awaitable<void> SqliteTxJournal::record(JournalEntry entry) {
  auto work = [entry = std::move(entry)](detail::JournalDatabase& db) {
    db.record(entry);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<std::optional<JournalEntry>> SqliteTxJournal::find(std::string purpose) {
  auto work = [purpose = std::move(purpose)](detail::JournalDatabase& db) {
    std::vector<JournalEntry> rows = db.select(&purpose);
    return rows.empty() ? std::optional<JournalEntry>() : std::optional<JournalEntry>(rows[0]);
  };
  co_return co_await worker_->submit<std::optional<JournalEntry>>(false, std::move(work));
}

Awaitable<std::vector<JournalEntry>> SqliteTxJournal::pending() {
  auto work = [](detail::JournalDatabase& db) { return db.select(nullptr); };
  co_return co_await worker_->submit<std::vector<JournalEntry>>(false, std::move(work));
}

}  // namespace inferd::chain

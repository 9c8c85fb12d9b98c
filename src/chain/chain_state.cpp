#include "chain/chain_state.hpp"

#include <sqlite3.h>

#include <stdexcept>

#include "store/blocking_worker.hpp"

namespace inferd::chain {

namespace detail {

// One open connection, used only on the store's thread.
class StateDatabase {
 public:
  explicit StateDatabase(const std::filesystem::path& path) : path_(path) {
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw std::runtime_error("cannot open chain state " + path.string() + ": " + message +
                               "; check the directory exists and is writable");
    }
    try {
      sqlite3_busy_timeout(db_, 5000);
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=FULL");
      exec("CREATE TABLE IF NOT EXISTS chain_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    } catch (...) {
      sqlite3_close(db_);
      throw;
    }
  }
  ~StateDatabase() { sqlite3_close(db_); }
  StateDatabase(const StateDatabase&) = delete;
  StateDatabase& operator=(const StateDatabase&) = delete;

  void put(const std::vector<std::pair<std::string, nlohmann::json>>& records) {
    exec("BEGIN IMMEDIATE");
    try {
      sqlite3_stmt* stmt = prepare(
          "INSERT INTO chain_state (key, value) VALUES (?1, ?2)"
          " ON CONFLICT(key) DO UPDATE SET value = excluded.value");
      for (const auto& [key, value] : records) {
        const std::string text = value.dump();
        sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(stmt, 2, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
        const int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if (rc != SQLITE_DONE) {
          sqlite3_finalize(stmt);
          fail("writing " + key);
        }
      }
      sqlite3_finalize(stmt);
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

  std::vector<std::pair<std::string, nlohmann::json>> select(const std::string& key, bool prefix) {
    sqlite3_stmt* stmt =
        prepare(prefix ? "SELECT key, value FROM chain_state WHERE substr(key, 1, length(?1)) = ?1"
                         " ORDER BY key"
                       : "SELECT key, value FROM chain_state WHERE key = ?1");
    sqlite3_bind_text(stmt, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
    std::vector<std::pair<std::string, nlohmann::json>> out;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string found(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
      auto value = nlohmann::json::parse(
          reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)), nullptr, false);
      if (value.is_discarded()) {
        sqlite3_finalize(stmt);
        throw std::runtime_error("chain state " + path_.string() + ": the record " + found +
                                 " is not JSON; delete the file to re-sync from the chain");
      }
      out.emplace_back(std::move(found), std::move(value));
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
      fail("reading " + key);
    return out;
  }

 private:
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK)
      fail("preparing a statement");
    return stmt;
  }

  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("chain state " + path_.string() + ": " + what +
                             " failed: " + sqlite3_errmsg(db_));
  }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("chain state " + path_.string() + ": " + sql +
                               " failed: " + message);
    }
  }

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

}  // namespace detail

struct ChainState::Worker : store::detail::BlockingWorker<detail::StateDatabase> {
  using store::detail::BlockingWorker<detail::StateDatabase>::BlockingWorker;
};

namespace {

using Records = std::vector<std::pair<std::string, nlohmann::json>>;

struct Done {};

}  // namespace

ChainState::ChainState(const std::filesystem::path& path)
    : worker_(std::make_unique<Worker>(
          "chain-state", [path] { return std::make_unique<detail::StateDatabase>(path); },
          [](detail::StateDatabase& db,
             store::detail::BlockingWorker<detail::StateDatabase>::Batch& batch) {
            for (auto& operation : batch)
              operation->execute(db);
          })) {}

ChainState::~ChainState() = default;

Awaitable<void> ChainState::put(Records records) {
  auto work = [records = std::move(records)](detail::StateDatabase& db) {
    db.put(records);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<std::optional<nlohmann::json>> ChainState::get(std::string key) {
  auto work = [key = std::move(key)](detail::StateDatabase& db) {
    auto rows = db.select(key, false);
    return rows.empty() ? std::optional<nlohmann::json>()
                        : std::optional<nlohmann::json>(std::move(rows[0].second));
  };
  co_return co_await worker_->submit<std::optional<nlohmann::json>>(false, std::move(work));
}

Awaitable<Records> ChainState::scan(std::string prefix) {
  auto work = [prefix = std::move(prefix)](detail::StateDatabase& db) {
    return db.select(prefix, true);
  };
  co_return co_await worker_->submit<Records>(false, std::move(work));
}

}  // namespace inferd::chain

#include "store/sqlite_job_store.hpp"

#include <algorithm>
#include <limits>

#include <sqlite3.h>

#include "store/blocking_worker.hpp"

namespace inferd::store {
namespace {

constexpr int kSchemaVersion = 1;

// How long opening waits for another process's lock before giving up.
constexpr int kBusyTimeoutMs = 2000;

// Statuses as stored in the `status` column.
int status_code(JobStatus status) {
  switch (status) {
    case JobStatus::kRunning:
      return 0;
    case JobStatus::kSuccess:
      return 1;
    case JobStatus::kFailed:
      return 2;
  }
  return 2;
}

JobStatus status_from_code(std::int64_t code) {
  switch (code) {
    case 0:
      return JobStatus::kRunning;
    case 1:
      return JobStatus::kSuccess;
    default:
      return JobStatus::kFailed;
  }
}

// Each migration moves the schema from version N (its index) to N + 1.
const char* const kMigrations[] = {
    // 0 -> 1: the jobs table. `seq` orders jobs by creation for list(); `results` and
    // `containers` are JSON arrays; expires_at_ms is 0 while a job runs.
    "CREATE TABLE jobs ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  owner TEXT NOT NULL,"
    "  status INTEGER NOT NULL,"
    "  containers TEXT NOT NULL,"
    "  results TEXT NOT NULL,"
    "  created_at_ms INTEGER NOT NULL,"
    "  updated_at_ms INTEGER NOT NULL,"
    "  expires_at_ms INTEGER NOT NULL);"
    "CREATE INDEX jobs_by_owner ON jobs(owner, seq);"
    "CREATE INDEX jobs_running ON jobs(status) WHERE status = 0;"
    "CREATE INDEX jobs_by_expiry ON jobs(expires_at_ms) WHERE expires_at_ms != 0;",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// ---------------------------------------------------------------------------------------------
// Thin RAII wrappers over the SQLite C API. They throw StoreError with the operation and
// SQLite's message.

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) : db_(db) {
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &statement_, nullptr);
    if (rc != SQLITE_OK) {
      throw StoreError("sqlite: cannot prepare \"" + std::string(sql) +
                       "\": " + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, std::string_view text) {
    check(sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT),
          "bind");
  }
  void bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(statement_, index, value), "bind");
  }

  /// Returns true when a row is available, false when the statement is done.
  bool step() {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) {
      return true;
    }
    if (rc == SQLITE_DONE) {
      return false;
    }
    throw StoreError(std::string("sqlite: ") + sqlite3_errmsg(db_) + " (in \"" +
                     sqlite3_sql(statement_) + "\")");
  }

  std::int64_t column_int(int index) { return sqlite3_column_int64(statement_, index); }
  std::string column_text(int index) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, index));
    return text == nullptr
               ? std::string()
               : std::string(text,
                             static_cast<std::size_t>(sqlite3_column_bytes(statement_, index)));
  }

  void reset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

 private:
  void check(int rc, const char* what) {
    if (rc != SQLITE_OK) {
      throw StoreError(std::string("sqlite: cannot ") + what + ": " + sqlite3_errmsg(db_));
    }
  }

  sqlite3* db_;
  sqlite3_stmt* statement_ = nullptr;
};

// Resets a statement when a use of it ends, also by exception.
class Use {
 public:
  explicit Use(Statement& statement) : statement_(statement) {}
  ~Use() { statement_.reset(); }
  Statement* operator->() { return &statement_; }

 private:
  Statement& statement_;
};

// A job as read from the database; JSON columns are parsed by the caller, off the store thread.
struct Row {
  std::string id;
  std::string owner;
  std::int64_t status = 0;
  std::string containers;
  std::string results;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};

// One open database with its prepared statements. Used only on the store thread.
class Database {
 public:
  explicit Database(const std::filesystem::path& path) : path_(path) {
    int rc =
        sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close(db_);
      throw StoreError("cannot open job database " + path.string() + ": " + message +
                       "; check store.data_dir and its permissions");
    }
    try {
      configure();
      migrate();
      prepare();
    } catch (const StoreError& error) {
      bool busy = (sqlite3_extended_errcode(db_) & 0xff) == SQLITE_BUSY;
      close();
      if (busy) {
        throw StoreError("job database " + path.string() +
                         " is locked by another process; stop the other inferd that uses this "
                         "store.data_dir or give this node its own");
      }
      throw;
    } catch (...) {
      close();
      throw;
    }
  }

  ~Database() { close(); }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      throw StoreError("sqlite: " + message + " (in \"" + sql + "\") on " + path_.string());
    }
  }

  void begin() { exec("BEGIN IMMEDIATE"); }
  void commit() { exec("COMMIT"); }
  void rollback_quietly() {
    if (sqlite3_get_autocommit(db_) == 0) {
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
  }

  void insert(const Row& row) {
    Use s(*insert_);
    s->bind(1, row.id);
    s->bind(2, row.owner);
    s->bind(3, row.status);
    s->bind(4, row.containers);
    s->bind(5, row.results);
    s->bind(6, row.created_at_ms);
    s->bind(7, row.updated_at_ms);
    s->bind(8, row.expires_at_ms);
    try {
      s->step();
    } catch (const StoreError&) {
      if (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE) {
        throw StoreError("cannot create job " + row.id + ": a job with this id already exists");
      }
      throw;
    }
  }

  void append_result(const std::string& id, const std::string& result_json, std::int64_t now) {
    Use s(*append_);
    s->bind(1, result_json);
    s->bind(2, now);
    s->bind(3, id);
    s->step();
  }

  void finish(const std::string& id, JobStatus status, const std::string& results_json,
              std::int64_t now, std::int64_t expires) {
    Use s(*finish_);
    s->bind(1, static_cast<std::int64_t>(status_code(status)));
    s->bind(2, results_json);
    s->bind(3, now);
    s->bind(4, expires);
    s->bind(5, id);
    s->step();
  }

  void put_status(const Row& row) {
    Use s(*put_status_);
    s->bind(1, row.id);
    s->bind(2, row.owner);
    s->bind(3, row.status);
    s->bind(4, row.containers);
    s->bind(5, row.created_at_ms);
    s->bind(6, row.expires_at_ms);
    s->step();
  }

  std::optional<Row> get(const std::string& owner, const std::string& id, std::int64_t now) {
    Use s(*get_);
    s->bind(1, id);
    s->bind(2, owner);
    s->bind(3, now);
    if (!s->step()) {
      return std::nullopt;
    }
    Row row;
    row.id = id;
    row.owner = owner;
    row.status = s->column_int(0);
    row.containers = s->column_text(1);
    row.results = s->column_text(2);
    row.created_at_ms = s->column_int(3);
    row.updated_at_ms = s->column_int(4);
    row.expires_at_ms = s->column_int(5);
    return row;
  }

  std::vector<std::string> list(const std::string& owner, PendingFilter filter, std::size_t limit,
                                std::int64_t now) {
    Statement& statement = filter == PendingFilter::kPendingOnly     ? *list_pending_
                           : filter == PendingFilter::kCompletedOnly ? *list_completed_
                                                                     : *list_all_;
    Use s(statement);
    s->bind(1, owner);
    s->bind(2, now);
    s->bind(3, static_cast<std::int64_t>(
                   std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
    std::vector<std::string> ids;
    while (s->step()) {
      ids.push_back(s->column_text(0));
    }
    return ids;
  }

  std::size_t count_running() {
    Use s(*count_running_);
    s->step();
    return static_cast<std::size_t>(s->column_int(0));
  }

  std::size_t fail_running(const std::string& reason, std::int64_t now, std::int64_t expires) {
    Use s(*fail_running_);
    s->bind(1, reason);
    s->bind(2, now);
    s->bind(3, expires);
    s->step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

  std::size_t delete_expired(std::int64_t now) {
    Use s(*delete_expired_);
    s->bind(1, now);
    s->step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

 private:
  void configure() {
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // Exclusive locking keeps the file lock for the connection's lifetime: no fcntl calls per
    // transaction, and a second node pointed at the same data_dir fails instead of sharing it.
    exec("PRAGMA locking_mode=EXCLUSIVE");
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec("PRAGMA foreign_keys=ON");
  }

  void migrate() {
    exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    int version = 0;
    {
      Statement read(db_, "SELECT version FROM schema_version LIMIT 1");
      if (read.step()) {
        version = static_cast<int>(read.column_int(0));
      }
    }
    if (version > kSchemaVersion) {
      throw StoreError("job database " + path_.string() + " has schema version " +
                       std::to_string(version) + " but this inferd knows only up to " +
                       std::to_string(kSchemaVersion) +
                       "; run a newer inferd or point store.data_dir elsewhere");
    }
    while (version < kSchemaVersion) {
      begin();
      try {
        exec(kMigrations[version]);
        ++version;
        exec("DELETE FROM schema_version");
        exec(("INSERT INTO schema_version (version) VALUES (" + std::to_string(version) + ")")
                 .c_str());
        commit();
      } catch (...) {
        rollback_quietly();
        throw;
      }
    }
  }

  void prepare() {
    insert_ = std::make_unique<Statement>(
        db_,
        "INSERT INTO jobs (id, owner, status, containers, results, created_at_ms, updated_at_ms, "
        "expires_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    append_ = std::make_unique<Statement>(
        db_,
        "UPDATE jobs SET results = json_insert(results, '$[#]', json(?1)), updated_at_ms = ?2 "
        "WHERE id = ?3 AND status = 0");
    finish_ = std::make_unique<Statement>(
        db_,
        "UPDATE jobs SET status = ?1, results = ?2, updated_at_ms = ?3, expires_at_ms = ?4 "
        "WHERE id = ?5");
    // The reference node stores a reported status with no results. The WHERE clause keeps a
    // client from overwriting another client's job.
    put_status_ = std::make_unique<Statement>(
        db_,
        "INSERT INTO jobs (id, owner, status, containers, results, created_at_ms, updated_at_ms, "
        "expires_at_ms) VALUES (?1, ?2, ?3, ?4, '[]', ?5, ?5, ?6) "
        "ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
        "containers = excluded.containers, results = '[]', "
        "updated_at_ms = excluded.updated_at_ms, expires_at_ms = excluded.expires_at_ms "
        "WHERE jobs.owner = excluded.owner");
    get_ = std::make_unique<Statement>(
        db_,
        "SELECT status, containers, results, created_at_ms, updated_at_ms, expires_at_ms "
        "FROM jobs WHERE id = ?1 AND owner = ?2 AND (expires_at_ms = 0 OR expires_at_ms > ?3)");
    const char* list_head =
        "SELECT id FROM jobs WHERE owner = ?1 AND (expires_at_ms = 0 OR expires_at_ms > ?2) ";
    list_all_ =
        std::make_unique<Statement>(db_, std::string(list_head) + "ORDER BY seq DESC LIMIT ?3");
    list_pending_ = std::make_unique<Statement>(
        db_, std::string(list_head) + "AND status = 0 ORDER BY seq DESC LIMIT ?3");
    list_completed_ = std::make_unique<Statement>(
        db_, std::string(list_head) + "AND status != 0 ORDER BY seq DESC LIMIT ?3");
    count_running_ = std::make_unique<Statement>(db_, "SELECT COUNT(*) FROM jobs WHERE status = 0");
    // The error goes to the container that was running: the one after the last stored result,
    // or the last container when every container already has a result.
    fail_running_ = std::make_unique<Statement>(
        db_,
        "UPDATE jobs SET status = 2, results = json_insert(results, '$[#]', json_object("
        "'container', coalesce(json_extract(containers, '$[' || max(0, min(json_array_length("
        "results), json_array_length(containers) - 1)) || ']'), ''), 'error', ?1)), "
        "updated_at_ms = ?2, expires_at_ms = ?3 WHERE status = 0");
    delete_expired_ = std::make_unique<Statement>(
        db_, "DELETE FROM jobs WHERE expires_at_ms != 0 AND expires_at_ms <= ?1");
  }

  void close() {
    insert_.reset();
    append_.reset();
    finish_.reset();
    put_status_.reset();
    get_.reset();
    list_all_.reset();
    list_pending_.reset();
    list_completed_.reset();
    count_running_.reset();
    fail_running_.reset();
    delete_expired_.reset();
    if (db_ != nullptr) {
      sqlite3_close(db_);
      db_ = nullptr;
    }
  }

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<Statement> insert_, append_, finish_, put_status_, get_, list_all_, list_pending_,
      list_completed_, count_running_, fail_running_, delete_expired_;
};

std::string results_json(const std::vector<ContainerResult>& results) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& result : results) {
    array.push_back(result.to_json());
  }
  return array.dump();
}

std::vector<ContainerResult> parse_results(const std::string& text) {
  std::vector<ContainerResult> results;
  nlohmann::json array = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) {
    return results;
  }
  for (const auto& item : array) {
    if (auto result = parse_container_result(item)) {
      results.push_back(std::move(*result));
    }
  }
  return results;
}

std::vector<std::string> parse_containers(const std::string& text) {
  std::vector<std::string> containers;
  nlohmann::json array = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) {
    return containers;
  }
  for (const auto& item : array) {
    if (item.is_string()) {
      containers.push_back(item.get<std::string>());
    }
  }
  return containers;
}

JobRecord record_from(Row row) {
  JobRecord record;
  record.id = std::move(row.id);
  record.owner = std::move(row.owner);
  record.status = status_from_code(row.status);
  record.containers = parse_containers(row.containers);
  record.results = parse_results(row.results);
  record.created_at_ms = row.created_at_ms;
  record.updated_at_ms = row.updated_at_ms;
  record.expires_at_ms = row.expires_at_ms;
  return record;
}

// Result type of operations that return nothing.
struct Done {};

// Group commit: all writes of the batch in one transaction, then the reads. A failed BEGIN or
// COMMIT fails every write of the batch.
void process_batch(Database& db, detail::BlockingWorker<Database>::Batch& batch) {
  bool has_writes = std::any_of(batch.begin(), batch.end(),
                                [](const auto& operation) { return operation->write(); });
  if (has_writes) {
    try {
      db.begin();
      for (auto& operation : batch) {
        if (operation->write()) {
          operation->execute(db);
        }
      }
      db.commit();
    } catch (...) {
      auto error = std::current_exception();
      db.rollback_quietly();
      for (auto& operation : batch) {
        if (operation->write()) {
          operation->fail(error);
        }
      }
    }
  }
  for (auto& operation : batch) {
    if (!operation->write()) {
      operation->execute(db);
    }
  }
}

}  // namespace

// The store thread with its database, and the clock and TTL used to stamp jobs.
class SqliteJobStore::Worker {
 public:
  Worker(std::filesystem::path path, std::chrono::milliseconds ttl, Clock clock)
      : path_(std::move(path)),
        ttl_ms_(ttl.count()),
        clock_(std::move(clock)),
        engine_(
            "inferd-sqlite", [this] { return std::make_unique<Database>(path_); }, process_batch) {}

  const std::filesystem::path& path() const { return path_; }
  std::int64_t now() const { return clock_(); }
  std::int64_t expiry(std::int64_t now) const { return now + std::max<std::int64_t>(1, ttl_ms_); }

  template <typename T, typename Work>
  Awaitable<T> submit(bool write, Work work) {
    return engine_.submit<T>(write, std::move(work));
  }

 private:
  std::filesystem::path path_;
  std::int64_t ttl_ms_;
  Clock clock_;
  detail::BlockingWorker<Database> engine_;  // last: its thread uses the members above
};

SqliteJobStore::SqliteJobStore(std::filesystem::path data_dir, std::chrono::milliseconds result_ttl,
                               Clock clock) {
  if (!clock) {
    clock = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) {
    throw StoreError("cannot create data directory " + data_dir.string() + ": " + error.message() +
                     "; check store.data_dir and its permissions");
  }
  worker_ = std::make_unique<Worker>(data_dir / "inferd.db", result_ttl, std::move(clock));
}

SqliteJobStore::~SqliteJobStore() = default;

const std::filesystem::path& SqliteJobStore::database_path() const {
  return worker_->path();
}

Awaitable<void> SqliteJobStore::create(JobRecord job) {
  Row row;
  std::int64_t now = worker_->now();
  row.id = std::move(job.id);
  row.owner = std::move(job.owner);
  row.status = status_code(job.status);
  row.containers = nlohmann::json(job.containers).dump();
  row.results = results_json(job.results);
  row.created_at_ms = job.created_at_ms != 0 ? job.created_at_ms : now;
  row.updated_at_ms = now;
  row.expires_at_ms = job.status == JobStatus::kRunning ? 0 : worker_->expiry(now);
  auto work = [row = std::move(row)](Database& db) {
    db.insert(row);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<void> SqliteJobStore::append_result(std::string id, ContainerResult result) {
  std::int64_t now = worker_->now();
  auto work = [id = std::move(id), text = result.to_json().dump(), now](Database& db) {
    db.append_result(id, text, now);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<void> SqliteJobStore::finish(std::string id, JobStatus status,
                                       std::vector<ContainerResult> results) {
  std::int64_t now = worker_->now();
  std::int64_t expires = status == JobStatus::kRunning ? 0 : worker_->expiry(now);
  auto work = [id = std::move(id), status, text = results_json(results), now,
               expires](Database& db) {
    db.finish(id, status, text, now, expires);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<void> SqliteJobStore::put_status(std::string owner, std::string id, JobStatus status,
                                           std::vector<std::string> containers) {
  std::int64_t now = worker_->now();
  Row row;
  row.id = std::move(id);
  row.owner = std::move(owner);
  row.status = status_code(status);
  row.containers = nlohmann::json(containers).dump();
  row.created_at_ms = now;
  row.expires_at_ms = status == JobStatus::kRunning ? 0 : worker_->expiry(now);
  auto work = [row = std::move(row)](Database& db) {
    db.put_status(row);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<std::vector<JobRecord>> SqliteJobStore::get(std::string owner,
                                                      std::vector<std::string> ids) {
  std::int64_t now = worker_->now();
  auto work = [owner = std::move(owner), ids = std::move(ids), now](Database& db) {
    std::vector<Row> found;
    std::vector<const std::string*> seen;
    for (const auto& id : ids) {
      bool repeated = std::any_of(seen.begin(), seen.end(),
                                  [&id](const std::string* other) { return *other == id; });
      if (repeated) {
        continue;
      }
      seen.push_back(&id);
      if (auto row = db.get(owner, id, now)) {
        found.push_back(std::move(*row));
      }
    }
    return found;
  };
  std::vector<Row> rows = co_await worker_->submit<std::vector<Row>>(false, std::move(work));
  // JSON parsing happens here, on the caller's thread, to keep the store thread on SQLite work.
  std::vector<JobRecord> records;
  records.reserve(rows.size());
  for (auto& row : rows) {
    records.push_back(record_from(std::move(row)));
  }
  co_return records;
}

Awaitable<std::vector<std::string>> SqliteJobStore::list(std::string owner, PendingFilter filter,
                                                         std::size_t limit) {
  std::int64_t now = worker_->now();
  auto work = [owner = std::move(owner), filter, limit, now](Database& db) {
    return db.list(owner, filter, limit, now);
  };
  co_return co_await worker_->submit<std::vector<std::string>>(false, std::move(work));
}

Awaitable<std::size_t> SqliteJobStore::count_running() {
  auto work = [](Database& db) { return db.count_running(); };
  co_return co_await worker_->submit<std::size_t>(false, std::move(work));
}

Awaitable<std::size_t> SqliteJobStore::fail_running(std::string reason) {
  std::int64_t now = worker_->now();
  std::int64_t expires = worker_->expiry(now);
  auto work = [reason = std::move(reason), now, expires](Database& db) {
    return db.fail_running(reason, now, expires);
  };
  co_return co_await worker_->submit<std::size_t>(true, std::move(work));
}

Awaitable<std::size_t> SqliteJobStore::delete_expired() {
  std::int64_t now = worker_->now();
  auto work = [now](Database& db) { return db.delete_expired(now); };
  co_return co_await worker_->submit<std::size_t>(true, std::move(work));
}

}  // namespace inferd::store

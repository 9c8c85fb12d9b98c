#include "store/redis_job_store.hpp"

#include <hiredis/hiredis.h>

#include <sys/time.h>
#include <algorithm>

#include "store/blocking_worker.hpp"

namespace inferd::store {
namespace {

// ---------------------------------------------------------------------------------------------
// Lua scripts, one per write. KEYS and ARGV are listed above each.

// KEYS: job, results, owner index, running set, seq.
// ARGV: id, owner, status, containers JSON, created, now, expires, result JSON...
constexpr const char* kCreateScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local seq = redis.call('INCR', KEYS[5])
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'status', ARGV[3], 'containers', ARGV[4],
           'created', ARGV[5], 'updated', ARGV[6], 'expires', ARGV[7])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
redis.call('DEL', KEYS[2])
for i = 8, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if ARGV[3] == 'running' then
  redis.call('SADD', KEYS[4], ARGV[1])
else
  redis.call('PEXPIREAT', KEYS[1], ARGV[7])
  redis.call('PEXPIREAT', KEYS[2], ARGV[7])
end
return 1
)lua";

// KEYS: job, results. ARGV: result JSON, now.
constexpr const char* kAppendScript = R"lua(
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'updated', ARGV[2])
return 1
)lua";

// KEYS: job, results, running set. ARGV: id, status, now, expires, result JSON...
constexpr const char* kFinishScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'updated', ARGV[3], 'expires', ARGV[4])
redis.call('DEL', KEYS[2])
for i = 5, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
if ARGV[2] == 'running' then
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
  redis.call('PEXPIREAT', KEYS[2], ARGV[4])
end
return 1
)lua";

// KEYS: job, results, owner index, running set, seq.
// ARGV: id, owner, status, containers JSON, now, expires.
constexpr const char* kPutStatusScript = R"lua(
local existing = redis.call('HGET', KEYS[1], 'owner')
if existing and existing ~= ARGV[2] then return 0 end
if not existing then
  local seq = redis.call('INCR', KEYS[5])
  redis.call('ZADD', KEYS[3], seq, ARGV[1])
  redis.call('HSET', KEYS[1], 'created', ARGV[5])
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'status', ARGV[3], 'containers', ARGV[4],
           'updated', ARGV[5], 'expires', ARGV[6])
redis.call('DEL', KEYS[2])
if ARGV[3] == 'running' then
  redis.call('SADD', KEYS[4], ARGV[1])
  redis.call('PERSIST', KEYS[1])
else
  redis.call('SREM', KEYS[4], ARGV[1])
  redis.call('PEXPIREAT', KEYS[1], ARGV[6])
end
return 1
)lua";

// KEYS: running set. ARGV: key prefix, reason, now, expires.
// The error goes to the container that was running: the one after the last stored result, or
// the last container when every container already has a result.
constexpr const char* kFailRunningScript = R"lua(
local count = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local job = ARGV[1] .. 'job:' .. id
  local results = ARGV[1] .. 'results:' .. id
  if redis.call('HGET', job, 'status') == 'running' then
    local containers = cjson.decode(redis.call('HGET', job, 'containers') or '[]')
    local index = math.max(0, math.min(redis.call('LLEN', results), #containers - 1))
    local container = containers[index + 1] or ''
    redis.call('RPUSH', results, cjson.encode({container = container, error = ARGV[2]}))
    redis.call('HSET', job, 'status', 'failed', 'updated', ARGV[3], 'expires', ARGV[4])
    redis.call('PEXPIREAT', job, ARGV[4])
    redis.call('PEXPIREAT', results, ARGV[4])
    count = count + 1
  end
end
redis.call('DEL', KEYS[1])
return count
)lua";

// ---------------------------------------------------------------------------------------------

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

using Command = std::vector<std::string>;

timeval to_timeval(std::chrono::milliseconds duration) {
  timeval value{};
  value.tv_sec = static_cast<time_t>(duration.count() / 1000);
  value.tv_usec = static_cast<suseconds_t>((duration.count() % 1000) * 1000);
  return value;
}

std::string reply_text(const redisReply* reply) {
  if (reply == nullptr || reply->str == nullptr) {
    return {};
  }
  return std::string(reply->str, reply->len);
}

// One hiredis connection. Used only on the store thread.
class Connection {
 public:
  explicit Connection(const RedisStoreOptions& options) : options_(options) {
    connect();
    Reply pong = command({"PING"});
    if (pong->type != REDIS_REPLY_STATUS) {
      throw StoreError("redis at " + endpoint() +
                       " did not answer PING; check redis.host and "
                       "redis.port");
    }
  }

  ~Connection() { disconnect(); }

  const RedisStoreOptions& options() const { return options_; }

  /// Runs one command; throws StoreError for connection failures and error replies.
  Reply command(const Command& args) {
    auto replies = pipeline({args});
    return std::move(replies.front());
  }

  /// Sends every command, then reads every reply, in one round trip.
  std::vector<Reply> pipeline(const std::vector<Command>& commands) {
    if (context_ == nullptr) {
      connect();
    }
    for (const auto& args : commands) {
      std::vector<const char*> argv;
      std::vector<std::size_t> lengths;
      for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
      }
      if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                                 lengths.data()) != REDIS_OK) {
        fail_connection(args.front());
      }
    }
    std::vector<Reply> replies;
    replies.reserve(commands.size());
    for (const auto& args : commands) {
      void* raw = nullptr;
      if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
        fail_connection(args.front());
      }
      replies.emplace_back(static_cast<redisReply*>(raw));
    }
    for (std::size_t i = 0; i < replies.size(); ++i) {
      if (replies[i]->type == REDIS_REPLY_ERROR) {
        throw StoreError("redis " + commands[i].front() + " failed at " + endpoint() + ": " +
                         reply_text(replies[i].get()));
      }
    }
    return replies;
  }

 private:
  std::string endpoint() const { return options_.host + ":" + std::to_string(options_.port); }

  void connect() {
    disconnect();
    context_ = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                       to_timeval(options_.connect_timeout));
    if (context_ == nullptr || context_->err != 0) {
      std::string reason = context_ != nullptr ? context_->errstr : "out of memory";
      disconnect();
      throw StoreError("cannot connect to redis at " + endpoint() + ": " + reason +
                       "; check redis.host and redis.port and that the server is running");
    }
    redisSetTimeout(context_, to_timeval(options_.command_timeout));
  }

  // Drops the connection (its state is unknown after an I/O error) and throws.
  [[noreturn]] void fail_connection(const std::string& operation) {
    std::string reason = context_ != nullptr ? context_->errstr : "not connected";
    disconnect();
    throw StoreError("redis " + operation + " failed at " + endpoint() + ": " + reason +
                     "; the next operation reconnects");
  }

  void disconnect() {
    if (context_ != nullptr) {
      redisFree(context_);
      context_ = nullptr;
    }
  }

  RedisStoreOptions options_;
  redisContext* context_ = nullptr;
};

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Done {};

// A job as read from Redis; JSON is parsed by the caller, off the store thread.
struct Row {
  std::string id;
  std::string owner;
  std::string status;
  std::string containers;
  std::vector<std::string> results;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};

std::int64_t to_int(const redisReply* reply) {
  std::string text = reply_text(reply);
  return text.empty() ? 0 : std::stoll(text);
}

JobRecord record_from(Row row) {
  JobRecord record;
  record.id = std::move(row.id);
  record.owner = std::move(row.owner);
  record.status = parse_job_status(row.status).value_or(JobStatus::kFailed);
  nlohmann::json containers = nlohmann::json::parse(row.containers, nullptr, false);
  if (containers.is_array()) {
    for (const auto& item : containers) {
      if (item.is_string()) {
        record.containers.push_back(item.get<std::string>());
      }
    }
  }
  for (const auto& text : row.results) {
    if (auto result = parse_container_result(nlohmann::json::parse(text, nullptr, false))) {
      record.results.push_back(std::move(*result));
    }
  }
  record.created_at_ms = row.created_at_ms;
  record.updated_at_ms = row.updated_at_ms;
  record.expires_at_ms = row.expires_at_ms;
  return record;
}

// Operations run one by one in queue order; each write is a single atomic script.
void process_batch(Connection& connection, detail::BlockingWorker<Connection>::Batch& batch) {
  for (auto& operation : batch) {
    operation->execute(connection);
  }
}

}  // namespace

class RedisJobStore::Worker {
 public:
  explicit Worker(RedisStoreOptions options)
      : options_(std::move(options)),
        engine_(
            "inferd-redis", [this] { return std::make_unique<Connection>(options_); },
            process_batch) {}

  const RedisStoreOptions& options() const { return options_; }
  std::string key(std::string_view kind, std::string_view name) const {
    return options_.key_prefix + std::string(kind) + ":" + std::string(name);
  }
  std::string running_key() const { return key("running", options_.node_id); }
  std::string seq_key() const { return options_.key_prefix + "seq"; }
  std::int64_t expiry(std::int64_t now) const {
    return now + std::max<std::int64_t>(1, options_.result_ttl.count());
  }

  template <typename T, typename Work>
  Awaitable<T> submit(bool write, Work work) {
    return engine_.submit<T>(write, std::move(work));
  }

 private:
  RedisStoreOptions options_;
  detail::BlockingWorker<Connection> engine_;  // last: its thread uses options_
};

RedisJobStore::RedisJobStore(RedisStoreOptions options)
    : worker_(std::make_unique<Worker>(std::move(options))) {}

RedisJobStore::~RedisJobStore() = default;

Awaitable<void> RedisJobStore::create(JobRecord job) {
  std::int64_t now = now_ms();
  std::string status(to_string(job.status));
  std::int64_t expires = job.status == JobStatus::kRunning ? 0 : worker_->expiry(now);
  Command args = {"EVAL",
                  kCreateScript,
                  "5",
                  worker_->key("job", job.id),
                  worker_->key("results", job.id),
                  worker_->key("owner", job.owner),
                  worker_->running_key(),
                  worker_->seq_key(),
                  job.id,
                  job.owner,
                  status,
                  nlohmann::json(job.containers).dump(),
                  std::to_string(job.created_at_ms != 0 ? job.created_at_ms : now),
                  std::to_string(now),
                  std::to_string(expires)};
  for (const auto& result : job.results) {
    args.push_back(result.to_json().dump());
  }
  auto work = [args = std::move(args), id = job.id](Connection& connection) {
    Reply reply = connection.command(args);
    if (reply->integer == 0) {
      throw StoreError("cannot create job " + id + ": a job with this id already exists");
    }
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<void> RedisJobStore::append_result(std::string id, ContainerResult result) {
  Command args = {"EVAL",
                  kAppendScript,
                  "2",
                  worker_->key("job", id),
                  worker_->key("results", id),
                  result.to_json().dump(),
                  std::to_string(now_ms())};
  auto work = [args = std::move(args)](Connection& connection) {
    connection.command(args);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<void> RedisJobStore::finish(std::string id, JobStatus status,
                                      std::vector<ContainerResult> results) {
  std::int64_t now = now_ms();
  std::int64_t expires = status == JobStatus::kRunning ? 0 : worker_->expiry(now);
  Command args = {"EVAL",
                  kFinishScript,
                  "3",
                  worker_->key("job", id),
                  worker_->key("results", id),
                  worker_->running_key(),
                  id,
                  std::string(to_string(status)),
                  std::to_string(now),
                  std::to_string(expires)};
  for (const auto& result : results) {
    args.push_back(result.to_json().dump());
  }
  auto work = [args = std::move(args)](Connection& connection) {
    connection.command(args);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<void> RedisJobStore::put_status(std::string owner, std::string id, JobStatus status,
                                          std::vector<std::string> containers) {
  std::int64_t now = now_ms();
  std::int64_t expires = status == JobStatus::kRunning ? 0 : worker_->expiry(now);
  Command args = {"EVAL",
                  kPutStatusScript,
                  "5",
                  worker_->key("job", id),
                  worker_->key("results", id),
                  worker_->key("owner", owner),
                  worker_->running_key(),
                  worker_->seq_key(),
                  id,
                  owner,
                  std::string(to_string(status)),
                  nlohmann::json(containers).dump(),
                  std::to_string(now),
                  std::to_string(expires)};
  auto work = [args = std::move(args)](Connection& connection) {
    connection.command(args);
    return Done{};
  };
  co_await worker_->submit<Done>(true, std::move(work));
}

Awaitable<std::vector<JobRecord>> RedisJobStore::get(std::string owner,
                                                     std::vector<std::string> ids) {
  // Unique ids in request order, and two commands per id in one pipeline.
  std::vector<std::string> unique;
  for (auto& id : ids) {
    if (std::find(unique.begin(), unique.end(), id) == unique.end()) {
      unique.push_back(std::move(id));
    }
  }
  std::vector<Command> commands;
  for (const auto& id : unique) {
    commands.push_back({"HMGET", worker_->key("job", id), "owner", "status", "containers",
                        "created", "updated", "expires"});
    commands.push_back({"LRANGE", worker_->key("results", id), "0", "-1"});
  }
  auto work = [commands = std::move(commands), unique, owner](Connection& connection) {
    std::vector<Row> rows;
    if (commands.empty()) {
      return rows;
    }
    std::vector<Reply> replies = connection.pipeline(commands);
    for (std::size_t i = 0; i < unique.size(); ++i) {
      const redisReply* fields = replies[2 * i].get();
      const redisReply* results = replies[2 * i + 1].get();
      if (fields->type != REDIS_REPLY_ARRAY || fields->elements != 6 ||
          fields->element[1]->type != REDIS_REPLY_STRING ||
          reply_text(fields->element[0]) != owner) {
        continue;  // unknown, expired, or another owner's job
      }
      Row row;
      row.id = unique[i];
      row.owner = owner;
      row.status = reply_text(fields->element[1]);
      row.containers = reply_text(fields->element[2]);
      row.created_at_ms = to_int(fields->element[3]);
      row.updated_at_ms = to_int(fields->element[4]);
      row.expires_at_ms = to_int(fields->element[5]);
      if (results->type == REDIS_REPLY_ARRAY) {
        for (std::size_t r = 0; r < results->elements; ++r) {
          row.results.push_back(reply_text(results->element[r]));
        }
      }
      rows.push_back(std::move(row));
    }
    return rows;
  };
  std::vector<Row> rows = co_await worker_->submit<std::vector<Row>>(false, std::move(work));
  std::vector<JobRecord> records;
  records.reserve(rows.size());
  for (auto& row : rows) {
    records.push_back(record_from(std::move(row)));
  }
  co_return records;
}

Awaitable<std::vector<std::string>> RedisJobStore::list(std::string owner, PendingFilter filter,
                                                        std::size_t limit) {
  std::string index = worker_->key("owner", owner);
  std::string job_prefix = worker_->options().key_prefix + "job:";
  auto work = [index, job_prefix, filter, limit](Connection& connection) {
    constexpr long kPage = 500;
    std::vector<std::string> ids;
    long start = 0;
    while (ids.size() < limit) {
      Reply page = connection.command(
          {"ZREVRANGE", index, std::to_string(start), std::to_string(start + kPage - 1)});
      if (page->type != REDIS_REPLY_ARRAY || page->elements == 0) {
        break;
      }
      std::vector<Command> lookups;
      for (std::size_t i = 0; i < page->elements; ++i) {
        lookups.push_back({"HGET", job_prefix + reply_text(page->element[i]), "status"});
      }
      std::vector<Reply> statuses = connection.pipeline(lookups);
      for (std::size_t i = 0; i < page->elements && ids.size() < limit; ++i) {
        if (statuses[i]->type != REDIS_REPLY_STRING) {
          continue;  // expired; delete_expired() prunes the index
        }
        bool running = reply_text(statuses[i].get()) == "running";
        if ((filter == PendingFilter::kPendingOnly && !running) ||
            (filter == PendingFilter::kCompletedOnly && running)) {
          continue;
        }
        ids.push_back(reply_text(page->element[i]));
      }
      start += kPage;
    }
    return ids;
  };
  co_return co_await worker_->submit<std::vector<std::string>>(false, std::move(work));
}

Awaitable<std::size_t> RedisJobStore::count_running() {
  auto work = [key = worker_->running_key()](Connection& connection) {
    return static_cast<std::size_t>(connection.command({"SCARD", key})->integer);
  };
  co_return co_await worker_->submit<std::size_t>(false, std::move(work));
}

Awaitable<std::size_t> RedisJobStore::fail_running(std::string reason) {
  std::int64_t now = now_ms();
  Command args = {"EVAL",
                  kFailRunningScript,
                  "1",
                  worker_->running_key(),
                  worker_->options().key_prefix,
                  std::move(reason),
                  std::to_string(now),
                  std::to_string(worker_->expiry(now))};
  auto work = [args = std::move(args)](Connection& connection) {
    return static_cast<std::size_t>(connection.command(args)->integer);
  };
  co_return co_await worker_->submit<std::size_t>(true, std::move(work));
}

Awaitable<std::size_t> RedisJobStore::delete_expired() {
  std::string prefix = worker_->options().key_prefix;
  auto work = [prefix](Connection& connection) {
    std::size_t pruned = 0;
    std::string cursor = "0";
    do {
      Reply scan =
          connection.command({"SCAN", cursor, "MATCH", prefix + "owner:*", "COUNT", "1000"});
      cursor = reply_text(scan->element[0]);
      const redisReply* keys = scan->element[1];
      for (std::size_t k = 0; k < keys->elements; ++k) {
        std::string index = reply_text(keys->element[k]);
        Reply ids = connection.command({"ZRANGE", index, "0", "-1"});
        if (ids->elements == 0) {
          continue;
        }
        std::vector<Command> checks;
        for (std::size_t i = 0; i < ids->elements; ++i) {
          checks.push_back({"EXISTS", prefix + "job:" + reply_text(ids->element[i])});
        }
        std::vector<Reply> exists = connection.pipeline(checks);
        Command remove = {"ZREM", index};
        for (std::size_t i = 0; i < ids->elements; ++i) {
          if (exists[i]->integer == 0) {
            remove.push_back(reply_text(ids->element[i]));
          }
        }
        if (remove.size() > 2) {
          pruned += static_cast<std::size_t>(connection.command(remove)->integer);
        }
      }
    } while (cursor != "0");
    return pruned;
  };
  co_return co_await worker_->submit<std::size_t>(true, std::move(work));
}

}  // namespace inferd::store

#include <cmath>

#include "infra/config.hpp"
#include "store/job_store.hpp"
#include "store/redis_job_store.hpp"
#include "store/sqlite_job_store.hpp"

namespace inferd::store {

std::unique_ptr<JobStore> open_job_store(const infra::NodeConfig& config, std::string node_id) {
  auto ttl = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::llround(config.store.result_ttl * 1000.0)));
  if (config.store.backend == "redis") {
    RedisStoreOptions options;
    options.host = config.redis.host;
    options.port = config.redis.port;
    options.result_ttl = ttl;
    options.node_id = std::move(node_id);
    return std::make_unique<RedisJobStore>(std::move(options));
  }
  if (config.store.backend == "sqlite") {
    return std::make_unique<SqliteJobStore>(config.store.data_dir, ttl);
  }
  throw StoreError("unknown store backend \"" + config.store.backend +
                   "\"; set store.backend to \"sqlite\" or \"redis\"");
}

}  // namespace inferd::store

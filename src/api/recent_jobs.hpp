// Jobs this node created recently, kept in memory so that polling a job's result does not need
// a store round trip.
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/job_store.hpp"

namespace inferd::api {

/// A bounded map of job id to its latest stored record. Entries are written only after the
/// store has the same state, so the cache never shows what a restart could take back.
/// Thread-safe.
class RecentJobs {
 public:
  explicit RecentJobs(std::size_t capacity) : capacity_(capacity) {}

  /// Records a job's state, evicting the oldest job when full.
  void put(const store::JobRecord& record);
  /// Drops a job (its state changed in a way the cache did not see).
  void erase(const std::string& id);
  /// The job when it is cached, belongs to `owner` and has not expired at `now_ms`.
  std::optional<store::JobRecord> find(const std::string& owner, const std::string& id,
                                       std::int64_t now_ms) const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, store::JobRecord> records_;
  std::deque<std::string> order_;
};

}  // namespace inferd::api

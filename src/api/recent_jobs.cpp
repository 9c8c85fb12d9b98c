#include "api/recent_jobs.hpp"

namespace inferd::api {

void RecentJobs::put(const store::JobRecord& record) {
  std::lock_guard lock(mutex_);
  auto [it, inserted] = records_.insert_or_assign(record.id, record);
  if (!inserted)
    return;
  order_.push_back(record.id);
  // `order_` may still hold ids that erase() removed; skipping them keeps eviction O(1).
  while (records_.size() > capacity_ && !order_.empty()) {
    records_.erase(order_.front());
    order_.pop_front();
  }
  if (order_.size() > 2 * capacity_) {
    std::deque<std::string> live;
    for (auto& id : order_) {
      if (records_.count(id) != 0)
        live.push_back(std::move(id));
    }
    order_ = std::move(live);
  }
}

void RecentJobs::erase(const std::string& id) {
  std::lock_guard lock(mutex_);
  records_.erase(id);
}

std::optional<store::JobRecord> RecentJobs::find(const std::string& owner, const std::string& id,
                                                 std::int64_t now_ms) const {
  std::lock_guard lock(mutex_);
  auto found = records_.find(id);
  if (found == records_.end() || found->second.owner != owner)
    return std::nullopt;
  const auto& record = found->second;
  if (record.expires_at_ms != 0 && record.expires_at_ms <= now_ms)
    return std::nullopt;
  return record;
}

}  // namespace inferd::api

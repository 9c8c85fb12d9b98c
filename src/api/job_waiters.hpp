// Lets a request wait until one of a set of jobs finishes (long polling of GET /api/jobs).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "infra/asio.hpp"

namespace inferd::api {

/// Thread-safe: all state lives on one strand.
class JobWaiters : public std::enable_shared_from_this<JobWaiters> {
 public:
  explicit JobWaiters(asio::any_io_executor executor) : strand_(asio::make_strand(executor)) {}

  /// Records that job `id` finished and wakes everyone waiting for it.
  void notify(std::string id);

  /// Waits until one of `ids` finishes or `deadline` passes. Returns at once when one of them
  /// finished recently (the caller may have read its state just before it finished).
  Awaitable<void> wait_any(std::vector<std::string> ids,
                           std::chrono::steady_clock::time_point deadline);

 private:
  Awaitable<void> wait_on_strand(std::vector<std::string> ids,
                                 std::chrono::steady_clock::time_point deadline);

  static constexpr std::size_t kRecentLimit = 65536;

  asio::strand<asio::any_io_executor> strand_;
  std::unordered_multimap<std::string, std::shared_ptr<asio::steady_timer>> waiting_;
  std::unordered_set<std::string> recent_;
  std::deque<std::string> recent_order_;
};

}  // namespace inferd::api

#include "api/job_waiters.hpp"

namespace inferd::api {

void JobWaiters::notify(std::string id) {
  asio::post(strand_, [self = shared_from_this(), id = std::move(id)]() mutable {
    auto range = self->waiting_.equal_range(id);
    for (auto it = range.first; it != range.second; ++it)
      it->second->cancel();
    self->waiting_.erase(range.first, range.second);
    if (self->recent_.insert(id).second) {
      self->recent_order_.push_back(std::move(id));
      if (self->recent_order_.size() > kRecentLimit) {
        self->recent_.erase(self->recent_order_.front());
        self->recent_order_.pop_front();
      }
    }
  });
}

Awaitable<void> JobWaiters::wait_any(std::vector<std::string> ids,
                                     std::chrono::steady_clock::time_point deadline) {
  co_await asio::co_spawn(strand_, shared_from_this()->wait_on_strand(std::move(ids), deadline),
                          asio::use_awaitable);
}

Awaitable<void> JobWaiters::wait_on_strand(std::vector<std::string> ids,
                                           std::chrono::steady_clock::time_point deadline) {
  auto self = shared_from_this();
  for (const auto& id : ids) {
    if (recent_.count(id) != 0)
      co_return;
  }
  auto timer = std::make_shared<asio::steady_timer>(strand_, deadline);
  for (const auto& id : ids)
    waiting_.emplace(id, timer);

  boost::system::error_code ec;
  co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));

  // On timeout the registrations are still there; a notification already removed its own.
  for (const auto& id : ids) {
    auto range = waiting_.equal_range(id);
    for (auto it = range.first; it != range.second;) {
      it = it->second == timer ? waiting_.erase(it) : std::next(it);
    }
  }
}

}  // namespace inferd::api

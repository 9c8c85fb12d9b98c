#include "infra/rate_limiter.hpp"

#include <algorithm>
#include <stdexcept>

namespace inferd::infra {
namespace {

constexpr std::size_t kShards = 16;
constexpr std::int64_t kNanosPerSecond = 1000000000;

}  // namespace

std::vector<std::pair<std::string_view, std::string>> RateLimitDecision::headers() const {
  std::vector<std::pair<std::string_view, std::string>> result = {
      {"RateLimit-Limit", std::to_string(limit)},
      {"RateLimit-Remaining", std::to_string(remaining)},
      {"RateLimit-Reset", std::to_string(reset_seconds)},
  };
  if (!allowed) {
    result.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  }
  return result;
}

RateLimiter::RateLimiter(std::uint32_t num_requests, std::chrono::nanoseconds period,
                         std::size_t max_keys, Clock clock)
    : num_requests_(num_requests), clock_(std::move(clock)) {
  if (num_requests == 0) {
    throw std::invalid_argument("rate limiter: num_requests must be at least 1");
  }
  if (period.count() <= 0) {
    throw std::invalid_argument("rate limiter: period must be positive");
  }
  interval_units_ = static_cast<Units>(period.count());
  period_units_ = interval_units_ * num_requests;
  shard_capacity_ = std::max<std::size_t>(1, max_keys / kShards);
  if (!clock_) {
    clock_ = [] {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch());
    };
  }
  for (std::size_t i = 0; i < kShards; ++i) {
    shards_.push_back(std::make_unique<Shard>());
  }
}

RateLimiter::Units RateLimiter::now_units() const {
  return static_cast<Units>(clock_().count()) * num_requests_;
}

RateLimiter::Shard& RateLimiter::shard_for(std::string_view key) {
  // The top bits pick the shard so that the map, which uses the low bits, stays evenly spread.
  return *shards_[(KeyHash{}(key) >> 32) % kShards];
}

RateLimitDecision RateLimiter::check(std::string_view key) {
  Units now = now_units();
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);

  auto it = shard.tats.find(key);
  Units tat = now;
  if (it != shard.tats.end()) {
    tat = std::max(it->second, now);
  }

  RateLimitDecision decision;
  decision.limit = num_requests_;
  Units separation = tat - now;
  Units max_separation = period_units_ - interval_units_;
  if (separation > max_separation) {
    decision.allowed = false;
    // Seconds until the separation has shrunk to the allowed maximum, rounded up so a client
    // that waits exactly this long is admitted.
    Units units_per_second = static_cast<Units>(kNanosPerSecond) * num_requests_;
    Units wait = separation - max_separation;
    decision.retry_after_seconds = static_cast<std::uint64_t>(
        std::max<Units>(1, (wait + units_per_second - 1) / units_per_second));
  } else {
    tat += interval_units_;
    separation = tat - now;
    if (it != shard.tats.end()) {
      it->second = tat;
    } else {
      if (shard.tats.size() >= shard_capacity_) {
        make_room(shard, now);
      }
      shard.tats.emplace(std::string(key), tat);
    }
  }

  Units left = std::max<Units>(0, period_units_ - separation);
  decision.remaining = static_cast<std::uint64_t>(left / interval_units_);
  decision.reset_seconds = static_cast<std::uint64_t>(
      separation / (static_cast<Units>(kNanosPerSecond) * num_requests_));
  return decision;
}

void RateLimiter::make_room(Shard& shard, Units now) {
  std::erase_if(shard.tats, [now](const auto& entry) { return entry.second <= now; });
  if (shard.tats.size() < shard_capacity_) {
    return;
  }
  // Every key is still active: drop the tenth closest to idle, which loses the least state.
  std::vector<std::pair<Units, const std::string*>> by_tat;
  by_tat.reserve(shard.tats.size());
  for (const auto& [key, tat] : shard.tats) {
    by_tat.emplace_back(tat, &key);
  }
  std::size_t drop = std::max<std::size_t>(1, by_tat.size() / 10);
  std::nth_element(by_tat.begin(), by_tat.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   by_tat.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> victims;
  for (std::size_t i = 0; i < drop; ++i) {
    victims.push_back(*by_tat[i].second);
  }
  for (const auto& victim : victims) {
    shard.tats.erase(victim);
  }
}

std::size_t RateLimiter::evict_idle() {
  Units now = now_units();
  std::size_t dropped = 0;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    dropped += std::erase_if(shard->tats, [now](const auto& entry) { return entry.second <= now; });
  }
  return dropped;
}

std::size_t RateLimiter::size() const {
  std::size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    total += shard->tats.size();
  }
  return total;
}

}  // namespace inferd::infra

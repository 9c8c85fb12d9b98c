// Per-client rate limiting with the generic cell rate algorithm (GCRA), as quart-rate-limiter
// 0.9.0 does it for the reference Infernet node.
//
// With `num_requests` per `period`, the emission interval is T = period / num_requests. Each key
// has a theoretical arrival time TAT, initially now. A request is rejected when
// TAT - now > period - T; otherwise TAT becomes max(TAT, now) + T. A client can therefore burst
// `num_requests` requests and then make one every T.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace inferd::infra {

/// Outcome of one request, with the values of the response headers.
struct RateLimitDecision {
  bool allowed = true;
  std::uint32_t limit = 0;                ///< RateLimit-Limit: num_requests
  std::uint64_t remaining = 0;            ///< RateLimit-Remaining: int((period - (TAT-now)) / T)
  std::uint64_t reset_seconds = 0;        ///< RateLimit-Reset: int(TAT - now)
  std::uint64_t retry_after_seconds = 0;  ///< Retry-After (rejections only): whole seconds, >= 1

  /// The headers to send: the three RateLimit-* ones, plus Retry-After when rejected.
  std::vector<std::pair<std::string_view, std::string>> headers() const;
};

/// GCRA limiter keyed by client (the caller picks the key, e.g. "<route> <client ip>").
/// Thread-safe. Memory is bounded by `max_keys`: a key whose TAT has passed behaves exactly like
/// an unseen key, so such idle keys are dropped first; if every key is still active, the ones
/// closest to idle are dropped.
class RateLimiter {
 public:
  /// Monotonic time since an arbitrary origin.
  using Clock = std::function<std::chrono::nanoseconds()>;

  /// `period` must be positive and `num_requests` at least 1 (std::invalid_argument otherwise).
  /// Without a clock, std::chrono::steady_clock is used.
  RateLimiter(std::uint32_t num_requests, std::chrono::nanoseconds period,
              std::size_t max_keys = 100000, Clock clock = {});

  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  /// Counts one request of `key` now and returns whether it is allowed.
  RateLimitDecision check(std::string_view key);

  /// Drops every key whose TAT has passed. Returns how many it dropped.
  std::size_t evict_idle();

  /// Number of keys currently tracked.
  std::size_t size() const;

 private:
  // Times are kept in units of 1/num_requests nanoseconds so that T is a whole number of units
  // and a burst of exactly num_requests fits into the period without rounding errors.
  __extension__ using Units = __int128;

  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };

  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Units, KeyHash, std::equal_to<>> tats;
  };

  Shard& shard_for(std::string_view key);
  void make_room(Shard& shard, Units now);
  Units now_units() const;

  std::uint32_t num_requests_;
  Units period_units_;    // period in units
  Units interval_units_;  // T in units, which equals the period in nanoseconds
  std::size_t shard_capacity_;
  Clock clock_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace inferd::infra

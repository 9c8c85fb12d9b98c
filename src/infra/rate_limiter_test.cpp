#include "infra/rate_limiter.hpp"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

namespace inferd::infra {
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand.
struct ManualClock {
  std::atomic<std::int64_t> now_ns{1000000000000};
  RateLimiter::Clock function() {
    return [this] { return std::chrono::nanoseconds(now_ns.load()); };
  }
  void advance(std::chrono::nanoseconds step) { now_ns += step.count(); }
};

TEST(RateLimiter, BurstThenRejectWithReferenceHeaders) {
  ManualClock clock;
  RateLimiter limiter(60, 60s, 1000, clock.function());

  for (std::uint64_t k = 1; k <= 60; ++k) {
    RateLimitDecision decision = limiter.check("client");
    ASSERT_TRUE(decision.allowed) << "request " << k;
    EXPECT_EQ(decision.limit, 60u);
    EXPECT_EQ(decision.remaining, 60 - k) << "request " << k;
    EXPECT_EQ(decision.reset_seconds, k) << "request " << k;
  }

  RateLimitDecision rejected = limiter.check("client");
  EXPECT_FALSE(rejected.allowed);
  EXPECT_EQ(rejected.remaining, 0u);
  EXPECT_EQ(rejected.reset_seconds, 60u);
  EXPECT_EQ(rejected.retry_after_seconds, 1u);
}

TEST(RateLimiter, OneMoreRequestPerEmissionInterval) {
  ManualClock clock;
  RateLimiter limiter(60, 60s, 1000, clock.function());
  for (int k = 0; k < 60; ++k) {
    ASSERT_TRUE(limiter.check("client").allowed);
  }

  clock.advance(500ms);
  RateLimitDecision early = limiter.check("client");
  EXPECT_FALSE(early.allowed);
  EXPECT_EQ(early.retry_after_seconds, 1u);

  clock.advance(500ms);
  RateLimitDecision on_time = limiter.check("client");
  EXPECT_TRUE(on_time.allowed);
  EXPECT_EQ(on_time.remaining, 0u);
  EXPECT_EQ(on_time.reset_seconds, 60u);
  EXPECT_FALSE(limiter.check("client").allowed);
}

TEST(RateLimiter, RetryAfterRoundsUp) {
  ManualClock clock;
  RateLimiter limiter(2, 10s, 1000, clock.function());  // T = 5 s
  ASSERT_TRUE(limiter.check("c").allowed);
  ASSERT_TRUE(limiter.check("c").allowed);
  clock.advance(1500ms);
  // TAT - now = 8.5 s, allowed up to 5 s, so 3.5 s to wait: 4 whole seconds.
  RateLimitDecision decision = limiter.check("c");
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.retry_after_seconds, 4u);
  EXPECT_EQ(decision.reset_seconds, 8u);

  clock.advance(3500ms);
  EXPECT_TRUE(limiter.check("c").allowed);
}

TEST(RateLimiter, FractionalIntervalAllowsExactBurst) {
  ManualClock clock;
  RateLimiter limiter(3, 1s, 1000, clock.function());  // T = 1/3 s, not a whole nanosecond
  EXPECT_TRUE(limiter.check("c").allowed);
  EXPECT_TRUE(limiter.check("c").allowed);
  EXPECT_TRUE(limiter.check("c").allowed);
  EXPECT_FALSE(limiter.check("c").allowed);
}

TEST(RateLimiter, KeysAreIndependent) {
  ManualClock clock;
  RateLimiter limiter(1, 60s, 1000, clock.function());
  EXPECT_TRUE(limiter.check("a").allowed);
  EXPECT_FALSE(limiter.check("a").allowed);
  EXPECT_TRUE(limiter.check("b").allowed);
}

TEST(RateLimiter, HeadersOfRejection) {
  ManualClock clock;
  RateLimiter limiter(1, 60s, 1000, clock.function());
  auto allowed = limiter.check("a").headers();
  ASSERT_EQ(allowed.size(), 3u);
  EXPECT_EQ(allowed[0].first, "RateLimit-Limit");
  EXPECT_EQ(allowed[0].second, "1");
  EXPECT_EQ(allowed[1].first, "RateLimit-Remaining");
  EXPECT_EQ(allowed[1].second, "0");
  EXPECT_EQ(allowed[2].first, "RateLimit-Reset");
  EXPECT_EQ(allowed[2].second, "60");
  auto rejected = limiter.check("a").headers();
  ASSERT_EQ(rejected.size(), 4u);
  EXPECT_EQ(rejected[3].first, "Retry-After");
  EXPECT_EQ(rejected[3].second, "60");
}

TEST(RateLimiter, IdleKeysAreEvicted) {
  ManualClock clock;
  RateLimiter limiter(10, 10s, 1000, clock.function());
  for (int i = 0; i < 100; ++i) {
    limiter.check("client-" + std::to_string(i));
  }
  EXPECT_EQ(limiter.size(), 100u);
  clock.advance(999ms);
  EXPECT_EQ(limiter.evict_idle(), 0u);
  clock.advance(1ms);
  EXPECT_EQ(limiter.evict_idle(), 100u);
  EXPECT_EQ(limiter.size(), 0u);
}

TEST(RateLimiter, MemoryStaysBounded) {
  ManualClock clock;
  RateLimiter limiter(10, 10s, 160, clock.function());
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(limiter.check("client-" + std::to_string(i)).allowed);
  }
  EXPECT_LE(limiter.size(), 160u);
  EXPECT_GT(limiter.size(), 0u);
}

TEST(RateLimiter, ConcurrentChecksAdmitExactlyTheLimit) {
  ManualClock clock;
  RateLimiter limiter(1000, 60s, 1000, clock.function());
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.check("shared").allowed) {
          ++allowed;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(RateLimiter, InvalidParametersThrow) {
  EXPECT_THROW(RateLimiter(0, 1s), std::invalid_argument);
  EXPECT_THROW(RateLimiter(1, 0s), std::invalid_argument);
}

}  // namespace
}  // namespace inferd::infra

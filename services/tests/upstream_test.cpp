#include <gtest/gtest.h>

#include "infernet/sdk/errors.hpp"
#include "llm/upstream.hpp"

namespace infernet::services {
namespace {

TEST(RetryPolicy, DefaultsMatchPythonServices) {
  RetryPolicy policy = RetryPolicy::from_json(nlohmann::json::object());
  EXPECT_EQ(policy.tries, 3u);
  EXPECT_DOUBLE_EQ(policy.delay_seconds, 3);
  EXPECT_FALSE(policy.max_delay_seconds.has_value());
  EXPECT_DOUBLE_EQ(policy.backoff, 2);
  EXPECT_DOUBLE_EQ(policy.jitter_min_seconds, 0.5);
  EXPECT_DOUBLE_EQ(policy.jitter_max_seconds, 1.5);
}

TEST(RetryPolicy, ParsesEveryKey) {
  auto policy = RetryPolicy::from_json(
      {{"tries", 5}, {"delay", 0.1}, {"max_delay", 2}, {"backoff", 3}, {"jitter", 0.25}});
  EXPECT_EQ(policy.tries, 5u);
  EXPECT_DOUBLE_EQ(policy.delay_seconds, 0.1);
  ASSERT_TRUE(policy.max_delay_seconds.has_value());
  EXPECT_DOUBLE_EQ(*policy.max_delay_seconds, 2);
  EXPECT_DOUBLE_EQ(policy.backoff, 3);
  EXPECT_DOUBLE_EQ(policy.jitter_min_seconds, 0.25);
  EXPECT_DOUBLE_EQ(policy.jitter_max_seconds, 0.25);
}

TEST(RetryPolicy, RejectsInvalidValues) {
  EXPECT_THROW(RetryPolicy::from_json({{"tries", 0}}), std::invalid_argument);
  EXPECT_THROW(RetryPolicy::from_json({{"tries", "3"}}), std::invalid_argument);
  EXPECT_THROW(RetryPolicy::from_json({{"delay", -1}}), std::invalid_argument);
  EXPECT_THROW(RetryPolicy::from_json({{"jitter", {2, 1}}}), std::invalid_argument);
  EXPECT_THROW(RetryPolicy::from_json({{"jitter", {1, 2, 3}}}), std::invalid_argument);
  EXPECT_THROW(RetryPolicy::from_json(nlohmann::json::array()), std::invalid_argument);
}

TEST(RetryPolicy, NextDelayBacksOffAndCaps) {
  RetryPolicy policy;
  EXPECT_DOUBLE_EQ(policy.next_delay(3, 0.5), 6.5);
  policy.max_delay_seconds = 4;
  EXPECT_DOUBLE_EQ(policy.next_delay(3, 0.5), 4);
  EXPECT_DOUBLE_EQ(policy.next_delay(1, 0.5), 2.5);
}

TEST(RetryableStatus, RateLimitAndServerErrors) {
  for (unsigned status : {429u, 500u, 502u, 503u, 504u})
    EXPECT_TRUE(is_retryable_status(status)) << status;
  for (unsigned status : {200u, 400u, 401u, 404u, 422u, 501u})
    EXPECT_FALSE(is_retryable_status(status)) << status;
}

TEST(Upstream, RedactsEverySecret) {
  boost::asio::io_context io;
  HttpClient client(io.get_executor());
  Upstream upstream(client, RetryPolicy{}, std::chrono::seconds(1), {"sk-secret", "", "hf_x"});
  EXPECT_EQ(upstream.redact("key sk-secret, again sk-secret, hf_x"), "key ***, again ***, ***");
  EXPECT_EQ(upstream.redact("nothing secret"), "nothing secret");
}

TEST(ModelName, AcceptsHubAndTaggedNames) {
  EXPECT_NO_THROW(check_model_name("facebook/bart-large-cnn", "model"));
  EXPECT_NO_THROW(check_model_name("gpt-4o:2024-08-06", "model"));
  EXPECT_NO_THROW(check_model_name("meta-llama/Llama-3.2-1B-Instruct", "model"));
}

TEST(ModelName, RejectsPathTricks) {
  for (const char* name : {"", "../admin", "a//b", "a/./b", "a b", "a?x=1", "a#b", "/abs"}) {
    try {
      check_model_name(name, "model");
      ADD_FAILURE() << "accepted " << name;
    } catch (const sdk::ServiceError& error) {
      EXPECT_EQ(error.status(), sdk::Status::bad_request) << name;
    }
  }
}

}  // namespace
}  // namespace infernet::services

#include <cstdlib>

#include <gtest/gtest.h>

#include "infernet/sdk/errors.hpp"
#include "tgi/tgi.hpp"

namespace infernet::services {
namespace {

using nlohmann::json;

// Sets environment variables for one test and removes them afterwards.
class ScopedEnvironment {
 public:
  ScopedEnvironment(std::initializer_list<std::pair<const char*, const char*>> entries) {
    for (const auto& [name, value] : entries) {
      setenv(name, value, 1);
      names_.push_back(name);
    }
  }
  ~ScopedEnvironment() {
    for (const char* name : names_)
      unsetenv(name);
  }

 private:
  std::vector<const char*> names_;
};

TEST(TgiConfig, ReadsPositionalAndKeywordArgs) {
  ScopedEnvironment environment{
      {"TGI_INF_WORKFLOW_POSITIONAL_ARGS",
       R"(["http://127.0.0.1:8080", 12, {"X-Test": "1"}, {"session": "abc"}])"},
      {"TGI_INF_WORKFLOW_KW_ARGS",
       R"({"max_new_tokens": 8, "temperature": 0.5, "retry_params": {"tries": 2, "delay": 0.01}})"},
      {"TGI_INF_TOKEN", "tgi-token"}};
  auto config = TgiConfig::from_environment();
  EXPECT_EQ(config.server_url, "http://127.0.0.1:8080");
  EXPECT_EQ(config.timeout, std::chrono::milliseconds(12'000));
  EXPECT_EQ(config.parameters, json({{"max_new_tokens", 8}, {"temperature", 0.5}}));
  EXPECT_EQ(config.retry.tries, 2u);
  EXPECT_DOUBLE_EQ(config.retry.delay_seconds, 0.01);
  HeaderList expected{
      {"X-Test", "1"}, {"Cookie", "session=abc"}, {"Authorization", "Bearer tgi-token"}};
  EXPECT_EQ(config.headers, expected);
}

TEST(TgiConfig, MissingServerUrlThrows) {
  unsetenv("TGI_INF_WORKFLOW_POSITIONAL_ARGS");
  EXPECT_THROW(TgiConfig::from_environment(), std::invalid_argument);
  ScopedEnvironment environment{{"TGI_INF_WORKFLOW_POSITIONAL_ARGS", R"(["not a url", 10])"}};
  EXPECT_THROW(TgiConfig::from_environment(), std::invalid_argument);
}

TEST(TgiReply, GeneratedTextFromObjectOrList) {
  EXPECT_EQ(tgi_generated_text(json::parse(R"({"generated_text":"a b"})")), "a b");
  EXPECT_EQ(tgi_generated_text(json::parse(R"([{"generated_text":"c"}])")), "c");
  EXPECT_THROW(tgi_generated_text(json::parse(R"({"text":"c"})")), sdk::ServiceError);
}

TEST(TgiStream, TokenSpecialAndFinalEvents) {
  auto token = parse_tgi_stream_event(
      json::parse(R"({"token":{"id":1,"text":" hi","special":false},"generated_text":null})"));
  EXPECT_EQ(token.text, " hi");
  EXPECT_FALSE(token.final);

  auto last = parse_tgi_stream_event(
      json::parse(R"({"token":{"id":2,"text":"</s>","special":true},"generated_text":"x hi"})"));
  EXPECT_EQ(last.text, "");
  EXPECT_TRUE(last.final);

  EXPECT_THROW(parse_tgi_stream_event(json::parse(R"({"error":"overloaded","error_type":"x"})")),
               sdk::ServiceError);
  EXPECT_THROW(parse_tgi_stream_event(json::parse(R"({"token":{}})")), sdk::ServiceError);
}

}  // namespace
}  // namespace infernet::services

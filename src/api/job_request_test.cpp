#include "api/job_request.hpp"

#include <gtest/gtest.h>

namespace inferd::api {
namespace {

using nlohmann::json;

std::string error_of(const json& body, const std::string& prefix = "") {
  auto parsed = parse_job_request(body, prefix);
  auto* invalid = std::get_if<InvalidRequest>(&parsed);
  return invalid ? invalid->message : std::string("<accepted>");
}

TEST(JobRequest, ParsesOffchainJob) {
  auto parsed = parse_job_request(
      {{"containers", {"a", "b"}}, {"data", {{"x", 1}}}, {"requires_proof", true}, {"id", "mine"}});
  auto& job = std::get<OffchainJobRequest>(std::get<JobRequest>(parsed));
  EXPECT_EQ(job.containers, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(job.data, json({{"x", 1}}));
  EXPECT_TRUE(job.requires_proof);
}

TEST(JobRequest, RecognisesDelegatedSubscription) {
  auto parsed = parse_job_request({{"subscription", json::object()}, {"data", json::object()}});
  EXPECT_TRUE(std::holds_alternative<DelegatedSubscriptionRequest>(std::get<JobRequest>(parsed)));
}

TEST(JobRequest, ErrorsNameFieldPath) {
  EXPECT_EQ(error_of(json::array()),
            "body: invalid value [] (expected a JSON object with "
            "\"containers\" and \"data\")");
  EXPECT_EQ(error_of({{"data", json::object()}}),
            "containers: missing (expected a list of container ids)");
  EXPECT_EQ(error_of({{"containers", "a"}, {"data", json::object()}}),
            "containers: invalid value \"a\" (expected a list of container ids)");
  EXPECT_EQ(error_of({{"containers", {"a", 7}}, {"data", json::object()}}),
            "containers[1]: invalid value 7 (expected a container id string)");
  EXPECT_EQ(error_of({{"containers", {"a"}}}),
            "data: missing (expected a JSON object, the job input)");
  EXPECT_EQ(error_of({{"containers", {"a"}}, {"data", 5}}),
            "data: invalid value 5 (expected a JSON object, the job input)");
  EXPECT_EQ(error_of({{"containers", {"a"}}, {"data", json::object()}, {"requires_proof", 1}}),
            "requires_proof: invalid value 1 (expected true or false)");
  EXPECT_EQ(error_of({{"containers", {"a"}}}, "[3]."),
            "[3].data: missing (expected a JSON object, the job input)");
}

TEST(JobRequest, JsonErrorsHideLibraryTag) {
  auto parsed = parse_json_body("{\"a\": ");
  auto* invalid = std::get_if<InvalidRequest>(&parsed);
  ASSERT_NE(invalid, nullptr);
  EXPECT_EQ(invalid->message.rfind("invalid JSON body: parse error at line 1", 0), 0u)
      << invalid->message;
  EXPECT_EQ(invalid->message.find("json.exception"), std::string::npos);
}

TEST(JobRequest, LongValuesAreShortened) {
  auto text = describe_value(std::string(200, 'x'));
  EXPECT_EQ(text.size(), 80u);
  EXPECT_EQ(text.substr(77), "...");
}

}  // namespace
}  // namespace inferd::api

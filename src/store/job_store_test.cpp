#include "store/job_store.hpp"

#include <gtest/gtest.h>

namespace inferd::store {
namespace {

using nlohmann::json;

TEST(JobStatus, RoundTripsReferenceStrings) {
  EXPECT_EQ(to_string(JobStatus::kRunning), "running");
  EXPECT_EQ(to_string(JobStatus::kSuccess), "success");
  EXPECT_EQ(to_string(JobStatus::kFailed), "failed");
  EXPECT_EQ(parse_job_status("running"), JobStatus::kRunning);
  EXPECT_EQ(parse_job_status("success"), JobStatus::kSuccess);
  EXPECT_EQ(parse_job_status("failed"), JobStatus::kFailed);
  EXPECT_FALSE(parse_job_status("Failed"));
  EXPECT_FALSE(parse_job_status("failure"));
  EXPECT_FALSE(parse_job_status(""));
}

TEST(ContainerResult, JsonShapes) {
  ContainerResult output{"a", json{{"k", 1}}, std::nullopt};
  EXPECT_EQ(output.to_json(), json::parse(R"({"container":"a","output":{"k":1}})"));
  ContainerResult error{"b", std::nullopt, std::string("timed out")};
  EXPECT_EQ(error.to_json(), json::parse(R"({"container":"b","error":"timed out"})"));
  ContainerResult null_output{"c", json(nullptr), std::nullopt};
  EXPECT_EQ(null_output.to_json(), json::parse(R"({"container":"c","output":null})"));
}

TEST(ContainerResult, ParsesItsOwnJson) {
  auto output = parse_container_result(json::parse(R"({"container":"a","output":[1,2]})"));
  ASSERT_TRUE(output);
  EXPECT_EQ(output->container, "a");
  EXPECT_EQ(output->output, json::parse("[1,2]"));
  EXPECT_FALSE(output->error);
  auto error = parse_container_result(json::parse(R"({"container":"b","error":"x"})"));
  ASSERT_TRUE(error);
  EXPECT_EQ(error->error, "x");
  EXPECT_FALSE(parse_container_result(json::parse(R"({"container":"b"})")));
  EXPECT_FALSE(parse_container_result(json::parse(R"({"output":1})")));
  EXPECT_FALSE(parse_container_result(json::parse("[]")));
}

TEST(JobRecord, ResultIsLastAndIntermediateTheRest) {
  JobRecord job;
  job.id = "j";
  job.status = JobStatus::kSuccess;
  job.results = {
      {"a", json(1), std::nullopt}, {"b", json(2), std::nullopt}, {"c", json(3), std::nullopt}};
  EXPECT_EQ(job.to_json(true), json::parse(R"({"id":"j","status":"success",
      "result":{"container":"c","output":3},
      "intermediate_results":[{"container":"a","output":1},{"container":"b","output":2}]})"));
  EXPECT_EQ(job.to_json(false), json::parse(R"({"id":"j","status":"success",
      "result":{"container":"c","output":3}})"));
}

TEST(JobRecord, NoResultsGivesNull) {
  JobRecord job;
  job.id = "j";
  EXPECT_EQ(job.to_json(true), json::parse(R"({"id":"j","status":"running","result":null,
      "intermediate_results":[]})"));
}

}  // namespace
}  // namespace inferd::store

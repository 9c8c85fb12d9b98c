// The `inferd job` client against a real node.
#include <gtest/gtest.h>

#include "support/node_harness.hpp"

namespace inferd::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(JobCli, SubmitWaitPrintsResult) {
  ServiceProcess service(test_service_binary(), {"--name", "svc"});
  NodeProcess node(json{{"containers", {container_entry("svc", service.port())}}});
  node.start();

  Process cli(inferd_binary(), {"job", "submit", "--url", node.url(""), "--containers", "svc",
                                "--data", R"({"input": "from the cli"})", "--wait"});
  EXPECT_EQ(cli.wait(30s), 0) << cli.stderr_text();
  auto job = json::parse(cli.stdout_text());
  EXPECT_EQ(job["status"], "success");
  EXPECT_EQ(job["result"]["output"]["envelope"]["data"]["input"], "from the cli");

  Process list(inferd_binary(), {"job", "list", "--url", node.url("")});
  EXPECT_EQ(list.wait(30s), 0);
  EXPECT_NE(list.stdout_text().find(job["id"].get<std::string>()), std::string::npos);
}

TEST(JobCli, FailedJobExitsNonZero) {
  ServiceProcess service(test_service_binary(), {"--status", "500"});
  NodeProcess node(json{{"containers", {container_entry("bad", service.port())}}});
  node.start();

  Process cli(inferd_binary(),
              {"job", "submit", "--url", node.url(""), "--containers", "bad", "--wait"});
  EXPECT_EQ(cli.wait(30s), 1);
  EXPECT_NE(cli.stdout_text().find("\"failed\""), std::string::npos);
}

TEST(JobCli, RejectionIsOneLineError) {
  ServiceProcess service(test_service_binary(), {});
  NodeProcess node(json{{"containers", {container_entry("svc", service.port())}}});
  node.start();

  Process cli(inferd_binary(), {"job", "submit", "--url", node.url(""), "--containers", "nope"});
  EXPECT_EQ(cli.wait(30s), 1);
  auto error = cli.stderr_text();
  EXPECT_NE(error.find("HTTP 404"), std::string::npos) << error;
  EXPECT_NE(error.find("Container not supported"), std::string::npos) << error;
}

TEST(JobCli, StreamPrintsIdAndText) {
  ServiceProcess service(test_service_binary(), {"--stream-chunks", "2"});
  NodeProcess node(json{{"containers", {container_entry("svc", service.port())}}});
  node.start();

  Process cli(inferd_binary(), {"job", "stream", "--url", node.url(""), "--containers", "svc"});
  EXPECT_EQ(cli.wait(30s), 0) << cli.stderr_text();
  auto out = cli.stdout_text();
  auto newline = out.find('\n');
  ASSERT_NE(newline, std::string::npos);
  EXPECT_EQ(newline, 36u) << out;
}

}  // namespace
}  // namespace inferd::testing

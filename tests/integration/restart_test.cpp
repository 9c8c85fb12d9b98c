// Crash safety and shutdown: no job stays running forever, none disappears.
#include <signal.h>

#include <gtest/gtest.h>

#include "support/node_harness.hpp"

namespace inferd::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(Restart, KillNineMarksRunningJobsFailed) {
  ServiceProcess service(test_service_binary(), {"--delay-ms", "30000"});
  NodeProcess node(json{{"containers", {container_entry("slow", service.port())}}});
  node.start();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(node.submit({{"containers", {"slow"}}, {"data", json::object()}}));
  auto running = json::parse(node.get("/api/jobs?pending=true").body);
  EXPECT_EQ(running.size(), 3u);

  node.kill_hard();
  node.start();

  for (const auto& id : ids) {
    auto jobs = json::parse(node.get("/api/jobs?id=" + id).body);
    ASSERT_EQ(jobs.size(), 1u) << "job " << id << " disappeared";
    EXPECT_EQ(jobs[0]["status"], "failed");
    EXPECT_EQ(jobs[0]["result"]["error"], "node restarted");
  }
}

TEST(Restart, CompletedResultsSurviveKillNine) {
  ServiceProcess service(test_service_binary(), {});
  NodeProcess node(json{{"containers", {container_entry("svc", service.port())}}});
  node.start();
  auto id = node.submit({{"containers", {"svc"}}, {"data", {{"keep", true}}}});
  EXPECT_EQ(node.wait_job(id)["status"], "success");

  node.kill_hard();
  node.start();
  auto job = node.wait_job(id);
  EXPECT_EQ(job["status"], "success");
  EXPECT_EQ(job["result"]["output"]["envelope"]["data"]["keep"], true);
}

TEST(Shutdown, SigtermDrainsInFlightJobs) {
  ServiceProcess service(test_service_binary(), {"--delay-ms", "500"});
  json config{{"containers", {container_entry("svc", service.port())}},
              {"server", {{"shutdown_grace", 10}}}};
  NodeProcess node(config);
  node.start();
  auto id = node.submit({{"containers", {"svc"}}, {"data", json::object()}});

  EXPECT_EQ(node.terminate(15s), 0);
  node.start();
  EXPECT_EQ(node.wait_job(id)["status"], "success");
}

TEST(Shutdown, JobsPastGraceAreRecordedFailed) {
  ServiceProcess service(test_service_binary(), {"--delay-ms", "20000"});
  json config{{"containers", {container_entry("svc", service.port())}},
              {"server", {{"shutdown_grace", 0.3}}}};
  NodeProcess node(config);
  node.start();
  auto id = node.submit({{"containers", {"svc"}}, {"data", json::object()}});

  EXPECT_EQ(node.terminate(15s), 0);
  node.start();
  auto job = node.wait_job(id);
  EXPECT_EQ(job["status"], "failed");
  EXPECT_EQ(job["result"]["error"], "node shut down before the job finished");
}

TEST(Startup, InvalidConfigExitsTwoWithOneLine) {
  TempDir dir;
  write_file(dir.path() / "config.json", R"({"server": {"port": "abc"}})");
  Process process(inferd_binary(), {"run", "--config", (dir.path() / "config.json").string()});
  EXPECT_EQ(process.wait(10s), 2);
  auto error = process.stderr_text();
  EXPECT_NE(error.find("server.port"), std::string::npos) << error;
  EXPECT_NE(error.find("abc"), std::string::npos) << error;
  EXPECT_NE(error.find("config.json"), std::string::npos) << error;
  EXPECT_EQ(std::count(error.begin(), error.end(), '\n'), 1) << error;
}

TEST(Startup, ConfigFromEnvironmentAndUnknownKeyWarning) {
  TempDir dir;
  auto port = free_port();
  json config{{"manage_containers", false},
              {"server", {{"port", port}}},
              {"chain", {{"enabled", false}, {"rpc_ws", "ws://x"}}},
              {"store", {{"data_dir", (dir.path() / "data").string()}}},
              {"log", {{"path", (dir.path() / "inferd.log").string()}}}};
  write_file(dir.path() / "node.json", config.dump());
  Process process(inferd_binary(), {"run"},
                  {{"INFERNET_CONFIG_PATH", (dir.path() / "node.json").string()}});
  ASSERT_TRUE(process.wait_for_output("REST API listening", 15s)) << process.stderr_text();
  auto output = process.stderr_text();
  EXPECT_NE(output.find((dir.path() / "node.json").string()), std::string::npos);
  EXPECT_NE(output.find("chain.rpc_ws"), std::string::npos);
  EXPECT_NE(output.find("rpc_url"), std::string::npos);
  process.signal(SIGTERM);
  EXPECT_EQ(process.wait(10s), 0);
}

TEST(Startup, PortInUseFailsWithMessage) {
  ServiceProcess service(test_service_binary(), {});
  TempDir dir;
  json config{{"manage_containers", false},
              {"server", {{"port", service.port()}}},
              {"store", {{"data_dir", (dir.path() / "data").string()}}},
              {"log", {{"path", (dir.path() / "inferd.log").string()}}}};
  write_file(dir.path() / "config.json", config.dump());
  Process process(inferd_binary(), {"run", "--config", (dir.path() / "config.json").string()});
  EXPECT_EQ(process.wait(10s), 1);
  EXPECT_NE(process.stderr_text().find(std::to_string(service.port())), std::string::npos);
}

}  // namespace
}  // namespace inferd::testing

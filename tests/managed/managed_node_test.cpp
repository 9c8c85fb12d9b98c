// The node running `hello` as a managed container on a real Podman service.
#include <unistd.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "support/node_harness.hpp"

namespace inferd::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr)
    throw std::runtime_error("cannot run: " + command);
  char buffer[4096];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr)
    output += buffer;
  int status = ::pclose(pipe);
  if (status != 0)
    throw std::runtime_error("command failed (" + std::to_string(status) + "): " + command);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' '))
    output.pop_back();
  return output;
}

class ManagedNode : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (std::getenv("DOCKER_HOST") == nullptr) {
      auto host = run_command("bash " INFERD_SOURCE_DIR "/scripts/podman.sh");
      ::setenv("DOCKER_HOST", host.c_str(), 1);
    }
    run_command("bash " INFERD_SOURCE_DIR "/scripts/build-images.sh --build-dir " INFERD_BINARY_DIR
                " --tag it hello >&2");
  }

  void TearDown() override { std::system(("podman rm -f " + name_ + " >/dev/null 2>&1").c_str()); }

  std::string name_ = "inferd-it-hello-" + std::to_string(::getpid());
};

TEST_F(ManagedNode, RunsJobThroughManagedHello) {
  auto port = free_port();
  json container{{"id", name_},
                 {"image", "localhost/inferd/hello:it"},
                 {"port", port},
                 {"description", "managed hello"}};
  NodeProcess node(
      json{{"manage_containers", true}, {"startup_wait", 60}, {"containers", {container}}});
  node.start();

  auto id = node.submit({{"containers", {name_}}, {"data", {{"input", "managed"}}}});
  auto job = node.wait_job(id);
  ASSERT_EQ(job["status"], "success") << job.dump();
  EXPECT_NE(job["result"]["output"]["output"].get<std::string>().find("hello, world!"),
            std::string::npos);

  auto info = json::parse(node.get("/info").body);
  ASSERT_EQ(info["containers"].size(), 1u);
  EXPECT_EQ(info["containers"][0]["image"], "localhost/inferd/hello:it");
  auto health = json::parse(node.get("/health").body);
  EXPECT_EQ(health["checks"]["containers"]["status"], "ok");

  EXPECT_EQ(node.terminate(60s), 0);
  auto state = run_command("podman inspect --format '{{.State.Status}}' " + name_);
  EXPECT_NE(state, "running");
}

TEST_F(ManagedNode, MissingImageFailsStartNamingIt) {
  json container{
      {"id", name_}, {"image", "localhost/inferd/does-not-exist:none"}, {"port", free_port()}};
  NodeProcess node(json{{"manage_containers", true}, {"containers", {container}}});
  try {
    node.start();
  } catch (const std::runtime_error&) {
  }
  auto exit_status = node.process().wait(120s);
  ASSERT_TRUE(exit_status.has_value());
  EXPECT_EQ(*exit_status, 1);
  EXPECT_NE(node.process().stderr_text().find("localhost/inferd/does-not-exist:none"),
            std::string::npos)
      << node.process().stderr_text();
}

}  // namespace
}  // namespace inferd::testing

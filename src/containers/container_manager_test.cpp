// Unit tests of the container manager that need no container runtime. The lifecycle against a
// real Podman service is tested in tests/containers/.
#include "containers/container_manager.hpp"

#include <gtest/gtest.h>

namespace inferd::containers {
namespace {

using Args = std::vector<std::string>;

TEST(SplitCommand, SplitsOnWhitespace) {
  EXPECT_EQ(split_command("python3 -m app  --port 3000"),
            (Args{"python3", "-m", "app", "--port", "3000"}));
  EXPECT_EQ(split_command(""), Args{});
  EXPECT_EQ(split_command("   "), Args{});
}

TEST(SplitCommand, HonoursQuotesAndEscapes) {
  EXPECT_EQ(split_command(R"(sh -c "echo 'hi there'; exit 3")"),
            (Args{"sh", "-c", "echo 'hi there'; exit 3"}));
  EXPECT_EQ(split_command(R"(a 'b "c"' d\ e "f\"g")"), (Args{"a", "b \"c\"", "d e", "f\"g"}));
  EXPECT_EQ(split_command(R"(empty "" '')"), (Args{"empty", "", ""}));
}

TEST(SplitCommand, RejectsUnterminatedQuote) {
  EXPECT_FALSE(split_command("sh -c \"echo").has_value());
  EXPECT_FALSE(split_command("it's").has_value());
}

ManagedContainerSpec sample_spec() {
  ManagedContainerSpec spec;
  spec.id = "hello";
  spec.image = "localhost/inferd/hello:latest";
  spec.command = "--verbose 'two words'";
  spec.env = {{"MODEL", "small"}, {"DEBUG", true}, {"THREADS", 4}, {"EMPTY", nullptr}};
  spec.volumes = {"/data/models:/models:ro"};
  spec.host_port = 3005;
  return spec;
}

TEST(ContainerCreateBody, MapsSpecToDockerFields) {
  const auto body = container_create_body(sample_spec());
  EXPECT_EQ(body["Image"], "localhost/inferd/hello:latest");
  EXPECT_EQ(body["Cmd"], (nlohmann::json{"--verbose", "two words"}));
  EXPECT_EQ(body["Env"], (nlohmann::json{"DEBUG=True", "EMPTY=None", "MODEL=small", "THREADS=4"}));
  EXPECT_TRUE(body["ExposedPorts"].contains("3000/tcp"));
  const auto& binding = body["HostConfig"]["PortBindings"]["3000/tcp"][0];
  EXPECT_EQ(binding["HostIp"], "127.0.0.1");
  EXPECT_EQ(binding["HostPort"], "3005");
  EXPECT_EQ(body["HostConfig"]["Binds"], (nlohmann::json{"/data/models:/models:ro"}));
  EXPECT_EQ(body["HostConfig"]["RestartPolicy"]["Name"], "no");
  EXPECT_FALSE(body["HostConfig"].contains("DeviceRequests"));
}

TEST(ContainerCreateBody, GpuRequestsAllDevices) {
  auto spec = sample_spec();
  spec.gpu = true;
  const auto body = container_create_body(spec);
  const auto& request = body["HostConfig"]["DeviceRequests"][0];
  EXPECT_EQ(request["Count"], -1);
  EXPECT_EQ(request["Capabilities"], (nlohmann::json{{"gpu"}}));
}

TEST(ContainerCreateBody, EmptyCommandKeepsImageDefault) {
  auto spec = sample_spec();
  spec.command = "";
  EXPECT_FALSE(container_create_body(spec).contains("Cmd"));
}

TEST(ContainerConfigHash, ChangesWithConfigAndImage) {
  const auto base = container_create_body(sample_spec());
  const auto hash = container_config_hash(base, "sha256:aaa");
  EXPECT_EQ(hash.size(), 64U);
  EXPECT_EQ(hash, container_config_hash(container_create_body(sample_spec()), "sha256:aaa"));
  EXPECT_NE(hash, container_config_hash(base, "sha256:bbb"));

  auto changed = sample_spec();
  changed.env["MODEL"] = "large";
  EXPECT_NE(hash, container_config_hash(container_create_body(changed), "sha256:aaa"));

  auto moved = sample_spec();
  moved.host_port = 3006;
  EXPECT_NE(hash, container_config_hash(container_create_body(moved), "sha256:aaa"));
}

TEST(ContainerState, NamesAreLowerCase) {
  EXPECT_EQ(to_string(ContainerState::kReady), "ready");
  EXPECT_EQ(to_string(ContainerState::kStarting), "starting");
  EXPECT_EQ(to_string(ContainerState::kRestarting), "restarting");
  EXPECT_EQ(to_string(ContainerState::kFailed), "failed");
}

TEST(ContainerStatus, JsonHasNullsForUnset) {
  ContainerStatus status;
  status.id = "hello";
  status.host_port = 3000;
  status.state = ContainerState::kRestarting;
  status.restarts = 2;
  auto json = to_json(status);
  EXPECT_EQ(json["state"], "restarting");
  EXPECT_EQ(json["port"], 3000);
  EXPECT_EQ(json["restarts"], 2);
  EXPECT_TRUE(json["last_error"].is_null());
  EXPECT_TRUE(json["last_exit_code"].is_null());

  status.last_error = "container hello exited with code 137";
  status.last_exit_code = 137;
  json = to_json(status);
  EXPECT_EQ(json["last_error"], "container hello exited with code 137");
  EXPECT_EQ(json["last_exit_code"], 137);
}

TEST(ContainerManager, UnreachableDaemonFailsEveryContainer) {
  asio::io_context context;
  const std::string socket = "/nonexistent-inferd-test-dir/docker.sock";
  ContainerManager manager(context.get_executor(),
                           DockerClient(DockerEndpoint::parse("unix://" + socket)),
                           {sample_spec()});
  std::exception_ptr error;
  asio::co_spawn(context, manager.start(), [&](std::exception_ptr e) { error = e; });
  context.run();

  ASSERT_TRUE(error);
  EXPECT_THROW(std::rethrow_exception(error), DockerError);
  EXPECT_EQ(manager.state("hello"), ContainerState::kFailed);
  EXPECT_NE(manager.status("hello").last_error.find(socket), std::string::npos)
      << manager.status("hello").last_error;
}

TEST(ContainerManager, RejectsInvalidConfigBeforeDocker) {
  asio::io_context context;
  auto first = sample_spec();
  first.port_config_key = "containers[0].port";
  auto second = sample_spec();
  second.id = "other";
  second.image = "";
  second.port_config_key = "containers[1].port";
  ContainerManager manager(context.get_executor(),
                           DockerClient(DockerEndpoint::parse("unix:///nonexistent/docker.sock")),
                           {first, second});
  std::exception_ptr error;
  asio::co_spawn(context, manager.start(), [&](std::exception_ptr e) { error = e; });
  context.run();

  ASSERT_TRUE(error);
  try {
    std::rethrow_exception(error);
  } catch (const ContainerStartError& e) {
    ASSERT_EQ(e.failures().size(), 2U) << e.what();
    EXPECT_EQ(e.failures()[0], "container other: no image configured");
    EXPECT_EQ(e.failures()[1],
              "containers[0].port and containers[1].port both publish port 3005 on 127.0.0.1: "
              "give one of them another port");
  }
}

TEST(ContainerStartError, ListsEveryFailure) {
  ContainerStartError error({"image a: not found", "image b: not found"});
  const std::string text = error.what();
  EXPECT_NE(text.find("image a: not found"), std::string::npos);
  EXPECT_NE(text.find("image b: not found"), std::string::npos);
  EXPECT_EQ(error.failures().size(), 2U);
}

}  // namespace
}  // namespace inferd::containers

// The container manager against a real Podman API service and a busybox httpd image built
// FROM scratch. Every test names its containers with a prefix unique to this process and test,
// and removes whatever carries that prefix when it ends.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "containers/container_manager.hpp"
#include "containers/docker_client.hpp"
#include "infra/asio.hpp"

namespace inferd::containers {
namespace {

using namespace std::chrono_literals;

constexpr const char* kTestImage = "localhost/inferd/test-httpd:latest";
constexpr auto kAwaitLimit = 300s;

// Runs a shell command and returns its stdout; fails the test when it exits non-zero.
std::string run_command(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "cannot run: " << command;
    return output;
  }
  std::array<char, 4096> chunk{};
  std::size_t n;
  while ((n = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0) {
    output.append(chunk.data(), n);
  }
  const int status = ::pclose(pipe);
  EXPECT_EQ(status, 0) << "command failed: " << command << "\n" << output;
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) {
    output.pop_back();
  }
  return output;
}

// A port that was free a moment ago and that this process has not handed out before, so two
// calls in one test never collide.
int free_port() {
  static std::set<int> handed_out;
  for (;;) {
    asio::io_context context;
    asio::ip::tcp::acceptor acceptor(
        context, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    int port = acceptor.local_endpoint().port();
    if (handed_out.insert(port).second)
      return port;
  }
}

// GET http://127.0.0.1:<port><path>; returns the body, or the error text when the request failed.
std::string http_get(int port, const std::string& path) {
  try {
    asio::io_context context;
    beast::tcp_stream stream(context);
    stream.expires_after(10s);
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                           static_cast<unsigned short>(port)));
    http::request<http::empty_body> request{http::verb::get, path, 11};
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    return response.body();
  } catch (const std::exception& e) {
    return std::string("request failed: ") + e.what();
  }
}

nlohmann::json name_filter(const std::string& prefix) {
  nlohmann::json filters;
  filters["name"] = nlohmann::json::array({prefix});
  return filters;
}

Awaitable<void> remove_containers(DockerClient docker, std::string prefix) {
  const auto listed = co_await docker.list_containers(name_filter(prefix));
  for (const auto& container : listed) {
    co_await docker.remove_container(container.value("Id", std::string()));
  }
}

class PodmanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* docker_host = std::getenv("DOCKER_HOST");
    if (docker_host == nullptr || *docker_host == '\0') {
      const std::string host = run_command("bash " INFERD_SOURCE_DIR "/scripts/podman.sh");
      ::setenv("DOCKER_HOST", host.c_str(), 1);
    }
    run_command("bash " INFERD_SOURCE_DIR "/scripts/build-images.sh test-httpd >&2");
  }

  void SetUp() override {
    static std::atomic<int> counter{0};
    prefix_ = "inferd-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-";
    work_.emplace(context_.get_executor());
    thread_ = std::thread([this] { context_.run(); });
  }

  void TearDown() override {
    // Managers of a test that failed half-way are still supervising: stop them first.
    for (auto& manager : managers_) {
      await(manager->stop());
    }
    managers_.clear();
    // Remove every container of this test, whatever the test left behind.
    await(remove_containers(docker(), prefix_));
    work_.reset();
    thread_.join();
  }

  DockerClient docker() const { return DockerClient(DockerEndpoint::from_environment(), 60s); }

  // Runs `task` on the test's io_context and waits for it, rethrowing its exception.
  template <typename T>
  T await(Awaitable<T> task) {
    auto future = asio::co_spawn(context_, std::move(task), asio::use_future);
    if (future.wait_for(kAwaitLimit) != std::future_status::ready) {
      throw std::runtime_error("operation did not finish within the test's limit");
    }
    return future.get();
  }

  ManagedContainerSpec httpd_spec(const std::string& id, int port) const {
    ManagedContainerSpec spec;
    spec.id = id;
    spec.image = kTestImage;
    spec.host_port = port;
    spec.port_config_key = "containers[0].port";
    spec.startup_limit = 60s;
    spec.remove_on_stop = true;
    return spec;
  }

  ContainerManagerOptions options() const {
    ContainerManagerOptions options;
    options.name_prefix = prefix_;
    // No registry is reachable here; kMissing keeps Podman from trying one for local images.
    options.pull_policy = PullPolicy::kMissing;
    // busybox httpd as PID 1 ignores SIGTERM, so every stop waits for this grace period.
    options.stop_timeout = 1s;
    options.poll_interval = 200ms;
    options.restart_backoff_initial = 200ms;
    return options;
  }

  // The fixture owns every manager, so TearDown can stop it whatever the test did.
  ContainerManager* make_manager(std::vector<ManagedContainerSpec> specs,
                                 ContainerManagerOptions manager_options) {
    managers_.push_back(std::make_unique<ContainerManager>(
        context_.get_executor(), docker(), std::move(specs), std::move(manager_options)));
    return managers_.back().get();
  }

  // Names of the existing containers of this test.
  std::vector<std::string> remaining_containers() {
    auto listed = await(docker().list_containers(name_filter(prefix_)));
    std::vector<std::string> names;
    for (const auto& container : listed) {
      names.push_back(container.value("/Names/0"_json_pointer, std::string("?")));
    }
    return names;
  }

  std::string start_error(ContainerManager& manager) {
    try {
      await(manager.start());
    } catch (const std::exception& e) {
      return e.what();
    }
    return "start() succeeded";
  }

  std::string prefix_;
  asio::io_context context_;
  std::vector<std::unique_ptr<ContainerManager>> managers_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

TEST_F(PodmanTest, StartsContainerAndServesThroughPort) {
  const int port = free_port();
  auto manager_options = options();
  // Pulling fails (no registry), so the manager must warn and use the local image.
  manager_options.pull_policy = PullPolicy::kAlways;
  auto manager = make_manager({httpd_spec("web", port)}, manager_options);

  await(manager->start());
  EXPECT_TRUE(manager->ready("web"));
  EXPECT_EQ(manager->state("web"), ContainerState::kReady);
  EXPECT_EQ(manager->host_port("web"), port);
  EXPECT_FALSE(manager->status("web").docker_id.empty());
  EXPECT_NO_THROW(await(manager->wait_ready("web", std::chrono::steady_clock::now() + 1s)));
  EXPECT_THROW(manager->state("unknown"), std::out_of_range);
  EXPECT_FALSE(manager->ready("unknown"));

  EXPECT_EQ(http_get(port, "/"), "inferd test httpd\n");

  await(manager->stop());
  EXPECT_EQ(manager->state("web"), ContainerState::kStopped);
  EXPECT_TRUE(remaining_containers().empty());
}

TEST_F(PodmanTest, VolumesAndCommandReachContainers) {
  // Two containers in parallel: one serves a host directory mounted over /www, the other runs
  // httpd through its configured command with another document root.
  const auto host_dir = std::filesystem::temp_directory_path() / (prefix_ + "www");
  std::filesystem::create_directories(host_dir);
  std::ofstream(host_dir / "index.html") << "served from a volume\n";

  const int mounted_port = free_port();
  auto mounted = httpd_spec("mounted", mounted_port);
  mounted.volumes = {host_dir.string() + ":/www:ro"};
  const int commanded_port = free_port();
  auto commanded = httpd_spec("commanded", commanded_port);
  commanded.command = "/bin/busybox httpd -f -p 3000 -h /";
  commanded.readiness_path = "/www/index.html";
  commanded.port_config_key = "containers[1].port";
  auto manager = make_manager({mounted, commanded}, options());

  await(manager->start());
  EXPECT_EQ(http_get(mounted_port, "/"), "served from a volume\n");
  EXPECT_EQ(http_get(commanded_port, "/www/index.html"), "inferd test httpd\n");
  EXPECT_EQ(manager->statuses().size(), 2U);
  EXPECT_TRUE(manager->ready("commanded"));

  await(manager->stop());
  EXPECT_TRUE(remaining_containers().empty());
  std::filesystem::remove_all(host_dir);
}

#ifdef INFERD_HELLO_SERVICE_BUILD_DIR
// Posts a job envelope to a service's /service_output and returns the reply body.
std::string post_job(int port, const std::string& body) {
  asio::io_context context;
  beast::tcp_stream stream(context);
  stream.expires_after(10s);
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                         static_cast<unsigned short>(port)));
  http::request<http::string_body> request{http::verb::post, "/service_output", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::content_type, "application/json");
  request.body() = body;
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return response.body();
}

TEST_F(PodmanTest, HelloServiceRunsJob) {
  // An image tag of this test only, so parallel runs never replace each other's image.
  const std::string tag = "test-" + std::to_string(::getpid());
  const std::string image = "localhost/inferd/hello:" + tag;
  run_command("bash " INFERD_SOURCE_DIR "/scripts/build-images.sh --build-dir " +
              std::string(INFERD_HELLO_SERVICE_BUILD_DIR) + " --tag " + tag + " hello >&2");

  const int port = free_port();
  auto spec = httpd_spec("hello", port);
  spec.image = image;
  auto manager = make_manager({spec}, options());
  await(manager->start());

  const auto reply = nlohmann::json::parse(post_job(
      port, R"({"source": 1, "destination": 1, "data": {"x": 1}, "requires_proof": false})"));
  EXPECT_EQ(reply["output"],
            "hello, world!, your input was: {'source': 1, 'destination': 1, 'data': {'x': 1}, "
            "'requires_proof': False}");

  await(manager->stop());
  EXPECT_TRUE(remaining_containers().empty());
  auto removed = await(docker().request(http::verb::delete_, "/images/" + url_encode(image, "/:"),
                                        "", "remove image", image));
  EXPECT_EQ(removed.status, 200) << removed.body;
}
#endif

TEST_F(PodmanTest, ReusesUnchangedAndRecreatesChanged) {
  const int port = free_port();
  auto spec = httpd_spec("web", port);
  spec.remove_on_stop = false;
  spec.env = {{"MODE", "first"}};

  auto first = make_manager({spec}, options());
  await(first->start());
  const std::string first_id = first->status("web").docker_id;
  await(first->stop());
  ASSERT_EQ(remaining_containers().size(), 1U) << "remove_on_stop=false keeps the container";

  auto same = make_manager({spec}, options());
  await(same->start());
  EXPECT_EQ(same->status("web").docker_id, first_id);
  EXPECT_EQ(http_get(port, "/"), "inferd test httpd\n");
  await(same->stop());

  spec.env = {{"MODE", "second"}};
  auto changed = make_manager({spec}, options());
  await(changed->start());
  const std::string changed_id = changed->status("web").docker_id;
  EXPECT_NE(changed_id, first_id);
  EXPECT_FALSE(await(docker().inspect_container(first_id)).has_value());
  auto inspected = await(docker().inspect_container(changed_id));
  ASSERT_TRUE(inspected.has_value());
  EXPECT_EQ(inspected->value("/Config/Labels/inferd.managed"_json_pointer, std::string()), "true");
  EXPECT_EQ(http_get(port, "/"), "inferd test httpd\n");
  await(changed->stop());
}

TEST_F(PodmanTest, KilledContainerIsRestarted) {
  const int port = free_port();
  auto manager = make_manager({httpd_spec("web", port)}, options());

  std::mutex events_mutex;
  std::vector<ContainerEvent> events;
  std::promise<void> back_up;
  bool saw_restarting = false;
  manager->set_observer([&](const ContainerEvent& event) {
    std::lock_guard lock(events_mutex);
    events.push_back(event);
    if (event.to == ContainerState::kRestarting) {
      saw_restarting = true;
    }
    if (saw_restarting && event.to == ContainerState::kReady) {
      back_up.set_value();
    }
  });

  await(manager->start());
  const std::string docker_id = manager->status("web").docker_id;
  await(docker().kill_container(docker_id, "SIGKILL"));

  ASSERT_EQ(back_up.get_future().wait_for(kAwaitLimit), std::future_status::ready);
  EXPECT_TRUE(manager->ready("web"));
  EXPECT_EQ(manager->status("web").restarts, 1);
  EXPECT_EQ(manager->status("web").last_exit_code, 137);
  EXPECT_EQ(http_get(port, "/"), "inferd test httpd\n");

  {
    std::lock_guard lock(events_mutex);
    auto died = std::find_if(events.begin(), events.end(), [](const ContainerEvent& event) {
      return event.from == ContainerState::kReady && event.to == ContainerState::kRestarting;
    });
    ASSERT_NE(died, events.end());
    EXPECT_EQ(died->id, "web");
    EXPECT_NE(died->message.find("container web exited with code 137"), std::string::npos)
        << died->message;
  }

  await(manager->stop());
  EXPECT_TRUE(remaining_containers().empty());
}

TEST_F(PodmanTest, UnreadyRestartIsStoppedAndRetried) {
  // The first run serves; every later run only sleeps, so each restart times out its warm-up.
  const auto state_dir = std::filesystem::temp_directory_path() / (prefix_ + "state");
  std::filesystem::create_directories(state_dir);
  const int port = free_port();
  auto spec = httpd_spec("flaky", port);
  spec.volumes = {state_dir.string() + ":/state"};
  spec.command =
      "/bin/busybox sh -c 'if [ -f /state/started ]; then exec /bin/busybox sleep 600; fi; "
      "/bin/busybox touch /state/started; exec /bin/busybox httpd -f -p 3000 -h /www'";
  spec.startup_limit = 2s;
  auto manager = make_manager({spec}, options());

  // Two restarts: the first times out its warm-up, so the container is stopped and started again.
  std::mutex events_mutex;
  std::vector<std::string> restart_errors;
  int restarts_seen = 0;
  std::promise<void> second_restart;
  manager->set_observer([&](const ContainerEvent& event) {
    std::lock_guard lock(events_mutex);
    if (event.to == ContainerState::kRestarting) {
      restart_errors.push_back(event.message);
    }
    if (event.from == ContainerState::kRestarting && event.to == ContainerState::kStarting &&
        ++restarts_seen == 2) {
      second_restart.set_value();
    }
  });

  await(manager->start());
  await(docker().kill_container(manager->status("flaky").docker_id, "SIGKILL"));
  ASSERT_EQ(second_restart.get_future().wait_for(kAwaitLimit), std::future_status::ready);

  EXPECT_GE(manager->status("flaky").restarts, 2);
  EXPECT_FALSE(manager->ready("flaky"));
  {
    std::lock_guard lock(events_mutex);
    ASSERT_GE(restart_errors.size(), 3U);
    EXPECT_NE(restart_errors[0].find("container flaky exited with code 137"), std::string::npos)
        << restart_errors[0];
    EXPECT_NE(restart_errors[1].find("container flaky did not become ready within 2 s"),
              std::string::npos)
        << restart_errors[1];
    EXPECT_NE(restart_errors[2].find("container flaky exited with code"), std::string::npos)
        << restart_errors[2];
  }

  await(manager->stop());
  EXPECT_TRUE(remaining_containers().empty());
  std::filesystem::remove_all(state_dir);
}

TEST_F(PodmanTest, MissingImagesAreAllNamed) {
  auto first = httpd_spec("first", free_port());
  first.image = "localhost/inferd/missing-" + prefix_ + "a:latest";
  auto second = httpd_spec("second", free_port());
  second.image = "localhost/inferd/missing-" + prefix_ + "b:latest";
  second.port_config_key = "containers[1].port";
  auto manager = make_manager({first, second}, options());

  try {
    await(manager->start());
    FAIL() << "start() succeeded without the images";
  } catch (const ContainerStartError& e) {
    ASSERT_EQ(e.failures().size(), 2U) << e.what();
    EXPECT_NE(std::string(e.what()).find(first.image), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(second.image), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("could not be pulled"), std::string::npos) << e.what();
  }
  EXPECT_EQ(manager->state("first"), ContainerState::kFailed);
  EXPECT_EQ(manager->state("second"), ContainerState::kFailed);
  await(manager->stop());
  EXPECT_TRUE(remaining_containers().empty());
}

TEST_F(PodmanTest, NeverReadyServiceReportsLogs) {
  auto spec = httpd_spec("sleeper", free_port());
  spec.command = "/bin/busybox sh -c 'echo loading-model-forever; exec /bin/busybox sleep 600'";
  spec.startup_limit = 3s;
  auto manager = make_manager({spec}, options());

  const std::string error = start_error(*manager);
  EXPECT_NE(error.find("container sleeper did not become ready within 3 s"), std::string::npos)
      << error;
  EXPECT_NE(error.find("loading-model-forever"), std::string::npos) << error;
  EXPECT_EQ(manager->state("sleeper"), ContainerState::kFailed);
  EXPECT_NE(manager->status("sleeper").last_error.find("loading-model-forever"), std::string::npos);

  await(manager->stop());
  EXPECT_TRUE(remaining_containers().empty());
}

TEST_F(PodmanTest, ExitDuringWarmupReportsExitCode) {
  auto spec = httpd_spec("crasher", free_port());
  spec.command = "/bin/busybox sh -c 'echo model-file-missing >&2; exit 3'";
  auto manager = make_manager({spec}, options());

  const std::string error = start_error(*manager);
  EXPECT_NE(error.find("container crasher exited during warm-up with exit code 3"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("model-file-missing"), std::string::npos) << error;
  EXPECT_EQ(manager->status("crasher").last_exit_code, 3);

  await(manager->stop());
  EXPECT_TRUE(remaining_containers().empty());
}

TEST_F(PodmanTest, PortConflictNamesPortAndKey) {
  asio::io_context blocker_context;
  asio::ip::tcp::acceptor blocker(blocker_context,
                                  asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int port = blocker.local_endpoint().port();

  auto spec = httpd_spec("web", port);
  spec.port_config_key = "containers[1].port";
  auto manager = make_manager({spec}, options());

  const std::string error = start_error(*manager);
  EXPECT_NE(error.find("port " + std::to_string(port)), std::string::npos) << error;
  EXPECT_NE(error.find("containers[1].port"), std::string::npos) << error;
  EXPECT_NE(error.find("already in use"), std::string::npos) << error;

  await(manager->stop());
  EXPECT_TRUE(remaining_containers().empty());
}

TEST_F(PodmanTest, DuplicatePortsInConfigAreRejected) {
  const int port = free_port();
  auto first = httpd_spec("first", port);
  auto second = httpd_spec("second", port);
  second.port_config_key = "containers[1].port";
  auto manager = make_manager({first, second}, options());

  const std::string error = start_error(*manager);
  EXPECT_NE(error.find("containers[0].port and containers[1].port both publish port " +
                       std::to_string(port)),
            std::string::npos)
      << error;
  EXPECT_TRUE(remaining_containers().empty());
}

}  // namespace
}  // namespace inferd::containers

#include "node/node.hpp"

#include <unistd.h>

#include <array>
#include <csignal>
#include <thread>

#include "api/rest_api.hpp"
#include "containers/container_manager.hpp"
#include "containers/orchestrator.hpp"
#include "infra/http_client.hpp"
#include "infra/http_server.hpp"
#include "infra/logging.hpp"
#include "infra/metrics.hpp"
#include "store/job_store.hpp"

namespace inferd::node {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kRestartReason = "node restarted";
constexpr const char* kShutdownReason = "node shut down before the job finished";
constexpr double kMinimumStartupSeconds = 5.0;

void check_supported(const infra::NodeConfig& config) {
  if (config.chain.enabled) {
    throw UnsupportedConfig(
        config.source_path.string() +
        ": chain.enabled: true is not supported by this build yet (on-chain subscriptions are "
        "not implemented); set chain.enabled to false");
  }
}

// Names this node among several sharing one Redis store: host name and REST port.
std::string node_identity(const infra::NodeConfig& config) {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0)
    host[0] = '\0';
  return std::string(host.data()) + ":" + std::to_string(config.server.port);
}

// The containers the node runs itself: every configured one without a `url`.
std::vector<containers::ManagedContainerSpec> managed_specs(const infra::NodeConfig& config) {
  std::vector<containers::ManagedContainerSpec> specs;
  for (std::size_t i = 0; i < config.containers.size(); ++i) {
    const auto& container = config.containers[i];
    if (!container.url.empty())
      continue;
    containers::ManagedContainerSpec spec;
    spec.id = container.id;
    spec.image = container.image;
    spec.command = container.command;
    spec.env = container.env;
    spec.volumes = container.volumes;
    spec.gpu = container.gpu;
    spec.host_port = container.port;
    spec.port_config_key = "containers[" + std::to_string(i) + "].port";
    spec.readiness_path = container.readiness_path;
    // startup_wait is the upper bound of the warm-up, not a fixed sleep; a few seconds at least
    // because creating a container alone can take that long.
    spec.startup_limit = std::chrono::seconds(
        static_cast<long>(std::max(config.startup_wait, kMinimumStartupSeconds)));
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::unique_ptr<containers::ContainerManager> make_container_manager(
    const infra::NodeConfig& config, asio::any_io_executor executor) {
  if (!config.manage_containers)
    return nullptr;
  auto specs = managed_specs(config);
  if (specs.empty())
    return nullptr;
  containers::ContainerManagerOptions options;
  if (config.docker) {
    options.registry_auth =
        containers::RegistryAuth{config.docker->username, config.docker->password, ""};
  }
  options.logger = infra::logging::get_logger("containers");
  return std::make_unique<containers::ContainerManager>(
      executor, containers::DockerClient(containers::DockerEndpoint::from_environment()),
      std::move(specs), options);
}

// /health's view of the managed containers: "ok" only when every one is ready.
nlohmann::json container_health(const containers::ContainerManager& manager) {
  nlohmann::json list = nlohmann::json::array();
  bool all_ready = true;
  for (const auto& status : manager.statuses()) {
    all_ready = all_ready && status.state == containers::ContainerState::kReady;
    list.push_back(containers::to_json(status));
  }
  return {{"status", all_ready ? "ok" : "degraded"}, {"containers", list}};
}

// Deletes expired job results once a minute until `stopping` is set.
Awaitable<void> expire_results(store::JobStore& store, const std::atomic<bool>& stopping) {
  auto log = infra::logging::get_logger("store");
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping) {
    timer.expires_after(60s);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (stopping)
      break;
    try {
      auto deleted = co_await store.delete_expired();
      if (deleted > 0)
        log->debug("expired job results deleted count={}", deleted);
    } catch (const std::exception& error) {
      log->warn("deleting expired job results failed error={}", error.what());
    }
  }
}

}  // namespace

int run_node(const infra::NodeConfig& config) {
  check_supported(config);
  // A closed stdout or stderr (a log pipe that went away) must not kill the node mid-shutdown.
  std::signal(SIGPIPE, SIG_IGN);
  infra::logging::setup(infra::logging::options_from(config.log));
  auto log = infra::logging::get_logger("node");
  log->info("config loaded path={}", config.source_path.string());
  for (const auto& warning : config.warnings)
    log->warn("{}", warning.message);

  asio::io_context io;
  auto executor = io.get_executor();

  auto store = store::open_job_store(config, node_identity(config));
  infra::HttpClient client(executor);
  infra::metrics::Registry metrics;
  containers::Orchestrator orchestrator(executor, client, *store, config.containers, metrics);
  auto manager = make_container_manager(config, executor);
  api::ApiHooks hooks;
  hooks.metrics = [&metrics] { return metrics.render(); };
  if (manager) {
    orchestrator.set_readiness_check(
        [&manager](std::string id, Clock::time_point deadline) -> Awaitable<void> {
          co_await manager->wait_ready(std::move(id), deadline);
        });
    manager->set_observer([&log](const containers::ContainerEvent& event) {
      if (event.from == containers::ContainerState::kReady) {
        log->warn("container left the ready state container={} state={} reason=\"{}\"", event.id,
                  containers::to_string(event.to), event.message);
      }
    });
    hooks.container_running = [&manager](const std::string& id) {
      try {
        return manager->state(id) == containers::ContainerState::kReady;
      } catch (const std::out_of_range&) {
        return true;  // a container with a url is not managed and always listed
      }
    };
    hooks.health = [&manager]() -> Awaitable<nlohmann::json> {
      co_return nlohmann::json{{"containers", container_health(*manager)}};
    };
  }
  api::RestApi api(executor, config, orchestrator, *store, client, std::move(hooks));

  infra::HttpServerOptions server_options;
  server_options.bind_address = config.server.bind_address;
  server_options.port = config.server.port;
  server_options.max_body_bytes = config.server.max_body_bytes;
  infra::HttpServer server(io, server_options);
  api.install(server);

  // Start-up runs as the first coroutine: jobs a crash left running are failed before the
  // REST API accepts anything, so no client sees them as still running.
  std::exception_ptr startup_error;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        auto count = co_await store->fail_running(kRestartReason);
        if (count > 0) {
          log->warn("jobs left running by the previous run marked failed count={} reason=\"{}\"",
                    count, kRestartReason);
        }
        server.start();
        log->info("REST API listening address={}:{} containers={}", config.server.bind_address,
                  server.port(), config.containers.size());
        if (manager) {
          // Jobs that arrive while the containers warm up wait in their container's queue.
          co_await manager->start();
          log->info("managed containers ready count={}", manager->statuses().size());
        }
      },
      [&](std::exception_ptr error) {
        if (!error)
          return;
        startup_error = error;
        asio::co_spawn(
            io,
            [&]() -> Awaitable<void> {
              if (manager)
                co_await manager->stop();
              io.stop();
            },
            asio::detached);
      });

  std::atomic<bool> stopping{false};
  asio::co_spawn(io, expire_results(*store, stopping), asio::detached);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (ec)
      return;
    log->info("shutting down signal={} in_flight={}", signal_number, orchestrator.in_flight());
    stopping = true;
    api.stop_intake();
    server.stop_accepting();
    asio::co_spawn(
        io,
        [&]() -> Awaitable<void> {
          auto deadline =
              Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(config.server.shutdown_grace));
          asio::steady_timer timer(io);
          while (orchestrator.in_flight() > 0 && Clock::now() < deadline) {
            timer.expires_after(20ms);
            co_await timer.async_wait(asio::use_awaitable);
          }
          auto abandoned = co_await store->fail_running(kShutdownReason);
          if (abandoned > 0) {
            log->warn("jobs still running at shutdown marked failed count={}", abandoned);
          }
          if (manager)
            co_await manager->stop();
          server.close_connections();
          io.stop();
        },
        asio::detached);
  });

  unsigned thread_count = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < thread_count; ++i)
    threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads)
    thread.join();
  if (startup_error)
    std::rethrow_exception(startup_error);
  log->info("stopped");
  infra::logging::flush();
  return 0;
}

}  // namespace inferd::node

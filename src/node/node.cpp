#include "node/node.hpp"

#include <unistd.h>

#include <array>
#include <csignal>
#include <filesystem>
#include <thread>

#include "api/rest_api.hpp"
#include "chain/chain_state.hpp"
#include "chain/infernet_client.hpp"
#include "chain/processor.hpp"
#include "chain/rpc_client.hpp"
#include "chain/sqlite_tx_journal.hpp"
#include "chain/startup_checks.hpp"
#include "chain/tx_manager.hpp"
#include "chain/wallet_key.hpp"
#include "containers/container_manager.hpp"
#include "containers/orchestrator.hpp"
#include "core/infernet.hpp"
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

// The chain side of the node, built when chain.enabled is true. The transaction manager and
// the processor need the chain id, so start() creates them once the RPC node responds.
struct ChainSide {
  ChainSide(const infra::NodeConfig& config, asio::any_io_executor executor,
            infra::metrics::Registry& metrics)
      : config(config),
        executor(executor),
        key(chain::private_key_from_wallet_config(secp, *config.chain.wallet)),
        rpc_http(executor, rpc_http_options(config)),
        rpc(rpc_http, rpc_options(config), metrics),
        errors(core::infernet::make_error_table()),
        client(rpc, errors),
        data_dir(prepare_data_dir(config)),
        journal(data_dir / "chain.db"),
        state(data_dir / "chain.db") {}

  static infra::HttpClientOptions rpc_http_options(const infra::NodeConfig& config) {
    infra::HttpClientOptions options;
    if (config.chain.rpc_ca_file)
      options.ca_file = *config.chain.rpc_ca_file;
    return options;
  }
  static chain::RpcClientOptions rpc_options(const infra::NodeConfig& config) {
    chain::RpcClientOptions options;
    options.urls = {config.chain.rpc_url.value()};
    return options;
  }
  static std::filesystem::path prepare_data_dir(const infra::NodeConfig& config) {
    std::filesystem::path dir(config.store.data_dir);
    std::filesystem::create_directories(dir);
    return dir;
  }

  Awaitable<void> start(containers::Orchestrator& orchestrator, infra::metrics::Registry& metrics) {
    auto log = infra::logging::get_logger("chain");
    const core::Address node_address = core::derive_public_key(secp, key).address();
    auto checks = co_await chain::run_chain_checks(config, rpc, client, node_address);
    std::string errors_text;
    for (const auto& check : checks) {
      if (check.status == chain::CheckResult::kOk) {
        log->info("start-up check ok check=\"{}\" {}", check.name, check.message);
      } else if (check.status == chain::CheckResult::kWarning) {
        log->warn("start-up check warning check=\"{}\" {}", check.name, check.message);
      } else {
        log->error("start-up check failed check=\"{}\" {}", check.name, check.message);
        errors_text += (errors_text.empty() ? "" : "; ") + check.message;
      }
    }
    if (chain::has_error(checks))
      throw std::runtime_error("chain start-up checks failed: " + errors_text);
    auto chain_id = co_await rpc.call("eth_chainId");
    chain::TxManagerOptions options;
    options.chain_id = core::U256::from_hex(chain_id.get<std::string>()).value().low_u64();
    options.max_gas_limit = core::U256(config.chain.wallet->max_gas_limit);
    options.journal = &journal;
    tx = std::make_unique<chain::TxManager>(rpc, secp, key, options, errors);
    co_await tx->start();
    auto created = std::make_unique<chain::ChainProcessor>(executor, config, rpc, client, *tx,
                                                           orchestrator, state, metrics);
    co_await created->start();
    processor = std::move(created);
    processor->run();
  }

  const infra::NodeConfig& config;
  asio::any_io_executor executor;
  core::Secp256k1Context secp;
  core::PrivateKey key;
  infra::HttpClient rpc_http;  ///< its own pool, and the rpc_ca_file trust
  chain::RpcClient rpc;
  core::abi::ErrorTable errors;
  chain::InfernetClient client;
  std::filesystem::path data_dir;
  chain::SqliteTxJournal journal;
  chain::ChainState state;
  std::unique_ptr<chain::TxManager> tx;
  std::unique_ptr<chain::ChainProcessor> processor;
};

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
  std::unique_ptr<ChainSide> chain_side;
  if (config.chain.enabled) {
    chain_side = std::make_unique<ChainSide>(config, executor, metrics);
    hooks.subscription =
        [&chain_side](std::uint32_t id) -> Awaitable<std::optional<nlohmann::json>> {
      if (!chain_side->processor)
        co_return std::nullopt;
      co_return co_await chain_side->processor->subscription(id);
    };
    hooks.delegated =
        [&chain_side](
            nlohmann::json body) -> Awaitable<std::optional<std::pair<int, nlohmann::json>>> {
      if (!chain_side->processor) {
        co_return std::pair<int, nlohmann::json>{
            503, {{"error", "the chain pipeline is still starting; retry in a few seconds"}}};
      }
      auto rejection = co_await chain_side->processor->submit_delegated(std::move(body));
      if (rejection) {
        infra::logging::get_logger("api")->info(
            "delegated subscription rejected status={} error=\"{}\" params={}", rejection->status,
            rejection->body.value("error", ""),
            rejection->body.value("params", nlohmann::json()).dump());
      }
      if (!rejection)
        co_return std::nullopt;
      co_return std::pair<int, nlohmann::json>{rejection->status, std::move(rejection->body)};
    };
    auto container_health = std::move(hooks.health);
    hooks.health = [&chain_side, container_health]() -> Awaitable<nlohmann::json> {
      nlohmann::json out = nlohmann::json::object();
      if (container_health)
        out = co_await container_health();
      out["chain"] = chain_side->processor ? chain_side->processor->health()
                                           : nlohmann::json{{"status", "starting"}};
      co_return out;
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
        if (chain_side)
          co_await chain_side->start(orchestrator, metrics);
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
    if (chain_side && chain_side->processor)
      chain_side->processor->stop();
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

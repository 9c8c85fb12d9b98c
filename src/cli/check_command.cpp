#include "cli/check_command.hpp"

#include <future>
#include <iostream>
#include <memory>
#include <vector>

#include "chain/infernet_client.hpp"
#include "chain/rpc_client.hpp"
#include "chain/startup_checks.hpp"
#include "chain/wallet_key.hpp"
#include "containers/docker_client.hpp"
#include "core/infernet.hpp"
#include "infra/asio.hpp"
#include "infra/config.hpp"
#include "infra/http_client.hpp"
#include "infra/metrics.hpp"

namespace inferd::cli {
namespace {

using chain::CheckResult;

constexpr int kFailureStatus = 1;
// Managed containers publish their port on this address (ContainerManager's default).
constexpr const char* kContainerHost = "127.0.0.1";

CheckResult ok(std::string name, std::string message) {
  return {std::move(name), CheckResult::kOk, std::move(message)};
}

CheckResult warning(std::string name, std::string message) {
  return {std::move(name), CheckResult::kWarning, std::move(message)};
}

CheckResult error(std::string name, std::string message) {
  return {std::move(name), CheckResult::kError, std::move(message)};
}

void print(std::ostream& out, const CheckResult& result) {
  out << chain::to_string(result.status) << ' ' << result.name << ": " << result.message << '\n';
}

// Runs `task` on `io` to its end and returns its result or rethrows its exception.
template <typename T>
T run_to_end(asio::io_context& io, Awaitable<T> task) {
  std::future<T> result = asio::co_spawn(io, std::move(task), asio::use_future);
  io.restart();
  io.run();
  return result.get();
}

// Whether a listener could bind host:port now. SO_REUSEADDR is set as the node's own listeners
// set it, so connections of an earlier run in TIME_WAIT do not count as "in use".
bool port_is_free(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec) {
    return false;
  }
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io);
  acceptor.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
  if (!ec) {
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  }
  if (!ec) {
    acceptor.bind({address, port}, ec);
  }
  return !ec;
}

// Loads the node's key from the source chain.wallet names; sets `node_address` when it is valid.
CheckResult check_wallet_key(const infra::ChainConfig& chain,
                             std::optional<core::Address>& node_address) {
  if (!chain.wallet) {
    return error("wallet key", "chain.wallet is not set");
  }
  try {
    const core::Secp256k1Context context(chain::random_bytes32());
    const core::PrivateKey key = chain::private_key_from_wallet_config(context, *chain.wallet);
    node_address = core::derive_public_key(context, key).address();
  } catch (const chain::KeyError& failure) {
    return error("wallet key", failure.what());
  }
  return ok("wallet key", "node address " + node_address->to_checksum_hex());
}

std::vector<CheckResult> check_chain(const infra::NodeConfig& config) {
  if (!config.chain.enabled) {
    return {ok("chain", "chain.enabled is false; no chain checks")};
  }
  std::optional<core::Address> node_address;
  std::vector<CheckResult> results = {check_wallet_key(config.chain, node_address)};

  asio::io_context io;
  infra::HttpClient http(io.get_executor());
  infra::metrics::Registry metrics;
  chain::RpcClientOptions options;
  options.urls = {*config.chain.rpc_url};
  options.call_timeout = std::chrono::seconds(20);
  options.attempt_timeout = std::chrono::seconds(5);
  options.max_attempts = 3;
  chain::RpcClient rpc(http, options, metrics);
  const core::abi::ErrorTable errors = core::infernet::make_error_table();
  chain::InfernetClient infernet(rpc, errors);

  std::vector<CheckResult> chain_results =
      run_to_end(io, chain::run_chain_checks(config, rpc, infernet, node_address));
  results.insert(results.end(), chain_results.begin(), chain_results.end());
  return results;
}

// Checks one managed container's image and host port. `docker` is null when the Docker API
// could not be reached (that error is reported once, before).
std::vector<CheckResult> check_managed_container(const infra::ContainerConfig& container,
                                                 std::size_t index,
                                                 containers::DockerClient* docker,
                                                 asio::io_context& io) {
  const std::string name = "container " + container.id;
  std::vector<CheckResult> results;

  if (docker != nullptr) {
    try {
      const auto image = run_to_end(io, docker->inspect_image(container.image));
      if (image) {
        results.push_back(ok(name + " image", "image " + container.image + " is present"));
      } else {
        results.push_back(warning(name + " image", "image " + container.image +
                                                       " is not present locally; the node "
                                                       "pulls it at start-up"));
      }
    } catch (const containers::DockerError& failure) {
      results.push_back(error(name + " image", failure.what()));
    }
  }

  const std::string port = std::to_string(container.port);
  const std::string key = "containers[" + std::to_string(index) + "].port";
  if (port_is_free(kContainerHost, container.port)) {
    results.push_back(ok(name + " port", "port " + port + " on " + kContainerHost + " is free"));
    return results;
  }
  // The node reuses (or recreates) a container of its own name, so a port held by a running
  // container of that name is expected.
  if (docker != nullptr) {
    std::optional<nlohmann::json> existing;
    try {
      existing = run_to_end(io, docker->inspect_container(container.id));
    } catch (const containers::DockerError& failure) {
      results.push_back(error(name + " port", failure.what()));
      return results;
    }
    if (existing && existing->value("/State/Running"_json_pointer, false)) {
      results.push_back(ok(name + " port", "port " + port + " is held by the running container " +
                                               container.id +
                                               ", which the node reuses or recreates"));
      return results;
    }
  }
  results.push_back(error(name + " port", "port " + port + " on " + kContainerHost + " (" + key +
                                              ") is in use; stop what listens there or choose "
                                              "another port"));
  return results;
}

std::vector<CheckResult> check_containers(const infra::NodeConfig& config) {
  std::vector<CheckResult> results;
  std::vector<std::size_t> managed;
  for (std::size_t i = 0; i < config.containers.size(); ++i) {
    const infra::ContainerConfig& container = config.containers[i];
    if (!container.url.empty()) {
      results.push_back(ok("container " + container.id, "remote service at " + container.url));
    } else if (!config.manage_containers) {
      results.push_back(ok("container " + container.id,
                           "manage_containers is false; the node calls http://localhost:" +
                               std::to_string(container.port)));
    } else {
      managed.push_back(i);
    }
  }
  if (managed.empty()) {
    return results;
  }

  asio::io_context io;
  std::optional<containers::DockerClient> docker;
  try {
    docker.emplace(containers::DockerEndpoint::from_environment(), std::chrono::seconds(10));
    const nlohmann::json version = run_to_end(io, docker->version());
    results.push_back(ok("docker", "Docker API " + version.value("ApiVersion", "(unknown)") +
                                       " at " + docker->endpoint().to_string()));
  } catch (const std::invalid_argument& failure) {
    results.push_back(error("docker", std::string(failure.what()) + "; correct DOCKER_HOST"));
    docker.reset();
  } catch (const containers::DockerError& failure) {
    // The client's message already says how to start a daemon and set DOCKER_HOST.
    results.push_back(error("docker", failure.what()));
    docker.reset();
  }

  for (std::size_t index : managed) {
    std::vector<CheckResult> container_results =
        check_managed_container(config.containers[index], index, docker ? &*docker : nullptr, io);
    results.insert(results.end(), container_results.begin(), container_results.end());
  }
  return results;
}

CheckResult check_rest_port(const infra::ServerConfig& server) {
  const std::string where =
      "server.port " + std::to_string(server.port) + " on " + server.bind_address;
  if (port_is_free(server.bind_address, server.port)) {
    return ok("rest port", where + " is free");
  }
  return error("rest port", where +
                                " is in use or cannot be bound; stop the other process or change "
                                "server.port (or server.bind_address)");
}

}  // namespace

int run_check(const std::optional<std::string>& config_path, std::ostream& out) {
  const std::filesystem::path path = infra::choose_config_path(config_path);
  infra::NodeConfig config;
  try {
    config = infra::load_config(path);
  } catch (const infra::ConfigError& failure) {
    print(out, error("config", failure.what()));
    return kFailureStatus;
  }

  std::vector<CheckResult> results = {ok("config", "loaded " + config.source_path.string())};
  for (const infra::ConfigWarning& config_warning : config.warnings) {
    results.push_back(warning("config", config_warning.message));
  }
  for (CheckResult& result : check_chain(config)) {
    results.push_back(std::move(result));
  }
  for (CheckResult& result : check_containers(config)) {
    results.push_back(std::move(result));
  }
  results.push_back(check_rest_port(config.server));

  for (const CheckResult& result : results) {
    print(out, result);
  }
  return chain::has_error(results) ? kFailureStatus : 0;
}

void add_check_command(CLI::App& app, int& exit_code) {
  // Shared with the callback, which runs after `app` parsed the options into it.
  auto config_path = std::make_shared<std::optional<std::string>>();
  auto* check = app.add_subcommand(
      "check", "Run the start-up checks (config, wallet key, chain, containers, ports) and exit");
  check->add_option("-c,--config", *config_path,
                    "Config file (default: $INFERNET_CONFIG_PATH, else ./config.json)");
  check->callback([config_path, &exit_code] {
    try {
      exit_code = run_check(*config_path, std::cout);
    } catch (const std::exception& failure) {
      std::cerr << "inferd check: " << failure.what() << "\n";
      exit_code = kFailureStatus;
    }
  });
}

}  // namespace inferd::cli

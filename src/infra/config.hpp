// The node's configuration: the Infernet node 1.4.0 `config.json` schema plus inferd's own keys.
//
// Every struct mirrors one JSON object and every member is named exactly as its JSON key, with
// the reference default. docs/config.md lists every key, its default and inferd's extensions.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace inferd::infra {

/// `log`: the rotating log file.
struct LogConfig {
  std::string path = "infernet_node.log";
  std::uint64_t max_file_size = 1073741824;  ///< bytes per file before it rotates (2^30)
  std::uint32_t backup_count = 2;            ///< rotated files kept beside the current one
};

/// `server.rate_limit`: GCRA limit per client, `num_requests` per `period` seconds.
struct RateLimitConfig {
  std::uint32_t num_requests = 60;
  double period = 60.0;  ///< seconds
};

/// `server`: the REST API.
struct ServerConfig {
  std::uint16_t port = 4000;
  RateLimitConfig rate_limit;
  // inferd extensions:
  std::string bind_address = "127.0.0.1";
  std::uint64_t max_body_bytes = 1048576;
  std::vector<std::string> trusted_proxies;  ///< IPs/CIDRs whose X-Forwarded-For is honoured
  std::vector<std::string>
      status_networks;           ///< IPs/CIDRs allowed to PUT /api/status besides loopback
  double shutdown_grace = 10.0;  ///< seconds in-flight jobs get to finish at shutdown
};

/// `chain.wallet`: the node's signing key and delivery settings.
struct WalletConfig {
  std::uint64_t max_gas_limit = 5000000;
  std::optional<std::string> private_key;      ///< secret: never log it
  std::optional<std::string> payment_address;  ///< the node's payment Wallet contract
  std::vector<std::string>
      allowed_sim_errors;  ///< case-insensitive substrings of simulation errors
  // inferd extensions; exactly one of private_key, private_key_env and keystore is set:
  std::optional<std::string> private_key_env;  ///< name of the variable holding the key
  std::optional<std::string> keystore;         ///< Ethereum V3 keystore file
  std::optional<std::string> password_file;    ///< the keystore's password
};

/// `chain.snapshot_sync`: how the initial subscription sync pages through the chain.
struct SnapshotSyncConfig {
  double sleep = 1.0;  ///< seconds between batches; also the first retry delay
  std::uint32_t batch_size = 500;
  std::uint64_t starting_sub_id = 0;  ///< sync starts after this subscription id
  double sync_period = 0.5;           ///< seconds between polls when no new block arrived
};

/// `chain`: the on-chain side. The optional members are required when `enabled` is true.
struct ChainConfig {
  bool enabled = false;
  std::optional<std::string> rpc_url;
  std::uint32_t trail_head_blocks = 1;
  std::optional<std::string> registry_address;
  std::optional<WalletConfig> wallet;
  SnapshotSyncConfig snapshot_sync;
  // inferd extensions:
  /// PEM file of CA certificates trusted for an https rpc_url, besides the system's.
  std::optional<std::string> rpc_ca_file;
  /// When set, start-up fails unless eth_chainId returns this id.
  std::optional<std::uint64_t> chain_id;
  /// Start-up warns when the node's balance pays for fewer deliveries than this (each priced at
  /// max_gas_limit at the current gas price).
  std::uint32_t min_balance_deliveries = 10;
  /// Failed delivery attempts (container failure, reverted or unsendable transaction) after
  /// which the node gives up a subscription interval. A recurring subscription goes on with its
  /// next interval.
  std::uint32_t max_delivery_attempts = 3;
};

/// `docker`: image registry credentials; both members are required when the object is present.
struct DockerConfig {
  std::string username;
  std::string password;  ///< secret: never log it
};

/// `redis`: the Redis server of the "redis" store backend.
struct RedisConfig {
  std::string host = "redis";
  std::uint16_t port = 6379;
};

/// `store` (inferd extension): where jobs are kept.
struct StoreConfig {
  std::string backend = "sqlite";  ///< "sqlite" or "redis"
  std::string data_dir = "data";   ///< holds inferd.db for the sqlite backend
  double result_ttl = 86400.0;     ///< seconds a completed job is kept
};

/// One entry of `containers`.
struct ContainerConfig {
  std::string id;  ///< required; the Docker container name and the id used in job requests
  std::string image;
  std::string url;     ///< base URL of a remote service; empty means http://localhost:<port>
  std::string bearer;  ///< secret: sent as "Authorization: Bearer <bearer>"; never log it
  /// Host port after port assignment (see assign_ports); the container listens on 3000 inside.
  std::uint16_t port = 3000;
  std::uint16_t configured_port = 3000;  ///< the value in the file, or the default 3000
  bool port_explicit = false;            ///< true when the file sets `port`
  bool external = true;
  bool gpu = false;
  /// Token address -> minimum amount in the token's smallest unit, as a canonical decimal
  /// string (no sign, no leading zeros) because amounts go up to 2^256-1.
  std::map<std::string, std::string> accepted_payments;
  std::vector<std::string> allowed_ips;  ///< IPs/CIDRs; empty allows every client
  std::vector<std::string> allowed_addresses;
  std::vector<std::string> allowed_delegate_addresses;
  std::string description;
  std::string command;
  nlohmann::json env = nlohmann::json::object();  ///< values of any JSON type
  bool generates_proofs = false;
  std::vector<std::string> volumes;  ///< "host:container[:mode]"
  // inferd extensions:
  double timeout = 180.0;              ///< seconds per container call
  double stream_timeout = 60.0;        ///< seconds for a whole streamed reply
  std::uint32_t max_concurrency = 64;  ///< calls in flight at once
  std::uint32_t queue_size = 1024;     ///< calls waiting beyond max_concurrency
  std::string readiness_path = "/";
};

/// Something in the file that is accepted but probably a mistake (an unknown key, a port that
/// had to be reassigned). `message` is one line that names the file and `path`.
struct ConfigWarning {
  std::string path;  ///< key path, e.g. "chain.rpc_ws" or "containers[0].imag"
  std::string message;
};

/// The whole configuration.
struct NodeConfig {
  LogConfig log;
  bool manage_containers = true;
  ServerConfig server;
  ChainConfig chain;
  std::optional<DockerConfig> docker;
  RedisConfig redis;
  bool forward_stats = true;
  double startup_wait = 5.0;  ///< seconds
  std::vector<ContainerConfig> containers;
  StoreConfig store;  ///< inferd extension

  /// Absolute path of the file this configuration was loaded from (empty for a string).
  std::filesystem::path source_path;
  /// Warnings found while loading, in file order.
  std::vector<ConfigWarning> warnings;
};

/// An invalid configuration. `what()` is one line: the file, the key path, the bad value
/// (secrets shown as <redacted>) and how to fix it.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string message, std::string path)
      : std::runtime_error(std::move(message)), path_(std::move(path)) {}

  /// The key path of the bad value ("" for the file as a whole, e.g. invalid JSON).
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Chooses the config file: `explicit_path` when given, else the environment variable
/// INFERNET_CONFIG_PATH when set and non-empty, else "config.json" (relative to the working
/// directory).
std::filesystem::path choose_config_path(const std::optional<std::string>& explicit_path);

/// Reads, parses and validates a config file, then assigns container ports. Records the
/// absolute path in `source_path`. Throws ConfigError when the file cannot be read or is invalid.
NodeConfig load_config(const std::filesystem::path& path);

/// Parses and validates config text; `file_name` only appears in messages. Throws ConfigError.
NodeConfig parse_config(std::string_view text, std::string_view file_name = "config.json");

/// Assigns host ports like the reference node: walking in order, a container whose port an
/// earlier one already took gets the highest free port counting down from 3999. So
/// [a, b, c:3999, d:3000] becomes 3000, 3999, 3998, 3997. Returns a warning for every
/// container whose explicitly set port changed. Throws ConfigError when no port is left.
std::vector<ConfigWarning> assign_ports(std::vector<ContainerConfig>& containers,
                                        std::string_view file_name = "config.json");

}  // namespace inferd::infra

// End-to-end support for the on-chain tests: a real anvil with the contracts deployed by
// contracts/scripts/deploy.sh, transactions and calls through Foundry's cast, and inferd nodes
// started with chain.enabled against that anvil.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chain/test_anvil.hpp"
#include "core/eip712.hpp"
#include "core/u256.hpp"
#include "infra/http_client.hpp"
#include "support/node_harness.hpp"
#include "support/process.hpp"

namespace inferd::testing::e2e {

/// One of the ten accounts anvil funds from its default mnemonic.
struct Account {
  std::string private_key;  ///< 0x-prefixed hex
  std::string address;      ///< EIP-55 checksummed
};

/// Account `index` (0..9) of anvil's default mnemonic.
const Account& anvil_account(int index);

/// The zero address, which the contracts read as "ETH" for a token and "none" elsewhere.
inline const std::string kZeroAddress = "0x0000000000000000000000000000000000000000";

/// Runs `condition` every `step` until it returns true or `timeout` passes; returns the last
/// result.
bool wait_until(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(60),
                std::chrono::milliseconds step = std::chrono::milliseconds(200));

/// Reads a uint from cast's JSON output: small values come as numbers, large ones as decimal
/// strings.
core::U256 json_to_u256(const nlohmann::json& value);

/// The string member `key` of `object`; empty when it is missing, null or not a string.
std::string string_field(const nlohmann::json& object, const std::string& key);

/// Foundry's cast against one RPC URL. Every method runs one cast process and throws
/// std::runtime_error with cast's stderr when it fails.
class Cast {
 public:
  explicit Cast(std::string rpc_url);

  /// Runs cast with `args` (the RPC URL is appended) and returns its trimmed stdout.
  std::string run(std::vector<std::string> args) const;

  /// eth_call of `signature` (with its return types, e.g. "id()(uint32)") on `to`; returns
  /// cast's decoded JSON array of return values.
  nlohmann::json call(const std::string& to, const std::string& signature,
                      const std::vector<std::string>& args = {}) const;

  /// Sends a transaction from `from` and waits for its receipt. Throws when it reverts.
  /// `value` is in wei (empty for none).
  nlohmann::json send(const Account& from, const std::string& to, const std::string& signature,
                      const std::vector<std::string>& args = {},
                      const std::string& value = {}) const;

  /// Broadcasts a transaction without waiting for it to be mined; returns its hash.
  std::string send_async(const Account& from, const std::string& to, const std::string& signature,
                         const std::vector<std::string>& args = {}) const;

  /// A raw JSON-RPC call; `params` are passed as cast rpc's positional arguments.
  nlohmann::json rpc(const std::string& method, const std::vector<std::string>& params = {}) const;

  /// `cast abi-encode` of `signature` (e.g. "f(string,string)") with `args`; 0x-prefixed hex.
  std::string abi_encode(const std::string& signature, const std::vector<std::string>& args) const;

  core::U256 eth_balance(const std::string& address) const;
  core::U256 token_balance(const std::string& token, const std::string& holder) const;

  const std::string& rpc_url() const { return rpc_url_; }

 private:
  std::string rpc_url_;
};

/// The subscription id of the coordinator's SubscriptionCreated(uint32) log in `receipt`.
std::optional<std::uint32_t> created_subscription_id(const nlohmann::json& receipt);

/// What a consumer's DeliveryRecorder stored for one (subscription, interval, redundancy).
struct RecordedDelivery {
  bool received = false;
  std::string node;  ///< checksummed
  std::string input;
  std::string output;
  std::string proof;  ///< raw bytes, not hex
};

/// The output the node delivered for an echo container: the string inside raw_output, where
/// the node's output is abi.encode(bytes raw_output, bytes processed_output) and raw_output is
/// abi.encode(string). Empty optional when the bytes do not have that shape.
std::optional<std::string> decode_echo_output(const std::string& output);

/// The raw_input of abi.encode(bytes raw_input, bytes processed_input), as 0x-prefixed hex.
std::optional<std::string> decode_raw_input(const std::string& input);

/// A real anvil (automine plus one block per second, so that block time moves while idle) with
/// every contract deployed by contracts/scripts/deploy.sh: deployer anvil #2, protocol fee
/// kFeeBasisPoints paid to anvil #6 (kFeeRecipientIndex).
class Chain {
 public:
  static constexpr std::uint32_t kFeeBasisPoints = 511;
  static constexpr int kDeployerIndex = 2;
  static constexpr int kFeeRecipientIndex = 6;  ///< never sends, so its balance moves by fees only

  /// Starts anvil and deploys; throws with deploy.sh's output when that fails.
  Chain();

  const std::string& url() const { return cast_.rpc_url(); }
  const Cast& cast() const { return cast_; }
  const nlohmann::json& deployment() const { return deployment_; }
  /// The deployed address named `name` in deploy.sh's JSON (e.g. "coordinator").
  std::string address(const std::string& name) const;

  std::uint64_t block_number() const;
  std::uint64_t latest_timestamp() const;
  /// The timestamp of the block that mined `receipt`.
  std::uint64_t receipt_timestamp(const nlohmann::json& receipt) const;

  /// Creates a WalletFactory wallet owned by `owner`, sent by `sender`; returns its address.
  std::string create_wallet(const Account& sender, const std::string& owner) const;
  /// The id the coordinator gives the next subscription.
  std::uint32_t next_subscription_id() const;
  /// The consumer's recorded delivery (GenericCallbackConsumer and friends).
  RecordedDelivery delivery(const std::string& consumer, std::uint32_t subscription_id,
                            std::uint32_t interval, std::uint16_t redundancy = 1) const;
  /// The coordinator's redundancyCount for (subscription, interval).
  std::uint32_t redundancy_count(std::uint32_t subscription_id, std::uint32_t interval) const;
  /// delegateCreatedIds(keccak256(abi.encode(owner, nonce))): 0 when none was created.
  std::uint32_t delegated_subscription_id(const std::string& owner, std::uint32_t nonce) const;

  /// Stops mining: transactions wait in the mempool until mine() or resume_mining().
  void pause_mining() const;
  void resume_mining() const;
  void mine() const;
  /// anvil's process id: SIGSTOP and SIGCONT make an RPC outage.
  pid_t anvil_pid() const { return anvil_.pid(); }

 private:
  chain::testing::AnvilProcess anvil_;
  Cast cast_;
  TempDir dir_;
  nlohmann::json deployment_;
};

/// Signs an EIP-712 DelegateSubscription for the chain's coordinator and builds the
/// POST /api/jobs body in the reference shape (r, s and payment_amount as JSON integers).
struct DelegatedRequest {
  core::Subscription subscription;
  std::vector<std::string> containers;
  std::uint32_t nonce = 0;
  std::uint32_t expiry = 0;
  nlohmann::json data;

  /// The request body signed with `signer_private_key`.
  std::string body(const Chain& chain, const std::string& signer_private_key) const;
};

/// An inferd process with its own config file and data directory; the directory survives
/// restarts, so a restarted node finds its journal and checkpoint.
class ChainNode {
 public:
  /// `config` is completed with server.port, store.data_dir and log.path.
  explicit ChainNode(nlohmann::json config);
  ~ChainNode();
  ChainNode(const ChainNode&) = delete;
  ChainNode& operator=(const ChainNode&) = delete;

  /// Starts inferd and waits for GET /health to return 200. Throws with the node's log when
  /// it exits or does not become healthy within `timeout`.
  void start(std::chrono::seconds timeout = std::chrono::seconds(180));
  /// SIGKILL and reap.
  void kill_hard();
  /// SIGTERM, then SIGKILL after 30 s.
  void stop();
  bool running();
  /// The exit status when it has exited.
  std::optional<int> exit_status();

  /// GET /api/subscriptions/{id}; nullopt on 404, throws on any other non-200 status.
  std::optional<nlohmann::json> subscription(std::uint32_t id);
  /// Waits until the node reports subscription `id` with `status`; returns the last report
  /// (or null when it never knew the id).
  nlohmann::json wait_for_status(std::uint32_t id, const std::string& status,
                                 std::chrono::seconds timeout = std::chrono::seconds(60));

  infra::ClientResponse post(const std::string& path, const std::string& body);
  infra::ClientResponse get(const std::string& path);

  /// The last `lines` lines of the node's stderr and log file, for failure messages.
  std::string log_tail(std::size_t lines = 120) const;
  const nlohmann::json& config() const { return config_; }

 private:
  std::string url(const std::string& path) const;

  TempDir dir_;
  nlohmann::json config_;
  std::filesystem::path config_path_;
  std::unique_ptr<Process> process_;
  TestClient client_;
};

/// Names and echo's host port of the shared node's three managed echo containers. The names
/// carry the test process id, so that parallel runs do not collide.
struct EchoContainers {
  std::string echo;
  std::string with_payment_requirements;
  std::string with_proofs;
  std::uint16_t echo_port = 0;
};

/// Starts the Podman API service when DOCKER_HOST is unset and builds the echo image from this
/// build; returns the image name. Throws when either fails.
std::string prepare_echo_image();

/// The config of a chain-enabled node using `account` as its key and `payment_wallet`.
nlohmann::json node_config(const Chain& chain, const Account& account,
                           const std::string& payment_wallet, nlohmann::json containers,
                           bool manage_containers);

/// The three managed echo containers of the reference e2e suite, from `image`: "echo" accepts
/// ETH and the 6-decimal test token at a minimum of 0, "echo_with_payment_requirements" wants
/// at least 1e18 wei, "echo_with_proofs" generates proofs.
nlohmann::json echo_container_configs(const Chain& chain, const std::string& image,
                                      const EchoContainers& names);

}  // namespace inferd::testing::e2e

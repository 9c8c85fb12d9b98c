#include "chain_harness.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/abi.hpp"
#include "core/address.hpp"
#include "core/hex.hpp"
#include "core/infernet.hpp"
#include "core/secp256k1.hpp"

namespace inferd::testing::e2e {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::filesystem::path kSourceDir = INFERD_SOURCE_DIR;
const std::filesystem::path kCastBinary = kSourceDir / "contracts/node_modules/.bin/cast";

// topic0 of the coordinator's SubscriptionCreated(uint32) event.
const std::string kSubscriptionCreatedTopic =
    "0x04344ed7a67fec80c444d56ee1cee242f3f75b91fecc8dbce8890069c82eb48e";

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r'))
    text.pop_back();
  return text;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i != 0)
      out += separator;
    out += parts[i];
  }
  return out;
}

// Runs `program` with `args` to completion (at most `timeout`); returns stdout or throws with
// the command line and stderr.
std::string run_program(const std::filesystem::path& program, const std::vector<std::string>& args,
                        std::chrono::milliseconds timeout = 120s,
                        const std::map<std::string, std::string>& env = {}) {
  Process process(program, args, env);
  auto status = process.wait(timeout);
  if (!status) {
    process.signal(SIGKILL);
    throw std::runtime_error(program.filename().string() + " " + join(args, " ") +
                             ": timed out after " + std::to_string(timeout.count()) + " ms");
  }
  if (*status != 0) {
    throw std::runtime_error(program.filename().string() + " " + join(args, " ") +
                             ": exit status " + std::to_string(*status) + "\n" +
                             process.stderr_text() + process.stdout_text());
  }
  return trim(process.stdout_text());
}

std::string tail_lines(const std::string& text, std::size_t lines) {
  std::size_t start = text.size();
  for (std::size_t found = 0; start > 0 && found <= lines; ++found) {
    auto newline = text.rfind('\n', start - 1);
    if (newline == std::string::npos)
      return text;
    start = newline;
  }
  return start < text.size() ? text.substr(start + 1) : text;
}

std::string bytes_to_string(const std::string& hex) {
  auto bytes = core::from_hex(hex);
  if (!bytes)
    throw std::runtime_error("not hex: " + hex);
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace

const Account& anvil_account(int index) {
  static const std::array<Account, 10> kAccounts = {{
      {"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
       "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"},
      {"0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
       "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"},
      {"0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
       "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"},
      {"0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
       "0x90F79bf6EB2c4f870365E785982E1f101E93b906"},
      {"0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
       "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"},
      {"0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
       "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"},
      {"0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
       "0x976EA74026E726554dB657fA54763abd0C3a0aa9"},
      {"0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
       "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"},
      {"0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
       "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f"},
      {"0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
       "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"},
  }};
  return kAccounts.at(static_cast<std::size_t>(index));
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition())
      return true;
    if (Clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(step);
  }
}

core::U256 json_to_u256(const json& value) {
  if (value.is_number_unsigned())
    return core::U256(value.get<std::uint64_t>());
  if (value.is_string()) {
    auto parsed = core::U256::parse(value.get<std::string>());
    if (parsed)
      return *parsed;
  }
  throw std::runtime_error("not a uint in cast output: " + value.dump());
}

std::string string_field(const json& object, const std::string& key) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string())
    return "";
  return found->get<std::string>();
}

// ---- Cast --------------------------------------------------------------------------------------

Cast::Cast(std::string rpc_url) : rpc_url_(std::move(rpc_url)) {}

std::string Cast::run(std::vector<std::string> args) const {
  args.push_back("--rpc-url");
  args.push_back(rpc_url_);
  return run_program(kCastBinary, args);
}

json Cast::call(const std::string& to, const std::string& signature,
                const std::vector<std::string>& args) const {
  std::vector<std::string> command{"call", "--json", to, signature};
  command.insert(command.end(), args.begin(), args.end());
  return json::parse(run(command));
}

json Cast::send(const Account& from, const std::string& to, const std::string& signature,
                const std::vector<std::string>& args, const std::string& value) const {
  std::vector<std::string> command{"send", "--json", "--private-key", from.private_key, to};
  if (!signature.empty())
    command.push_back(signature);
  command.insert(command.end(), args.begin(), args.end());
  if (!value.empty()) {
    command.push_back("--value");
    command.push_back(value);
  }
  auto receipt = json::parse(run(command));
  if (receipt.value("status", "") != "0x1") {
    throw std::runtime_error("transaction " + signature + " to " + to +
                             " reverted: " + receipt.dump());
  }
  return receipt;
}

std::string Cast::send_async(const Account& from, const std::string& to,
                             const std::string& signature,
                             const std::vector<std::string>& args) const {
  std::vector<std::string> command{"send",           "--async", "--private-key",
                                   from.private_key, to,        signature};
  command.insert(command.end(), args.begin(), args.end());
  return run(command);
}

json Cast::rpc(const std::string& method, const std::vector<std::string>& params) const {
  std::vector<std::string> command{"rpc", method};
  command.insert(command.end(), params.begin(), params.end());
  return json::parse(run(command));
}

std::string Cast::abi_encode(const std::string& signature,
                             const std::vector<std::string>& args) const {
  std::vector<std::string> command{"abi-encode", signature};
  command.insert(command.end(), args.begin(), args.end());
  return run_program(kCastBinary, command);
}

core::U256 Cast::eth_balance(const std::string& address) const {
  auto balance = core::U256::parse(run({"balance", address}));
  if (!balance)
    throw std::runtime_error("cast balance " + address + ": not a number");
  return *balance;
}

core::U256 Cast::token_balance(const std::string& token, const std::string& holder) const {
  return json_to_u256(call(token, "balanceOf(address)(uint256)", {holder}).at(0));
}

// ---- Decoding ----------------------------------------------------------------------------------

std::optional<std::uint32_t> created_subscription_id(const json& receipt) {
  for (const auto& log : receipt.at("logs")) {
    const auto& topics = log.at("topics");
    if (topics.size() == 2 && topics[0] == kSubscriptionCreatedTopic) {
      auto id = core::U256::parse(topics[1].get<std::string>());
      if (id)
        return static_cast<std::uint32_t>(id->low_u64());
    }
  }
  return std::nullopt;
}

std::optional<std::string> decode_echo_output(const std::string& output) {
  core::ByteView bytes(reinterpret_cast<const std::uint8_t*>(output.data()), output.size());
  auto pair = core::abi::decode("(bytes,bytes)", bytes);
  if (!pair)
    return std::nullopt;
  auto value = core::abi::decode("(string)", (*pair)[0].as_bytes());
  if (!value)
    return std::nullopt;
  return (*value)[0].as_string();
}

std::optional<std::string> decode_raw_input(const std::string& input) {
  core::ByteView bytes(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
  auto pair = core::abi::decode("(bytes,bytes)", bytes);
  if (!pair)
    return std::nullopt;
  return core::to_hex((*pair)[0].as_bytes());
}

// ---- Chain -------------------------------------------------------------------------------------

Chain::Chain() : anvil_({"--block-time", "1", "--mixed-mining"}), cast_(anvil_.url()) {
  if (!anvil_.started())
    throw std::runtime_error("anvil did not start: " + chain::testing::anvil_path().string());

  // anvil binds its port a moment after it starts.
  bool responding = wait_until(
      [&] {
        try {
          return cast_.run({"chain-id"}) == "31337";
        } catch (const std::runtime_error&) {
          return false;
        }
      },
      20s, 100ms);
  if (!responding)
    throw std::runtime_error("anvil did not respond on " + anvil_.url());

  auto out_file = dir_.path() / "deployment.json";
  run_program(
      kSourceDir / "contracts/scripts/deploy.sh",
      {"--rpc-url", anvil_.url(), "--private-key", anvil_account(kDeployerIndex).private_key,
       "--fee-recipient", anvil_account(kFeeRecipientIndex).address, "--fee",
       std::to_string(kFeeBasisPoints), "--out", out_file.string()},
      600s);
  deployment_ = json::parse(read_file(out_file));
}

std::string Chain::address(const std::string& name) const {
  auto found = deployment_.find(name);
  if (found == deployment_.end() || !found->is_string())
    throw std::runtime_error("deploy.sh's JSON has no address \"" + name + "\"");
  return found->get<std::string>();
}

std::uint64_t Chain::block_number() const {
  return std::stoull(cast_.run({"block-number"}));
}

std::uint64_t Chain::latest_timestamp() const {
  return std::stoull(cast_.run({"block", "latest", "--field", "timestamp"}));
}

std::uint64_t Chain::receipt_timestamp(const json& receipt) const {
  auto number = receipt.at("blockNumber").get<std::string>();
  return std::stoull(cast_.run({"block", number, "--field", "timestamp"}));
}

std::string Chain::create_wallet(const Account& sender, const std::string& owner) const {
  auto factory = address("walletFactory");
  auto receipt = cast_.send(sender, factory, "createWallet(address)", {owner});
  for (const auto& log : receipt.at("logs")) {
    if (lower(log.at("address").get<std::string>()) == lower(factory)) {
      // WalletCreated(address indexed caller, address indexed owner, address wallet): the
      // wallet is the only data word.
      auto data = log.at("data").get<std::string>();
      auto wallet = core::Address::from_hex("0x" + data.substr(data.size() - 40));
      if (wallet)
        return wallet->to_checksum_hex();
    }
  }
  throw std::runtime_error("createWallet receipt has no WalletCreated log: " + receipt.dump());
}

std::uint32_t Chain::next_subscription_id() const {
  return static_cast<std::uint32_t>(
      json_to_u256(cast_.call(address("coordinator"), "id()(uint32)").at(0)).low_u64());
}

RecordedDelivery Chain::delivery(const std::string& consumer, std::uint32_t subscription_id,
                                 std::uint32_t interval, std::uint16_t redundancy) const {
  auto result = cast_.call(
      consumer,
      "getDelivery(uint32,uint32,uint16)((bool,address,bytes,bytes,bytes,bytes32,uint256))",
      {std::to_string(subscription_id), std::to_string(interval), std::to_string(redundancy)});
  const auto& tuple = result.at(0);
  RecordedDelivery delivery;
  delivery.received = tuple.at(0).get<bool>();
  delivery.node = tuple.at(1).get<std::string>();
  delivery.input = bytes_to_string(tuple.at(2).get<std::string>());
  delivery.output = bytes_to_string(tuple.at(3).get<std::string>());
  delivery.proof = bytes_to_string(tuple.at(4).get<std::string>());
  return delivery;
}

std::uint32_t Chain::redundancy_count(std::uint32_t subscription_id, std::uint32_t interval) const {
  auto key = core::to_hex(core::infernet::redundancy_key(subscription_id, interval).view());
  return static_cast<std::uint32_t>(
      json_to_u256(
          cast_.call(address("coordinator"), "redundancyCount(bytes32)(uint16)", {key}).at(0))
          .low_u64());
}

std::uint32_t Chain::delegated_subscription_id(const std::string& owner,
                                               std::uint32_t nonce) const {
  auto key = core::to_hex(
      core::infernet::delegate_key(core::Address::from_hex(owner).value(), nonce).view());
  return static_cast<std::uint32_t>(
      json_to_u256(
          cast_.call(address("coordinator"), "delegateCreatedIds(bytes32)(uint32)", {key}).at(0))
          .low_u64());
}

void Chain::pause_mining() const {
  cast_.rpc("evm_setAutomine", {"false"});
  cast_.rpc("evm_setIntervalMining", {"0"});
}

void Chain::resume_mining() const {
  // NOTE: anvil 1.7 cannot return to --mixed-mining over RPC: enabling automine and interval
  // mining in either order keeps only the later mode. Interval mining keeps block time moving,
  // so every later transaction waits up to a second for its block.
  cast_.rpc("evm_setIntervalMining", {"1"});
}

void Chain::mine() const {
  cast_.rpc("evm_mine");
}

// ---- Delegated subscriptions -------------------------------------------------------------------

std::string DelegatedRequest::body(const Chain& chain,
                                   const std::string& signer_private_key) const {
  core::Secp256k1Context context;
  auto key = core::PrivateKey::from_hex(context, signer_private_key).value();
  core::Eip712Domain domain{"InfernetCoordinator", "1", core::U256(31337),
                            core::Address::from_hex(chain.address("coordinator")).value()};
  auto digest = core::delegate_subscription_digest(domain, nonce, expiry, subscription);
  auto signature = core::sign_hash(context, key, digest);

  // r, s and payment_amount are JSON integers of up to 256 bits, which nlohmann::json cannot
  // hold: write placeholders and replace them with the decimal digits.
  json body{{"containers", containers},
            {"data", data},
            {"subscription",
             {{"owner", subscription.owner.to_checksum_hex()},
              {"active_at", subscription.active_at},
              {"period", subscription.period},
              {"frequency", subscription.frequency},
              {"redundancy", subscription.redundancy},
              {"containers", core::to_hex(subscription.container_id.view())},
              {"lazy", subscription.lazy},
              {"verifier", subscription.verifier.to_checksum_hex()},
              {"payment_amount", "@payment_amount@"},
              {"payment_token", subscription.payment_token.to_checksum_hex()},
              {"wallet", subscription.wallet.to_checksum_hex()}}},
            {"signature",
             {{"nonce", nonce},
              {"expiry", expiry},
              {"v", 27 + signature.recovery_id},
              {"r", "@r@"},
              {"s", "@s@"}}}};
  std::string text = body.dump();
  auto replace = [&text](const std::string& placeholder, const std::string& digits) {
    auto position = text.find("\"" + placeholder + "\"");
    text.replace(position, placeholder.size() + 2, digits);
  };
  replace("@payment_amount@", subscription.payment_amount.to_dec());
  replace("@r@", core::U256::from_word(signature.r).to_dec());
  replace("@s@", core::U256::from_word(signature.s).to_dec());
  return text;
}

// ---- ChainNode ---------------------------------------------------------------------------------

ChainNode::ChainNode(json config) : config_(std::move(config)) {
  config_["server"]["port"] = free_port();
  config_["server"]["rate_limit"] = {{"num_requests", 100000}, {"period", 1}};
  config_["store"]["data_dir"] = (dir_.path() / "data").string();
  config_["log"]["path"] = (dir_.path() / "data" / "inferd.log").string();
  config_path_ = dir_.path() / "config.json";
  write_file(config_path_, config_.dump(2));
}

ChainNode::~ChainNode() {
  if (process_ && process_->running())
    stop();
}

void ChainNode::start(std::chrono::seconds timeout) {
  process_ = std::make_unique<Process>(inferd_binary(),
                                       std::vector<std::string>{"run", "--config", config_path_});
  bool healthy = wait_until(
      [&] {
        if (!process_->running())
          return true;
        try {
          return get("/health").status_code == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout, 200ms);
  if (!process_->running()) {
    throw std::runtime_error("inferd exited with status " +
                             std::to_string(process_->wait(0ms).value_or(-1)) + "\n" + log_tail());
  }
  if (!healthy) {
    throw std::runtime_error("inferd did not report healthy within " +
                             std::to_string(timeout.count()) + " s\n" + log_tail());
  }
}

void ChainNode::kill_hard() {
  process_->signal(SIGKILL);
  process_->wait(10s);
}

void ChainNode::stop() {
  process_->signal(SIGTERM);
  if (!process_->wait(30s)) {
    process_->signal(SIGKILL);
    process_->wait(10s);
  }
}

bool ChainNode::running() {
  return process_ && process_->running();
}

std::optional<int> ChainNode::exit_status() {
  if (!process_)
    return std::nullopt;
  return process_->wait(0ms);
}

std::optional<json> ChainNode::subscription(std::uint32_t id) {
  auto response = get("/api/subscriptions/" + std::to_string(id));
  if (response.status_code == 404)
    return std::nullopt;
  if (response.status_code != 200) {
    throw std::runtime_error("GET /api/subscriptions/" + std::to_string(id) + ": HTTP " +
                             std::to_string(response.status_code) + " " + response.body);
  }
  return json::parse(response.body);
}

json ChainNode::wait_for_status(std::uint32_t id, const std::string& status,
                                std::chrono::seconds timeout) {
  json last;
  wait_until(
      [&] {
        auto report = subscription(id);
        if (!report)
          return false;
        last = *report;
        return string_field(last, "status") == status;
      },
      timeout, 250ms);
  return last;
}

infra::ClientResponse ChainNode::post(const std::string& path, const std::string& body) {
  return client_.request(http::verb::post, url(path), body);
}

infra::ClientResponse ChainNode::get(const std::string& path) {
  return client_.request(http::verb::get, url(path));
}

std::string ChainNode::log_tail(std::size_t lines) const {
  std::ostringstream out;
  out << "---- inferd on port " << config_["server"]["port"] << ", stderr:\n"
      << (process_ ? tail_lines(process_->stderr_text(), lines) : std::string("(not started)"))
      << "\n---- log file:\n"
      << tail_lines(read_file(config_["log"]["path"].get<std::string>()), lines) << "\n";
  return out.str();
}

std::string ChainNode::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(config_["server"]["port"].get<int>()) + path;
}

// ---- Node configuration ------------------------------------------------------------------------

std::string prepare_echo_image() {
  if (std::getenv("DOCKER_HOST") == nullptr) {
    auto host = run_program("/bin/bash", {(kSourceDir / "scripts/podman.sh").string()});
    ::setenv("DOCKER_HOST", host.c_str(), 1);
  }
  run_program("/bin/bash",
              {(kSourceDir / "scripts/build-images.sh").string(), "--build-dir", INFERD_BINARY_DIR,
               "--tag", "e2e", "echo"},
              600s);
  return "localhost/inferd/echo:e2e";
}

json node_config(const Chain& chain, const Account& account, const std::string& payment_wallet,
                 json containers, bool manage_containers) {
  return json{
      {"manage_containers", manage_containers},
      {"startup_wait", 60},
      {"forward_stats", false},
      {"chain",
       {{"enabled", true},
        {"rpc_url", chain.url()},
        {"trail_head_blocks", 1},
        {"registry_address", chain.address("registry")},
        {"wallet",
         {{"max_gas_limit", 5000000},
          {"private_key", account.private_key},
          {"payment_address", payment_wallet}}},
        {"snapshot_sync",
         {{"sleep", 0.1}, {"batch_size", 100}, {"starting_sub_id", 0}, {"sync_period", 0.2}}}}},
      {"containers", std::move(containers)}};
}

json echo_container_configs(const Chain& chain, const std::string& image,
                            const EchoContainers& names) {
  json echo{{"id", names.echo},
            {"image", image},
            {"port", names.echo_port},
            {"description", "echo: accepts ETH and the test token at any price"},
            {"accepted_payments", {{kZeroAddress, 0}, {chain.address("testToken"), 0}}}};
  json with_payment{{"id", names.with_payment_requirements},
                    {"image", image},
                    {"port", free_port()},
                    {"description", "echo that wants at least 1 ETH per delivery"},
                    {"accepted_payments", {{kZeroAddress, 1000000000000000000ULL}}}};
  json with_proofs{{"id", names.with_proofs},
                   {"image", image},
                   {"port", free_port()},
                   {"description", "echo that returns proofs"},
                   {"generates_proofs", true}};
  return json::array({echo, with_payment, with_proofs});
}

}  // namespace inferd::testing::e2e

// Every InfernetClient read and the chain start-up checks against the real contracts, deployed
// once per run with contracts/scripts/deploy.sh to a fresh anvil. The state the reads return is
// created with `cast send`: subscriptions, a delivery, a delegated subscription, a wallet with an
// allowance and a token balance.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "chain/infernet_client.hpp"
#include "chain/startup_checks.hpp"
#include "chain/test_anvil.hpp"
#include "core/hex.hpp"
#include "core/infernet.hpp"
#include "core/secp256k1.hpp"
#include "support/process.hpp"

namespace inferd::chain {
namespace {

using chain::testing::run;
using core::Address;
using nlohmann::json;

// anvil's default accounts 0 to 2 (well-known test keys, funded only on local chains). Account 0
// deploys the contracts and is the delegated consumer's signer; 1 receives protocol fees; 2 acts
// as a node that delivers.
constexpr const char* kDeployerKey =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr const char* kFeeRecipient = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
constexpr const char* kNodeKey =
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
constexpr const char* kNode = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
constexpr const char* kDeployer = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

constexpr auto kToolTimeout = std::chrono::minutes(10);

Address address(const std::string& text) {
  return Address::from_hex(text).value();
}

std::string trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  return text;
}

std::filesystem::path contracts_dir() {
  return std::filesystem::path(INFERD_SOURCE_DIR) / "contracts";
}

// Runs a tool to its end; returns its standard output. Throws with its standard error when it
// fails, so a failed setup names the command.
std::string run_tool(const std::filesystem::path& program, std::vector<std::string> args) {
  inferd::testing::Process process(program, args);
  const std::optional<int> status = process.wait(kToolTimeout);
  if (status != 0) {
    std::ostringstream command;
    command << program.filename().string();
    for (const std::string& arg : args) {
      command << ' ' << arg;
    }
    throw std::runtime_error(command.str() + " failed with status " +
                             (status ? std::to_string(*status) : "timeout") + ": " +
                             process.stderr_text());
  }
  return trim(process.stdout_text());
}

// The anvil chain with the deployed contracts, shared by every test of this program.
struct Deployment {
  std::unique_ptr<chain::testing::AnvilProcess> anvil;
  json addresses;  ///< deploy.sh's output file

  std::string cast(std::vector<std::string> args) const {
    args.push_back("--rpc-url");
    args.push_back(anvil->url());
    return run_tool(contracts_dir() / "node_modules/.bin/cast", std::move(args));
  }

  // Sends a transaction from `key` and waits for its receipt (cast send waits by default).
  void send(const std::string& key, const std::string& to, const std::string& signature,
            std::vector<std::string> args) const {
    std::vector<std::string> command = {"send", "--private-key", key, to, signature};
    command.insert(command.end(), args.begin(), args.end());
    cast(std::move(command));
  }

  Address at(const char* name) const { return address(addresses.at(name).get<std::string>()); }
};

Deployment* deployment = nullptr;
std::string deployment_error;  ///< why SetUpTestSuite could not deploy, reported by each test

class ContractReadsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!std::filesystem::exists(chain::testing::anvil_path())) {
      return;
    }
    deployment = new Deployment;
    try {
      deploy(*deployment);
    } catch (const std::exception& error) {
      deployment_error = error.what();
    }
  }

  static void deploy(Deployment& target) {
    target.anvil = std::make_unique<chain::testing::AnvilProcess>();
    {
      asio::io_context io;
      infra::HttpClient http(io.get_executor());
      infra::metrics::Registry metrics;
      RpcClient rpc(http, RpcClientOptions{.urls = {target.anvil->url()}}, metrics);
      if (!chain::testing::wait_until_responding(io, rpc)) {
        throw std::runtime_error("anvil did not respond on " + target.anvil->url());
      }
    }
    inferd::testing::TempDir dir;
    const std::filesystem::path out = dir.path() / "deployment.json";
    run_tool("/bin/bash", {(contracts_dir() / "scripts/deploy.sh").string(), "--rpc-url",
                           target.anvil->url(), "--private-key", kDeployerKey, "--fee-recipient",
                           kFeeRecipient, "--fee", "500", "--out", out.string()});
    target.addresses = json::parse(inferd::testing::read_file(out));
  }

  static void TearDownTestSuite() {
    delete deployment;
    deployment = nullptr;
  }

  void SetUp() override {
    if (deployment == nullptr) {
      GTEST_SKIP() << "anvil not installed at " << chain::testing::anvil_path();
    }
    ASSERT_EQ(deployment_error, "") << "deploying the contracts failed";
    RpcClientOptions options;
    options.urls = {deployment->anvil->url()};
    rpc_ = std::make_unique<RpcClient>(http_, options, metrics_);
    client_ = std::make_unique<InfernetClient>(*rpc_, errors_);
    registry_ = run(io_, client_->read_registry(deployment->at("registry")));
  }

  std::uint32_t next_id() { return run(io_, client_->next_subscription_id(registry_.coordinator)); }

  std::uint32_t latest_timestamp() {
    const json block = run(io_, rpc_->call("eth_getBlockByNumber", json::array({"latest", false})));
    return static_cast<std::uint32_t>(
        core::U256::from_hex(block.at("timestamp").get<std::string>()).value().low_u64());
  }

  // Creates a one-shot request at the callback consumer; returns its subscription id.
  std::uint32_t request_compute(const std::string& inputs, std::uint16_t redundancy) {
    const std::uint32_t id = next_id();
    deployment->send(kDeployerKey, deployment->addresses.at("callbackConsumer"),
                     "requestCompute(string,bytes,uint16,address,uint256,address,address)",
                     {"echo", inputs, std::to_string(redundancy), Address{}.to_checksum_hex(), "0",
                      Address{}.to_checksum_hex(), Address{}.to_checksum_hex()});
    return id;
  }

  // Creates a recurring subscription at the subscription consumer; returns its id.
  std::uint32_t create_subscription(std::uint32_t frequency, std::uint32_t period,
                                    std::uint16_t redundancy) {
    const std::uint32_t id = next_id();
    const std::string zero = Address{}.to_checksum_hex();
    deployment->send(
        kDeployerKey, deployment->addresses.at("subscriptionConsumer"),
        "createSubscription(string,uint32,uint32,uint16,bool,address,uint256,address,address)",
        {"echo", std::to_string(frequency), std::to_string(period), std::to_string(redundancy),
         "false", zero, "0", zero, zero});
    return id;
  }

  infra::NodeConfig checks_config() const {
    infra::NodeConfig config;
    config.chain.enabled = true;
    config.chain.rpc_url = deployment->anvil->url();
    config.chain.registry_address = deployment->at("registry").to_checksum_hex();
    config.chain.wallet = infra::WalletConfig{};
    config.chain.chain_id = 31337;
    config.chain.trail_head_blocks = 0;
    return config;
  }

  asio::io_context io_;
  infra::HttpClient http_{io_.get_executor()};
  infra::metrics::Registry metrics_;
  core::abi::ErrorTable errors_ = core::infernet::make_error_table();
  std::unique_ptr<RpcClient> rpc_;
  std::unique_ptr<InfernetClient> client_;
  InfernetAddresses registry_;
};

void expect_same_subscription(const core::Subscription& actual, const core::Subscription& expected,
                              std::uint32_t id) {
  SCOPED_TRACE("subscription " + std::to_string(id));
  EXPECT_EQ(actual.owner, expected.owner);
  EXPECT_EQ(actual.active_at, expected.active_at);
  EXPECT_EQ(actual.period, expected.period);
  EXPECT_EQ(actual.frequency, expected.frequency);
  EXPECT_EQ(actual.redundancy, expected.redundancy);
  EXPECT_EQ(actual.container_id, expected.container_id);
  EXPECT_EQ(actual.lazy, expected.lazy);
  EXPECT_EQ(actual.verifier, expected.verifier);
  EXPECT_EQ(actual.payment_amount, expected.payment_amount);
  EXPECT_EQ(actual.payment_token, expected.payment_token);
  EXPECT_EQ(actual.wallet, expected.wallet);
}

TEST_F(ContractReadsTest, RegistryReturnsDeployedAddresses) {
  EXPECT_EQ(registry_.coordinator, deployment->at("coordinator"));
  EXPECT_EQ(registry_.inbox, deployment->at("inbox"));
  EXPECT_EQ(registry_.reader, deployment->at("reader"));
  EXPECT_EQ(registry_.fee, deployment->at("fee"));
  EXPECT_EQ(registry_.wallet_factory, deployment->at("walletFactory"));
}

TEST_F(ContractReadsTest, SubscriptionFieldsMatchCreation) {
  const std::uint32_t id = create_subscription(3, 60, 2);
  const std::uint32_t created_at = latest_timestamp();

  EXPECT_EQ(next_id(), id + 1);
  const core::Subscription subscription =
      run(io_, client_->get_subscription(registry_.coordinator, id));

  EXPECT_EQ(subscription.owner, deployment->at("subscriptionConsumer"));
  EXPECT_EQ(subscription.active_at, created_at + 60);
  EXPECT_EQ(subscription.period, 60u);
  EXPECT_EQ(subscription.frequency, 3u);
  EXPECT_EQ(subscription.redundancy, 2u);
  EXPECT_EQ(subscription.container_id, core::infernet::container_set_id({"echo"}));
  EXPECT_FALSE(subscription.lazy);
  EXPECT_TRUE(subscription.verifier.is_zero());
  EXPECT_TRUE(subscription.payment_amount.is_zero());
  EXPECT_TRUE(subscription.payment_token.is_zero());
  EXPECT_TRUE(subscription.wallet.is_zero());
}

TEST_F(ContractReadsTest, UnknownSubscriptionIsAllZeros) {
  const core::Subscription subscription =
      run(io_, client_->get_subscription(registry_.coordinator, 999999));

  EXPECT_TRUE(subscription.owner.is_zero());
  EXPECT_EQ(subscription.frequency, 0u);
}

TEST_F(ContractReadsTest, DeliveryUpdatesRedundancyAndResponded) {
  const std::uint32_t id = request_compute("0xdeadbeef", 2);
  const std::uint32_t other = create_subscription(1, 600, 1);

  EXPECT_EQ(run(io_, client_->redundancy_count(registry_.coordinator, id, 1)), 0u);
  EXPECT_FALSE(run(io_, client_->node_responded(registry_.coordinator, id, 1, address(kNode))));

  deployment->send(kNodeKey, deployment->addresses.at("coordinator"),
                   "deliverCompute(uint32,uint32,bytes,bytes,bytes,address)",
                   {std::to_string(id), "1", "0x01", "0x02", "0x", Address{}.to_checksum_hex()});

  EXPECT_EQ(run(io_, client_->redundancy_count(registry_.coordinator, id, 1)), 1u);
  EXPECT_EQ(run(io_, client_->redundancy_count(registry_.coordinator, id, 2)), 0u);
  EXPECT_TRUE(run(io_, client_->node_responded(registry_.coordinator, id, 1, address(kNode))));
  EXPECT_FALSE(run(io_, client_->node_responded(registry_.coordinator, id, 1, address(kDeployer))));

  const std::vector<std::uint16_t> counts =
      run(io_, client_->read_redundancy_count_batch(registry_.reader, {id, other, id}, {1, 1, 2}));
  EXPECT_EQ(counts, (std::vector<std::uint16_t>{1, 0, 0}));
}

TEST_F(ContractReadsTest, SubscriptionBatchMatchesSingleReads) {
  create_subscription(2, 30, 1);
  request_compute("0x1234", 1);
  const std::uint32_t end = next_id();

  const std::vector<core::Subscription> batch =
      run(io_, client_->read_subscription_batch(registry_.reader, 1, end));

  ASSERT_EQ(batch.size(), end - 1);
  for (std::uint32_t id = 1; id < end; ++id) {
    const core::Subscription single =
        run(io_, client_->get_subscription(registry_.coordinator, id));
    expect_same_subscription(batch[id - 1], single, id);
  }
}

TEST_F(ContractReadsTest, CallbackInputsAreStoredBytes) {
  const std::uint32_t id = request_compute("0xdeadbeef", 1);

  const core::Bytes inputs = run(
      io_,
      client_->get_container_inputs(deployment->at("callbackConsumer"), id, 1, 0, address(kNode)));

  EXPECT_EQ(core::to_hex(inputs), "0xdeadbeef");
}

TEST_F(ContractReadsTest, SubscriptionInputsEncodeArguments) {
  const std::uint32_t id = create_subscription(5, 10, 1);
  const Address consumer = deployment->at("subscriptionConsumer");

  // Without setInputs the consumer returns abi.encode(id, interval, timestamp, caller).
  const core::Bytes computed =
      run(io_, client_->get_container_inputs(consumer, id, 4, 1234567, address(kNode)));
  const core::Bytes expected =
      core::abi::encode(
          "(uint32,uint32,uint32,address)",
          {core::abi::AbiValue::uint(id), core::abi::AbiValue::uint(4),
           core::abi::AbiValue::uint(1234567), core::abi::AbiValue::address(address(kNode))})
          .value();
  EXPECT_EQ(computed, expected);

  deployment->send(kDeployerKey, consumer.to_checksum_hex(), "setInputs(uint32,bytes)",
                   {std::to_string(id), "0xc0ffee"});
  const core::Bytes fixed =
      run(io_, client_->get_container_inputs(consumer, id, 4, 1234567, address(kNode)));
  EXPECT_EQ(core::to_hex(fixed), "0xc0ffee");
}

TEST_F(ContractReadsTest, SignerIsDelegateSigner) {
  const Address signer = run(io_, client_->get_signer(deployment->at("delegatedConsumer")));

  EXPECT_EQ(signer, deployment->at("delegateSigner"));
  EXPECT_EQ(signer, address(kDeployer));
}

TEST_F(ContractReadsTest, WalletValidityAndAllowance) {
  const std::string factory = deployment->addresses.at("walletFactory");
  const std::string token = deployment->addresses.at("testToken");
  // The call predicts the address the transaction right after it creates.
  const Address wallet = address(deployment->cast(
      {"call", "--from", kDeployer, factory, "createWallet(address)(address)", kDeployer}));
  deployment->send(kDeployerKey, factory, "createWallet(address)", {kDeployer});
  deployment->send(kDeployerKey, wallet.to_checksum_hex(), "approve(address,address,uint256)",
                   {kNode, token, "750000"});

  EXPECT_TRUE(run(io_, client_->is_valid_wallet(registry_.wallet_factory, wallet)));
  EXPECT_FALSE(run(io_, client_->is_valid_wallet(registry_.wallet_factory, address(kNode))));
  EXPECT_EQ(run(io_, client_->wallet_allowance(wallet, address(kNode), address(token))),
            core::U256(750000));
  EXPECT_EQ(run(io_, client_->wallet_allowance(wallet, address(kDeployer), address(token))),
            core::U256(0));
}

TEST_F(ContractReadsTest, TokenBalanceAfterMint) {
  const std::string token = deployment->addresses.at("testToken");
  const Address holder = address("0x90F79bf6EB2c4f870365E785982E1f101E93b906");
  const core::U256 before = run(io_, client_->erc20_balance(address(token), holder));

  deployment->send(kDeployerKey, token, "mint(address,uint256)",
                   {holder.to_checksum_hex(), "123456789000000000000000000000"});

  const core::U256 after = run(io_, client_->erc20_balance(address(token), holder));
  EXPECT_EQ(after - before, core::U256::from_dec("123456789000000000000000000000").value());
}

TEST_F(ContractReadsTest, DelegateCreatedIdAfterDelegation) {
  const Address consumer = deployment->at("delegatedConsumer");
  const std::uint32_t nonce = 7;
  const std::uint32_t expiry = latest_timestamp() + 3600;
  EXPECT_EQ(run(io_, client_->delegate_created_id(registry_.coordinator, consumer, nonce)), 0u);

  core::Subscription subscription;
  subscription.owner = consumer;
  subscription.active_at = latest_timestamp();
  subscription.period = 0;
  subscription.frequency = 1;
  subscription.redundancy = 1;
  subscription.container_id = core::infernet::container_set_id({"echo"});
  const core::Eip712Domain domain{"InfernetCoordinator", "1", core::U256(31337),
                                  registry_.coordinator};
  const core::Secp256k1Context secp;
  const core::PrivateKey signer = core::PrivateKey::from_hex(secp, kDeployerKey).value();
  const core::RecoverableSignature signature = core::sign_hash(
      secp, signer, core::delegate_subscription_digest(domain, nonce, expiry, subscription));

  const std::uint32_t id = next_id();
  const std::string tuple =
      "(" + consumer.to_checksum_hex() + "," + std::to_string(subscription.active_at) + ",0,1,1," +
      core::to_hex(subscription.container_id.view()) + ",false," + Address{}.to_checksum_hex() +
      ",0," + Address{}.to_checksum_hex() + "," + Address{}.to_checksum_hex() + ")";
  deployment->send(
      kNodeKey, registry_.coordinator.to_checksum_hex(),
      "createSubscriptionDelegatee(uint32,uint32,(address,uint32,uint32,uint32,uint16,bytes32,"
      "bool,address,uint256,address,address),uint8,bytes32,bytes32)",
      {std::to_string(nonce), std::to_string(expiry), tuple,
       std::to_string(27 + signature.recovery_id), core::to_hex(signature.r.view()),
       core::to_hex(signature.s.view())});

  EXPECT_EQ(run(io_, client_->delegate_created_id(registry_.coordinator, consumer, nonce)), id);
  EXPECT_EQ(run(io_, client_->delegate_created_id(registry_.coordinator, consumer, nonce + 1)), 0u);
  const core::Subscription created = run(io_, client_->get_subscription(registry_.coordinator, id));
  expect_same_subscription(created, subscription, id);
}

TEST_F(ContractReadsTest, StartupChecksPassOnDeployment) {
  const std::string factory = deployment->addresses.at("walletFactory");
  const Address wallet = address(deployment->cast(
      {"call", "--from", kDeployer, factory, "createWallet(address)(address)", kNode}));
  deployment->send(kDeployerKey, factory, "createWallet(address)", {kNode});
  infra::NodeConfig config = checks_config();
  config.chain.wallet->payment_address = wallet.to_checksum_hex();

  const std::vector<CheckResult> results =
      run(io_, run_chain_checks(config, *rpc_, *client_, address(kNode)));

  ASSERT_EQ(results.size(), 6u);
  for (const CheckResult& result : results) {
    EXPECT_EQ(result.status, CheckResult::kOk) << result.name << ": " << result.message;
  }
}

TEST_F(ContractReadsTest, StartupChecksRejectTokenAsPaymentAddress) {
  infra::NodeConfig config = checks_config();
  config.chain.wallet->payment_address = deployment->at("testToken").to_checksum_hex();

  const std::vector<CheckResult> results =
      run(io_, run_chain_checks(config, *rpc_, *client_, address(kNode)));

  const auto payment = std::find_if(results.begin(), results.end(), [](const CheckResult& r) {
    return r.name == "payment address";
  });
  ASSERT_NE(payment, results.end());
  EXPECT_EQ(payment->status, CheckResult::kError);
  EXPECT_NE(payment->message.find("is not a wallet of the WalletFactory " +
                                  registry_.wallet_factory.to_checksum_hex()),
            std::string::npos)
      << payment->message;
}

}  // namespace
}  // namespace inferd::chain

// Chain start-up checks against a real anvil. Registry-like contracts are installed with
// anvil_setCode: tiny runtime programs that return one fixed 32-byte word for every call.
#include "chain/startup_checks.hpp"

#include <gtest/gtest.h>

#include "chain/test_anvil.hpp"
#include "core/hex.hpp"
#include "core/infernet.hpp"

namespace inferd::chain {
namespace {

using nlohmann::json;
using testing::run;

// anvil's first default account, funded with 10,000 ETH on a fresh chain.
const core::Address kFundedAccount =
    core::Address::from_hex("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266").value();
const core::Address kRegistry =
    core::Address::from_hex("0x1000000000000000000000000000000000000001").value();
const core::Address kFactory =
    core::Address::from_hex("0x2000000000000000000000000000000000000002").value();
const core::Address kPayment =
    core::Address::from_hex("0x3000000000000000000000000000000000000003").value();

// Runtime code that returns `word` (32 bytes) for any call:
// PUSH32 word, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN.
std::string code_returning(const core::Bytes32& word) {
  return "0x7f" + core::to_hex(word.view(), core::HexPrefix::kWithout) + "60005260206000f3";
}

std::string code_returning_address(const core::Address& address) {
  core::Bytes32 word;
  const core::ByteView bytes = address.view();
  std::copy(bytes.begin(), bytes.end(), word.data() + 12);
  return code_returning(word);
}

std::string code_returning_uint(std::uint64_t value) {
  return code_returning(core::U256(value).to_word());
}

const CheckResult* find(const std::vector<CheckResult>& results, const std::string& name) {
  for (const CheckResult& result : results) {
    if (result.name == name) {
      return &result;
    }
  }
  return nullptr;
}

class StartupChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testing::anvil_path())) {
      GTEST_SKIP() << "anvil not installed at " << testing::anvil_path();
    }
    ASSERT_TRUE(anvil_.started());
    RpcClientOptions options;
    options.urls = {anvil_.url()};
    options.attempt_timeout = std::chrono::milliseconds(2000);
    options.initial_backoff = std::chrono::milliseconds(10);
    rpc_ = std::make_unique<RpcClient>(http_, options, metrics_);
    infernet_ = std::make_unique<InfernetClient>(*rpc_, errors_);
    ASSERT_TRUE(testing::wait_until_responding(io_, *rpc_)) << "anvil did not respond";

    config_.chain.enabled = true;
    config_.chain.rpc_url = anvil_.url();
    config_.chain.registry_address = kRegistry.to_checksum_hex();
    config_.chain.wallet = infra::WalletConfig{};
    config_.chain.trail_head_blocks = 0;
  }

  void set_code(const core::Address& address, const std::string& code) {
    run(io_, rpc_->call("anvil_setCode", json::array({address.to_checksum_hex(), code})));
  }

  // A Registry-like contract whose getters all return `published`.
  void install_registry(const core::Address& published) {
    set_code(kRegistry, code_returning_address(published));
  }

  std::vector<CheckResult> checks(std::optional<core::Address> node = kFundedAccount) {
    return run(io_, run_chain_checks(config_, *rpc_, *infernet_, node));
  }

  testing::AnvilProcess anvil_;
  asio::io_context io_;
  infra::HttpClient http_{io_.get_executor()};
  infra::metrics::Registry metrics_;
  core::abi::ErrorTable errors_ = core::infernet::make_error_table();
  std::unique_ptr<RpcClient> rpc_;
  std::unique_ptr<InfernetClient> infernet_;
  infra::NodeConfig config_;
};

TEST_F(StartupChecksTest, RegistryLikeContractPasses) {
  install_registry(kFactory);

  const std::vector<CheckResult> results = checks();

  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].name, "chain id");
  EXPECT_EQ(results[1].name, "registry code");
  EXPECT_EQ(results[2].name, "registry addresses");
  EXPECT_EQ(results[3].name, "node balance");
  EXPECT_EQ(results[4].name, "chain head");
  for (const CheckResult& result : results) {
    EXPECT_EQ(result.status, CheckResult::kOk) << result.name << ": " << result.message;
  }
  EXPECT_EQ(results[0].message, "chain id 31337");
  EXPECT_NE(results[2].message.find("coordinator " + kFactory.to_checksum_hex()), std::string::npos)
      << results[2].message;
  EXPECT_FALSE(has_error(results));
}

TEST_F(StartupChecksTest, MatchingChainIdPasses) {
  install_registry(kFactory);
  config_.chain.chain_id = 31337;

  const std::vector<CheckResult> results = checks();

  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].status, CheckResult::kOk);
  EXPECT_EQ(results[0].message, "chain id 31337 (matches chain.chain_id)");
}

TEST_F(StartupChecksTest, WrongChainIdIsError) {
  install_registry(kFactory);
  config_.chain.chain_id = 1;

  const std::vector<CheckResult> results = checks();

  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].name, "chain id");
  EXPECT_EQ(results[0].status, CheckResult::kError);
  EXPECT_NE(results[0].message.find("serves chain id 31337, but chain.chain_id is 1"),
            std::string::npos)
      << results[0].message;
  EXPECT_TRUE(has_error(results));
}

TEST_F(StartupChecksTest, RegistryWithoutCodeIsError) {
  const std::vector<CheckResult> results = checks();

  const CheckResult* code = find(results, "registry code");
  ASSERT_NE(code, nullptr);
  EXPECT_EQ(code->status, CheckResult::kError);
  EXPECT_NE(code->message.find(kRegistry.to_checksum_hex()), std::string::npos) << code->message;
  EXPECT_NE(code->message.find("no contract code on chain 31337"), std::string::npos)
      << code->message;
  EXPECT_EQ(find(results, "registry addresses"), nullptr) << "reads of a codeless address";
  EXPECT_NE(find(results, "chain head"), nullptr) << "later checks still run";
}

TEST_F(StartupChecksTest, ZeroCoordinatorIsError) {
  install_registry(core::Address{});

  const std::vector<CheckResult> results = checks();

  const CheckResult* addresses = find(results, "registry addresses");
  ASSERT_NE(addresses, nullptr);
  EXPECT_EQ(addresses->status, CheckResult::kError);
  EXPECT_NE(addresses->message.find("zero address as COORDINATOR()"), std::string::npos)
      << addresses->message;
}

TEST_F(StartupChecksTest, ContractWithoutGettersIsError) {
  set_code(kRegistry, "0x00");  // STOP: every call succeeds with empty return data

  const std::vector<CheckResult> results = checks();

  const CheckResult* addresses = find(results, "registry addresses");
  ASSERT_NE(addresses, nullptr);
  EXPECT_EQ(addresses->status, CheckResult::kError);
  EXPECT_NE(addresses->message.find("COORDINATOR()"), std::string::npos) << addresses->message;
  EXPECT_NE(addresses->message.find(kRegistry.to_checksum_hex()), std::string::npos)
      << addresses->message;
}

TEST_F(StartupChecksTest, PaymentAddressNotWalletIsError) {
  install_registry(kFactory);
  set_code(kFactory, code_returning_uint(0));  // isValidWallet returns false
  config_.chain.wallet->payment_address = kPayment.to_checksum_hex();

  const std::vector<CheckResult> results = checks();

  const CheckResult* payment = find(results, "payment address");
  ASSERT_NE(payment, nullptr);
  EXPECT_EQ(payment->status, CheckResult::kError);
  EXPECT_NE(
      payment->message.find(kPayment.to_checksum_hex() + " is not a wallet of the WalletFactory " +
                            kFactory.to_checksum_hex()),
      std::string::npos)
      << payment->message;
}

TEST_F(StartupChecksTest, PaymentAddressWalletPasses) {
  install_registry(kFactory);
  set_code(kFactory, code_returning_uint(1));  // isValidWallet returns true
  config_.chain.wallet->payment_address = kPayment.to_checksum_hex();

  const std::vector<CheckResult> results = checks();

  const CheckResult* payment = find(results, "payment address");
  ASSERT_NE(payment, nullptr);
  EXPECT_EQ(payment->status, CheckResult::kOk) << payment->message;
}

TEST_F(StartupChecksTest, LowBalanceIsWarning) {
  install_registry(kFactory);
  run(io_, rpc_->call("anvil_setBalance", json::array({kFundedAccount.to_checksum_hex(), "0x1"})));

  const std::vector<CheckResult> results = checks();

  const CheckResult* balance = find(results, "node balance");
  ASSERT_NE(balance, nullptr);
  EXPECT_EQ(balance->status, CheckResult::kWarning);
  EXPECT_NE(balance->message.find("holds 1 wei, enough for 0 deliveries"), std::string::npos)
      << balance->message;
  EXPECT_NE(balance->message.find("chain.min_balance_deliveries (10)"), std::string::npos)
      << balance->message;
  EXPECT_FALSE(has_error(results)) << "a low balance is a warning only";
}

TEST_F(StartupChecksTest, BalanceCheckLeftOutWithoutNodeAddress) {
  install_registry(kFactory);

  const std::vector<CheckResult> results = checks(std::nullopt);

  EXPECT_EQ(find(results, "node balance"), nullptr);
  EXPECT_NE(find(results, "chain head"), nullptr);
}

TEST_F(StartupChecksTest, ShortChainIsWarning) {
  install_registry(kFactory);
  config_.chain.trail_head_blocks = 1000;

  const std::vector<CheckResult> results = checks();

  const CheckResult* head = find(results, "chain head");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->status, CheckResult::kWarning);
  EXPECT_EQ(head->message.rfind("waiting for block 1000: the chain head is block ", 0), 0u)
      << head->message;
}

TEST_F(StartupChecksTest, LongEnoughChainPasses) {
  install_registry(kFactory);
  config_.chain.trail_head_blocks = 3;
  run(io_, rpc_->call("anvil_mine", json::array({"0x5"})));

  const std::vector<CheckResult> results = checks();

  const CheckResult* head = find(results, "chain head");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->status, CheckResult::kOk) << head->message;
}

TEST_F(StartupChecksTest, UnreachableRpcIsSingleError) {
  RpcClientOptions options;
  options.urls = {testing::local_url(testing::free_port())};
  options.max_attempts = 1;
  RpcClient closed(http_, options, metrics_);
  InfernetClient infernet(closed, errors_);

  const std::vector<CheckResult> results =
      run(io_, run_chain_checks(config_, closed, infernet, kFundedAccount));

  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].name, "chain id");
  EXPECT_EQ(results[0].status, CheckResult::kError);
  EXPECT_NE(results[0].message.find("cannot read the chain id"), std::string::npos)
      << results[0].message;
}

TEST_F(StartupChecksTest, DisabledChainIsRejected) {
  config_.chain.enabled = false;

  EXPECT_THROW(checks(), std::invalid_argument);
}

}  // namespace
}  // namespace inferd::chain

// Transaction manager tests against a real anvil (chain id 31337).
#include "chain/tx_manager.hpp"

#include <set>

#include <gtest/gtest.h>

#include "chain/test_anvil.hpp"
#include "core/hex.hpp"
#include "core/infernet.hpp"

namespace inferd::chain {
namespace {

using nlohmann::json;

// Hand-assembled EVM code whose runtime reverts every call with the 4-byte selector of
// NodeRespondedAlready() (PUSH4 0x88a21e4f PUSH1 0xe0 SHL PUSH1 0 MSTORE PUSH1 4 PUSH1 0 REVERT);
// the 12-byte init code copies those 16 runtime bytes and returns them.
constexpr const char* kRevertingContract =
    "0x6010600c60003960106000f36388a21e4f60e01b60005260046000fd";

class TxManagerAnvilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testing::anvil_path())) {
      GTEST_SKIP() << "anvil not installed at " << testing::anvil_path();
    }
    anvil_ = std::make_unique<testing::AnvilProcess>(anvil_arguments());
    ASSERT_TRUE(anvil_->started());
    RpcClientOptions rpc_options;
    rpc_options.urls = {anvil_->url()};
    rpc_options.attempt_timeout = std::chrono::milliseconds(2000);
    rpc_options.initial_backoff = std::chrono::milliseconds(10);
    rpc_ = std::make_unique<RpcClient>(http_, rpc_options, metrics_);
    ASSERT_TRUE(testing::wait_until_responding(io_, *rpc_))
        << "anvil did not respond on " << anvil_->url();
  }

  // Interval mining (a block every second, holding every ready transaction) rather than
  // automining: an automining anvil mines on each arrival, so a transaction that arrives before
  // its predecessor's nonce can stay queued with no later arrival to mine it.
  virtual std::vector<std::string> anvil_arguments() const { return {"--block-time", "1"}; }

  std::unique_ptr<TxManager> make_manager(TxManagerOptions options = {}) {
    options.chain_id = 31337;
    if (options.journal == nullptr) {
      options.journal = &journal_;
    }
    options.poll_interval = std::chrono::milliseconds(50);
    options.receipt_timeout = std::chrono::milliseconds(30000);
    // anvil's first default account.
    auto key = core::PrivateKey::from_hex(
                   context_, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
                   .value();
    auto manager = std::make_unique<TxManager>(*rpc_, context_, key, options, errors_);
    testing::run(io_, [](TxManager& m) -> Awaitable<bool> {
      co_await m.start();
      co_return true;
    }(*manager));
    return manager;
  }

  core::U256 nonce_on_chain(const core::Address& address, const char* block = "latest") {
    const json count = testing::run(
        io_, rpc_->call("eth_getTransactionCount", {address.to_checksum_hex(), block}));
    return core::U256::from_hex(count.get<std::string>()).value();
  }

  asio::io_context io_;
  infra::HttpClient http_{io_.get_executor()};
  infra::metrics::Registry metrics_;
  core::Secp256k1Context context_;
  core::abi::ErrorTable errors_ = core::infernet::make_error_table();
  MemoryTxJournal journal_;
  std::unique_ptr<testing::AnvilProcess> anvil_;
  std::unique_ptr<RpcClient> rpc_;
};

Awaitable<std::vector<TxReceipt>> send_all(TxManager& manager, std::vector<TxRequest> requests) {
  // Start every send before awaiting any, so they run concurrently on the io_context.
  auto executor = co_await asio::this_coro::executor;
  std::vector<std::optional<TxReceipt>> results(requests.size());
  std::vector<std::exception_ptr> errors(requests.size());
  std::size_t finished = 0;
  asio::steady_timer done(executor, std::chrono::steady_clock::time_point::max());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    asio::co_spawn(executor, manager.send(requests[i]),
                   [&, i](std::exception_ptr error, TxReceipt receipt) {
                     errors[i] = error;
                     if (!error) {
                       results[i] = receipt;
                     }
                     if (++finished == requests.size()) {
                       done.cancel();
                     }
                   });
  }
  boost::system::error_code ignored;
  co_await done.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  std::vector<TxReceipt> receipts;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (errors[i]) {
      std::rethrow_exception(errors[i]);
    }
    receipts.push_back(*results[i]);
  }
  co_return receipts;
}

TEST_F(TxManagerAnvilTest, TwentyConcurrentSendsUseConsecutiveNonces) {
  auto manager = make_manager();
  const core::U256 first_nonce = nonce_on_chain(manager->address());
  std::vector<TxRequest> requests;
  for (int i = 0; i < 20; ++i) {
    TxRequest request;
    request.to = core::Address::from_hex("0x3535353535353535353535353535353535353535").value();
    request.value = core::U256(static_cast<std::uint64_t>(i + 1));
    request.purpose = "transfer " + std::to_string(i);
    requests.push_back(request);
  }

  const auto receipts = testing::run(io_, send_all(*manager, requests));

  std::set<std::uint64_t> nonces;
  for (const TxReceipt& receipt : receipts) {
    EXPECT_TRUE(receipt.success);
    EXPECT_EQ(receipt.bumps, 0);
    nonces.insert(receipt.nonce.low_u64());
  }
  ASSERT_EQ(nonces.size(), 20u) << "every send got its own nonce";
  EXPECT_EQ(*nonces.begin(), first_nonce.low_u64());
  EXPECT_EQ(*nonces.rbegin(), first_nonce.low_u64() + 19) << "the nonces are consecutive";
  EXPECT_EQ(nonce_on_chain(manager->address()), first_nonce + core::U256(20));
}

TEST_F(TxManagerAnvilTest, SimulationDecodesCustomErrorAndSendsNothing) {
  auto manager = make_manager();
  TxRequest deploy;
  deploy.data = core::from_hex(kRevertingContract).value();
  deploy.purpose = "deploy reverting contract";
  const TxReceipt deployed = testing::run(io_, manager->send(deploy));
  ASSERT_TRUE(deployed.success);
  ASSERT_TRUE(deployed.contract_address);

  const core::U256 nonce_before = nonce_on_chain(manager->address());
  TxRequest deliver;
  deliver.to = deployed.contract_address;
  deliver.data =
      core::infernet::encode_deliver_compute(1, 1, {}, core::Bytes{1}, {}, core::Address());
  deliver.purpose = "deliverCompute sub=1 interval=1";
  try {
    testing::run(io_, manager->send(deliver));
    FAIL() << "expected TxError";
  } catch (const TxError& error) {
    ASSERT_EQ(error.kind(), TxErrorKind::kSimulationReverted) << error.what();
    ASSERT_TRUE(error.revert);
    const auto reason = core::infernet::classify_revert(*error.revert);
    ASSERT_TRUE(reason);
    EXPECT_EQ(*reason, core::infernet::InfernetError::kNodeRespondedAlready);
    EXPECT_TRUE(core::infernet::is_benign_race(*reason));
    EXPECT_NE(std::string(error.what()).find("NodeRespondedAlready"), std::string::npos);
  }
  EXPECT_EQ(nonce_on_chain(manager->address()), nonce_before) << "nothing was broadcast";
}

TEST_F(TxManagerAnvilTest, SkippedSimulationUsesGasCap) {
  TxManagerOptions options;
  options.max_gas_limit = 200000;
  auto manager = make_manager(options);
  TxRequest deploy;
  deploy.data = core::from_hex(kRevertingContract).value();
  deploy.purpose = "deploy reverting contract";
  const TxReceipt deployed = testing::run(io_, manager->send(deploy));
  ASSERT_TRUE(deployed.contract_address);

  const core::U256 nonce_before = nonce_on_chain(manager->address());
  TxRequest deliver;
  deliver.to = deployed.contract_address;
  deliver.data =
      core::infernet::encode_deliver_compute(1, 1, {}, core::Bytes{1}, {}, core::Address());
  deliver.purpose = "deliverCompute sub=1 interval=1 allowed";
  deliver.skip_simulation = true;
  bool broadcast = false;
  deliver.on_broadcast = [&broadcast] { broadcast = true; };
  const TxReceipt receipt = testing::run(io_, manager->send(deliver));
  EXPECT_TRUE(broadcast);
  EXPECT_FALSE(receipt.success) << "mined, and reverted on-chain";
  EXPECT_EQ(nonce_on_chain(manager->address()), nonce_before + core::U256(1));
}

TEST_F(TxManagerAnvilTest, EstimateAboveGasCapIsRejected) {
  TxManagerOptions options;
  options.max_gas_limit = 30000;
  auto manager = make_manager(options);
  const core::U256 nonce_before = nonce_on_chain(manager->address());
  TxRequest deploy;
  deploy.data = core::from_hex(kRevertingContract).value();  // creation costs > 53,000 gas
  try {
    testing::run(io_, manager->send(deploy));
    FAIL() << "expected TxError";
  } catch (const TxError& error) {
    EXPECT_EQ(error.kind(), TxErrorKind::kGasCapExceeded) << error.what();
    EXPECT_NE(std::string(error.what()).find("max_gas_limit"), std::string::npos);
  }
  EXPECT_EQ(nonce_on_chain(manager->address()), nonce_before);
}

TEST_F(TxManagerAnvilTest, JournalledTransactionIsSentExactlyOnceAfterRestart) {
  const core::Address recipient =
      core::Address::from_hex("0x3535353535353535353535353535353535353535").value();
  const std::string purpose = "deliver sub=1 interval=1";
  core::U256 first_nonce;
  {
    // A previous process signed and journalled this transfer, then stopped before broadcasting.
    auto key = core::PrivateKey::from_hex(
                   context_, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
                   .value();
    const core::Address sender = core::derive_public_key(context_, key).address();
    first_nonce = nonce_on_chain(sender, "pending");
    core::Eip1559Transaction tx;
    tx.chain_id = 31337;
    tx.nonce = first_nonce;
    tx.max_priority_fee_per_gas = 1000000000;
    tx.max_fee_per_gas = core::U256(10000000000ULL);
    tx.gas_limit = 21000;
    tx.to = recipient;
    tx.value = 99;
    const core::SignedTransaction signed_tx = core::sign_transaction(context_, key, tx);
    testing::run(io_,
                 [](MemoryTxJournal& journal, JournalEntry entry) -> Awaitable<bool> {
                   co_await journal.record(std::move(entry));
                   co_return true;
                 }(journal_, JournalEntry{purpose, first_nonce, signed_tx.hash, signed_tx.raw,
                                          JournalEntry::Status::kPending}));
  }

  // The restarted manager re-broadcasts the journalled bytes in start(); anvil may mine them a
  // moment later, so the pending nonce shows the broadcast.
  auto manager = make_manager();
  EXPECT_EQ(nonce_on_chain(manager->address(), "pending"), first_nonce + core::U256(1));

  // Sending for the same purpose again watches the journalled transaction instead of signing.
  TxRequest again;
  again.to = recipient;
  again.value = 99;
  again.purpose = purpose;
  const TxReceipt receipt = testing::run(io_, manager->send(again));
  EXPECT_TRUE(receipt.success);
  EXPECT_EQ(receipt.nonce, first_nonce);
  EXPECT_EQ(nonce_on_chain(manager->address()), first_nonce + core::U256(1))
      << "exactly one transaction was sent for the purpose";
  const json balance =
      testing::run(io_, rpc_->call("eth_getBalance", {recipient.to_checksum_hex(), "latest"}));
  EXPECT_EQ(balance, "0x63");
}

// anvil without automining: blocks are mined only by evm_mine, so the test controls when a
// transaction could be included and what the base fee is.
class TxManagerStuckTest : public TxManagerAnvilTest {
 protected:
  std::vector<std::string> anvil_arguments() const override { return {"--no-mining"}; }
};

// Shared by the test and its miner coroutine, which may outlive the sending coroutine briefly.
struct MinerState {
  bool done = false;
  bool fee_raised = false;
};

// Mines a block every 100 ms once `address` has a pending transaction, after raising the next
// block's base fee far above what the manager offered; stops when `state->done` is set (bounded).
Awaitable<void> mine_with_high_base_fee(RpcClient& rpc, core::Address address,
                                        std::shared_ptr<MinerState> state) {
  auto executor = co_await asio::this_coro::executor;
  for (int i = 0; i < 300 && !state->done; ++i) {
    asio::steady_timer pause(executor, std::chrono::milliseconds(100));
    co_await pause.async_wait(asio::use_awaitable);
    if (state->done) {
      break;
    }
    if (!state->fee_raised) {
      json pending_params = json::array({address.to_checksum_hex(), std::string("pending")});
      json latest_params = json::array({address.to_checksum_hex(), std::string("latest")});
      const json pending = co_await rpc.call("eth_getTransactionCount", std::move(pending_params));
      const json latest = co_await rpc.call("eth_getTransactionCount", std::move(latest_params));
      if (pending == latest) {
        continue;
      }
      // 20 gwei, against the manager's 2 × 1 gwei base fee + tip.
      json fee_params = json::array({std::string("0x4a817c800")});
      co_await rpc.call("anvil_setNextBlockBaseFeePerGas", std::move(fee_params));
      state->fee_raised = true;
    }
    co_await rpc.call("evm_mine");
  }
}

Awaitable<TxReceipt> send_and_mine(TxManager& manager, RpcClient& rpc, TxRequest request) {
  auto state = std::make_shared<MinerState>();
  asio::co_spawn(co_await asio::this_coro::executor,
                 mine_with_high_base_fee(rpc, manager.address(), state), asio::detached);
  TxReceipt receipt = co_await manager.send(std::move(request));
  state->done = true;
  if (!state->fee_raised) {
    throw std::runtime_error("the transaction was mined before the test raised the base fee");
  }
  co_return receipt;
}

TEST_F(TxManagerStuckTest, StuckTransactionIsBumpedAndMined) {
  TxManagerOptions options;
  options.bump_after_blocks = 1;
  options.max_bumps = 20;
  auto manager = make_manager(options);
  TxRequest request;
  request.to = core::Address::from_hex("0x3535353535353535353535353535353535353535").value();
  request.value = 7;
  request.purpose = "stuck transfer";

  const TxReceipt receipt = testing::run(io_, send_and_mine(*manager, *rpc_, request));

  EXPECT_TRUE(receipt.success);
  EXPECT_GE(receipt.bumps, 1) << "the first version could not be mined under the raised base fee";
  EXPECT_EQ(nonce_on_chain(manager->address()), receipt.nonce + core::U256(1))
      << "exactly one version was mined";
}

}  // namespace
}  // namespace inferd::chain

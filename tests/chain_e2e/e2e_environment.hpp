// Shared state of the end-to-end test program and the fixtures its tests derive from. One
// anvil and one deployment serve every test; the shared node starts on first use.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "chain_harness.hpp"

namespace inferd::testing::e2e {

/// Roles of anvil's default accounts in these tests (the deployer and fee recipient are
/// Chain::kDeployerIndex and Chain::kFeeRecipientIndex).
inline constexpr int kNodeIndex = 1;         ///< the shared node's key
inline constexpr int kTesterIndex = 3;       ///< sends requests, owns the consumer wallets
inline constexpr int kSecondNodeIndex = 4;   ///< the second node of the redundancy test
inline constexpr int kRestartNodeIndex = 5;  ///< the node that is killed and restarted
inline constexpr int kWrongSignerIndex = 7;  ///< signs delegated subscriptions it may not sign

/// Wei in one ether.
inline const core::U256 kEther = core::U256(1000000000000000000ULL);

class E2eEnvironment : public ::testing::Environment {
 public:
  /// The instance registered with GoogleTest.
  static E2eEnvironment& instance();

  void SetUp() override;
  void TearDown() override;

  Chain& chain() { return *chain_; }
  /// The payment wallet (a WalletFactory wallet it owns) of anvil account `index`, created on
  /// first use.
  const std::string& node_wallet(int index);
  /// The echo image and the shared node's container names and ports.
  const EchoContainers& containers() const { return containers_; }
  const std::string& echo_image();

  /// The shared node (anvil #1, the three managed echo containers), started on first call.
  /// Returns nullptr and sets `error` when it could not start.
  ChainNode* shared_node(std::string& error);

 private:
  std::unique_ptr<Chain> chain_;
  std::map<int, std::string> node_wallets_;
  EchoContainers containers_;
  std::string echo_image_;
  std::unique_ptr<ChainNode> node_;
  std::string node_error_;
};

/// Tests that need only the chain.
class ChainTest : public ::testing::Test {
 protected:
  Chain& chain() { return E2eEnvironment::instance().chain(); }
  const Cast& cast() { return chain().cast(); }
  const Account& tester() { return anvil_account(kTesterIndex); }

  /// abi.encode(string value, string proof): the on-chain input of the echo container.
  std::string echo_input(const std::string& value, const std::string& proof = "");

  /// Sends GenericCallbackConsumer.requestCompute from the tester; returns the subscription id.
  std::uint32_t request_callback(const std::string& container, const std::string& input,
                                 std::uint16_t redundancy = 1,
                                 const std::string& payment_token = kZeroAddress,
                                 const std::string& payment_amount = "0",
                                 const std::string& wallet = kZeroAddress,
                                 const std::string& verifier = kZeroAddress);

  /// Waits (60 s) until `consumer` recorded a delivery; its `received` is false when none arrived.
  RecordedDelivery wait_for_delivery(const std::string& consumer, std::uint32_t subscription_id,
                                     std::uint32_t interval, std::uint16_t redundancy = 1);

  /// A new WalletFactory wallet of the tester holding `ether_wei` wei and allowing `spender`
  /// to spend `allowance` of `token`.
  std::string funded_consumer_wallet(const std::string& spender, const std::string& token,
                                     const core::U256& allowance,
                                     const core::U256& ether_wei = core::U256(0));
};

/// Tests that also need the shared node. They are skipped while this build's inferd rejects
/// chain.enabled, and print the node's log when they fail.
class NodeTest : public ChainTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  ChainNode& node() { return *node_; }
  const EchoContainers& containers() { return E2eEnvironment::instance().containers(); }
  const std::string& node_address() { return anvil_account(kNodeIndex).address; }
  const std::string& node_wallet() { return E2eEnvironment::instance().node_wallet(kNodeIndex); }

 private:
  ChainNode* node_ = nullptr;
};

}  // namespace inferd::testing::e2e

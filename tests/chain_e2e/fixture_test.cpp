// Self-tests of the end-to-end fixture that need no node: the deployment, the helpers that read
// and write the chain, and the signed delegated-subscription body.
#include <gtest/gtest.h>

#include "core/abi.hpp"
#include "core/hex.hpp"
#include "core/infernet.hpp"
#include "e2e_environment.hpp"

namespace inferd::testing::e2e {
namespace {

using nlohmann::json;

using Fixture = ChainTest;

TEST_F(Fixture, DeploymentListsCoreContracts) {
  for (const char* name : {"registry", "coordinator", "inbox", "reader", "fee", "walletFactory",
                           "callbackConsumer", "subscriptionConsumer", "delegatedConsumer",
                           "testToken", "testToken18", "atomicVerifier", "optimisticVerifier"}) {
    auto address = chain().address(name);
    EXPECT_NE(cast().run({"code", address}), "0x") << name << " at " << address << " has no code";
  }
  EXPECT_EQ(chain().deployment().at("chainId"), 31337);
  EXPECT_EQ(chain().deployment().at("feeBasisPoints"), Chain::kFeeBasisPoints);
  EXPECT_EQ(chain().deployment().at("deployer"), anvil_account(Chain::kDeployerIndex).address);
  EXPECT_EQ(chain().deployment().at("delegateSigner"),
            anvil_account(Chain::kDeployerIndex).address);
  auto coordinator = cast().call(chain().address("registry"), "COORDINATOR()(address)");
  EXPECT_EQ(coordinator.at(0), chain().address("coordinator"));
}

TEST_F(Fixture, CallbackRequestCreatesSubscription) {
  auto expected_id = chain().next_subscription_id();
  auto input = echo_input("hello");
  auto id = request_callback("echo", input);
  EXPECT_EQ(id, expected_id);
  EXPECT_EQ(chain().next_subscription_id(), expected_id + 1);

  auto subscription = cast().call(
      chain().address("coordinator"),
      "getSubscription(uint32)((address,uint32,uint32,uint32,uint16,bytes32,bool,address,uint256,"
      "address,address))",
      {std::to_string(id)});
  const auto& fields = subscription.at(0);
  EXPECT_EQ(fields.at(0), chain().address("callbackConsumer"));
  EXPECT_EQ(fields.at(2), 0);  // period
  EXPECT_EQ(fields.at(3), 1);  // frequency
  EXPECT_EQ(fields.at(4), 1);  // redundancy
  EXPECT_EQ(fields.at(5), core::to_hex(core::infernet::container_set_id({"echo"}).view()));
  auto stored_input = cast().call(chain().address("callbackConsumer"),
                                  "getContainerInputs(uint32,uint32,uint32,address)(bytes)",
                                  {std::to_string(id), "1", "0", kZeroAddress});
  EXPECT_EQ(stored_input.at(0), input);

  auto delivery = chain().delivery(chain().address("callbackConsumer"), id, 1);
  EXPECT_FALSE(delivery.received);
  EXPECT_EQ(chain().redundancy_count(id, 1), 0u);
}

TEST_F(Fixture, WalletHelperFundsAndApproves) {
  auto spender = chain().address("callbackConsumer");
  auto wallet = funded_consumer_wallet(spender, kZeroAddress, kEther, kEther * 2);
  EXPECT_EQ(cast().eth_balance(wallet), kEther * 2);
  auto allowance =
      cast().call(wallet, "allowance(address,address)(uint256)", {spender, kZeroAddress});
  EXPECT_EQ(json_to_u256(allowance.at(0)), kEther);
  auto valid =
      cast().call(chain().address("walletFactory"), "isValidWallet(address)(bool)", {wallet});
  EXPECT_EQ(valid.at(0), true);
}

// The signed body must create the subscription when the coordinator is called with it
// directly, so a node that rejects it is at fault, not the test.
TEST_F(Fixture, DelegatedSignatureAcceptedByCoordinator) {
  DelegatedRequest request;
  request.subscription.owner =
      core::Address::from_hex(chain().address("delegatedConsumer")).value();
  request.subscription.active_at = static_cast<std::uint32_t>(chain().latest_timestamp());
  request.subscription.frequency = 1;
  request.subscription.redundancy = 1;
  request.subscription.container_id = core::infernet::container_set_id({"echo"});
  request.containers = {"echo"};
  request.nonce = 4242;
  request.expiry = static_cast<std::uint32_t>(chain().latest_timestamp() + 600);
  request.data = {{"input", "00"}};
  auto text = request.body(chain(), anvil_account(Chain::kDeployerIndex).private_key);
  auto body = json::parse(text);

  const auto& signature = body.at("signature");
  const auto& sub = body.at("subscription");
  std::string sub_tuple = "(" + sub.at("owner").get<std::string>() + "," +
                          std::to_string(sub.at("active_at").get<int>()) + ",0,1,1," +
                          sub.at("containers").get<std::string>() + ",false," + kZeroAddress +
                          ",0," + kZeroAddress + "," + kZeroAddress + ")";
  // r and s are exact JSON integers: nlohmann keeps those above 2^64 only as doubles, so
  // re-read them from the text.
  auto digits_after = [&text](const std::string& key) {
    auto start = text.find("\"" + key + "\":") + key.size() + 3;
    auto end = text.find_first_not_of("0123456789", start);
    return text.substr(start, end - start);
  };
  auto r = core::U256::from_dec(digits_after("r")).value().to_word();
  auto s = core::U256::from_dec(digits_after("s")).value().to_word();
  auto expected_id = chain().next_subscription_id();
  cast().send(tester(), chain().address("coordinator"),
              "createSubscriptionDelegatee(uint32,uint32,(address,uint32,uint32,uint32,uint16,"
              "bytes32,bool,address,uint256,address,address),uint8,bytes32,bytes32)",
              {std::to_string(request.nonce), std::to_string(request.expiry), sub_tuple,
               std::to_string(signature.at("v").get<int>()), core::to_hex(r.view()),
               core::to_hex(s.view())});
  EXPECT_EQ(chain().delegated_subscription_id(chain().address("delegatedConsumer"), request.nonce),
            expected_id);
}

}  // namespace
}  // namespace inferd::testing::e2e

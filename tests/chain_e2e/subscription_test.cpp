// Subscriptions created on chain by consumer contracts: one-shot callbacks, recurring
// subscriptions, cancellation, redundancy across two nodes and a consumer that always reverts.
#include <gtest/gtest.h>

#include "core/abi.hpp"
#include "e2e_environment.hpp"

namespace inferd::testing::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using Subscriptions = NodeTest;

// "interval:outcome" of every delivery attempt in a GET /api/subscriptions/{id} report.
std::vector<std::string> outcomes(const json& report) {
  std::vector<std::string> result;
  for (const auto& delivery : report.value("deliveries", json::array()))
    result.push_back(delivery.value("interval", json()).dump() + ":" +
                     string_field(delivery, "outcome"));
  return result;
}

TEST_F(Subscriptions, CallbackDeliveredAndDecoded) {
  auto input = echo_input("hello");
  auto id = request_callback(containers().echo, input);

  auto delivery = wait_for_delivery(chain().address("callbackConsumer"), id, 1);
  ASSERT_TRUE(delivery.received) << "subscription " << id << " was not delivered within 60 s";
  EXPECT_EQ(delivery.node, node_address());
  EXPECT_EQ(decode_echo_output(delivery.output), "hello");
  EXPECT_EQ(decode_raw_input(delivery.input), input);
  EXPECT_EQ(delivery.proof, "");
  EXPECT_EQ(chain().redundancy_count(id, 1), 1u);

  auto report = node().wait_for_status(id, "completed");
  EXPECT_EQ(string_field(report, "status"), "completed") << report.dump();
  EXPECT_EQ(report.value("owner", ""), chain().address("callbackConsumer")) << report.dump();
  ASSERT_EQ(report.value("deliveries", json::array()).size(), 1u) << report.dump();
  const auto& attempt = report["deliveries"][0];
  EXPECT_EQ(attempt.value("interval", 0), 1);
  EXPECT_EQ(attempt.value("outcome", ""), "delivered");
  EXPECT_EQ(attempt.value("tx_hash", "").size(), 66u) << attempt.dump();
}

TEST_F(Subscriptions, RecurringFollowsChangedInput) {
  const std::string consumer = chain().address("subscriptionConsumer");
  // The id is known before creation, so interval 1's input is in place before it opens.
  auto id = chain().next_subscription_id();
  cast().send(tester(), consumer, "setInputs(uint32,bytes)",
              {std::to_string(id), echo_input("first")});
  auto receipt = cast().send(
      tester(), consumer,
      "createSubscription(string,uint32,uint32,uint16,bool,address,uint256,address,address)",
      {containers().echo, "2", "4", "1", "false", kZeroAddress, "0", kZeroAddress, kZeroAddress});
  ASSERT_EQ(created_subscription_id(receipt), id);

  auto first = wait_for_delivery(consumer, id, 1);
  ASSERT_TRUE(first.received) << "interval 1 of subscription " << id << " was not delivered";
  EXPECT_EQ(decode_echo_output(first.output), "first");
  // Interval 2 opens 4 s after interval 1, and interval 1 was delivered inside it.
  cast().send(tester(), consumer, "setInputs(uint32,bytes)",
              {std::to_string(id), echo_input("second")});

  auto second = wait_for_delivery(consumer, id, 2);
  ASSERT_TRUE(second.received) << "interval 2 of subscription " << id << " was not delivered";
  EXPECT_EQ(decode_echo_output(second.output), "second");
  EXPECT_EQ(second.node, node_address());
  EXPECT_FALSE(chain().delivery(consumer, id, 3).received);

  auto report = node().wait_for_status(id, "completed");
  EXPECT_EQ(string_field(report, "status"), "completed") << report.dump();
  EXPECT_EQ(outcomes(report), (std::vector<std::string>{"1:delivered", "2:delivered"}))
      << report.dump();
}

TEST_F(Subscriptions, CancelledSubscriptionNotServed) {
  const std::string consumer = chain().address("subscriptionConsumer");
  const std::uint32_t period = 4;
  auto id = chain().next_subscription_id();
  cast().send(tester(), consumer, "setInputs(uint32,bytes)",
              {std::to_string(id), echo_input("until cancelled")});
  auto receipt = cast().send(
      tester(), consumer,
      "createSubscription(string,uint32,uint32,uint16,bool,address,uint256,address,address)",
      {containers().echo, "3", std::to_string(period), "1", "false", kZeroAddress, "0",
       kZeroAddress, kZeroAddress});
  ASSERT_EQ(created_subscription_id(receipt), id);
  auto active_at = chain().receipt_timestamp(receipt) + period;

  ASSERT_TRUE(wait_for_delivery(consumer, id, 1).received)
      << "interval 1 of subscription " << id << " was not delivered";
  cast().send(tester(), consumer, "cancelSubscription(uint32)", {std::to_string(id)});

  auto report = node().wait_for_status(id, "cancelled");
  EXPECT_EQ(string_field(report, "status"), "cancelled") << report.dump();
  // Past the end of interval 2, the node must not have attempted it.
  ASSERT_TRUE(
      wait_until([&] { return chain().latest_timestamp() >= active_at + 2 * period; }, 30s, 500ms));
  EXPECT_FALSE(chain().delivery(consumer, id, 2).received);
  report = *node().subscription(id);
  EXPECT_EQ(string_field(report, "status"), "cancelled") << report.dump();
  EXPECT_EQ(outcomes(report), std::vector<std::string>{"1:delivered"}) << report.dump();
}

TEST_F(Subscriptions, RedundancyServedByTwoNodes) {
  // The second node calls the shared node's echo container, under the same container id.
  auto& environment = E2eEnvironment::instance();
  json echo{{"id", containers().echo},
            {"url", "http://127.0.0.1:" + std::to_string(containers().echo_port)},
            {"accepted_payments", {{kZeroAddress, 0}}}};
  ChainNode second(node_config(chain(), anvil_account(kSecondNodeIndex),
                               environment.node_wallet(kSecondNodeIndex), json::array({echo}),
                               false));
  ASSERT_NO_THROW(second.start());

  auto id = request_callback(containers().echo, echo_input("twice"), 2);
  const std::string consumer = chain().address("callbackConsumer");
  auto first = wait_for_delivery(consumer, id, 1, 1);
  auto other = wait_for_delivery(consumer, id, 1, 2);
  ASSERT_TRUE(first.received) << second.log_tail();
  ASSERT_TRUE(other.received) << second.log_tail();
  std::set<std::string> nodes{first.node, other.node};
  EXPECT_EQ(nodes,
            (std::set<std::string>{node_address(), anvil_account(kSecondNodeIndex).address}));
  EXPECT_EQ(decode_echo_output(first.output), "twice");
  EXPECT_EQ(decode_echo_output(other.output), "twice");
  EXPECT_EQ(chain().redundancy_count(id, 1), 2u);

  auto report = second.wait_for_status(id, "completed");
  EXPECT_EQ(string_field(report, "status"), "completed") << report.dump() << second.log_tail();
  second.stop();
}

// The allowlist consumer admits only the deployer, so every delivery by this node reverts
// with NodeNotAllowed, in simulation and on chain alike.
TEST_F(Subscriptions, AlwaysRevertingConsumerStopped) {
  const std::string consumer = chain().address("allowlistConsumer");
  auto id = chain().next_subscription_id();
  cast().send(tester(), consumer, "setInputs(uint32,bytes)",
              {std::to_string(id), echo_input("never lands")});
  auto receipt = cast().send(
      tester(), consumer,
      "createSubscription(string,uint32,uint32,uint16,bool,address,uint256,address,address)",
      {containers().echo, "1", "0", "1", "false", kZeroAddress, "0", kZeroAddress, kZeroAddress});
  ASSERT_EQ(created_subscription_id(receipt), id);

  auto report = node().wait_for_status(id, "stopped", 120s);
  EXPECT_EQ(string_field(report, "status"), "stopped") << report.dump();
  // The reason reads "subscription has exceeded the maximum number of attempts (3): ...".
  EXPECT_NE(string_field(report, "reason").find("maximum number of attempts"), std::string::npos)
      << report.dump();
  EXPECT_EQ(chain().redundancy_count(id, 1), 0u);
  EXPECT_FALSE(chain().delivery(consumer, id, 1).received);
}

}  // namespace
}  // namespace inferd::testing::e2e

// Delegated subscriptions: EIP-712 signed subscriptions posted to POST /api/jobs, which the
// node creates and delivers on chain with deliverComputeDelegatee.
#include <gtest/gtest.h>

#include "core/hex.hpp"
#include "core/infernet.hpp"
#include "e2e_environment.hpp"

namespace inferd::testing::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class Delegated : public NodeTest {
 protected:
  /// A one-container request for the delegated consumer with a fresh nonce, signed later by the key
  /// passed to body(); `input` is the echo input the node passes in `data`.
  DelegatedRequest make_request(std::uint32_t active_at, std::uint32_t period,
                                std::uint32_t frequency, std::uint32_t expiry,
                                const std::string& input) {
    static std::uint32_t next_nonce = 1;
    DelegatedRequest request;
    request.subscription.owner = core::Address::from_hex(consumer()).value();
    request.subscription.active_at = active_at;
    request.subscription.period = period;
    request.subscription.frequency = frequency;
    request.subscription.redundancy = 1;
    request.subscription.container_id = core::infernet::container_set_id({containers().echo});
    request.containers = {containers().echo};
    request.nonce = next_nonce++;
    request.expiry = expiry;
    // Off-chain inputs of echo are hex without 0x, as the reference's clients send them.
    request.data = {{"input", std::string(core::strip_hex_prefix(input))}};
    return request;
  }

  std::string consumer() { return chain().address("delegatedConsumer"); }
  const std::string& signer_key() { return anvil_account(Chain::kDeployerIndex).private_key; }
  std::uint32_t now() { return static_cast<std::uint32_t>(chain().latest_timestamp()); }

  /// Waits (60 s) until the coordinator created the subscription of `request`; 0 when it did
  /// not.
  std::uint32_t wait_for_creation(const DelegatedRequest& request) {
    std::uint32_t id = 0;
    wait_until([&] {
      id = chain().delegated_subscription_id(consumer(), request.nonce);
      return id != 0;
    });
    return id;
  }
};

TEST_F(Delegated, OneShotCreatedAndDelivered) {
  auto request = make_request(now(), 0, 1, now() + 600, echo_input("delegated"));
  auto response = node().post("/api/jobs", request.body(chain(), signer_key()));
  ASSERT_EQ(response.status_code, 200u) << response.body;

  auto id = wait_for_creation(request);
  ASSERT_NE(id, 0u) << "nonce " << request.nonce << " was not created on chain";
  auto delivery = wait_for_delivery(consumer(), id, 1);
  ASSERT_TRUE(delivery.received);
  EXPECT_EQ(delivery.node, node_address());
  EXPECT_EQ(decode_echo_output(delivery.output), "delegated");
  EXPECT_EQ(chain().redundancy_count(id, 1), 1u);

  auto report = node().wait_for_status(id, "completed");
  EXPECT_EQ(string_field(report, "status"), "completed") << report.dump();
}

// Interval 1 runs on the posted data; interval 2 goes through the normal path and reads the
// consumer's getContainerInputs.
TEST_F(Delegated, RecurringDeliversBothIntervals) {
  auto predicted_id = chain().next_subscription_id();
  cast().send(tester(), consumer(), "setInputs(uint32,bytes)",
              {std::to_string(predicted_id), echo_input("delegated-2")});
  auto request = make_request(now(), 5, 2, now() + 600, echo_input("delegated-1"));
  auto response = node().post("/api/jobs", request.body(chain(), signer_key()));
  ASSERT_EQ(response.status_code, 200u) << response.body;

  auto id = wait_for_creation(request);
  ASSERT_EQ(id, predicted_id) << "another subscription was created meanwhile";
  auto first = wait_for_delivery(consumer(), id, 1);
  ASSERT_TRUE(first.received);
  EXPECT_EQ(decode_echo_output(first.output), "delegated-1");
  auto second = wait_for_delivery(consumer(), id, 2);
  ASSERT_TRUE(second.received);
  EXPECT_EQ(decode_echo_output(second.output), "delegated-2");

  auto report = node().wait_for_status(id, "completed");
  EXPECT_EQ(string_field(report, "status"), "completed") << report.dump();
}

TEST_F(Delegated, NotYetActiveDeliveredOnceActive) {
  auto active_at = now() + 6;
  auto request = make_request(active_at, 0, 1, active_at + 600, echo_input("later"));
  auto response = node().post("/api/jobs", request.body(chain(), signer_key()));
  ASSERT_EQ(response.status_code, 200u) << response.body;

  auto id = wait_for_creation(request);
  ASSERT_NE(id, 0u) << "nonce " << request.nonce << " was not created on chain";
  auto delivery = wait_for_delivery(consumer(), id, 1);
  ASSERT_TRUE(delivery.received);
  EXPECT_EQ(decode_echo_output(delivery.output), "later");
}

TEST_F(Delegated, ExpiredSignatureRejected) {
  auto expiry = now() - 1;
  auto request = make_request(now(), 0, 1, expiry, echo_input("too late"));
  auto response = node().post("/api/jobs", request.body(chain(), signer_key()));
  EXPECT_GE(response.status_code, 400u) << response.body;
  EXPECT_LT(response.status_code, 500u) << response.body;
  EXPECT_TRUE(response.is_json()) << response.body;
  EXPECT_EQ(chain().delegated_subscription_id(consumer(), request.nonce), 0u);
}

TEST_F(Delegated, WrongSignerRejected) {
  auto request = make_request(now(), 0, 1, now() + 600, echo_input("forged"));
  auto body = request.body(chain(), anvil_account(kWrongSignerIndex).private_key);
  auto response = node().post("/api/jobs", body);
  EXPECT_GE(response.status_code, 400u) << response.body;
  EXPECT_LT(response.status_code, 500u) << response.body;
  EXPECT_TRUE(response.is_json()) << response.body;
  EXPECT_EQ(chain().delegated_subscription_id(consumer(), request.nonce), 0u);
}

}  // namespace
}  // namespace inferd::testing::e2e

// A node killed with SIGKILL while its delivery transaction waits in the mempool, then
// restarted on the same data directory: the interval is delivered exactly once.
//
// Runs last in the program (its source is listed last) because it leaves anvil mining one
// block per second without automine.
#include <gtest/gtest.h>

#include "e2e_environment.hpp"

namespace inferd::testing::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using Restart = NodeTest;

// Pauses anvil's mining for its lifetime or until resume().
class MiningPause {
 public:
  explicit MiningPause(const Chain& chain) : chain_(chain) { chain_.pause_mining(); }
  ~MiningPause() { resume(); }
  MiningPause(const MiningPause&) = delete;
  MiningPause& operator=(const MiningPause&) = delete;

  void resume() {
    if (paused_)
      chain_.resume_mining();
    paused_ = false;
  }

 private:
  const Chain& chain_;
  bool paused_ = true;
};

std::uint64_t transaction_count(const Cast& cast, const std::string& address,
                                const std::string& block) {
  return json_to_u256(cast.rpc("eth_getTransactionCount", {address, block})).low_u64();
}

TEST_F(Restart, KilledDuringDeliveryDeliversOnce) {
  // This node serves only its own container id, so the shared node leaves the request alone;
  // it calls the shared node's echo container.
  const std::string container = containers().echo + "_restart";
  const Account& account = anvil_account(kRestartNodeIndex);
  json echo{{"id", container},
            {"url", "http://127.0.0.1:" + std::to_string(containers().echo_port)}};
  ChainNode restarted(node_config(chain(), account,
                                  E2eEnvironment::instance().node_wallet(kRestartNodeIndex),
                                  json::array({echo}), false));
  ASSERT_NO_THROW(restarted.start());
  const std::string consumer = chain().address("callbackConsumer");
  auto deliveries_before = json_to_u256(cast().call(consumer, "deliveryCount()(uint256)").at(0));
  auto nonce_before = transaction_count(cast(), account.address, "latest");

  // With mining paused, the request is mined by hand (plus one block for trail_head_blocks)
  // and the node's delivery then waits in the mempool.
  MiningPause pause(chain());
  auto id = chain().next_subscription_id();
  cast().send_async(
      tester(), consumer, "requestCompute(string,bytes,uint16,address,uint256,address,address)",
      {container, echo_input("once"), "1", kZeroAddress, "0", kZeroAddress, kZeroAddress});
  chain().mine();
  chain().mine();
  ASSERT_EQ(chain().next_subscription_id(), id + 1);

  bool in_flight = wait_until(
      [&] { return transaction_count(cast(), account.address, "pending") > nonce_before; });
  ASSERT_TRUE(in_flight) << "the node sent no delivery within 60 s\n" << restarted.log_tail();
  restarted.kill_hard();
  ASSERT_FALSE(restarted.running());

  ASSERT_NO_THROW(restarted.start());
  pause.resume();

  auto delivery = wait_for_delivery(consumer, id, 1);
  ASSERT_TRUE(delivery.received) << restarted.log_tail();
  EXPECT_EQ(delivery.node, account.address);
  EXPECT_EQ(decode_echo_output(delivery.output), "once");

  auto report = restarted.wait_for_status(id, "completed");
  EXPECT_EQ(string_field(report, "status"), "completed") << report.dump();
  EXPECT_EQ(chain().redundancy_count(id, 1), 1u);
  EXPECT_EQ(json_to_u256(cast().call(consumer, "deliveryCount()(uint256)").at(0)),
            deliveries_before + core::U256(1));
  // One transaction in all: the restarted node watched or re-sent the journaled one instead of
  // signing a second delivery.
  EXPECT_EQ(transaction_count(cast(), account.address, "latest"), nonce_before + 1)
      << restarted.log_tail();
  restarted.stop();
}

}  // namespace
}  // namespace inferd::testing::e2e

// An RPC outage of a minute while a delivery waits in the mempool: anvil is stopped with
// SIGSTOP, so every call of the node hangs until its deadline, then continued. The interval is
// delivered exactly once and the outage is not counted as a failed attempt.
//
// Listed after restart_test.cpp: it also leaves anvil mining without automine.
#include <gtest/gtest.h>
#include <signal.h>

#include <thread>

#include "e2e_environment.hpp"

namespace inferd::testing::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

using Outage = NodeTest;

std::uint64_t transaction_count(const Cast& cast, const std::string& address,
                                const std::string& block) {
  return json_to_u256(cast.rpc("eth_getTransactionCount", {address, block})).low_u64();
}

// Continues anvil if the test stops early with anvil still stopped.
class StoppedProcess {
 public:
  explicit StoppedProcess(pid_t pid) : pid_(pid) { ::kill(pid_, SIGSTOP); }
  ~StoppedProcess() { resume(); }
  StoppedProcess(const StoppedProcess&) = delete;
  StoppedProcess& operator=(const StoppedProcess&) = delete;
  void resume() {
    if (stopped_)
      ::kill(pid_, SIGCONT);
    stopped_ = false;
  }

 private:
  pid_t pid_;
  bool stopped_ = true;
};

TEST_F(Outage, MinuteOutageDeliversOnce) {
  const std::string container = containers().echo + "_outage";
  const Account& account = anvil_account(kRestartNodeIndex);
  json echo{{"id", container},
            {"url", "http://127.0.0.1:" + std::to_string(containers().echo_port)}};
  ChainNode node(node_config(chain(), account,
                             E2eEnvironment::instance().node_wallet(kRestartNodeIndex),
                             json::array({echo}), false));
  ASSERT_NO_THROW(node.start());
  const std::string consumer = chain().address("callbackConsumer");
  const auto nonce_before = transaction_count(cast(), account.address, "latest");

  chain().pause_mining();
  auto id = chain().next_subscription_id();
  cast().send_async(
      tester(), consumer, "requestCompute(string,bytes,uint16,address,uint256,address,address)",
      {container, echo_input("outage"), "1", kZeroAddress, "0", kZeroAddress, kZeroAddress});
  chain().mine();
  chain().mine();
  bool in_flight = wait_until(
      [&] { return transaction_count(cast(), account.address, "pending") > nonce_before; });
  ASSERT_TRUE(in_flight) << "the node sent no delivery within 60 s\n" << node.log_tail();

  {
    StoppedProcess outage(chain().anvil_pid());
    std::this_thread::sleep_for(60s);
  }
  ASSERT_TRUE(node.running()) << "the node exited during the outage\n" << node.log_tail();
  chain().resume_mining();

  auto delivery = wait_for_delivery(consumer, id, 1);
  ASSERT_TRUE(delivery.received) << node.log_tail();
  EXPECT_EQ(delivery.node, account.address);
  EXPECT_EQ(decode_echo_output(delivery.output), "outage");
  auto report = node.wait_for_status(id, "completed");
  EXPECT_EQ(string_field(report, "status"), "completed") << report.dump();
  ASSERT_EQ(report.value("deliveries", json::array()).size(), 1u) << report.dump();
  EXPECT_EQ(report["deliveries"][0].value("attempts", 0), 1) << report.dump();
  EXPECT_EQ(chain().redundancy_count(id, 1), 1u);
  EXPECT_EQ(transaction_count(cast(), account.address, "latest"), nonce_before + 1)
      << "one delivery transaction in all\n"
      << node.log_tail();
  node.stop();
}

}  // namespace
}  // namespace inferd::testing::e2e

// The quickstart's hello flow on chain: HelloConsumer.sayHello, served by a node whose
// "hello-world" container is the hello service, next to the same container's off-chain job.
#include <gtest/gtest.h>

#include "core/abi.hpp"
#include "core/hex.hpp"
#include "e2e_environment.hpp"

namespace inferd::testing::e2e {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int kHelloNodeIndex = 8;

using Quickstart = ChainTest;

TEST_F(Quickstart, HelloDeliveredOnChain) {
  // HelloConsumer requests the container id "hello-world". This test serves that id from a
  // service process, not a managed container, so that no Podman container name can collide.
  ServiceProcess hello(hello_service_binary(), {});
  json container{{"id", "hello-world"},
                 {"url", "http://127.0.0.1:" + std::to_string(hello.port())},
                 {"description", "hello service"}};
  ChainNode node(node_config(chain(), anvil_account(kHelloNodeIndex),
                             E2eEnvironment::instance().node_wallet(kHelloNodeIndex),
                             json::array({container}), false));
  ASSERT_NO_THROW(node.start());

  const std::string consumer = chain().address("helloConsumer");
  auto receipt = cast().send(tester(), consumer, "sayHello(string)", {"e2e"});
  auto id = created_subscription_id(receipt);
  ASSERT_TRUE(id.has_value()) << receipt.dump();

  std::string output;
  bool delivered = wait_until([&] {
    output = cast()
                 .call(consumer, "outputs(uint32)(bytes)", {std::to_string(*id)})
                 .at(0)
                 .get<std::string>();
    return output != "0x";
  });
  ASSERT_TRUE(delivered) << node.log_tail();
  auto bytes = core::from_hex(output).value();
  auto decoded = core::abi::decode("(string)", bytes);
  ASSERT_TRUE(decoded) << "HelloConsumer's output is not abi.encode(string): " << output;
  const std::string& on_chain = (*decoded)[0].as_string();
  EXPECT_NE(on_chain.find("hello, world!, your input was:"), std::string::npos) << on_chain;
  // The node sends the envelope's keys in the reference node's order, which hello repeats.
  EXPECT_NE(on_chain.find("{'source': 0, 'destination': 0, 'data': '"), std::string::npos)
      << on_chain;
  EXPECT_NE(on_chain.find("'requires_proof': False}"), std::string::npos) << on_chain;

  auto report = node.wait_for_status(*id, "completed");
  EXPECT_EQ(string_field(report, "status"), "completed") << report.dump();

  // The same container off-chain returns the greeting as JSON.
  auto response =
      node.post("/api/jobs", R"({"containers":["hello-world"],"data":{"input":"e2e"}})");
  ASSERT_EQ(response.status_code, 200u) << response.body;
  auto job_id = json::parse(response.body).at("id").get<std::string>();
  json job;
  ASSERT_TRUE(wait_until([&] {
    auto jobs = json::parse(node.get("/api/jobs?id=" + job_id).body);
    if (jobs.empty() || jobs[0].value("status", "") == "running")
      return false;
    job = jobs[0];
    return true;
  }));
  EXPECT_EQ(job.value("status", ""), "success") << job.dump();
  auto off_chain = job["result"]["output"].value("output", "");
  EXPECT_EQ(off_chain,
            "hello, world!, your input was: {'source': 1, 'destination': 1, "
            "'data': {'input': 'e2e'}, 'requires_proof': False}")
      << job.dump();
  node.stop();
}

}  // namespace
}  // namespace inferd::testing::e2e

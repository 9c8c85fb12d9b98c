#include "e2e_environment.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace inferd::testing::e2e {
namespace {

using nlohmann::json;

// This build's inferd exits with this message while it has no chain pipeline.
const std::string kChainUnsupported = "is not supported by this build";

E2eEnvironment* const kEnvironment =
    static_cast<E2eEnvironment*>(::testing::AddGlobalTestEnvironment(new E2eEnvironment));

}  // namespace

E2eEnvironment& E2eEnvironment::instance() {
  return *kEnvironment;
}

void E2eEnvironment::SetUp() {
  chain_ = std::make_unique<Chain>();
  std::string suffix = "_e2e" + std::to_string(::getpid());
  containers_.echo = "echo" + suffix;
  containers_.with_payment_requirements = "echo_with_payment_requirements" + suffix;
  containers_.with_proofs = "echo_with_proofs" + suffix;
  containers_.echo_port = free_port();
}

void E2eEnvironment::TearDown() {
  if (node_ && node_->running())
    node_->stop();
  node_.reset();
  if (!echo_image_.empty()) {
    std::string command = "podman rm -f " + containers_.echo + " " +
                          containers_.with_payment_requirements + " " + containers_.with_proofs +
                          " >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0)
      std::cerr << "could not remove the echo containers: " << command << "\n";
  }
  chain_.reset();
}

const std::string& E2eEnvironment::node_wallet(int index) {
  auto found = node_wallets_.find(index);
  if (found != node_wallets_.end())
    return found->second;
  auto wallet =
      chain_->create_wallet(anvil_account(Chain::kDeployerIndex), anvil_account(index).address);
  return node_wallets_.emplace(index, wallet).first->second;
}

const std::string& E2eEnvironment::echo_image() {
  if (echo_image_.empty())
    echo_image_ = prepare_echo_image();
  return echo_image_;
}

ChainNode* E2eEnvironment::shared_node(std::string& error) {
  if (node_ && node_->running())
    return node_.get();
  if (!node_error_.empty()) {
    error = node_error_;
    return nullptr;
  }
  try {
    auto containers = echo_container_configs(*chain_, echo_image(), containers_);
    node_ = std::make_unique<ChainNode>(
        node_config(*chain_, anvil_account(kNodeIndex), node_wallet(kNodeIndex), containers, true));
    node_->start();
    return node_.get();
  } catch (const std::exception& e) {
    node_error_ = e.what();
    error = node_error_;
    return nullptr;
  }
}

// ---- Fixtures ----------------------------------------------------------------------------------

std::string ChainTest::echo_input(const std::string& value, const std::string& proof) {
  return cast().abi_encode("f(string,string)", {value, proof});
}

std::uint32_t ChainTest::request_callback(const std::string& container, const std::string& input,
                                          std::uint16_t redundancy,
                                          const std::string& payment_token,
                                          const std::string& payment_amount,
                                          const std::string& wallet, const std::string& verifier) {
  auto receipt = cast().send(tester(), chain().address("callbackConsumer"),
                             "requestCompute(string,bytes,uint16,address,uint256,address,address)",
                             {container, input, std::to_string(redundancy), payment_token,
                              payment_amount, wallet, verifier});
  auto id = created_subscription_id(receipt);
  if (!id)
    throw std::runtime_error("requestCompute created no subscription: " + receipt.dump());
  return *id;
}

RecordedDelivery ChainTest::wait_for_delivery(const std::string& consumer,
                                              std::uint32_t subscription_id, std::uint32_t interval,
                                              std::uint16_t redundancy) {
  RecordedDelivery delivery;
  wait_until(
      [&] {
        delivery = chain().delivery(consumer, subscription_id, interval, redundancy);
        return delivery.received;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(250));
  return delivery;
}

std::string ChainTest::funded_consumer_wallet(const std::string& spender, const std::string& token,
                                              const core::U256& allowance,
                                              const core::U256& ether_wei) {
  auto wallet = chain().create_wallet(tester(), tester().address);
  if (!ether_wei.is_zero())
    cast().send(tester(), wallet, "", {}, ether_wei.to_dec());
  cast().send(tester(), wallet, "approve(address,address,uint256)",
              {spender, token, allowance.to_dec()});
  return wallet;
}

void NodeTest::SetUp() {
  std::string error;
  node_ = E2eEnvironment::instance().shared_node(error);
  if (node_ == nullptr) {
    if (error.find(kChainUnsupported) != std::string::npos)
      GTEST_SKIP() << "this build's inferd does not support chain.enabled yet";
    FAIL() << "the shared node did not start: " << error;
  }
}

void NodeTest::TearDown() {
  if (HasFailure() && node_ != nullptr)
    std::cout << node_->log_tail() << std::flush;
}

}  // namespace inferd::testing::e2e

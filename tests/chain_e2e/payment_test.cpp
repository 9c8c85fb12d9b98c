// Paid subscriptions and proofs: exact wallet balances after ETH and ERC-20 payments, the
// admission rules that skip a subscription (token, minimum, proofs) and both verifier kinds.
#include <gtest/gtest.h>

#include "core/abi.hpp"
#include "e2e_environment.hpp"

namespace inferd::testing::e2e {
namespace {

using core::U256;
using nlohmann::json;

const U256 kBasisPoints = U256(10000);

class Payments : public NodeTest {
 protected:
  const std::string& fee_recipient() { return anvil_account(Chain::kFeeRecipientIndex).address; }
  std::string callback_consumer() { return chain().address("callbackConsumer"); }

  /// Computes the protocol's share of a payment: the fee counted twice.
  U256 protocol_cut(const U256& payment) {
    return payment * U256(2 * Chain::kFeeBasisPoints) / kBasisPoints;
  }

  /// Asserts that the node skipped subscription `id` with a reason containing `reason_part`
  /// and that nothing was delivered.
  void expect_skipped(std::uint32_t id, const std::string& reason_part) {
    auto report = node().wait_for_status(id, "skipped");
    EXPECT_EQ(string_field(report, "status"), "skipped") << report.dump();
    EXPECT_NE(string_field(report, "reason").find(reason_part), std::string::npos)
        << "expected a reason containing \"" << reason_part << "\": " << report.dump();
    EXPECT_FALSE(chain().delivery(callback_consumer(), id, 1).received);
  }
};

TEST_F(Payments, EthPaymentExactBalances) {
  const U256 payment = kEther / U256(10);
  auto wallet = funded_consumer_wallet(callback_consumer(), kZeroAddress, payment, kEther);
  auto wallet_before = cast().eth_balance(wallet);
  auto recipient_before = cast().eth_balance(fee_recipient());
  auto node_before = cast().eth_balance(node_wallet());

  auto id = request_callback(containers().echo, echo_input("paid in ETH"), 1, kZeroAddress,
                             payment.to_dec(), wallet);
  auto delivery = wait_for_delivery(callback_consumer(), id, 1);
  ASSERT_TRUE(delivery.received);
  EXPECT_EQ(decode_echo_output(delivery.output), "paid in ETH");

  auto protocol = protocol_cut(payment);
  EXPECT_EQ(cast().eth_balance(wallet), wallet_before - payment);
  EXPECT_EQ(cast().eth_balance(fee_recipient()), recipient_before + protocol);
  EXPECT_EQ(cast().eth_balance(node_wallet()), node_before + payment - protocol);
}

TEST_F(Payments, TokenPaymentExactBalances) {
  const std::string token = chain().address("testToken");
  const U256 payment = U256(50000000);  // 50 tokens of 6 decimals
  auto wallet = funded_consumer_wallet(callback_consumer(), token, payment);
  cast().send(tester(), token, "mint(address,uint256)", {wallet, "100000000"});
  auto recipient_before = cast().token_balance(token, fee_recipient());
  auto node_before = cast().token_balance(token, node_wallet());

  auto id = request_callback(containers().echo, echo_input("paid in tokens"), 1, token,
                             payment.to_dec(), wallet);
  auto delivery = wait_for_delivery(callback_consumer(), id, 1);
  ASSERT_TRUE(delivery.received);
  EXPECT_EQ(decode_echo_output(delivery.output), "paid in tokens");

  // 511 bp twice of 50e6: 5,110,000 to the protocol, 44,890,000 to the node.
  EXPECT_EQ(cast().token_balance(token, wallet), U256(50000000));
  EXPECT_EQ(cast().token_balance(token, fee_recipient()), recipient_before + U256(5110000));
  EXPECT_EQ(cast().token_balance(token, node_wallet()), node_before + U256(44890000));
}

TEST_F(Payments, UnacceptedTokenSkipped) {
  const std::string token = chain().address("testToken18");
  auto wallet = funded_consumer_wallet(callback_consumer(), token, kEther);
  cast().send(tester(), token, "mint(address,uint256)", {wallet, kEther.to_dec()});
  auto id = request_callback(containers().echo, echo_input("unaccepted"), 1, token, kEther.to_dec(),
                             wallet);
  expect_skipped(id, "not accepted");
}

TEST_F(Payments, BidBelowMinimumSkipped) {
  const U256 bid = kEther / U256(2);  // the container wants 1 ETH
  auto wallet = funded_consumer_wallet(callback_consumer(), kZeroAddress, bid, kEther);
  auto id = request_callback(containers().with_payment_requirements, echo_input("too cheap"), 1,
                             kZeroAddress, bid.to_dec(), wallet);
  expect_skipped(id, "below minimum");
}

TEST_F(Payments, ProofFromNonProofContainerSkipped) {
  auto id = request_callback(containers().echo, echo_input("prove it", "proof"), 1, kZeroAddress,
                             "0", kZeroAddress, chain().address("atomicVerifier"));
  expect_skipped(id, "does not generate proof");
}

class Proofs : public Payments {
 protected:
  const U256 payment_ = kEther;

  /// Sets `verifier`'s ETH fee, funds the node's wallet for its collateral and a new consumer
  /// wallet for the payment; returns the consumer wallet.
  std::string prepare(const std::string& verifier, const U256& verifier_fee) {
    cast().send(tester(), verifier, "updateFee(address,uint256)",
                {kZeroAddress, verifier_fee.to_dec()});
    if (cast().eth_balance(node_wallet()) < payment_ * U256(2))
      cast().send(tester(), node_wallet(), "", {}, (payment_ * U256(2)).to_dec());
    return funded_consumer_wallet(callback_consumer(), kZeroAddress, payment_, payment_ * U256(2));
  }

  std::string verifier_wallet(const std::string& verifier) {
    return cast().call(verifier, "getWallet()(address)").at(0).get<std::string>();
  }

  std::uint32_t request_with_proof(const std::string& value, const std::string& wallet,
                                   const std::string& verifier) {
    return request_callback(containers().with_proofs, echo_input(value, "trust me"), 1,
                            kZeroAddress, payment_.to_dec(), wallet, verifier);
  }
};

TEST_F(Proofs, AtomicVerifierValidPaysNode) {
  const std::string verifier = chain().address("atomicVerifier");
  const U256 verifier_fee = U256(111000000000000000ULL);
  auto wallet = prepare(verifier, verifier_fee);
  auto consumer_before = cast().eth_balance(wallet);
  auto node_before = cast().eth_balance(node_wallet());
  auto verifier_before = cast().eth_balance(verifier_wallet(verifier));
  auto recipient_before = cast().eth_balance(fee_recipient());

  auto id = request_with_proof("valid", wallet, verifier);
  auto delivery = wait_for_delivery(callback_consumer(), id, 1);
  ASSERT_TRUE(delivery.received);
  EXPECT_EQ(decode_echo_output(delivery.output), "valid");
  auto proof = core::abi::decode(
      "(string)", core::ByteView(reinterpret_cast<const std::uint8_t*>(delivery.proof.data()),
                                 delivery.proof.size()));
  ASSERT_TRUE(proof) << "the proof is not abi.encode(string)";
  EXPECT_EQ((*proof)[0].as_string(), "trust me");

  auto protocol = protocol_cut(payment_);
  auto verifier_cut = verifier_fee * U256(Chain::kFeeBasisPoints) / kBasisPoints;
  EXPECT_EQ(cast().eth_balance(wallet), consumer_before - payment_);
  EXPECT_EQ(cast().eth_balance(node_wallet()), node_before + payment_ - protocol - verifier_fee);
  EXPECT_EQ(cast().eth_balance(verifier_wallet(verifier)),
            verifier_before + verifier_fee - verifier_cut);
  EXPECT_EQ(cast().eth_balance(fee_recipient()), recipient_before + protocol + verifier_cut);
}

TEST_F(Proofs, AtomicVerifierInvalidSlashesNode) {
  const std::string verifier = chain().address("atomicVerifier");
  const U256 verifier_fee = U256(111000000000000000ULL);
  auto wallet = prepare(verifier, verifier_fee);
  cast().send(tester(), verifier, "setNextValidity(bool)", {"false"});
  auto consumer_before = cast().eth_balance(wallet);
  auto node_before = cast().eth_balance(node_wallet());
  auto recipient_before = cast().eth_balance(fee_recipient());

  auto id = request_with_proof("invalid", wallet, verifier);
  auto delivery = wait_for_delivery(callback_consumer(), id, 1);
  ASSERT_TRUE(delivery.received);
  EXPECT_EQ(decode_echo_output(delivery.output), "invalid");

  // The consumer still pays the protocol and the verifier, and receives the node's collateral.
  auto protocol = protocol_cut(payment_);
  auto verifier_cut = verifier_fee * U256(Chain::kFeeBasisPoints) / kBasisPoints;
  EXPECT_EQ(cast().eth_balance(node_wallet()), node_before - payment_);
  EXPECT_EQ(cast().eth_balance(wallet), consumer_before - protocol - verifier_fee + payment_);
  EXPECT_EQ(cast().eth_balance(fee_recipient()), recipient_before + protocol + verifier_cut);
}

TEST_F(Proofs, OptimisticVerifierSettledAfterFinalize) {
  const std::string verifier = chain().address("optimisticVerifier");
  const U256 verifier_fee = kEther / U256(10);
  auto wallet = prepare(verifier, verifier_fee);
  auto consumer_before = cast().eth_balance(wallet);
  auto node_before = cast().eth_balance(node_wallet());

  auto id = request_with_proof("optimistic", wallet, verifier);
  auto delivery = wait_for_delivery(callback_consumer(), id, 1);
  ASSERT_TRUE(delivery.received);
  EXPECT_EQ(decode_echo_output(delivery.output), "optimistic");

  // Until the verdict the node's collateral and the consumer's rest are escrowed in place.
  auto protocol = protocol_cut(payment_);
  EXPECT_EQ(cast().eth_balance(node_wallet()), node_before);
  EXPECT_EQ(cast().eth_balance(wallet), consumer_before - protocol - verifier_fee);

  cast().send(tester(), verifier, "finalize(uint32,uint32,address,bool)",
              {std::to_string(id), "1", node_address(), "true"});
  EXPECT_EQ(cast().eth_balance(node_wallet()), node_before + payment_ - protocol - verifier_fee);
  EXPECT_EQ(cast().eth_balance(wallet), consumer_before - payment_);
}

}  // namespace
}  // namespace inferd::testing::e2e

#include "core/infernet.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"
#include "core/keccak.hpp"

namespace inferd::core::infernet {
namespace {

Subscription sample() {
  Subscription s;
  s.owner = Address::from_hex("0x1111111111111111111111111111111111111111").value();
  s.active_at = 1700000000;
  s.period = 60;
  s.frequency = 10;
  s.redundancy = 2;
  s.container_id = container_set_id({"container"});
  s.payment_amount = U256::from_dec("1000000000000000000").value();
  s.wallet = Address::from_hex("0x2222222222222222222222222222222222222222").value();
  return s;
}

bool same(const Subscription& a, const Subscription& b) {
  return a.owner == b.owner && a.active_at == b.active_at && a.period == b.period &&
         a.frequency == b.frequency && a.redundancy == b.redundancy &&
         a.container_id == b.container_id && a.lazy == b.lazy && a.verifier == b.verifier &&
         a.payment_amount == b.payment_amount && a.payment_token == b.payment_token &&
         a.wallet == b.wallet;
}

// Selectors of the Infernet SDK errors as computed with `cast sig "Name()"`.
TEST(InfernetTest, ErrorSelectors) {
  const std::pair<InfernetError, const char*> cases[] = {
      {InfernetError::kInvalidWallet, "0x23455ba1"},
      {InfernetError::kIntervalMismatch, "0x4db310c3"},
      {InfernetError::kIntervalCompleted, "0x2f4ca85b"},
      {InfernetError::kUnauthorizedVerifier, "0xb9857aa1"},
      {InfernetError::kNodeRespondedAlready, "0x88a21e4f"},
      {InfernetError::kSubscriptionNotFound, "0x1a00354f"},
      {InfernetError::kProofRequestNotFound, "0x1d68b37c"},
      {InfernetError::kNotSubscriptionOwner, "0xa7fba711"},
      {InfernetError::kSubscriptionCompleted, "0xae6704a7"},
      {InfernetError::kSubscriptionNotActive, "0xefb74efe"},
      {InfernetError::kUnsupportedVerifierToken, "0xe2372799"},
      {InfernetError::kSignerMismatch, "0x10c74b03"},
      {InfernetError::kSignatureExpired, "0x0819bdcd"},
      {InfernetError::kInvalidSignature, "0x8baa579f"},
      {InfernetError::kReentrancy, "0xab143c06"},
      {InfernetError::kNotCoordinator, "0x9ec853e6"},
      {InfernetError::kNodeNotAllowed, "0x42764946"},
      {InfernetError::kInsufficientFunds, "0x356680b7"},
      {InfernetError::kInsufficientAllowance, "0x13be252b"},
      {InfernetError::kEthTransferFailed, "0xb12d13eb"},
      {InfernetError::kTransferFailed, "0x90b8ec18"},
      {InfernetError::kUnauthorized, "0x82b42900"},
  };
  const abi::ErrorTable table = make_error_table();
  for (const auto& [error, selector] : cases) {
    const abi::RevertReason reason = abi::decode_revert(from_hex(selector).value(), &table);
    ASSERT_EQ(reason.kind, abi::RevertReason::Kind::kCustom) << selector;
    EXPECT_EQ(reason.name, error_name(error)) << selector;
    EXPECT_EQ(classify_revert(reason), error) << selector;
  }
}

TEST(InfernetTest, BenignRaces) {
  EXPECT_TRUE(is_benign_race(InfernetError::kNodeRespondedAlready));
  EXPECT_TRUE(is_benign_race(InfernetError::kIntervalCompleted));
  EXPECT_TRUE(is_benign_race(InfernetError::kSubscriptionCompleted));
  EXPECT_FALSE(is_benign_race(InfernetError::kIntervalMismatch));
  EXPECT_FALSE(is_benign_race(InfernetError::kInvalidWallet));
  EXPECT_FALSE(classify_revert(abi::decode_revert({})));
}

TEST(InfernetTest, CalldataSelectors) {
  const Bytes deliver = encode_deliver_compute(1, 2, {}, Bytes{1}, {}, Address());
  EXPECT_EQ(to_hex(ByteView(deliver).first(4)), "0xc509543d");

  Secp256k1Context context;
  const PrivateKey key = PrivateKey::from_hex(context, std::string(59, '0') + "a11ce").value();
  const RecoverableSignature signature = sign_hash(context, key, keccak256("x"));
  const Bytes delegatee = encode_deliver_compute_delegatee(0, 1700003600, sample(), signature, 1,
                                                           {}, Bytes{1}, {}, Address());
  EXPECT_EQ(to_hex(ByteView(delegatee).first(4)), "0x9fff314a");

  // The static Subscription tuple is inlined: nonce, expiry, 11 words, then v (27 or 28).
  auto decoded = abi::decode(std::string("(uint32,uint32,") + kSubscriptionTuple +
                                 ",uint8,bytes32,bytes32,uint32,bytes,bytes,bytes,address)",
                             ByteView(delegatee).subspan(4));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ((*decoded)[3].as_uint(), U256(27 + signature.recovery_id));
  EXPECT_TRUE(same(subscription_from_abi((*decoded)[2]).value(), sample()));
}

TEST(InfernetTest, MappingKeysAndContainerId) {
  // The delegateCreatedIds key and containerId of the Infernet delegated-subscription vector.
  EXPECT_EQ(to_hex(delegate_key(sample().owner, 0).view()),
            "0xf043c50fe795c69f30b8ff78b84032dc53a9d87ca283ae10a1dacfbb648e83ef");
  const std::string id = to_hex(container_set_id({"container"}).view());
  EXPECT_EQ(id.substr(0, 8), "0x9a3683");
  EXPECT_EQ(id.substr(id.size() - 4), "0a3d");
  EXPECT_EQ(container_set_id({"a", "b"}), container_set_id({"a,b"}));
  EXPECT_NE(container_set_id({"a", "b"}), container_set_id({"b", "a"}));

  EXPECT_EQ(
      redundancy_key(5, 2),
      keccak256(abi::encode("(uint32,uint32)", {abi::AbiValue::uint(5), abi::AbiValue::uint(2)})
                    .value()));
  EXPECT_NE(node_responded_key(5, 2, sample().owner), node_responded_key(5, 2, Address()));
}

TEST(InfernetTest, DecodesSubscriptionBatch) {
  Subscription cancelled = sample();
  cancelled.active_at = kCancelledActiveAt;
  const Bytes data = abi::encode(std::string("(") + kSubscriptionTuple + "[])",
                                 {abi::AbiValue::list({to_abi(sample()), to_abi(cancelled)})})
                         .value();
  // Layout: offset 0x20, length 2, then 2 × 11 words.
  EXPECT_EQ(data.size(), 64u + 2u * 352u);
  auto batch = decode_subscription_batch(data);
  ASSERT_TRUE(batch) << batch.error().message;
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_TRUE(same((*batch)[0], sample()));
  EXPECT_EQ((*batch)[1].active_at, kCancelledActiveAt);

  auto single = decode_subscription(
      abi::encode(std::string("(") + kSubscriptionTuple + ")", {to_abi(sample())}).value());
  ASSERT_TRUE(single);
  EXPECT_TRUE(same(*single, sample()));
  EXPECT_FALSE(decode_subscription(Bytes(351, 0)));
}

TEST(InfernetTest, DecodesRedundancyCounts) {
  const Bytes data =
      abi::encode("(uint16[])",
                  {abi::AbiValue::list({abi::AbiValue::uint(1), abi::AbiValue::uint(0),
                                        abi::AbiValue::uint(65535)})})
          .value();
  EXPECT_EQ(decode_redundancy_counts(data).value(), (std::vector<std::uint16_t>{1, 0, 65535}));
}

}  // namespace
}  // namespace inferd::core::infernet

#include "core/eip712.hpp"

#include <gtest/gtest.h>

#include "core/abi.hpp"
#include "core/hex.hpp"
#include "core/keccak.hpp"
#include "core/secp256k1.hpp"

namespace inferd::core {
namespace {

// The Infernet SDK's delegated-subscription vector, computed with `cast` (manual abi.encode
// and `cast wallet sign --data`) and with the SDK's own forge test helpers: chain 31337,
// coordinator 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512, signer key 0xA11CE, nonce 0,
// expiry 1700003600, a subscription owned by 0x1111…11 for container "container".
class DelegateSubscriptionVector : public ::testing::Test {
 protected:
  static Subscription subscription() {
    Subscription sub;
    sub.owner = Address::from_hex("0x1111111111111111111111111111111111111111").value();
    sub.active_at = 1700000000;
    sub.period = 60;
    sub.frequency = 10;
    sub.redundancy = 2;
    sub.container_id =
        keccak256(abi::encode("(string)", {abi::AbiValue::string("container")}).value());
    sub.lazy = false;
    return sub;
  }
  static Eip712Domain domain() {
    return {"InfernetCoordinator", "1", U256(31337),
            Address::from_hex("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512").value()};
  }
  static constexpr std::uint32_t kNonce = 0;
  static constexpr std::uint32_t kExpiry = 1700003600;
};

TEST_F(DelegateSubscriptionVector, TypeHashes) {
  EXPECT_EQ(to_hex(keccak256(kSubscriptionType).view()),
            "0x3da81ed66ee47395e568c52867826ec137777eef9c1bdfb6bf972dd4385bc5a9");
  EXPECT_EQ(to_hex(keccak256(kDelegateSubscriptionType).view()),
            "0xba9ff1aef2b048b42767aade2b901745a3acf14f698a9ec13952098cfd03d0b6");
  EXPECT_EQ(to_hex(keccak256("EIP712Domain(string name,string version,uint256 chainId,address "
                             "verifyingContract)")
                       .view()),
            "0x8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f");
}

TEST_F(DelegateSubscriptionVector, ContainerIdPrefix) {
  const std::string id = to_hex(subscription().container_id.view());
  EXPECT_EQ(id.substr(0, 8), "0x9a3683");
  EXPECT_EQ(id.substr(id.size() - 4), "0a3d");
}

TEST_F(DelegateSubscriptionVector, Hashes) {
  EXPECT_EQ(to_hex(subscription_struct_hash(subscription()).view()),
            "0x2f6ba4ef977e5e1d621f5d18bbf579509c3d5a10accbd79e96499cd721d85cc1");
  EXPECT_EQ(to_hex(delegate_subscription_struct_hash(kNonce, kExpiry, subscription()).view()),
            "0x6b2cf7674a9d2fe5cc46f4eae5fe075debeefc1bd806cc33b092dfd064651b19");
  EXPECT_EQ(to_hex(domain().separator().view()),
            "0x0da40050d747332d4028233d5e6cc011e618dc2dd0e9d30b9886f503a7a8d8cc");
  EXPECT_EQ(to_hex(delegate_subscription_digest(domain(), kNonce, kExpiry, subscription()).view()),
            "0x8eb61f229e048eed4779eb21a04b1a42752837d17e58786f240a4264ecfffb13");
}

TEST_F(DelegateSubscriptionVector, SignatureAndRecovery) {
  Secp256k1Context context;
  const PrivateKey signer = PrivateKey::from_hex(context, std::string(59, '0') + "a11ce").value();
  const Bytes32 digest = delegate_subscription_digest(domain(), kNonce, kExpiry, subscription());
  const RecoverableSignature signature = sign_hash(context, signer, digest);
  EXPECT_EQ(to_hex(signature.r.view()),
            "0x2fe9a21eea3ce38ae4e7f88114f9d8814ac175eb8668074deb8426a09d9f6c39");
  EXPECT_EQ(to_hex(signature.s.view()),
            "0x118a64f071c95c5f7ca2a3e2f44a0217ec3afa5cb25b0193e8d0a27930766ec2");
  EXPECT_EQ(signature.to_rsv()[64], 28);
  EXPECT_EQ(recover_address(context, digest, signature).value().to_checksum_hex(),
            "0xe05fcC23807536bEe418f142D19fa0d21BB0cfF7");
}

TEST_F(DelegateSubscriptionVector, DelegateCreatedIdsKey) {
  // delegateCreatedIds[keccak256(abi.encode(owner, nonce))].
  const Bytes key = abi::encode("(address,uint32)", {abi::AbiValue::address(subscription().owner),
                                                     abi::AbiValue::uint(U256(kNonce))})
                        .value();
  EXPECT_EQ(to_hex(keccak256(key).view()),
            "0xf043c50fe795c69f30b8ff78b84032dc53a9d87ca283ae10a1dacfbb648e83ef");
}

}  // namespace
}  // namespace inferd::core

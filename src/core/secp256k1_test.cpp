#include "core/secp256k1.hpp"

#include <sstream>

#include <gtest/gtest.h>

#include "core/hex.hpp"
#include "core/keccak.hpp"
#include "core/u256.hpp"

namespace inferd::core {
namespace {

class Secp256k1Test : public ::testing::Test {
 protected:
  Secp256k1Context context_;
};

struct KeyAddressCase {
  const char* key;
  const char* address;
  const char* source;
};

TEST_F(Secp256k1Test, DerivesKnownAddresses) {
  const KeyAddressCase cases[] = {
      {"0x0000000000000000000000000000000000000000000000000000000000000001",
       "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf", "private key 1, the generator point G"},
      {"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
       "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "anvil's first default account"},
      {"0x00000000000000000000000000000000000000000000000000000000000a11ce",
       "0xe05fcC23807536bEe418f142D19fa0d21BB0cfF7",
       "the delegatee key of the Infernet SDK tests (`cast wallet address 0xA11CE`)"},
  };
  for (const auto& c : cases) {
    auto key = PrivateKey::from_hex(context_, c.key);
    ASSERT_TRUE(key) << c.source;
    EXPECT_EQ(derive_public_key(context_, *key).address().to_checksum_hex(), c.address) << c.source;
  }
}

TEST_F(Secp256k1Test, AcceptsKeyWithoutPrefixOrWithWhitespace) {
  const char* digits = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
  auto bare = PrivateKey::from_hex(context_, digits);
  auto padded = PrivateKey::from_hex(context_, std::string("  0x") + digits + "\n");
  ASSERT_TRUE(bare);
  ASSERT_TRUE(padded);
  EXPECT_EQ(derive_public_key(context_, *bare), derive_public_key(context_, *padded));
}

TEST_F(Secp256k1Test, RejectsInvalidKeysWithoutEchoingThem) {
  const std::string secret_like = "ab" + std::string(60, '9') + "zz";
  const std::string cases[] = {
      "",
      "0x1234",
      std::string(64, '0'),  // zero
      // The group order n itself.
      "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
      secret_like,
  };
  for (const auto& text : cases) {
    auto key = PrivateKey::from_hex(context_, text);
    ASSERT_FALSE(key) << text;
    EXPECT_EQ(key.error().code, Errc::kInvalidPrivateKey);
    if (!text.empty()) {
      EXPECT_EQ(key.error().message.find(text), std::string::npos) << key.error().message;
    }
  }
}

TEST_F(Secp256k1Test, StreamingNeverPrintsTheKey) {
  auto key = PrivateKey::from_hex(
                 context_, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
                 .value();
  std::ostringstream out;
  out << key;
  EXPECT_EQ(out.str(), "PrivateKey(redacted)");
  EXPECT_EQ(::testing::PrintToString(key), "PrivateKey(redacted)");
}

TEST_F(Secp256k1Test, SignsDeterministicallyAndRecovers) {
  auto key = PrivateKey::from_hex(
                 context_, "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
                 .value();
  const Address signer = derive_public_key(context_, key).address();
  const Bytes32 hash = keccak256("inferd signing test");

  const RecoverableSignature first = sign_hash(context_, key, hash);
  const RecoverableSignature second = sign_hash(context_, key, hash);
  EXPECT_EQ(first, second) << "RFC 6979 nonces make signatures deterministic";

  // Low s (EIP-2): s <= n/2.
  const U256 half_order =
      U256::from_hex("0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0").value();
  EXPECT_LE(U256::from_word(first.s), half_order);

  auto recovered = recover_address(context_, hash, first);
  ASSERT_TRUE(recovered) << recovered.error().message;
  EXPECT_EQ(*recovered, signer);

  // A different hash recovers a different (unrelated) address.
  auto other = recover_address(context_, keccak256("something else"), first);
  ASSERT_TRUE(other);
  EXPECT_NE(*other, signer);
}

TEST_F(Secp256k1Test, RsvRoundTrip) {
  auto key = PrivateKey::from_hex(context_, std::string(63, '0') + "7").value();
  const RecoverableSignature signature = sign_hash(context_, key, keccak256("x"));
  const FixedBytes<65> rsv = signature.to_rsv();
  EXPECT_TRUE(rsv[64] == 27 || rsv[64] == 28);
  EXPECT_EQ(RecoverableSignature::from_rsv(rsv.view()).value(), signature);

  FixedBytes<65> zero_one = rsv;
  zero_one[64] = static_cast<std::uint8_t>(rsv[64] - 27);
  EXPECT_EQ(RecoverableSignature::from_rsv(zero_one.view()).value(), signature);

  FixedBytes<65> bad_v = rsv;
  bad_v[64] = 29;
  EXPECT_EQ(RecoverableSignature::from_rsv(bad_v.view()).error().code, Errc::kInvalidSignature);
  EXPECT_FALSE(RecoverableSignature::from_rsv(Bytes(64, 1)));
}

TEST_F(Secp256k1Test, RecoveryRejectsOutOfRangeSignature) {
  RecoverableSignature signature;
  signature.r = U256::max().to_word();
  signature.s = U256(1).to_word();
  auto recovered = recover_public_key(context_, keccak256("x"), signature);
  ASSERT_FALSE(recovered);
  EXPECT_EQ(recovered.error().code, Errc::kInvalidSignature);

  signature.r = U256(0).to_word();
  EXPECT_FALSE(recover_public_key(context_, keccak256("x"), signature));
}

TEST_F(Secp256k1Test, RandomizedContextSignsIdentically) {
  Bytes32 seed;
  seed[0] = 0x42;
  seed[31] = 0x17;
  Secp256k1Context blinded(seed);
  auto key = PrivateKey::from_hex(context_, std::string(63, '0') + "9").value();
  const Bytes32 hash = keccak256("blinding does not change RFC 6979 output");
  EXPECT_EQ(sign_hash(blinded, key, hash), sign_hash(context_, key, hash));
}

}  // namespace
}  // namespace inferd::core

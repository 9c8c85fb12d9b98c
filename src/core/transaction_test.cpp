#include "core/transaction.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"
#include "core/keccak.hpp"
#include "core/rlp.hpp"

namespace inferd::core {
namespace {

class TransactionTest : public ::testing::Test {
 protected:
  PrivateKey eip155_key() {
    return PrivateKey::from_hex(
               context_, "0x4646464646464646464646464646464646464646464646464646464646464646")
        .value();
  }
  static Address address35() {
    return Address::from_hex("0x3535353535353535353535353535353535353535").value();
  }

  Secp256k1Context context_;
};

// The worked example in the text of EIP-155: nonce 9, gas price 20 gwei, gas 21000, to
// 0x3535…35, value 1 ether, chain id 1, private key 0x4646…46. `cast mktx --legacy` (Foundry
// 1.7.1) with these values prints the same signed transaction.
TEST_F(TransactionTest, Eip155Example) {
  LegacyTransaction tx;
  tx.chain_id = 1;
  tx.nonce = 9;
  tx.gas_price = U256(20000000000ULL);
  tx.gas_limit = 21000;
  tx.to = address35();
  tx.value = U256::from_dec("1000000000000000000").value();

  EXPECT_EQ(to_hex(signing_hash(tx).view()),
            "0xdaf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");

  const SignedTransaction signed_tx = sign_transaction(context_, eip155_key(), tx);
  EXPECT_EQ(to_hex(signed_tx.raw),
            "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400"
            "008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d899"
            "7f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
  EXPECT_EQ(signed_tx.hash, keccak256(signed_tx.raw));

  // v = 37 = 1 * 2 + 35 + 0, and the decimal r and s given in the EIP.
  auto decoded = rlp::decode(signed_tx.raw).value();
  EXPECT_EQ(rlp::decode_uint(decoded.items[6]).value(), U256(37));
  EXPECT_EQ(rlp::decode_uint(decoded.items[7]).value().to_dec(),
            "18515461264373351373200002665853028612451056578545711640558177340181847433846");
  EXPECT_EQ(rlp::decode_uint(decoded.items[8]).value().to_dec(),
            "46948507304638947509940763649030358759909902576025900602547168820602576006531");
}

// Reference outputs of `cast mktx` (Foundry 1.7.1) with --private-key 0x4646…46:
//   cast mktx --chain 1 --nonce 9 --gas-limit 21000 --gas-price 30000000000
//     --priority-gas-price 2000000000 --value 1000000000000000000 0x3535…35
TEST_F(TransactionTest, Eip1559ValueTransferMatchesCast) {
  Eip1559Transaction tx;
  tx.chain_id = 1;
  tx.nonce = 9;
  tx.max_priority_fee_per_gas = U256(2000000000ULL);
  tx.max_fee_per_gas = U256(30000000000ULL);
  tx.gas_limit = 21000;
  tx.to = address35();
  tx.value = U256::from_dec("1000000000000000000").value();

  const SignedTransaction signed_tx = sign_transaction(context_, eip155_key(), tx);
  EXPECT_EQ(to_hex(signed_tx.raw),
            "0x02f873010984773594008506fc23ac00825208943535353535353535353535353535353535353535880d"
            "e0b6b3a764000080c080a02b03b67e070f45175ce9d07c4512720168bd468a24edb6997977a53d48c87a12"
            "a0733d775fdd689d306e08ac8ab399f34b5a0253b47ed81b8bf2d2a6ea607fcac7");
  EXPECT_EQ(signed_tx.hash, keccak256(signed_tx.raw));
}

//   cast mktx --chain 31337 --nonce 0 --gas-limit 100000 --gas-price 1000000000
//     --priority-gas-price 1 0x1111…11 "f(uint256)" 7
TEST_F(TransactionTest, Eip1559CallMatchesCast) {
  Eip1559Transaction tx;
  tx.chain_id = 31337;
  tx.nonce = 0;
  tx.max_priority_fee_per_gas = 1;
  tx.max_fee_per_gas = U256(1000000000ULL);
  tx.gas_limit = 100000;
  tx.to = Address::from_hex("0x1111111111111111111111111111111111111111").value();
  tx.data = from_hex("0xb3de648b0000000000000000000000000000000000000000000000000000000000000007")
                .value();

  const SignedTransaction signed_tx = sign_transaction(context_, eip155_key(), tx);
  EXPECT_EQ(to_hex(signed_tx.raw),
            "0x02f88d827a698001843b9aca00830186a094111111111111111111111111111111111111111180a4b3de"
            "648b0000000000000000000000000000000000000000000000000000000000000007c080a0c29cf7c799b4"
            "ef30fa189bffe58b50d7cde22d0fb4f816b1a30eb7c49a69ca88a031f69f5875b29e4cccba11415e8696e0"
            "9ac39bd238d72521c6e8508aee20d305");
}

TEST_F(TransactionTest, SignerRecoversFromSigningHash) {
  Eip1559Transaction tx;
  tx.chain_id = 31337;
  tx.nonce = 3;
  tx.max_fee_per_gas = 100;
  tx.gas_limit = 50000;
  tx.access_list.push_back({address35(), {U256(1).to_word()}});
  const PrivateKey key = eip155_key();
  const RecoverableSignature signature = sign_hash(context_, key, signing_hash(tx));
  EXPECT_EQ(recover_address(context_, signing_hash(tx), signature).value(),
            derive_public_key(context_, key).address());

  // Contract creation encodes an empty `to`, and the access list is a nested list.
  auto decoded = rlp::decode(ByteView(encode_signed(tx, signature)).subspan(1)).value();
  EXPECT_TRUE(decoded.items[5].bytes.empty());
  ASSERT_EQ(decoded.items[8].items.size(), 1u);
  EXPECT_EQ(decoded.items[8].items[0].items[1].items.size(), 1u);
}

}  // namespace
}  // namespace inferd::core

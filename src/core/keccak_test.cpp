#include "core/keccak.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"

namespace inferd::core {
namespace {

struct KeccakCase {
  std::string input;
  const char* digest;
};

// Known answers as printed by `cast keccak` (Foundry 1.7.1), which implements Keccak-256 with the
// original padding Ethereum uses, not FIPS-202 SHA3-256.
TEST(KeccakTest, KnownAnswers) {
  const KeccakCase cases[] = {
      {"", "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
      {"abc", "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
      // topic0 of ERC-20 Transfer(address,address,uint256), as in every ERC-20 log.
      {"Transfer(address,address,uint256)",
       "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(to_hex(keccak256(c.input).view()), c.digest) << '"' << c.input << '"';
  }
}

TEST(KeccakTest, LongInputCrossesBlocks) {
  // 200 bytes span two 136-byte Keccak-256 rate blocks; hashing must be incremental-safe.
  const std::string input(200, 'a');
  EXPECT_EQ(keccak256(input), keccak256(as_bytes(input)));
  EXPECT_NE(keccak256(input), keccak256(std::string(199, 'a')));
}

}  // namespace
}  // namespace inferd::core

#include "core/u256.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"

namespace inferd::core {
namespace {

const char* const kMaxDec =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

TEST(U256Test, ParsesDecimal) {
  EXPECT_EQ(U256::from_dec("0").value(), U256(0));
  EXPECT_EQ(U256::from_dec("1000000000000000000").value(), U256(1000000000000000000ULL));
  EXPECT_EQ(U256::from_dec(kMaxDec).value(), U256::max());
  EXPECT_EQ(U256::from_dec("000123").value(), U256(123));
}

TEST(U256Test, RejectsBadDecimal) {
  for (const char* text : {"", "-1", "1.5", "1e18", " 1", "0x10", "12a"}) {
    auto parsed = U256::from_dec(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, Errc::kInvalidNumber) << text;
  }
}

TEST(U256Test, RejectsDecimalOverflow) {
  // 2^256 exactly, one above the maximum.
  auto parsed = U256::from_dec(
      "115792089237316195423570985008687907853269984665640564039457584007913129639936");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().code, Errc::kOverflow);
  EXPECT_FALSE(U256::from_dec(std::string(200, '9')));
}

TEST(U256Test, ParsesHex) {
  EXPECT_EQ(U256::from_hex("0x0").value(), U256(0));
  EXPECT_EQ(U256::from_hex("ff").value(), U256(255));
  EXPECT_EQ(U256::from_hex("0xDEADbeef").value(), U256(0xdeadbeef));
  EXPECT_EQ(U256::from_hex("0x" + std::string(64, 'f')).value(), U256::max());
  EXPECT_EQ(U256::from_hex("0x00" + std::string(64, 'f')).value(), U256::max());
  EXPECT_EQ(U256::from_hex("0x" + std::string(65, 'f')).error().code, Errc::kOverflow);
  EXPECT_EQ(U256::from_hex("0x").error().code, Errc::kInvalidNumber);
  EXPECT_EQ(U256::from_hex("0xg").error().code, Errc::kInvalidNumber);
}

TEST(U256Test, ParseChoosesBase) {
  EXPECT_EQ(U256::parse("0x10").value(), U256(16));
  EXPECT_EQ(U256::parse("10").value(), U256(10));
}

TEST(U256Test, FormatsDecimalAndQuantity) {
  EXPECT_EQ(U256(0).to_dec(), "0");
  EXPECT_EQ(U256::max().to_dec(), kMaxDec);
  EXPECT_EQ(U256(0).to_hex(), "0x0");
  EXPECT_EQ(U256(0x400).to_hex(), "0x400");
  EXPECT_EQ(U256::max().to_hex(), "0x" + std::string(64, 'f'));
}

TEST(U256Test, WrapsLikeTheEvm) {
  EXPECT_EQ(U256::max() + U256(1), U256(0));
  EXPECT_EQ(U256(0) - U256(1), U256::max());
  EXPECT_EQ(U256(7) / U256(0), U256(0));
  EXPECT_EQ(U256(7) % U256(0), U256(0));
  EXPECT_EQ(U256(7) / U256(2), U256(3));
  EXPECT_EQ(U256(7) % U256(2), U256(1));
  EXPECT_EQ((U256(1) << 255) * U256(2), U256(0));
  EXPECT_EQ(U256(1) << 256, U256(0));
  EXPECT_EQ(U256::max() >> 255, U256(1));
}

TEST(U256Test, CheckedArithmetic) {
  EXPECT_FALSE(checked_add(U256::max(), U256(1)));
  EXPECT_EQ(checked_add(U256(2), U256(3)).value(), U256(5));
  EXPECT_FALSE(checked_sub(U256(2), U256(3)));
  EXPECT_EQ(checked_sub(U256(3), U256(2)).value(), U256(1));
  EXPECT_FALSE(checked_mul(U256(1) << 128, U256(1) << 128));
  EXPECT_EQ(checked_mul(U256(1) << 127, U256(1) << 128).value(), U256(1) << 255);
  EXPECT_FALSE(checked_mul(U256::max(), U256(2)));
  EXPECT_FALSE(checked_div(U256(1), U256(0)));
}

TEST(U256Test, BigEndianBytes) {
  const U256 value = U256::from_hex("0x0102").value();
  EXPECT_EQ(value.to_minimal_be_bytes(), (Bytes{0x01, 0x02}));
  EXPECT_TRUE(U256(0).to_minimal_be_bytes().empty());
  EXPECT_EQ(to_hex(value.to_word().view()), "0x" + std::string(60, '0') + "0102");
  EXPECT_EQ(U256::from_be_bytes(Bytes{0x01, 0x02}).value(), value);
  EXPECT_EQ(U256::from_word(value.to_word()), value);
  EXPECT_FALSE(U256::from_be_bytes(Bytes(33, 0)));
}

TEST(U256Test, SignedHelpers) {
  EXPECT_EQ(from_signed(-1), U256::max());
  EXPECT_EQ(from_signed(INT64_MIN), U256(0) - (U256(1) << 63));
  EXPECT_EQ(to_signed_dec(from_signed(-42)), "-42");
  EXPECT_EQ(to_signed_dec(U256(42)), "42");
  EXPECT_TRUE(is_negative(from_signed(-1)));
}

TEST(U256Test, BitsAndOrdering) {
  EXPECT_EQ(U256(0).bit_length(), 0u);
  EXPECT_EQ(U256(1).bit_length(), 1u);
  EXPECT_EQ(U256::max().bit_length(), 256u);
  EXPECT_TRUE(U256(5) < U256(6));
  EXPECT_TRUE(U256::max() > U256(6));
  EXPECT_TRUE(U256(1ULL << 63).fits_u64());
  EXPECT_FALSE((U256(1) << 64).fits_u64());
  EXPECT_EQ(((U256(1) << 64) + U256(9)).low_u64(), 9u);
}

}  // namespace
}  // namespace inferd::core

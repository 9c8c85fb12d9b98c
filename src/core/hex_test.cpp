#include "core/hex.hpp"

#include <gtest/gtest.h>

namespace inferd::core {
namespace {

TEST(HexTest, EncodesWithAndWithoutPrefix) {
  const Bytes bytes{0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(to_hex(bytes), "0x0001abff");
  EXPECT_EQ(to_hex(bytes, HexPrefix::kWithout), "0001abff");
  EXPECT_EQ(to_hex(Bytes{}), "0x");
  EXPECT_EQ(to_hex(Bytes{}, HexPrefix::kWithout), "");
}

TEST(HexTest, DecodesAnyPrefixAndCase) {
  const Bytes expected{0xde, 0xad, 0xBE, 0xef};
  for (const char* text : {"0xdeadbeef", "deadbeef", "0XDEADBEEF", "DeAdBeEf"}) {
    auto decoded = from_hex(text);
    ASSERT_TRUE(decoded) << text << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, expected) << text;
  }
}

TEST(HexTest, DecodesEmpty) {
  EXPECT_EQ(from_hex("").value(), Bytes{});
  EXPECT_EQ(from_hex("0x").value(), Bytes{});
}

TEST(HexTest, RejectsOddLength) {
  for (const char* text : {"0x1", "abc", "0x12345"}) {
    auto decoded = from_hex(text);
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, Errc::kOddLength) << text;
    EXPECT_NE(decoded.error().message.find("odd"), std::string::npos);
  }
}

TEST(HexTest, RejectsBadDigitWithPosition) {
  auto decoded = from_hex("0x12zz");
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::kInvalidHex);
  EXPECT_NE(decoded.error().message.find("position 4"), std::string::npos)
      << decoded.error().message;

  EXPECT_FALSE(from_hex("0x 1"));
  EXPECT_FALSE(from_hex("0x0x"));
  EXPECT_FALSE(from_hex("g0"));
}

TEST(HexTest, FixedFromHexChecksLength) {
  EXPECT_TRUE(fixed_from_hex<4>("0x01020304"));
  auto short_value = fixed_from_hex<4>("0x010203");
  ASSERT_FALSE(short_value);
  EXPECT_EQ(short_value.error().code, Errc::kInvalidLength);
}

TEST(HexTest, RoundTripsEveryByte) {
  Bytes all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<std::uint8_t>(i));
  }
  EXPECT_EQ(from_hex(to_hex(all)).value(), all);
}

TEST(ResultTest, ValueOnErrorThrows) {
  Result<int> failed = make_error(Errc::kOverflow, "too big");
  EXPECT_THROW((void)failed.value(), BadResultAccess);
}

}  // namespace
}  // namespace inferd::core

#include "core/rlp.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"

namespace inferd::core::rlp {
namespace {

Bytes hex(std::string_view text) {
  return from_hex(text).value();
}
Bytes text_bytes(std::string_view text) {
  return to_bytes(as_bytes(text));
}

// The classic RLP examples ("dog", ["cat", "dog"], the set-theoretic three, 1024, a 56-byte
// string); the encodings match `cast to-rlp` (Foundry 1.7.1).
TEST(RlpTest, EncodesDocumentedExamples) {
  EXPECT_EQ(to_hex(encode_bytes(text_bytes("dog"))), "0x83646f67");
  EXPECT_EQ(to_hex(encode_list({encode_bytes(text_bytes("cat")), encode_bytes(text_bytes("dog"))})),
            "0xc88363617483646f67");
  EXPECT_EQ(to_hex(encode_bytes({})), "0x80");
  EXPECT_EQ(to_hex(encode_list({})), "0xc0");
  EXPECT_EQ(to_hex(encode_uint(U256(0))), "0x80");
  EXPECT_EQ(to_hex(encode_bytes(Bytes{0x00})), "0x00");
  EXPECT_EQ(to_hex(encode_uint(U256(15))), "0x0f");
  EXPECT_EQ(to_hex(encode_uint(U256(1024))), "0x820400");
  // The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ].
  const Bytes empty = encode_list({});
  const Bytes one = encode_list({empty});
  EXPECT_EQ(to_hex(encode_list({empty, one, encode_list({empty, one})})), "0xc7c0c1c0c3c0c1c0");
  EXPECT_EQ(
      to_hex(encode_bytes(text_bytes("Lorem ipsum dolor sit amet, consectetur adipisicing elit"))),
      "0xb8384c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572"
      "206164697069736963696e6720656c6974");
}

TEST(RlpTest, DecodesNestedLists) {
  auto item = decode(hex("0xc7c0c1c0c3c0c1c0"));
  ASSERT_TRUE(item) << item.error().message;
  ASSERT_TRUE(item->is_list);
  ASSERT_EQ(item->items.size(), 3u);
  EXPECT_EQ(item->items[2].items.size(), 2u);

  auto dog = decode(hex("0x83646f67"));
  ASSERT_TRUE(dog);
  EXPECT_EQ(to_string(dog->bytes), "dog");

  auto number = decode(hex("0x820400"));
  ASSERT_TRUE(number);
  EXPECT_EQ(decode_uint(*number).value(), U256(1024));
}

TEST(RlpTest, RoundTripsLongPayloads) {
  const Bytes payload(1000, 0xab);
  auto item = decode(encode_list({encode_bytes(payload), encode_uint(U256::max())}));
  ASSERT_TRUE(item) << item.error().message;
  EXPECT_EQ(item->items[0].bytes, payload);
  EXPECT_EQ(decode_uint(item->items[1]).value(), U256::max());
}

TEST(RlpTest, RejectsMalformedInput) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty input"},
      {"0x83646f", "string runs past the end"},
      {"0x8100", "single byte below 0x80 with a header"},
      {"0x8145", "single byte below 0x80 with a header"},
      {"0xb800", "long form for a short length"},
      {"0xb90001", "length with a leading zero"},
      {"0xb8", "missing length byte"},
      {"0xc2c0", "list payload runs past the end"},
      {"0xc0c0", "trailing bytes"},
      {"0xbf0100000000000000", "length of 2^56 runs past the end"},
  };
  for (const auto& [input, why] : cases) {
    auto item = decode(hex(input));
    ASSERT_FALSE(item) << why;
    EXPECT_EQ(item.error().code, Errc::kRlpMalformed) << why;
  }
}

TEST(RlpTest, RejectsDeepNesting) {
  Bytes nested = encode_list({});
  for (std::size_t i = 0; i < kMaxDepth + 1; ++i) {
    nested = encode_list({nested});
  }
  EXPECT_FALSE(decode(nested));
}

TEST(RlpTest, DecodeUintRejectsNonCanonical) {
  EXPECT_FALSE(decode_uint(decode(hex("0x820004")).value()));
  EXPECT_FALSE(decode_uint(decode(hex("0xc0")).value()));
  Item too_long;
  too_long.bytes = Bytes(33, 1);
  EXPECT_FALSE(decode_uint(too_long));
}

}  // namespace
}  // namespace inferd::core::rlp

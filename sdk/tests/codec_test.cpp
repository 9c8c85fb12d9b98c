#include <string>

#include <gtest/gtest.h>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {
namespace {

// abi.encode(string "hello") in the Solidity ABI layout: offset 0x20, length 5, then "hello"
// right-padded to a 32-byte word.
constexpr const char* kHelloString =
    "0000000000000000000000000000000000000000000000000000000000000020"
    "0000000000000000000000000000000000000000000000000000000000000005"
    "68656c6c6f000000000000000000000000000000000000000000000000000000";

// abi.encode(string "hello", string ""): two offsets (0x40, 0x80), then each length and data.
constexpr const char* kHelloAndEmpty =
    "0000000000000000000000000000000000000000000000000000000000000040"
    "0000000000000000000000000000000000000000000000000000000000000080"
    "0000000000000000000000000000000000000000000000000000000000000005"
    "68656c6c6f000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000";

TEST(Codec, HexEncodeIsLowercaseWithoutPrefix) {
  EXPECT_EQ(hex_encode(Bytes{0x00, 0xAB, 0xff}), "00abff");
  EXPECT_EQ(hex_encode(Bytes{}), "");
}

TEST(Codec, HexDecodeAcceptsPrefix) {
  EXPECT_EQ(hex_decode("0xABcd"), (Bytes{0xab, 0xcd}));
  EXPECT_EQ(hex_decode(""), Bytes{});
}

TEST(Codec, HexDecodeRejectsWithFieldName) {
  try {
    hex_decode("0xzz", "data.input");
    FAIL() << "accepted invalid hex";
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::bad_request);
    EXPECT_NE(std::string(error.what()).find("invalid data.input"), std::string::npos);
  }
}

TEST(Codec, AbiEncodeStringKnownAnswer) {
  EXPECT_EQ(hex_encode(abi_encode_string("hello")), kHelloString);
}

TEST(Codec, AbiEncodeStringEmpty) {
  EXPECT_EQ(hex_encode(abi_encode_string("")),
            "0000000000000000000000000000000000000000000000000000000000000020"
            "0000000000000000000000000000000000000000000000000000000000000000");
}

TEST(Codec, AbiDecodeTwoStrings) {
  auto value = abi_decode(abi_type("(string,string)"), hex_decode(kHelloAndEmpty));
  EXPECT_EQ(value[0].as_string(), "hello");
  EXPECT_EQ(value[1].as_string(), "");
}

TEST(Codec, AbiEncodeMatchesDecode) {
  auto type = abi_type("(string,string)");
  auto encoded = abi_encode(type, {AbiValue::string("hello"), AbiValue::string("")});
  EXPECT_EQ(hex_encode(encoded), kHelloAndEmpty);
}

TEST(Codec, AbiDecodeRejectsShortData) {
  try {
    abi_decode(abi_type("(string,string)"), Bytes(31, 0));
    FAIL() << "decoded 31 bytes as (string,string)";
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::bad_request);
    EXPECT_NE(std::string(error.what()).find("(string,string)"), std::string::npos);
  }
}

TEST(Codec, AbiTypeSyntaxErrorIsInvalidArgument) {
  EXPECT_THROW(abi_type("(strin,string)"), std::invalid_argument);
}

TEST(Codec, AbiEncodeMismatchIs500) {
  try {
    abi_encode(abi_type("(uint8)"), {AbiValue::string("x")});
    FAIL() << "encoded a string as uint8";
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::internal_server_error);
  }
}

TEST(Codec, OnchainOutputHasFiveHexKeys) {
  OnchainOutput output;
  output.raw_input = {0x01, 0x02};
  output.raw_output = {0xAB};
  output.proof = {0xff, 0x00};
  auto json = output.to_json();
  EXPECT_EQ(json.size(), 5u);
  EXPECT_EQ(json["raw_input"], "0102");
  EXPECT_EQ(json["processed_input"], "");
  EXPECT_EQ(json["raw_output"], "ab");
  EXPECT_EQ(json["processed_output"], "");
  EXPECT_EQ(json["proof"], "ff00");
}

TEST(Codec, ErrorBodyShape) {
  auto body = error_body(Status::bad_request, "bad input");
  EXPECT_EQ(body.size(), 3u);
  EXPECT_EQ(body["code"], "400");
  EXPECT_EQ(body["name"], "Bad Request");
  EXPECT_EQ(body["description"], "bad input");
}

TEST(Codec, ErrorBodyCodeIsString) {
  auto body = error_body(Status::internal_server_error, "x");
  ASSERT_TRUE(body["code"].is_string());
  EXPECT_EQ(body["code"], "500");
  EXPECT_EQ(body["name"], "Internal Server Error");
}

}  // namespace
}  // namespace infernet::sdk

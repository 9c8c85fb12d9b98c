#include <gtest/gtest.h>

#include "echo/echo.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::services {
namespace {

using sdk::AbiValue;
using sdk::parse_envelope;

// abi.encode(string "hello") in the Solidity ABI layout.
constexpr const char* kHelloString =
    "0000000000000000000000000000000000000000000000000000000000000020"
    "0000000000000000000000000000000000000000000000000000000000000005"
    "68656c6c6f000000000000000000000000000000000000000000000000000000";

std::string encode_input(const std::string& value, const std::string& proof) {
  return sdk::hex_encode(sdk::abi_encode(sdk::abi_type("(string,string)"),
                                         {AbiValue::string(value), AbiValue::string(proof)}));
}

std::string envelope(int source, int destination, const nlohmann::json& data, bool proof) {
  return nlohmann::json{
      {"source", source}, {"destination", destination}, {"data", data}, {"requires_proof", proof}}
      .dump();
}

TEST(Echo, OnchainWithoutProof) {
  const std::string input = encode_input("hello", "just trust me bro");
  auto output = Echo().run(parse_envelope(envelope(0, 0, input, false)));
  EXPECT_EQ(output.size(), 5u);
  EXPECT_EQ(output["raw_input"], input);
  EXPECT_EQ(output["processed_input"], "");
  EXPECT_EQ(output["raw_output"], kHelloString);
  EXPECT_EQ(output["processed_output"], "");
  EXPECT_EQ(output["proof"], "");
}

TEST(Echo, OnchainWithProof) {
  const std::string input = encode_input("hello", "just trust me bro");
  auto output = Echo().run(parse_envelope(envelope(0, 0, input, true)));
  EXPECT_EQ(output["raw_output"], kHelloString);
  EXPECT_EQ(output["proof"], sdk::hex_encode(sdk::abi_encode_string("just trust me bro")));
}

TEST(Echo, OffchainInputObject) {
  const std::string input = encode_input("hi there", "");
  auto output = Echo().run(parse_envelope(envelope(1, 1, {{"input", input}}, false)));
  EXPECT_EQ(output["raw_input"], input);
  EXPECT_EQ(output["raw_output"], sdk::hex_encode(sdk::abi_encode_string("hi there")));
  EXPECT_EQ(output["proof"], "");
}

TEST(Echo, RawInputIsNormalisedHex) {
  const std::string input = encode_input("x", "y");
  std::string upper = "0x" + input;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  upper[1] = 'x';
  auto output = Echo().run(parse_envelope(envelope(1, 0, {{"input", upper}}, false)));
  EXPECT_EQ(output["raw_input"], input);
}

TEST(Echo, MissingInputIs400) {
  try {
    Echo().run(parse_envelope(envelope(1, 1, {{"text", "x"}}, false)));
    FAIL() << "accepted data without input";
  } catch (const sdk::ServiceError& error) {
    EXPECT_EQ(error.status(), sdk::Status::bad_request);
    EXPECT_NE(std::string(error.what()).find("data.input"), std::string::npos);
  }
}

TEST(Echo, UndecodableInputIs400) {
  try {
    Echo().run(parse_envelope(envelope(0, 0, "00ff", false)));
    FAIL() << "accepted two bytes as (string,string)";
  } catch (const sdk::ServiceError& error) {
    EXPECT_EQ(error.status(), sdk::Status::bad_request);
  }
}

}  // namespace
}  // namespace infernet::services

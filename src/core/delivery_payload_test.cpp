#include "core/delivery_payload.hpp"

#include <gtest/gtest.h>

#include "core/abi.hpp"
#include "core/hex.hpp"

namespace inferd::core::infernet {
namespace {

Bytes hex(std::string_view text) {
  return from_hex(text).value();
}

TEST(DeliveryPayload, FiveKeysBecomeBytesPairs) {
  nlohmann::json output = {{"raw_input", "aa"},
                           {"processed_input", nullptr},
                           {"raw_output", "0xbbcc"},
                           {"processed_output", ""},
                           {"proof", "dd"}};
  auto payload = encode_delivery(output, output.dump());
  ASSERT_TRUE(payload) << payload.error().message;
  auto input = abi::decode("(bytes,bytes)", payload.value().input).value();
  EXPECT_EQ(input[0].as_bytes(), hex("aa"));
  EXPECT_TRUE(input[1].as_bytes().empty());
  auto encoded = abi::decode("(bytes,bytes)", payload.value().output).value();
  EXPECT_EQ(encoded[0].as_bytes(), hex("bbcc"));
  EXPECT_TRUE(encoded[1].as_bytes().empty());
  EXPECT_EQ(payload.value().proof, hex("dd"));
}

TEST(DeliveryPayload, OtherOutputIsOrderedPythonRepr) {
  const std::string body = R"({"zeta": true, "alpha": [1, 2.5, null], "text": "it's"})";
  auto payload = encode_delivery(nlohmann::json::parse(body), body);
  ASSERT_TRUE(payload) << payload.error().message;
  EXPECT_TRUE(payload.value().input.empty());
  EXPECT_TRUE(payload.value().proof.empty());
  auto decoded = abi::decode("(string)", payload.value().output).value();
  EXPECT_EQ(decoded[0].as_string(), R"({'zeta': True, 'alpha': [1, 2.5, None], 'text': "it's"})");
}

TEST(DeliveryPayload, FourKeysUseReprFallback) {
  const std::string body =
      R"({"raw_input": "aa", "processed_input": "", "raw_output": "bb", "processed_output": ""})";
  auto payload = encode_delivery(nlohmann::json::parse(body), body);
  ASSERT_TRUE(payload);
  auto decoded = abi::decode("(string)", payload.value().output).value();
  EXPECT_EQ(decoded[0].as_string().substr(0, 15), "{'raw_input': '");
}

TEST(DeliveryPayload, NonHexValueNamesKey) {
  nlohmann::json output = {{"raw_input", "zz"},
                           {"processed_input", ""},
                           {"raw_output", ""},
                           {"processed_output", ""},
                           {"proof", ""}};
  auto payload = encode_delivery(output, output.dump());
  ASSERT_FALSE(payload);
  EXPECT_NE(payload.error().message.find("raw_input"), std::string::npos);
  output["raw_input"] = 7;
  payload = encode_delivery(output, output.dump());
  ASSERT_FALSE(payload);
  EXPECT_NE(payload.error().message.find("number"), std::string::npos);
}

TEST(DeliveryPayload, CodeKeyReportsFailureUnless200) {
  EXPECT_FALSE(output_reports_failure({{"output", "x"}}));
  EXPECT_FALSE(output_reports_failure({{"code", "200"}}));
  EXPECT_FALSE(output_reports_failure({{"code", 200}}));
  EXPECT_TRUE(output_reports_failure({{"code", "500"}, {"error", "boom"}}));
  EXPECT_TRUE(output_reports_failure({{"code", 400}}));
  EXPECT_FALSE(output_reports_failure(nlohmann::json::array({1})));
}

}  // namespace
}  // namespace inferd::core::infernet

#include <string>

#include <gtest/gtest.h>

#include "infernet/sdk/envelope.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {
namespace {

// Parses `body` expecting a 400 and returns its description.
std::string rejection(const std::string& body) {
  try {
    parse_envelope(body);
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::bad_request);
    return error.what();
  }
  ADD_FAILURE() << "accepted: " << body;
  return {};
}

TEST(Envelope, OffchainObject) {
  auto envelope = parse_envelope(
      R"({"source": 1, "destination": 1, "data": {"a": 1}, "requires_proof": true})");
  EXPECT_EQ(envelope.source, Location::kOffchain);
  EXPECT_EQ(envelope.destination, Location::kOffchain);
  EXPECT_EQ(envelope.data, nlohmann::json({{"a", 1}}));
  EXPECT_TRUE(envelope.requires_proof);
  EXPECT_TRUE(envelope.input_bytes.empty());
}

TEST(Envelope, RequiresProofDefaultsToFalse) {
  auto envelope = parse_envelope(R"({"source": 1, "destination": 2, "data": {}})");
  EXPECT_FALSE(envelope.requires_proof);
  EXPECT_TRUE(envelope.streaming());
}

TEST(Envelope, NullRequiresProofIsFalse) {
  auto envelope =
      parse_envelope(R"({"source": 1, "destination": 1, "data": {}, "requires_proof": null})");
  EXPECT_FALSE(envelope.requires_proof);
}

TEST(Envelope, OnchainHexIsDecoded) {
  auto envelope = parse_envelope(R"({"source": 0, "destination": 0, "data": "00ff10"})");
  EXPECT_TRUE(envelope.onchain_source());
  EXPECT_TRUE(envelope.onchain_destination());
  EXPECT_EQ(envelope.data, "00ff10");
  EXPECT_EQ(envelope.input_bytes, (inferd::core::Bytes{0x00, 0xff, 0x10}));
}

TEST(Envelope, OnchainHexAcceptsPrefixCaseAndWhitespace) {
  auto envelope = parse_envelope(R"({"source": 0, "destination": 1, "data": " 0xABcd\n"})");
  EXPECT_EQ(envelope.input_bytes, (inferd::core::Bytes{0xab, 0xcd}));
}

TEST(Envelope, OnchainEmptyHexIsNoBytes) {
  auto envelope = parse_envelope(R"({"source": 0, "destination": 0, "data": ""})");
  EXPECT_TRUE(envelope.input_bytes.empty());
}

TEST(Envelope, KeepsRawBody) {
  std::string body = R"({"source": 1, "destination": 1, "data": {}})";
  auto envelope = parse_envelope(body);
  EXPECT_EQ(envelope.body, body);
}

TEST(Envelope, ToJsonRoundTrips) {
  std::string body = R"({"source": 1, "destination": 0, "data": {"x": [1, 2]}})";
  auto json = parse_envelope(body).to_json();
  EXPECT_EQ(json, nlohmann::json::parse(
                      R"({"source": 1, "destination": 0, "data": {"x": [1, 2]},
                          "requires_proof": false})"));
}

TEST(Envelope, RejectsInvalidJson) {
  EXPECT_NE(rejection("{not json").find("invalid request body"), std::string::npos);
}

TEST(Envelope, RejectsDeepNesting) {
  std::string deep = R"({"source": 1, "destination": 1, "data": {"x": )" +
                     std::string(100000, '[') + std::string(100000, ']') + "}}";
  EXPECT_NE(rejection(deep).find("nested deeper than 512"), std::string::npos);
}

TEST(Envelope, RejectsNonObjectBody) {
  EXPECT_NE(rejection("[1, 2]").find("got array"), std::string::npos);
}

TEST(Envelope, RejectsMissingSource) {
  EXPECT_NE(rejection(R"({"destination": 1, "data": {}})").find("missing field \"source\""),
            std::string::npos);
}

TEST(Envelope, RejectsMissingDestination) {
  EXPECT_NE(rejection(R"({"source": 1, "data": {}})").find("missing field \"destination\""),
            std::string::npos);
}

TEST(Envelope, RejectsMissingData) {
  EXPECT_NE(rejection(R"({"source": 1, "destination": 1})").find("missing field \"data\""),
            std::string::npos);
}

TEST(Envelope, RejectsSourceOutOfRange) {
  auto description = rejection(R"({"source": 2, "destination": 1, "data": {}})");
  EXPECT_NE(description.find("invalid field \"source\""), std::string::npos);
  EXPECT_NE(description.find("2 is not one of"), std::string::npos);
}

TEST(Envelope, RejectsDestinationOutOfRange) {
  EXPECT_NE(rejection(R"({"source": 1, "destination": 3, "data": {}})")
                .find("invalid field \"destination\""),
            std::string::npos);
  EXPECT_NE(rejection(R"({"source": 1, "destination": -1, "data": {}})")
                .find("invalid field \"destination\""),
            std::string::npos);
}

TEST(Envelope, RejectsNonIntegerSource) {
  EXPECT_NE(rejection(R"({"source": "1", "destination": 1, "data": {}})")
                .find("invalid field \"source\""),
            std::string::npos);
  EXPECT_NE(rejection(R"({"source": 1.5, "destination": 1, "data": {}})")
                .find("invalid field \"source\""),
            std::string::npos);
}

TEST(Envelope, RejectsNonBooleanRequiresProof) {
  EXPECT_NE(rejection(R"({"source": 1, "destination": 1, "data": {}, "requires_proof": "yes"})")
                .find("requires_proof"),
            std::string::npos);
}

TEST(Envelope, RejectsOnchainObject) {
  EXPECT_NE(rejection(R"({"source": 0, "destination": 0, "data": {"a": 1}})")
                .find("on-chain source requires a hex string, got object"),
            std::string::npos);
}

TEST(Envelope, RejectsOnchainNonHex) {
  auto description = rejection(R"({"source": 0, "destination": 0, "data": "12zz"})");
  EXPECT_NE(description.find("invalid data: expected a hex string"), std::string::npos);
  EXPECT_NE(description.find("position 2"), std::string::npos);
}

TEST(Envelope, RejectsOnchainOddLengthHex) {
  EXPECT_NE(rejection(R"({"source": 0, "destination": 0, "data": "abc"})").find("odd number"),
            std::string::npos);
}

TEST(Envelope, RejectsOffchainString) {
  EXPECT_NE(rejection(R"({"source": 1, "destination": 1, "data": "00ff"})")
                .find("off-chain source requires a JSON object, got string"),
            std::string::npos);
}

TEST(Envelope, RejectsOffchainArray) {
  EXPECT_NE(rejection(R"({"source": 1, "destination": 1, "data": [1]})").find("got array"),
            std::string::npos);
}

}  // namespace
}  // namespace infernet::sdk

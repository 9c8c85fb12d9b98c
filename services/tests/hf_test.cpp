#include <gtest/gtest.h>

#include "hf/hf.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::services {
namespace {

using nlohmann::json;
using sdk::AbiValue;

sdk::Status status_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const sdk::ServiceError& error) {
    return error.status();
  }
  return sdk::Status::ok;
}

TEST(HfRequest, GenerationOptionsBecomeParameters) {
  auto request = parse_hf_request({{"task_id", 1},
                                   {"prompt", "Is it?"},
                                   {"model", "double/text-generation"},
                                   {"max_new_tokens", 5},
                                   {"stop_sequences", "\n"},
                                   {"temperature", 0.7}});
  EXPECT_EQ(request.task, HfTask::kTextGeneration);
  EXPECT_EQ(request.text, "Is it?");
  EXPECT_EQ(request.model, "double/text-generation");
  EXPECT_EQ(request.parameters, json({{"max_new_tokens", 5},
                                      {"return_full_text", false},
                                      {"stop", {"\n"}},
                                      {"temperature", 0.7}}));
  EXPECT_EQ(hf_request_body(request)["inputs"], "Is it?");
}

TEST(HfRequest, RejectsInvalidRequests) {
  auto bad = [](json data) { return status_of([&] { parse_hf_request(data); }); };
  EXPECT_EQ(bad({{"task_id", 0}, {"text", "x"}}), sdk::Status::bad_request);
  EXPECT_EQ(bad({{"task_id", -1}, {"text", "x"}}), sdk::Status::bad_request);
  EXPECT_EQ(bad({{"task_id", "1"}, {"text", "x"}}), sdk::Status::bad_request);
  EXPECT_EQ(bad({{"task_id", 5}, {"prompt", "x"}}), sdk::Status::bad_request);
  EXPECT_EQ(bad({{"task_id", 2}}), sdk::Status::bad_request);
  EXPECT_EQ(bad({{"task_id", 1}, {"prompt", "x"}, {"stream", true}}), sdk::Status::bad_request);
  EXPECT_EQ(bad({{"task_id", 1}, {"prompt", "x"}, {"top_k", "many"}}), sdk::Status::bad_request);
  EXPECT_EQ(bad({{"task_id", 2}, {"text", "x"}, {"typo", 1}}), sdk::Status::bad_request);
  EXPECT_EQ(bad({{"task_id", 4}, {"text", "x"}, {"parameters", 3}}), sdk::Status::bad_request);
}

// The on-chain request (uint8 1, string "", string "hi"): words 1, 0x60, 0x80, 0, 2, "hi".
TEST(HfRequest, DecodesOnchainGoldenBytes) {
  const std::string hex =
      "0000000000000000000000000000000000000000000000000000000000000001"
      "0000000000000000000000000000000000000000000000000000000000000060"
      "0000000000000000000000000000000000000000000000000000000000000080"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000002"
      "6869000000000000000000000000000000000000000000000000000000000000";
  auto request = decode_hf_request(sdk::hex_decode(hex));
  EXPECT_EQ(request.task, HfTask::kTextGeneration);
  EXPECT_EQ(request.model, "");
  EXPECT_EQ(request.text, "hi");
}

TEST(HfOutput, ClassificationScoresScaledBy1e6) {
  HfRequest request;
  request.task = HfTask::kTextClassification;
  auto output = hf_output(
      request,
      json::parse(
          R"([[{"label":"POSITIVE","score":0.9987},{"label":"NEGATIVE","score":0.0013}]])"));
  ASSERT_EQ(output.size(), 2u);
  EXPECT_EQ(output[0]["label"], "POSITIVE");

  auto decoded = sdk::abi_decode(sdk::abi_type("(string[],uint256[])"),
                                 encode_hf_output(HfTask::kTextClassification, output));
  ASSERT_EQ(decoded[0].as_list().size(), 2u);
  EXPECT_EQ(decoded[0][0].as_string(), "POSITIVE");
  EXPECT_EQ(decoded[0][1].as_string(), "NEGATIVE");
  EXPECT_EQ(decoded[1][0].as_uint(), inferd::core::U256(998700));
  EXPECT_EQ(decoded[1][1].as_uint(), inferd::core::U256(1300));
}

TEST(HfOutput, TokenClassificationUsesEntityGroups) {
  HfRequest request;
  request.task = HfTask::kTokenClassification;
  auto output = hf_output(
      request,
      json::parse(
          R"([{"entity_group":"ORG","score":0.9876543,"word":"Ritual","start":0,"end":6}])"));
  auto decoded = sdk::abi_decode(sdk::abi_type("(string[],uint256[])"),
                                 encode_hf_output(HfTask::kTokenClassification, output));
  EXPECT_EQ(decoded[0][0].as_string(), "ORG");
  EXPECT_EQ(decoded[1][0].as_uint(), inferd::core::U256(987654));
}

TEST(HfOutput, SummaryAndGeneratedText) {
  HfRequest summary;
  summary.task = HfTask::kSummarization;
  auto output = hf_output(summary, json::parse(R"([{"summary_text":"short"}])"));
  EXPECT_EQ(output, json({{"summary_text", "short"}}));
  EXPECT_EQ(encode_hf_output(HfTask::kSummarization, output), sdk::abi_encode_string("short"));

  HfRequest generation;
  auto text = hf_output(generation, json::parse(R"([{"generated_text":"yes"}])"));
  EXPECT_EQ(text, "yes");
  EXPECT_EQ(encode_hf_output(HfTask::kTextGeneration, text), sdk::abi_encode_string("yes"));
}

TEST(HfOutput, WrongShapeIs502) {
  HfRequest request;
  request.task = HfTask::kTextClassification;
  EXPECT_EQ(status_of([&] { hf_output(request, json::parse(R"({"error":"x"})")); }),
            sdk::Status::bad_gateway);
  request.task = HfTask::kSummarization;
  EXPECT_EQ(status_of([&] { hf_output(request, json::parse(R"([{"text":"x"}])")); }),
            sdk::Status::bad_gateway);
}

}  // namespace
}  // namespace infernet::services

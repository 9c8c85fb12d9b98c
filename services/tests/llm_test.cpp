#include <gtest/gtest.h>

#include "infernet/sdk/errors.hpp"
#include "llm/llm.hpp"

namespace infernet::services {
namespace {

using nlohmann::json;
using sdk::AbiValue;

LlmConfig test_config() {
  LlmConfig config;
  config.providers[0] = {"http://127.0.0.1:9/v1/", "openai-key", true};
  config.providers[1] = {"http://127.0.0.1:9/v1/", "goose-key", true};
  config.providers[2] = {"http://127.0.0.1:9/", "", true};
  config.providers[3] = {"http://127.0.0.1:9/local/v1", "", false};
  return config;
}

json chat_request(const std::string& provider) {
  return {{"provider", provider},
          {"endpoint", "completions"},
          {"model", "gpt-neo-20b"},
          {"params", {{"messages", {{{"role", "user"}, {"content", "hi"}}}}}},
          {"api_keys", {{"OPENAI", "caller-key"}}}};
}

sdk::Bytes onchain_request(unsigned provider, unsigned endpoint, const std::string& model) {
  AbiValue messages =
      AbiValue::list({AbiValue::list({AbiValue::string("system"), AbiValue::string("be brief")}),
                      AbiValue::list({AbiValue::string("user"), AbiValue::string("hello")})});
  return sdk::abi_encode(
      sdk::abi_type("(uint8,uint8,string,(string,string)[])"),
      {AbiValue::uint(provider), AbiValue::uint(endpoint), AbiValue::string(model), messages});
}

sdk::Status status_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const sdk::ServiceError& error) {
    return error.status();
  }
  return sdk::Status::ok;
}

TEST(LlmRequest, ParsesOffchainCompletion) {
  auto request = parse_llm_request(chat_request("PERPLEXITYAI"));
  EXPECT_EQ(request.provider, Provider::kPerplexityai);
  EXPECT_EQ(request.endpoint, Endpoint::kCompletions);
  EXPECT_EQ(request.model, "gpt-neo-20b");
  ASSERT_EQ(request.messages.size(), 1u);
  EXPECT_EQ(request.messages[0].role, "user");
  EXPECT_EQ(request.messages[0].content, "hi");
  EXPECT_TRUE(request.extra_args.empty());
}

TEST(LlmRequest, ParsesOffchainEmbeddings) {
  auto request = parse_llm_request({{"provider", "OPENAI"},
                                    {"endpoint", "embeddings"},
                                    {"model", "text-embedding-3-small"},
                                    {"params", {{"input", "some text"}}}});
  EXPECT_EQ(request.endpoint, Endpoint::kEmbeddings);
  EXPECT_EQ(request.input, "some text");
}

TEST(LlmRequest, RejectsInvalidFields) {
  auto bad = [](json request) { return status_of([&] { parse_llm_request(request); }); };
  json unknown_provider = chat_request("ANTHROPIC");
  EXPECT_EQ(bad(unknown_provider), sdk::Status::bad_request);
  json no_messages = chat_request("OPENAI");
  no_messages["params"]["messages"] = json::array();
  EXPECT_EQ(bad(no_messages), sdk::Status::bad_request);
  json bad_endpoint = chat_request("OPENAI");
  bad_endpoint["endpoint"] = "images";
  EXPECT_EQ(bad(bad_endpoint), sdk::Status::bad_request);
  json content_not_string = chat_request("OPENAI");
  content_not_string["params"]["messages"][0]["content"] = 5;
  EXPECT_EQ(bad(content_not_string), sdk::Status::bad_request);
  json extra_not_object = chat_request("OPENAI");
  extra_not_object["extra_args"] = "x";
  EXPECT_EQ(bad(extra_not_object), sdk::Status::bad_request);
}

TEST(LlmRequest, DecodesOnchainWithReferenceEnums) {
  auto request = decode_llm_request(onchain_request(2, 0, "mistral-7b-instruct"));
  EXPECT_EQ(request.provider, Provider::kPerplexityai);
  EXPECT_EQ(request.model, "mistral-7b-instruct");
  ASSERT_EQ(request.messages.size(), 2u);
  EXPECT_EQ(request.messages[0].role, "system");
  EXPECT_EQ(request.messages[1].content, "hello");
  EXPECT_EQ(decode_llm_request(onchain_request(1, 0, "m")).provider, Provider::kGooseai);
  EXPECT_EQ(decode_llm_request(onchain_request(0, 0, "m")).provider, Provider::kOpenai);
}

TEST(LlmRequest, OnchainRejectsEmbeddingsAndUnknown) {
  EXPECT_EQ(status_of([] { decode_llm_request(onchain_request(0, 1, "m")); }),
            sdk::Status::bad_request);
  EXPECT_EQ(status_of([] { decode_llm_request(onchain_request(9, 0, "m")); }),
            sdk::Status::bad_request);
  EXPECT_EQ(status_of([] { decode_llm_request(onchain_request(0, 2, "m")); }),
            sdk::Status::bad_request);
  EXPECT_EQ(status_of([] { decode_llm_request(sdk::Bytes{1, 2, 3}); }), sdk::Status::bad_request);
}

TEST(ProviderCall, OpenaiChatUsesEnvironmentKey) {
  auto request = parse_llm_request(chat_request("OPENAI"));
  request.extra_args = {{"max_tokens", 10}};
  auto call = build_provider_call(test_config(), request, false);
  EXPECT_EQ(call.url.target, "/v1/chat/completions");
  EXPECT_EQ(call.body["model"], "gpt-neo-20b");
  EXPECT_EQ(call.body["messages"], json::parse(R"([{"role":"user","content":"hi"}])"));
  EXPECT_EQ(call.body["max_tokens"], 10);
  EXPECT_FALSE(call.body.contains("stream"));
  ASSERT_EQ(call.headers.size(), 1u);
  EXPECT_EQ(call.headers[0].second, "Bearer openai-key");
}

TEST(ProviderCall, StreamFlagAndCompatiblePath) {
  auto request = parse_llm_request(chat_request("OPENAI_COMPATIBLE"));
  auto call = build_provider_call(test_config(), request, true);
  EXPECT_EQ(call.url.target, "/local/v1/chat/completions");
  EXPECT_EQ(call.body["stream"], true);
  EXPECT_TRUE(call.headers.empty());
}

TEST(ProviderCall, GooseaiUsesEngineAndPrompt) {
  auto request = parse_llm_request(chat_request("GOOSEAI"));
  auto call = build_provider_call(test_config(), request, false);
  EXPECT_EQ(call.url.target, "/v1/engines/gpt-neo-20b/completions");
  EXPECT_EQ(call.body, json({{"prompt", "hi"}}));

  request.messages.push_back({"user", "second"});
  EXPECT_EQ(status_of([&] { build_provider_call(test_config(), request, false); }),
            sdk::Status::bad_request);
}

TEST(ProviderCall, EmbeddingsOnlyWhereOffered) {
  LlmRequest request;
  request.endpoint = Endpoint::kEmbeddings;
  request.model = "text-embedding-3-small";
  request.input = "abc";
  auto call = build_provider_call(test_config(), request, false);
  EXPECT_EQ(call.url.target, "/v1/embeddings");
  EXPECT_EQ(call.body, json({{"model", "text-embedding-3-small"}, {"input", "abc"}}));

  request.provider = Provider::kGooseai;
  EXPECT_EQ(status_of([&] { build_provider_call(test_config(), request, false); }),
            sdk::Status::bad_request);
}

TEST(ProviderCall, MissingKeyOrBaseUrlIs400) {
  auto perplexity = parse_llm_request(chat_request("PERPLEXITYAI"));
  try {
    build_provider_call(test_config(), perplexity, false);
    FAIL() << "accepted a provider without a key";
  } catch (const sdk::ServiceError& error) {
    EXPECT_EQ(error.status(), sdk::Status::bad_request);
    EXPECT_NE(std::string(error.what()).find("PERPLEXITYAI_API_KEY"), std::string::npos);
  }

  LlmConfig config = test_config();
  config.providers[3].base_url.clear();
  auto compatible = parse_llm_request(chat_request("OPENAI_COMPATIBLE"));
  EXPECT_EQ(status_of([&] { build_provider_call(config, compatible, false); }),
            sdk::Status::bad_request);
}

TEST(ProviderCall, ExtraArgsCannotReplaceModel) {
  auto request = parse_llm_request(chat_request("OPENAI"));
  for (const char* field : {"model", "messages", "stream", "prompt", "input"}) {
    request.extra_args = {{field, "x"}};
    EXPECT_EQ(status_of([&] { build_provider_call(test_config(), request, false); }),
              sdk::Status::bad_request)
        << field;
  }
}

TEST(ProviderReply, ExtractsTextAndEmbedding) {
  auto openai = parse_llm_request(chat_request("OPENAI"));
  EXPECT_EQ(
      extract_output(
          openai, json::parse(R"({"choices":[{"message":{"role":"assistant","content":"hey"}}]})")),
      "hey");
  auto goose = parse_llm_request(chat_request("GOOSEAI"));
  EXPECT_EQ(extract_output(goose, json::parse(R"({"choices":[{"text":"yo"}]})")), "yo");

  LlmRequest embeddings;
  embeddings.endpoint = Endpoint::kEmbeddings;
  EXPECT_EQ(extract_output(embeddings, json::parse(R"({"data":[{"embedding":[0.5,-1]}]})")),
            json::parse("[0.5,-1]"));
}

TEST(ProviderReply, WrongShapeIs502) {
  auto openai = parse_llm_request(chat_request("OPENAI"));
  EXPECT_EQ(status_of([&] { extract_output(openai, json::parse(R"({"choices":[]})")); }),
            sdk::Status::bad_gateway);
  EXPECT_EQ(status_of([&] {
              extract_output(openai, json::parse(R"({"choices":[{"message":{"content":null}}]})"));
            }),
            sdk::Status::bad_gateway);
}

TEST(ProviderDelta, ContentRoleOnlyAndError) {
  EXPECT_EQ(extract_delta(Provider::kOpenai,
                          json::parse(R"({"choices":[{"delta":{"content":" world"}}]})")),
            " world");
  EXPECT_EQ(extract_delta(Provider::kOpenai,
                          json::parse(R"({"choices":[{"delta":{"role":"assistant"}}]})")),
            "");
  EXPECT_EQ(extract_delta(Provider::kOpenai, json::parse(R"({"choices":[],"usage":{}})")), "");
  EXPECT_EQ(extract_delta(Provider::kGooseai, json::parse(R"({"choices":[{"text":"x"}]})")), "x");
  EXPECT_EQ(status_of([] {
              extract_delta(Provider::kOpenai,
                            json::parse(R"({"error":{"message":"overloaded"}})"));
            }),
            sdk::Status::bad_gateway);
}

}  // namespace
}  // namespace infernet::services

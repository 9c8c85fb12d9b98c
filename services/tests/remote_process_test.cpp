// Starts llm-service, tgi-service and hf-service against the provider-double binary, all on
// free loopback ports, and drives them over HTTP.
#include <signal.h>

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "infernet/sdk/codec.hpp"
#include "infra/http_client.hpp"
#include "tests/service_process.hpp"

namespace infernet::services::testing {
namespace {

using namespace std::chrono_literals;
using inferd::infra::ChunkHandler;
using inferd::infra::ClientError;
using inferd::infra::ClientRequest;
using inferd::infra::ClientResponse;
using inferd::infra::HttpClient;
using inferd::infra::Url;
using nlohmann::json;
using sdk::AbiValue;
namespace asio = boost::asio;
namespace http = boost::beast::http;

const std::vector<std::string> kLoopback{"--bind-address", "127.0.0.1", "--port", "0"};
constexpr const char* kFastRetries = R"({"tries": 3, "delay": 0.01, "jitter": 0})";

std::string base_url(unsigned short port, const std::string& path = "") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// A port on 127.0.0.1 that nothing listens on right now.
unsigned short unused_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

std::string job(int source, int destination, const json& data, bool proof = false) {
  return json{
      {"source", source}, {"destination", destination}, {"data", data}, {"requires_proof", proof}}
      .dump();
}

// An HTTP client on its own I/O thread.
class Client {
 public:
  Client() : thread_([this] { io_.run(); }) {}
  ~Client() {
    client_.clear_idle();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  ClientResponse send(unsigned short port, http::verb method, const std::string& path,
                      std::string body = {}) {
    ClientRequest request;
    request.method = method;
    request.body = std::move(body);
    request.content_type = "application/json";
    return asio::co_spawn(io_,
                          client_.send(Url::parse(base_url(port, path)), std::move(request),
                                       std::chrono::steady_clock::now() + 20s),
                          asio::use_future)
        .get();
  }

  json post(unsigned short port, const std::string& path, const json& body) {
    auto response = send(port, http::verb::post, path, body.dump());
    return json::parse(response.body);
  }

  ClientResponse post_job(unsigned short port, const std::string& body) {
    return send(port, http::verb::post, "/service_output", body);
  }

  // Sends a streaming job; `on_chunk` receives each chunk as it arrives. Returns every chunk.
  std::vector<std::string> stream_job(unsigned short port, const std::string& body,
                                      std::function<void(const std::string&)> on_chunk = {}) {
    auto chunks = std::make_shared<std::vector<std::string>>();
    ChunkHandler collect = [chunks, on_chunk](std::string_view data) -> inferd::Awaitable<void> {
      chunks->emplace_back(data);
      if (on_chunk)
        on_chunk(chunks->back());
      co_return;
    };
    ClientRequest request;
    request.method = http::verb::post;
    request.body = body;
    request.content_type = "application/json";
    auto response = asio::co_spawn(io_,
                                   client_.stream(Url::parse(base_url(port, "/service_output")),
                                                  std::move(request),
                                                  std::chrono::steady_clock::now() + 20s, collect),
                                   asio::use_future)
                        .get();
    EXPECT_EQ(response.status_code, 200u) << response.body;
    return *chunks;
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  HttpClient client_{io_.get_executor()};
  std::thread thread_;
};

std::string joined(const std::vector<std::string>& chunks) {
  std::string text;
  for (const auto& chunk : chunks)
    text += chunk;
  return text;
}

// Checks the container error shape and returns the description.
std::string error_description(const ClientResponse& response, unsigned status) {
  EXPECT_EQ(response.status_code, status) << response.body;
  EXPECT_TRUE(response.is_json()) << response.body;
  auto body = json::parse(response.body);
  EXPECT_EQ(body["code"], std::to_string(status));
  EXPECT_TRUE(body["name"].is_string());
  return body.value("description", "");
}

json provider_requests(Client& client, unsigned short double_port) {
  return json::parse(client.send(double_port, http::verb::get, "/double/requests").body);
}

json chat(const std::string& provider, const std::string& model, const std::string& content) {
  return {{"provider", provider},
          {"endpoint", "completions"},
          {"model", model},
          {"params", {{"messages", {{{"role", "user"}, {"content", content}}}}}}};
}

// The provider double and an llm-service whose providers all point at it.
struct LlmFixture {
  ServiceProcess provider{binary_path("provider-double"), {"--port", "0"}};
  ServiceProcess llm;
  Client client;

  explicit LlmFixture(std::string retry_params = kFastRetries)
      : llm(binary_path("llm-service"), kLoopback,
            {"OPENAI_BASE_URL=" + base_url(provider.port(), "/v1"), "OPENAI_API_KEY=env-openai-key",
             "PERPLEXITYAI_BASE_URL=" + base_url(provider.port()),
             "PERPLEXITYAI_API_KEY=env-perplexity-key",
             "GOOSEAI_BASE_URL=" + base_url(provider.port(), "/v1/"),
             "GOOSEAI_API_KEY=env-goose-key", "RETRY_PARAMS=" + retry_params}) {}
};

TEST(LlmService, OffchainCompletionUsesEnvironmentKey) {
  LlmFixture fixture;
  json data = chat("OPENAI", "gpt-4o", "hello there");
  data["api_keys"] = {{"OPENAI", "caller-key"}};
  data["extra_args"] = {{"max_tokens", 2}};
  auto response = fixture.client.post_job(fixture.llm.port(), job(1, 1, data));

  ASSERT_EQ(response.status_code, 200u) << response.body;
  EXPECT_EQ(json::parse(response.body), json({{"output", "echo: hello"}}));
  auto requests = provider_requests(fixture.client, fixture.provider.port());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["path"], "/v1/chat/completions");
  EXPECT_EQ(requests[0]["authorization"], "Bearer env-openai-key");
  EXPECT_EQ(requests[0]["body"]["model"], "gpt-4o");
  EXPECT_EQ(requests[0]["body"]["max_tokens"], 2);
}

TEST(LlmService, OnchainRequestGivesAbiString) {
  LlmFixture fixture;
  AbiValue messages =
      AbiValue::list({AbiValue::list({AbiValue::string("user"), AbiValue::string("gm")})});
  const std::string input = sdk::hex_encode(
      sdk::abi_encode(sdk::abi_type("(uint8,uint8,string,(string,string)[])"),
                      {AbiValue::uint(2), AbiValue::uint(0), AbiValue::string("sonar"), messages}));
  auto response = fixture.client.post_job(fixture.llm.port(), job(0, 0, input));

  ASSERT_EQ(response.status_code, 200u) << response.body;
  auto output = json::parse(response.body);
  EXPECT_EQ(output["raw_input"], input);
  EXPECT_EQ(output["raw_output"], sdk::hex_encode(sdk::abi_encode_string("echo: gm")));
  EXPECT_EQ(output["processed_input"], "");
  EXPECT_EQ(output["processed_output"], "");
  EXPECT_EQ(output["proof"], "");
  auto requests = provider_requests(fixture.client, fixture.provider.port());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0]["path"], "/chat/completions");
  EXPECT_EQ(requests[0]["authorization"], "Bearer env-perplexity-key");
}

TEST(LlmService, GooseaiAndEmbeddings) {
  LlmFixture fixture;
  auto goose = fixture.client.post_job(fixture.llm.port(),
                                       job(1, 1, chat("GOOSEAI", "gpt-neo-20b", "one prompt")));
  ASSERT_EQ(goose.status_code, 200u) << goose.body;
  EXPECT_EQ(json::parse(goose.body)["output"], "echo: one prompt");

  json embeddings{{"provider", "OPENAI"},
                  {"endpoint", "embeddings"},
                  {"model", "text-embedding-3-small"},
                  {"params", {{"input", "four"}}}};
  auto response = fixture.client.post_job(fixture.llm.port(), job(1, 1, embeddings));
  ASSERT_EQ(response.status_code, 200u) << response.body;
  EXPECT_EQ(json::parse(response.body)["output"], json::parse("[4.0, 0.5, -0.25]"));
}

TEST(LlmService, RetriesAfter429) {
  LlmFixture fixture;
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"status", 429}, {"count", 2}});
  auto response =
      fixture.client.post_job(fixture.llm.port(), job(1, 1, chat("OPENAI", "gpt-4o", "again")));

  ASSERT_EQ(response.status_code, 200u) << response.body;
  EXPECT_EQ(json::parse(response.body)["output"], "echo: again");
  EXPECT_EQ(provider_requests(fixture.client, fixture.provider.port()).size(), 3u);
}

TEST(LlmService, PersistentServerErrorIs502) {
  LlmFixture fixture;
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"status", 500}, {"count", 10}});
  auto response =
      fixture.client.post_job(fixture.llm.port(), job(1, 1, chat("OPENAI", "gpt-4o", "fail")));

  auto description = error_description(response, 502);
  EXPECT_NE(description.find("OPENAI replied HTTP 500 after 3 attempts"), std::string::npos)
      << description;
  EXPECT_EQ(provider_requests(fixture.client, fixture.provider.port()).size(), 3u);
}

TEST(LlmService, ExhaustedRateLimitIs429) {
  LlmFixture fixture(R"({"tries": 1})");
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"status", 429}, {"count", 1}});
  auto response =
      fixture.client.post_job(fixture.llm.port(), job(1, 1, chat("OPENAI", "gpt-4o", "busy")));
  auto description = error_description(response, 429);
  // The double's error message repeats the request's key, which the service must hide.
  EXPECT_EQ(description.find("env-openai-key"), std::string::npos) << description;
  EXPECT_NE(description.find("Bearer ***"), std::string::npos) << description;
}

TEST(LlmService, ProofRequestIs400) {
  LlmFixture fixture;
  auto response = fixture.client.post_job(fixture.llm.port(),
                                          job(1, 1, chat("OPENAI", "gpt-4o", "prove it"), true));
  EXPECT_EQ(error_description(response, 400), "Proofs are not supported for CSS Inference");
  EXPECT_TRUE(provider_requests(fixture.client, fixture.provider.port()).empty());
}

TEST(LlmService, StreamRelaysDeltasAsTheyArrive) {
  LlmFixture fixture;
  // The double holds its stream after the role event and two words until released, so the
  // first delta can only reach the client if the service relays it before the stream ends.
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"hold_after_events", 3}});
  Client control;
  bool released = false;
  auto chunks = fixture.client.stream_job(
      fixture.llm.port(), job(1, 2, chat("OPENAI", "gpt-4o", "stream these words")),
      [&](const std::string&) {
        if (!released) {
          released = true;
          control.post(fixture.provider.port(), "/double/release", json::object());
        }
      });

  EXPECT_TRUE(released);
  EXPECT_EQ(joined(chunks), "echo: stream these words");
  EXPECT_GE(chunks.size(), 2u);
  EXPECT_EQ(provider_requests(control, fixture.provider.port()).size(), 1u);
}

TEST(LlmService, GooseaiStreamRelaysText) {
  LlmFixture fixture;
  auto chunks = fixture.client.stream_job(fixture.llm.port(),
                                          job(1, 2, chat("GOOSEAI", "gpt-j-6b", "goose stream")));
  EXPECT_EQ(joined(chunks), "echo: goose stream");
}

TEST(LlmService, CutStreamFailsTheStream) {
  LlmFixture fixture;
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"cut_after_events", 2}});
  EXPECT_THROW(fixture.client.stream_job(fixture.llm.port(),
                                         job(1, 2, chat("OPENAI", "gpt-4o", "cut me short"))),
               ClientError);
  // The service keeps serving after a broken stream.
  auto response = fixture.client.post_job(fixture.llm.port(),
                                          job(1, 1, chat("OPENAI", "gpt-4o", "still here")));
  EXPECT_EQ(json::parse(response.body)["output"], "echo: still here");
}

TEST(LlmService, StreamErrorBeforeOutputIsJson) {
  LlmFixture fixture(R"({"tries": 2, "delay": 0.01, "jitter": 0})");
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"status", 500}, {"count", 2}});
  auto response =
      fixture.client.post_job(fixture.llm.port(), job(1, 2, chat("OPENAI", "gpt-4o", "x")));
  auto description = error_description(response, 502);
  EXPECT_NE(description.find("HTTP 500"), std::string::npos) << description;
}

TEST(LlmService, InvalidRetryParamsStopStart) {
  // The child inherits this process's environment.
  setenv("RETRY_PARAMS", R"({"tries": 0})", 1);
  auto invalid = run_to_exit(binary_path("llm-service"), {"--port", "0"});
  unsetenv("RETRY_PARAMS");
  EXPECT_EQ(invalid, 2);
}

// A TGI-facing fixture: the double, and tgi-service pointed at it.
struct TgiFixture {
  ServiceProcess provider{binary_path("provider-double"), {"--port", "0"}};
  ServiceProcess tgi;
  Client client;

  TgiFixture()
      : tgi(binary_path("tgi-service"), kLoopback,
            {"TGI_INF_WORKFLOW_POSITIONAL_ARGS=[\"" + base_url(provider.port()) +
                 "\", 10, null, null, " + kFastRetries + "]",
             "TGI_INF_WORKFLOW_KW_ARGS={\"max_new_tokens\": 4}", "TGI_INF_TOKEN=tgi-secret"}) {}
};

TEST(TgiService, NotReadyUntilServerAnswers) {
  const unsigned short port = unused_port();
  ServiceProcess tgi(binary_path("tgi-service"), kLoopback,
                     {"TGI_INF_WORKFLOW_POSITIONAL_ARGS=[\"" + base_url(port) + "\", 5]"});
  Client client;
  auto description = error_description(client.send(tgi.port(), http::verb::get, "/"), 503);
  EXPECT_NE(description.find("not reachable"), std::string::npos) << description;

  ServiceProcess provider(binary_path("provider-double"), {"--port", std::to_string(port)});
  auto ready = client.send(tgi.port(), http::verb::get, "/");
  EXPECT_EQ(ready.status_code, 200u) << ready.body;
  EXPECT_EQ(json::parse(ready.body), json({{"message", "tgi"}}));
}

TEST(TgiService, OffchainAndOnchainGenerate) {
  TgiFixture fixture;
  auto offchain =
      fixture.client.post_job(fixture.tgi.port(), job(1, 1, {{"text", "one two three four"}}));
  ASSERT_EQ(offchain.status_code, 200u) << offchain.body;
  EXPECT_EQ(json::parse(offchain.body), json({{"output", "echo: one two three"}}));

  const std::string input = sdk::hex_encode(sdk::abi_encode_string("gm"));
  auto onchain = fixture.client.post_job(fixture.tgi.port(), job(0, 0, input));
  ASSERT_EQ(onchain.status_code, 200u) << onchain.body;
  auto output = json::parse(onchain.body);
  EXPECT_EQ(output["raw_input"], input);
  EXPECT_EQ(output["raw_output"], sdk::hex_encode(sdk::abi_encode_string("echo: gm")));

  auto requests = provider_requests(fixture.client, fixture.provider.port());
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0]["path"], "/generate");
  EXPECT_EQ(requests[0]["authorization"], "Bearer tgi-secret");
  EXPECT_EQ(requests[0]["body"],
            json({{"inputs", "one two three four"}, {"parameters", {{"max_new_tokens", 4}}}}));
}

TEST(TgiService, StreamSkipsSpecialTokens) {
  TgiFixture fixture;
  auto chunks = fixture.client.stream_job(fixture.tgi.port(), job(1, 2, {{"text", "a b c d"}}));
  EXPECT_EQ(joined(chunks), "echo: a b c");
}

TEST(TgiService, CutStreamFailsTheStream) {
  TgiFixture fixture;
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"cut_after_events", 1}});
  EXPECT_THROW(fixture.client.stream_job(fixture.tgi.port(), job(1, 2, {{"text", "a b c"}})),
               ClientError);
}

TEST(TgiService, RetryThenServerErrorIs502) {
  TgiFixture fixture;
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"status", 429}, {"count", 1}});
  auto retried = fixture.client.post_job(fixture.tgi.port(), job(1, 1, {{"text", "x"}}));
  EXPECT_EQ(json::parse(retried.body)["output"], "echo: x");

  fixture.client.post(fixture.provider.port(), "/double/faults", {{"status", 500}, {"count", 3}});
  auto failed = fixture.client.post_job(fixture.tgi.port(), job(1, 1, {{"text", "x"}}));
  auto description = error_description(failed, 502);
  EXPECT_NE(description.find("TGI replied HTTP 500"), std::string::npos) << description;
}

TEST(TgiService, ProofRequestIs400) {
  TgiFixture fixture;
  auto response = fixture.client.post_job(fixture.tgi.port(), job(1, 1, {{"text", "x"}}, true));
  EXPECT_EQ(error_description(response, 400),
            "Proofs are not supported for TGI Client Inference Service");
}

// The double and an hf-service pointed at it, with the double's models as defaults.
struct HfFixture {
  ServiceProcess provider{binary_path("provider-double"), {"--port", "0"}};
  ServiceProcess hf;
  Client client;

  HfFixture()
      : hf(binary_path("hf-service"), kLoopback,
           {"HF_INF_BASE_URL=" + base_url(provider.port()), "HF_INF_TOKEN=hf-secret",
            std::string("HF_INF_RETRY_PARAMS=") + kFastRetries,
            "HF_INF_DEFAULT_MODELS={\"text-generation\": \"double/text-generation\", "
            "\"text-classification\": \"double/text-classification\", "
            "\"token-classification\": \"double/token-classification\", "
            "\"summarization\": \"double/summarization\"}"}) {}
};

TEST(HfService, FourTasksOffchain) {
  HfFixture fixture;
  auto run = [&](const json& data) {
    auto response = fixture.client.post_job(fixture.hf.port(), job(1, 1, data));
    EXPECT_EQ(response.status_code, 200u) << response.body;
    return json::parse(response.body)["output"];
  };

  EXPECT_EQ(run({{"task_id", 1}, {"prompt", "is it yes"}, {"max_new_tokens", 3}}), "echo: is it");
  auto labels =
      run({{"task_id", 2}, {"text", "a good day"}, {"model", "double/text-classification"}});
  EXPECT_EQ(labels[0]["label"], "POSITIVE");
  EXPECT_GT(labels[0]["score"].get<double>(), 0.8);
  auto entities = run({{"task_id", 3}, {"text", "Ritual builds Infernet"}});
  ASSERT_EQ(entities.size(), 2u);
  EXPECT_EQ(entities[0]["entity_group"], "ORG");
  EXPECT_EQ(entities[1]["word"], "Infernet");
  auto summary = run({{"task_id", 4}, {"text", "one two three four five six"}});
  EXPECT_EQ(summary, json({{"summary_text", "one two three"}}));

  auto requests = provider_requests(fixture.client, fixture.provider.port());
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0]["path"], "/models/double/text-generation");
  EXPECT_EQ(requests[0]["authorization"], "Bearer hf-secret");
}

TEST(HfService, OnchainClassificationEncoding) {
  HfFixture fixture;
  const std::string input = sdk::hex_encode(
      sdk::abi_encode(sdk::abi_type("(uint8,string,string)"),
                      {AbiValue::uint(2), AbiValue::string(""), AbiValue::string("bad news")}));
  auto response = fixture.client.post_job(fixture.hf.port(), job(0, 0, input));
  ASSERT_EQ(response.status_code, 200u) << response.body;

  auto raw_output = sdk::hex_decode(json::parse(response.body)["raw_output"].get<std::string>());
  auto decoded = sdk::abi_decode(sdk::abi_type("(string[],uint256[])"), raw_output);
  EXPECT_EQ(decoded[0][0].as_string(), "NEGATIVE");
  EXPECT_EQ(decoded[1][0].as_uint(), inferd::core::U256(998712));
  EXPECT_EQ(decoded[1][1].as_uint(), inferd::core::U256(1288));
}

TEST(HfService, NotReadyUntilApiAnswers) {
  const unsigned short port = unused_port();
  ServiceProcess hf(binary_path("hf-service"), kLoopback, {"HF_INF_BASE_URL=" + base_url(port)});
  Client client;
  error_description(client.send(hf.port(), http::verb::get, "/"), 503);

  ServiceProcess provider(binary_path("provider-double"), {"--port", std::to_string(port)});
  EXPECT_EQ(client.send(hf.port(), http::verb::get, "/").status_code, 200u);
}

TEST(HfService, ServerErrorAndUnknownTask) {
  HfFixture fixture;
  fixture.client.post(fixture.provider.port(), "/double/faults", {{"status", 503}, {"count", 3}});
  auto failed =
      fixture.client.post_job(fixture.hf.port(), job(1, 1, {{"task_id", 2}, {"text", "x"}}));
  error_description(failed, 502);

  auto unknown =
      fixture.client.post_job(fixture.hf.port(), job(1, 1, {{"task_id", 5}, {"prompt", "x"}}));
  EXPECT_NE(error_description(unknown, 400).find("text to image"), std::string::npos);
  auto proof =
      fixture.client.post_job(fixture.hf.port(), job(1, 1, {{"task_id", 2}, {"text", "x"}}, true));
  EXPECT_EQ(error_description(proof, 400),
            "Proofs are not supported for HF Client Inference Service");
}

json resources(Client& client, unsigned short port, const std::string& model_id = "") {
  const std::string query = model_id.empty() ? "" : "?model_id=" + model_id;
  auto response = client.send(port, http::verb::get, "/service-resources" + query);
  EXPECT_EQ(response.status_code, 200u) << response.body;
  return json::parse(response.body);
}

TEST(LlmService, ResourcesListConfiguredProviders) {
  LlmFixture fixture;
  auto described = resources(fixture.client, fixture.llm.port());
  EXPECT_EQ(described["service_id"], "css-inference-service");
  EXPECT_EQ(described["compute_capability"][0]["type"], "css");
  EXPECT_EQ(resources(fixture.client, fixture.llm.port(), "OPENAI/gpt-4o"),
            json({{"supported", true}}));
  EXPECT_EQ(resources(fixture.client, fixture.llm.port(), "OPENAI_COMPATIBLE/llama"),
            json({{"supported", false}}));
  EXPECT_EQ(resources(fixture.client, fixture.llm.port(), "gpt-4o"), json({{"supported", false}}));
}

TEST(TgiService, ResourcesSupportNoModel) {
  TgiFixture fixture;
  auto described = resources(fixture.client, fixture.tgi.port());
  EXPECT_EQ(described["service_id"], "tgi-client-inference-service");
  EXPECT_EQ(described["compute_capability"][0]["type"], "tgi_client");
  EXPECT_EQ(resources(fixture.client, fixture.tgi.port(), "any/model"),
            json({{"supported", false}}));
}

TEST(HfService, ResourcesSupportDefaultModels) {
  HfFixture fixture;
  auto described = resources(fixture.client, fixture.hf.port());
  EXPECT_EQ(described["service_id"], "hf-inference-client-service");
  EXPECT_EQ(described["compute_capability"][0]["type"], "hf_client");
  EXPECT_EQ(resources(fixture.client, fixture.hf.port(), "double/summarization"),
            json({{"supported", true}}));
  EXPECT_EQ(resources(fixture.client, fixture.hf.port(), "impira/layoutlm-document-qa"),
            json({{"supported", false}}));
}

TEST(RemoteServices, SigtermStopsCleanly) {
  for (const char* name : {"llm-service", "hf-service"}) {
    ServiceProcess service(binary_path(name), kLoopback);
    EXPECT_EQ(service.stop(SIGTERM, 10s), 0) << name;
  }
}

}  // namespace
}  // namespace infernet::services::testing

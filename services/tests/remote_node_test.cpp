// llm-service and tgi-service as unmanaged containers of the real inferd node, with the
// provider-double binary in place of the remote servers: off-chain and streaming jobs.
#include <gtest/gtest.h>

#include "support/node_harness.hpp"
#include "tests/service_process.hpp"

namespace inferd::testing {
namespace {

using infernet::services::testing::binary_path;
using nlohmann::json;
using ServiceBinary = infernet::services::testing::ServiceProcess;

const std::vector<std::string> kLoopback{"--bind-address", "127.0.0.1", "--port", "0"};

std::string base_url(unsigned short port, const std::string& path = "") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// A node with one unmanaged container `id` reached through its url.
json node_config(const std::string& id, unsigned short port) {
  json container = container_entry(id, port);
  container["url"] = base_url(port);
  return {{"manage_containers", false}, {"containers", json::array({container})}};
}

json chat(const std::string& content) {
  return {{"provider", "OPENAI"},
          {"endpoint", "completions"},
          {"model", "gpt-4o-mini"},
          {"params", {{"messages", {{{"role", "user"}, {"content", content}}}}}}};
}

// Splits a /api/jobs/stream body into the job id (the first line) and the streamed text.
std::pair<std::string, std::string> split_stream(const std::vector<std::string>& chunks) {
  std::string body;
  for (const auto& chunk : chunks)
    body += chunk;
  auto newline = body.find('\n');
  if (newline == std::string::npos)
    return {body, ""};
  return {body.substr(0, newline), body.substr(newline + 1)};
}

struct LlmNode {
  ServiceBinary provider{binary_path("provider-double"), {"--port", "0"}};
  ServiceBinary llm{
      binary_path("llm-service"),
      kLoopback,
      {"OPENAI_BASE_URL=" + base_url(provider.port(), "/v1"), "OPENAI_API_KEY=node-test-key",
       R"(RETRY_PARAMS={"tries": 3, "delay": 0.01, "jitter": 0})"}};
  NodeProcess node{node_config("llm", llm.port())};

  LlmNode() { node.start(); }
};

struct TgiNode {
  ServiceBinary provider{binary_path("provider-double"), {"--port", "0"}};
  ServiceBinary tgi{
      binary_path("tgi-service"),
      kLoopback,
      {"TGI_INF_WORKFLOW_POSITIONAL_ARGS=[\"" + base_url(provider.port()) + "\", 10]"}};
  NodeProcess node{node_config("tgi", tgi.port())};

  TgiNode() { node.start(); }
};

TEST(LlmThroughNode, OffchainJob) {
  LlmNode setup;
  auto id = setup.node.submit({{"containers", {"llm"}}, {"data", chat("hello node")}});
  auto job = setup.node.wait_job(id);

  EXPECT_EQ(job["status"], "success") << job.dump();
  EXPECT_EQ(job["result"]["container"], "llm");
  EXPECT_EQ(job["result"]["output"], json({{"output", "echo: hello node"}}));
}

TEST(LlmThroughNode, StreamingJob) {
  LlmNode setup;
  auto [response, chunks] = setup.node.client().stream(
      setup.node.url("/api/jobs/stream"),
      json{{"containers", {"llm"}}, {"data", chat("stream through the node")}}.dump());
  ASSERT_EQ(response.status_code, 200u) << response.body;

  auto [id, text] = split_stream(chunks);
  EXPECT_EQ(id.size(), 36u) << id;
  EXPECT_EQ(text, "echo: stream through the node");
  auto job = setup.node.wait_job(id);
  EXPECT_EQ(job["status"], "success") << job.dump();
  EXPECT_EQ(job["result"]["output"]["output"], text);
}

TEST(LlmThroughNode, CutStreamFailsJob) {
  LlmNode setup;
  setup.node.client().request(http::verb::post, base_url(setup.provider.port(), "/double/faults"),
                              json{{"cut_after_events", 2}}.dump());
  std::string id;
  try {
    auto [response, chunks] = setup.node.client().stream(
        setup.node.url("/api/jobs/stream"),
        json{{"containers", {"llm"}}, {"data", chat("this stream breaks")}}.dump());
    id = split_stream(chunks).first;
  } catch (const infra::ClientError&) {
    // The node may close its own stream when the container's stream breaks; the job list
    // still names the job.
  }
  if (id.empty()) {
    auto ids = json::parse(setup.node.get("/api/jobs").body);
    ASSERT_EQ(ids.size(), 1u);
    id = ids[0].get<std::string>();
  }
  EXPECT_EQ(setup.node.wait_job(id)["status"], "failed");
}

TEST(TgiThroughNode, OffchainJob) {
  TgiNode setup;
  auto id = setup.node.submit({{"containers", {"tgi"}}, {"data", {{"text", "tgi via node"}}}});
  auto job = setup.node.wait_job(id);

  EXPECT_EQ(job["status"], "success") << job.dump();
  EXPECT_EQ(job["result"]["output"], json({{"output", "echo: tgi via node"}}));
}

TEST(TgiThroughNode, StreamingJob) {
  TgiNode setup;
  auto [response, chunks] = setup.node.client().stream(
      setup.node.url("/api/jobs/stream"),
      json{{"containers", {"tgi"}}, {"data", {{"text", "tokens one by one"}}}}.dump());
  ASSERT_EQ(response.status_code, 200u) << response.body;

  auto [id, text] = split_stream(chunks);
  EXPECT_EQ(text, "echo: tokens one by one");
  auto job = setup.node.wait_job(id);
  EXPECT_EQ(job["status"], "success") << job.dump();
  EXPECT_EQ(job["result"]["output"]["output"], text);
}

}  // namespace
}  // namespace inferd::testing

// Off-chain jobs through the real node and real service processes.
#include <gtest/gtest.h>

#include "support/node_harness.hpp"

namespace inferd::testing {
namespace {

using nlohmann::json;

json single_container_config(const std::string& id, unsigned short port, json extra = {}) {
  json container = container_entry(id, port);
  for (auto& [key, value] : extra.items())
    container[key] = value;
  return {{"containers", json::array({container})}};
}

TEST(Jobs, EchoJobSucceedsWithEnvelope) {
  ServiceProcess service(test_service_binary(), {"--name", "first"});
  NodeProcess node(single_container_config("first", service.port()));
  node.start();

  auto id = node.submit({{"containers", {"first"}}, {"data", {{"input", "hi"}}}});
  auto job = node.wait_job(id);

  EXPECT_EQ(job["id"], id);
  EXPECT_EQ(job["status"], "success");
  EXPECT_EQ(job["result"]["container"], "first");
  const auto& envelope = job["result"]["output"]["envelope"];
  EXPECT_EQ(envelope["source"], 1);
  EXPECT_EQ(envelope["destination"], 1);
  EXPECT_EQ(envelope["data"], json({{"input", "hi"}}));
  EXPECT_EQ(envelope["requires_proof"], false);
  EXPECT_FALSE(job.contains("intermediate_results"));
}

TEST(Jobs, TwoContainerChainPassesOutputOn) {
  ServiceProcess first(test_service_binary(), {"--name", "first"});
  ServiceProcess second(test_service_binary(), {"--name", "second"});
  json config{{"containers",
               {container_entry("first", first.port()), container_entry("second", second.port())}}};
  NodeProcess node(config);
  node.start();

  auto id = node.submit({{"containers", {"first", "second"}}, {"data", {{"x", 1}}}});
  auto job = node.wait_job(id, true);

  ASSERT_EQ(job["status"], "success");
  EXPECT_EQ(job["result"]["container"], "second");
  const auto& second_envelope = job["result"]["output"]["envelope"];
  EXPECT_EQ(second_envelope["source"], 1);
  EXPECT_EQ(second_envelope["destination"], 1);
  EXPECT_EQ(second_envelope["data"]["service"], "first");
  EXPECT_EQ(second_envelope["data"]["envelope"]["data"], json({{"x", 1}}));
  ASSERT_EQ(job["intermediate_results"].size(), 1u);
  EXPECT_EQ(job["intermediate_results"][0]["container"], "first");
}

TEST(Jobs, BodyIdAndIpAreIgnored) {
  ServiceProcess service(test_service_binary(), {});
  NodeProcess node(
      single_container_config("svc", service.port(), {{"allowed_ips", {"127.0.0.1"}}}));
  node.start();

  auto response = node.post_json("/api/jobs", {{"containers", {"svc"}},
                                               {"data", json::object()},
                                               {"id", "chosen-by-client"},
                                               {"ip", "10.1.2.3"}});
  ASSERT_EQ(response.status_code, 200u);
  auto id = json::parse(response.body)["id"].get<std::string>();
  EXPECT_NE(id, "chosen-by-client");
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(node.wait_job(id)["status"], "success");
}

TEST(Jobs, ResultsVisibleOnlyToCreator) {
  ServiceProcess service(test_service_binary(), {});
  NodeProcess node(single_container_config("svc", service.port()));
  node.start();
  auto id = node.submit({{"containers", {"svc"}}, {"data", json::object()}});
  node.wait_job(id);

  // Another client: a different loopback source address.
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.open(asio::ip::tcp::v4());
  socket.bind({asio::ip::make_address("127.0.0.2"), 0});
  socket.connect({asio::ip::make_address("127.0.0.1"),
                  static_cast<unsigned short>(node.config()["server"]["port"].get<int>())});
  http::request<http::string_body> request{http::verb::get, "/api/jobs?id=" + id, 11};
  request.set(http::field::host, "127.0.0.1");
  http::write(socket, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);

  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(json::parse(response.body()), json::array());
  auto listed = json::parse(node.get("/api/jobs").body);
  EXPECT_EQ(listed, json::array({id}));
}

TEST(Jobs, GetKeepsRequestOrderAndSkipsUnknown) {
  ServiceProcess service(test_service_binary(), {});
  NodeProcess node(single_container_config("svc", service.port()));
  node.start();
  auto a = node.submit({{"containers", {"svc"}}, {"data", json::object()}});
  auto b = node.submit({{"containers", {"svc"}}, {"data", json::object()}});
  node.wait_job(a);
  node.wait_job(b);

  auto jobs = json::parse(node.get("/api/jobs?id=" + b + "&id=unknown&id=" + a + "&id=" + b).body);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0]["id"], b);
  EXPECT_EQ(jobs[1]["id"], a);

  auto completed = json::parse(node.get("/api/jobs?pending=false").body);
  EXPECT_EQ(completed.size(), 2u);
  auto pending = json::parse(node.get("/api/jobs?pending=true").body);
  EXPECT_EQ(pending, json::array());
}

TEST(Jobs, BatchWithOneBadItem) {
  ServiceProcess service(test_service_binary(), {});
  NodeProcess node(single_container_config("svc", service.port()));
  node.start();

  json batch = json::array({
      {{"containers", {"svc"}}, {"data", {{"n", 1}}}},
      {{"containers", "svc"}, {"data", {{"n", 2}}}},
      {{"containers", {"missing"}}, {"data", {{"n", 3}}}},
      {{"containers", {"svc"}}, {"data", {{"n", 4}}}},
  });
  auto response = node.post_json("/api/jobs/batch", batch);
  ASSERT_EQ(response.status_code, 200u);
  auto results = json::parse(response.body);
  ASSERT_EQ(results.size(), 4u);
  ASSERT_TRUE(results[0].contains("id"));
  EXPECT_NE(results[1]["error"].get<std::string>().find("[1].containers"), std::string::npos);
  EXPECT_EQ(results[2]["error"], "Container not supported");
  EXPECT_EQ(results[2]["params"]["container"], "missing");
  ASSERT_TRUE(results[3].contains("id"));
  EXPECT_EQ(node.wait_job(results[0]["id"])["status"], "success");
  EXPECT_EQ(node.wait_job(results[3]["id"])["result"]["output"]["envelope"]["data"]["n"], 4);
}

TEST(Jobs, StreamingRelaysChunksAndStoresText) {
  ServiceProcess service(test_service_binary(), {"--stream-chunks", "3", "--chunk-delay-ms", "50"});
  NodeProcess node(single_container_config("svc", service.port()));
  node.start();

  auto [response, chunks] = node.client().stream(
      node.url("/api/jobs/stream"), json{{"containers", {"svc"}}, {"data", json::object()}}.dump());
  ASSERT_EQ(response.status_code, 200u);
  std::string body;
  for (const auto& chunk : chunks)
    body += chunk;
  auto newline = body.find('\n');
  ASSERT_NE(newline, std::string::npos);
  std::string id = body.substr(0, newline);
  std::string text = body.substr(newline + 1);
  EXPECT_EQ(id.size(), 36u);
  EXPECT_FALSE(text.empty());
  EXPECT_GE(chunks.size(), 3u);

  auto job = node.wait_job(id);
  EXPECT_EQ(job["status"], "success");
  EXPECT_EQ(job["result"]["output"]["output"], text);
}

TEST(Jobs, StreamOfContentLengthReply) {
  ServiceProcess hello(hello_service_binary(), {});
  ServiceProcess failing(test_service_binary(), {"--status", "500"});
  NodeProcess node(
      json{{"containers",
            {container_entry("hello", hello.port()), container_entry("failing", failing.port())}}});
  node.start();

  auto [response, chunks] =
      node.client().stream(node.url("/api/jobs/stream"),
                           json{{"containers", {"hello"}}, {"data", {{"input", "x"}}}}.dump());
  ASSERT_EQ(response.status_code, 200u);
  std::string body;
  for (const auto& chunk : chunks)
    body += chunk;
  EXPECT_NE(body.find("hello, world!"), std::string::npos) << body;

  auto [failed, failed_chunks] =
      node.client().stream(node.url("/api/jobs/stream"),
                           json{{"containers", {"failing"}}, {"data", json::object()}}.dump());
  EXPECT_EQ(failed.status_code, 502u);
  auto error = json::parse(failed.body);
  EXPECT_NE(error["error"].get<std::string>().find("answered HTTP 500"), std::string::npos)
      << failed.body;
  EXPECT_EQ(node.wait_job(error["id"])["status"], "failed");
}

TEST(Jobs, PutStatusFromLoopbackIsStored) {
  NodeProcess node(json{{"containers", json::array()}});
  node.start();
  auto response = node.client().request(
      http::verb::put, node.url("/api/status"),
      json{{"id", "external-job"}, {"status", "success"}, {"containers", {"a"}}}.dump());
  ASSERT_EQ(response.status_code, 200u);
  EXPECT_EQ(response.body, "null");
  auto jobs = json::parse(node.get("/api/jobs?id=external-job").body);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["status"], "success");

  // A job this node ran and finished can be overwritten too, and reads see the new status.
  ServiceProcess service(test_service_binary(), {});
  NodeProcess worker(json{{"containers", {container_entry("svc", service.port())}}});
  worker.start();
  auto finished = worker.submit({{"containers", {"svc"}}, {"data", json::object()}});
  EXPECT_EQ(worker.wait_job(finished)["status"], "success");
  auto overwrite = worker.client().request(
      http::verb::put, worker.url("/api/status"),
      json{{"id", finished}, {"status", "failed"}, {"containers", {"svc"}}}.dump());
  ASSERT_EQ(overwrite.status_code, 200u);
  EXPECT_EQ(worker.wait_job(finished)["status"], "failed");

  auto bad = node.client().request(
      http::verb::put, node.url("/api/status"),
      json{{"id", "x"}, {"status", "done"}, {"containers", json::array()}}.dump());
  EXPECT_EQ(bad.status_code, 400u);
  EXPECT_EQ(json::parse(bad.body)["error"], "Status is invalid");
}

TEST(Jobs, InfoAndHealthShapes) {
  ServiceProcess service(test_service_binary(), {});
  NodeProcess node(single_container_config("svc", service.port()));
  node.start();

  auto info = json::parse(node.get("/info").body);
  EXPECT_EQ(info["version"], "1.4.0");
  EXPECT_EQ(info["chain"]["enabled"], false);
  EXPECT_EQ(info["chain"]["address"], "");
  ASSERT_EQ(info["containers"].size(), 1u);
  EXPECT_EQ(info["containers"][0]["id"], "svc");
  EXPECT_EQ(info["pending"]["offchain"], 0);

  auto id = node.submit({{"containers", {"svc"}}, {"data", json::object()}});
  node.wait_job(id);
  auto metrics = node.get("/metrics");
  EXPECT_EQ(metrics.status_code, 200u);
  EXPECT_NE(metrics.body.find("inferd_jobs_total{status=\"success\"} 1"), std::string::npos)
      << metrics.body;
  EXPECT_NE(
      metrics.body.find("inferd_container_calls_total{container=\"svc\",outcome=\"success\"} 1"),
      std::string::npos)
      << metrics.body;

  auto health = node.get("/health");
  EXPECT_EQ(health.status_code, 200u);
  EXPECT_EQ(json::parse(health.body)["status"], "healthy");
  EXPECT_FALSE(health.header("RateLimit-Limit").empty());
}

}  // namespace
}  // namespace inferd::testing

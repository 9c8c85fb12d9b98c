// Bad requests and failing containers: every error is JSON with a fitting status.
#include <gtest/gtest.h>

#include "support/node_harness.hpp"

namespace inferd::testing {
namespace {

using nlohmann::json;

class RequestErrors : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    service_ = new ServiceProcess(test_service_binary(), {});
    json config{{"containers", {container_entry("svc", service_->port())}},
                {"server", {{"max_body_bytes", 1024}}}};
    config["containers"][0]["external"] = true;
    json internal = container_entry("internal", service_->port());
    internal["external"] = false;
    config["containers"].push_back(internal);
    node_ = new NodeProcess(config);
    node_->start();
  }
  static void TearDownTestSuite() {
    delete node_;
    delete service_;
  }

  static json error_of(const infra::ClientResponse& response) {
    EXPECT_TRUE(response.is_json()) << response.body;
    return json::parse(response.body);
  }

  static ServiceProcess* service_;
  static NodeProcess* node_;
};

ServiceProcess* RequestErrors::service_ = nullptr;
NodeProcess* RequestErrors::node_ = nullptr;

TEST_F(RequestErrors, MalformedJsonIs400) {
  auto response =
      node_->client().request(http::verb::post, node_->url("/api/jobs"), "{\"containers\": [");
  EXPECT_EQ(response.status_code, 400u);
  EXPECT_NE(error_of(response)["error"].get<std::string>().find("invalid JSON body"),
            std::string::npos);
}

TEST_F(RequestErrors, WrongFieldTypesName400Path) {
  auto response =
      node_->post_json("/api/jobs", {{"containers", {"svc", 7}}, {"data", json::object()}});
  EXPECT_EQ(response.status_code, 400u);
  EXPECT_NE(error_of(response)["error"].get<std::string>().find("containers[1]"),
            std::string::npos);

  response = node_->post_json("/api/jobs", {{"containers", {"svc"}}, {"data", "text"}});
  EXPECT_EQ(response.status_code, 400u);
  EXPECT_EQ(error_of(response)["error"].get<std::string>().rfind("data:", 0), 0u);

  response = node_->post_json("/api/jobs", json::array({1, 2}));
  EXPECT_EQ(response.status_code, 400u);

  response = node_->post_json(
      "/api/jobs", {{"containers", {"svc"}}, {"data", json::object()}, {"requires_proof", "yes"}});
  EXPECT_EQ(response.status_code, 400u);
  EXPECT_NE(error_of(response)["error"].get<std::string>().find("requires_proof"),
            std::string::npos);
}

TEST_F(RequestErrors, BodyOverLimitIs413) {
  json body{{"containers", {"svc"}}, {"data", {{"blob", std::string(2000, 'x')}}}};
  auto response = node_->post_json("/api/jobs", body);
  EXPECT_EQ(response.status_code, 413u);
  EXPECT_NE(error_of(response)["error"].get<std::string>().find("max_body_bytes"),
            std::string::npos);
}

TEST_F(RequestErrors, WrongContentTypeIs415) {
  auto response = node_->client().request(
      http::verb::post, node_->url("/api/jobs"),
      json{{"containers", {"svc"}}, {"data", json::object()}}.dump(), "text/plain");
  EXPECT_EQ(response.status_code, 415u);
  EXPECT_NE(error_of(response)["error"].get<std::string>().find("application/json"),
            std::string::npos);
}

TEST_F(RequestErrors, UnknownContainerIs404) {
  auto response =
      node_->post_json("/api/jobs", {{"containers", {"nope"}}, {"data", json::object()}});
  EXPECT_EQ(response.status_code, 404u);
  auto body = error_of(response);
  EXPECT_EQ(body["error"], "Container not supported");
  EXPECT_EQ(body["params"]["container"], "nope");
}

TEST_F(RequestErrors, GuardianRulesAre403InReferenceOrder) {
  auto response =
      node_->post_json("/api/jobs", {{"containers", json::array()}, {"data", json::object()}});
  EXPECT_EQ(response.status_code, 403u);
  EXPECT_EQ(error_of(response)["error"], "No containers specified");

  response = node_->post_json("/api/jobs",
                              {{"containers", {"internal", "svc"}}, {"data", json::object()}});
  EXPECT_EQ(response.status_code, 403u);
  EXPECT_EQ(error_of(response)["error"], "First container must be external");
  EXPECT_EQ(error_of(response)["params"]["first_container"], "internal");

  response = node_->post_json(
      "/api/jobs", {{"containers", {"svc"}}, {"data", json::object()}, {"requires_proof", true}});
  EXPECT_EQ(response.status_code, 403u);
  EXPECT_EQ(error_of(response)["error"], "Container does not generate proof");
}

TEST_F(RequestErrors, DelegatedWithChainDisabledIs403) {
  auto response = node_->post_json(
      "/api/jobs",
      {{"subscription", json::object()}, {"signature", json::object()}, {"data", json::object()}});
  EXPECT_EQ(response.status_code, 403u);
  EXPECT_EQ(error_of(response)["error"], "Chain not enabled");
}

TEST_F(RequestErrors, UnknownPathAndMethodAreJson) {
  auto response = node_->get("/api/nothing");
  EXPECT_EQ(response.status_code, 404u);
  error_of(response);
  response = node_->client().request(http::verb::delete_, node_->url("/api/jobs"));
  EXPECT_EQ(response.status_code, 405u);
  error_of(response);
}

TEST_F(RequestErrors, DeepNestingIs400AndNodeSurvives) {
  // Under this fixture's 1024-byte body limit; the depth check runs before the JSON parser.
  std::string deep = "{\"containers\": [\"svc\"], \"data\": {\"x\": " + std::string(600, '[');
  auto response = node_->client().request(http::verb::post, node_->url("/api/jobs"), deep);
  EXPECT_EQ(response.status_code, 400u);
  EXPECT_NE(error_of(response)["error"].get<std::string>().find("nested deeper than"),
            std::string::npos);
  EXPECT_EQ(node_->get("/health").status_code, 200u);
}

TEST_F(RequestErrors, TooManyIdsOrBadWaitIs400) {
  std::string path = "/api/jobs?wait_ms=abc&id=x";
  EXPECT_EQ(node_->get(path).status_code, 400u);
}

// Containers that misbehave: the job fails with an error naming the container.
struct FailureCase {
  const char* name;
  std::vector<std::string> service_args;
  json container_extra;
  const char* expected_error;
};

class ContainerFailures : public ::testing::TestWithParam<FailureCase> {};

TEST_P(ContainerFailures, JobFailsNamingContainer) {
  const auto& param = GetParam();
  ServiceProcess service(test_service_binary(), param.service_args);
  json container = container_entry("bad", service.port());
  for (auto& [key, value] : param.container_extra.items())
    container[key] = value;
  NodeProcess node(json{{"containers", {container}}});
  node.start();

  auto id = node.submit({{"containers", {"bad"}}, {"data", json::object()}});
  auto job = node.wait_job(id);

  EXPECT_EQ(job["status"], "failed");
  EXPECT_EQ(job["result"]["container"], "bad");
  auto error = job["result"]["error"].get<std::string>();
  EXPECT_NE(error.find("container bad"), std::string::npos) << error;
  EXPECT_NE(error.find(param.expected_error), std::string::npos) << error;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ContainerFailures,
    ::testing::Values(
        FailureCase{"slow_past_timeout", {"--delay-ms", "3000"}, {{"timeout", 0.5}}, "timed out"},
        FailureCase{"closes_mid_reply", {"--close-mid-reply"}, {}, "connection closed"},
        FailureCase{"answers_500", {"--status", "500"}, {}, "HTTP 500"},
        FailureCase{"answers_text_plain", {"--text"}, {}, "non-JSON"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Queue, FullQueueAnswers503WithRetryAfter) {
  ServiceProcess service(test_service_binary(), {"--delay-ms", "1500"});
  json container = container_entry("slow", service.port());
  container["max_concurrency"] = 1;
  container["queue_size"] = 1;
  NodeProcess node(json{{"containers", {container}}});
  node.start();

  json job{{"containers", {"slow"}}, {"data", json::object()}};
  auto first = node.submit(job);
  // Wait until the first call holds the only slot so the second one queues.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto second = node.submit(job);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto third = node.post_json("/api/jobs", job);

  EXPECT_EQ(third.status_code, 503u);
  EXPECT_EQ(third.header("Retry-After"), "1");
  EXPECT_TRUE(third.is_json());
  EXPECT_EQ(node.wait_job(first)["status"], "success");
  EXPECT_EQ(node.wait_job(second)["status"], "success");
}

TEST(RateLimit, ExceededAnswers429WithHeaders) {
  ServiceProcess service(test_service_binary(), {});
  json config{{"containers", {container_entry("svc", service.port())}},
              {"server", {{"rate_limit", {{"num_requests", 3}, {"period", 60}}}}}};
  NodeProcess node(config);
  node.start();

  for (int i = 0; i < 3; ++i) {
    auto response = node.get("/api/jobs");
    EXPECT_EQ(response.status_code, 200u);
    EXPECT_EQ(response.header("RateLimit-Limit"), "3");
  }
  auto limited = node.get("/api/jobs");
  EXPECT_EQ(limited.status_code, 429u);
  EXPECT_TRUE(limited.is_json());
  EXPECT_FALSE(limited.header("Retry-After").empty());

  // X-Forwarded-For from a peer that is not a trusted proxy does not give a fresh bucket.
  auto spoofed = node.client().request(http::verb::get, node.url("/api/jobs"), "", "",
                                       {{"X-Forwarded-For", "10.9.8.7"}});
  EXPECT_EQ(spoofed.status_code, 429u);
}

}  // namespace
}  // namespace inferd::testing

namespace inferd::testing {
namespace {

TEST(TrustedProxy, RightmostUntrustedForwardedAddressCounts) {
  ServiceProcess service(test_service_binary(), {});
  json container = container_entry("svc", service.port());
  container["allowed_ips"] = {"10.1.1.1"};
  NodeProcess node(
      json{{"containers", {container}}, {"server", {{"trusted_proxies", {"127.0.0.1"}}}}});
  node.start();
  std::string body = json{{"containers", {"svc"}}, {"data", json::object()}}.dump();

  auto allowed = node.client().request(http::verb::post, node.url("/api/jobs"), body,
                                       "application/json", {{"X-Forwarded-For", "10.1.1.1"}});
  EXPECT_EQ(allowed.status_code, 200u) << allowed.body;

  // Two header lines are one list: the client is the last address the proxy appended.
  auto forged =
      node.client().request(http::verb::post, node.url("/api/jobs"), body, "application/json",
                            {{"X-Forwarded-For", "10.1.1.1"}, {"X-Forwarded-For", "10.6.6.6"}});
  EXPECT_EQ(forged.status_code, 403u) << forged.body;
  EXPECT_EQ(json::parse(forged.body)["params"]["address"], "10.6.6.6");
}

}  // namespace
}  // namespace inferd::testing

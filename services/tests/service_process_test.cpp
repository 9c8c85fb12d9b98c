// Starts the real hello-service, echo-service and test-service binaries on free loopback ports
// and drives them over HTTP.
#include <signal.h>

#include <future>
#include <string>
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
namespace asio = boost::asio;
namespace http = boost::beast::http;

const std::vector<std::string> kLoopback{"--bind-address", "127.0.0.1", "--port", "0"};

std::vector<std::string> loopback_with(std::vector<std::string> extra) {
  std::vector<std::string> args = kLoopback;
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string job_body(int source, int destination, const nlohmann::json& data,
                     bool requires_proof = false) {
  return nlohmann::json{{"source", source},
                        {"destination", destination},
                        {"data", data},
                        {"requires_proof", requires_proof}}
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
                          client_.send(url(port, path), std::move(request),
                                       std::chrono::steady_clock::now() + 10s),
                          asio::use_future)
        .get();
  }

  ClientResponse post_job(unsigned short port, const std::string& body) {
    return send(port, http::verb::post, "/service_output", body);
  }

  // Sends a streaming job and returns the status and the joined chunks.
  std::pair<ClientResponse, std::vector<std::string>> stream_job(unsigned short port,
                                                                 const std::string& body) {
    auto chunks = std::make_shared<std::vector<std::string>>();
    ChunkHandler collect = [chunks](std::string_view data) -> inferd::Awaitable<void> {
      chunks->emplace_back(data);
      co_return;
    };
    ClientRequest request;
    request.method = http::verb::post;
    request.body = body;
    request.content_type = "application/json";
    auto response = asio::co_spawn(io_,
                                   client_.stream(url(port, "/service_output"), std::move(request),
                                                  std::chrono::steady_clock::now() + 10s, collect),
                                   asio::use_future)
                        .get();
    return {response, *chunks};
  }

  asio::io_context& io() { return io_; }
  HttpClient& http_client() { return client_; }

  static Url url(unsigned short port, const std::string& path) {
    return Url::parse("http://127.0.0.1:" + std::to_string(port) + path);
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  HttpClient client_{io_.get_executor()};
  std::thread thread_;
};

nlohmann::json json_of(const ClientResponse& response) {
  EXPECT_TRUE(response.is_json()) << response.header("content-type");
  return nlohmann::json::parse(response.body);
}

std::string echo_input(const std::string& value, const std::string& proof) {
  return sdk::hex_encode(
      sdk::abi_encode(sdk::abi_type("(string,string)"),
                      {sdk::AbiValue::string(value), sdk::AbiValue::string(proof)}));
}

TEST(HelloService, ListeningLineNamesAddress) {
  ServiceProcess hello(binary_path("hello-service"), kLoopback);
  EXPECT_EQ(hello.listening_line(), "listening on 127.0.0.1:" + std::to_string(hello.port()));
  EXPECT_NE(hello.port(), 0);
}

TEST(HelloService, ReadinessIsJson) {
  ServiceProcess hello(binary_path("hello-service"), kLoopback);
  Client client;
  auto response = client.send(hello.port(), http::verb::get, "/");
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(json_of(response), nlohmann::json({{"message", "hello"}}));
}

TEST(HelloService, GreetsWithInputRepr) {
  ServiceProcess hello(binary_path("hello-service"), kLoopback);
  Client client;
  auto response = client.post_job(
      hello.port(),
      R"({"source": 1, "destination": 1, "data": {"hello": "world"}, "requires_proof": false})");
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(json_of(response)["output"],
            "hello, world!, your input was: {'source': 1, 'destination': 1, 'data': {'hello': "
            "'world'}, 'requires_proof': False}");
}

TEST(HelloService, InvalidEnvelopeIsContainerError) {
  ServiceProcess hello(binary_path("hello-service"), kLoopback);
  Client client;
  auto response = client.post_job(hello.port(), R"({"source": 1, "destination": 1, "data": 5})");
  EXPECT_EQ(response.status_code, 400u);
  auto body = json_of(response);
  EXPECT_EQ(body["code"], "400");
  EXPECT_EQ(body["name"], "Bad Request");
  EXPECT_TRUE(body["description"].is_string());
}

TEST(HelloService, UnknownPathIsContainerError) {
  ServiceProcess hello(binary_path("hello-service"), kLoopback);
  Client client;
  auto response = client.send(hello.port(), http::verb::get, "/health");
  EXPECT_EQ(response.status_code, 404u);
  EXPECT_EQ(json_of(response)["code"], "404");
}

TEST(HelloService, SigtermExitsZero) {
  ServiceProcess hello(binary_path("hello-service"), kLoopback);
  EXPECT_EQ(hello.stop(SIGTERM, 10s), std::optional<int>(0));
}

TEST(HelloService, SigintExitsZero) {
  ServiceProcess hello(binary_path("hello-service"), kLoopback);
  EXPECT_EQ(hello.stop(SIGINT, 10s), std::optional<int>(0));
}

TEST(HelloService, PortFromEnvironment) {
  ServiceProcess hello(binary_path("hello-service"), {}, {"PORT=0", "BIND_ADDRESS=127.0.0.1"});
  EXPECT_EQ(hello.listening_line(), "listening on 127.0.0.1:" + std::to_string(hello.port()));
  Client client;
  EXPECT_EQ(client.send(hello.port(), http::verb::get, "/").status_code, 200u);
}

TEST(HelloService, GunicornBindFlag) {
  ServiceProcess hello(binary_path("hello-service"), {"--bind=127.0.0.1:0", "--workers=2"});
  EXPECT_EQ(hello.listening_line(), "listening on 127.0.0.1:" + std::to_string(hello.port()));
  Client client;
  EXPECT_EQ(client.send(hello.port(), http::verb::get, "/").status_code, 200u);
}

TEST(HelloService, InvalidFlagExitsTwo) {
  EXPECT_EQ(run_to_exit(binary_path("hello-service"), {"--no-such-flag"}), std::optional<int>(2));
  EXPECT_EQ(run_to_exit(binary_path("hello-service"), {"--bind", "nonsense"}),
            std::optional<int>(2));
}

TEST(HelloService, HelpExitsZero) {
  EXPECT_EQ(run_to_exit(binary_path("hello-service"), {"--help"}), std::optional<int>(0));
}

TEST(HelloService, PortInUseExitsOne) {
  ServiceProcess first(binary_path("hello-service"), kLoopback);
  EXPECT_EQ(run_to_exit(binary_path("hello-service"),
                        {"--bind-address", "127.0.0.1", "--port", std::to_string(first.port())}),
            std::optional<int>(1));
}

TEST(EchoService, OnchainWithProof) {
  ServiceProcess echo(binary_path("echo-service"), kLoopback);
  Client client;
  const std::string input = echo_input("hello", "just trust me bro");
  auto body = json_of(client.post_job(echo.port(), job_body(0, 0, input, true)));
  EXPECT_EQ(body["raw_input"], input);
  EXPECT_EQ(body["processed_input"], "");
  EXPECT_EQ(body["raw_output"], sdk::hex_encode(sdk::abi_encode_string("hello")));
  EXPECT_EQ(body["processed_output"], "");
  EXPECT_EQ(body["proof"], sdk::hex_encode(sdk::abi_encode_string("just trust me bro")));
}

TEST(EchoService, OffchainWithoutProof) {
  ServiceProcess echo(binary_path("echo-service"), kLoopback);
  Client client;
  const std::string input = echo_input("hello", "proof text");
  auto body = json_of(client.post_job(echo.port(), job_body(1, 1, {{"input", input}})));
  EXPECT_EQ(body["raw_input"], input);
  EXPECT_EQ(body["raw_output"], sdk::hex_encode(sdk::abi_encode_string("hello")));
  EXPECT_EQ(body["proof"], "");
}

TEST(EchoService, BadInputIsContainerError) {
  ServiceProcess echo(binary_path("echo-service"), kLoopback);
  Client client;
  auto response = client.post_job(echo.port(), job_body(0, 0, "zz"));
  EXPECT_EQ(response.status_code, 400u);
  EXPECT_EQ(json_of(response)["code"], "400");
}

// Sends 64 echo jobs at once and checks every reply.
void expect_concurrent_jobs_succeed(unsigned short port) {
  Client client;
  const std::string body = job_body(1, 1, {{"input", echo_input("hello", "")}});
  // HttpClient::send keeps a reference to the URL until it completes.
  const Url url = Client::url(port, "/service_output");
  std::vector<std::future<ClientResponse>> replies;
  for (int i = 0; i < 64; ++i) {
    ClientRequest request{http::verb::post, body, {}, "application/json"};
    replies.push_back(asio::co_spawn(
        client.io(),
        client.http_client().send(url, request, std::chrono::steady_clock::now() + 10s),
        asio::use_future));
  }
  for (auto& reply : replies) {
    auto response = reply.get();
    EXPECT_EQ(response.status_code, 200u);
    EXPECT_EQ(json_of(response)["raw_output"], sdk::hex_encode(sdk::abi_encode_string("hello")));
  }
}

TEST(EchoService, ManyConcurrentJobs) {
  ServiceProcess echo(binary_path("echo-service"), kLoopback);
  expect_concurrent_jobs_succeed(echo.port());
}

TEST(EchoService, ManyConcurrentJobsOnTwoThreads) {
  ServiceProcess echo(binary_path("echo-service"), loopback_with({"--threads", "2"}));
  expect_concurrent_jobs_succeed(echo.port());
  EXPECT_EQ(echo.stop(SIGTERM, 10s), std::optional<int>(0));
}

TEST(EchoService, SigtermExitsZero) {
  ServiceProcess echo(binary_path("echo-service"), kLoopback);
  Client client;
  EXPECT_EQ(client.send(echo.port(), http::verb::get, "/").status_code, 200u);
  EXPECT_EQ(echo.stop(SIGTERM, 10s), std::optional<int>(0));
}

TEST(TestService, EchoesEnvelope) {
  ServiceProcess service(binary_path("test-service"), loopback_with({"--name", "first"}));
  Client client;
  auto body = json_of(client.post_job(service.port(), job_body(1, 1, {{"k", "v"}}, true)));
  EXPECT_EQ(body["service"], "first");
  EXPECT_EQ(body["envelope"], nlohmann::json::parse(job_body(1, 1, {{"k", "v"}}, true)));
}

TEST(TestService, AnswersConfiguredStatus) {
  ServiceProcess service(binary_path("test-service"), loopback_with({"--status", "500"}));
  Client client;
  auto response = client.post_job(service.port(), job_body(1, 1, nlohmann::json::object()));
  EXPECT_EQ(response.status_code, 500u);
  auto body = json_of(response);
  EXPECT_EQ(body["code"], "500");
  EXPECT_EQ(body["name"], "Internal Server Error");
}

TEST(TestService, AnswersPlainText) {
  ServiceProcess service(binary_path("test-service"), loopback_with({"--text"}));
  Client client;
  auto response = client.post_job(service.port(), job_body(1, 1, nlohmann::json::object()));
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(response.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(response.is_json());
}

TEST(TestService, ClosesMidReply) {
  ServiceProcess service(binary_path("test-service"), loopback_with({"--close-mid-reply"}));
  Client client;
  EXPECT_THROW(client.post_job(service.port(), job_body(1, 1, nlohmann::json::object())),
               ClientError);
}

TEST(TestService, StreamsChunks) {
  ServiceProcess service(binary_path("test-service"),
                         loopback_with({"--stream-chunks", "4", "--chunk-delay-ms", "5"}));
  Client client;
  auto [response, chunks] =
      client.stream_job(service.port(), job_body(1, 2, nlohmann::json::object()));
  EXPECT_EQ(response.status_code, 200u);
  std::string joined;
  for (const auto& chunk : chunks)
    joined += chunk;
  EXPECT_EQ(joined, "chunk 0\nchunk 1\nchunk 2\nchunk 3\n");
}

TEST(TestService, StreamClosesMidReply) {
  ServiceProcess service(binary_path("test-service"),
                         loopback_with({"--stream-chunks", "4", "--close-mid-reply"}));
  Client client;
  EXPECT_THROW(client.stream_job(service.port(), job_body(1, 2, nlohmann::json::object())),
               ClientError);
}

TEST(TestService, SigtermLetsRunningJobFinish) {
  ServiceProcess service(binary_path("test-service"),
                         loopback_with({"--delay-ms", "500", "--log-level", "debug"}));
  Client client;
  auto reply = std::async(std::launch::async, [&client, &service] {
    return client.post_job(service.port(), job_body(1, 1, nlohmann::json::object()));
  });
  ASSERT_TRUE(service.wait_for_log("job received", 10s));
  EXPECT_EQ(service.stop(SIGTERM, 10s), std::optional<int>(0));
  EXPECT_EQ(reply.get().status_code, 200u);
}

TEST(TestService, GracePeriodBoundsShutdown) {
  ServiceProcess service(
      binary_path("test-service"),
      loopback_with({"--delay-ms", "60000", "--shutdown-grace-ms", "100", "--log-level", "debug"}));
  Client client;
  auto reply = std::async(std::launch::async, [&client, &service] {
    return client.post_job(service.port(), job_body(1, 1, nlohmann::json::object()));
  });
  ASSERT_TRUE(service.wait_for_log("job received", 10s));
  EXPECT_EQ(service.stop(SIGTERM, 10s), std::optional<int>(0));
  EXPECT_THROW(reply.get(), ClientError);
}

}  // namespace
}  // namespace infernet::services::testing

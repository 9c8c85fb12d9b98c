#include <atomic>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "infernet/sdk/service.hpp"
#include "infra/http_client.hpp"

namespace infernet::sdk {
namespace {

using namespace std::chrono_literals;
using inferd::infra::ChunkHandler;
using inferd::infra::ClientRequest;
using inferd::infra::ClientResponse;
using inferd::infra::HttpClient;
using inferd::infra::Url;

// Serves a Service in-process on 127.0.0.1 and sends requests to it.
class ServiceFixture : public ::testing::Test {
 protected:
  void start() {
    server_ = service_.make_server(io_, "127.0.0.1", 0);
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
    client_ = std::make_unique<HttpClient>(io_.get_executor());
  }

  void TearDown() override {
    if (server_) {
      server_->stop_accepting();
      server_->close_connections();
    }
    if (client_)
      client_->clear_idle();
    work_.reset();
    io_.stop();
    if (thread_.joinable())
      thread_.join();
  }

  template <typename T>
  T run(Awaitable<T> operation) {
    return asio::co_spawn(io_, std::move(operation), asio::use_future).get();
  }

  Url url(const std::string& path) {
    return Url::parse("http://127.0.0.1:" + std::to_string(server_->port()) + path);
  }

  ClientResponse send(http::verb method, const std::string& path, std::string body = {}) {
    ClientRequest request;
    request.method = method;
    request.body = std::move(body);
    request.content_type = "application/json";
    return run(client_->send(url(path), std::move(request), std::chrono::steady_clock::now() + 5s));
  }

  ClientResponse post_job(const std::string& body) {
    return send(http::verb::post, "/service_output", body);
  }

  // Checks the container error shape and returns the description.
  static std::string error_description(const ClientResponse& response, unsigned status) {
    EXPECT_EQ(response.status_code, status);
    EXPECT_TRUE(response.is_json());
    auto body = nlohmann::json::parse(response.body);
    EXPECT_EQ(body.size(), 3u) << response.body;
    EXPECT_EQ(body["code"], std::to_string(status));
    EXPECT_TRUE(body["name"].is_string());
    return body.value("description", "");
  }

  Service service_{"test"};
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<inferd::infra::HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::thread thread_;
};

Awaitable<nlohmann::json> echo_data(const Envelope& envelope) {
  co_return nlohmann::json{{"data", envelope.data}, {"proof", envelope.requires_proof}};
}

TEST_F(ServiceFixture, ReadinessReturnsServiceName) {
  start();
  auto response = send(http::verb::get, "/");
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_TRUE(response.is_json());
  EXPECT_EQ(nlohmann::json::parse(response.body), nlohmann::json({{"message", "test"}}));
}

TEST_F(ServiceFixture, NotReadyIs503UntilReady) {
  auto ready = std::make_shared<std::atomic<bool>>(false);
  service_.on_readiness([ready]() -> Awaitable<std::string> {
    co_return ready->load() ? "" : "upstream server not reachable yet";
  });
  start();

  auto description = error_description(send(http::verb::get, "/"), 503);
  EXPECT_EQ(description, "upstream server not reachable yet");

  ready->store(true);
  auto response = send(http::verb::get, "/");
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(nlohmann::json::parse(response.body), nlohmann::json({{"message", "test"}}));
}

TEST_F(ServiceFixture, JobHandlerReplyIsJson) {
  service_.on_job(echo_data);
  start();
  auto response = post_job(R"({"source": 1, "destination": 1, "data": {"k": "v"}})");
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_TRUE(response.is_json());
  EXPECT_EQ(nlohmann::json::parse(response.body),
            nlohmann::json::parse(R"({"data": {"k": "v"}, "proof": false})"));
}

TEST_F(ServiceFixture, InvalidEnvelopeIs400) {
  service_.on_job(echo_data);
  start();
  auto description =
      error_description(post_job(R"({"source": 0, "destination": 0, "data": {}})"), 400);
  EXPECT_NE(description.find("hex string"), std::string::npos);
}

TEST_F(ServiceFixture, MalformedJsonIs400) {
  service_.on_job(echo_data);
  start();
  error_description(post_job("{"), 400);
}

TEST_F(ServiceFixture, ServiceErrorKeepsStatus) {
  service_.on_job([](const Envelope&) -> Awaitable<nlohmann::json> {
    throw ServiceError(Status::unprocessable_entity, "cannot use this input");
    co_return nlohmann::json{};
  });
  start();
  auto response = post_job(R"({"source": 1, "destination": 1, "data": {}})");
  EXPECT_EQ(error_description(response, 422), "cannot use this input");
  EXPECT_EQ(nlohmann::json::parse(response.body)["name"], "Unprocessable Entity");
}

TEST_F(ServiceFixture, UnexpectedExceptionIs500WithoutDetail) {
  service_.on_job([](const Envelope&) -> Awaitable<nlohmann::json> {
    throw std::runtime_error("secret detail");
    co_return nlohmann::json{};
  });
  start();
  auto response = post_job(R"({"source": 1, "destination": 1, "data": {}})");
  auto description = error_description(response, 500);
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  EXPECT_NE(description.find("internal server error"), std::string::npos);
}

TEST_F(ServiceFixture, FailedOutboundCallIs500) {
  service_.on_job([](const Envelope&) -> Awaitable<nlohmann::json> {
    throw boost::system::system_error(asio::error::connection_refused, "calling the model server");
    co_return nlohmann::json{};
  });
  start();
  auto response = post_job(R"({"source": 1, "destination": 1, "data": {}})");
  EXPECT_EQ(error_description(response, 500), "internal server error in test");
  EXPECT_EQ(response.body.find("model server"), std::string::npos);
}

TEST_F(ServiceFixture, MissingJobHandlerIs501) {
  start();
  error_description(post_job(R"({"source": 1, "destination": 1, "data": {}})"), 501);
}

TEST_F(ServiceFixture, UnknownPathIsContainerError404) {
  start();
  auto description = error_description(send(http::verb::get, "/nope"), 404);
  EXPECT_NE(description.find("/nope"), std::string::npos);
}

TEST_F(ServiceFixture, WrongMethodIsContainerError405) {
  start();
  auto response = send(http::verb::get, "/service_output");
  error_description(response, 405);
  EXPECT_EQ(response.header("allow"), "POST");
}

TEST_F(ServiceFixture, BodyOverLimitIsContainerError413) {
  service_.options().max_body_bytes = 64;
  service_.on_job(echo_data);
  start();
  error_description(post_job(std::string(100, ' ')), 413);
}

TEST_F(ServiceFixture, ResourcesAbsentWithoutHandler) {
  start();
  error_description(send(http::verb::get, "/service-resources"), 404);
}

TEST_F(ServiceFixture, ResourcesPassModelId) {
  service_.on_resources([](std::optional<std::string> model_id) -> Awaitable<nlohmann::json> {
    if (model_id)
      co_return nlohmann::json{{"supported", *model_id == "known"}};
    co_return nlohmann::json{{"service_id", "test"}};
  });
  start();
  auto all = send(http::verb::get, "/service-resources");
  EXPECT_EQ(all.status_code, 200u);
  EXPECT_EQ(nlohmann::json::parse(all.body)["service_id"], "test");
  auto known = send(http::verb::get, "/service-resources?model_id=known");
  EXPECT_EQ(nlohmann::json::parse(known.body), nlohmann::json({{"supported", true}}));
  auto other = send(http::verb::get, "/service-resources?model_id=other");
  EXPECT_EQ(nlohmann::json::parse(other.body), nlohmann::json({{"supported", false}}));
}

Awaitable<void> stream_three(const Envelope&, StreamWriter& writer) {
  for (int i = 0; i < 3; ++i)
    co_await writer.write("part" + std::to_string(i) + ";");
}

TEST_F(ServiceFixture, StreamDestinationIsChunked) {
  service_.on_job(echo_data);
  service_.on_stream(stream_three);
  start();
  std::string joined;
  ChunkHandler collect = [&joined](std::string_view data) -> Awaitable<void> {
    joined += data;
    co_return;
  };
  ClientRequest request;
  request.method = http::verb::post;
  request.body = R"({"source": 1, "destination": 2, "data": {}})";
  auto response = run(client_->stream(url("/service_output"), request,
                                      std::chrono::steady_clock::now() + 5s, collect));
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(response.header("transfer-encoding"), "chunked");
  EXPECT_EQ(response.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(joined, "part0;part1;part2;");
}

TEST_F(ServiceFixture, StreamErrorBeforeFirstChunkIsJson) {
  service_.on_stream([](const Envelope&, StreamWriter&) -> Awaitable<void> {
    throw ServiceError::bad_request("no prompt");
    co_return;
  });
  start();
  auto response = post_job(R"({"source": 1, "destination": 2, "data": {}})");
  EXPECT_EQ(error_description(response, 400), "no prompt");
}

TEST_F(ServiceFixture, StreamErrorAfterFirstChunkClosesConnection) {
  service_.on_stream([](const Envelope&, StreamWriter& writer) -> Awaitable<void> {
    co_await writer.write("partial");
    throw ServiceError::bad_request("broke mid-stream");
  });
  start();
  EXPECT_THROW(post_job(R"({"source": 1, "destination": 2, "data": {}})"),
               inferd::infra::ClientError);
}

TEST_F(ServiceFixture, StreamWithoutStreamHandlerUsesJobReply) {
  service_.on_job(echo_data);
  start();
  auto response = post_job(R"({"source": 1, "destination": 2, "data": {"a": 1}})");
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(nlohmann::json::parse(response.body)["data"], nlohmann::json({{"a", 1}}));
}

TEST_F(ServiceFixture, RawHandlerControlsReply) {
  service_.on_raw_job([](const Envelope&, RequestContext& context) -> Awaitable<HttpResponse> {
    HttpResponse response{http::status::accepted, context.request().version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = "plain";
    response.prepare_payload();
    co_return response;
  });
  start();
  auto response = post_job(R"({"source": 1, "destination": 1, "data": {}})");
  EXPECT_EQ(response.status_code, 202u);
  EXPECT_EQ(response.header("content-type"), "text/plain");
  EXPECT_EQ(response.body, "plain");
}

TEST_F(ServiceFixture, InFlightCountsRunningJobs) {
  std::promise<void> entered;
  auto entered_future = entered.get_future();
  service_.on_job([&entered](const Envelope&) -> Awaitable<nlohmann::json> {
    entered.set_value();
    asio::steady_timer timer(co_await asio::this_coro::executor, 200ms);
    co_await timer.async_wait(asio::use_awaitable);
    co_return nlohmann::json{{"done", true}};
  });
  start();
  // HttpClient::send keeps a reference to the URL until it completes.
  const Url job_url = url("/service_output");
  auto reply =
      asio::co_spawn(io_,
                     client_->send(job_url,
                                   ClientRequest{http::verb::post,
                                                 R"({"source": 1, "destination": 1, "data": {}})",
                                                 {},
                                                 "application/json"},
                                   std::chrono::steady_clock::now() + 5s),
                     asio::use_future);
  entered_future.wait();
  EXPECT_EQ(service_.in_flight(), 1u);
  EXPECT_EQ(reply.get().status_code, 200u);
  EXPECT_EQ(service_.in_flight(), 0u);
}

TEST_F(ServiceFixture, DrainFinishesRunningRequest) {
  std::promise<void> entered;
  auto entered_future = entered.get_future();
  service_.on_job([&entered](const Envelope&) -> Awaitable<nlohmann::json> {
    entered.set_value();
    asio::steady_timer timer(co_await asio::this_coro::executor, 200ms);
    co_await timer.async_wait(asio::use_awaitable);
    co_return nlohmann::json{{"done", true}};
  });
  start();

  // A second client leaves one idle keep-alive connection behind.
  HttpClient idle_client(io_.get_executor());
  EXPECT_EQ(run(idle_client.send(url("/"), ClientRequest{}, std::chrono::steady_clock::now() + 5s))
                .status_code,
            200u);
  // HttpClient::send keeps a reference to the URL until it completes.
  const Url job_url = url("/service_output");
  auto reply =
      asio::co_spawn(io_,
                     client_->send(job_url,
                                   ClientRequest{http::verb::post,
                                                 R"({"source": 1, "destination": 1, "data": {}})",
                                                 {},
                                                 "application/json"},
                                   std::chrono::steady_clock::now() + 5s),
                     asio::use_future);
  entered_future.wait();
  EXPECT_EQ(server_->open_connections(), 2u);

  server_->stop_accepting();
  server_->close_idle_connections();
  EXPECT_EQ(reply.get().status_code, 200u);
  for (int i = 0; i < 1000 && server_->open_connections() > 0; ++i)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(server_->open_connections(), 0u);
  idle_client.clear_idle();
}

}  // namespace
}  // namespace infernet::sdk

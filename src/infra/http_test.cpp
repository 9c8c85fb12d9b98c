#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "infra/http_client.hpp"
#include "infra/http_server.hpp"

namespace inferd::infra {
namespace {

using namespace std::chrono_literals;

// Runs a server on one io_context thread and lets a test await client calls against it.
class HttpFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions options;
    options.max_body_bytes = 64;
    options.idle_timeout = 2s;
    server_ = std::make_unique<HttpServer>(io_, options);
    server_->route(http::verb::get, "/hello",
                   [](RequestContext& context) -> Awaitable<HttpResponse> {
                     nlohmann::json body{{"names", context.query().get_all("name")}};
                     co_return json_response(context.request(), http::status::ok, body);
                   });
    server_->route(http::verb::post, "/echo",
                   [](RequestContext& context) -> Awaitable<HttpResponse> {
                     co_return json_response(context.request(), http::status::ok,
                                             {{"body", context.request().body()}});
                   });
    server_->route(http::verb::get, "/fail", [](RequestContext&) -> Awaitable<HttpResponse> {
      throw HttpError::message(http::status::conflict, "conflict here");
      co_return HttpResponse{};
    });
    server_->route(http::verb::get, "/crash", [](RequestContext&) -> Awaitable<HttpResponse> {
      throw std::runtime_error("secret internal detail");
      co_return HttpResponse{};
    });
    server_->route(http::verb::get, "/slow",
                   [](RequestContext& context) -> Awaitable<HttpResponse> {
                     asio::steady_timer timer(co_await asio::this_coro::executor, 500ms);
                     co_await timer.async_wait(asio::use_awaitable);
                     co_return json_response(context.request(), http::status::ok, {{"slow", true}});
                   });
    server_->route(http::verb::get, "/stream",
                   [](RequestContext& context) -> Awaitable<HttpResponse> {
                     http::response<http::empty_body> header{http::status::ok, 11};
                     header.set(http::field::content_type, "text/plain");
                     co_await context.begin_stream(std::move(header));
                     for (int i = 0; i < 3; ++i) {
                       co_await context.write_chunk("part" + std::to_string(i) + ";");
                       asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
                       co_await timer.async_wait(asio::use_awaitable);
                     }
                     co_await context.end_stream();
                     co_return HttpResponse{};
                   });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
    client_ = std::make_unique<HttpClient>(io_.get_executor());
  }

  void TearDown() override {
    server_->stop_accepting();
    server_->close_connections();
    client_->clear_idle();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  template <typename T>
  T run(Awaitable<T> operation) {
    return asio::co_spawn(io_, std::move(operation), asio::use_future).get();
  }

  Url url(const std::string& path) {
    return Url::parse("http://127.0.0.1:" + std::to_string(server_->port()) + path);
  }

  ClientResponse get(const std::string& path, std::chrono::milliseconds timeout = 5s) {
    return run(
        client_->send(url(path), ClientRequest{}, std::chrono::steady_clock::now() + timeout));
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> client_;
  std::thread thread_;
};

TEST_F(HttpFixture, JsonRouteWithRepeatedQuery) {
  auto response = get("/hello?name=a%20b&name=c");
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_TRUE(response.is_json());
  EXPECT_EQ(nlohmann::json::parse(response.body)["names"], nlohmann::json({"a b", "c"}));
}

TEST_F(HttpFixture, UnknownPathIsJson404) {
  auto response = get("/nope");
  EXPECT_EQ(response.status_code, 404u);
  EXPECT_TRUE(response.is_json());
  EXPECT_NE(response.body.find("/nope"), std::string::npos);
}

TEST_F(HttpFixture, WrongMethodIsJson405WithAllow) {
  ClientRequest request;
  request.method = http::verb::delete_;
  auto response = run(client_->send(url("/hello"), request, std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(response.status_code, 405u);
  EXPECT_EQ(response.header("allow"), "GET");
  EXPECT_TRUE(response.is_json());
}

TEST_F(HttpFixture, HttpErrorKeepsStatusAndBody) {
  auto response = get("/fail");
  EXPECT_EQ(response.status_code, 409u);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "conflict here");
}

TEST_F(HttpFixture, UnexpectedExceptionLeaksNothing) {
  auto response = get("/crash");
  EXPECT_EQ(response.status_code, 500u);
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"], "internal server error");
}

TEST_F(HttpFixture, BodyOverLimitIs413) {
  ClientRequest request;
  request.method = http::verb::post;
  request.body = std::string(65, 'x');
  auto response = run(client_->send(url("/echo"), request, std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(response.status_code, 413u);
  EXPECT_TRUE(response.is_json());
}

TEST_F(HttpFixture, BodyAtLimitIsAccepted) {
  ClientRequest request;
  request.method = http::verb::post;
  request.body = std::string(64, 'x');
  auto response = run(client_->send(url("/echo"), request, std::chrono::steady_clock::now() + 5s));
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(nlohmann::json::parse(response.body)["body"], request.body);
}

TEST_F(HttpFixture, DeadlineExceededIsTimeout) {
  try {
    get("/slow", 100ms);
    FAIL() << "expected a timeout";
  } catch (const ClientError& error) {
    EXPECT_EQ(error.kind(), ClientErrorKind::kTimeout);
  }
}

TEST_F(HttpFixture, ConnectionRefusedIsConnectError) {
  auto port = server_->port();
  server_->stop_accepting();
  server_->close_connections();
  client_->clear_idle();
  // Let the acceptor close before connecting again.
  for (int i = 0; i < 100; ++i) {
    try {
      run(client_->send(Url::parse("http://127.0.0.1:" + std::to_string(port) + "/hello"),
                        ClientRequest{}, std::chrono::steady_clock::now() + 1s));
      client_->clear_idle();
      std::this_thread::sleep_for(10ms);
    } catch (const ClientError& error) {
      EXPECT_EQ(error.kind(), ClientErrorKind::kConnect);
      return;
    }
  }
  FAIL() << "the closed port kept accepting";
}

TEST_F(HttpFixture, StreamDeliversChunksInOrder) {
  std::vector<std::string> chunks;
  ChunkHandler collect = [&chunks](std::string_view data) -> Awaitable<void> {
    chunks.emplace_back(data);
    co_return;
  };
  auto response = run(client_->stream(url("/stream"), ClientRequest{},
                                      std::chrono::steady_clock::now() + 5s, collect));
  EXPECT_EQ(response.status_code, 200u);
  std::string joined;
  for (const auto& chunk : chunks)
    joined += chunk;
  EXPECT_EQ(joined, "part0;part1;part2;");
  EXPECT_GE(chunks.size(), 2u);
}

TEST_F(HttpFixture, StreamReadsContentLengthBody) {
  std::string joined;
  ChunkHandler collect = [&joined](std::string_view data) -> Awaitable<void> {
    joined.append(data);
    co_return;
  };
  auto response = run(client_->stream(url("/hello?name=x"), ClientRequest{},
                                      std::chrono::steady_clock::now() + 5s, collect));
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(nlohmann::json::parse(joined)["names"], nlohmann::json({"x"}));
}

TEST_F(HttpFixture, ReusesKeepAliveConnection) {
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(get("/hello").status_code, 200u);
  EXPECT_EQ(server_->open_connections(), 1u);
}

TEST_F(HttpFixture, RetriesWhenServerClosedIdleConnection) {
  EXPECT_EQ(get("/hello").status_code, 200u);
  server_->close_connections();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(get("/hello").status_code, 200u);
}

TEST(UrlTest, ParsesPartsAndDefaults) {
  auto url = Url::parse("https://user:pw@rpc.example:8545/v1?key=abc");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "rpc.example");
  EXPECT_EQ(url.port, "8545");
  EXPECT_EQ(url.target, "/v1?key=abc");
  EXPECT_EQ(url.redacted(), "https://***@rpc.example:8545/v1?***");
  EXPECT_EQ(Url::parse("http://localhost").port, "80");
  EXPECT_EQ(Url::parse("http://localhost:3000").with_path("/service_output").target,
            "/service_output");
}

TEST(UrlTest, RejectsBadUrls) {
  EXPECT_THROW(Url::parse("localhost:3000"), std::invalid_argument);
  EXPECT_THROW(Url::parse("ftp://host"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://host:99999"), std::invalid_argument);
  EXPECT_THROW(Url::parse("http://:80"), std::invalid_argument);
}

TEST(QueryParamsTest, DecodesAndKeepsOrder) {
  auto params = QueryParams::parse("id=1&id=2&pending=true&x=%2Fa+b&flag");
  EXPECT_EQ(params.get_all("id"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(params.get("pending"), "true");
  EXPECT_EQ(params.get("x"), "/a b");
  EXPECT_EQ(params.get("flag"), "");
  EXPECT_FALSE(params.get("missing").has_value());
}

}  // namespace
}  // namespace inferd::infra

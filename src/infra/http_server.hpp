// HTTP/1.1 server on Boost.Beast and Asio C++20 coroutines.
//
// Routes are exact (method, path) pairs. Handlers are coroutines that return a response, or
// stream a chunked body through the request context. Every error reply is JSON: handlers throw
// HttpError for client errors, and any other exception becomes a generic 500 that leaks nothing.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "infra/asio.hpp"

namespace inferd::infra {

using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

/// A client error with its HTTP status and JSON body. Thrown by handlers; the server turns it into
/// the reply. `headers` are added to the reply (e.g. Retry-After).
class HttpError : public std::runtime_error {
 public:
  HttpError(http::status status, nlohmann::json body,
            std::vector<std::pair<std::string, std::string>> headers = {});

  /// Builds {"error": message} with the given status.
  static HttpError message(http::status status, std::string message);

  http::status status() const { return status_; }
  const nlohmann::json& body() const { return body_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  http::status status_;
  nlohmann::json body_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

/// Decoded query parameters in the order they appear; a name may repeat.
class QueryParams {
 public:
  /// Parses the part after '?', percent-decoding names and values ('+' means space).
  static QueryParams parse(std::string_view query);

  /// The first value of `name`, if present.
  std::optional<std::string> get(std::string_view name) const;
  /// Every value of `name`, in order.
  std::vector<std::string> get_all(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

class HttpConnection;

/// What a handler sees of one request. Not thread-safe; lives for the handler's duration.
class RequestContext {
 public:
  RequestContext(HttpRequest& request, asio::ip::address peer, HttpConnection& connection);

  HttpRequest& request() { return request_; }
  const HttpRequest& request() const { return request_; }
  /// Path without the query string.
  std::string_view path() const { return path_; }
  const QueryParams& query() const { return query_; }
  /// TCP peer address of the client.
  const asio::ip::address& peer() const { return peer_; }

  /// Sends `header` with chunked transfer encoding; the body follows with write_chunk. After
  /// this the handler's returned response is ignored.
  Awaitable<void> begin_stream(http::response<http::empty_body> header);
  /// Sends one chunk; throws when the client went away.
  Awaitable<void> write_chunk(std::string_view data);
  /// Sends the terminating chunk.
  Awaitable<void> end_stream();
  bool streaming() const { return streaming_; }

 private:
  HttpRequest& request_;
  asio::ip::address peer_;
  HttpConnection& connection_;
  std::string_view path_;
  QueryParams query_;
  bool streaming_ = false;
};

using HttpHandler = std::function<Awaitable<HttpResponse>(RequestContext&)>;

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  unsigned short port = 0;  ///< 0 picks a free port (see HttpServer::port)
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 64 * 1024;  ///< room for 1000 job ids in a query
  std::chrono::seconds idle_timeout{60};     ///< keep-alive connections idle longer are closed
  std::chrono::seconds read_timeout{30};     ///< time allowed to receive one whole request
  /// Builds the JSON body of the errors the server produces itself (unknown path, wrong method,
  /// malformed or oversized request, unexpected handler exception). Empty means
  /// {"error": message}. Errors thrown as HttpError keep their own body.
  std::function<nlohmann::json(http::status status, const std::string& message)> error_body;
};

/// Builds a JSON reply with `Content-Type: application/json` and the request's keep-alive.
HttpResponse json_response(const HttpRequest& request, http::status status,
                           const nlohmann::json& body);

/// The server. Routes must be added before start(). start() and stop() are thread-safe with
/// respect to the io_context's threads.
class HttpServer {
 public:
  HttpServer(asio::io_context& io, HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Adds a route. A path ending in "/*" matches any one further non-empty segment, e.g.
  /// "/api/subscriptions/*" matches "/api/subscriptions/7"; exact paths win.
  void route(http::verb method, std::string path, HttpHandler handler);

  /// Binds and starts accepting. Throws std::runtime_error naming the address and port when the
  /// bind fails (e.g. the port is in use).
  void start();
  /// Stops accepting new connections; open connections finish their current request and close.
  void stop_accepting();
  /// Closes every open connection now.
  void close_connections();
  /// Closes the connections that wait for a next request; connections busy with one are left
  /// to finish it. With stop_accepting() first, this drains the server: open_connections()
  /// falls to zero as the running requests complete.
  void close_idle_connections();

  /// The bound port (useful when options.port was 0).
  unsigned short port() const;
  std::size_t open_connections() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace inferd::infra

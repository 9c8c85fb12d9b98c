#include "infra/http_server.hpp"

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "infra/logging.hpp"

namespace inferd::infra {
namespace {

using tcp = asio::ip::tcp;

std::shared_ptr<spdlog::logger> http_logger() {
  return logging::get_logger("http");
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() && hex_digit_value(text[i + 1]) >= 0 &&
               hex_digit_value(text[i + 2]) >= 0) {
      out.push_back(
          static_cast<char>(hex_digit_value(text[i + 1]) * 16 + hex_digit_value(text[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The body of an error the server produces itself, shaped by options.error_body when set.
nlohmann::json error_body(const HttpServerOptions& options, http::status status,
                          std::string message) {
  if (options.error_body)
    return options.error_body(status, message);
  return {{"error", std::move(message)}};
}

// Sends a JSON error reply that closes the connection; used before a request could be parsed.
Awaitable<void> reply_and_close(beast::tcp_stream& stream, const HttpServerOptions& options,
                                unsigned version, http::status status, std::string message) {
  HttpRequest stub;
  stub.version(version);
  auto response = json_response(stub, status, error_body(options, status, std::move(message)));
  response.keep_alive(false);
  stream.expires_after(options.read_timeout);
  beast::error_code ignored;
  co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ignored));
}

}  // namespace

HttpError::HttpError(http::status status, nlohmann::json body,
                     std::vector<std::pair<std::string, std::string>> headers)
    : std::runtime_error(body.contains("error") && body["error"].is_string()
                             ? body["error"].get<std::string>()
                             : std::string(http::obsolete_reason(status))),
      status_(status),
      body_(std::move(body)),
      headers_(std::move(headers)) {}

HttpError HttpError::message(http::status status, std::string message) {
  return HttpError(status, nlohmann::json{{"error", std::move(message)}});
}

QueryParams QueryParams::parse(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty())
      continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      params.items_.emplace_back(percent_decode(item), std::string{});
    } else {
      params.items_.emplace_back(percent_decode(item.substr(0, eq)),
                                 percent_decode(item.substr(eq + 1)));
    }
  }
  return params;
}

std::optional<std::string> QueryParams::get(std::string_view name) const {
  for (const auto& [key, value] : items_) {
    if (key == name)
      return value;
  }
  return std::nullopt;
}

std::vector<std::string> QueryParams::get_all(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : items_) {
    if (key == name)
      values.push_back(value);
  }
  return values;
}

HttpResponse json_response(const HttpRequest& request, http::status status,
                           const nlohmann::json& body) {
  HttpResponse response{status, request.version()};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(request.keep_alive());
  response.body() = body.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  response.prepare_payload();
  return response;
}

// One accepted TCP connection. Lives on its own strand; at most one operation of each kind
// (read or write) is outstanding at a time.
class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  explicit HttpConnection(tcp::socket socket) : stream_(std::move(socket)) {}

  beast::tcp_stream& stream() { return stream_; }
  beast::flat_buffer& buffer() { return buffer_; }
  /// Whether the connection waits for a next request (no request is being read or handled).
  bool idle() const { return idle_.load(std::memory_order_acquire); }
  void set_idle(bool idle) { idle_.store(idle, std::memory_order_release); }

  void close() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.close();
    });
  }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::atomic<bool> idle_{true};
};

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(asio::io_context& io_context, HttpServerOptions server_options)
      : io(io_context), options(std::move(server_options)), acceptor(io_context) {}

  asio::io_context& io;
  HttpServerOptions options;
  tcp::acceptor acceptor;
  using Routes = std::unordered_map<std::string, std::vector<std::pair<http::verb, HttpHandler>>>;
  Routes routes;
  std::atomic<bool> accepting{false};
  unsigned short bound_port = 0;

  mutable std::mutex connections_mutex;
  std::unordered_set<std::shared_ptr<HttpConnection>> connections;

  Awaitable<void> accept_loop();
  std::string body_limit_message() const {
    return "request body exceeds the limit of " + std::to_string(options.max_body_bytes) +
           " bytes (server.max_body_bytes)";
  }
  Awaitable<void> serve(std::shared_ptr<HttpConnection> connection);
  Awaitable<HttpResponse> dispatch(HttpRequest& request, RequestContext& context);
  HttpResponse route_error(const HttpRequest& request, std::string_view path);
  Routes::const_iterator find_route(std::string_view path) const;
};

RequestContext::RequestContext(HttpRequest& request, asio::ip::address peer,
                               HttpConnection& connection)
    : request_(request), peer_(std::move(peer)), connection_(connection) {
  std::string_view target = request_.target();
  auto question = target.find('?');
  path_ = target.substr(0, question);
  if (question != std::string_view::npos)
    query_ = QueryParams::parse(target.substr(question + 1));
}

Awaitable<void> RequestContext::begin_stream(http::response<http::empty_body> header) {
  header.chunked(true);
  header.keep_alive(request_.keep_alive());
  http::response_serializer<http::empty_body> serializer{header};
  streaming_ = true;
  connection_.stream().expires_never();
  co_await http::async_write_header(connection_.stream(), serializer, asio::use_awaitable);
}

Awaitable<void> RequestContext::write_chunk(std::string_view data) {
  if (data.empty())
    co_return;
  co_await asio::async_write(connection_.stream(),
                             http::make_chunk(asio::const_buffer(data.data(), data.size())),
                             asio::use_awaitable);
}

Awaitable<void> RequestContext::end_stream() {
  co_await asio::async_write(connection_.stream(), http::make_chunk_last(), asio::use_awaitable);
}

HttpServer::State::Routes::const_iterator HttpServer::State::find_route(
    std::string_view path) const {
  if (auto found = routes.find(std::string(path)); found != routes.end())
    return found;
  // "/a/b/*" matches "/a/b/<segment>" for any one non-empty segment.
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos || slash + 1 == path.size())
    return routes.end();
  return routes.find(std::string(path.substr(0, slash + 1)) + "*");
}

HttpResponse HttpServer::State::route_error(const HttpRequest& request, std::string_view path) {
  auto found = find_route(path);
  if (found == routes.end()) {
    return json_response(request, http::status::not_found,
                         error_body(options, http::status::not_found,
                                    "not found: no route for " + std::string(path)));
  }
  std::string allowed;
  for (const auto& [verb, handler] : found->second) {
    if (!allowed.empty())
      allowed += ", ";
    allowed += std::string(http::to_string(verb));
  }
  auto response = json_response(
      request, http::status::method_not_allowed,
      error_body(options, http::status::method_not_allowed,
                 "method " + std::string(request.method_string()) + " not allowed for " +
                     std::string(path) + "; allowed: " + allowed));
  response.set(http::field::allow, allowed);
  return response;
}

Awaitable<HttpResponse> HttpServer::State::dispatch(HttpRequest& request, RequestContext& context) {
  const HttpHandler* handler = nullptr;
  if (auto found = find_route(context.path()); found != routes.end()) {
    for (const auto& [verb, candidate] : found->second) {
      if (verb == request.method())
        handler = &candidate;
    }
  }
  if (handler == nullptr)
    co_return route_error(request, context.path());

  try {
    co_return co_await (*handler)(context);
  } catch (const HttpError& error) {
    if (context.streaming())
      throw;
    auto response = json_response(request, error.status(), error.body());
    for (const auto& [name, value] : error.headers())
      response.set(name, value);
    co_return response;
  } catch (const boost::system::system_error&) {
    throw;
  } catch (const std::exception& error) {
    if (context.streaming())
      throw;
    http_logger()->error("request failed path={} error={}", context.path(), error.what());
    co_return json_response(
        request, http::status::internal_server_error,
        error_body(options, http::status::internal_server_error, "internal server error"));
  }
}

Awaitable<void> HttpServer::State::serve(std::shared_ptr<HttpConnection> connection) {
  auto& stream = connection->stream();
  beast::error_code ec;
  asio::ip::address peer = stream.socket().remote_endpoint(ec).address();

  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(options.max_body_bytes);
    parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));

    stream.expires_after(options.idle_timeout);
    connection->set_idle(true);
    co_await http::async_read_header(stream, connection->buffer(), parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    connection->set_idle(false);
    if (ec == http::error::body_limit) {
      // Beast checks Content-Length against the body limit as soon as the header is parsed.
      co_await reply_and_close(stream, options, parser.get().version(),
                               http::status::payload_too_large, body_limit_message());
      break;
    }
    if (ec) {
      if (ec == http::error::header_limit) {
        co_await reply_and_close(
            stream, options, 11, http::status::request_header_fields_too_large,
            "request headers exceed " + std::to_string(options.max_header_bytes) + " bytes");
      } else if (ec != http::error::end_of_stream && ec != asio::error::operation_aborted &&
                 ec != beast::error::timeout && ec != asio::error::connection_reset &&
                 ec != asio::error::eof) {
        co_await reply_and_close(stream, options, 11, http::status::bad_request,
                                 "malformed HTTP request: " + ec.message());
      }
      break;
    }

    const auto& header = parser.get();
    if (beast::iequals(header[http::field::expect], "100-continue")) {
      http::response<http::empty_body> proceed{http::status::continue_, header.version()};
      co_await http::async_write(stream, proceed, asio::redirect_error(asio::use_awaitable, ec));
      if (ec)
        break;
    }

    stream.expires_after(options.read_timeout);
    co_await http::async_read(stream, connection->buffer(), parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (ec == http::error::body_limit) {
        co_await reply_and_close(stream, options, header.version(), http::status::payload_too_large,
                                 body_limit_message());
      }
      break;
    }

    HttpRequest request = parser.release();
    stream.expires_never();
    RequestContext context(request, peer, *connection);
    HttpResponse response;
    try {
      response = co_await dispatch(request, context);
    } catch (const std::exception& error) {
      // The handler failed after it began streaming (or the client went away): the only
      // honest signal left is to close the connection without the terminating chunk.
      http_logger()->debug("stream aborted path={} error={}", context.path(), error.what());
      break;
    }
    bool keep_alive = request.keep_alive() && accepting.load(std::memory_order_relaxed);
    if (context.streaming()) {
      if (!keep_alive)
        break;
      continue;
    }

    response.keep_alive(keep_alive);
    stream.expires_after(options.read_timeout);
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive)
      break;
  }

  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
  std::lock_guard lock(connections_mutex);
  connections.erase(connection);
}

Awaitable<void> HttpServer::State::accept_loop() {
  auto self = shared_from_this();
  while (accepting.load()) {
    beast::error_code ec;
    tcp::socket socket(asio::make_strand(io));
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!accepting.load() || ec == asio::error::operation_aborted)
        break;
      http_logger()->warn("accept failed error={}", ec.message());
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto connection = std::make_shared<HttpConnection>(std::move(socket));
    {
      std::lock_guard lock(connections_mutex);
      connections.insert(connection);
    }
    auto executor = connection->stream().get_executor();
    asio::co_spawn(executor, serve(connection), [self](std::exception_ptr error) {
      if (!error)
        return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        http_logger()->debug("connection ended error={}", e.what());
      }
    });
  }
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options)
    : state_(std::make_shared<State>(io, std::move(options))) {}

HttpServer::~HttpServer() {
  stop_accepting();
  close_connections();
}

void HttpServer::route(http::verb method, std::string path, HttpHandler handler) {
  state_->routes[std::move(path)].emplace_back(method, std::move(handler));
}

void HttpServer::start() {
  auto& state = *state_;
  beast::error_code ec;
  auto address = asio::ip::make_address(state.options.bind_address, ec);
  if (ec) {
    throw std::runtime_error("invalid bind address \"" + state.options.bind_address +
                             "\": " + ec.message() + "; use an IP address such as 127.0.0.1");
  }
  tcp::endpoint endpoint{address, state.options.port};
  state.acceptor.open(endpoint.protocol());
  state.acceptor.set_option(asio::socket_base::reuse_address(true));
  state.acceptor.bind(endpoint, ec);
  if (ec) {
    state.acceptor.close();
    throw std::runtime_error("cannot listen on " + state.options.bind_address + ":" +
                             std::to_string(state.options.port) + ": " + ec.message());
  }
  state.acceptor.listen(asio::socket_base::max_listen_connections);
  state.bound_port = state.acceptor.local_endpoint().port();
  state.accepting = true;
  asio::co_spawn(state.acceptor.get_executor(), state.accept_loop(), asio::detached);
}

void HttpServer::stop_accepting() {
  if (!state_->accepting.exchange(false))
    return;
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    beast::error_code ignored;
    state->acceptor.close(ignored);
  });
}

void HttpServer::close_connections() {
  std::lock_guard lock(state_->connections_mutex);
  for (const auto& connection : state_->connections)
    connection->close();
}

void HttpServer::close_idle_connections() {
  std::lock_guard lock(state_->connections_mutex);
  for (const auto& connection : state_->connections) {
    if (connection->idle())
      connection->close();
  }
}

unsigned short HttpServer::port() const {
  return state_->bound_port;
}

std::size_t HttpServer::open_connections() const {
  std::lock_guard lock(state_->connections_mutex);
  return state_->connections.size();
}

}  // namespace inferd::infra

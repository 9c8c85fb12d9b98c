#include "infra/http_client.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/ssl.hpp>

namespace inferd::infra {
namespace {

using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_stale_connection_error(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::eof ||
         ec == asio::ssl::error::stream_truncated;
}

// Thrown inside one attempt when a reused connection turned out to be closed by the peer before
// any reply byte arrived; the caller retries on a fresh connection.
struct StaleConnection {};

}  // namespace

Url Url::parse(std::string_view text) {
  Url url;
  auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    throw std::invalid_argument("invalid URL \"" + std::string(text) +
                                "\": missing scheme; write it as http://host:port/path");
  }
  url.scheme = lowercase(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    throw std::invalid_argument("invalid URL scheme \"" + url.scheme +
                                "\": only http and https are supported");
  }
  std::string_view rest = text.substr(scheme_end + 3);
  auto path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  url.target = path_start == std::string_view::npos ? "/" : std::string(rest.substr(path_start));
  if (url.target.front() == '?')
    url.target.insert(0, "/");

  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("invalid URL \"" + url.redacted() +
                                  "\": unterminated IPv6 address");
    }
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  url.host = std::string(host);
  if (url.host.empty()) {
    throw std::invalid_argument("invalid URL \"" + url.redacted() + "\": missing host");
  }
  if (port.empty()) {
    url.port = url.scheme == "https" ? "443" : "80";
  } else {
    bool digits =
        std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
    if (!digits || port.size() > 5 || std::stoul(std::string(port)) == 0 ||
        std::stoul(std::string(port)) > 65535) {
      throw std::invalid_argument("invalid URL \"" + url.redacted() + "\": port \"" +
                                  std::string(port) + "\" is not a number from 1 to 65535");
    }
    url.port = std::string(port);
  }
  return url;
}

std::string Url::origin() const {
  bool ipv6 = host.find(':') != std::string::npos;
  return scheme + "://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
}

std::string Url::redacted() const {
  bool ipv6 = host.find(':') != std::string::npos;
  std::string out = scheme + "://";
  if (!userinfo.empty())
    out += "***@";
  out += ipv6 ? "[" + host + "]" : host;
  out += ":" + port;
  // Query strings of RPC providers often carry API keys too.
  auto question = target.find('?');
  out += question == std::string::npos ? target : target.substr(0, question) + "?***";
  return out;
}

Url Url::with_path(std::string_view path) const {
  Url url = *this;
  auto question = url.target.find('?');
  std::string base = question == std::string::npos ? url.target : url.target.substr(0, question);
  if (!base.empty() && base.back() == '/' && !path.empty() && path.front() == '/')
    base.pop_back();
  url.target = base + std::string(path);
  return url;
}

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (beast::iequals(key, name))
      return value;
  }
  return {};
}

bool ClientResponse::is_json() const {
  std::string type = lowercase(header("content-type"));
  auto semicolon = type.find(';');
  if (semicolon != std::string::npos)
    type.resize(semicolon);
  while (!type.empty() && type.back() == ' ')
    type.pop_back();
  return type == "application/json" ||
         (type.size() > 5 && type.compare(type.size() - 5, 5, "+json") == 0);
}

namespace {

// One pooled connection: plain TCP or TLS over TCP.
struct ClientConnection {
  explicit ClientConnection(asio::any_io_executor executor) : tcp(executor) {}

  beast::tcp_stream tcp;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  Clock::time_point idle_since{};

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : tcp; }
};

ClientError transport_error(std::string_view operation, const Url& url, const beast::error_code& ec,
                            Clock::time_point deadline) {
  ClientErrorKind kind = ClientErrorKind::kProtocol;
  std::string reason = ec.message();
  // A timer that fires can surface as operation_aborted instead of beast's timeout error.
  if (ec == beast::error::timeout ||
      (ec == asio::error::operation_aborted && Clock::now() >= deadline)) {
    kind = ClientErrorKind::kTimeout;
    reason = "deadline exceeded";
  } else if (ec == asio::error::operation_aborted) {
    kind = ClientErrorKind::kCancelled;
  } else if (ec == asio::error::connection_refused || ec == asio::error::host_not_found ||
             ec == asio::error::host_not_found_try_again ||
             ec == asio::error::network_unreachable) {
    kind = ClientErrorKind::kConnect;
  } else if (is_stale_connection_error(ec) || ec == http::error::partial_message) {
    kind = ClientErrorKind::kClosed;
    reason = "connection closed by the server before the reply was complete";
  } else if (ec == http::error::body_limit) {
    kind = ClientErrorKind::kTooLarge;
  } else if (ec.category() == asio::error::get_ssl_category()) {
    kind = ClientErrorKind::kTls;
  }
  return ClientError(kind, std::string(operation) + " " + url.redacted() + " failed: " + reason);
}

void fill_request(http::request<http::string_body>& request, const Url& url, ClientRequest& spec) {
  request.method(spec.method);
  request.target(url.target);
  request.version(11);
  bool default_port =
      (url.scheme == "http" && url.port == "80") || (url.scheme == "https" && url.port == "443");
  request.set(http::field::host, default_port ? url.host : url.host + ":" + url.port);
  request.set(http::field::user_agent, "inferd");
  request.keep_alive(true);
  if (!spec.content_type.empty())
    request.set(http::field::content_type, spec.content_type);
  for (auto& [name, value] : spec.headers)
    request.set(name, value);
  if (!url.userinfo.empty() && request.find(http::field::authorization) == request.end()) {
    // Basic credentials from the URL, as curl and browsers send them.
    std::string encoded;
    encoded.resize(beast::detail::base64::encoded_size(url.userinfo.size()));
    encoded.resize(
        beast::detail::base64::encode(encoded.data(), url.userinfo.data(), url.userinfo.size()));
    request.set(http::field::authorization, "Basic " + encoded);
  }
  request.body() = std::move(spec.body);
  request.prepare_payload();
}

template <typename Fields>
HeaderList copy_headers(const Fields& fields) {
  HeaderList headers;
  for (const auto& field : fields) {
    headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  return headers;
}

}  // namespace

struct HttpClient::Impl : std::enable_shared_from_this<HttpClient::Impl> {
  Impl(asio::any_io_executor io_executor, HttpClientOptions client_options)
      : executor(std::move(io_executor)),
        options(client_options),
        tls_context(asio::ssl::context::tls_client) {
    tls_context.set_default_verify_paths();
    if (!options.ca_file.empty()) {
      boost::system::error_code ec;
      tls_context.load_verify_file(options.ca_file, ec);
      if (ec) {
        throw std::invalid_argument("loading the CA file \"" + options.ca_file + "\" failed: " +
                                    ec.message() + "; give a readable PEM file of CA certificates");
      }
    }
    tls_context.set_verify_mode(asio::ssl::verify_peer);
  }

  asio::any_io_executor executor;
  HttpClientOptions options;
  asio::ssl::context tls_context;
  std::mutex pool_mutex;
  std::unordered_map<std::string, std::vector<std::unique_ptr<ClientConnection>>> idle;

  std::unique_ptr<ClientConnection> take_idle(const std::string& origin) {
    std::lock_guard lock(pool_mutex);
    auto found = idle.find(origin);
    if (found == idle.end())
      return nullptr;
    auto& list = found->second;
    auto now = Clock::now();
    while (!list.empty()) {
      auto connection = std::move(list.back());
      list.pop_back();
      if (now - connection->idle_since < options.idle_timeout)
        return connection;
    }
    return nullptr;
  }

  void give_back(const std::string& origin, std::unique_ptr<ClientConnection> connection) {
    connection->idle_since = Clock::now();
    connection->lowest().expires_never();
    std::lock_guard lock(pool_mutex);
    auto& list = idle[origin];
    if (list.size() < options.max_idle_per_origin)
      list.push_back(std::move(connection));
  }

  Awaitable<std::unique_ptr<ClientConnection>> connect(const Url& url, Clock::time_point deadline) {
    auto connection = std::make_unique<ClientConnection>(asio::make_strand(executor));
    beast::error_code ec;
    tcp::resolver resolver(connection->tcp.get_executor());
    auto endpoints = co_await resolver.async_resolve(url.host, url.port,
                                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      throw transport_error("resolving", url, ec, deadline);
    connection->tcp.expires_at(deadline);
    co_await connection->tcp.async_connect(endpoints,
                                           asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      throw transport_error("connecting to", url, ec, deadline);
    connection->tcp.socket().set_option(tcp::no_delay(true), ec);

    if (url.scheme == "https") {
      connection->tls = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(
          std::move(connection->tcp), tls_context);
      if (!SSL_set_tlsext_host_name(connection->tls->native_handle(), url.host.c_str())) {
        throw ClientError(ClientErrorKind::kTls, "TLS setup for " + url.redacted() + " failed");
      }
      connection->tls->set_verify_callback(asio::ssl::host_name_verification(url.host));
      beast::get_lowest_layer(*connection->tls).expires_at(deadline);
      co_await connection->tls->async_handshake(asio::ssl::stream_base::client,
                                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        // OpenSSL's error queue can name only the failing primitive ("EVP lib"), so add the
        // certificate verification result when there is one.
        const long verify_result = SSL_get_verify_result(connection->tls->native_handle());
        if (verify_result != X509_V_OK) {
          const ClientError failure = transport_error("TLS handshake with", url, ec, deadline);
          throw ClientError(failure.kind(), std::string(failure.what()) +
                                                " (certificate verification: " +
                                                X509_verify_cert_error_string(verify_result) + ")");
        }
        throw transport_error("TLS handshake with", url, ec, deadline);
      }
    }
    co_return connection;
  }

  template <typename Stream>
  Awaitable<ClientResponse> exchange(Stream& stream, ClientConnection& connection, const Url& url,
                                     http::request<http::string_body>& request, bool reused,
                                     Clock::time_point deadline, const ChunkHandler* on_chunk,
                                     bool& keep_alive) {
    beast::error_code ec;
    connection.lowest().expires_at(deadline);
    co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (reused && is_stale_connection_error(ec))
        throw StaleConnection{};
      throw transport_error("sending request to", url, ec, deadline);
    }

    ClientResponse response;
    if (on_chunk == nullptr) {
      http::response_parser<http::string_body> parser;
      parser.body_limit(options.max_response_bytes);
      co_await http::async_read_header(stream, connection.buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (reused && is_stale_connection_error(ec))
          throw StaleConnection{};
        throw transport_error("reading reply from", url, ec, deadline);
      }
      co_await http::async_read(stream, connection.buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec)
        throw transport_error("reading reply from", url, ec, deadline);
      auto message = parser.release();
      response.status = message.result();
      response.status_code = message.result_int();
      response.headers = copy_headers(message.base());
      response.body = std::move(message.body());
      keep_alive = message.keep_alive();
      co_return response;
    }

    http::response_parser<http::buffer_body> parser;
    // Beast 1.74 compares a Content-Length against an empty optional limit as "over the limit",
    // so "no limit" must be the largest value instead of boost::none.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    co_await http::async_read_header(stream, connection.buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (reused && is_stale_connection_error(ec))
        throw StaleConnection{};
      throw transport_error("reading reply from", url, ec, deadline);
    }
    response.status = parser.get().result();
    response.status_code = parser.get().result_int();
    response.headers = copy_headers(parser.get().base());
    bool success = response.status_code >= 200 && response.status_code < 300;

    std::array<char, 16 * 1024> chunk{};
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      co_await http::async_read_some(stream, connection.buffer, parser,
                                     asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::need_buffer)
        ec = {};
      if (ec)
        throw transport_error("reading streamed reply from", url, ec, deadline);
      std::size_t received = chunk.size() - parser.get().body().size;
      if (received == 0)
        continue;
      if (success) {
        co_await (*on_chunk)(std::string_view(chunk.data(), received));
      } else if (response.body.size() + received <= options.max_response_bytes) {
        response.body.append(chunk.data(), received);
      }
    }
    keep_alive = parser.get().keep_alive();
    co_return response;
  }

  Awaitable<ClientResponse> perform(const Url& url, ClientRequest spec, Clock::time_point deadline,
                                    const ChunkHandler* on_chunk) {
    http::request<http::string_body> request;
    fill_request(request, url, spec);
    const std::string origin = url.origin();

    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<ClientConnection> connection = attempt == 0 ? take_idle(origin) : nullptr;
      bool reused = connection != nullptr;
      if (!connection)
        connection = co_await connect(url, deadline);

      bool keep_alive = false;
      bool stale = false;
      ClientResponse response;
      try {
        if (connection->tls) {
          response = co_await exchange(*connection->tls, *connection, url, request, reused,
                                       deadline, on_chunk, keep_alive);
        } else {
          response = co_await exchange(connection->tcp, *connection, url, request, reused, deadline,
                                       on_chunk, keep_alive);
        }
      } catch (const StaleConnection&) {
        stale = true;
      }
      if (stale)
        continue;
      if (keep_alive)
        give_back(origin, std::move(connection));
      co_return response;
    }
  }
};

HttpClient::HttpClient(asio::any_io_executor executor, HttpClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(executor), options)) {}

HttpClient::~HttpClient() = default;

Awaitable<ClientResponse> HttpClient::send(Url url, ClientRequest request,
                                           std::chrono::steady_clock::time_point deadline) {
  auto impl = impl_;
  co_return co_await impl->perform(url, std::move(request), deadline, nullptr);
}

Awaitable<ClientResponse> HttpClient::stream(Url url, ClientRequest request,
                                             std::chrono::steady_clock::time_point deadline,
                                             ChunkHandler on_chunk) {
  auto impl = impl_;
  co_return co_await impl->perform(url, std::move(request), deadline, &on_chunk);
}

void HttpClient::clear_idle() {
  std::lock_guard lock(impl_->pool_mutex);
  impl_->idle.clear();
}

}  // namespace inferd::infra

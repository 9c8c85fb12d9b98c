// HTTP/1.1 client on Boost.Beast and Asio C++20 coroutines, with keep-alive connection pools.
//
// Used for calls to service containers and for JSON-RPC. Plain HTTP and HTTPS (OpenSSL, peer and
// host name verified). Every call has a deadline; a pooled connection that the peer closed while
// idle is replaced transparently before any byte of the reply was read.
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

#include "infra/asio.hpp"

namespace inferd::infra {

/// An absolute http:// or https:// URL split into its parts.
struct Url {
  std::string scheme;  ///< "http" or "https"
  std::string host;
  std::string port;      ///< always set: the default port of the scheme when the URL had none
  std::string target;    ///< path and query, at least "/"
  std::string userinfo;  ///< "user:password" when present (never logged; see redacted())

  /// Parses `text`; throws std::invalid_argument naming the URL (credentials redacted) and what
  /// is wrong with it.
  static Url parse(std::string_view text);
  /// scheme://host:port
  std::string origin() const;
  /// The URL with any userinfo replaced by "***", safe for logs and error messages.
  std::string redacted() const;
  /// A URL on the same origin with `path` appended to this URL's path.
  Url with_path(std::string_view path) const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientResponse {
  http::status status = http::status::unknown;
  unsigned status_code = 0;
  HeaderList headers;
  std::string body;

  /// The value of a header (case-insensitive name), or an empty string.
  std::string header(std::string_view name) const;
  /// True when Content-Type is application/json or a +json type.
  bool is_json() const;
};

/// Category of a transport failure that ended a call before a complete reply arrived.
enum class ClientErrorKind { kConnect, kTimeout, kClosed, kProtocol, kTooLarge, kTls, kCancelled };

/// A transport-level failure (no HTTP reply, or an incomplete one). Its message names the
/// operation and the redacted URL.
class ClientError : public std::runtime_error {
 public:
  ClientError(ClientErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ClientErrorKind kind() const { return kind_; }

 private:
  ClientErrorKind kind_;
};

struct HttpClientOptions {
  std::size_t max_idle_per_origin = 256;
  std::chrono::seconds idle_timeout{30};  ///< idle pooled connections older than this are dropped
  std::size_t max_response_bytes = 64 * 1024 * 1024;
  /// PEM file of CA certificates that HTTPS peers may chain to, trusted in addition to the
  /// system's default ones (e.g. a private RPC node's CA). Empty trusts the defaults only.
  std::string ca_file;
};

struct ClientRequest {
  http::verb method = http::verb::get;
  std::string body;
  HeaderList headers;
  std::string content_type;  ///< sets Content-Type when not empty
};

/// Receives each piece of a streamed body as it arrives.
using ChunkHandler = std::function<Awaitable<void>(std::string_view)>;

/// Thread-safe: one client is shared by all coroutines of the node.
class HttpClient {
 public:
  /// Throws std::invalid_argument when `options.ca_file` is set but cannot be loaded.
  HttpClient(asio::any_io_executor executor, HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Sends `request` to `url` and reads the whole reply. Parameters are taken by value because
  /// the coroutine may start after the caller's temporaries are gone. Throws ClientError on
  /// transport failures and on a deadline overrun; any HTTP status is returned, not thrown.
  Awaitable<ClientResponse> send(Url url, ClientRequest request,
                                 std::chrono::steady_clock::time_point deadline);

  /// Like send(), but hands each piece of the body to `on_chunk` as it arrives; the returned
  /// response has an empty body. `on_chunk` is not called for a non-2xx reply, whose body is
  /// returned instead.
  Awaitable<ClientResponse> stream(Url url, ClientRequest request,
                                   std::chrono::steady_clock::time_point deadline,
                                   ChunkHandler on_chunk);

  /// Drops all idle pooled connections.
  void clear_idle();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace inferd::infra

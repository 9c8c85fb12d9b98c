#include "containers/docker_client.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <utility>

namespace inferd::containers {

namespace {

constexpr std::string_view kApiPrefix = "/v1.41";
constexpr std::size_t kMaxKeptBody = 4 * 1024 * 1024;

using ChunkSink = std::function<void(std::string_view)>;

std::string describe_transport_error(const DockerEndpoint& endpoint, std::string_view stage,
                                     const boost::system::error_code& ec,
                                     std::chrono::milliseconds timeout) {
  const bool is_unix = endpoint.kind == DockerEndpoint::Kind::kUnix;
  if (ec == beast::error::timeout) {
    return "the Docker daemon at " + endpoint.to_string() + " did not answer within " +
           std::to_string(timeout.count()) + " ms (" + std::string(stage) + ")";
  }
  if (is_unix && ec == boost::system::errc::no_such_file_or_directory) {
    return "Docker API socket " + endpoint.socket_path +
           " does not exist: start the Docker daemon or Podman's API service "
           "(scripts/podman.sh starts one and prints the DOCKER_HOST to use)";
  }
  if (is_unix && ec == boost::system::errc::permission_denied) {
    return "permission denied on Docker API socket " + endpoint.socket_path +
           ": add this user to the group that owns the socket (usually `docker`) or point "
           "DOCKER_HOST at a socket this user owns (scripts/podman.sh starts one)";
  }
  if (ec == boost::system::errc::connection_refused) {
    return "nothing accepts connections at " + endpoint.to_string() +
           ": the Docker daemon or Podman's API service is not running";
  }
  return "talking to the Docker daemon at " + endpoint.to_string() + " failed while " +
         std::string(stage) + ": " + ec.message();
}

// Sends one request on a connected stream and reads the answer, handing body bytes to `sink`
// as they arrive (so pull progress is seen while the pull runs).
template <typename Stream>
Awaitable<DockerResponse> exchange(Stream& stream, const http::request<http::string_body>& req,
                                   const ChunkSink& sink, const DockerEndpoint& endpoint,
                                   std::chrono::milliseconds timeout, const std::string& operation,
                                   const std::string& subject) {
  boost::system::error_code ec;
  auto fail = [&](std::string_view stage) {
    return DockerError(operation, subject, 0,
                       describe_transport_error(endpoint, stage, ec, timeout));
  };

  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    throw fail("sending the request");
  }

  beast::flat_buffer buffer;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    throw fail("reading the response header");
  }

  DockerResponse response;
  response.status = static_cast<int>(parser.get().result_int());
  std::array<char, 16 * 1024> chunk{};
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::need_buffer) {
      ec = {};
    }
    if (ec) {
      throw fail("reading the response body");
    }
    const std::size_t received = chunk.size() - parser.get().body().size;
    const std::string_view bytes(chunk.data(), received);
    if (response.body.size() < kMaxKeptBody) {
      response.body.append(bytes.substr(0, kMaxKeptBody - response.body.size()));
    }
    if (sink) {
      sink(bytes);
    }
  }
  co_return response;
}

Awaitable<DockerResponse> perform(const DockerEndpoint& endpoint, http::verb method,
                                  std::string target, std::string body,
                                  std::vector<std::pair<std::string, std::string>> headers,
                                  ChunkSink sink, std::chrono::milliseconds timeout,
                                  std::string operation, std::string subject) {
  http::request<http::string_body> req{method, std::string(kApiPrefix) + target, 11};
  req.set(http::field::host,
          endpoint.kind == DockerEndpoint::Kind::kUnix ? "docker" : endpoint.host);
  req.set(http::field::user_agent, "inferd");
  req.set(http::field::connection, "close");
  for (auto& [name, value] : headers) {
    req.set(name, value);
  }
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
  }
  req.body() = std::move(body);
  req.prepare_payload();

  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;

  if (endpoint.kind == DockerEndpoint::Kind::kUnix) {
    beast::basic_stream<asio::local::stream_protocol> stream(executor);
    stream.expires_after(timeout);
    co_await stream.async_connect(asio::local::stream_protocol::endpoint(endpoint.socket_path),
                                  asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      throw DockerError(operation, subject, 0,
                        describe_transport_error(endpoint, "connecting", ec, timeout));
    }
    co_return co_await exchange(stream, req, sink, endpoint, timeout, operation, subject);
  }

  asio::ip::tcp::resolver resolver(executor);
  auto results = co_await resolver.async_resolve(endpoint.host, endpoint.port,
                                                 asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    throw DockerError(operation, subject, 0,
                      describe_transport_error(endpoint, "resolving the host", ec, timeout));
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  co_await stream.async_connect(results, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    throw DockerError(operation, subject, 0,
                      describe_transport_error(endpoint, "connecting", ec, timeout));
  }
  co_return co_await exchange(stream, req, sink, endpoint, timeout, operation, subject);
}

// Docker decodes X-Registry-Auth as URL-safe base64 of the JSON credentials.
std::string encode_registry_auth(const RegistryAuth& auth) {
  nlohmann::json credentials = {{"username", auth.username}, {"password", auth.password}};
  if (!auth.server_address.empty()) {
    credentials["serveraddress"] = auth.server_address;
  }
  const std::string text = credentials.dump();
  std::string encoded(4 * ((text.size() + 2) / 3) + 1, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  encoded.resize(static_cast<std::size_t>(length));
  for (char& c : encoded) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  return encoded;
}

[[noreturn]] void throw_api_error(const std::string& operation, const std::string& subject,
                                  const DockerResponse& response) {
  throw DockerError(operation, subject, response.status, daemon_message(response.body));
}

}  // namespace

// DockerEndpoint

DockerEndpoint DockerEndpoint::parse(std::string_view docker_host) {
  DockerEndpoint endpoint;
  auto invalid = [&] {
    return std::invalid_argument("invalid DOCKER_HOST \"" + std::string(docker_host) +
                                 "\": expected unix:///path/to.sock or tcp://host:port");
  };
  if (docker_host.starts_with("unix://")) {
    endpoint.socket_path = std::string(docker_host.substr(7));
  } else if (docker_host.starts_with("/")) {
    endpoint.socket_path = std::string(docker_host);
  } else if (docker_host.starts_with("tcp://") || docker_host.starts_with("http://")) {
    std::string_view rest = docker_host.substr(docker_host.find("://") + 3);
    if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
      rest = rest.substr(0, slash);
    }
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
      throw invalid();
    }
    endpoint.kind = Kind::kTcp;
    endpoint.host = std::string(rest.substr(0, colon));
    endpoint.port = std::string(rest.substr(colon + 1));
    if (endpoint.host.size() > 2 && endpoint.host.front() == '[' && endpoint.host.back() == ']') {
      endpoint.host = endpoint.host.substr(1, endpoint.host.size() - 2);
    }
    return endpoint;
  } else {
    throw invalid();
  }
  if (endpoint.socket_path.empty() || endpoint.socket_path.front() != '/') {
    throw invalid();
  }
  return endpoint;
}

DockerEndpoint DockerEndpoint::from_environment() {
  const char* value = std::getenv("DOCKER_HOST");
  if (value == nullptr || *value == '\0') {
    return parse("unix:///var/run/docker.sock");
  }
  return parse(value);
}

std::string DockerEndpoint::to_string() const {
  if (kind == Kind::kUnix) {
    return "unix://" + socket_path;
  }
  return "tcp://" + host + ":" + port;
}

// DockerError

DockerError::DockerError(std::string operation, std::string subject, int status,
                         std::string message)
    : std::runtime_error("docker " + operation + (subject.empty() ? "" : " " + subject) +
                         (status != 0 ? " failed with HTTP " + std::to_string(status) : " failed") +
                         ": " + message),
      operation_(std::move(operation)),
      subject_(std::move(subject)),
      status_(status),
      message_(std::move(message)) {}

// DockerClient

DockerClient::DockerClient(DockerEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {}

Awaitable<DockerResponse> DockerClient::request(http::verb method, std::string target,
                                                std::string body, std::string operation,
                                                std::string subject) {
  co_return co_await perform(endpoint_, method, std::move(target), std::move(body), {}, {},
                             timeout_, std::move(operation), std::move(subject));
}

Awaitable<nlohmann::json> DockerClient::version() {
  auto response = co_await request(http::verb::get, "/version", "", "version", "");
  if (response.status != 200) {
    throw_api_error("version", "", response);
  }
  co_return nlohmann::json::parse(response.body, nullptr, false);
}

Awaitable<void> DockerClient::pull_image(std::string image, std::optional<RegistryAuth> auth,
                                         PullProgress on_progress,
                                         std::chrono::milliseconds timeout) {
  // No structured binding here: GCC 12 mishandles them in coroutines.
  const std::pair<std::string, std::string> reference = split_image_reference(image);
  std::string target = "/images/create?fromImage=" + url_encode(reference.first);
  if (!reference.second.empty()) {
    target += "&tag=" + url_encode(reference.second);
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (auth) {
    headers.emplace_back("X-Registry-Auth", encode_registry_auth(*auth));
  }

  // The daemon answers 200 at once and streams one JSON object per line; a failure shows up
  // as a line with an "error" key.
  std::string pending;
  std::string stream_error;
  auto sink = [&](std::string_view bytes) {
    pending.append(bytes);
    std::size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, newline);
      pending.erase(0, newline + 1);
      auto parsed = nlohmann::json::parse(line, nullptr, false);
      if (!parsed.is_object()) {
        continue;
      }
      if (parsed.contains("error") && stream_error.empty()) {
        stream_error = parsed["error"].is_string() ? parsed["error"].get<std::string>()
                                                   : parsed["error"].dump();
      }
      if (on_progress) {
        on_progress(parsed);
      }
    }
  };
  auto response = co_await perform(endpoint_, http::verb::post, std::move(target), "",
                                   std::move(headers), sink, timeout, "pull", image);
  sink("\n");
  if (response.status != 200) {
    throw_api_error("pull", image, response);
  }
  if (!stream_error.empty()) {
    throw DockerError("pull", image, 0, stream_error);
  }
}

Awaitable<std::optional<nlohmann::json>> DockerClient::inspect_image(std::string image) {
  auto response = co_await request(http::verb::get, "/images/" + url_encode(image, "/:@") + "/json",
                                   "", "inspect image", image);
  if (response.status == 404) {
    co_return std::nullopt;
  }
  if (response.status != 200) {
    throw_api_error("inspect image", image, response);
  }
  co_return nlohmann::json::parse(response.body);
}

Awaitable<std::optional<nlohmann::json>> DockerClient::inspect_container(std::string name) {
  auto response = co_await request(http::verb::get, "/containers/" + url_encode(name) + "/json", "",
                                   "inspect container", name);
  if (response.status == 404) {
    co_return std::nullopt;
  }
  if (response.status != 200) {
    throw_api_error("inspect container", name, response);
  }
  co_return nlohmann::json::parse(response.body);
}

Awaitable<nlohmann::json> DockerClient::list_containers(nlohmann::json filters) {
  auto response = co_await request(http::verb::get,
                                   "/containers/json?all=1&filters=" + url_encode(filters.dump()),
                                   "", "list containers", "");
  if (response.status != 200) {
    throw_api_error("list containers", "", response);
  }
  co_return nlohmann::json::parse(response.body);
}

Awaitable<std::string> DockerClient::create_container(std::string name, nlohmann::json body) {
  auto response = co_await request(http::verb::post, "/containers/create?name=" + url_encode(name),
                                   body.dump(), "create container", name);
  if (response.status != 201 && response.status != 200) {
    throw_api_error("create container", name, response);
  }
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("Id") || !parsed["Id"].is_string()) {
    throw DockerError("create container", name, response.status,
                      "the answer has no container Id: " + response.body);
  }
  co_return parsed["Id"].get<std::string>();
}

Awaitable<void> DockerClient::start_container(std::string id) {
  auto response = co_await request(http::verb::post, "/containers/" + url_encode(id) + "/start", "",
                                   "start container", id);
  // 304: already running.
  if (response.status != 204 && response.status != 304 && response.status != 200) {
    throw_api_error("start container", id, response);
  }
}

Awaitable<void> DockerClient::stop_container(std::string id, std::chrono::seconds grace) {
  auto response =
      co_await perform(endpoint_, http::verb::post,
                       "/containers/" + url_encode(id) + "/stop?t=" + std::to_string(grace.count()),
                       "", {}, {}, timeout_ + grace, "stop container", id);
  // 304: already stopped.
  if (response.status != 204 && response.status != 304 && response.status != 200) {
    throw_api_error("stop container", id, response);
  }
}

Awaitable<void> DockerClient::kill_container(std::string id, std::string signal) {
  auto response = co_await request(
      http::verb::post, "/containers/" + url_encode(id) + "/kill?signal=" + url_encode(signal), "",
      "kill container", id);
  if (response.status != 204 && response.status != 200) {
    throw_api_error("kill container", id, response);
  }
}

Awaitable<void> DockerClient::remove_container(std::string id) {
  auto response =
      co_await request(http::verb::delete_, "/containers/" + url_encode(id) + "?force=1&v=1", "",
                       "remove container", id);
  if (response.status != 204 && response.status != 200 && response.status != 404) {
    throw_api_error("remove container", id, response);
  }
}

Awaitable<std::string> DockerClient::container_logs(std::string id, int lines) {
  auto response = co_await request(
      http::verb::get,
      "/containers/" + url_encode(id) + "/logs?stdout=1&stderr=1&tail=" + std::to_string(lines), "",
      "read logs of container", id);
  if (response.status != 200) {
    throw_api_error("read logs of container", id, response);
  }
  co_return demultiplex_logs(response.body);
}

// Pure helpers

std::pair<std::string, std::string> split_image_reference(std::string_view image) {
  if (image.find('@') != std::string_view::npos) {
    return {std::string(image), ""};
  }
  const auto slash = image.rfind('/');
  const auto colon = image.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    return {std::string(image.substr(0, colon)), std::string(image.substr(colon + 1))};
  }
  return {std::string(image), "latest"};
}

std::string demultiplex_logs(std::string_view raw) {
  std::string text;
  std::size_t offset = 0;
  while (raw.size() - offset >= 8) {
    const auto stream = static_cast<unsigned char>(raw[offset]);
    const bool header =
        stream <= 2 && raw[offset + 1] == 0 && raw[offset + 2] == 0 && raw[offset + 3] == 0;
    if (!header) {
      break;
    }
    std::size_t size = 0;
    for (int i = 4; i < 8; ++i) {
      size = (size << 8) | static_cast<unsigned char>(raw[offset + i]);
    }
    offset += 8;
    const std::size_t take = std::min(size, raw.size() - offset);
    text.append(raw.substr(offset, take));
    offset += take;
  }
  text.append(raw.substr(offset));
  return text;
}

std::string url_encode(std::string_view value, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(value.size());
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
        (byte >= '0' && byte <= '9') || byte == '-' || byte == '_' || byte == '.' || byte == '~' ||
        keep.find(c) != std::string_view::npos) {
      encoded.push_back(c);
    } else {
      encoded.push_back('%');
      encoded.push_back(kHex[byte >> 4]);
      encoded.push_back(kHex[byte & 0x0F]);
    }
  }
  return encoded;
}

std::string daemon_message(std::string_view body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
    return parsed["message"].get<std::string>();
  }
  std::string text(body);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return text.empty() ? "(empty answer)" : text;
}

}  // namespace inferd::containers

// Client for the Docker Engine API v1.41, over a unix socket or TCP. Podman's Docker-compatible
// service (`podman system service`) speaks the same API.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "infra/asio.hpp"

namespace inferd::containers {

/// Where the Docker Engine API listens, parsed from a `DOCKER_HOST` value.
struct DockerEndpoint {
  enum class Kind { kUnix, kTcp };

  Kind kind = Kind::kUnix;
  std::string socket_path;  ///< for kUnix
  std::string host;         ///< for kTcp
  std::string port;         ///< for kTcp

  /// Parses `unix:///path`, `/path`, `tcp://host:port` or `http://host:port`. Throws
  /// std::invalid_argument naming the value for anything else (including `https://`, which
  /// needs TLS client certificates this client does not support).
  static DockerEndpoint parse(std::string_view docker_host);

  /// Reads `DOCKER_HOST`; without it, the default socket `unix:///var/run/docker.sock`.
  static DockerEndpoint from_environment();

  /// The endpoint in `DOCKER_HOST` form, for messages.
  std::string to_string() const;
};

/// A failed Docker API call: the operation, the container or image it concerned, the HTTP status
/// (0 when no HTTP response arrived) and the daemon's own message.
class DockerError : public std::runtime_error {
 public:
  DockerError(std::string operation, std::string subject, int status, std::string message);

  const std::string& operation() const { return operation_; }
  const std::string& subject() const { return subject_; }
  int status() const { return status_; }
  const std::string& daemon_message() const { return message_; }

 private:
  std::string operation_;
  std::string subject_;
  int status_;
  std::string message_;
};

/// Credentials for an image registry, sent as `X-Registry-Auth` with pulls.
struct RegistryAuth {
  std::string username;
  std::string password;
  std::string server_address;  ///< empty: the registry named by the image
};

/// One HTTP answer of the daemon.
struct DockerResponse {
  int status = 0;
  std::string body;
};

/// Docker Engine API client. Each call opens its own connection, so calls may run concurrently
/// from any executor; the object itself holds only configuration and is safe to share.
class DockerClient {
 public:
  using Clock = std::chrono::steady_clock;
  /// Receives each JSON progress line of an image pull.
  using PullProgress = std::function<void(const nlohmann::json&)>;

  explicit DockerClient(DockerEndpoint endpoint,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const DockerEndpoint& endpoint() const { return endpoint_; }

  /// GET /version. Throws DockerError when the daemon cannot be reached.
  Awaitable<nlohmann::json> version();

  /// POST /images/create: pulls `image` (a tag defaults to `latest`). The daemon answers 200
  /// and reports failures inside the progress stream; both kinds throw DockerError naming the
  /// image and the registry's reason. `timeout` bounds the whole pull.
  Awaitable<void> pull_image(std::string image, std::optional<RegistryAuth> auth,
                             PullProgress on_progress, std::chrono::milliseconds timeout);

  /// GET /images/{name}/json; std::nullopt when the image is not present locally.
  Awaitable<std::optional<nlohmann::json>> inspect_image(std::string image);

  /// GET /containers/{name}/json; std::nullopt when no such container exists.
  Awaitable<std::optional<nlohmann::json>> inspect_container(std::string name);

  /// GET /containers/json?all=1&filters=…; `filters` is the Docker filter object, e.g.
  /// {"label": ["inferd.managed=true"]}.
  Awaitable<nlohmann::json> list_containers(nlohmann::json filters);

  /// POST /containers/create?name=…; returns the new container's id.
  Awaitable<std::string> create_container(std::string name, nlohmann::json body);

  /// POST /containers/{id}/start. A container that is already running is not an error.
  Awaitable<void> start_container(std::string id);

  /// POST /containers/{id}/stop?t=…: SIGTERM (or the image's stop signal), then SIGKILL after
  /// `grace`. A container that is already stopped is not an error.
  Awaitable<void> stop_container(std::string id, std::chrono::seconds grace);

  /// POST /containers/{id}/kill?signal=….
  Awaitable<void> kill_container(std::string id, std::string signal = "SIGKILL");

  /// DELETE /containers/{id}?force=1&v=1. A missing container is not an error.
  Awaitable<void> remove_container(std::string id);

  /// GET /containers/{id}/logs: the last `lines` lines of stdout and stderr, interleaved.
  Awaitable<std::string> container_logs(std::string id, int lines);

  /// Sends one request and returns the daemon's answer whatever its status. Transport failures
  /// (socket missing, permission denied, no answer before the timeout) throw DockerError with
  /// `operation` and `subject`.
  Awaitable<DockerResponse> request(http::verb method, std::string target, std::string body,
                                    std::string operation, std::string subject);

 private:
  DockerEndpoint endpoint_;
  std::chrono::milliseconds timeout_;
};

// Pure helpers, exposed for tests.

/// Splits an image reference into the `fromImage` and `tag` query values of a pull:
/// "repo/name:1.2" -> {"repo/name", "1.2"}, "name" -> {"name", "latest"},
/// "host:5000/name" -> {"host:5000/name", "latest"}; a digest reference is kept whole with no tag.
std::pair<std::string, std::string> split_image_reference(std::string_view image);

/// Removes the 8-byte stream headers Docker puts in front of each chunk of a container's logs
/// when the container has no TTY. Text without such headers is returned unchanged.
std::string demultiplex_logs(std::string_view raw);

/// Percent-encodes a query parameter or path segment, leaving the characters in `keep` as they
/// are (an image name in a path keeps its "/" and ":").
std::string url_encode(std::string_view value, std::string_view keep = "");

/// The daemon's message from an error body ({"message": …}), or the body itself.
std::string daemon_message(std::string_view body);

}  // namespace inferd::containers

// Runs the node's service containers through the Docker Engine API: pull, create or reuse,
// start, wait for readiness, supervise and restart, stop.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>
#include <nlohmann/json.hpp>

#include "containers/docker_client.hpp"
#include "infra/asio.hpp"

namespace inferd::containers {

/// What supervision does when a container's process exits.
enum class RestartPolicy {
  kNever,      ///< leave it stopped and mark it failed
  kOnFailure,  ///< restart after a non-zero exit code
  kAlways,     ///< restart after any exit
};

/// When to pull an image at start-up.
enum class PullPolicy {
  kAlways,   ///< pull every time; a failed pull falls back to a local copy with a warning
  kMissing,  ///< pull only when no local copy exists
  kNever,    ///< use only local images
};

/// One container the node runs. The Docker container is named `name_prefix + id`.
struct ManagedContainerSpec {
  std::string id;     ///< container id used in job requests
  std::string image;  ///< image reference, e.g. "ritualnetwork/hello-world-infernet:latest"
  /// Command, split into arguments like a POSIX shell does (quotes and backslashes); empty keeps
  /// the image's own command.
  std::string command;
  nlohmann::json env = nlohmann::json::object();  ///< environment: name -> value
  std::vector<std::string> volumes;               ///< Docker binds, "host:container[:mode]"
  bool gpu = false;                               ///< request all GPUs
  int host_port = 3000;                    ///< host port published for the service's 3000/tcp
  std::string bind_address = "127.0.0.1";  ///< host address the port is published on
  std::string port_config_key;       ///< config key that chose host_port, e.g. "containers[0].port"
  std::string readiness_path = "/";  ///< HTTP GET path that answers once the service is ready
  std::chrono::seconds startup_limit{60};  ///< warm-up limit before start-up fails
  RestartPolicy restart = RestartPolicy::kOnFailure;
  bool remove_on_stop = false;  ///< remove the container at shutdown instead of keeping it
};

/// Settings shared by all managed containers.
struct ContainerManagerOptions {
  std::string name_prefix;  ///< prepended to every Docker container name
  PullPolicy pull_policy = PullPolicy::kAlways;
  std::optional<RegistryAuth> registry_auth;  ///< sent with every pull when set
  std::chrono::milliseconds pull_timeout{std::chrono::minutes(30)};
  std::chrono::seconds stop_timeout{10};          ///< SIGTERM grace before SIGKILL at shutdown
  std::chrono::milliseconds poll_interval{1000};  ///< how often supervision inspects containers
  std::chrono::milliseconds restart_backoff_initial{1000};
  std::chrono::milliseconds restart_backoff_max{30000};
  int log_lines = 20;                      ///< log lines quoted in errors about a failed container
  std::shared_ptr<spdlog::logger> logger;  ///< default: the "containers" subsystem logger
};

/// Lifecycle state of one managed container.
enum class ContainerState {
  kPending,     ///< start() has not reached it yet
  kStarting,    ///< created and started, readiness probe not yet answered
  kReady,       ///< the readiness probe answered; jobs may be sent
  kRestarting,  ///< its process exited; supervision is restarting it
  kFailed,      ///< start-up failed or supervision gave up
  kStopped,     ///< stopped by stop()
};

/// Lower-case name of a state ("ready", "starting", …) for /info and /health.
std::string_view to_string(ContainerState state);

/// Snapshot of one container for /info and /health.
struct ContainerStatus {
  std::string id;
  std::string docker_name;
  std::string docker_id;
  std::string image;
  int host_port = 0;
  ContainerState state = ContainerState::kPending;
  std::string last_error;  ///< empty while nothing went wrong
  int restarts = 0;        ///< restart attempts by supervision since start(), counted as they begin
  std::optional<int> last_exit_code;
};

/// The status as a JSON object for /info and /health: id, docker_name, docker_id, image, port,
/// state, restarts, last_error and last_exit_code (null when unset).
nlohmann::json to_json(const ContainerStatus& status);

/// A state change, or a new error in the same state, passed to the observer. When `from` is kReady
/// and `to` is kRestarting or kFailed, jobs in flight on that container cannot complete: fail them
/// with `message`.
struct ContainerEvent {
  std::string id;
  ContainerState from;
  ContainerState to;
  std::string message;
};

/// Start-up or supervision failure of one or more containers; what() lists every failure.
class ContainerStartError : public std::runtime_error {
 public:
  explicit ContainerStartError(std::vector<std::string> failures);
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  std::vector<std::string> failures_;
};

/// Owns the managed containers of one node.
///
/// start(), stop() and the supervision loop run on an internal strand of the executor given to
/// the constructor, so they may be awaited from any coroutine. state(), ready() and status() are
/// thread-safe snapshots; wait_ready() may be awaited from any coroutine. The observer is called
/// on the internal strand and must not block. Once start() was called, await stop() before
/// destroying the manager: supervision refers to it until stop() completes.
class ContainerManager {
 public:
  using Observer = std::function<void(const ContainerEvent&)>;

  ContainerManager(asio::any_io_executor executor, DockerClient docker,
                   std::vector<ManagedContainerSpec> specs, ContainerManagerOptions options = {});
  ~ContainerManager();

  ContainerManager(const ContainerManager&) = delete;
  ContainerManager& operator=(const ContainerManager&) = delete;

  /// Sets the observer of state changes; call before start().
  void set_observer(Observer observer);

  /// Pulls every image in parallel, creates or reuses each container (a configuration hash
  /// label decides), starts them and waits until each answers its readiness probe, then starts
  /// supervision. Throws ContainerStartError listing every failure (all images that could not
  /// be pulled nor found locally; a container that exited during warm-up with its exit code and
  /// last log lines; one that never became ready; a port already in use with its config key),
  /// or DockerError when the daemon cannot be reached. Containers already started are left
  /// running after a failure; call stop() to stop them.
  Awaitable<void> start();

  /// Ends supervision and stops every container in parallel (SIGTERM, then SIGKILL after
  /// `stop_timeout`), removing those with remove_on_stop. Errors are logged, not thrown. A
  /// second call does nothing.
  Awaitable<void> stop();

  /// Completes once container `id` is ready. Throws std::out_of_range for an unknown id,
  /// ContainerStartError when it failed or was stopped, and std::runtime_error when `deadline`
  /// passes first.
  Awaitable<void> wait_ready(std::string id, std::chrono::steady_clock::time_point deadline);

  ContainerState state(const std::string& id) const;    ///< throws std::out_of_range
  bool ready(const std::string& id) const;              ///< false for an unknown id
  ContainerStatus status(const std::string& id) const;  ///< throws std::out_of_range
  std::vector<ContainerStatus> statuses() const;        ///< in configuration order

  /// Host port of container `id` (throws std::out_of_range).
  int host_port(const std::string& id) const;

 private:
  struct Managed;

  Awaitable<void> start_on_strand();
  Awaitable<void> stop_on_strand();
  Awaitable<std::optional<std::string>> prepare_image(const std::string& image);
  Awaitable<void> create_and_start(Managed& managed);
  Awaitable<void> await_readiness(Managed& managed);
  Awaitable<void> supervise(Managed& managed);
  Awaitable<std::string> last_log_lines(const std::string& docker_id);
  void set_state(Managed& managed, ContainerState state, std::string message);

  asio::strand<asio::any_io_executor> strand_;
  DockerClient docker_;
  ContainerManagerOptions options_;
  std::shared_ptr<spdlog::logger> log_;
  std::vector<std::unique_ptr<Managed>> containers_;
  std::map<std::string, std::string> image_ids_;  // image reference -> local image Id
  Observer observer_;
  bool stopping_ = false;
  bool stopped_ = false;
  int supervisors_running_ = 0;
  std::unique_ptr<asio::steady_timer> supervisors_done_;
  mutable std::mutex status_mutex_;  // guards every Managed::status
};

// Pure helpers, exposed for tests.

/// Splits a command line into arguments like a POSIX shell (single and double quotes, backslash
/// escapes) without expanding anything. Returns std::nullopt for an unterminated quote.
std::optional<std::vector<std::string>> split_command(std::string_view command);

/// The body of POST /containers/create for `spec`, without labels. Throws std::invalid_argument
/// for a command with an unterminated quote.
nlohmann::json container_create_body(const ManagedContainerSpec& spec);

/// SHA-256 (hex) of the create body and the local image Id: the value of the config hash label.
/// The image Id is part of it so that a newer image recreates the container.
std::string container_config_hash(const nlohmann::json& create_body, const std::string& image_id);

/// Label keys on every container inferd creates.
inline constexpr std::string_view kManagedLabel = "inferd.managed";
inline constexpr std::string_view kConfigHashLabel = "inferd.config-hash";
inline constexpr std::string_view kContainerIdLabel = "inferd.container-id";

}  // namespace inferd::containers

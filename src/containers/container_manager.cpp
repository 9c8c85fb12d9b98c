#include "containers/container_manager.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include "infra/logging.hpp"

#include <algorithm>
#include <array>
#include <sstream>

namespace inferd::containers {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kProbeTimeout = 2s;
constexpr auto kProbeInterval = 250ms;
constexpr auto kWaitReadyInterval = 50ms;
// A container that stayed up this long after becoming ready starts its backoff over.
constexpr auto kBackoffResetAfter = 60s;

// Runs `count` coroutines concurrently on the current executor (a strand) and returns once all
// of them finished, with the exception of each one (null when it succeeded).
template <typename Make>
Awaitable<std::vector<std::exception_ptr>> run_parallel(std::size_t count, Make make) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
  std::size_t remaining = count;
  std::vector<std::exception_ptr> errors(count);
  for (std::size_t i = 0; i < count; ++i) {
    asio::co_spawn(executor, make(i), [&errors, &remaining, &all_done, i](std::exception_ptr e) {
      errors[i] = e;
      if (--remaining == 0) {
        all_done.cancel();
      }
    });
  }
  if (remaining > 0) {
    boost::system::error_code ec;
    co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return errors;
}

std::string error_text(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

Awaitable<void> sleep_for(asio::steady_timer& timer, std::chrono::milliseconds duration) {
  timer.expires_after(duration);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// Docker's environment entries are "NAME=value" strings. Non-string values are written the way
// the Python node's f-string formats them for booleans and null; numbers and nested values as
// JSON.
std::string env_value_text(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  if (value.is_boolean()) {
    return value.get<bool>() ? "True" : "False";
  }
  if (value.is_null()) {
    return "None";
  }
  return value.dump();
}

std::string probe_host(const std::string& bind_address) {
  if (bind_address.empty() || bind_address == "0.0.0.0") {
    return "127.0.0.1";
  }
  if (bind_address == "::" || bind_address == "[::]") {
    return "::1";
  }
  return bind_address;
}

// Sends GET `path` to host:port; returns the HTTP status, or std::nullopt when nothing answered.
Awaitable<std::optional<int>> probe_http(std::string host, int port, std::string path,
                                         std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    co_return std::nullopt;
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  co_await stream.async_connect(asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port)),
                                asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return std::nullopt;
  }
  http::request<http::empty_body> request{http::verb::get, path, 11};
  request.set(http::field::host, host + ":" + std::to_string(port));
  request.set(http::field::user_agent, "inferd-readiness");
  request.set(http::field::connection, "close");
  co_await http::async_write(stream, request, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return std::nullopt;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024);
  co_await http::async_read_header(stream, buffer, parser,
                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    co_return std::nullopt;
  }
  co_return static_cast<int>(parser.get().result_int());
}

// True when nothing listens on address:port, checked by binding it ourselves.
bool port_is_free(const std::string& bind_address, int port) {
  asio::io_context context;
  boost::system::error_code ec;
  auto address = asio::ip::make_address(bind_address.empty() ? "0.0.0.0" : bind_address, ec);
  if (ec) {
    return true;  // let the daemon judge an address we cannot parse
  }
  asio::ip::tcp::acceptor acceptor(context);
  acceptor.open(address.is_v6() ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), ec);
  if (ec) {
    return true;
  }
  acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  acceptor.bind(asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port)), ec);
  return !ec;
}

std::string port_conflict_message(const ManagedContainerSpec& spec) {
  const std::string key =
      spec.port_config_key.empty() ? "the container's port setting" : spec.port_config_key;
  return "container " + spec.id + ": port " + std::to_string(spec.host_port) + " on " +
         spec.bind_address + " (set by " + key +
         ") is already in use: choose a free port or stop what listens there";
}

std::string indent_lines(const std::string& text) {
  std::string out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    out += "\n  | " + line;
  }
  return out.empty() ? "\n  | (no output)" : out;
}

}  // namespace

// Strings and errors

std::string_view to_string(ContainerState state) {
  switch (state) {
    case ContainerState::kPending:
      return "pending";
    case ContainerState::kStarting:
      return "starting";
    case ContainerState::kReady:
      return "ready";
    case ContainerState::kRestarting:
      return "restarting";
    case ContainerState::kFailed:
      return "failed";
    case ContainerState::kStopped:
      return "stopped";
  }
  return "unknown";
}

namespace {
std::string join_failures(const std::vector<std::string>& failures) {
  std::string text = failures.size() == 1
                         ? "container start-up failed: "
                         : std::to_string(failures.size()) + " container start-up failures: ";
  for (std::size_t i = 0; i < failures.size(); ++i) {
    text += (i == 0 ? "" : "\n") + failures[i];
  }
  return text;
}
}  // namespace

ContainerStartError::ContainerStartError(std::vector<std::string> failures)
    : std::runtime_error(join_failures(failures)), failures_(std::move(failures)) {}

// ContainerManager

struct ContainerManager::Managed {
  ManagedContainerSpec spec;
  std::string docker_name;
  std::string docker_id;   // strand only
  ContainerStatus status;  // guarded by status_mutex_
  std::unique_ptr<asio::steady_timer> sleep_timer;
  Clock::time_point ready_since{};
  int consecutive_restarts = 0;
};

ContainerManager::ContainerManager(asio::any_io_executor executor, DockerClient docker,
                                   std::vector<ManagedContainerSpec> specs,
                                   ContainerManagerOptions options)
    : strand_(asio::make_strand(executor)),
      docker_(std::move(docker)),
      options_(std::move(options)),
      log_(options_.logger ? options_.logger : infra::logging::get_logger("containers")) {
  for (auto& spec : specs) {
    auto managed = std::make_unique<Managed>();
    managed->docker_name = options_.name_prefix + spec.id;
    managed->status.id = spec.id;
    managed->status.docker_name = managed->docker_name;
    managed->status.image = spec.image;
    managed->status.host_port = spec.host_port;
    managed->sleep_timer = std::make_unique<asio::steady_timer>(strand_);
    managed->spec = std::move(spec);
    containers_.push_back(std::move(managed));
  }
  supervisors_done_ = std::make_unique<asio::steady_timer>(strand_);
}

ContainerManager::~ContainerManager() = default;

void ContainerManager::set_observer(Observer observer) {
  observer_ = std::move(observer);
}

void ContainerManager::set_state(Managed& managed, ContainerState state, std::string message) {
  ContainerState previous;
  {
    std::lock_guard lock(status_mutex_);
    previous = managed.status.state;
    managed.status.state = state;
    managed.status.docker_id = managed.docker_id;
    if (state == ContainerState::kFailed || state == ContainerState::kRestarting) {
      managed.status.last_error = message;
    }
  }
  // A new error in the same state (another failed restart) is reported too.
  if ((previous != state || !message.empty()) && observer_) {
    observer_(ContainerEvent{managed.spec.id, previous, state, std::move(message)});
  }
}

Awaitable<void> ContainerManager::start() {
  co_await asio::co_spawn(strand_, start_on_strand(), asio::use_awaitable);
}

Awaitable<void> ContainerManager::stop() {
  co_await asio::co_spawn(strand_, stop_on_strand(), asio::use_awaitable);
}

Awaitable<void> ContainerManager::start_on_strand() {
  // Configuration problems first, all at once.
  std::vector<std::string> failures;
  std::map<std::string, std::string> seen_ids;
  std::map<std::pair<std::string, int>, std::string> seen_ports;
  for (const auto& managed : containers_) {
    const auto& spec = managed->spec;
    if (spec.image.empty()) {
      failures.push_back("container " + spec.id + ": no image configured");
    }
    if (!seen_ids.emplace(spec.id, spec.id).second) {
      failures.push_back("container id " + spec.id + " is configured twice");
    }
    if (spec.host_port <= 0 || spec.host_port > 65535) {
      failures.push_back("container " + spec.id + ": port " + std::to_string(spec.host_port) +
                         " (" + spec.port_config_key + ") is not a valid TCP port");
    }
    const auto key = std::make_pair(spec.bind_address, spec.host_port);
    const auto emplaced = seen_ports.emplace(key, spec.port_config_key);
    if (!emplaced.second) {
      failures.push_back(emplaced.first->second + " and " + spec.port_config_key +
                         " both publish port " + std::to_string(spec.host_port) + " on " +
                         spec.bind_address + ": give one of them another port");
    }
    if (!split_command(spec.command)) {
      failures.push_back("container " + spec.id +
                         ": command has an unterminated quote: " + spec.command);
    }
  }
  if (!failures.empty()) {
    throw ContainerStartError(failures);
  }

  if (containers_.empty()) {
    co_return;
  }

  // Fails fast with the transport error (socket missing, permission denied, no answer), which
  // also becomes every container's last error for /health.
  nlohmann::json version;
  std::exception_ptr unreachable;
  try {
    version = co_await docker_.version();
  } catch (const std::exception&) {
    unreachable = std::current_exception();
  }
  if (unreachable) {
    for (auto& managed : containers_) {
      set_state(*managed, ContainerState::kFailed, error_text(unreachable));
    }
    std::rethrow_exception(unreachable);
  }
  log_->info("container runtime reachable endpoint={} version={}", docker_.endpoint().to_string(),
             version.value("Version", std::string("unknown")));

  // Images in parallel; every failure is reported, not only the first.
  std::vector<std::string> images;
  for (const auto& managed : containers_) {
    if (std::find(images.begin(), images.end(), managed->spec.image) == images.end()) {
      images.push_back(managed->spec.image);
    }
  }
  std::vector<std::optional<std::string>> image_ids(images.size());
  auto image_errors = co_await run_parallel(images.size(), [&](std::size_t i) {
    return [](ContainerManager* self, std::string image,
              std::optional<std::string>* out) -> Awaitable<void> {
      *out = co_await self->prepare_image(image);
    }(this, images[i], &image_ids[i]);
  });
  for (std::size_t i = 0; i < images.size(); ++i) {
    if (image_errors[i]) {
      failures.push_back(error_text(image_errors[i]));
    } else if (image_ids[i]) {
      image_ids_[images[i]] = *image_ids[i];
    }
  }
  if (!failures.empty()) {
    for (auto& managed : containers_) {
      if (!image_ids_.contains(managed->spec.image)) {
        set_state(*managed, ContainerState::kFailed,
                  "image " + managed->spec.image + " is not available");
      }
    }
    throw ContainerStartError(failures);
  }

  // Containers in parallel: create or reuse, start, wait until ready.
  auto container_errors = co_await run_parallel(containers_.size(), [&](std::size_t i) {
    return [](ContainerManager* self, Managed* managed) -> Awaitable<void> {
      co_await self->create_and_start(*managed);
      co_await self->await_readiness(*managed);
    }(this, containers_[i].get());
  });
  for (std::size_t i = 0; i < containers_.size(); ++i) {
    if (container_errors[i]) {
      auto message = error_text(container_errors[i]);
      set_state(*containers_[i], ContainerState::kFailed, message);
      failures.push_back(std::move(message));
    }
  }
  if (!failures.empty()) {
    for (const auto& failure : failures) {
      log_->error("container start-up failed: {}", failure);
    }
    throw ContainerStartError(failures);
  }

  for (auto& managed : containers_) {
    ++supervisors_running_;
    asio::co_spawn(strand_, supervise(*managed),
                   [this, id = managed->spec.id](std::exception_ptr e) {
                     if (e) {
                       log_->error("supervision of container {} ended: {}", id, error_text(e));
                     }
                     if (--supervisors_running_ == 0) {
                       supervisors_done_->cancel();
                     }
                   });
  }
  log_->info("all {} managed containers are ready", containers_.size());
}

Awaitable<std::optional<std::string>> ContainerManager::prepare_image(const std::string& image) {
  auto local_id = [](const std::optional<nlohmann::json>& inspected) -> std::optional<std::string> {
    if (inspected && inspected->contains("Id") && (*inspected)["Id"].is_string()) {
      return (*inspected)["Id"].get<std::string>();
    }
    return std::nullopt;
  };

  if (options_.pull_policy != PullPolicy::kAlways) {
    if (auto id = local_id(co_await docker_.inspect_image(image))) {
      log_->info("using local image image={} id={}", image, id->substr(0, 19));
      co_return id;
    }
    if (options_.pull_policy == PullPolicy::kNever) {
      throw std::runtime_error("image " + image +
                               " is not present locally and the pull policy is \"never\"");
    }
  }

  // Progress: one line per layer status change would flood the log, so log the byte totals at
  // most every few seconds.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> layers;  // id -> current, total
  auto last_report = Clock::now();
  DockerClient::PullProgress on_progress = [&](const nlohmann::json& line) {
    const auto progress = line.find("progressDetail");
    if (line.contains("id") && progress != line.end() && progress->is_object() &&
        progress->contains("total")) {
      layers[line["id"].get<std::string>()] = {progress->value("current", std::int64_t{0}),
                                               progress->value("total", std::int64_t{0})};
    }
    if (Clock::now() - last_report < 3s) {
      return;
    }
    last_report = Clock::now();
    std::int64_t current = 0;
    std::int64_t total = 0;
    for (const auto& [layer, sizes] : layers) {
      current += sizes.first;
      total += sizes.second;
    }
    if (total > 0) {
      log_->info("pulling image={} layers={} bytes={}/{} ({}%)", image, layers.size(), current,
                 total, current * 100 / total);
    } else if (const auto status = line.value("status", std::string()); !status.empty()) {
      log_->info("pulling image={} status=\"{}\"", image, status);
    }
  };

  log_->info("pulling image={}", image);
  std::optional<DockerError> pull_error;
  try {
    co_await docker_.pull_image(image, options_.registry_auth, on_progress, options_.pull_timeout);
  } catch (const DockerError& e) {
    pull_error = e;
  }
  if (pull_error) {
    std::optional<nlohmann::json> inspected;
    try {
      inspected = co_await docker_.inspect_image(image);
    } catch (const DockerError&) {
      // Reported below as "no local copy" together with the pull error.
    }
    if (auto id = local_id(inspected)) {
      log_->warn("pull failed, starting with the local image image={} id={} reason=\"{}\"", image,
                 id->substr(0, 19), pull_error->daemon_message());
      co_return id;
    }
    throw std::runtime_error(
        "image " + image +
        " could not be pulled and is not present locally: " + pull_error->daemon_message());
  }
  auto id = local_id(co_await docker_.inspect_image(image));
  if (!id) {
    throw std::runtime_error("image " + image + " was pulled but the daemon does not list it");
  }
  log_->info("pulled image={} id={}", image, id->substr(0, 19));
  co_return id;
}

Awaitable<void> ContainerManager::create_and_start(Managed& managed) {
  const auto& spec = managed.spec;
  if (stopping_) {
    // stop() has already stopped what existed; a container created now would outlive it.
    throw std::runtime_error("container " + spec.id + ": shutdown began before it was started");
  }
  auto body = container_create_body(spec);
  const auto hash = container_config_hash(body, image_ids_[spec.image]);
  body["Labels"] = {{std::string(kManagedLabel), "true"},
                    {std::string(kConfigHashLabel), hash},
                    {std::string(kContainerIdLabel), spec.id}};

  auto existing = co_await docker_.inspect_container(managed.docker_name);
  bool running = false;
  if (existing) {
    const auto labels = existing->value("/Config/Labels"_json_pointer, nlohmann::json::object());
    const bool ours = labels.is_object() && labels.value(std::string(kManagedLabel), "") == "true";
    if (!ours) {
      throw std::runtime_error("container " + spec.id + ": a container named " +
                               managed.docker_name + " exists but inferd did not create it (no " +
                               std::string(kManagedLabel) +
                               " label); remove or rename it, or change the id");
    }
    if (labels.value(std::string(kConfigHashLabel), "") == hash) {
      managed.docker_id = existing->value("Id", managed.docker_name);
      running = existing->value("/State/Running"_json_pointer, false);
      log_->info("reusing container id={} name={} running={}", spec.id, managed.docker_name,
                 running);
    } else {
      log_->info("configuration changed, recreating container id={} name={}", spec.id,
                 managed.docker_name);
      co_await docker_.remove_container(existing->value("Id", managed.docker_name));
      existing.reset();
    }
  }
  if (!existing) {
    managed.docker_id = co_await docker_.create_container(managed.docker_name, body);
    log_->info("created container id={} name={} image={} port={}:{}", spec.id, managed.docker_name,
               spec.image, spec.bind_address, spec.host_port);
  }

  if (!running) {
    if (!port_is_free(spec.bind_address, spec.host_port)) {
      throw std::runtime_error(port_conflict_message(spec));
    }
    try {
      co_await docker_.start_container(managed.docker_id);
    } catch (const DockerError& e) {
      if (e.daemon_message().find("address already in use") != std::string::npos) {
        throw std::runtime_error(port_conflict_message(spec) + " (" + e.daemon_message() + ")");
      }
      throw;
    }
  }
  set_state(managed, ContainerState::kStarting, "");
}

Awaitable<void> ContainerManager::await_readiness(Managed& managed) {
  const auto& spec = managed.spec;
  const auto deadline = Clock::now() + spec.startup_limit;
  const auto host = probe_host(spec.bind_address);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  std::optional<int> last_status;

  for (;;) {
    if (stopping_) {
      throw std::runtime_error("container " + spec.id + ": shutdown began during warm-up");
    }

    auto inspected = co_await docker_.inspect_container(managed.docker_id);
    if (!inspected) {
      throw std::runtime_error("container " + spec.id + " (" + managed.docker_name +
                               ") disappeared during warm-up");
    }
    if (!inspected->value("/State/Running"_json_pointer, false)) {
      const int exit_code = inspected->value("/State/ExitCode"_json_pointer, -1);
      {
        std::lock_guard lock(status_mutex_);
        managed.status.last_exit_code = exit_code;
      }
      // GCC 12 miscompiles a co_await inside a throw expression, so the logs are read first.
      const auto logs = co_await last_log_lines(managed.docker_id);
      throw std::runtime_error("container " + spec.id + " exited during warm-up with exit code " +
                               std::to_string(exit_code) + "; last log lines:" + logs);
    }

    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    last_status =
        co_await probe_http(host, spec.host_port, spec.readiness_path,
                            std::clamp<std::chrono::milliseconds>(remaining, 100ms, kProbeTimeout));
    if (last_status && *last_status < 500) {
      {
        std::lock_guard lock(status_mutex_);
        managed.status.last_error.clear();
      }
      managed.ready_since = Clock::now();
      set_state(managed, ContainerState::kReady, "");
      log_->info("container ready id={} port={}:{} path={} status={}", spec.id, host,
                 spec.host_port, spec.readiness_path, *last_status);
      co_return;
    }

    if (Clock::now() >= deadline) {
      const std::string answer = last_status
                                     ? "the last answer was HTTP " + std::to_string(*last_status)
                                     : "nothing answered";
      const auto logs = co_await last_log_lines(managed.docker_id);
      throw std::runtime_error("container " + spec.id + " did not become ready within " +
                               std::to_string(spec.startup_limit.count()) + " s (GET " +
                               spec.readiness_path + " on " + host + ":" +
                               std::to_string(spec.host_port) + ", " + answer +
                               "); last log lines:" + logs);
    }
    co_await sleep_for(timer, kProbeInterval);
  }
}

Awaitable<std::string> ContainerManager::last_log_lines(const std::string& docker_id) {
  try {
    const auto logs = co_await docker_.container_logs(docker_id, options_.log_lines);
    co_return indent_lines(logs);
  } catch (const DockerError& e) {
    co_return indent_lines(std::string("(logs unavailable: ") + e.what() + ")");
  }
}

Awaitable<void> ContainerManager::supervise(Managed& managed) {
  const auto& spec = managed.spec;
  bool runtime_unreachable = false;
  bool restart_failed = false;
  while (!stopping_) {
    co_await sleep_for(*managed.sleep_timer, options_.poll_interval);
    if (stopping_) {
      break;
    }

    std::optional<nlohmann::json> inspected;
    try {
      inspected = co_await docker_.inspect_container(managed.docker_id);
      if (runtime_unreachable) {
        log_->info("container runtime answers again id={}", spec.id);
        runtime_unreachable = false;
      }
    } catch (const DockerError& e) {
      if (!runtime_unreachable) {
        log_->warn("cannot inspect container id={}: {}", spec.id, e.what());
        runtime_unreachable = true;
      }
      continue;
    }
    if (inspected && inspected->value("/State/Running"_json_pointer, false)) {
      continue;
    }

    std::optional<int> exit_code;
    std::string message;
    if (inspected) {
      exit_code = inspected->value("/State/ExitCode"_json_pointer, -1);
      const auto logs = co_await last_log_lines(managed.docker_id);
      message = "container " + spec.id + " exited with code " + std::to_string(*exit_code) +
                "; last log lines:" + logs;
    } else {
      message = "container " + spec.id + " (" + managed.docker_name + ") was removed";
    }
    {
      std::lock_guard lock(status_mutex_);
      managed.status.last_exit_code = exit_code;
    }
    if (stopping_) {
      break;
    }

    const bool restart = spec.restart == RestartPolicy::kAlways ||
                         (spec.restart == RestartPolicy::kOnFailure && exit_code != 0);
    if (!restart) {
      log_->error("container id={} stays down, its restart policy does not restart it: {}", spec.id,
                  message);
      set_state(managed, ContainerState::kFailed, message);
      co_return;
    }
    log_->error("restarting container id={} after: {}", spec.id, message);
    set_state(managed, ContainerState::kRestarting, message);

    if (managed.ready_since != Clock::time_point{} &&
        Clock::now() - managed.ready_since > kBackoffResetAfter) {
      managed.consecutive_restarts = 0;
    }
    auto backoff = options_.restart_backoff_initial;
    for (int i = 0; i < managed.consecutive_restarts && backoff < options_.restart_backoff_max;
         ++i) {
      backoff *= 2;
    }
    backoff = std::min(backoff, options_.restart_backoff_max);
    ++managed.consecutive_restarts;
    co_await sleep_for(*managed.sleep_timer, backoff);
    if (stopping_) {
      break;
    }

    try {
      {
        std::lock_guard lock(status_mutex_);
        ++managed.status.restarts;
      }
      co_await create_and_start(managed);
      co_await await_readiness(managed);
      log_->info("container restarted id={} attempt={}", spec.id, managed.consecutive_restarts);
    } catch (const std::exception& e) {
      log_->error("restart of container {} failed (attempt {}): {}", spec.id,
                  managed.consecutive_restarts, e.what());
      set_state(managed, ContainerState::kRestarting, e.what());
      restart_failed = true;
    }
    if (restart_failed && !managed.docker_id.empty() && !stopping_) {
      // A container that runs but never became ready is stopped, so the next poll sees it down
      // and restarts it after a longer backoff instead of leaving it running unready.
      restart_failed = false;
      try {
        co_await docker_.stop_container(managed.docker_id, options_.stop_timeout);
      } catch (const DockerError& e) {
        log_->warn("cannot stop unready container id={}: {}", spec.id, e.what());
      }
    }
  }
}

Awaitable<void> ContainerManager::stop_on_strand() {
  if (stopped_) {
    co_return;
  }
  stopping_ = true;
  for (auto& managed : containers_) {
    managed->sleep_timer->cancel();
  }
  while (supervisors_running_ > 0) {
    supervisors_done_->expires_at(Clock::time_point::max());
    boost::system::error_code ec;
    co_await supervisors_done_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  auto errors = co_await run_parallel(containers_.size(), [&](std::size_t i) {
    return [](ContainerManager* self, Managed* managed) -> Awaitable<void> {
      if (managed->docker_id.empty()) {
        co_return;
      }
      co_await self->docker_.stop_container(managed->docker_id, self->options_.stop_timeout);
      if (managed->spec.remove_on_stop) {
        co_await self->docker_.remove_container(managed->docker_id);
      }
      self->log_->info("stopped container id={} removed={}", managed->spec.id,
                       managed->spec.remove_on_stop);
    }(this, containers_[i].get());
  });
  for (std::size_t i = 0; i < containers_.size(); ++i) {
    if (errors[i]) {
      log_->error("stopping container {} failed: {}", containers_[i]->spec.id,
                  error_text(errors[i]));
    }
    set_state(*containers_[i], ContainerState::kStopped, "");
  }
  stopped_ = true;
}

Awaitable<void> ContainerManager::wait_ready(std::string id, Clock::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // NOTE: polls the state every 50 ms instead of being woken, which keeps waiters independent of
  // the manager's strand.
  for (;;) {
    const auto current = status(id);
    if (current.state == ContainerState::kReady) {
      co_return;
    }
    if (current.state == ContainerState::kFailed || current.state == ContainerState::kStopped) {
      throw ContainerStartError({"container " + id + " is " +
                                 std::string(to_string(current.state)) +
                                 (current.last_error.empty() ? "" : ": " + current.last_error)});
    }
    if (Clock::now() >= deadline) {
      throw std::runtime_error("container " + id + " was not ready before the deadline (state " +
                               std::string(to_string(current.state)) + ")");
    }
    co_await sleep_for(
        timer,
        std::min<std::chrono::milliseconds>(
            kWaitReadyInterval,
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()) + 1ms));
  }
}

ContainerStatus ContainerManager::status(const std::string& id) const {
  std::lock_guard lock(status_mutex_);
  for (const auto& managed : containers_) {
    if (managed->spec.id == id) {
      return managed->status;
    }
  }
  throw std::out_of_range("no managed container with id " + id);
}

std::vector<ContainerStatus> ContainerManager::statuses() const {
  std::lock_guard lock(status_mutex_);
  std::vector<ContainerStatus> all;
  for (const auto& managed : containers_) {
    all.push_back(managed->status);
  }
  return all;
}

ContainerState ContainerManager::state(const std::string& id) const {
  return status(id).state;
}

bool ContainerManager::ready(const std::string& id) const {
  std::lock_guard lock(status_mutex_);
  for (const auto& managed : containers_) {
    if (managed->spec.id == id) {
      return managed->status.state == ContainerState::kReady;
    }
  }
  return false;
}

int ContainerManager::host_port(const std::string& id) const {
  return status(id).host_port;
}

nlohmann::json to_json(const ContainerStatus& status) {
  nlohmann::json json = {
      {"id", status.id},
      {"docker_name", status.docker_name},
      {"docker_id", status.docker_id},
      {"image", status.image},
      {"port", status.host_port},
      {"state", std::string(to_string(status.state))},
      {"restarts", status.restarts},
      {"last_error",
       status.last_error.empty() ? nlohmann::json(nullptr) : nlohmann::json(status.last_error)},
      {"last_exit_code",
       status.last_exit_code ? nlohmann::json(*status.last_exit_code) : nlohmann::json(nullptr)},
  };
  return json;
}

// Pure helpers

std::optional<std::vector<std::string>> split_command(std::string_view command) {
  std::vector<std::string> arguments;
  std::string current;
  bool in_argument = false;
  char quote = 0;
  for (std::size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (quote == '\'') {
      if (c == '\'') {
        quote = 0;
      } else {
        current.push_back(c);
      }
      continue;
    }
    if (quote == '"') {
      if (c == '"') {
        quote = 0;
      } else if (c == '\\' && i + 1 < command.size() &&
                 std::string_view("\\\"$`\n").find(command[i + 1]) != std::string_view::npos) {
        current.push_back(command[++i]);
      } else {
        current.push_back(c);
      }
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n') {
      if (in_argument) {
        arguments.push_back(std::move(current));
        current.clear();
        in_argument = false;
      }
      continue;
    }
    in_argument = true;
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\') {
      if (i + 1 < command.size()) {
        current.push_back(command[++i]);
      }
    } else {
      current.push_back(c);
    }
  }
  if (quote != 0) {
    return std::nullopt;
  }
  if (in_argument) {
    arguments.push_back(std::move(current));
  }
  return arguments;
}

nlohmann::json container_create_body(const ManagedContainerSpec& spec) {
  nlohmann::json body = {{"Image", spec.image},
                         {"ExposedPorts", {{"3000/tcp", nlohmann::json::object()}}}};

  auto arguments = split_command(spec.command);
  if (!arguments) {
    throw std::invalid_argument("container " + spec.id +
                                ": command has an unterminated quote: " + spec.command);
  }
  if (!arguments->empty()) {
    body["Cmd"] = *arguments;
  }

  auto env = nlohmann::json::array();
  if (spec.env.is_object()) {
    for (const auto& [name, value] : spec.env.items()) {
      env.push_back(name + "=" + env_value_text(value));
    }
  }
  body["Env"] = env;

  nlohmann::json host_config = {
      {"PortBindings",
       {{"3000/tcp",
         {{{"HostIp", spec.bind_address}, {"HostPort", std::to_string(spec.host_port)}}}}}},
      // inferd supervises and restarts the container itself; a second supervisor in the daemon
      // would race with it.
      {"RestartPolicy", {{"Name", "no"}}},
  };
  if (!spec.volumes.empty()) {
    host_config["Binds"] = spec.volumes;
  }
  if (spec.gpu) {
    host_config["DeviceRequests"] = {{{"Driver", ""}, {"Count", -1}, {"Capabilities", {{"gpu"}}}}};
  }
  body["HostConfig"] = host_config;
  return body;
}

std::string container_config_hash(const nlohmann::json& create_body, const std::string& image_id) {
  // nlohmann::json keeps object keys sorted, so dump() is canonical for equal bodies.
  const std::string text = create_body.dump() + "\n" + image_id;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0F]);
  }
  return hex;
}

}  // namespace inferd::containers

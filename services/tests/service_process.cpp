#include "tests/service_process.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace infernet::services::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kStartTimeout = 20s;

struct Spawned {
  pid_t pid = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
};

// Spawns `binary` with stdout and stderr redirected to pipes.
Spawned spawn(const std::string& binary, const std::vector<std::string>& args,
              const std::vector<std::string>& environment) {
  int pipe_fds[2];
  int error_fds[2];
  if (pipe(pipe_fds) != 0)
    throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
  if (pipe(error_fds) != 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    throw std::runtime_error(std::string("pipe failed: ") + std::strerror(errno));
  }

  std::vector<std::string> argv_strings{binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_strings)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** entry = environ; *entry != nullptr; ++entry)
    env_strings.emplace_back(*entry);
  env_strings.insert(env_strings.end(), environment.begin(), environment.end());
  std::vector<char*> envp;
  for (auto& entry : env_strings)
    envp.push_back(entry.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, error_fds[1], STDERR_FILENO);
  for (int fd : {pipe_fds[0], pipe_fds[1], error_fds[0], error_fds[1]})
    posix_spawn_file_actions_addclose(&actions, fd);
  pid_t pid = -1;
  int error = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  close(error_fds[1]);
  if (error != 0) {
    close(pipe_fds[0]);
    close(error_fds[0]);
    throw std::runtime_error("cannot start " + binary + ": " + std::strerror(error));
  }
  return {pid, pipe_fds[0], error_fds[0]};
}

// Waits up to `timeout` for `pid` to end; returns the raw wait status.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid)
      return status;
    if (done < 0 || std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
}

std::optional<int> exit_status(std::optional<int> wait_status) {
  if (!wait_status || !WIFEXITED(*wait_status))
    return std::nullopt;
  return WEXITSTATUS(*wait_status);
}

}  // namespace

std::string binary_path(const std::string& name) {
  return std::string(INFERD_BINARY_DIR) + "/bin/" + name;
}

ServiceProcess::ServiceProcess(const std::string& binary, const std::vector<std::string>& args,
                               const std::vector<std::string>& environment) {
  auto spawned = spawn(binary, args, environment);
  pid_ = spawned.pid;
  stdout_fd_ = spawned.stdout_fd;
  stderr_fd_ = spawned.stderr_fd;

  // Read stdout until the first full line.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::string output;
  while (output.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd poll_fd{stdout_fd_, POLLIN, 0};
    if (left.count() <= 0 || poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0) {
      throw std::runtime_error(binary + " printed no \"listening on\" line within 20 s");
    }
    char buffer[256];
    ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
    if (n <= 0)
      throw std::runtime_error(binary + " closed stdout before listening (exited?)");
    output.append(buffer, static_cast<std::size_t>(n));
  }

  line_ = output.substr(0, output.find('\n'));
  const std::string prefix = "listening on ";
  auto colon = line_.rfind(':');
  if (line_.rfind(prefix, 0) != 0 || colon == std::string::npos)
    throw std::runtime_error(binary + " printed an unexpected first line: " + line_);
  port_ = static_cast<unsigned short>(std::stoul(line_.substr(colon + 1)));
}

ServiceProcess::~ServiceProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    wait_for(pid_, 10s);
  }
  if (stdout_fd_ >= 0)
    close(stdout_fd_);
  if (stderr_fd_ >= 0)
    close(stderr_fd_);
}

bool ServiceProcess::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (log_.find(text) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd poll_fd{stderr_fd_, POLLIN, 0};
    if (left.count() <= 0 || poll(&poll_fd, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char buffer[1024];
    ssize_t n = read(stderr_fd_, buffer, sizeof(buffer));
    if (n <= 0)
      return false;
    log_.append(buffer, static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<int> ServiceProcess::stop(int signal, std::chrono::milliseconds timeout) {
  kill(pid_, signal);
  auto status = wait_for(pid_, timeout);
  if (status)
    pid_ = -1;
  return exit_status(status);
}

std::optional<int> run_to_exit(const std::string& binary, const std::vector<std::string>& args) {
  auto spawned = spawn(binary, args, {});
  const pid_t pid = spawned.pid;
  // Drain both pipes so that a long --help text cannot block the child on a full pipe.
  char buffer[4096];
  while (read(spawned.stdout_fd, buffer, sizeof(buffer)) > 0) {
  }
  while (read(spawned.stderr_fd, buffer, sizeof(buffer)) > 0) {
  }
  close(spawned.stdout_fd);
  close(spawned.stderr_fd);
  auto status = wait_for(pid, kStartTimeout);
  if (!status) {
    kill(pid, SIGKILL);
    wait_for(pid, 10s);
  }
  return exit_status(status);
}

}  // namespace infernet::services::testing

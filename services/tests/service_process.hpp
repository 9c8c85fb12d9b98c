// Starts a service binary as a child process and learns its port from its stdout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace infernet::services::testing {

/// The path of a service binary built into <build>/bin/.
std::string binary_path(const std::string& name);

/// A running service process. The destructor kills it (SIGKILL) if it is still running.
class ServiceProcess {
 public:
  /// Starts `binary` with `args` and extra `environment` entries ("NAME=value"), then waits up to
  /// 20 s for the line "listening on <address>:<port>". Throws std::runtime_error when the
  /// process cannot start or exits or stays silent instead.
  ServiceProcess(const std::string& binary, const std::vector<std::string>& args,
                 const std::vector<std::string>& environment = {});
  ~ServiceProcess();
  ServiceProcess(const ServiceProcess&) = delete;
  ServiceProcess& operator=(const ServiceProcess&) = delete;

  unsigned short port() const { return port_; }
  const std::string& listening_line() const { return line_; }
  pid_t pid() const { return pid_; }

  /// Waits up to `timeout` for `text` to appear on the process's stderr (where services log).
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout);

  /// Sends `signal` and waits up to `timeout` for the process to end. Returns its exit status, or
  /// nullopt when it did not exit normally within the timeout (or died from a signal).
  std::optional<int> stop(int signal, std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string log_;
  unsigned short port_ = 0;
  std::string line_;
};

/// Runs `binary` with `args` to completion (up to 20 s) and returns its exit status, or nullopt.
std::optional<int> run_to_exit(const std::string& binary, const std::vector<std::string>& args);

}  // namespace infernet::services::testing

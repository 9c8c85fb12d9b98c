// Child processes for integration tests: start a real binary, read its output, signal it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace inferd::testing {

/// A running child process whose stdout and stderr go to files. Killed (SIGKILL) on destruction
/// if it is still running.
class Process {
 public:
  /// Starts `program` with `args`; `env` entries are added to the current environment.
  /// Throws std::runtime_error when the program cannot be started.
  Process(std::filesystem::path program, std::vector<std::string> args,
          std::map<std::string, std::string> env = {}, std::filesystem::path working_dir = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signal_number);
  /// Waits for the process to exit; returns its exit status, or 128 + signal when a signal
  /// ended it, or std::nullopt when `timeout` passed first.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

  std::string stdout_text() const;
  std::string stderr_text() const;
  /// Waits until stdout or stderr contains `text`; returns false after `timeout`.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
};

/// A TCP port on 127.0.0.1 that was free a moment ago.
unsigned short free_port();

/// A fresh empty directory under the system temp directory, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Reads a whole file; empty when it does not exist.
std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& text);

}  // namespace inferd::testing

// Test support (included by *_test.cpp only): runs a coroutine to completion and starts a real
// anvil on a free loopback port.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chain/rpc_client.hpp"
#include "infra/asio.hpp"

extern char** environ;

namespace inferd::chain::testing {

/// Runs `task` on `io` until it finishes and returns its result (or rethrows its exception).
template <typename T>
T run(asio::io_context& io, Awaitable<T> task) {
  std::optional<T> result;
  std::exception_ptr error;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) {
      result = std::move(value);
    }
    io.stop();
  });
  io.restart();
  io.run();
  if (error) {
    std::rethrow_exception(error);
  }
  return std::move(*result);
}

inline std::string local_url(std::uint16_t port) {
  return "http://127.0.0.1:" + std::to_string(port);
}

/// Returns the anvil binary that scripts/install-deps.sh installs (npm, in contracts/node_modules).
inline std::filesystem::path anvil_path() {
  return std::filesystem::path(INFERD_SOURCE_DIR) / "contracts/node_modules/.bin/anvil";
}

/// Returns a loopback port that was free a moment ago (bind to port 0, read it, close).
inline std::uint16_t free_port() {
  asio::io_context io;
  asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  return probe.local_endpoint().port();
}

/// An anvil process (chain id 31337) on a free loopback port; killed on destruction.
class AnvilProcess {
 public:
  /// Starts anvil; `extra_arguments` are appended to its command line (e.g. "--no-mining").
  explicit AnvilProcess(const std::vector<std::string>& extra_arguments = {}) : port_(free_port()) {
    const std::string binary = anvil_path().string();
    const std::string port = std::to_string(port_);
    std::vector<const char*> argv = {binary.c_str(), "--host",     "127.0.0.1",
                                     "--port",       port.c_str(), "--quiet"};
    for (const std::string& argument : extra_arguments) {
      argv.push_back(argument.c_str());
    }
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, binary.c_str(), &actions, nullptr, const_cast<char**>(argv.data()),
                    environ) != 0) {
      pid_ = -1;
    }
    posix_spawn_file_actions_destroy(&actions);
  }
  ~AnvilProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  AnvilProcess(const AnvilProcess&) = delete;
  AnvilProcess& operator=(const AnvilProcess&) = delete;

  bool started() const { return pid_ > 0; }
  /// The process id, e.g. to stop it with SIGSTOP for an outage; -1 when not started.
  pid_t pid() const { return pid_; }
  std::string url() const { return local_url(port_); }

 private:
  std::uint16_t port_;
  pid_t pid_ = -1;
};

/// Polls eth_chainId until anvil (chain id 31337) responds: 100 tries, 100 ms apart, because
/// anvil binds its port a moment after it starts. Returns false when it never responded.
inline bool wait_until_responding(asio::io_context& io, RpcClient& rpc) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    try {
      auto chain_id =
          run(io, rpc.call("eth_chainId", nlohmann::json::array(), std::chrono::milliseconds(500)));
      if (chain_id == "0x7a69")
        return true;
    } catch (const RpcError&) {
    }
    asio::steady_timer pause(io, std::chrono::milliseconds(100));
    pause.wait();
  }
  return false;
}

}  // namespace inferd::chain::testing

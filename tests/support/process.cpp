#include "support/process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace inferd::testing {
unsigned short any_free_port();
}

namespace inferd::testing {

Process::Process(std::filesystem::path program, std::vector<std::string> args,
                 std::map<std::string, std::string> env, std::filesystem::path working_dir) {
  static std::atomic<int> counter{0};
  auto base = std::filesystem::temp_directory_path() /
              ("inferd-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  stdout_path_ = base.string() + ".out";
  stderr_path_ = base.string() + ".err";

  std::vector<std::string> argv_storage{program.string()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);

  std::map<std::string, std::string> merged;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text(*entry);
    auto eq = text.find('=');
    if (eq != std::string::npos)
      merged[text.substr(0, eq)] = text.substr(eq + 1);
  }
  for (auto& [key, value] : env)
    merged[key] = value;
  std::vector<std::string> env_storage;
  for (auto& [key, value] : merged)
    env_storage.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_storage)
    envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_ = ::fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
  if (pid_ == 0) {
    int out = ::open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    if (!working_dir.empty() && ::chdir(working_dir.c_str()) != 0)
      ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(10));
  }
  std::error_code ignored;
  std::filesystem::remove(stdout_path_, ignored);
  std::filesystem::remove(stderr_path_, ignored);
}

void Process::signal(int signal_number) {
  if (!exit_status_)
    ::kill(pid_, signal_number);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!exit_status_) {
    int status = 0;
    pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return exit_status_;
}

bool Process::running() {
  return !wait(std::chrono::milliseconds(0)).has_value();
}

std::string Process::stdout_text() const {
  return read_file(stdout_path_);
}
std::string Process::stderr_text() const {
  return read_file(stderr_path_);
}

bool Process::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (stdout_text().find(text) != std::string::npos ||
        stderr_text().find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

unsigned short free_port() {
  // Never the same port twice in one process, so two calls in one test cannot collide.
  static std::mutex mutex;
  static std::set<unsigned short> handed_out;
  for (;;) {
    unsigned short port = any_free_port();
    std::lock_guard lock(mutex);
    if (handed_out.insert(port).second)
      return port;
  }
}

unsigned short any_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

TempDir::TempDir() {
  std::random_device random;
  path_ = std::filesystem::temp_directory_path() /
          ("inferd-test-" + std::to_string(::getpid()) + "-" + std::to_string(random()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
}

}  // namespace inferd::testing

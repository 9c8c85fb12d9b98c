// Starts the real inferd binary and real service processes on loopback for integration tests.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "infra/http_client.hpp"
#include "support/process.hpp"

namespace inferd::testing {

/// Paths of the binaries under test, set by CMake.
std::filesystem::path inferd_binary();
std::filesystem::path test_service_binary();
std::filesystem::path echo_service_binary();
std::filesystem::path hello_service_binary();

/// A service process listening on a free port of 127.0.0.1.
class ServiceProcess {
 public:
  ServiceProcess(std::filesystem::path binary, std::vector<std::string> args);
  unsigned short port() const { return port_; }
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  unsigned short port_ = 0;
};

/// A synchronous HTTP client for tests, with its own io thread.
class TestClient {
 public:
  TestClient();
  ~TestClient();

  infra::ClientResponse request(http::verb method, const std::string& url, std::string body = "",
                                std::string content_type = "application/json",
                                infra::HeaderList headers = {});
  /// Streams a reply; returns the response and every chunk received.
  std::pair<infra::ClientResponse, std::vector<std::string>> stream(const std::string& url,
                                                                    std::string body);

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::unique_ptr<infra::HttpClient> client_;
  std::thread thread_;
};

/// An inferd node started from a config built by the test. The data directory survives restarts
/// of the node within one test.
class NodeProcess {
 public:
  /// `config` is completed with server.port, store.data_dir and log.path when they are absent.
  explicit NodeProcess(nlohmann::json config);
  ~NodeProcess();

  /// Starts inferd and waits until its REST API responds. Throws with the node's output when it
  /// does not start.
  void start();
  /// SIGKILL, without any chance to clean up.
  void kill_hard();
  /// SIGTERM, then waits for the exit status.
  std::optional<int> terminate(std::chrono::milliseconds timeout);

  std::string url(const std::string& path) const;
  Process& process() { return *process_; }
  const nlohmann::json& config() const { return config_; }
  const std::filesystem::path& config_path() const { return config_path_; }

  TestClient& client() { return client_; }
  infra::ClientResponse post_json(const std::string& path, const nlohmann::json& body);
  infra::ClientResponse get(const std::string& path);
  /// Submits an off-chain job and returns its id; fails the test on a non-200 reply.
  std::string submit(const nlohmann::json& body);
  /// Waits for a job to leave "running" and returns its JobResult.
  nlohmann::json wait_job(const std::string& id, bool intermediate = false);

 private:
  TempDir dir_;
  nlohmann::json config_;
  std::filesystem::path config_path_;
  std::unique_ptr<Process> process_;
  TestClient client_;
};

/// A container entry for a config: `id` served on `port` of 127.0.0.1.
nlohmann::json container_entry(const std::string& id, unsigned short port);

}  // namespace inferd::testing

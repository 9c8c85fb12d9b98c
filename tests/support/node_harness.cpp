#include "support/node_harness.hpp"

#include <signal.h>

#include <regex>
#include <stdexcept>

namespace inferd::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

}  // namespace

std::filesystem::path inferd_binary() {
  return INFERD_BIN_INFERD;
}
std::filesystem::path test_service_binary() {
  return INFERD_BIN_TEST_SERVICE;
}
std::filesystem::path echo_service_binary() {
  return INFERD_BIN_ECHO_SERVICE;
}
std::filesystem::path hello_service_binary() {
  return INFERD_BIN_HELLO_SERVICE;
}

ServiceProcess::ServiceProcess(std::filesystem::path binary, std::vector<std::string> args) {
  args.insert(args.begin(), {"--port", "0", "--bind-address", "127.0.0.1"});
  process_ = std::make_unique<Process>(binary, args);
  if (!process_->wait_for_output("listening on 127.0.0.1:", 10s)) {
    throw std::runtime_error("service " + binary.string() +
                             " did not start: " + process_->stderr_text());
  }
  std::smatch match;
  std::string out = process_->stdout_text();
  if (!std::regex_search(out, match, std::regex("listening on 127\\.0\\.0\\.1:(\\d+)"))) {
    throw std::runtime_error("service output has no port: " + out);
  }
  port_ = static_cast<unsigned short>(std::stoi(match[1]));
}

TestClient::TestClient()
    : work_(io_.get_executor()),
      client_(std::make_unique<infra::HttpClient>(io_.get_executor())),
      thread_([this] { io_.run(); }) {}

TestClient::~TestClient() {
  client_->clear_idle();
  work_.reset();
  io_.stop();
  thread_.join();
}

infra::ClientResponse TestClient::request(http::verb method, const std::string& url,
                                          std::string body, std::string content_type,
                                          infra::HeaderList headers) {
  infra::ClientRequest request;
  request.method = method;
  request.body = std::move(body);
  if (!request.body.empty())
    request.content_type = std::move(content_type);
  request.headers = std::move(headers);
  return asio::co_spawn(
             io_, client_->send(infra::Url::parse(url), std::move(request), Clock::now() + 60s),
             asio::use_future)
      .get();
}

std::pair<infra::ClientResponse, std::vector<std::string>> TestClient::stream(
    const std::string& url, std::string body) {
  auto chunks = std::make_shared<std::vector<std::string>>();
  infra::ClientRequest request;
  request.method = http::verb::post;
  request.body = std::move(body);
  request.content_type = "application/json";
  infra::ChunkHandler collect = [chunks](std::string_view chunk) -> Awaitable<void> {
    chunks->emplace_back(chunk);
    co_return;
  };
  auto response = asio::co_spawn(io_,
                                 client_->stream(infra::Url::parse(url), std::move(request),
                                                 Clock::now() + 60s, collect),
                                 asio::use_future)
                      .get();
  return {response, *chunks};
}

nlohmann::json container_entry(const std::string& id, unsigned short port) {
  return {{"id", id}, {"port", port}, {"external", true}, {"description", "test container " + id}};
}

NodeProcess::NodeProcess(nlohmann::json config) : config_(std::move(config)) {
  if (!config_.contains("manage_containers"))
    config_["manage_containers"] = false;
  if (!config_.contains("forward_stats"))
    config_["forward_stats"] = false;
  if (!config_["server"].contains("port"))
    config_["server"]["port"] = free_port();
  if (!config_["server"].contains("rate_limit")) {
    config_["server"]["rate_limit"] = {{"num_requests", 100000}, {"period", 1}};
  }
  config_["store"]["data_dir"] = (dir_.path() / "data").string();
  config_["log"]["path"] = (dir_.path() / "data" / "inferd.log").string();
  config_path_ = dir_.path() / "config.json";
  write_file(config_path_, config_.dump(2));
}

NodeProcess::~NodeProcess() {
  if (process_ && process_->running())
    terminate(10s);
}

void NodeProcess::start() {
  process_ = std::make_unique<Process>(inferd_binary(),
                                       std::vector<std::string>{"run", "--config", config_path_});
  auto deadline = Clock::now() + 15s;
  while (Clock::now() < deadline) {
    if (!process_->running())
      break;
    if (process_->wait_for_output("REST API listening", 20ms))
      return;
  }
  throw std::runtime_error("inferd did not start; stderr:\n" + process_->stderr_text());
}

void NodeProcess::kill_hard() {
  process_->signal(SIGKILL);
  process_->wait(10s);
}

std::optional<int> NodeProcess::terminate(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  return process_->wait(timeout);
}

std::string NodeProcess::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(config_["server"]["port"].get<int>()) + path;
}

infra::ClientResponse NodeProcess::post_json(const std::string& path, const nlohmann::json& body) {
  return client_.request(http::verb::post, url(path), body.dump());
}

infra::ClientResponse NodeProcess::get(const std::string& path) {
  return client_.request(http::verb::get, url(path));
}

std::string NodeProcess::submit(const nlohmann::json& body) {
  auto response = post_json("/api/jobs", body);
  if (response.status_code != 200) {
    throw std::runtime_error("submit failed: HTTP " + std::to_string(response.status_code) + " " +
                             response.body);
  }
  return nlohmann::json::parse(response.body).at("id").get<std::string>();
}

nlohmann::json NodeProcess::wait_job(const std::string& id, bool intermediate) {
  std::string path = "/api/jobs?id=" + id + "&wait_ms=20000";
  if (intermediate)
    path += "&intermediate=true";
  auto deadline = Clock::now() + 60s;
  while (Clock::now() < deadline) {
    auto response = get(path);
    auto jobs = nlohmann::json::parse(response.body);
    if (jobs.empty())
      throw std::runtime_error("job " + id + " not found");
    if (jobs[0]["status"] != "running")
      return jobs[0];
  }
  throw std::runtime_error("job " + id + " still running after 60 s");
}

}  // namespace inferd::testing

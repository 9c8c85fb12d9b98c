#include "cli/job_command.hpp"

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "infra/http_client.hpp"

namespace inferd::cli {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct JobOptions {
  std::string url = "http://127.0.0.1:4000";
  double timeout = 30;  // seconds per request
  std::vector<std::string> containers;
  std::string data = "{}";
  bool requires_proof = false;
  bool wait = false;
  double wait_timeout = 300;  // seconds for --wait
  std::vector<std::string> ids;
  bool intermediate = false;
  std::string pending;
  std::string file;
};

// A failure the user can act on; printed as one line, exit status 1.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename T>
T run_client(std::function<Awaitable<T>(infra::HttpClient&)> operation) {
  asio::io_context io;
  infra::HttpClient client(io.get_executor());
  auto future = asio::co_spawn(io, operation(client), asio::use_future);
  io.run();
  return future.get();
}

nlohmann::json parse_reply(const infra::ClientResponse& response, const std::string& what) {
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (response.status_code < 200 || response.status_code >= 300) {
    std::string reason = !parsed.is_discarded() && parsed.contains("error")
                             ? parsed["error"].dump()
                             : response.body.substr(0, 300);
    throw CommandError(what + " failed: HTTP " + std::to_string(response.status_code) + ": " +
                       reason);
  }
  if (parsed.is_discarded())
    throw CommandError(what + " failed: the node returned invalid JSON");
  return parsed;
}

nlohmann::json parse_data(const std::string& text) {
  std::string source = text;
  if (!text.empty() && text.front() == '@') {
    std::ifstream file(text.substr(1));
    if (!file)
      throw CommandError("--data: cannot read file \"" + text.substr(1) + "\"");
    std::stringstream content;
    content << file.rdbuf();
    source = content.str();
  }
  auto data = nlohmann::json::parse(source, nullptr, false);
  if (data.is_discarded() || !data.is_object()) {
    throw CommandError(
        "--data: invalid value (expected a JSON object, e.g. '{\"input\": \"hi\"}' "
        "or @file.json)");
  }
  return data;
}

Awaitable<infra::ClientResponse> send(infra::HttpClient& client, const JobOptions& options,
                                      http::verb method, std::string path, std::string body) {
  infra::ClientRequest request;
  request.method = method;
  request.body = std::move(body);
  if (!request.body.empty())
    request.content_type = "application/json";
  auto url = infra::Url::parse(options.url).with_path(path);
  co_return co_await client.send(
      url, std::move(request),
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.timeout)));
}

std::string ids_query(const std::vector<std::string>& ids) {
  std::string query;
  for (const auto& id : ids)
    query += (query.empty() ? "?id=" : "&id=") + id;
  return query;
}

int submit(const JobOptions& options) {
  nlohmann::json body{{"containers", options.containers},
                      {"data", parse_data(options.data)},
                      {"requires_proof", options.requires_proof}};
  return run_client<int>([&](infra::HttpClient& client) -> Awaitable<int> {
    auto reply = parse_reply(
        co_await send(client, options, http::verb::post, "/api/jobs", body.dump()), "submit");
    std::string id = reply.at("id").get<std::string>();
    if (!options.wait) {
      std::cout << id << "\n";
      co_return 0;
    }
    auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options.wait_timeout));
    for (;;) {
      auto jobs = parse_reply(co_await send(client, options, http::verb::get,
                                            "/api/jobs?id=" + id + "&wait_ms=10000", ""),
                              "get");
      if (jobs.empty())
        throw CommandError("job " + id + " not found on the node");
      const auto& job = jobs.front();
      std::string status = job.value("status", "");
      if (status != "running") {
        std::cout << job.dump(2) << "\n";
        co_return status == "success" ? 0 : 1;
      }
      if (Clock::now() >= deadline) {
        throw CommandError(fmt::format("job {} still running after {:g} s (--wait-timeout)", id,
                                       options.wait_timeout));
      }
    }
  });
}

int get(const JobOptions& options) {
  std::string path = "/api/jobs" + ids_query(options.ids);
  if (options.intermediate)
    path += "&intermediate=true";
  return run_client<int>([&](infra::HttpClient& client) -> Awaitable<int> {
    auto jobs = parse_reply(co_await send(client, options, http::verb::get, path, ""), "get");
    std::cout << jobs.dump(2) << "\n";
    co_return 0;
  });
}

int list(const JobOptions& options) {
  std::string path = "/api/jobs";
  if (!options.pending.empty())
    path += "?pending=" + options.pending;
  return run_client<int>([&](infra::HttpClient& client) -> Awaitable<int> {
    auto ids = parse_reply(co_await send(client, options, http::verb::get, path, ""), "list");
    for (const auto& id : ids)
      std::cout << id.get<std::string>() << "\n";
    co_return 0;
  });
}

int stream(const JobOptions& options) {
  nlohmann::json body{{"containers", options.containers},
                      {"data", parse_data(options.data)},
                      {"requires_proof", options.requires_proof}};
  return run_client<int>([&](infra::HttpClient& client) -> Awaitable<int> {
    infra::ClientRequest request;
    request.method = http::verb::post;
    request.body = body.dump();
    request.content_type = "application/json";
    infra::ChunkHandler print = [](std::string_view chunk) -> Awaitable<void> {
      std::cout << chunk << std::flush;
      co_return;
    };
    auto response = co_await client.stream(
        infra::Url::parse(options.url).with_path("/api/jobs/stream"), std::move(request),
        Clock::now() + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(options.timeout)),
        print);
    if (response.status_code < 200 || response.status_code >= 300) {
      parse_reply(response, "stream");
    }
    std::cout << "\n";
    co_return 0;
  });
}

int batch(const JobOptions& options) {
  std::ifstream file(options.file);
  if (!file)
    throw CommandError("--file: cannot read \"" + options.file + "\"");
  std::stringstream content;
  content << file.rdbuf();
  auto jobs = nlohmann::json::parse(content.str(), nullptr, false);
  if (jobs.is_discarded() || !jobs.is_array()) {
    throw CommandError("--file: \"" + options.file + "\" must hold a JSON list of job requests");
  }
  return run_client<int>([&](infra::HttpClient& client) -> Awaitable<int> {
    auto results = parse_reply(
        co_await send(client, options, http::verb::post, "/api/jobs/batch", jobs.dump()), "batch");
    std::cout << results.dump(2) << "\n";
    co_return 0;
  });
}

}  // namespace

void add_job_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<JobOptions>();
  auto* job =
      app.add_subcommand("job", "Submit and read jobs on a running node")->require_subcommand(1);
  job->add_option("--url", options->url, "Base URL of the node's REST API")->capture_default_str();
  job->add_option("--timeout", options->timeout, "Seconds allowed for each HTTP request")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  auto run = [&exit_code](std::function<int()> action) {
    return [&exit_code, action] {
      try {
        exit_code = action();
      } catch (const std::exception& error) {
        std::cerr << "inferd job: " << error.what() << "\n";
        exit_code = 1;
      }
    };
  };

  auto* submit_cmd = job->add_subcommand("submit", "Submit an off-chain job and print its id");
  submit_cmd->add_option("-c,--containers", options->containers, "Container ids, in call order")
      ->required();
  submit_cmd->add_option("-d,--data", options->data, "Job input: a JSON object, or @file.json")
      ->capture_default_str();
  submit_cmd->add_flag("--requires-proof", options->requires_proof, "Ask for a proof");
  submit_cmd->add_flag("-w,--wait", options->wait,
                       "Wait until the job ends, print it, and exit 1 when it failed");
  submit_cmd->add_option("--wait-timeout", options->wait_timeout, "Seconds --wait waits at most")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  submit_cmd->callback(run([options] { return submit(*options); }));

  auto* get_cmd = job->add_subcommand("get", "Print jobs by id");
  get_cmd->add_option("ids", options->ids, "Job ids")->required();
  get_cmd->add_flag("--intermediate", options->intermediate, "Include intermediate results");
  get_cmd->callback(run([options] { return get(*options); }));

  auto* list_cmd = job->add_subcommand("list", "List the ids of your jobs");
  list_cmd->add_option("--pending", options->pending, "true: running only; false: finished only")
      ->check(CLI::IsMember({"true", "false"}));
  list_cmd->callback(run([options] { return list(*options); }));

  auto* stream_cmd = job->add_subcommand("stream", "Run a streaming job and print its output");
  stream_cmd->add_option("-c,--containers", options->containers, "Container ids")->required();
  stream_cmd->add_option("-d,--data", options->data, "Job input: a JSON object, or @file.json")
      ->capture_default_str();
  stream_cmd->callback(run([options] { return stream(*options); }));

  auto* batch_cmd = job->add_subcommand("batch", "Submit a JSON list of job requests");
  batch_cmd->add_option("-f,--file", options->file, "File with a JSON list of job requests")
      ->required();
  batch_cmd->callback(run([options] { return batch(*options); }));

  // --url and --timeout may also follow the subcommand: `inferd job submit --url …`.
  for (auto* subcommand : job->get_subcommands({}))
    subcommand->fallthrough();
}

}  // namespace inferd::cli

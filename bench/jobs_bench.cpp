// Load generator for off-chain jobs: submit-to-finished-result through a node, and the same
// service called directly, measured side by side in one run.
//
// Each client loops until the duration ends: POST /api/jobs, then GET /api/jobs?id=…&wait_ms=…
// until the job is no longer running (node mode), or POST /service_output on the service
// (direct mode). Prints throughput and p50/p99 latency per mode and concurrency.
#include <algorithm>
#include <iostream>
#include <mutex>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "core/abi.hpp"
#include "core/hex.hpp"
#include "infra/http_client.hpp"

namespace {

using namespace inferd;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Sample {
  std::vector<double> latencies_us;
  std::size_t failures = 0;
};

struct Figures {
  double jobs_per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  std::size_t completed = 0;
  std::size_t failures = 0;
};

double percentile(std::vector<double>& values, double fraction) {
  if (values.empty())
    return 0;
  std::size_t index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(index),
                   values.end());
  return values[index];
}

Awaitable<void> node_client(infra::HttpClient& client, infra::Url node, std::string job_body,
                            Clock::time_point measure_from, Clock::time_point end, Sample& sample) {
  auto submit_url = node.with_path("/api/jobs");
  while (Clock::now() < end) {
    auto started = Clock::now();
    infra::ClientRequest request;
    request.method = http::verb::post;
    request.content_type = "application/json";
    request.body = job_body;
    auto reply =
        co_await client.send(submit_url, std::move(request), started + std::chrono::seconds(30));
    if (reply.status_code != 200) {
      ++sample.failures;
      continue;
    }
    auto id = json::parse(reply.body)["id"].get<std::string>();
    auto get_url = node.with_path("/api/jobs?id=" + id + "&wait_ms=10000");
    bool success = false;
    for (int attempt = 0; attempt < 10; ++attempt) {
      infra::ClientRequest poll;
      auto result =
          co_await client.send(get_url, std::move(poll), Clock::now() + std::chrono::seconds(30));
      auto jobs = json::parse(result.body, nullptr, false);
      if (jobs.is_array() && !jobs.empty() && jobs[0]["status"] != "running") {
        success = jobs[0]["status"] == "success";
        break;
      }
    }
    auto finished = Clock::now();
    if (!success) {
      ++sample.failures;
    } else if (started >= measure_from) {
      sample.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(finished - started).count());
    }
  }
}

Awaitable<void> direct_client(infra::HttpClient& client, infra::Url service, std::string envelope,
                              Clock::time_point measure_from, Clock::time_point end,
                              Sample& sample) {
  auto url = service.with_path("/service_output");
  while (Clock::now() < end) {
    auto started = Clock::now();
    infra::ClientRequest request;
    request.method = http::verb::post;
    request.content_type = "application/json";
    request.body = envelope;
    auto reply = co_await client.send(url, std::move(request), started + std::chrono::seconds(30));
    auto finished = Clock::now();
    if (reply.status_code != 200) {
      ++sample.failures;
    } else if (started >= measure_from) {
      sample.latencies_us.push_back(
          std::chrono::duration<double, std::micro>(finished - started).count());
    }
  }
}

Figures run(bool through_node, const infra::Url& target, const std::string& body, int clients,
            double warmup_seconds, double duration_seconds) {
  asio::io_context io;
  infra::HttpClient client(io.get_executor());
  auto measure_from = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(warmup_seconds));
  auto end = measure_from + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(duration_seconds));
  std::vector<Sample> samples(static_cast<std::size_t>(clients));
  for (auto& sample : samples) {
    auto task = through_node ? node_client(client, target, body, measure_from, end, sample)
                             : direct_client(client, target, body, measure_from, end, sample);
    asio::co_spawn(io, std::move(task), [](std::exception_ptr error) {
      if (error)
        std::rethrow_exception(error);
    });
  }
  io.run();

  Figures figures;
  std::vector<double> all;
  for (auto& sample : samples) {
    all.insert(all.end(), sample.latencies_us.begin(), sample.latencies_us.end());
    figures.failures += sample.failures;
  }
  figures.completed = all.size();
  figures.jobs_per_second = static_cast<double>(all.size()) / duration_seconds;
  figures.p50_us = percentile(all, 0.50);
  figures.p99_us = percentile(all, 0.99);
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Off-chain job throughput and latency through a node and directly to a service"};
  std::string node_url = "http://127.0.0.1:4000";
  std::string service_url = "http://127.0.0.1:3000";
  std::string container = "echo";
  std::vector<int> concurrency{1, 16, 64};
  double duration = 5;
  double warmup = 1;
  std::string data_text;
  app.add_option("--node", node_url, "Node base URL")->capture_default_str();
  app.add_option("--service", service_url, "The same service's base URL, called directly")
      ->capture_default_str();
  app.add_option("--container", container, "Container id in the node's config")
      ->capture_default_str();
  app.add_option("--clients", concurrency, "Concurrent clients, one run each")->delimiter(',');
  app.add_option("--duration", duration, "Seconds measured per run")->capture_default_str();
  app.add_option("--warmup", warmup, "Seconds run before measuring")->capture_default_str();
  app.add_option("--data", data_text,
                 "The job's data as a JSON object (default: echo's input for the string hello)");
  CLI11_PARSE(app, argc, argv);

  // echo's off-chain input: {"input": hex(abi.encode(string value, string proof))}.
  auto encoded = core::abi::encode(
      "(string,string)", {core::abi::AbiValue::string("hello"), core::abi::AbiValue::string("")});
  std::string input = core::to_hex(encoded.value(), core::HexPrefix::kWithout);
  json data{{"input", input}};
  if (!data_text.empty())
    data = json::parse(data_text);
  std::string job_body = json{{"containers", {container}}, {"data", data}}.dump();
  std::string envelope =
      json{{"source", 1}, {"destination", 1}, {"data", data}, {"requires_proof", false}}.dump();

  auto node = infra::Url::parse(node_url);
  auto service = infra::Url::parse(service_url);
  std::cout << "| clients | mode | jobs/s | p50 (µs) | p99 (µs) | completed | failed |\n";
  std::cout << "|---|---|---|---|---|---|---|\n";
  for (int clients : concurrency) {
    auto direct = run(false, service, envelope, clients, warmup, duration);
    auto through = run(true, node, job_body, clients, warmup, duration);
    auto row = [clients](const std::string& mode, const Figures& f) {
      std::cout << "| " << clients << " | " << mode << " | " << static_cast<long>(f.jobs_per_second)
                << " | " << static_cast<long>(f.p50_us) << " | " << static_cast<long>(f.p99_us)
                << " | " << f.completed << " | " << f.failures << " |\n";
    };
    row("direct to " + container, direct);
    row("through inferd", through);
    std::cout << "| " << clients << " | added by inferd (p50) | | "
              << static_cast<long>(through.p50_us - direct.p50_us) << " | ratio p50 "
              << (direct.p50_us > 0 ? through.p50_us / direct.p50_us : 0) << " | | |\n";
  }
  return 0;
}

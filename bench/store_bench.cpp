// Measures job store throughput as the node uses it: every job is one create, one finish and
// one get, issued by `concurrency` coroutines on an io_context run by `threads` threads.
//
// Usage: store_bench [jobs=100000] [concurrency=64] [threads=2] [data_dir=<temp dir>]
// Prints jobs per second and the p50/p99 latency of one job's three calls.
#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite_job_store.hpp"

namespace {

using namespace inferd;
using Clock = std::chrono::steady_clock;

struct Shared {
  store::JobStore& store;
  std::atomic<long> next{0};
  long jobs = 0;
  std::mutex mutex;
  std::vector<double> latencies_us;
  std::atomic<long> failures{0};
};

Awaitable<void> client(Shared& shared, int client_id) {
  std::vector<double> latencies;
  std::string owner = "10.0.0." + std::to_string(client_id % 250);
  while (true) {
    long n = shared.next.fetch_add(1);
    if (n >= shared.jobs) {
      break;
    }
    std::string id = "bench-" + std::to_string(n);
    auto start = Clock::now();
    try {
      store::JobRecord job;
      job.id = id;
      job.owner = owner;
      job.containers.push_back("echo");
      co_await shared.store.create(std::move(job));
      std::vector<store::ContainerResult> results(1);
      results[0].container = "echo";
      results[0].output = nlohmann::json{{"output", "hello"}, {"n", n}};
      co_await shared.store.finish(id, store::JobStatus::kSuccess, std::move(results));
      std::vector<std::string> ids;
      ids.push_back(id);
      auto records = co_await shared.store.get(owner, std::move(ids));
      if (records.size() != 1) {
        ++shared.failures;
      }
    } catch (const std::exception&) {
      ++shared.failures;
    }
    latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::lock_guard lock(shared.mutex);
  shared.latencies_us.insert(shared.latencies_us.end(), latencies.begin(), latencies.end());
}

// User plus system CPU time of the whole process, in seconds.
double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  long jobs = argc > 1 ? std::atol(argv[1]) : 100000;
  int concurrency = argc > 2 ? std::atoi(argv[2]) : 64;
  int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  std::filesystem::path dir = argc > 4 ? std::filesystem::path(argv[4])
                                       : std::filesystem::temp_directory_path() /
                                             ("inferd_store_bench_" + std::to_string(::getpid()));
  bool remove_dir = argc <= 4;
  std::filesystem::remove_all(dir / "inferd.db");

  double seconds = 0;
  double cpu_seconds = 0;
  std::vector<double> latencies;
  long failures = 0;
  {
    store::SqliteJobStore store(dir, std::chrono::hours(24));
    Shared shared{store};
    shared.jobs = jobs;
    asio::io_context io(threads);
    for (int c = 0; c < concurrency; ++c) {
      asio::co_spawn(io, client(shared, c), asio::detached);
    }
    auto start = Clock::now();
    double cpu_start = process_cpu_seconds();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&io] { io.run(); });
    }
    for (auto& thread : pool) {
      thread.join();
    }
    seconds = std::chrono::duration<double>(Clock::now() - start).count();
    cpu_seconds = process_cpu_seconds() - cpu_start;
    latencies = std::move(shared.latencies_us);
    failures = shared.failures.load();
  }
  if (remove_dir) {
    std::filesystem::remove_all(dir);
  }

  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&latencies](double p) {
    return latencies.empty() ? 0.0
                             : latencies[static_cast<std::size_t>(p * (latencies.size() - 1))];
  };
  std::printf("store_bench: %ld jobs (create+finish+get), %d clients, %d io threads\n", jobs,
              concurrency, threads);
  std::printf("  throughput: %.0f jobs/s (%.2f s)\n", jobs / seconds, seconds);
  std::printf("  latency per job: p50 %.0f us, p99 %.0f us\n", percentile(0.5), percentile(0.99));
  std::printf("  process CPU: %.1f us per job (user + system, all threads)\n",
              cpu_seconds * 1e6 / static_cast<double>(jobs));
  std::printf("  failures: %ld\n", failures);
  return failures == 0 ? 0 : 1;
}

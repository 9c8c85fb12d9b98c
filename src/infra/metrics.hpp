// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format (version 0.0.4) for GET /metrics.
//
// Registration takes a lock and returns a reference that stays valid as long as the Registry;
// updating through that reference is one relaxed atomic operation, with no lookup:
//
//   auto& finished = registry.counter("inferd_jobs_total", "Jobs by final status.",
//                                     {{"status", "success"}});
//   finished.inc();
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace inferd::infra::metrics {

/// Label name/value pairs of one series. Order does not matter: series are identified and
/// rendered with their labels sorted by name.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// A monotonically increasing count. Thread-safe.
class Counter {
 public:
  void inc(std::uint64_t amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

/// A value that goes up and down. Thread-safe.
class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double amount) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void inc() { add(1.0); }
  void dec() { add(-1.0); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

/// Observations counted into buckets by upper bound (`le`), with their sum and count.
/// Thread-safe; a concurrent render may see a count and a sum from slightly different moments.
class Histogram {
 public:
  /// `upper_bounds` must be strictly increasing; +Inf is implicit.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(double value);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  /// Cumulative count of observations <= each upper bound, then the total (the +Inf bucket).
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> upper_bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> bucket_counts_;  // not cumulative, +Inf last
  std::atomic<double> sum_{0.0};
  std::atomic<std::uint64_t> count_{0};
};

/// Prometheus' default latency buckets in seconds: 0.005 .. 10.
const std::vector<double>& default_buckets();

/// A set of metric families. Thread-safe.
///
/// Registering the same name, type and labels again returns the same object. Throws
/// std::invalid_argument for an invalid metric or label name, and std::logic_error when a name
/// is reused with another type or other histogram buckets.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram& histogram(std::string_view name, std::string_view help,
                       std::vector<double> upper_bounds, Labels labels = {});

  /// A gauge whose value `read` computes at every render (e.g. a queue's depth). `read` runs
  /// under the registry's lock, so it must not call back into the registry.
  void gauge_callback(std::string_view name, std::string_view help, Labels labels,
                      std::function<double()> read);

  /// Renders every family in the text exposition format, families sorted by name and series
  /// by their label text. Content type: "text/plain; version=0.0.4; charset=utf-8".
  std::string render() const;

 private:
  struct Family;
  Family& family(std::string_view name, std::string_view help, int type,
                 const std::vector<double>* upper_bounds);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

/// The Content-Type of Registry::render()'s output.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace inferd::infra::metrics

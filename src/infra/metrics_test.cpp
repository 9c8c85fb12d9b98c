#include "infra/metrics.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace inferd::infra::metrics {
namespace {

TEST(Metrics, CountersRenderSortedWithLabels) {
  Registry registry;
  auto& success = registry.counter("inferd_jobs_total", "Jobs by final status.",
                                   {{"status", "success"}, {"container", "hello"}});
  auto& failed = registry.counter("inferd_jobs_total", "Jobs by final status.",
                                  {{"container", "hello"}, {"status", "failed"}});
  success.inc();
  success.inc(2);
  failed.inc();
  registry.counter("inferd_a_total", "First by name.").inc(7);

  EXPECT_EQ(registry.render(),
            "# HELP inferd_a_total First by name.\n"
            "# TYPE inferd_a_total counter\n"
            "inferd_a_total 7\n"
            "# HELP inferd_jobs_total Jobs by final status.\n"
            "# TYPE inferd_jobs_total counter\n"
            "inferd_jobs_total{container=\"hello\",status=\"failed\"} 1\n"
            "inferd_jobs_total{container=\"hello\",status=\"success\"} 3\n");
}

TEST(Metrics, SameSeriesReturnsSameHandle) {
  Registry registry;
  auto& a = registry.counter("c_total", "h", {{"x", "1"}, {"y", "2"}});
  auto& b = registry.counter("c_total", "h", {{"y", "2"}, {"x", "1"}});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &registry.counter("c_total", "h", {{"x", "2"}, {"y", "2"}}));
}

TEST(Metrics, GaugesAndCallbacks) {
  Registry registry;
  auto& depth = registry.gauge("inferd_queue_depth", "Calls waiting.", {{"container", "b"}});
  depth.set(5);
  depth.inc();
  depth.dec();
  depth.add(-1.5);
  int pending = 3;
  registry.gauge_callback("inferd_queue_depth", "Calls waiting.", {{"container", "a"}},
                          [&pending] { return static_cast<double>(pending); });
  pending = 4;
  EXPECT_EQ(registry.render(),
            "# HELP inferd_queue_depth Calls waiting.\n"
            "# TYPE inferd_queue_depth gauge\n"
            "inferd_queue_depth{container=\"a\"} 4\n"
            "inferd_queue_depth{container=\"b\"} 3.5\n");
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry registry;
  auto& latency = registry.histogram("inferd_container_seconds", "Container call latency.",
                                     {0.1, 1, 10}, {{"container", "echo"}});
  latency.observe(0.05);
  latency.observe(0.1);  // on the bound: counted in le="0.1"
  latency.observe(0.5);
  latency.observe(20);
  EXPECT_EQ(registry.render(),
            "# HELP inferd_container_seconds Container call latency.\n"
            "# TYPE inferd_container_seconds histogram\n"
            "inferd_container_seconds_bucket{container=\"echo\",le=\"0.1\"} 2\n"
            "inferd_container_seconds_bucket{container=\"echo\",le=\"1\"} 3\n"
            "inferd_container_seconds_bucket{container=\"echo\",le=\"10\"} 3\n"
            "inferd_container_seconds_bucket{container=\"echo\",le=\"+Inf\"} 4\n"
            "inferd_container_seconds_sum{container=\"echo\"} 20.65\n"
            "inferd_container_seconds_count{container=\"echo\"} 4\n");
}

TEST(Metrics, HistogramWithoutLabels) {
  Registry registry;
  registry.histogram("h_seconds", "H.", {1}).observe(2);
  EXPECT_EQ(registry.render(),
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"1\"} 0\n"
            "h_seconds_bucket{le=\"+Inf\"} 1\n"
            "h_seconds_sum 2\n"
            "h_seconds_count 1\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.counter("e_total", "Line one\nback\\slash", {{"reason", "say \"no\"\nnow\\"}}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP e_total Line one\\nback\\\\slash\n"
            "# TYPE e_total counter\n"
            "e_total{reason=\"say \\\"no\\\"\\nnow\\\\\"} 1\n");
}

TEST(Metrics, InvalidNamesAndTypeClashesThrow) {
  Registry registry;
  EXPECT_THROW(registry.counter("1bad", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("bad-name", "h"), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "h", {{"bad-label", "x"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "h", {{"__reserved", "x"}}), std::invalid_argument);
  EXPECT_THROW(registry.counter("ok_total", "h", {{"a", "x"}, {"a", "y"}}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("h2", "h", {1, 1}), std::invalid_argument);
  registry.counter("clash", "h");
  EXPECT_THROW(registry.gauge("clash", "h"), std::logic_error);
  registry.histogram("hist", "h", {1, 2});
  EXPECT_THROW(registry.histogram("hist", "h", {1, 3}), std::logic_error);
}

TEST(Metrics, ConcurrentIncrementsAreCounted) {
  Registry registry;
  auto& counter = registry.counter("n_total", "h");
  auto& histogram = registry.histogram("n_seconds", "h", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter.inc();
        histogram.observe(0.5);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(counter.value(), 40000u);
  EXPECT_EQ(histogram.count(), 40000u);
  EXPECT_EQ(histogram.sum(), 20000.0);
}

}  // namespace
}  // namespace inferd::infra::metrics

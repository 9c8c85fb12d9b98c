// Two nodes sharing one real Redis server as their job store.
#include <gtest/gtest.h>

#include "support/node_harness.hpp"

namespace inferd::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(RedisStore, JobCreatedOnOneNodeIsReadOnAnother) {
  auto redis_port = free_port();
  Process redis("/usr/bin/redis-server", {"--port", std::to_string(redis_port), "--bind",
                                          "127.0.0.1", "--save", "", "--appendonly", "no"});
  ASSERT_TRUE(redis.wait_for_output("Ready to accept connections", 10s)) << redis.stdout_text();

  ServiceProcess service(test_service_binary(), {});
  json config{{"containers", {container_entry("svc", service.port())}},
              {"store", {{"backend", "redis"}}},
              {"redis", {{"host", "127.0.0.1"}, {"port", redis_port}}}};
  NodeProcess first(config);
  NodeProcess second(config);
  first.start();
  second.start();

  auto id = first.submit({{"containers", {"svc"}}, {"data", {{"n", 7}}}});
  EXPECT_EQ(first.wait_job(id)["status"], "success");
  auto job = second.wait_job(id);
  EXPECT_EQ(job["status"], "success");
  EXPECT_EQ(job["result"]["output"]["envelope"]["data"]["n"], 7);
}

}  // namespace
}  // namespace inferd::testing

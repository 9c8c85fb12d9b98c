#include "containers/orchestrator.hpp"

#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "infra/http_server.hpp"
#include "store/sqlite_job_store.hpp"

namespace inferd::containers {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// An in-process stand-in container that records what the orchestrator sent.
class OrchestratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("orchestrator-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = std::make_unique<store::SqliteJobStore>(dir_, std::chrono::hours(1));
    server_ = std::make_unique<infra::HttpServer>(io_, infra::HttpServerOptions{});
    server_->route(http::verb::post, "/service_output",
                   [this](infra::RequestContext& context) -> Awaitable<infra::HttpResponse> {
                     {
                       std::lock_guard lock(mutex_);
                       authorizations_.emplace_back(context.request()[http::field::authorization]);
                       bodies_.push_back(json::parse(context.request().body()));
                     }
                     co_return infra::json_response(context.request(), http::status::ok,
                                                    {{"seen", bodies_.size()}});
                   });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
    client_ = std::make_unique<infra::HttpClient>(io_.get_executor());
  }

  void TearDown() override {
    server_->stop_accepting();
    server_->close_connections();
    client_->clear_idle();
    work_.reset();
    io_.stop();
    thread_.join();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  infra::ContainerConfig container(const std::string& id) {
    infra::ContainerConfig config;
    config.id = id;
    config.url = "http://127.0.0.1:" + std::to_string(server_->port());
    return config;
  }

  template <typename T>
  T run(Awaitable<T> operation) {
    return asio::co_spawn(io_, std::move(operation), asio::use_future).get();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::filesystem::path dir_;
  std::unique_ptr<store::SqliteJobStore> store_;
  std::unique_ptr<infra::HttpServer> server_;
  std::unique_ptr<infra::HttpClient> client_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> authorizations_;
  std::vector<json> bodies_;
};

TEST_F(OrchestratorTest, SendsBearerAndEnvelopes) {
  auto first = container("first");
  first.bearer = "secret-token";
  auto second = container("second");
  infra::metrics::Registry metrics;
  Orchestrator orchestrator(io_.get_executor(), *client_, *store_, {first, second}, metrics);

  JobSpec job;
  job.containers = {"first", "second"};
  job.data = {{"x", 1}};
  job.requires_proof = true;
  job.source = JobLocation::kOnchain;
  job.destination = JobLocation::kOnchain;
  auto results = run(orchestrator.run_chain(job));

  ASSERT_EQ(results.size(), 2u);
  EXPECT_FALSE(results[1].error.has_value());
  ASSERT_EQ(bodies_.size(), 2u);
  EXPECT_EQ(authorizations_[0], "Bearer secret-token");
  EXPECT_EQ(authorizations_[1], "");
  EXPECT_EQ(
      bodies_[0],
      json({{"source", 0}, {"destination", 1}, {"data", {{"x", 1}}}, {"requires_proof", true}}));
  EXPECT_EQ(
      bodies_[1],
      json({{"source", 1}, {"destination", 0}, {"data", {{"seen", 1}}}, {"requires_proof", true}}));
}

TEST_F(OrchestratorTest, UnreachableContainerFailsNamingIt) {
  auto missing = container("missing");
  missing.url = "http://127.0.0.1:1";
  infra::metrics::Registry metrics;
  Orchestrator orchestrator(io_.get_executor(), *client_, *store_, {missing}, metrics);

  JobSpec job;
  job.containers = {"missing"};
  job.data = json::object();
  auto results = run(orchestrator.run_chain(job));

  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].error.has_value());
  EXPECT_NE(results[0].error->find("container missing"), std::string::npos) << *results[0].error;
}

TEST(Envelope, SingleContainerKeepsJobLocations) {
  JobSpec job;
  job.containers = {"only"};
  job.source = JobLocation::kOffchain;
  job.destination = JobLocation::kStream;
  auto envelope = json::parse(make_envelope(job, 0, json::object()));
  EXPECT_EQ(envelope["source"], 1);
  EXPECT_EQ(envelope["destination"], 2);
}

TEST(Envelope, KeysComeInTheReferenceOrder) {
  JobSpec job;
  job.containers = {"first", "second"};
  job.source = JobLocation::kOnchain;
  job.destination = JobLocation::kOnchain;
  job.requires_proof = true;
  EXPECT_EQ(make_envelope(job, 0, "00ff"),
            R"({"source":0,"destination":1,"data":"00ff","requires_proof":true})");
  EXPECT_EQ(make_envelope(job, 1, json{{"b", 1}}),
            R"({"source":1,"destination":0,"data":{"b":1},"requires_proof":true})");
}

TEST(Envelope, StreamingCallsOmitRequiresProof) {
  JobSpec job;
  job.containers = {"only"};
  job.source = JobLocation::kOffchain;
  job.destination = JobLocation::kStream;
  EXPECT_EQ(make_envelope(job, 0, json::object(), true),
            R"({"source":1,"destination":2,"data":{}})");
}

TEST(Excerpt, CutsLongBodies) {
  EXPECT_EQ(excerpt("short"), "short");
  EXPECT_EQ(excerpt(std::string(300, 'a'), 10), "aaaaaaaaaa...");
}

}  // namespace
}  // namespace inferd::containers

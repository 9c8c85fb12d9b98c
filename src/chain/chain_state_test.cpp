#include "chain/chain_state.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace inferd::chain {
namespace {

template <typename T>
T run(asio::io_context& io, Awaitable<T> task) {
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

class ChainStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("inferd-chain-state-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  asio::io_context io_;
};

TEST_F(ChainStateTest, RecordsSurviveReopening) {
  {
    ChainState state(dir_ / "chain.db");
    std::vector<std::pair<std::string, nlohmann::json>> records = {
        {"checkpoint", {{"block", 10}}}, {"sub:2", {{"status", "active"}}}, {"sub:1", {{"n", 1}}}};
    run(io_, state.put(std::move(records)));
    std::vector<std::pair<std::string, nlohmann::json>> update = {{"sub:2", {{"status", "done"}}}};
    run(io_, state.put(std::move(update)));
  }
  ChainState state(dir_ / "chain.db");
  auto checkpoint = run(io_, state.get("checkpoint"));
  ASSERT_TRUE(checkpoint.has_value());
  EXPECT_EQ((*checkpoint)["block"], 10);
  EXPECT_FALSE(run(io_, state.get("missing")).has_value());
  auto subs = run(io_, state.scan("sub:"));
  ASSERT_EQ(subs.size(), 2u);
  EXPECT_EQ(subs[0].first, "sub:1");
  EXPECT_EQ(subs[1].second["status"], "done");
}

TEST_F(ChainStateTest, UnopenablePathNamesIt) {
  try {
    ChainState state(dir_ / "no-such-dir" / "chain.db");
    FAIL() << "opened a database in a missing directory";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("no-such-dir"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace inferd::chain

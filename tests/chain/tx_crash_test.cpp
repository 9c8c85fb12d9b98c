// A real process is killed with SIGKILL after journalling a transfer and before broadcasting it.
// Restarted on the same SQLite journal, it sends the journalled bytes exactly once.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "chain/rpc_client.hpp"
#include "chain/sqlite_tx_journal.hpp"
#include "chain/test_anvil.hpp"
#include "core/hex.hpp"

namespace inferd::chain {
namespace {

using nlohmann::json;

struct ProbeResult {
  int status = 0;  ///< as waitpid reports it
  std::string output;
};

// Runs the probe to its end (it gives up on its own after a 30 s receipt timeout).
ProbeResult run_probe(const std::string& mode, const std::string& url,
                      const std::filesystem::path& journal, const std::filesystem::path& output) {
  const std::string binary = INFERD_TX_CRASH_PROBE;
  const std::string journal_path = journal.string();
  const std::string purpose = "p1";
  std::vector<const char*> argv = {binary.c_str(),       mode.c_str(),    url.c_str(),
                                   journal_path.c_str(), purpose.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr,
                             const_cast<char**>(argv.data()), environ);
  posix_spawn_file_actions_destroy(&actions);
  ProbeResult result;
  if (rc != 0) {
    result.status = -1;
    return result;
  }
  ::waitpid(pid, &result.status, 0);
  std::ifstream in(output);
  std::stringstream text;
  text << in.rdbuf();
  result.output = text.str();
  return result;
}

class TxCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(testing::anvil_path())) {
      GTEST_SKIP() << "anvil not installed at " << testing::anvil_path();
    }
    dir_ =
        std::filesystem::temp_directory_path() / ("inferd-tx-crash-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    anvil_ = std::make_unique<testing::AnvilProcess>(std::vector<std::string>{"--block-time", "1"});
    ASSERT_TRUE(anvil_->started());
    RpcClientOptions rpc_options;
    rpc_options.urls = {anvil_->url()};
    rpc_options.attempt_timeout = std::chrono::milliseconds(2000);
    rpc_options.initial_backoff = std::chrono::milliseconds(10);
    rpc_ = std::make_unique<RpcClient>(http_, rpc_options, metrics_);
    ASSERT_TRUE(testing::wait_until_responding(io_, *rpc_))
        << "anvil did not respond on " << anvil_->url();
  }

  void TearDown() override {
    if (!dir_.empty()) {
      std::filesystem::remove_all(dir_);
    }
  }

  core::U256 nonce_on_chain(const char* block) {
    const json count =
        testing::run(io_, rpc_->call("eth_getTransactionCount", {std::string(kSender), block}));
    return core::U256::from_hex(count.get<std::string>()).value();
  }

  std::optional<JournalEntry> journalled(const std::string& purpose) {
    SqliteTxJournal journal(dir_ / "tx_journal.db");
    return testing::run(io_, journal.find(purpose));
  }

  // anvil's first default account, the probe's sender.
  static constexpr const char* kSender = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

  std::filesystem::path dir_;
  asio::io_context io_;
  infra::HttpClient http_{io_.get_executor()};
  infra::metrics::Registry metrics_;
  std::unique_ptr<testing::AnvilProcess> anvil_;
  std::unique_ptr<RpcClient> rpc_;
};

TEST_F(TxCrashTest, KilledBeforeBroadcastSendsOnce) {
  const std::filesystem::path journal = dir_ / "tx_journal.db";
  const core::U256 first_nonce = nonce_on_chain("pending");

  const ProbeResult crashed = run_probe("crash", anvil_->url(), journal, dir_ / "crash.out");
  ASSERT_TRUE(WIFSIGNALED(crashed.status)) << crashed.output;
  ASSERT_TRUE(WTERMSIG(crashed.status) == SIGKILL)
      << "the probe should die by SIGKILL at the journal hook; status " << crashed.status
      << ", output: " << crashed.output;
  EXPECT_EQ(nonce_on_chain("pending").to_dec(), first_nonce.to_dec())
      << "nothing was broadcast before the kill";

  const std::optional<JournalEntry> entry = journalled("p1");
  ASSERT_TRUE(entry) << "the signed transfer was committed before the kill";
  EXPECT_EQ(entry->status, JournalEntry::Status::kPending);
  EXPECT_EQ(entry->nonce.to_dec(), first_nonce.to_dec());
  EXPECT_FALSE(entry->raw.empty());
  EXPECT_GT(entry->max_fee, core::U256(0));
  const std::string journalled_hash = core::to_hex(entry->hash.view());

  const ProbeResult resumed = run_probe("resume", anvil_->url(), journal, dir_ / "resume.out");
  ASSERT_TRUE(WIFEXITED(resumed.status)) << resumed.output;
  ASSERT_TRUE(WEXITSTATUS(resumed.status) == 0)
      << "status " << resumed.status << ", output: " << resumed.output;
  EXPECT_EQ(resumed.output, "mined " + journalled_hash + " nonce " + first_nonce.to_dec() + "\n")
      << "the restart re-broadcast the journalled bytes instead of signing a new transaction";
  EXPECT_EQ(nonce_on_chain("latest").to_dec(), (first_nonce + core::U256(1)).to_dec())
      << "the sender sent exactly one transaction";
  json params = json::array({journalled_hash});
  const json on_chain = testing::run(io_, rpc_->call("eth_getTransactionByHash", params));
  ASSERT_TRUE(on_chain.is_object()) << "the journalled hash is not on chain";
  EXPECT_TRUE(on_chain["blockNumber"].is_string()) << on_chain.dump();
  EXPECT_EQ(on_chain["nonce"], first_nonce.to_hex());
  const std::optional<JournalEntry> mined = journalled("p1");
  ASSERT_TRUE(mined);
  EXPECT_EQ(mined->status, JournalEntry::Status::kMined);

  // A further send for the same purpose watches the mined transaction and signs nothing.
  const ProbeResult again = run_probe("resume", anvil_->url(), journal, dir_ / "again.out");
  ASSERT_TRUE(WIFEXITED(again.status)) << again.output;
  ASSERT_TRUE(WEXITSTATUS(again.status) == 0)
      << "status " << again.status << ", output: " << again.output;
  EXPECT_EQ(again.output, resumed.output);
  EXPECT_EQ(nonce_on_chain("pending").to_dec(), (first_nonce + core::U256(1)).to_dec())
      << "the second send for p1 created no transaction";
  const json balance = testing::run(
      io_, rpc_->call("eth_getBalance", {std::string("0x3535353535353535353535353535353535353535"),
                                         std::string("latest")}));
  EXPECT_EQ(balance, "0x63") << "99 wei arrived once";
}

}  // namespace
}  // namespace inferd::chain

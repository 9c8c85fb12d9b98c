// The SQLite transaction journal on its own: rows, replacement, pending filter, reopening.
#include "chain/sqlite_tx_journal.hpp"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "chain/test_anvil.hpp"

namespace inferd::chain {
namespace {

class SqliteTxJournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("inferd-sqlite-tx-journal-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static JournalEntry entry(const std::string& purpose, std::uint64_t nonce, std::uint8_t fill,
                            JournalEntry::Status status = JournalEntry::Status::kPending) {
    JournalEntry out;
    out.purpose = purpose;
    out.nonce = core::U256(nonce);
    out.hash.bytes.fill(fill);
    out.raw = core::Bytes{0x02, fill, fill};
    out.status = status;
    out.max_fee = core::U256(3000000000ULL);
    out.priority_fee = core::U256(1000000000ULL);
    return out;
  }

  void record(SqliteTxJournal& journal, JournalEntry value) {
    testing::run(io_, [](SqliteTxJournal& j, JournalEntry e) -> Awaitable<bool> {
      co_await j.record(std::move(e));
      co_return true;
    }(journal, std::move(value)));
  }

  std::filesystem::path dir_;
  asio::io_context io_;
};

TEST_F(SqliteTxJournalTest, EntriesSurviveReopening) {
  const std::filesystem::path path = dir_ / "journal.db";
  {
    SqliteTxJournal journal(path);
    record(journal, entry("deliver sub=5 interval=2", 7, 0xab));
  }
  SqliteTxJournal reopened(path);
  const auto found = testing::run(io_, reopened.find("deliver sub=5 interval=2"));
  ASSERT_TRUE(found);
  const JournalEntry expected = entry("deliver sub=5 interval=2", 7, 0xab);
  EXPECT_EQ(found->purpose, expected.purpose);
  EXPECT_EQ(found->nonce, expected.nonce);
  EXPECT_EQ(found->hash, expected.hash);
  EXPECT_EQ(found->raw, expected.raw);
  EXPECT_EQ(found->max_fee, expected.max_fee);
  EXPECT_EQ(found->priority_fee, expected.priority_fee);
  EXPECT_EQ(found->status, JournalEntry::Status::kPending);
  EXPECT_FALSE(testing::run(io_, reopened.find("deliver sub=5 interval=3")));
}

TEST_F(SqliteTxJournalTest, RecordReplacesAndPendingSkipsMined) {
  SqliteTxJournal journal(dir_ / "journal.db");
  record(journal, entry("a", 1, 0x01));
  record(journal, entry("b", 2, 0x02));
  record(journal, entry("a", 1, 0x11));  // a fee bump of "a"
  record(journal, entry("b", 2, 0x02, JournalEntry::Status::kMined));

  const auto pending = testing::run(io_, journal.pending());
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].purpose, "a");
  EXPECT_EQ(pending[0].hash, entry("a", 1, 0x11).hash) << "the latest signed version is kept";
  const auto mined = testing::run(io_, journal.find("b"));
  ASSERT_TRUE(mined);
  EXPECT_EQ(mined->status, JournalEntry::Status::kMined);
}

TEST_F(SqliteTxJournalTest, UnwritablePathNamedInError) {
  const std::filesystem::path path = dir_ / "missing-dir" / "journal.db";
  try {
    SqliteTxJournal journal(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find(path.string()), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace inferd::chain

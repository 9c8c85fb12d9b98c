#include "api/recent_jobs.hpp"

#include <gtest/gtest.h>

namespace inferd::api {
namespace {

store::JobRecord job(std::string id, std::string owner, std::int64_t expires_at_ms = 0) {
  store::JobRecord record;
  record.id = std::move(id);
  record.owner = std::move(owner);
  record.expires_at_ms = expires_at_ms;
  return record;
}

TEST(RecentJobs, FindsOnlyOwnersUnexpiredJobs) {
  RecentJobs recent(10);
  recent.put(job("a", "1.1.1.1"));
  recent.put(job("b", "1.1.1.1", 1000));

  EXPECT_TRUE(recent.find("1.1.1.1", "a", 5000));
  EXPECT_FALSE(recent.find("2.2.2.2", "a", 5000));
  EXPECT_TRUE(recent.find("1.1.1.1", "b", 999));
  EXPECT_FALSE(recent.find("1.1.1.1", "b", 1000));
  EXPECT_FALSE(recent.find("1.1.1.1", "missing", 0));
}

TEST(RecentJobs, UpdatesInPlaceAndEvictsOldest) {
  RecentJobs recent(2);
  recent.put(job("a", "o"));
  auto updated = job("a", "o");
  updated.status = store::JobStatus::kSuccess;
  recent.put(updated);
  EXPECT_EQ(recent.find("o", "a", 0)->status, store::JobStatus::kSuccess);

  recent.put(job("b", "o"));
  recent.put(job("c", "o"));
  EXPECT_FALSE(recent.find("o", "a", 0));
  EXPECT_TRUE(recent.find("o", "b", 0));
  EXPECT_TRUE(recent.find("o", "c", 0));
}

TEST(RecentJobs, EraseForgetsJob) {
  RecentJobs recent(4);
  recent.put(job("a", "o"));
  recent.erase("a");
  EXPECT_FALSE(recent.find("o", "a", 0));
  for (int i = 0; i < 20; ++i)
    recent.put(job("x" + std::to_string(i), "o"));
  EXPECT_TRUE(recent.find("o", "x19", 0));
  EXPECT_FALSE(recent.find("o", "x15", 0));
}

}  // namespace
}  // namespace inferd::api

#include "chain/processor.hpp"

#include <gtest/gtest.h>

namespace inferd::chain {
namespace {

namespace infernet = core::infernet;

TEST(ContainerLookup, FindsEveryOrderedSelection) {
  ContainerLookup lookup({"a", "b", "c"});
  // 3 + 3*2 + 3*2*1 ordered selections of distinct ids.
  EXPECT_EQ(lookup.size(), 15u);
  EXPECT_EQ(lookup.max_length(), 3u);
  const auto* found = lookup.find(infernet::container_set_id({"c", "a"}));
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(*found, (std::vector<std::string>{"c", "a"}));
  EXPECT_EQ(lookup.find(infernet::container_set_id({"a", "a"})), nullptr);
  EXPECT_EQ(lookup.find(infernet::container_set_id({"d"})), nullptr);
}

TEST(ContainerLookup, StopsBeforeTheTableExceedsItsBound) {
  ContainerLookup lookup({"a", "b", "c", "d"}, 20);
  // Lengths 1 (4) and 2 (12) fit; length 3 would add 24 more.
  EXPECT_EQ(lookup.size(), 16u);
  EXPECT_EQ(lookup.max_length(), 2u);
  EXPECT_NE(lookup.find(infernet::container_set_id({"d", "b"})), nullptr);
  EXPECT_EQ(lookup.find(infernet::container_set_id({"a", "b", "c"})), nullptr);
}

}  // namespace
}  // namespace inferd::chain

#include "core/json_depth.hpp"

#include <string>

#include <gtest/gtest.h>

namespace inferd::core {
namespace {

TEST(JsonDepth, CountsArraysAndObjects) {
  EXPECT_EQ(json_nesting_depth("1", 10), 0u);
  EXPECT_EQ(json_nesting_depth("{}", 10), 1u);
  EXPECT_EQ(json_nesting_depth(R"({"a": [1, {"b": []}], "c": {}})", 10), 4u);
}

TEST(JsonDepth, IgnoresBracketsInStrings) {
  EXPECT_EQ(json_nesting_depth(R"({"a": "[[[[{{{{"})", 10), 1u);
  EXPECT_EQ(json_nesting_depth(R"({"a": "quote \" [[[ still string"})", 10), 1u);
  EXPECT_EQ(json_nesting_depth(R"(["\\", [1]])", 10), 2u);
}

TEST(JsonDepth, StopsPastLimit) {
  std::string deep(100000, '[');
  EXPECT_EQ(json_nesting_depth(deep, 512), 513u);
  std::string exact = std::string(512, '[') + std::string(512, ']');
  EXPECT_EQ(json_nesting_depth(exact, 512), 512u);
}

}  // namespace
}  // namespace inferd::core

#include "hello/hello.hpp"

#include <gtest/gtest.h>

namespace infernet::services {
namespace {

TEST(HelloOutput, QuotesEnvelopeInOrder) {
  auto output = hello_output(
      R"({"source": 1, "destination": 1, "data": {"hello": "world"}, "requires_proof": false})");
  EXPECT_EQ(output, nlohmann::json({{"output",
                                     "hello, world!, your input was: {'source': 1, "
                                     "'destination': 1, 'data': {'hello': 'world'}, "
                                     "'requires_proof': False}"}}));
}

}  // namespace
}  // namespace infernet::services

#include <gtest/gtest.h>

#include "llm/sse.hpp"

namespace infernet::services {
namespace {

TEST(SseParser, DataEventsInOneChunk) {
  SseParser parser;
  auto events = parser.feed("data: {\"a\":1}\n\ndata: [DONE]\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[1].data, "[DONE]");
  EXPECT_EQ(events[0].event, "");
}

TEST(SseParser, EventSplitAcrossChunks) {
  SseParser parser;
  EXPECT_TRUE(parser.feed("da").empty());
  EXPECT_TRUE(parser.feed("ta:{\"tok").empty());
  EXPECT_TRUE(parser.feed("en\":2}\n").empty());
  auto events = parser.feed("\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "{\"token\":2}");
}

TEST(SseParser, CrLfAndCrLineEndings) {
  SseParser parser;
  auto events = parser.feed("data: one\r\n\r\ndata: two\r\rdata: three\r");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "one");
  EXPECT_EQ(events[1].data, "two");
  // "\r" then "\n" in the next chunk is one line ending, so no blank line yet.
  EXPECT_TRUE(parser.feed("\n").empty());
  auto last = parser.feed("\n");
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].data, "three");
}

TEST(SseParser, MultiLineDataAndFields) {
  SseParser parser;
  auto events = parser.feed(": keep-alive comment\nevent: delta\nid: 7\ndata: a\ndata:b\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "delta");
  EXPECT_EQ(events[0].data, "a\nb");
}

TEST(SseParser, EventWithoutDataIsSkipped) {
  SseParser parser;
  auto events = parser.feed("event: ping\n\ndata: x\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "");
  EXPECT_EQ(events[0].data, "x");
}

TEST(SseParser, OverlongLineThrows) {
  SseParser parser;
  std::string line(SseParser::kMaxLineBytes + 1, 'x');
  EXPECT_THROW(parser.feed(line), std::length_error);
}

}  // namespace
}  // namespace infernet::services

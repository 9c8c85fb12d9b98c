// Incremental parser for server-sent events (the text/event-stream format of the HTML Living
// Standard), which OpenAI-style APIs and TGI use to stream generated text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace infernet::services {

/// One dispatched event: the `event` field (empty when absent) and the `data` lines joined by
/// "\n".
struct SseEvent {
  std::string event;
  std::string data;
};

/// Splits a byte stream into events. Lines end in "\n", "\r\n" or "\r", and a blank line
/// dispatches the event. Lines starting with ':' are comments, and one space after a field's
/// colon is dropped. Fields other than `data` and `event` are ignored, and an event without
/// `data` is not dispatched. Not thread-safe.
class SseParser {
 public:
  /// Longest line accepted, in bytes; a longer one makes feed() throw std::length_error.
  static constexpr std::size_t kMaxLineBytes = 4 * 1024 * 1024;

  /// Consumes the next piece of the stream and returns the events it completed. An event whose
  /// blank line has not arrived yet stays buffered for the next call.
  std::vector<SseEvent> feed(std::string_view bytes);

 private:
  void take_line(std::string_view line, std::vector<SseEvent>& events);

  std::string line_;
  bool after_cr_ = false;
  std::string event_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace infernet::services

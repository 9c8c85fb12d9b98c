#include "llm/sse.hpp"

#include <stdexcept>

namespace infernet::services {

std::vector<SseEvent> SseParser::feed(std::string_view bytes) {
  std::vector<SseEvent> events;
  for (char c : bytes) {
    // "\r\n" is one line ending: the "\n" after a "\r" was already handled.
    if (after_cr_ && c == '\n') {
      after_cr_ = false;
      continue;
    }
    after_cr_ = false;

    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      take_line(line_, events);
      line_.clear();
      continue;
    }

    if (line_.size() >= kMaxLineBytes) {
      throw std::length_error("server-sent event line longer than " +
                              std::to_string(kMaxLineBytes) + " bytes");
    }
    line_.push_back(c);
  }
  return events;
}

void SseParser::take_line(std::string_view line, std::vector<SseEvent>& events) {
  if (line.empty()) {
    if (has_data_)
      events.push_back({std::move(event_), std::move(data_)});
    event_.clear();
    data_.clear();
    has_data_ = false;
    return;
  }
  if (line.front() == ':')
    return;

  std::string_view field = line;
  std::string_view value;
  if (auto colon = line.find(':'); colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
  }

  if (field == "data") {
    if (has_data_)
      data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  }
}

}  // namespace infernet::services

// JSON parsing that keeps integers too large for 64 bits exact.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace inferd::infra {

/// A SAX handler for nlohmann::json::sax_parse that builds the document like json::parse, except
/// that an integer literal beyond uint64 (which json::parse turns into a double) is stored as a
/// `binary` value holding its decimal digits. Readers accept it where an integer is expected.
class ExactJsonBuilder {
 public:
  nlohmann::json root;
  std::size_t error_position = 0;
  std::string error_text;

  bool null() { return put(nullptr); }
  bool boolean(bool value) { return put(value); }
  bool number_integer(nlohmann::json::number_integer_t value) { return put(value); }
  bool number_unsigned(nlohmann::json::number_unsigned_t value) { return put(value); }
  bool number_float(nlohmann::json::number_float_t value, const std::string& literal) {
    bool integral = !literal.empty() && literal.find_first_of(".eE") == std::string::npos;
    if (integral) {
      return put(nlohmann::json::binary(
          nlohmann::json::binary_t::container_type(literal.begin(), literal.end())));
    }
    return put(value);
  }
  bool string(std::string& value) { return put(std::move(value)); }
  bool binary(nlohmann::json::binary_t& value) { return put(nlohmann::json::binary(value)); }

  bool start_object(std::size_t) { return open(nlohmann::json::object()); }
  bool key(std::string& name) {
    key_ = name;
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) { return open(nlohmann::json::array()); }
  bool end_array() {
    stack_.pop_back();
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& error) {
    error_position = position;
    error_text = error.what();
    return false;
  }

 private:
  nlohmann::json* place(nlohmann::json value) {
    if (stack_.empty()) {
      root = std::move(value);
      return &root;
    }
    nlohmann::json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    // A repeated key keeps the last value, like Python's nlohmann::json module.
    nlohmann::json& slot = parent[key_];
    slot = std::move(value);
    return &slot;
  }
  bool put(nlohmann::json value) {
    place(std::move(value));
    return true;
  }
  bool open(nlohmann::json value) {
    stack_.push_back(place(std::move(value)));
    return true;
  }

  std::vector<nlohmann::json*> stack_;
  std::string key_;
};

}  // namespace inferd::infra

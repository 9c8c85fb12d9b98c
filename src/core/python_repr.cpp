#include "core/python_repr.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>

namespace inferd::core {
namespace {

// Decodes the UTF-8 sequence starting at `i` and advances `i` past it. The JSON parser has
// validated the text, so a malformed byte only needs a safe fallback: it is returned as-is.
std::uint32_t next_code_point(const std::string& text, std::size_t& i) {
  const auto byte = [&text](std::size_t at) { return static_cast<std::uint8_t>(text[at]); };
  const std::uint8_t lead = byte(i);
  std::size_t length = 1;
  std::uint32_t code_point = lead;
  if (lead >= 0xf0) {
    length = 4;
    code_point = lead & 0x07;
  } else if (lead >= 0xe0) {
    length = 3;
    code_point = lead & 0x0f;
  } else if (lead >= 0xc0) {
    length = 2;
    code_point = lead & 0x1f;
  }
  if (length == 1 || i + length > text.size()) {
    ++i;
    return lead;
  }
  for (std::size_t k = 1; k < length; ++k)
    code_point = (code_point << 6) | (byte(i + k) & 0x3f);
  i += length;
  return code_point;
}

// Whether Python's str.isprintable() is false for this non-ASCII code point: the other (C*) and
// separator (Z*) categories except the ASCII space, in the ranges that occur in practice.
bool non_printable(std::uint32_t c) {
  return (c >= 0x80 && c <= 0xa0) || c == 0xad || c == 0x061c || c == 0x1680 || c == 0x180e ||
         (c >= 0x2000 && c <= 0x200f) || (c >= 0x2028 && c <= 0x202f) ||
         (c >= 0x205f && c <= 0x2064) || (c >= 0x2066 && c <= 0x206f) || c == 0x3000 ||
         (c >= 0xd800 && c <= 0xf8ff) || c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb) ||
         c == 0xfffe || c == 0xffff || (c >= 0xf0000);
}

void append_escape(std::string& out, std::uint32_t c) {
  char buffer[16];
  if (c <= 0xff)
    std::snprintf(buffer, sizeof(buffer), "\\x%02x", static_cast<unsigned>(c));
  else if (c <= 0xffff)
    std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(c));
  else
    std::snprintf(buffer, sizeof(buffer), "\\U%08x", static_cast<unsigned>(c));
  out += buffer;
}

std::string float_repr(double value) {
  if (std::isnan(value))
    return "nan";
  if (std::isinf(value))
    return value > 0 ? "inf" : "-inf";
  // nlohmann prints the shortest round-trip digits like Python's repr, and writes exponents the
  // same way (1e+16, 1e-05). It also switches to exponent notation at the same points except one:
  // for a decimal exponent of exactly 15, Python still prints plain digits (1000000000000000.0).
  std::string text = nlohmann::ordered_json(value).dump();
  const auto exponent = text.find("e+15");
  if (exponent == std::string::npos)
    return text;

  std::string sign;
  std::string digits;
  for (std::size_t i = 0; i < exponent; ++i) {
    if (text[i] == '-')
      sign = "-";
    else if (text[i] != '.')
      digits += text[i];
  }
  constexpr std::size_t kIntegerDigits = 16;
  if (digits.size() <= kIntegerDigits)
    return sign + digits + std::string(kIntegerDigits - digits.size(), '0') + ".0";
  return sign + digits.substr(0, kIntegerDigits) + "." + digits.substr(kIntegerDigits);
}

void append_repr(std::string& out, const nlohmann::ordered_json& value) {
  switch (value.type()) {
    case nlohmann::ordered_json::value_t::null:
      out += "None";
      break;
    case nlohmann::ordered_json::value_t::boolean:
      out += value.get<bool>() ? "True" : "False";
      break;
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
      out += value.dump();
      break;
    case nlohmann::ordered_json::value_t::number_float:
      out += float_repr(value.get<double>());
      break;
    case nlohmann::ordered_json::value_t::string:
      out += python_string_repr(value.get_ref<const std::string&>());
      break;
    case nlohmann::ordered_json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value) {
        if (!first)
          out += ", ";
        first = false;
        append_repr(out, item);
      }
      out += ']';
      break;
    }
    case nlohmann::ordered_json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first)
          out += ", ";
        first = false;
        out += python_string_repr(key);
        out += ": ";
        append_repr(out, item);
      }
      out += '}';
      break;
    }
    case nlohmann::ordered_json::value_t::binary:
    case nlohmann::ordered_json::value_t::discarded:
      // Never produced by parsing JSON text.
      out += "None";
      break;
  }
}

}  // namespace

std::string python_string_repr(const std::string& utf8) {
  // Python quotes with ' unless the text contains ' and no ".
  const bool has_single = utf8.find('\'') != std::string::npos;
  const bool has_double = utf8.find('"') != std::string::npos;
  const char quote = has_single && !has_double ? '"' : '\'';

  std::string out;
  out.reserve(utf8.size() + 2);
  out += quote;
  for (std::size_t i = 0; i < utf8.size();) {
    const std::uint32_t c = next_code_point(utf8, i);
    if (c == static_cast<std::uint32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      append_escape(out, c);
    } else if (c < 0x7f) {
      out += static_cast<char>(c);
    } else if (non_printable(c)) {
      append_escape(out, c);
    } else {
      // Printable non-ASCII stays as the original UTF-8 bytes.
      std::size_t length = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      out.append(utf8, i - length, length);
    }
  }
  out += quote;
  return out;
}

std::string python_repr(const nlohmann::ordered_json& value) {
  std::string out;
  append_repr(out, value);
  return out;
}

}  // namespace inferd::core

#include "core/hex.hpp"

namespace inferd::core {

namespace {

constexpr char kDigits[] = "0123456789abcdef";

int digit_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string_view strip_hex_prefix(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  return text;
}

std::string to_hex(ByteView bytes, HexPrefix prefix) {
  std::string out;
  out.reserve(bytes.size() * 2 + 2);
  if (prefix == HexPrefix::kWith) {
    out += "0x";
  }
  for (std::uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0f];
  }
  return out;
}

Result<Bytes> from_hex(std::string_view text) {
  const std::size_t prefix_length = text.size() - strip_hex_prefix(text).size();
  const std::string_view digits = text.substr(prefix_length);
  if (digits.size() % 2 != 0) {
    return make_error(Errc::kOddLength, "hex string has an odd number of digits (" +
                                            std::to_string(digits.size()) + ")");
  }

  Bytes out;
  out.reserve(digits.size() / 2);
  for (std::size_t i = 0; i < digits.size(); i += 2) {
    const int high = digit_value(digits[i]);
    const int low = digit_value(digits[i + 1]);
    if (high < 0 || low < 0) {
      const std::size_t bad = prefix_length + i + (high < 0 ? 0 : 1);
      return make_error(Errc::kInvalidHex, "invalid hex digit at position " + std::to_string(bad));
    }
    out.push_back(static_cast<std::uint8_t>((high << 4) | low));
  }
  return out;
}

}  // namespace inferd::core

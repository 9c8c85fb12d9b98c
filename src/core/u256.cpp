#include "core/u256.hpp"

#include <algorithm>

#include "core/hex.hpp"

namespace inferd::core {

namespace {

int hex_digit_value(char c) {
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

// A quoted copy of user text for messages, shortened so a huge input cannot flood a log.
std::string quote(std::string_view text) {
  constexpr std::size_t kMaxShown = 80;
  if (text.size() > kMaxShown) {
    return "\"" + std::string(text.substr(0, kMaxShown)) + "…\"";
  }
  return "\"" + std::string(text) + "\"";
}

}  // namespace

Result<U256> U256::from_dec(std::string_view text) {
  if (text.empty()) {
    return make_error(Errc::kInvalidNumber, "empty decimal number");
  }
  // Work in 512 bits so that one multiply-add step past 2^256-1 is still detected exactly.
  using Wide = boost::multiprecision::uint512_t;
  const Wide limit = Wide(~Native(0));
  Wide value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return make_error(Errc::kInvalidNumber, "invalid decimal number " + quote(text));
    }
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > limit) {
      return make_error(Errc::kOverflow, "decimal number " + quote(text) + " exceeds 2^256-1");
    }
  }
  return U256(static_cast<Native>(value));
}

Result<U256> U256::from_hex(std::string_view text) {
  std::string_view digits = strip_hex_prefix(text);
  if (digits.empty()) {
    return make_error(Errc::kInvalidNumber, "hex number " + quote(text) + " has no digits");
  }
  Native value = 0;
  std::size_t significant = 0;
  for (char c : digits) {
    const int d = hex_digit_value(c);
    if (d < 0) {
      return make_error(Errc::kInvalidNumber, "invalid hex number " + quote(text));
    }
    if (significant > 0 || d != 0) {
      ++significant;
    }
    if (significant > 64) {
      return make_error(Errc::kOverflow, "hex number " + quote(text) + " exceeds 2^256-1");
    }
    value = (value << 4) | static_cast<unsigned>(d);
  }
  return U256(value);
}

Result<U256> U256::parse(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    return from_hex(text);
  }
  return from_dec(text);
}

Result<U256> U256::from_be_bytes(ByteView bytes) {
  if (bytes.size() > 32) {
    return make_error(Errc::kOverflow, "a 256-bit integer has at most 32 bytes, got " +
                                           std::to_string(bytes.size()));
  }
  Native value = 0;
  for (std::uint8_t b : bytes) {
    value = (value << 8) | b;
  }
  return U256(value);
}

U256 U256::from_word(const Bytes32& word) {
  Native value = 0;
  for (std::uint8_t b : word.bytes) {
    value = (value << 8) | b;
  }
  return U256(value);
}

Bytes32 U256::to_word() const {
  Bytes32 out;
  Native v = value_;
  for (int i = 31; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
  return out;
}

Bytes U256::to_minimal_be_bytes() const {
  const Bytes32 word = to_word();
  auto first =
      std::find_if(word.bytes.begin(), word.bytes.end(), [](std::uint8_t b) { return b != 0; });
  return Bytes(first, word.bytes.end());
}

std::string U256::to_dec() const {
  return value_.str();
}

std::string U256::to_hex() const {
  if (is_zero()) {
    return "0x0";
  }
  std::string digits = core::to_hex(to_minimal_be_bytes(), HexPrefix::kWithout);
  if (digits[0] == '0') {
    digits.erase(0, 1);
  }
  return "0x" + digits;
}

unsigned U256::bit_length() const {
  return is_zero() ? 0 : static_cast<unsigned>(boost::multiprecision::msb(value_)) + 1;
}

std::uint64_t U256::low_u64() const {
  return static_cast<std::uint64_t>(value_ & Native(0xffffffffffffffffULL));
}

bool U256::bit(unsigned i) const {
  return i < 256 && boost::multiprecision::bit_test(value_, i);
}

std::optional<U256> checked_add(const U256& a, const U256& b) {
  const U256 sum = a + b;
  if (sum < a) {
    return std::nullopt;
  }
  return sum;
}

std::optional<U256> checked_sub(const U256& a, const U256& b) {
  if (b > a) {
    return std::nullopt;
  }
  return a - b;
}

std::optional<U256> checked_mul(const U256& a, const U256& b) {
  if (a.is_zero() || b.is_zero()) {
    return U256();
  }
  if (a.bit_length() + b.bit_length() > 257) {
    return std::nullopt;
  }
  const U256 product = a * b;
  if (product / b != a) {
    return std::nullopt;
  }
  return product;
}

std::optional<U256> checked_div(const U256& a, const U256& b) {
  if (b.is_zero()) {
    return std::nullopt;
  }
  return a / b;
}

U256 from_signed(std::int64_t value) {
  if (value >= 0) {
    return U256(static_cast<std::uint64_t>(value));
  }
  // Two's complement: -x == ~(x - 1), computed without overflowing INT64_MIN.
  const std::uint64_t magnitude = static_cast<std::uint64_t>(-(value + 1)) + 1;
  return U256() - U256(magnitude);
}

std::string to_signed_dec(const U256& word) {
  if (!is_negative(word)) {
    return word.to_dec();
  }
  return "-" + (U256() - word).to_dec();
}

}  // namespace inferd::core

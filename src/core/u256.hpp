// 256-bit unsigned integers for EVM words, wei amounts, gas and nonces. No floating point.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/multiprecision/cpp_int.hpp>

#include "core/bytes.hpp"
#include "core/result.hpp"

namespace inferd::core {

/// An unsigned 256-bit integer. The operators wrap modulo 2^256 like EVM arithmetic, and division
/// or remainder by zero returns 0 (the EVM's DIV/MOD rule). For amounts that must not wrap use
/// the checked_* functions. Backed by Boost.Multiprecision's fixed-width cpp_int.
class U256 {
 public:
  using Native = boost::multiprecision::uint256_t;

  constexpr U256() = default;
  U256(std::uint64_t value) : value_(value) {}  // NOLINT: implicit, like a built-in integer
  explicit U256(const Native& value) : value_(value) {}

  static U256 max() { return U256(~Native(0)); }

  /// Parses decimal digits only ("0", "1000000"). No sign, no spaces, no prefix. Fails with
  /// kInvalidNumber on an empty string or a non-digit, kOverflow above 2^256-1.
  static Result<U256> from_dec(std::string_view text);

  /// Parses hex digits with or without "0x", 1 to 64 significant digits, any case. Leading zeros
  /// are allowed. Fails with kInvalidNumber or kOverflow.
  static Result<U256> from_hex(std::string_view text);

  /// Parses "0x…" as hex and anything else as decimal.
  static Result<U256> parse(std::string_view text);

  /// Interprets up to 32 big-endian bytes (fewer are left-padded with zeros).
  static Result<U256> from_be_bytes(ByteView bytes);

  /// Interprets a 32-byte big-endian word.
  static U256 from_word(const Bytes32& word);

  /// Returns the value as a 32-byte big-endian word.
  Bytes32 to_word() const;

  /// Returns the big-endian bytes without leading zeros (empty for zero), as RLP wants them.
  Bytes to_minimal_be_bytes() const;

  /// Decimal text without leading zeros.
  std::string to_dec() const;

  /// "0x"-prefixed lowercase hex without leading zeros ("0x0" for zero): the JSON-RPC QUANTITY
  /// encoding.
  std::string to_hex() const;

  bool is_zero() const { return value_.is_zero(); }

  /// Number of significant bits (0 for zero).
  unsigned bit_length() const;

  /// Whether the value fits in 64 bits.
  bool fits_u64() const { return bit_length() <= 64; }

  /// The low 64 bits.
  std::uint64_t low_u64() const;

  /// Bit i (0 = least significant).
  bool bit(unsigned i) const;

  const Native& native() const { return value_; }

  friend U256 operator+(const U256& a, const U256& b) { return U256(Native(a.value_ + b.value_)); }
  friend U256 operator-(const U256& a, const U256& b) { return U256(Native(a.value_ - b.value_)); }
  friend U256 operator*(const U256& a, const U256& b) { return U256(Native(a.value_ * b.value_)); }
  friend U256 operator/(const U256& a, const U256& b) {
    return b.is_zero() ? U256() : U256(Native(a.value_ / b.value_));
  }
  friend U256 operator%(const U256& a, const U256& b) {
    return b.is_zero() ? U256() : U256(Native(a.value_ % b.value_));
  }
  friend U256 operator&(const U256& a, const U256& b) { return U256(Native(a.value_ & b.value_)); }
  friend U256 operator|(const U256& a, const U256& b) { return U256(Native(a.value_ | b.value_)); }
  friend U256 operator^(const U256& a, const U256& b) { return U256(Native(a.value_ ^ b.value_)); }
  friend U256 operator~(const U256& a) { return U256(Native(~a.value_)); }
  /// Shifts by 256 or more give 0.
  friend U256 operator<<(const U256& a, unsigned shift) {
    return shift >= 256 ? U256() : U256(Native(a.value_ << shift));
  }
  friend U256 operator>>(const U256& a, unsigned shift) {
    return shift >= 256 ? U256() : U256(Native(a.value_ >> shift));
  }
  U256& operator+=(const U256& b) { return *this = *this + b; }
  U256& operator-=(const U256& b) { return *this = *this - b; }
  U256& operator*=(const U256& b) { return *this = *this * b; }
  U256& operator/=(const U256& b) { return *this = *this / b; }

  friend bool operator==(const U256& a, const U256& b) { return a.value_ == b.value_; }
  friend std::strong_ordering operator<=>(const U256& a, const U256& b) {
    const int c = a.value_.compare(b.value_);
    return c < 0 ? std::strong_ordering::less
                 : (c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal);
  }

 private:
  Native value_{0};
};

/// a + b, or nullopt when the sum exceeds 2^256-1.
std::optional<U256> checked_add(const U256& a, const U256& b);
/// a - b, or nullopt when b > a.
std::optional<U256> checked_sub(const U256& a, const U256& b);
/// a * b, or nullopt when the product exceeds 2^256-1.
std::optional<U256> checked_mul(const U256& a, const U256& b);
/// a / b, or nullopt when b is zero.
std::optional<U256> checked_div(const U256& a, const U256& b);

/// Reinterprets a two's-complement 256-bit word as a signed value and widens a signed 64-bit
/// integer into that form (int<N> values in the ABI codec are carried this way).
U256 from_signed(std::int64_t value);

/// Whether the two's-complement word is negative (bit 255 set).
inline bool is_negative(const U256& word) {
  return word.bit(255);
}

/// Decimal text of a two's-complement word read as a signed 256-bit integer ("-1" for 2^256-1).
std::string to_signed_dec(const U256& word);

}  // namespace inferd::core

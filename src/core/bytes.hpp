// Byte strings: an owning vector, a non-owning view and fixed-size arrays such as Bytes32.
#pragma once

#include <algorithm>
#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace inferd::core {

/// An owned byte string.
using Bytes = std::vector<std::uint8_t>;

/// A read-only view of bytes owned elsewhere; the owner must outlive the view.
using ByteView = std::span<const std::uint8_t>;

/// Views the characters of a string as bytes (no copy).
inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

/// Copies a view into an owned byte string.
inline Bytes to_bytes(ByteView view) {
  return Bytes(view.begin(), view.end());
}

/// Copies bytes into a std::string (for text carried in `bytes` or `string` values).
inline std::string to_string(ByteView view) {
  return std::string(view.begin(), view.end());
}

/// Appends `tail` to `out`.
inline void append(Bytes& out, ByteView tail) {
  out.insert(out.end(), tail.begin(), tail.end());
}

/// Exactly N bytes, zero-initialised. Compared and ordered bytewise.
template <std::size_t N>
struct FixedBytes {
  static constexpr std::size_t kSize = N;

  std::array<std::uint8_t, N> bytes{};

  /// Copies exactly N bytes; fails with kInvalidLength for any other size.
  static Result<FixedBytes> from_view(ByteView view) {
    if (view.size() != N) {
      return make_error(Errc::kInvalidLength, "expected " + std::to_string(N) + " bytes, got " +
                                                  std::to_string(view.size()));
    }
    FixedBytes out;
    std::copy(view.begin(), view.end(), out.bytes.begin());
    return out;
  }

  ByteView view() const { return {bytes.data(), N}; }
  const std::uint8_t* data() const { return bytes.data(); }
  std::uint8_t* data() { return bytes.data(); }
  static constexpr std::size_t size() { return N; }
  std::uint8_t operator[](std::size_t i) const { return bytes[i]; }
  std::uint8_t& operator[](std::size_t i) { return bytes[i]; }
  bool is_zero() const {
    return std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; });
  }

  friend auto operator<=>(const FixedBytes&, const FixedBytes&) = default;
  friend bool operator==(const FixedBytes&, const FixedBytes&) = default;
};

/// A 32-byte word: hashes, storage keys, EIP-712 struct hashes.
using Bytes32 = FixedBytes<32>;

/// A 4-byte function selector or custom-error selector.
using Selector = FixedBytes<4>;

}  // namespace inferd::core

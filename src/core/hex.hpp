// Hexadecimal text <-> bytes.
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/result.hpp"

namespace inferd::core {

/// Whether encoded hex text starts with "0x".
enum class HexPrefix { kWith, kWithout };

/// Encodes bytes as lowercase hex, by default with a "0x" prefix ("0x" alone for no bytes).
std::string to_hex(ByteView bytes, HexPrefix prefix = HexPrefix::kWith);

/// Decodes hex text with or without a "0x"/"0X" prefix, in any letter case. The empty string and
/// a bare "0x" decode to no bytes. Fails with kOddLength for an odd number of digits and with
/// kInvalidHex (naming the position) for any other character.
Result<Bytes> from_hex(std::string_view text);

/// Decodes hex text into exactly N bytes; fails with kInvalidLength for another size.
template <std::size_t N>
Result<FixedBytes<N>> fixed_from_hex(std::string_view text) {
  auto bytes = from_hex(text);
  if (!bytes) {
    return bytes.error();
  }
  return FixedBytes<N>::from_view(*bytes);
}

/// Returns `text` without a leading "0x" or "0X".
std::string_view strip_hex_prefix(std::string_view text);

}  // namespace inferd::core

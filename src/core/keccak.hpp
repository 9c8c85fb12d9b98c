// Keccak-256 as Ethereum uses it (the original Keccak padding, not FIPS-202 SHA3-256).
#pragma once

#include "core/bytes.hpp"

namespace inferd::core {

/// Returns keccak256(data) computed with Crypto++'s Keccak_256. Thread-safe.
Bytes32 keccak256(ByteView data);

/// Returns keccak256 of the UTF-8 bytes of `text`.
inline Bytes32 keccak256(std::string_view text) {
  return keccak256(as_bytes(text));
}

}  // namespace inferd::core

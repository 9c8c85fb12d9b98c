// Recursive Length Prefix encoding (Ethereum Yellow Paper, appendix B).
#pragma once

#include <cstddef>
#include <vector>

#include "core/bytes.hpp"
#include "core/result.hpp"
#include "core/u256.hpp"

namespace inferd::core::rlp {

/// Maximum list nesting accepted by decode(), so hostile input cannot exhaust the stack.
inline constexpr std::size_t kMaxDepth = 64;

/// Encodes a byte string item.
Bytes encode_bytes(ByteView bytes);

/// Encodes an unsigned integer as its minimal big-endian bytes (zero is the empty string).
Bytes encode_uint(const U256& value);

/// Wraps already-encoded items into a list item.
Bytes encode_list(const std::vector<Bytes>& encoded_items);

/// A decoded item: a byte string or a list of items.
struct Item {
  bool is_list = false;
  Bytes bytes;              ///< the string's bytes, when !is_list
  std::vector<Item> items;  ///< the members, when is_list
};

/// Decodes exactly one item spanning all of `data`. Rejects non-canonical encodings (a single
/// byte below 0x80 in a string header, a long form for a length below 56, length bytes with a
/// leading zero), items that run past the end, trailing bytes, and nesting beyond kMaxDepth,
/// all with kRlpMalformed.
Result<Item> decode(ByteView data);

/// Reads a string item as an unsigned integer: at most 32 bytes, no leading zero byte.
Result<U256> decode_uint(const Item& item);

}  // namespace inferd::core::rlp

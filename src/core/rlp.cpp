#include "core/rlp.hpp"

namespace inferd::core::rlp {

namespace {

// Header of an item with `length` payload bytes: short form `offset + length` below 56 bytes,
// otherwise `offset + 55 + size of length` followed by the big-endian length.
Bytes header(std::size_t length, std::uint8_t offset) {
  if (length < 56) {
    return Bytes{static_cast<std::uint8_t>(offset + length)};
  }
  const Bytes length_bytes = U256(length).to_minimal_be_bytes();
  Bytes out{static_cast<std::uint8_t>(offset + 55 + length_bytes.size())};
  append(out, length_bytes);
  return out;
}

Error malformed(const std::string& what, std::size_t position) {
  return make_error(Errc::kRlpMalformed,
                    "malformed RLP at byte " + std::to_string(position) + ": " + what);
}

struct Span {
  std::size_t payload_start;
  std::size_t payload_length;
  bool is_list;
};

// Reads the header at `position` within `data` and checks the payload fits.
Result<Span> read_header(ByteView data, std::size_t position) {
  if (position >= data.size()) {
    return malformed("missing item", position);
  }
  const std::uint8_t prefix = data[position];
  const std::size_t remaining = data.size() - position - 1;

  if (prefix < 0x80) {
    return Span{position, 1, false};
  }

  const bool is_list = prefix >= 0xc0;
  const std::uint8_t base = is_list ? 0xc0 : 0x80;
  const std::size_t short_length = static_cast<std::size_t>(prefix - base);

  if (short_length <= 55) {
    if (short_length > remaining) {
      return malformed("item length " + std::to_string(short_length) + " runs past the end",
                       position);
    }
    if (!is_list && short_length == 1 && data[position + 1] < 0x80) {
      return malformed("single byte below 0x80 must be encoded as itself", position);
    }
    return Span{position + 1, short_length, is_list};
  }

  const std::size_t length_size = short_length - 55;
  if (length_size > remaining) {
    return malformed("length bytes run past the end", position);
  }
  if (data[position + 1] == 0) {
    return malformed("length with a leading zero byte", position);
  }
  if (length_size > sizeof(std::size_t)) {
    return malformed("length does not fit in memory", position);
  }
  std::size_t length = 0;
  for (std::size_t i = 0; i < length_size; ++i) {
    length = (length << 8) | data[position + 1 + i];
  }
  if (length < 56) {
    return malformed("long form used for a length below 56", position);
  }
  if (length > remaining - length_size) {
    return malformed("item length " + std::to_string(length) + " runs past the end", position);
  }
  return Span{position + 1 + length_size, length, is_list};
}

Result<Item> decode_at(ByteView data, std::size_t position, std::size_t end, std::size_t depth,
                       std::size_t& next) {
  auto span = read_header(data.first(end), position);
  if (!span) {
    return span.error();
  }
  Item item;
  item.is_list = span->is_list;
  next = span->payload_start + span->payload_length;
  if (!span->is_list) {
    const ByteView payload = data.subspan(span->payload_start, span->payload_length);
    item.bytes.assign(payload.begin(), payload.end());
    return item;
  }
  if (depth >= kMaxDepth) {
    return malformed("lists nest deeper than " + std::to_string(kMaxDepth), position);
  }
  std::size_t cursor = span->payload_start;
  while (cursor < next) {
    std::size_t after = 0;
    auto child = decode_at(data, cursor, next, depth + 1, after);
    if (!child) {
      return child;
    }
    item.items.push_back(std::move(*child));
    cursor = after;
  }
  return item;
}

}  // namespace

Bytes encode_bytes(ByteView bytes) {
  if (bytes.size() == 1 && bytes[0] < 0x80) {
    return Bytes{bytes[0]};
  }
  Bytes out = header(bytes.size(), 0x80);
  append(out, bytes);
  return out;
}

Bytes encode_uint(const U256& value) {
  return encode_bytes(value.to_minimal_be_bytes());
}

Bytes encode_list(const std::vector<Bytes>& encoded_items) {
  std::size_t length = 0;
  for (const Bytes& item : encoded_items) {
    length += item.size();
  }
  Bytes out = header(length, 0xc0);
  out.reserve(out.size() + length);
  for (const Bytes& item : encoded_items) {
    append(out, item);
  }
  return out;
}

Result<Item> decode(ByteView data) {
  std::size_t next = 0;
  auto item = decode_at(data, 0, data.size(), 0, next);
  if (!item) {
    return item;
  }
  if (next != data.size()) {
    return malformed(std::to_string(data.size() - next) + " trailing bytes after the item", next);
  }
  return item;
}

Result<U256> decode_uint(const Item& item) {
  if (item.is_list) {
    return make_error(Errc::kRlpMalformed, "expected an integer, got a list");
  }
  if (!item.bytes.empty() && item.bytes[0] == 0) {
    return make_error(Errc::kRlpMalformed, "integer with a leading zero byte");
  }
  auto value = U256::from_be_bytes(item.bytes);
  if (!value) {
    return make_error(Errc::kRlpMalformed, "integer longer than 32 bytes");
  }
  return value;
}

}  // namespace inferd::core::rlp

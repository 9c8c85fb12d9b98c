// Fuzz target for the RLP decoder and the integer reader.
//
// Checked properties: nothing reads out of bounds (the sanitizers), and any input that decodes
// re-encodes to exactly the same bytes, because decode() accepts canonical encodings only.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/rlp.hpp"

namespace {

using inferd::core::Bytes;
namespace rlp = inferd::core::rlp;

Bytes reencode(const rlp::Item& item) {
  if (!item.is_list) {
    return rlp::encode_bytes(item.bytes);
  }
  std::vector<Bytes> children;
  children.reserve(item.items.size());
  for (const rlp::Item& child : item.items) {
    children.push_back(reencode(child));
  }
  return rlp::encode_list(children);
}

void read_integers(const rlp::Item& item) {
  if (!item.is_list) {
    (void)rlp::decode_uint(item);
    return;
  }
  for (const rlp::Item& child : item.items) {
    read_integers(child);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const inferd::core::ByteView input(bytes, size);
  auto item = rlp::decode(input);
  if (!item) {
    return 0;
  }
  read_integers(*item);
  const Bytes again = reencode(*item);
  if (again.size() != size || !std::equal(again.begin(), again.end(), bytes)) {
    std::abort();  // canonical input must round-trip byte for byte
  }
  return 0;
}

// Fuzz target for the ABI type parser, decoder and revert classifier.
//
// Input layout: if a '\n' occurs in the first 256 bytes, the bytes before it are an ABI
// parameter-list type such as "(string,uint8[])" and the rest is the data to decode. Otherwise
// the first byte picks one of kTypes and the rest is the data. Checked properties: nothing reads
// out of bounds (the sanitizers), and whatever decodes re-encodes to data that decodes to the
// same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/abi.hpp"

namespace {

using inferd::core::ByteView;
using inferd::core::abi::AbiType;

// Types the Infernet node decodes, plus nestings that stress offsets.
constexpr std::string_view kTypes[] = {
    "(string,string)",
    "(bytes,bytes,bytes)",
    "(uint32,uint32,uint32,bytes,bytes,bytes)",
    "((address,uint32,uint32,uint32,uint16,bytes32,bool,address,uint256,address,address)[])",
    "(uint16[])",
    "(string[][],bytes)",
    "((uint8,string)[2],int24,bytes7)",
    "(bool,address,bool)",
};

void check_round_trip(const AbiType& type, ByteView data) {
  auto decoded = inferd::core::abi::decode(type, data);
  if (!decoded) {
    return;
  }
  auto encoded = inferd::core::abi::encode(type, *decoded);
  if (!encoded) {
    std::abort();  // a decoded value must always be encodable
  }
  auto again = inferd::core::abi::decode(type, *encoded);
  if (!again || !(*again == *decoded)) {
    std::abort();  // the canonical re-encoding must decode to the same value
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  const ByteView input(bytes, size);
  (void)inferd::core::abi::decode_revert(input);

  const std::size_t search = size < 256 ? size : 256;
  for (std::size_t i = 0; i < search; ++i) {
    if (bytes[i] == '\n') {
      const std::string_view signature(reinterpret_cast<const char*>(bytes), i);
      auto type = AbiType::parse(signature);
      if (type && type->kind() == AbiType::Kind::kTuple) {
        check_round_trip(*type, input.subspan(i + 1));
      }
      return 0;
    }
  }

  if (size == 0) {
    return 0;
  }
  const std::size_t pick = bytes[0] % std::size(kTypes);
  auto type = AbiType::parse(kTypes[pick]);
  if (!type) {
    std::abort();  // the built-in types are valid
  }
  check_round_trip(*type, input.subspan(1));
  return 0;
}

#include "core/keccak.hpp"

#include <crypto++/keccak.h>

namespace inferd::core {

Bytes32 keccak256(ByteView data) {
  CryptoPP::Keccak_256 hash;
  hash.Update(data.data(), data.size());
  Bytes32 out;
  hash.Final(out.data());
  return out;
}

}  // namespace inferd::core

// 20-byte Ethereum account addresses with EIP-55 mixed-case checksums.
#pragma once

#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "core/result.hpp"

namespace inferd::core {

/// An Ethereum address. The default value is the zero address.
class Address {
 public:
  Address() = default;
  explicit Address(const FixedBytes<20>& bytes) : bytes_(bytes) {}

  /// Parses "0x" + 40 hex digits (the prefix is optional). All-lowercase and all-uppercase text is
  /// accepted as is; mixed-case text must carry a valid EIP-55 checksum, otherwise this fails with
  /// kChecksumMismatch. Other text fails with kInvalidAddress.
  static Result<Address> from_hex(std::string_view text);

  /// Copies exactly 20 bytes; fails with kInvalidLength otherwise.
  static Result<Address> from_view(ByteView bytes);

  /// The EIP-55 checksummed form, e.g. "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed".
  std::string to_checksum_hex() const;

  /// The all-lowercase form with "0x".
  std::string to_lower_hex() const;

  const FixedBytes<20>& bytes() const { return bytes_; }
  ByteView view() const { return bytes_.view(); }
  bool is_zero() const { return bytes_.is_zero(); }

  friend auto operator<=>(const Address&, const Address&) = default;
  friend bool operator==(const Address&, const Address&) = default;

 private:
  FixedBytes<20> bytes_{};
};

}  // namespace inferd::core

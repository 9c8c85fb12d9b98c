#include "core/address.hpp"

#include <cctype>

#include "core/hex.hpp"
#include "core/keccak.hpp"

namespace inferd::core {

namespace {

// EIP-55: a letter is upper-case exactly when the matching nibble of keccak256 of the lowercase
// hex (without "0x") is 8 or more.
std::string checksum_digits(const std::string& lower_digits) {
  const Bytes32 hash = keccak256(std::string_view(lower_digits));
  std::string out = lower_digits;
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::uint8_t nibble = (i % 2 == 0) ? (hash[i / 2] >> 4) : (hash[i / 2] & 0x0f);
    if (nibble >= 8) {
      out[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[i])));
    }
  }
  return out;
}

}  // namespace

Result<Address> Address::from_hex(std::string_view text) {
  const std::string_view digits = strip_hex_prefix(text);
  if (digits.size() != 40) {
    return make_error(Errc::kInvalidAddress, "an address needs 40 hex digits, got " +
                                                 std::to_string(digits.size()) + " in \"" +
                                                 std::string(text.substr(0, 60)) + "\"");
  }
  auto bytes = core::from_hex(digits);
  if (!bytes) {
    return make_error(Errc::kInvalidAddress,
                      "invalid address \"" + std::string(text) + "\": " + bytes.error().message);
  }
  Address address(*FixedBytes<20>::from_view(*bytes));

  bool has_lower = false;
  bool has_upper = false;
  for (char c : digits) {
    has_lower = has_lower || (c >= 'a' && c <= 'f');
    has_upper = has_upper || (c >= 'A' && c <= 'F');
  }
  if (has_lower && has_upper && address.to_checksum_hex().substr(2) != digits) {
    return make_error(Errc::kChecksumMismatch, "address \"" + std::string(text) +
                                                   "\" has an invalid EIP-55 checksum; expected " +
                                                   address.to_checksum_hex());
  }
  return address;
}

Result<Address> Address::from_view(ByteView bytes) {
  auto fixed = FixedBytes<20>::from_view(bytes);
  if (!fixed) {
    return fixed.error();
  }
  return Address(*fixed);
}

std::string Address::to_lower_hex() const {
  return to_hex(bytes_.view());
}

std::string Address::to_checksum_hex() const {
  return "0x" + checksum_digits(to_hex(bytes_.view(), HexPrefix::kWithout));
}

}  // namespace inferd::core

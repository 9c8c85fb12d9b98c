#include "core/address.hpp"

#include <gtest/gtest.h>

namespace inferd::core {
namespace {

// The checksummed examples listed in the EIP-55 specification.
const char* const kEip55Examples[] = {
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

TEST(AddressTest, ChecksumsEip55Examples) {
  for (const char* text : kEip55Examples) {
    auto address = Address::from_hex(text);
    ASSERT_TRUE(address) << text << ": " << address.error().message;
    EXPECT_EQ(address->to_checksum_hex(), text);
  }
}

TEST(AddressTest, AcceptsSingleCase) {
  for (const char* text : kEip55Examples) {
    std::string lower = text;
    std::string upper = text;
    for (std::size_t i = 2; i < lower.size(); ++i) {
      lower[i] = static_cast<char>(std::tolower(lower[i]));
      upper[i] = static_cast<char>(std::toupper(upper[i]));
    }
    EXPECT_EQ(Address::from_hex(lower).value().to_checksum_hex(), text);
    EXPECT_EQ(Address::from_hex(upper).value().to_checksum_hex(), text);
    EXPECT_EQ(Address::from_hex(lower.substr(2)).value().to_checksum_hex(), text);
  }
}

TEST(AddressTest, RejectsWrongChecksum) {
  // The first EIP-55 example with the case of one letter flipped.
  auto address = Address::from_hex("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
  ASSERT_FALSE(address);
  EXPECT_EQ(address.error().code, Errc::kChecksumMismatch);
  EXPECT_NE(address.error().message.find("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
            std::string::npos)
      << address.error().message;
}

TEST(AddressTest, RejectsBadLengthAndDigits) {
  EXPECT_EQ(Address::from_hex("0x1234").error().code, Errc::kInvalidAddress);
  EXPECT_EQ(Address::from_hex("0x" + std::string(42, '0')).error().code, Errc::kInvalidAddress);
  EXPECT_EQ(Address::from_hex("0x" + std::string(39, '0') + "g").error().code,
            Errc::kInvalidAddress);
}

TEST(AddressTest, ZeroAndOrdering) {
  EXPECT_TRUE(Address().is_zero());
  EXPECT_EQ(Address().to_lower_hex(), "0x" + std::string(40, '0'));
  EXPECT_LT(Address(), Address::from_hex(kEip55Examples[0]).value());
}

}  // namespace
}  // namespace inferd::core

#include "infernet/sdk/codec.hpp"

#include <stdexcept>
#include <string>

#include "core/hex.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {
namespace {

std::string_view trim_whitespace(std::string_view text) {
  constexpr std::string_view kWhitespace = " \t\r\n";
  auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

}  // namespace

std::string hex_encode(ByteView bytes) {
  return inferd::core::to_hex(bytes, inferd::core::HexPrefix::kWithout);
}

Bytes hex_decode(std::string_view text, std::string_view what) {
  auto decoded = inferd::core::from_hex(trim_whitespace(text));
  if (!decoded) {
    throw ServiceError::bad_request("invalid " + std::string(what) + ": expected a hex string, " +
                                    decoded.error().message);
  }
  return std::move(decoded).value();
}

AbiType abi_type(std::string_view params_signature) {
  auto type = AbiType::parse(params_signature);
  if (!type) {
    throw std::invalid_argument("invalid ABI type \"" + std::string(params_signature) +
                                "\": " + type.error().message);
  }
  return std::move(type).value();
}

AbiValue abi_decode(const AbiType& params, ByteView data) {
  auto value = inferd::core::abi::decode(params, data);
  if (!value) {
    throw ServiceError::bad_request("input is not ABI-encoded " + params.canonical() + ": " +
                                    value.error().message);
  }
  return std::move(value).value();
}

Bytes abi_encode(const AbiType& params, const AbiValue::List& values) {
  auto encoded = inferd::core::abi::encode(params, AbiValue::list(values));
  if (!encoded) {
    throw ServiceError(
        Status::internal_server_error,
        "cannot ABI-encode the output as " + params.canonical() + ": " + encoded.error().message);
  }
  return std::move(encoded).value();
}

Bytes abi_encode_string(std::string_view text) {
  static const AbiType kStringParams = AbiType::tuple({AbiType::string()});
  return abi_encode(kStringParams, {AbiValue::string(std::string(text))});
}

nlohmann::json OnchainOutput::to_json() const {
  return nlohmann::json{
      {"raw_input", hex_encode(raw_input)},   {"processed_input", hex_encode(processed_input)},
      {"raw_output", hex_encode(raw_output)}, {"processed_output", hex_encode(processed_output)},
      {"proof", hex_encode(proof)},
  };
}

}  // namespace infernet::sdk

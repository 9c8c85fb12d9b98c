#include "core/delivery_payload.hpp"

#include <array>

#include "core/abi.hpp"
#include "core/hex.hpp"
#include "core/python_repr.hpp"

namespace inferd::core::infernet {
namespace {

constexpr std::array<const char*, 5> kFiveKeys = {"raw_input", "processed_input", "raw_output",
                                                  "processed_output", "proof"};

Result<Bytes> read_hex(const nlohmann::json& output, const char* key) {
  const auto& value = output.at(key);
  if (value.is_null())
    return Bytes{};
  if (!value.is_string()) {
    return make_error(Errc::kInvalidHex, std::string("container output key \"") + key + "\" is " +
                                             value.type_name() + ", expected hex text or null");
  }
  auto bytes = from_hex(value.get_ref<const std::string&>());
  if (!bytes) {
    return make_error(Errc::kInvalidHex, std::string("container output key \"") + key +
                                             "\" is not hex: " + bytes.error().message);
  }
  return std::move(bytes).value();
}

Result<Bytes> encode_pair(Bytes first, Bytes second) {
  return abi::encode("(bytes,bytes)", {abi::AbiValue::bytes(std::move(first)),
                                       abi::AbiValue::bytes(std::move(second))});
}

}  // namespace

Result<DeliveryPayload> encode_delivery(const nlohmann::json& output, std::string_view raw_body) {
  bool five_keys = output.is_object();
  for (const char* key : kFiveKeys)
    five_keys = five_keys && output.contains(key);

  DeliveryPayload payload;
  if (five_keys) {
    std::array<Bytes, 5> values;
    for (std::size_t i = 0; i < kFiveKeys.size(); ++i) {
      auto bytes = read_hex(output, kFiveKeys[i]);
      if (!bytes)
        return bytes.error();
      values[i] = std::move(bytes).value();
    }
    auto input = encode_pair(std::move(values[0]), std::move(values[1]));
    if (!input)
      return input.error();
    auto encoded = encode_pair(std::move(values[2]), std::move(values[3]));
    if (!encoded)
      return encoded.error();
    payload.input = std::move(input).value();
    payload.output = std::move(encoded).value();
    payload.proof = std::move(values[4]);
    return payload;
  }

  // The reference renders the dict it parsed, so the container's key order counts.
  auto ordered = nlohmann::ordered_json::parse(raw_body, nullptr, false);
  if (ordered.is_discarded())
    ordered = nlohmann::ordered_json(output);
  auto encoded = abi::encode("(string)", {abi::AbiValue::string(python_repr(ordered))});
  if (!encoded)
    return encoded.error();
  payload.output = std::move(encoded).value();
  return payload;
}

bool output_reports_failure(const nlohmann::json& output) {
  if (!output.is_object())
    return false;
  auto code = output.find("code");
  if (code == output.end())
    return false;
  if (code->is_string())
    return code->get_ref<const std::string&>() != "200";
  if (code->is_number_integer())
    return code->get<long long>() != 200;
  return true;
}

}  // namespace inferd::core::infernet

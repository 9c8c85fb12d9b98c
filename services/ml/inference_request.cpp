#include "ml/inference_request.hpp"

#include <string>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/errors.hpp"
#include "infernet/sdk/model_id.hpp"

namespace infernet::services::ml {
namespace {

using sdk::AbiValue;
using sdk::RitualVector;
using sdk::ServiceError;

// The first head word of abi.encode(bytes, bytes) is the offset 0x40 of the first bytes value.
// With two uint8 fields after them, the head is four words long and the offset is 0x80.
constexpr std::uint8_t kTwoFieldOffset = 0x40;
constexpr std::uint8_t kFourFieldOffset = 0x80;

void parse_output_options(const nlohmann::json& data, InferenceRequest& request) {
  if (auto arithmetic = data.find("output_arithmetic");
      arithmetic != data.end() && !arithmetic->is_null()) {
    std::optional<sdk::Arithmetic> parsed;
    if (arithmetic->is_string())
      parsed = sdk::arithmetic_from_name(arithmetic->get_ref<const std::string&>());
    if (!parsed) {
      throw ServiceError::bad_request("invalid output_arithmetic " + arithmetic->dump() +
                                      ": expected \"ieee\" or \"fixed_point\"");
    }
    request.output_arithmetic = *parsed;
  }

  if (auto decimals = data.find("output_num_decimals");
      decimals != data.end() && !decimals->is_null()) {
    if (!decimals->is_number_integer() || decimals->get<std::int64_t>() < 0 ||
        decimals->get<std::int64_t>() > 255) {
      throw ServiceError::bad_request("invalid output_num_decimals " + decimals->dump() +
                                      ": expected an integer from 0 to 255");
    }
    request.output_num_decimals = static_cast<std::uint8_t>(decimals->get<std::int64_t>());
  }
}

}  // namespace

InferenceRequest parse_offchain_request(const nlohmann::json& data) {
  InferenceRequest request;

  if (auto model_id = data.find("model_id"); model_id != data.end() && !model_id->is_null()) {
    if (!model_id->is_string())
      throw ServiceError::bad_request("invalid model_id " + model_id->dump() +
                                      ": expected a string");
    request.model_id = model_id->get<std::string>();
  }

  auto inputs = data.find("inputs");
  auto input = data.find("input");
  if (inputs != data.end() && input != data.end()) {
    throw ServiceError::bad_request(
        "both \"inputs\" and \"input\" are set: send either an object of named vectors or one "
        "vector");
  }
  if (inputs != data.end()) {
    if (!inputs->is_object() || inputs->empty()) {
      throw ServiceError::bad_request(
          "invalid inputs: expected a non-empty object mapping input names to vectors "
          "{\"dtype\", \"shape\", \"values\"}");
    }
    for (const auto& [name, vector] : inputs->items())
      request.inputs.push_back({name, RitualVector::from_json(vector, "inputs." + name)});
  } else if (input != data.end()) {
    request.inputs.push_back({"", RitualVector::from_json(*input, "input")});
  } else {
    throw ServiceError::bad_request(
        "missing field \"inputs\" (an object mapping input names to vectors) or \"input\" (one "
        "vector {\"dtype\", \"shape\", \"values\"})");
  }

  parse_output_options(data, request);
  return request;
}

InferenceRequest parse_onchain_request(inferd::core::ByteView input) {
  static const sdk::AbiType kTwoFields = sdk::abi_type("(bytes,bytes)");
  static const sdk::AbiType kFourFields = sdk::abi_type("(bytes,bytes,uint8,uint8)");

  const bool four_fields = input.size() >= 32 && input[31] == kFourFieldOffset;
  if (!four_fields && !(input.size() >= 32 && input[31] == kTwoFieldOffset)) {
    throw ServiceError::bad_request(
        "invalid on-chain input: expected abi.encode(bytes model_id, bytes vector)");
  }
  auto decoded = sdk::abi_decode(four_fields ? kFourFields : kTwoFields, input);

  InferenceRequest request;
  const auto& model_id = decoded[0].as_bytes();
  if (!model_id.empty())
    request.model_id = sdk::ModelId::abi_decode(model_id).to_string();
  request.inputs.push_back({"", RitualVector::abi_decode(decoded[1].as_bytes())});

  if (four_fields) {
    const auto arithmetic = decoded[2].as_uint().low_u64();
    if (arithmetic > static_cast<std::uint64_t>(sdk::Arithmetic::kFixedPoint)) {
      throw ServiceError::bad_request("invalid on-chain arithmetic " + std::to_string(arithmetic) +
                                      ": expected 0 (ieee) or 1 (fixed_point)");
    }
    request.output_arithmetic = static_cast<sdk::Arithmetic>(arithmetic);
    request.output_num_decimals = static_cast<std::uint8_t>(decoded[3].as_uint().low_u64());
  }
  return request;
}

inferd::core::Bytes encode_onchain_request(inferd::core::ByteView model_id,
                                           const sdk::RitualVector& vector) {
  static const sdk::AbiType kTwoFields = sdk::abi_type("(bytes,bytes)");
  return sdk::abi_encode(kTwoFields,
                         {AbiValue::bytes(inferd::core::Bytes(model_id.begin(), model_id.end())),
                          AbiValue::bytes(vector.abi_encode())});
}

}  // namespace infernet::services::ml

// The request shapes of the ONNX and Torch inference services, off-chain and on-chain.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/bytes.hpp"
#include "infernet/sdk/vector.hpp"

namespace infernet::services::ml {

/// One model input: the model's input name and its tensor. An empty name means the model's
/// first input.
struct NamedInput {
  std::string name;
  sdk::RitualVector vector;
};

/// A parsed inference request.
struct InferenceRequest {
  /// Empty: the service's default (preloaded) model.
  std::string model_id;
  std::vector<NamedInput> inputs;
  /// Encoding of real numbers in the ABI form of the outputs. Only on-chain replies use it,
  /// because the JSON form has no arithmetic.
  sdk::Arithmetic output_arithmetic = sdk::Arithmetic::kIeee;
  std::uint8_t output_num_decimals = sdk::kDefaultFixedPointScale;
};

/// Parses the off-chain `data` object:
///   {"model_id": "<id>" (optional),
///    "inputs": {"<input name>": <RitualVector JSON>, ...}   (the ONNX service's form)
///     or "input": <RitualVector JSON>                          (the Torch service's form),
///    "output_arithmetic": "ieee" | "fixed_point" (optional),
///    "output_num_decimals": 0..255 (optional)}
/// "input" is bound to the model's first input. Throws ServiceError 400 naming the field when
/// a field is missing, has the wrong type, both "input" and "inputs" are given, or a vector is
/// invalid.
InferenceRequest parse_offchain_request(const nlohmann::json& data);

/// Parses the on-chain input abi.encode(bytes model_id, bytes vector), optionally followed by
/// (uint8 arithmetic, uint8 num_decimals) as the reference's request encoder writes them. Empty
/// model_id bytes select the default model; otherwise they are the ABI model id encoding
/// abi.encode(bytes repo, string files_csv) that sdk::ModelId::abi_decode() reads. The vector is
/// bound to the model's first input. Unlike the reference, which ignores the two trailing fields,
/// they set the output arithmetic. Throws ServiceError 400 when the input does not decode.
InferenceRequest parse_onchain_request(inferd::core::ByteView input);

/// Encodes an on-chain request, the inverse of parse_onchain_request() without the trailing
/// fields. For tests and clients.
inferd::core::Bytes encode_onchain_request(inferd::core::ByteView model_id,
                                           const sdk::RitualVector& vector);

}  // namespace infernet::services::ml

// Hex and ABI helpers for service handlers, and the five-key on-chain output.
//
// The helpers wrap inferd's core codec (core/hex.hpp, core/abi.hpp) and report bad input as a
// ServiceError, so a handler can use them without checking every result.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/abi.hpp"
#include "core/bytes.hpp"

namespace infernet::sdk {

using inferd::core::Bytes;
using inferd::core::ByteView;
using inferd::core::abi::AbiType;
using inferd::core::abi::AbiValue;

/// Encodes bytes as lowercase hex without a "0x" prefix, the form the node expects.
std::string hex_encode(ByteView bytes);

/// Decodes hex text with or without "0x", in any letter case, ignoring surrounding whitespace.
/// Throws ServiceError (400) naming `what` (e.g. "data.input") when the text is not hex.
Bytes hex_decode(std::string_view text, std::string_view what = "input");

/// Parses an ABI parameter list such as "(string,string)". Throws std::invalid_argument on a
/// syntax error: a typo in a service's own type is a bug, not a client error.
AbiType abi_type(std::string_view params_signature);

/// Decodes `data` as the parameter list `params`, like Solidity's abi.decode. Throws
/// ServiceError (400) naming the types when the data does not decode.
AbiValue abi_decode(const AbiType& params, ByteView data);

/// Encodes `values` as the parameter list `params`, like Solidity's abi.encode. Throws
/// ServiceError (500) when the values do not fit the types.
Bytes abi_encode(const AbiType& params, const AbiValue::List& values);

/// abi.encode(string text): the usual encoding of a text result.
Bytes abi_encode_string(std::string_view text);

/// The reply for an on-chain destination. The node ABI-encodes (raw_input, processed_input) as
/// the `input` and (raw_output, processed_output) as the `output` argument of deliverCompute,
/// and passes `proof` unchanged.
struct OnchainOutput {
  Bytes raw_input;
  Bytes processed_input;
  Bytes raw_output;
  Bytes processed_output;
  Bytes proof;

  /// The five keys, each as lowercase hex without "0x" ("" for no bytes).
  nlohmann::json to_json() const;
};

}  // namespace infernet::sdk

// The echo test service: returns its ABI-encoded input string, and a proof string on request.
#pragma once

#include <nlohmann/json.hpp>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/envelope.hpp"

namespace infernet::services {

/// Computes echo replies. Thread-safe: run() only reads the member types.
class Echo {
 public:
  Echo();

  /// The input is abi.encode(string value, string proof): the hex `data` for an on-chain source,
  /// or {"input": "<hex>"} for an off-chain source. The reply always has the five on-chain keys:
  /// raw_input = the input as lowercase hex, raw_output = abi.encode(string value), proof =
  /// abi.encode(string proof) when the envelope requires a proof and empty otherwise. Throws
  /// ServiceError (400) when the input is missing, not hex, or not that encoding.
  nlohmann::json run(const sdk::Envelope& envelope) const;

 private:
  sdk::AbiType input_type_;
  sdk::AbiType output_type_;
};

}  // namespace infernet::services

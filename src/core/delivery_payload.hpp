// The bytes a node delivers on-chain for a container's output, as the reference node builds them.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/bytes.hpp"
#include "core/result.hpp"

namespace inferd::core::infernet {

/// The `input`, `output` and `proof` arguments of deliverCompute.
struct DeliveryPayload {
  Bytes input;
  Bytes output;
  Bytes proof;
};

/// Encodes the last container's output of an on-chain job.
///
/// An object with all of raw_input, processed_input, raw_output, processed_output and proof
/// becomes input = abi.encode(bytes raw_input, bytes processed_input), output =
/// abi.encode(bytes raw_output, bytes processed_output) and proof = the proof bytes; each value is
/// hex text (the reference writes it without 0x; a 0x prefix is accepted too) or null for empty.
/// Any other output becomes input = proof = empty and output = abi.encode(string repr), where
/// repr is Python's repr() of the output as the reference node renders it; `raw_body` is the
/// container's reply text, parsed again so that the key order is the container's.
///
/// Fails with kInvalidHex naming the key when one of the five values is not hex text.
Result<DeliveryPayload> encode_delivery(const nlohmann::json& output, std::string_view raw_body);

/// Whether an output reports failure through a `code` key whose value is not "200" (or 200).
/// The reference node treats such an output as a failed job.
bool output_reports_failure(const nlohmann::json& output);

}  // namespace inferd::core::infernet

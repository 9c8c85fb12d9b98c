// The request envelope the Infernet node posts to POST /service_output.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "core/bytes.hpp"

namespace infernet::sdk {

/// Where the data of a job comes from, or where its result goes (the node's JobLocation).
enum class Location { kOnchain = 0, kOffchain = 1, kStream = 2 };

/// A parsed and validated envelope.
struct Envelope {
  /// kOnchain or kOffchain.
  Location source = Location::kOffchain;
  /// kOnchain, kOffchain or kStream.
  Location destination = Location::kOffchain;
  /// On-chain source: the input hex text as sent (the node sends lowercase hex without "0x").
  /// Off-chain source: the caller's JSON object, or the previous container's output in a chain.
  nlohmann::json data;
  /// Absent in the request means false (the node omits it on streaming calls).
  bool requires_proof = false;
  /// On-chain source: the decoded bytes of `data`. Empty for an off-chain source.
  inferd::core::Bytes input_bytes;
  /// The raw request body. Valid only while the handler runs.
  std::string_view body;

  bool onchain_source() const { return source == Location::kOnchain; }
  bool onchain_destination() const { return destination == Location::kOnchain; }
  bool streaming() const { return destination == Location::kStream; }

  /// The envelope as the node sends it: source, destination, data and requires_proof.
  nlohmann::json to_json() const;
};

/// Parses and validates a request body. Throws ServiceError (400) when the body is not a JSON
/// object, when `source` or `destination` is missing or not one of the allowed integers, when
/// `requires_proof` is present but not a boolean, when an on-chain `data` is not a hex string
/// (an optional "0x" prefix and surrounding whitespace are accepted), or when an off-chain
/// `data` is not a JSON object. An empty on-chain hex string is accepted as no input bytes.
Envelope parse_envelope(std::string_view body);

}  // namespace infernet::sdk

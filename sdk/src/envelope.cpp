#include "infernet/sdk/envelope.hpp"

#include "core/json_depth.hpp"

#include <string>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {
namespace {

// Reads an integer field and checks it against the allowed locations.
Location parse_location(const nlohmann::json& object, const char* key, int max_value,
                        const char* allowed) {
  auto found = object.find(key);
  if (found == object.end()) {
    throw ServiceError::bad_request(std::string("missing field \"") + key +
                                    "\": expected an integer (" + allowed + ")");
  }

  if (!found->is_number_integer() || found->get<long long>() < 0 ||
      found->get<long long>() > max_value) {
    throw ServiceError::bad_request(std::string("invalid field \"") + key + "\": " + found->dump() +
                                    " is not one of " + allowed);
  }
  return static_cast<Location>(found->get<int>());
}

}  // namespace

nlohmann::json Envelope::to_json() const {
  return nlohmann::json{
      {"source", static_cast<int>(source)},
      {"destination", static_cast<int>(destination)},
      {"data", data},
      {"requires_proof", requires_proof},
  };
}

Envelope parse_envelope(std::string_view body) {
  // Parsing and printing JSON recurse once per level: bound the depth before either happens.
  if (inferd::core::json_nesting_depth(body, inferd::core::kMaxJsonDepth) >
      inferd::core::kMaxJsonDepth) {
    throw ServiceError::bad_request("invalid request body: nested deeper than " +
                                    std::to_string(inferd::core::kMaxJsonDepth) +
                                    " levels of arrays and objects");
  }
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    throw ServiceError::bad_request(
        "invalid request body: expected a JSON object with source, destination and data");
  }
  if (!parsed.is_object()) {
    throw ServiceError::bad_request("invalid request body: expected a JSON object, got " +
                                    std::string(parsed.type_name()));
  }

  Envelope envelope;
  envelope.body = body;
  envelope.source = parse_location(parsed, "source", 1, "0 on-chain, 1 off-chain");
  envelope.destination =
      parse_location(parsed, "destination", 2, "0 on-chain, 1 off-chain, 2 stream");

  if (auto proof = parsed.find("requires_proof"); proof != parsed.end() && !proof->is_null()) {
    if (!proof->is_boolean()) {
      throw ServiceError::bad_request("invalid field \"requires_proof\": expected a boolean, got " +
                                      proof->dump());
    }
    envelope.requires_proof = proof->get<bool>();
  }

  auto data = parsed.find("data");
  if (data == parsed.end()) {
    throw ServiceError::bad_request("missing field \"data\"");
  }

  if (envelope.onchain_source()) {
    if (!data->is_string()) {
      throw ServiceError::bad_request(
          "invalid field \"data\": an on-chain source requires a hex string, got " +
          std::string(data->type_name()));
    }
    envelope.input_bytes = hex_decode(data->get_ref<const std::string&>(), "data");
  } else if (!data->is_object()) {
    throw ServiceError::bad_request(
        "invalid field \"data\": an off-chain source requires a JSON object, got " +
        std::string(data->type_name()));
  }
  envelope.data = std::move(*data);
  return envelope;
}

}  // namespace infernet::sdk

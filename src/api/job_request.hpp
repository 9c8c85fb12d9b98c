// Parsing and validation of job request bodies (POST /api/jobs, /batch, /stream).
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace inferd::api {

/// An off-chain job as a client posts it. Any `id` or `ip` in the body is ignored: job ids are
/// always the server's, and the client address is the connection's.
struct OffchainJobRequest {
  std::vector<std::string> containers;
  nlohmann::json data;
  bool requires_proof = false;
};

/// A delegated subscription (a body with a `subscription` key). Only recognised here; it is
/// served by the chain pipeline.
struct DelegatedSubscriptionRequest {
  nlohmann::json body;
};

using JobRequest = std::variant<OffchainJobRequest, DelegatedSubscriptionRequest>;

/// A body that does not match either request shape. `message` names the field path (with
/// `prefix`, e.g. "[2]." for batch items), the bad value and the expected type.
struct InvalidRequest {
  std::string message;
};

/// Parses one job request object. `prefix` is prepended to field paths in messages.
std::variant<JobRequest, InvalidRequest> parse_job_request(const nlohmann::json& body,
                                                           const std::string& prefix = "");

/// Parses request body text as JSON. Returns the error text without the library's prefix.
std::variant<nlohmann::json, InvalidRequest> parse_json_body(const std::string& text);

/// A short, single-line rendering of a JSON value for error messages.
std::string describe_value(const nlohmann::json& value);

}  // namespace inferd::api

// Error replies in the Infernet container shape.
//
// Every error a service sends is JSON of the form
//   {"code": "<HTTP status as a string>", "name": "<reason phrase>", "description": "<message>"}
// with the matching HTTP status. The node recognises a failed on-chain job by a `code` key whose
// string value is not "200", so `code` must stay a string.
#pragma once

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "infra/asio.hpp"

namespace infernet::sdk {

using Status = boost::beast::http::status;

/// A failure a handler reports to the caller: the HTTP status and a description that is sent
/// as-is, so it must not contain secrets. Handlers throw it; the service turns it into the reply.
class ServiceError : public std::runtime_error {
 public:
  ServiceError(Status status, const std::string& description)
      : std::runtime_error(description), status_(status) {}

  /// Shorthand for a 400 Bad Request.
  static ServiceError bad_request(const std::string& description) {
    return ServiceError(Status::bad_request, description);
  }

  Status status() const { return status_; }

 private:
  Status status_;
};

/// Builds the container error body for `status`, e.g. {"code": "400", "name": "Bad Request",
/// "description": description}.
nlohmann::json error_body(Status status, const std::string& description);

}  // namespace infernet::sdk

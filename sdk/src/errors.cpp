#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {

nlohmann::json error_body(Status status, const std::string& description) {
  return nlohmann::json{
      {"code", std::to_string(static_cast<unsigned>(status))},
      {"name", std::string(boost::beast::http::obsolete_reason(status))},
      {"description", description},
  };
}

}  // namespace infernet::sdk

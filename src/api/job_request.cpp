#include "api/job_request.hpp"

#include "core/json_depth.hpp"

namespace inferd::api {

std::string describe_value(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 80)
    text = text.substr(0, 77) + "...";
  return text;
}

std::variant<nlohmann::json, InvalidRequest> parse_json_body(const std::string& text) {
  if (core::json_nesting_depth(text, core::kMaxJsonDepth) > core::kMaxJsonDepth) {
    return InvalidRequest{"invalid JSON body: nested deeper than " +
                          std::to_string(core::kMaxJsonDepth) +
                          " levels of arrays and objects; flatten the input"};
  }
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& error) {
    std::string message = error.what();
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; keep position and reason.
    if (auto close = message.find("] ");
        message.rfind("[json.exception", 0) == 0 && close != std::string::npos) {
      message = message.substr(close + 2);
    }
    return InvalidRequest{"invalid JSON body: " + message};
  }
}

std::variant<JobRequest, InvalidRequest> parse_job_request(const nlohmann::json& body,
                                                           const std::string& prefix) {
  if (!body.is_object()) {
    return InvalidRequest{
        (prefix.empty() ? std::string("body") : prefix.substr(0, prefix.size() - 1)) +
        ": invalid value " + describe_value(body) +
        " (expected a JSON object with \"containers\" and \"data\")"};
  }
  if (body.contains("subscription")) {
    return JobRequest{DelegatedSubscriptionRequest{body}};
  }

  OffchainJobRequest job;
  auto containers = body.find("containers");
  if (containers == body.end()) {
    return InvalidRequest{prefix + "containers: missing (expected a list of container ids)"};
  }
  if (!containers->is_array()) {
    return InvalidRequest{prefix + "containers: invalid value " + describe_value(*containers) +
                          " (expected a list of container ids)"};
  }
  for (std::size_t i = 0; i < containers->size(); ++i) {
    const auto& id = (*containers)[i];
    if (!id.is_string()) {
      return InvalidRequest{prefix + "containers[" + std::to_string(i) + "]: invalid value " +
                            describe_value(id) + " (expected a container id string)"};
    }
    job.containers.push_back(id.get<std::string>());
  }

  auto data = body.find("data");
  if (data == body.end()) {
    return InvalidRequest{prefix + "data: missing (expected a JSON object, the job input)"};
  }
  if (!data->is_object()) {
    return InvalidRequest{prefix + "data: invalid value " + describe_value(*data) +
                          " (expected a JSON object, the job input)"};
  }
  job.data = *data;

  if (auto proof = body.find("requires_proof"); proof != body.end() && !proof->is_null()) {
    if (!proof->is_boolean()) {
      return InvalidRequest{prefix + "requires_proof: invalid value " + describe_value(*proof) +
                            " (expected true or false)"};
    }
    job.requires_proof = proof->get<bool>();
  }
  return JobRequest{std::move(job)};
}

}  // namespace inferd::api

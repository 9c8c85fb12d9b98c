#include "store/job_store.hpp"

namespace inferd::store {

std::string_view to_string(JobStatus status) {
  switch (status) {
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kSuccess:
      return "success";
    case JobStatus::kFailed:
      return "failed";
  }
  return "failed";
}

std::optional<JobStatus> parse_job_status(std::string_view text) {
  if (text == "running") {
    return JobStatus::kRunning;
  }
  if (text == "success") {
    return JobStatus::kSuccess;
  }
  if (text == "failed") {
    return JobStatus::kFailed;
  }
  return std::nullopt;
}

nlohmann::json ContainerResult::to_json() const {
  nlohmann::json value = {{"container", container}};
  if (error) {
    value["error"] = *error;
  } else {
    value["output"] = output ? *output : nlohmann::json(nullptr);
  }
  return value;
}

std::optional<ContainerResult> parse_container_result(const nlohmann::json& value) {
  if (!value.is_object()) {
    return std::nullopt;
  }
  auto container = value.find("container");
  if (container == value.end() || !container->is_string()) {
    return std::nullopt;
  }
  ContainerResult result;
  result.container = container->get<std::string>();
  if (auto error = value.find("error"); error != value.end() && error->is_string()) {
    result.error = error->get<std::string>();
    return result;
  }
  if (auto output = value.find("output"); output != value.end()) {
    result.output = *output;
    return result;
  }
  return std::nullopt;
}

nlohmann::json JobRecord::to_json(bool with_intermediate) const {
  nlohmann::json value = {{"id", id}, {"status", to_string(status)}};
  value["result"] = results.empty() ? nlohmann::json(nullptr) : results.back().to_json();
  if (with_intermediate) {
    nlohmann::json intermediate = nlohmann::json::array();
    for (std::size_t i = 0; i + 1 < results.size(); ++i) {
      intermediate.push_back(results[i].to_json());
    }
    value["intermediate_results"] = std::move(intermediate);
  }
  return value;
}

}  // namespace inferd::store

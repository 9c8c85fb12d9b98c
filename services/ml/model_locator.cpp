#include "ml/model_locator.hpp"

#include <system_error>
#include <utility>

#include "infernet/sdk/errors.hpp"
#include "infernet/sdk/model_id.hpp"

namespace infernet::services::ml {
namespace {

namespace fs = std::filesystem;
using sdk::ServiceError;

ServiceError invalid_path(std::string_view model_id, const std::string& reason) {
  return ServiceError::bad_request("invalid model_id \"" + std::string(model_id) + "\": " + reason);
}

}  // namespace

bool has_extension(const std::string& file, const std::vector<std::string>& extensions) {
  for (const auto& extension : extensions) {
    if (file.size() >= extension.size() &&
        file.compare(file.size() - extension.size(), extension.size(), extension) == 0) {
      return true;
    }
  }
  return false;
}

bool is_repo_model_id(std::string_view model_id) {
  return sdk::storage_from_name(model_id.substr(0, model_id.find('/'))).has_value();
}

fs::path pick_model_file(const std::vector<fs::path>& files,
                         const std::vector<std::string>& extensions) {
  if (files.empty())
    throw ServiceError::bad_request("invalid model_id: the model has no files");
  for (const auto& file : files) {
    if (has_extension(file.filename().string(), extensions))
      return file;
  }
  return files.front();
}

ModelLocator::ModelLocator(fs::path directory) : directory_(std::move(directory)) {}

fs::path ModelLocator::resolve(std::string_view model_id) const {
  if (model_id.empty())
    throw invalid_path(model_id, "it is empty");
  if (model_id.front() == '/') {
    throw invalid_path(model_id,
                       "absolute paths are not allowed; name a file under the model directory");
  }

  fs::path relative;
  std::size_t start = 0;
  while (start <= model_id.size()) {
    auto end = model_id.find('/', start);
    if (end == std::string_view::npos)
      end = model_id.size();
    const std::string component(model_id.substr(start, end - start));
    if (component.empty() || component == "." || component == "..") {
      throw invalid_path(model_id, "empty, \".\" and \"..\" path components are not allowed");
    }
    if (component.find('\\') != std::string::npos || component.find('\0') != std::string::npos) {
      throw invalid_path(model_id, "path components must not contain '\\' or NUL");
    }
    relative /= component;
    start = end + 1;
  }

  fs::path path = directory_ / relative;
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    throw ServiceError(sdk::Status::not_found, "model not found: \"" + std::string(model_id) +
                                                   "\" has no file at " + path.string());
  }
  return path;
}

}  // namespace infernet::services::ml

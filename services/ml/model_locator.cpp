#include "ml/model_locator.hpp"

#include <array>
#include <cstdlib>
#include <system_error>
#include <utility>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::services::ml {
namespace {

namespace fs = std::filesystem;
using sdk::ServiceError;

// Storage names by their on-chain number (local = 0, arweave = 1, huggingface = 2).
constexpr std::array<std::string_view, 3> kStorageNames = {"local", "arweave", "huggingface"};

ServiceError invalid_model_id(std::string_view model_id, const std::string& reason) {
  return ServiceError::bad_request("invalid model_id \"" + std::string(model_id) + "\": " + reason);
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    auto end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end - start));
    if (end == std::string_view::npos)
      return parts;
    start = end + 1;
  }
}

// Checks one path component taken from a request: not empty, not "." or "..", no separators.
void check_component(std::string_view model_id, const std::string& component) {
  if (component.empty() || component == "." || component == "..") {
    throw invalid_model_id(model_id, "empty, \".\" and \"..\" path components are not allowed");
  }
  if (component.find('\\') != std::string::npos || component.find('\0') != std::string::npos) {
    throw invalid_model_id(model_id, "path components must not contain '\\' or NUL");
  }
}

bool has_extension(const std::string& file, const std::vector<std::string>& extensions) {
  for (const auto& extension : extensions) {
    if (file.size() >= extension.size() &&
        file.compare(file.size() - extension.size(), extension.size(), extension) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

ModelLocator::ModelLocator(fs::path directory, std::vector<std::string> preferred_extensions)
    : directory_(std::move(directory)), preferred_extensions_(std::move(preferred_extensions)) {}

fs::path ModelLocator::resolve(std::string_view model_id) const {
  if (model_id.empty())
    throw invalid_model_id(model_id, "it is empty");
  if (model_id.front() == '/')
    throw invalid_model_id(model_id,
                           "absolute paths are not allowed; name a file under the "
                           "model directory");

  fs::path relative;
  auto colon = model_id.find(':');
  if (colon == std::string_view::npos) {
    for (const auto& component : split(model_id, '/')) {
      check_component(model_id, component);
      relative /= component;
    }
  } else {
    auto repo = split(model_id.substr(0, colon), '/');
    if (repo.size() != 3 && repo.size() != 4) {
      throw invalid_model_id(model_id,
                             "expected <storage>/<owner>/<name>[/<version>]:<file>[,<file>...]");
    }
    bool known_storage = false;
    for (auto name : kStorageNames)
      known_storage = known_storage || repo[0] == name;
    if (!known_storage) {
      throw invalid_model_id(
          model_id, "unknown storage \"" + repo[0] + "\" (expected huggingface, arweave or local)");
    }
    if (repo.size() == 3)
      repo.emplace_back("default");
    for (const auto& component : repo) {
      check_component(model_id, component);
      relative /= component;
    }

    auto files = split(model_id.substr(colon + 1), ',');
    std::string chosen = files.front();
    for (const auto& file : files) {
      if (has_extension(file, preferred_extensions_)) {
        chosen = file;
        break;
      }
    }
    check_component(model_id, chosen);
    relative /= chosen;
  }

  fs::path path = directory_ / relative;
  std::error_code error;
  if (!fs::is_regular_file(path, error)) {
    throw ServiceError(sdk::Status::not_found, "model not found: \"" + std::string(model_id) +
                                                   "\" has no file at " + path.string());
  }
  return path;
}

std::string model_id_from_abi(inferd::core::ByteView encoded) {
  static const sdk::AbiType kModelIdType = sdk::abi_type("(bytes,string)");
  static const sdk::AbiType kRepoType = sdk::abi_type("(uint8,string,string,string)");

  auto model_id = sdk::abi_decode(kModelIdType, encoded);
  auto repo = sdk::abi_decode(kRepoType, model_id[0].as_bytes());
  const auto storage = repo[0].as_uint().low_u64();
  if (storage >= kStorageNames.size()) {
    throw ServiceError::bad_request("invalid model_id: unknown storage number " +
                                    std::to_string(storage) +
                                    " (expected 0 local, 1 arweave or 2 huggingface)");
  }

  std::string text =
      std::string(kStorageNames[storage]) + "/" + repo[1].as_string() + "/" + repo[2].as_string();
  if (!repo[3].as_string().empty())
    text += "/" + repo[3].as_string();
  return text + ":" + model_id[1].as_string();
}

fs::path expand_home(const std::string& path) {
  if (path == "~" || path.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    if (home != nullptr && *home != '\0')
      return fs::path(home) / path.substr(path == "~" ? 1 : 2);
  }
  return path;
}

}  // namespace infernet::services::ml

#include "infernet/sdk/model_id.hpp"

#include <string>

#include "core/abi.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {
namespace {

using inferd::core::Bytes;
using inferd::core::ByteView;
using inferd::core::U256;
using inferd::core::abi::AbiType;
using inferd::core::abi::AbiValue;

constexpr std::string_view kRepoIdForm = "{storage}/{owner}/{name}[/{version}]";

[[noreturn]] void reject(std::string_view field, const std::string& problem) {
  throw ServiceError::bad_request("invalid " + std::string(field) + ": " + problem);
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      return parts;
    }
    start = end + 1;
  }
}

void check_component(std::string_view value, std::string_view what, std::string_view field) {
  if (!is_valid_path_component(value)) {
    reject(field, std::string(what) + " \"" + std::string(value) +
                      "\" must be non-empty, not \".\" or \"..\", and use only letters, digits "
                      "and \"._-+\"");
  }
}

void check_repo(const RepoId& repo, std::string_view field) {
  check_component(repo.owner, "owner", field);
  check_component(repo.name, "name", field);
  if (!repo.version.empty()) {
    check_component(repo.version, "version", field);
  }
}

const AbiType& repo_abi_type() {
  static const AbiType kType =
      AbiType::tuple({AbiType::uint(8), AbiType::string(), AbiType::string(), AbiType::string()});
  return kType;
}

const AbiType& model_abi_type() {
  static const AbiType kType = AbiType::tuple({AbiType::bytes(), AbiType::string()});
  return kType;
}

}  // namespace

std::string_view storage_name(StorageId storage) {
  switch (storage) {
    case StorageId::kLocal:
      return "local";
    case StorageId::kArweave:
      return "arweave";
    case StorageId::kHuggingface:
      return "huggingface";
  }
  return "unknown";
}

std::optional<StorageId> storage_from_name(std::string_view name) {
  for (StorageId storage : {StorageId::kLocal, StorageId::kArweave, StorageId::kHuggingface}) {
    if (storage_name(storage) == name) {
      return storage;
    }
  }
  return std::nullopt;
}

bool is_valid_path_component(std::string_view name) {
  if (name.empty() || name == "." || name == "..") {
    return false;
  }
  for (char c : name) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '+';
    if (!allowed) {
      return false;
    }
  }
  return true;
}

// ---- RepoId ------------------------------------------------------------------------------------

RepoId RepoId::parse(std::string_view text, std::string_view field) {
  const auto parts = split(text, '/');
  if (parts.size() != 3 && parts.size() != 4) {
    reject(field, "\"" + std::string(text) + "\" is not of the form " + std::string(kRepoIdForm));
  }
  const auto storage = storage_from_name(parts[0]);
  if (!storage) {
    reject(field, "unknown storage \"" + std::string(parts[0]) +
                      "\" (expected huggingface, arweave or local)");
  }

  RepoId repo;
  repo.storage = *storage;
  repo.owner = parts[1];
  repo.name = parts[2];
  if (parts.size() == 4) {
    repo.version = parts[3];
    check_component(repo.version, "version", field);
  }
  check_repo(repo, field);
  return repo;
}

RepoId RepoId::abi_decode(ByteView bytes, std::string_view field) {
  auto decoded = inferd::core::abi::decode(repo_abi_type(), bytes);
  if (!decoded) {
    reject(field,
           "not an ABI-encoded (uint8,string,string,string) repo id: " + decoded.error().message);
  }
  const AbiValue& parts = *decoded;
  const std::uint64_t storage_int = parts[0].as_uint().low_u64();
  if (storage_int > static_cast<std::uint64_t>(StorageId::kHuggingface)) {
    reject(field, "unknown storage " + std::to_string(storage_int) +
                      " (expected 0 local, 1 arweave or 2 huggingface)");
  }

  RepoId repo;
  repo.storage = static_cast<StorageId>(storage_int);
  repo.owner = parts[1].as_string();
  repo.name = parts[2].as_string();
  repo.version = parts[3].as_string();
  check_repo(repo, field);
  return repo;
}

std::string RepoId::to_string() const {
  std::string text = std::string(storage_name(storage)) + "/" + owner + "/" + name;
  if (!version.empty()) {
    text += "/" + version;
  }
  return text;
}

Bytes RepoId::abi_encode() const {
  auto encoded = inferd::core::abi::encode(
      repo_abi_type(),
      AbiValue::list({AbiValue::uint(U256(static_cast<std::uint64_t>(storage))),
                      AbiValue::string(owner), AbiValue::string(name), AbiValue::string(version)}));
  return std::move(encoded).value();  // every value fits its type
}

std::filesystem::path RepoId::cache_path() const {
  return std::filesystem::path(std::string(storage_name(storage))) / owner / name /
         (version.empty() ? std::string(kUnversionedMarker) : version);
}

// ---- ModelId -----------------------------------------------------------------------------------

ModelId ModelId::parse(std::string_view text, std::string_view field) {
  const std::size_t colon = text.find(':');
  ModelId model;
  model.repo = RepoId::parse(text.substr(0, colon), field);
  if (colon == std::string_view::npos) {
    return model;
  }

  for (std::string_view file : split(text.substr(colon + 1), ',')) {
    check_component(file, "file name", field);
    model.files.emplace_back(file);
  }
  return model;
}

ModelId ModelId::abi_decode(ByteView bytes, std::string_view field) {
  auto decoded = inferd::core::abi::decode(model_abi_type(), bytes);
  if (!decoded) {
    reject(field, "not an ABI-encoded (bytes,string) model id: " + decoded.error().message);
  }

  ModelId model;
  model.repo = RepoId::abi_decode((*decoded)[0].as_bytes(), field);
  const std::string& files = (*decoded)[1].as_string();
  if (files.empty()) {
    return model;  // the reference would read this as one file named ""
  }
  for (std::string_view file : split(files, ',')) {
    check_component(file, "file name", field);
    model.files.emplace_back(file);
  }
  return model;
}

std::string ModelId::to_string() const {
  std::string text = repo.to_string();
  for (std::size_t i = 0; i < files.size(); ++i) {
    text += (i == 0 ? ":" : ",") + files[i];
  }
  return text;
}

Bytes ModelId::abi_encode() const {
  std::string files_csv;
  for (std::size_t i = 0; i < files.size(); ++i) {
    files_csv += (i == 0 ? "" : ",") + files[i];
  }
  auto encoded = inferd::core::abi::encode(
      model_abi_type(),
      AbiValue::list({AbiValue::bytes(repo.abi_encode()), AbiValue::string(files_csv)}));
  return std::move(encoded).value();  // every value fits its type
}

}  // namespace infernet::sdk

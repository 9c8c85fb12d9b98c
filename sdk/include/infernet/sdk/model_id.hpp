// Repo ids and model ids of Infernet's ML services, in their text and ABI forms.
//
//   repo id   "{storage}/{owner}/{name}[/{version}]", storage being huggingface, arweave or local
//   model id  "{repo id}[:{file}[,{file}...]]", e.g.
//   "huggingface/Ritual-Net/iris-classification:iris.onnx"
//
// On chain, a repo id is abi.encode(uint8 storage, string owner, string name, string version)
// with an empty version for none, and a model id is abi.encode(bytes repo, string files_csv).
// Text forms, storage integers and encodings are those of infernet-ml 2.0.0
// (infernet_ml/resource/repo_id.py, infernet_ml/utils/specs/ml_model_id.py).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"

namespace infernet::sdk {

/// The storage of a repo. The integers are the on-chain values.
enum class StorageId : std::uint8_t { kLocal = 0, kArweave = 1, kHuggingface = 2 };

/// "local", "arweave" or "huggingface".
std::string_view storage_name(StorageId storage);
/// The StorageId named `name` (lowercase, as in repo ids), or nullopt.
std::optional<StorageId> storage_from_name(std::string_view name);

/// The directory name of an unversioned repo in the model cache.
inline constexpr std::string_view kUnversionedMarker = "default";

/// A repository of model files.
///
/// Owner, name, version and file names are single path components made of letters, digits and
/// "._-+", and never "." or "..". They become directory and file names in the model cache, so
/// parse() and abi_decode() reject anything that could lead out of it.
struct RepoId {
  StorageId storage = StorageId::kLocal;
  std::string owner;
  std::string name;
  std::string version;  ///< empty for an unversioned repo

  /// Parses the text form. Throws ServiceError (400) naming `field` when the text is malformed.
  static RepoId parse(std::string_view text, std::string_view field = "repo_id");
  /// Decodes abi.encode(uint8 storage, string owner, string name, string version). Throws
  /// ServiceError (400) naming `field` when the bytes do not decode or a part is invalid.
  static RepoId abi_decode(inferd::core::ByteView bytes, std::string_view field = "repo_id");

  /// The text form, "{storage}/{owner}/{name}" plus "/{version}" when there is one.
  std::string to_string() const;
  /// The on-chain form.
  inferd::core::Bytes abi_encode() const;
  /// "{storage}/{owner}/{name}/{version or "default"}": the repo's directory in a model cache.
  std::filesystem::path cache_path() const;

  friend bool operator==(const RepoId&, const RepoId&) = default;
};

/// A model: a repo and the files of it that make up the model (possibly none).
struct ModelId {
  RepoId repo;
  std::vector<std::string> files;

  /// Parses the text form. Throws ServiceError (400) naming `field` when the text is malformed.
  static ModelId parse(std::string_view text, std::string_view field = "model_id");
  /// Decodes abi.encode(bytes repo, string files_csv). Throws ServiceError (400) naming `field`.
  static ModelId abi_decode(inferd::core::ByteView bytes, std::string_view field = "model_id");

  /// The text form; without files it is the repo id alone.
  std::string to_string() const;
  /// The on-chain form.
  inferd::core::Bytes abi_encode() const;

  friend bool operator==(const ModelId&, const ModelId&) = default;
};

/// Whether `name` can be a repo part or file name (see RepoId).
bool is_valid_path_component(std::string_view name);

}  // namespace infernet::sdk

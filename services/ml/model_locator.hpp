// Maps model ids to model files in a local directory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"

namespace infernet::services::ml {

/// Resolves a model id to a file under one directory, without downloading anything.
///
/// Two forms of model id are accepted:
///   - a repo model id "<storage>/<owner>/<name>[/<version>]:<file>[,<file>...]", storage being
///     huggingface, arweave or local: the file is looked up in the reference's cache layout,
///     <directory>/<storage>/<owner>/<name>/<version or "default">/<file>. Among several files
///     the first with one of the preferred extensions is taken, else the first.
///   - a relative path such as "iris.onnx" or "models/iris.onnx": <directory>/<path>.
/// Absolute paths and ".." components are rejected, so a request cannot name a file outside the
/// directory. Thread-safe: resolve() only reads members.
class ModelLocator {
 public:
  /// `preferred_extensions` such as {".onnx"}, used to pick one file from a list.
  ModelLocator(std::filesystem::path directory, std::vector<std::string> preferred_extensions);

  /// Returns the path of the model file. Throws ServiceError 400 for a malformed model id and
  /// 404 when the file does not exist.
  std::filesystem::path resolve(std::string_view model_id) const;

  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::filesystem::path directory_;
  std::vector<std::string> preferred_extensions_;
};

/// Decodes the on-chain model id encoding abi.encode(bytes repo, string files_csv), where repo is
/// abi.encode(uint8 storage, string owner, string name, string version) and storage is 0 for
/// local, 1 for arweave, 2 for huggingface, into the text form
/// "<storage>/<owner>/<name>[/<version>]:<files_csv>". Throws ServiceError 400 when the bytes do
/// not decode or the storage number is unknown.
std::string model_id_from_abi(inferd::core::ByteView encoded);

/// Expands a leading "~" or "~/" with $HOME, as a shell would; other paths are returned as they
/// are.
std::filesystem::path expand_home(const std::string& path);

}  // namespace infernet::services::ml

// Maps the model ids of inference requests to model files.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace infernet::services::ml {

/// Returns whether `model_id` is a repo model id such as
/// "huggingface/Ritual-Net/iris-classification:iris.onnx", which the SDK's ModelCache serves,
/// rather than a file path: its first path component names a storage (huggingface, arweave or
/// local).
bool is_repo_model_id(std::string_view model_id);

/// Returns whether the file name `file` ends with one of `extensions` such as ".onnx".
bool has_extension(const std::string& file, const std::vector<std::string>& extensions);

/// Returns the first of `files` whose name ends with one of `extensions`, or the first file
/// when none does. Throws ServiceError 400 when `files` is empty.
std::filesystem::path pick_model_file(const std::vector<std::filesystem::path>& files,
                                      const std::vector<std::string>& extensions);

/// Resolves model ids that are relative file paths, such as "iris.onnx" or "team/iris.onnx",
/// to files under one directory. Absolute paths and "." or ".." components are rejected, so a
/// request cannot name a file outside the directory. Thread-safe: resolve() only reads members.
class ModelLocator {
 public:
  explicit ModelLocator(std::filesystem::path directory);

  /// Returns the path of the model file. Throws ServiceError 400 for a malformed path and 404
  /// when the file does not exist.
  std::filesystem::path resolve(std::string_view model_id) const;

  const std::filesystem::path& directory() const { return directory_; }

 private:
  std::filesystem::path directory_;
};

}  // namespace infernet::services::ml

// A local cache of model repos in the layout of Ritual's infernet-ml:
//
//   {cache}/{storage}/{owner}/{name}/{version or "default"}/
//       ritual_manifest.json   {"files": [...], "file_hashes": {"<file>": "<sha256 hex>"},
//                               "repo_id": "...", "artifact_type": "ModelArtifact", ...}
//       <file> ...
//
// Unlike infernet-ml, every file is checked against its sha256 in the manifest each time a model
// is opened, not only after a download.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "infernet/sdk/model_id.hpp"
#include "infra/asio.hpp"

namespace infernet::sdk {

/// The manifest file of a repo.
inline constexpr std::string_view kManifestFileName = "ritual_manifest.json";

/// A parsed ritual_manifest.json.
struct ModelManifest {
  std::vector<std::string> files;                  ///< the model files, from "files"
  std::map<std::string, std::string> file_hashes;  ///< file name to lowercase sha256 hex
  std::string repo_id;                             ///< "" when absent
  std::string artifact_type;                       ///< e.g. "ModelArtifact"; "" when absent
  nlohmann::json document;                         ///< the whole manifest as read

  /// Parses and validates a manifest: `files` must be a list of file names and `file_hashes`
  /// an object of file name to 64 hex digits. `where` names the manifest in error messages.
  /// Throws ServiceError (500), because a bad manifest is a fault of the cache or its source.
  static ModelManifest parse(const nlohmann::json& document, std::string_view where);

  /// Every file the repo contains: `files` and the keys of `file_hashes`, without duplicates.
  std::vector<std::string> all_files() const;
};

/// A repo found in the cache.
struct CachedRepo {
  RepoId repo;
  std::filesystem::path directory;
  ModelManifest manifest;

  /// The reference's BroadcastedArtifact: {"type", "manifest", "repo_id"}, as listed in
  /// /service-resources under cached_models.
  nlohmann::json to_json() const;
};

/// A model whose files were found in the cache and matched their sha256.
struct LocalModel {
  ModelId id;
  std::filesystem::path directory;
  ModelManifest manifest;
  /// Paths of the model's files in the order of id.files, or of manifest.files when the model id
  /// names no files.
  std::vector<std::filesystem::path> files;
};

struct ModelCacheOptions {
  /// The cache root.
  std::filesystem::path directory;
  /// A source tried for every storage before its own: an http:// or https:// URL, or a local
  /// directory (optionally as file://...), laid out like the cache, so repo files are read from
  /// {mirror}/{storage}/{owner}/{name}/{version or "default"}/{file}. Empty for none.
  std::string mirror;
  /// Hugging Face Hub base URL; files are read from
  /// {endpoint}/{owner}/{name}/resolve/{version or "main"}/{file}.
  std::string huggingface_endpoint = "https://huggingface.co";
  /// Deadline for each file download.
  std::chrono::seconds download_timeout{600};
  /// Hugging Face access token, sent as "Authorization: Bearer ..." to the origin of
  /// huggingface_endpoint only (not to the hosts it redirects to). Empty sends none.
  std::string huggingface_token;
  /// PEM file of extra CA certificates for HTTPS sources; empty trusts the system's only.
  std::string ca_file;

  /// Options from the environment of a service whose variables start with `prefix` (e.g.
  /// "ONNX"): {prefix}_CACHE_DIR (default ~/.cache/ritual; a leading "~" is replaced with
  /// $HOME), {prefix}_MODEL_MIRROR, HF_ENDPOINT and HF_TOKEN.
  static ModelCacheOptions from_environment(std::string_view prefix);
};

/// The model cache. Reading methods are thread-safe. Concurrent fetches of one repo are safe too,
/// because each downloads into its own temporary directory and the first to finish is kept.
class ModelCache {
 public:
  explicit ModelCache(ModelCacheOptions options);

  const ModelCacheOptions& options() const { return options_; }
  /// {cache}/{storage}/{owner}/{name}/{version or "default"}.
  std::filesystem::path repo_directory(const RepoId& repo) const;
  /// Whether the repo's manifest is in the cache.
  bool contains(const RepoId& repo) const;

  /// Makes sure `repo` is in the cache. When its manifest is missing, downloads the manifest
  /// and every file it lists from the mirror or, without one, from the repo's storage: the
  /// Hugging Face endpoint for huggingface repos. Arweave downloads are not implemented and
  /// local repos have no source, so both fail unless a mirror is set or the cache was filled
  /// beforehand. Files are checked against their sha256 before the repo appears in the cache.
  /// Throws ServiceError: 404 when the source has no such repo or file, 501 for arweave without
  /// a mirror, 502 when the source fails or sends a file whose sha256 does not match, 503
  /// when it cannot be reached.
  inferd::Awaitable<void> fetch(RepoId repo);

  /// Like fetch(), but from `source`: a URL or directory that contains ritual_manifest.json
  /// and the files side by side. Does nothing when the repo is already cached. A non-empty
  /// `bearer_token` is sent as "Authorization: Bearer ..." to the origin of `source` only.
  inferd::Awaitable<void> fetch_from(RepoId repo, std::string source,
                                     std::string bearer_token = {});

  /// Finds a cached model and checks the sha256 of each of its files. Blocks for the time it
  /// takes to read the files, so large models are best opened off the I/O threads. Throws
  /// ServiceError: 404 when the repo is not cached or has no such file, 500 when the manifest
  /// is invalid, a listed file is missing or its sha256 does not match.
  LocalModel open(const ModelId& model) const;

  /// fetch() followed by open().
  inferd::Awaitable<LocalModel> load(ModelId model);

  /// Every repo in the cache whose manifest parses, in path order. Invalid entries are skipped.
  std::vector<CachedRepo> cached_repos() const;

 private:
  ModelCacheOptions options_;
};

/// The sha256 of a file's contents as 64 lowercase hex digits (OpenSSL's SHA-256). Throws
/// std::runtime_error naming the path when the file cannot be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace infernet::sdk

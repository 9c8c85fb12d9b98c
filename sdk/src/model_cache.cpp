#include "infernet/sdk/model_cache.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include <openssl/evp.h>

#include "infernet/sdk/errors.hpp"
#include "infra/http_client.hpp"

namespace infernet::sdk {
namespace {

namespace fs = std::filesystem;
using inferd::infra::ClientError;
using inferd::infra::ClientErrorKind;
using inferd::infra::ClientRequest;
using inferd::infra::ClientResponse;
using inferd::infra::HttpClient;
using inferd::infra::HttpClientOptions;
using inferd::infra::Url;

constexpr std::size_t kMaxRedirects = 5;
constexpr std::size_t kReadBufferBytes = 64 * 1024;
constexpr std::string_view kPartialDirectory = ".partial";

std::string quoted(const fs::path& path) {
  return "\"" + path.string() + "\"";
}

// ---- SHA-256 -----------------------------------------------------------------------------------

// Incremental SHA-256 over OpenSSL's EVP interface.
class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
      throw std::runtime_error("OpenSSL failed to initialise SHA-256");
    }
  }

  void update(std::string_view data) {
    if (EVP_DigestUpdate(context_.get(), data.data(), data.size()) != 1) {
      throw std::runtime_error("OpenSSL SHA-256 update failed");
    }
  }

  std::string hex_digest() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    if (EVP_DigestFinal_ex(context_.get(), digest.data(), &length) != 1) {
      throw std::runtime_error("OpenSSL SHA-256 finalisation failed");
    }
    constexpr std::string_view kDigits = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) {
      hex.push_back(kDigits[digest[i] >> 4]);
      hex.push_back(kDigits[digest[i] & 0xf]);
    }
    return hex;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context_;
};

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) {
    return false;
  }
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

// ---- Sources -----------------------------------------------------------------------------------

// The origin of one repo's files: a base URL or a directory.
struct Source {
  bool is_http = false;
  std::string base_url;  // without a trailing slash
  fs::path directory;
  std::string bearer_token;  // sent to the origin of base_url only

  static Source parse(std::string_view text) {
    Source source;
    if (text.starts_with("http://") || text.starts_with("https://")) {
      source.is_http = true;
      source.base_url = std::string(text);
      while (source.base_url.ends_with('/')) {
        source.base_url.pop_back();
      }
      return source;
    }
    if (text.starts_with("file://")) {
      text.remove_prefix(7);
    }
    source.directory = fs::path(text);
    return source;
  }

  Source child(const fs::path& relative) const {
    Source result = *this;
    if (is_http) {
      result.base_url += "/" + relative.generic_string();
    } else {
      result.directory /= relative;
    }
    return result;
  }

  // The URL or path of `file`, credentials redacted, for messages.
  std::string describe(std::string_view file) const {
    if (!is_http) {
      return quoted(directory / file);
    }
    try {
      return Url::parse(base_url + "/" + std::string(file)).redacted();
    } catch (const std::invalid_argument&) {
      return "an invalid URL";
    }
  }
};

// The source of `repo` in a mirror laid out like the cache.
std::string mirror_location(const std::string& mirror, const RepoId& repo) {
  const Source source = Source::parse(mirror).child(repo.cache_path());
  return source.is_http ? source.base_url : source.directory.string();
}

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  std::random_device random;
  return std::to_string(random()) + "-" + std::to_string(counter.fetch_add(1));
}

// The URL a redirect's Location header points to, relative to `current`.
std::string resolve_location(const Url& current, const std::string& location) {
  if (location.starts_with("http://") || location.starts_with("https://")) {
    return location;
  }
  if (location.starts_with("/")) {
    return current.origin() + location;
  }
  std::string path = current.target.substr(0, current.target.find('?'));
  return current.origin() + path.substr(0, path.rfind('/') + 1) + location;
}

// Writes one downloaded file and hashes it on the way.
struct FileSink {
  std::ofstream stream;
  Sha256 hash;
};

inferd::Awaitable<void> write_chunk(FileSink& sink, std::string_view chunk) {
  sink.stream.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  sink.hash.update(chunk);
  co_return;
}

// Downloads `url` to `destination`, following up to kMaxRedirects redirects, and returns the
// sha256 of what was written.
// `bearer_token` goes to `token_origin` only, so a redirect to another host (a CDN) never
// receives it.
inferd::Awaitable<std::string> download(HttpClient& client, std::string url, fs::path destination,
                                        std::string description, std::string bearer_token,
                                        std::string token_origin,
                                        std::chrono::steady_clock::time_point deadline) {
  for (std::size_t redirects = 0; redirects <= kMaxRedirects; ++redirects) {
    Url parsed;
    try {
      parsed = Url::parse(url);
    } catch (const std::invalid_argument& error) {
      throw ServiceError(Status::bad_gateway,
                         "invalid download URL for " + description + ": " + error.what());
    }

    FileSink sink;
    sink.stream.open(destination, std::ios::binary | std::ios::trunc);
    if (!sink.stream) {
      throw ServiceError(Status::internal_server_error,
                         "cannot write " + quoted(destination) + " in the model cache");
    }

    // The arguments are named locals because with g++ 12, temporaries in this co_await
    // expression corrupted the heap (a lambda converted to ChunkHandler, a ClientRequest{}).
    ClientRequest request;
    if (!bearer_token.empty() && parsed.origin() == token_origin) {
      request.headers.emplace_back("Authorization", "Bearer " + bearer_token);
    }
    inferd::infra::ChunkHandler on_chunk = [&sink](std::string_view chunk) {
      return write_chunk(sink, chunk);
    };
    ClientResponse response;
    try {
      response = co_await client.stream(parsed, std::move(request), deadline, std::move(on_chunk));
    } catch (const ClientError& error) {
      const bool unreachable =
          error.kind() == ClientErrorKind::kConnect || error.kind() == ClientErrorKind::kTls;
      throw ServiceError(
          unreachable ? Status::service_unavailable : Status::bad_gateway,
          "download of " + description + " failed: " + error.what() +
              (unreachable ? "; the network may not be available here: fill the model cache "
                             "beforehand or set a reachable mirror"
                           : ""));
    }

    const unsigned status = response.status_code;
    if (status >= 200 && status < 300) {
      sink.stream.close();
      if (!sink.stream) {
        throw ServiceError(Status::internal_server_error,
                           "cannot write " + quoted(destination) + " in the model cache");
      }
      co_return sink.hash.hex_digest();
    }
    if (status >= 300 && status < 400 && !response.header("Location").empty()) {
      url = resolve_location(parsed, response.header("Location"));
      continue;
    }
    if (status == 404) {
      throw ServiceError(Status::not_found, description + " was not found (HTTP 404)");
    }
    throw ServiceError(Status::bad_gateway, "download of " + description + " failed with HTTP " +
                                                std::to_string(status));
  }
  throw ServiceError(Status::bad_gateway, "download of " + description + " failed: more than " +
                                              std::to_string(kMaxRedirects) + " redirects");
}

// Reads one file of a repo from `source` into `destination` and returns its sha256.
inferd::Awaitable<std::string> copy_from_source(HttpClient& client, const Source& source,
                                                const std::string& file,
                                                const fs::path& destination,
                                                std::chrono::seconds timeout) {
  const std::string description = source.describe(file);
  if (source.is_http) {
    std::string url = source.base_url + "/" + file;
    std::string token_origin;
    if (!source.bearer_token.empty()) {
      try {
        token_origin = Url::parse(source.base_url).origin();
      } catch (const std::invalid_argument&) {
        token_origin.clear();  // download() reports the invalid URL
      }
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    co_return co_await download(client, std::move(url), destination, description,
                                source.bearer_token, std::move(token_origin), deadline);
  }

  // NOTE: a local copy blocks the calling thread; sources on local disks are expected to be
  // fast enough for that.
  const fs::path origin = source.directory / file;
  std::error_code error;
  if (!fs::is_regular_file(origin, error)) {
    throw ServiceError(Status::not_found, description + " was not found");
  }
  fs::copy_file(origin, destination, fs::copy_options::overwrite_existing, error);
  if (error) {
    throw ServiceError(Status::internal_server_error,
                       "cannot copy " + description + " into the model cache: " + error.message());
  }
  co_return sha256_file(destination);
}

ModelManifest read_manifest(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    throw ServiceError(Status::internal_server_error, "cannot read " + quoted(path));
  }
  nlohmann::json document = nlohmann::json::parse(stream, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    throw ServiceError(Status::internal_server_error, quoted(path) + " is not valid JSON");
  }
  return ModelManifest::parse(document, path.string());
}

}  // namespace

// ---- sha256_file -------------------------------------------------------------------------------

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    throw std::runtime_error("cannot read " + quoted(path) + " to hash it");
  }
  Sha256 hash;
  std::string buffer(kReadBufferBytes, '\0');
  while (stream) {
    stream.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hash.update(std::string_view(buffer.data(), static_cast<std::size_t>(stream.gcount())));
  }
  if (!stream.eof()) {
    throw std::runtime_error("reading " + quoted(path) + " failed while hashing it");
  }
  return hash.hex_digest();
}

// ---- ModelManifest -----------------------------------------------------------------------------

ModelManifest ModelManifest::parse(const nlohmann::json& document, std::string_view where) {
  const std::string prefix = "invalid model manifest " + std::string(where) + ": ";
  auto fail = [&](const std::string& problem) {
    return ServiceError(Status::internal_server_error, prefix + problem);
  };
  if (!document.is_object()) {
    throw fail("expected a JSON object");
  }

  ModelManifest manifest;
  manifest.document = document;
  if (auto files = document.find("files"); files != document.end()) {
    if (!files->is_array()) {
      throw fail("\"files\" must be a list of file names");
    }
    for (const auto& file : *files) {
      if (!file.is_string() || !is_valid_path_component(file.get<std::string>())) {
        throw fail("\"files\" contains " + file.dump() + ", which is not a plain file name");
      }
      manifest.files.push_back(file.get<std::string>());
    }
  }

  if (auto hashes = document.find("file_hashes"); hashes != document.end()) {
    if (!hashes->is_object()) {
      throw fail("\"file_hashes\" must be an object of file name to sha256");
    }
    for (const auto& [file, hash] : hashes->items()) {
      if (!is_valid_path_component(file)) {
        throw fail("\"file_hashes\" names \"" + file + "\", which is not a plain file name");
      }
      if (!hash.is_string() || !is_sha256_hex(hash.get<std::string>())) {
        throw fail("the sha256 of \"" + file + "\" must be 64 lowercase hex digits, got " +
                   hash.dump());
      }
      manifest.file_hashes.emplace(file, hash.get<std::string>());
    }
  }

  if (auto repo_id = document.find("repo_id"); repo_id != document.end() && repo_id->is_string()) {
    manifest.repo_id = repo_id->get<std::string>();
  }
  if (auto type = document.find("artifact_type"); type != document.end() && type->is_string()) {
    manifest.artifact_type = type->get<std::string>();
  }
  return manifest;
}

std::vector<std::string> ModelManifest::all_files() const {
  std::vector<std::string> result = files;
  std::set<std::string> seen(files.begin(), files.end());
  for (const auto& [file, hash] : file_hashes) {
    if (seen.insert(file).second) {
      result.push_back(file);
    }
  }
  return result;
}

nlohmann::json CachedRepo::to_json() const {
  return nlohmann::json{
      {"type", manifest.artifact_type},
      {"manifest", manifest.document},
      {"repo_id", repo.to_string()},
  };
}

// ---- ModelCache --------------------------------------------------------------------------------

ModelCacheOptions ModelCacheOptions::from_environment(std::string_view prefix) {
  auto variable = [](const std::string& name) -> std::string {
    const char* value = std::getenv(name.c_str());
    return value == nullptr ? std::string() : std::string(value);
  };
  const std::string prefix_text(prefix);

  ModelCacheOptions options;
  std::string directory = variable(prefix_text + "_CACHE_DIR");
  if (directory.empty()) {
    directory = "~/.cache/ritual";
  }
  // infernet-ml leaves "~" in these variables unexpanded; a shell would expand it.
  const std::string home = variable("HOME");
  if (!home.empty() && (directory == "~" || directory.starts_with("~/"))) {
    directory = home + directory.substr(1);
  }
  options.directory = directory;
  options.mirror = variable(prefix_text + "_MODEL_MIRROR");
  if (const std::string endpoint = variable("HF_ENDPOINT"); !endpoint.empty()) {
    options.huggingface_endpoint = endpoint;
  }
  options.huggingface_token = variable("HF_TOKEN");
  return options;
}

ModelCache::ModelCache(ModelCacheOptions options) : options_(std::move(options)) {}

std::filesystem::path ModelCache::repo_directory(const RepoId& repo) const {
  return options_.directory / repo.cache_path();
}

bool ModelCache::contains(const RepoId& repo) const {
  std::error_code error;
  return fs::is_regular_file(repo_directory(repo) / kManifestFileName, error);
}

inferd::Awaitable<void> ModelCache::fetch(RepoId repo) {
  if (contains(repo)) {
    co_return;
  }
  if (!options_.mirror.empty()) {
    std::string location = mirror_location(options_.mirror, repo);
    co_await fetch_from(repo, std::move(location));
    co_return;
  }

  switch (repo.storage) {
    case StorageId::kHuggingface: {
      std::string endpoint = options_.huggingface_endpoint;
      while (endpoint.ends_with('/')) {
        endpoint.pop_back();
      }
      std::string location = endpoint + "/" + repo.owner + "/" + repo.name + "/resolve/" +
                             (repo.version.empty() ? "main" : repo.version);
      std::string token = options_.huggingface_token;
      co_await fetch_from(repo, std::move(location), std::move(token));
      co_return;
    }
    case StorageId::kArweave:
      throw ServiceError(Status::not_implemented,
                         "model repo " + repo.to_string() +
                             " is not cached, and Arweave downloads are not supported here: copy "
                             "the repo into " +
                             quoted(repo_directory(repo)) + " or set a model mirror");
    case StorageId::kLocal:
      throw ServiceError(Status::not_found, "model repo " + repo.to_string() +
                                                " is not in the model cache: local repos are "
                                                "not downloaded, so copy the files and " +
                                                std::string(kManifestFileName) + " into " +
                                                quoted(repo_directory(repo)));
  }
}

inferd::Awaitable<void> ModelCache::fetch_from(RepoId repo, std::string source_text,
                                               std::string bearer_token) {
  if (contains(repo)) {
    co_return;
  }
  Source source = Source::parse(source_text);
  source.bearer_token = std::move(bearer_token);
  const fs::path target = repo_directory(repo);
  // Files are downloaded outside the storage directories, so cached_repos() never lists a
  // partial download, and moved into place once all of them match their sha256.
  const fs::path temporary = options_.directory / kPartialDirectory / unique_suffix();
  std::error_code error;
  for (const fs::path& directory : {temporary, target.parent_path()}) {
    fs::create_directories(directory, error);
    if (error) {
      throw ServiceError(Status::internal_server_error,
                         "cannot create " + quoted(directory) + ": " + error.message());
    }
  }

  HttpClientOptions client_options;
  client_options.ca_file = options_.ca_file;
  HttpClient client(co_await boost::asio::this_coro::executor, client_options);

  try {
    const fs::path manifest_path = temporary / kManifestFileName;
    const std::string manifest_name(kManifestFileName);
    co_await copy_from_source(client, source, manifest_name, manifest_path,
                              options_.download_timeout);
    ModelManifest manifest;
    try {
      manifest = read_manifest(manifest_path);
    } catch (const ServiceError& invalid) {
      throw ServiceError(Status::bad_gateway, std::string(invalid.what()) + " (downloaded from " +
                                                  source.describe(kManifestFileName) + ")");
    }

    for (const std::string& file : manifest.all_files()) {
      const fs::path destination = temporary / file;
      const std::string hash =
          co_await copy_from_source(client, source, file, destination, options_.download_timeout);
      auto expected = manifest.file_hashes.find(file);
      if (expected == manifest.file_hashes.end()) {
        throw ServiceError(Status::bad_gateway, "the manifest from " +
                                                    source.describe(kManifestFileName) +
                                                    " has no sha256 for \"" + file + "\"");
      }
      if (hash != expected->second) {
        throw ServiceError(Status::bad_gateway, "sha256 mismatch for " + source.describe(file) +
                                                    ": got " + hash + ", the manifest says " +
                                                    expected->second);
      }
    }

    fs::rename(temporary, target, error);
    if (error) {
      if (!contains(repo)) {
        throw ServiceError(
            Status::internal_server_error,
            "cannot move " + quoted(temporary) + " to " + quoted(target) + ": " + error.message());
      }
      fs::remove_all(temporary, error);  // another fetch of the same repo finished first
    }
  } catch (...) {
    std::error_code ignored;
    fs::remove_all(temporary, ignored);
    throw;
  }
}

LocalModel ModelCache::open(const ModelId& model) const {
  const fs::path directory = repo_directory(model.repo);
  if (!contains(model.repo)) {
    throw ServiceError(Status::not_found,
                       "model repo " + model.repo.to_string() + " is not in the model cache");
  }

  LocalModel local;
  local.id = model;
  local.directory = directory;
  local.manifest = read_manifest(directory / kManifestFileName);
  const std::vector<std::string> files = model.files.empty() ? local.manifest.files : model.files;
  const std::vector<std::string> known = local.manifest.all_files();

  for (const std::string& file : files) {
    if (std::find(known.begin(), known.end(), file) == known.end()) {
      std::string listing;
      for (const std::string& name : known) {
        listing += (listing.empty() ? "" : ", ") + name;
      }
      throw ServiceError(Status::not_found, "model repo " + model.repo.to_string() +
                                                " has no file \"" + file + "\" (files: " + listing +
                                                ")");
    }

    const fs::path path = directory / file;
    auto expected = local.manifest.file_hashes.find(file);
    if (expected == local.manifest.file_hashes.end()) {
      throw ServiceError(Status::internal_server_error,
                         "the manifest of " + model.repo.to_string() + " has no sha256 for \"" +
                             file + "\", so the file cannot be checked");
    }
    std::error_code error;
    if (!fs::is_regular_file(path, error)) {
      throw ServiceError(Status::internal_server_error,
                         "cached file " + quoted(path) + " is missing; delete " +
                             quoted(directory) + " to download the repo again");
    }
    const std::string actual = sha256_file(path);
    if (actual != expected->second) {
      throw ServiceError(Status::internal_server_error,
                         "cached file " + quoted(path) + " has sha256 " + actual +
                             " but the manifest says " + expected->second + "; delete " +
                             quoted(directory) + " to download the repo again");
    }
    local.files.push_back(path);
  }
  return local;
}

inferd::Awaitable<LocalModel> ModelCache::load(ModelId model) {
  co_await fetch(model.repo);
  co_return open(model);
}

std::vector<CachedRepo> ModelCache::cached_repos() const {
  std::vector<CachedRepo> repos;
  std::error_code error;
  for (StorageId storage : {StorageId::kLocal, StorageId::kArweave, StorageId::kHuggingface}) {
    const fs::path storage_directory = options_.directory / std::string(storage_name(storage));
    if (!fs::is_directory(storage_directory, error)) {
      continue;
    }
    std::vector<fs::path> manifests;
    for (auto it = fs::recursive_directory_iterator(storage_directory, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (it.depth() == 3 && it->path().filename() == kManifestFileName) {
        manifests.push_back(it->path());
      }
      if (it.depth() >= 3) {
        it.disable_recursion_pending();
      }
    }
    std::sort(manifests.begin(), manifests.end());

    for (const fs::path& manifest_path : manifests) {
      const fs::path version = manifest_path.parent_path();
      const fs::path name = version.parent_path();
      const fs::path owner = name.parent_path();
      CachedRepo repo;
      repo.repo.storage = storage;
      repo.repo.owner = owner.filename().string();
      repo.repo.name = name.filename().string();
      repo.repo.version =
          version.filename() == kUnversionedMarker ? "" : version.filename().string();
      repo.directory = version;
      if (!is_valid_path_component(repo.repo.owner) || !is_valid_path_component(repo.repo.name) ||
          !is_valid_path_component(version.filename().string())) {
        continue;  // not a directory fetch() could have created
      }
      try {
        repo.manifest = read_manifest(manifest_path);
      } catch (const ServiceError&) {
        continue;  // open() reports the problem when the model is requested
      }
      repos.push_back(std::move(repo));
    }
  }
  return repos;
}

}  // namespace infernet::sdk

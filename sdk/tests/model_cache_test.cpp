#include "infernet/sdk/model_cache.hpp"

#include <atomic>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "infernet/sdk/errors.hpp"
#include "infra/http_server.hpp"

namespace infernet::sdk {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace http = boost::beast::http;
template <typename T>
using Awaitable = inferd::Awaitable<T>;
using inferd::infra::HttpResponse;
using inferd::infra::HttpServer;
using inferd::infra::HttpServerOptions;
using inferd::infra::RequestContext;

// SHA-256 test vectors of FIPS 180-2, appendix B.1 ("abc") and of the empty string.
constexpr const char* kSha256Abc =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* kSha256Empty =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const std::string kModelBytes = std::string("onnx\0model", 10);
const std::string kConfigBytes = "{\"labels\": 3}";

void write_file(const fs::path& path, const std::string& contents) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << contents;
}

std::string read_file(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(stream), {});
}

// A repo with two files, as an uploader would write it.
std::map<std::string, std::string> repo_files(const fs::path& scratch) {
  write_file(scratch / "iris.onnx", kModelBytes);
  write_file(scratch / "config.json", kConfigBytes);
  nlohmann::json manifest = {
      {"files", {"iris.onnx"}},
      {"metadata", {{"iris.onnx", {{"size", kModelBytes.size()}}}}},
      {"repo_id", "huggingface/owner/iris"},
      {"artifact_type", "ModelArtifact"},
      {"file_hashes",
       {{"iris.onnx", sha256_file(scratch / "iris.onnx")},
        {"config.json", sha256_file(scratch / "config.json")}}},
  };
  return {{"ritual_manifest.json", manifest.dump(2)},
          {"iris.onnx", kModelBytes},
          {"config.json", kConfigBytes}};
}

// A scratch directory, a model cache in it, and a loopback HTTP server that serves files.
class ModelCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    root_ = fs::temp_directory_path() / ("inferd-model-cache-" + std::to_string(random()));
    fs::create_directories(root_);
    options_.directory = root_ / "cache";
    files_ = repo_files(root_ / "scratch");
  }

  void TearDown() override {
    if (server_) {
      server_->stop_accepting();
      server_->close_connections();
    }
    work_.reset();
    io_.stop();
    if (thread_.joinable()) {
      thread_.join();
    }
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  // Serves `contents` at `path`, counting requests.
  void serve(const std::string& path, std::string contents) {
    routes_.emplace_back(path, std::move(contents));
  }

  // Replies to `path` with a redirect to `location`.
  void redirect(const std::string& path, std::string location) {
    redirects_.emplace_back(path, std::move(location));
  }

  void start_server() {
    HttpServerOptions options;
    server_ = std::make_unique<HttpServer>(io_, options);
    for (const auto& [path, contents] : routes_) {
      server_->route(
          http::verb::get, path,
          [this, path, body = contents](RequestContext& context) -> Awaitable<HttpResponse> {
            ++requests_;
            record_authorization(path, context);
            HttpResponse response(http::status::ok, context.request().version());
            response.body() = body;
            response.prepare_payload();
            co_return response;
          });
    }
    for (const auto& [path, location] : redirects_) {
      server_->route(http::verb::get, path,
                     [location](RequestContext& context) -> Awaitable<HttpResponse> {
                       HttpResponse response(http::status::found, context.request().version());
                       response.set(http::field::location, location);
                       response.prepare_payload();
                       co_return response;
                     });
    }
    server_->start();
    start_io();
  }

  void start_io() {
    if (!thread_.joinable()) {
      thread_ = std::thread([this] { io_.run(); });
    }
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

  template <typename T>
  T run(Awaitable<T> operation) {
    start_io();
    return asio::co_spawn(io_, std::move(operation), asio::use_future).get();
  }

  // Runs `operation` expecting a ServiceError and returns it.
  template <typename T>
  ServiceError failure(Awaitable<T> operation) {
    try {
      run(std::move(operation));
    } catch (const ServiceError& error) {
      return error;
    }
    ADD_FAILURE() << "the operation succeeded";
    return ServiceError(Status::ok, "");
  }

  // Serves the repo files under `prefix`.
  void serve_repo(const std::string& prefix) {
    for (const auto& [name, contents] : files_) {
      serve(prefix + "/" + name, contents);
    }
  }

  // Writes the repo files into `directory`.
  void write_repo(const fs::path& directory) {
    for (const auto& [name, contents] : files_) {
      write_file(directory / name, contents);
    }
  }

  void record_authorization(const std::string& path, RequestContext& context) {
    std::lock_guard lock(mutex_);
    authorization_[path] = std::string(context.request()[http::field::authorization]);
  }

  std::string authorization(const std::string& path) {
    std::lock_guard lock(mutex_);
    return authorization_[path];
  }

  bool has_partial_downloads() const {
    std::error_code error;
    const fs::path partial = options_.directory / ".partial";
    return fs::exists(partial, error) && !fs::is_empty(partial, error);
  }

  fs::path root_;
  ModelCacheOptions options_;
  std::map<std::string, std::string> files_;
  std::vector<std::pair<std::string, std::string>> routes_;
  std::vector<std::pair<std::string, std::string>> redirects_;
  std::atomic<int> requests_{0};
  std::mutex mutex_;
  std::map<std::string, std::string> authorization_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

const RepoId kHuggingfaceRepo{StorageId::kHuggingface, "owner", "iris", ""};

TEST(Sha256File, KnownVectors) {
  const fs::path path = fs::temp_directory_path() / "inferd-sha256-test";
  write_file(path, "abc");
  EXPECT_EQ(sha256_file(path), kSha256Abc);
  write_file(path, "");
  EXPECT_EQ(sha256_file(path), kSha256Empty);
  fs::remove(path);
  EXPECT_THROW(sha256_file(path), std::runtime_error);
}

TEST_F(ModelCacheTest, FetchFromDirectory) {
  write_repo(root_ / "source");
  ModelCache cache(options_);
  EXPECT_FALSE(cache.contains(kHuggingfaceRepo));

  run(cache.fetch_from(kHuggingfaceRepo, (root_ / "source").string()));

  ASSERT_TRUE(cache.contains(kHuggingfaceRepo));
  const fs::path directory = options_.directory / "huggingface/owner/iris/default";
  EXPECT_EQ(cache.repo_directory(kHuggingfaceRepo), directory);
  EXPECT_EQ(read_file(directory / "iris.onnx"), kModelBytes);
  EXPECT_EQ(read_file(directory / "config.json"), kConfigBytes);
  EXPECT_FALSE(has_partial_downloads());
}

TEST_F(ModelCacheTest, OpenChecksFiles) {
  write_repo(options_.directory / "huggingface/owner/iris/default");
  ModelCache cache(options_);

  auto model = cache.open(ModelId::parse("huggingface/owner/iris:config.json,iris.onnx"));
  ASSERT_EQ(model.files.size(), 2u);
  EXPECT_EQ(model.files[0].filename(), "config.json");
  EXPECT_EQ(model.files[1].filename(), "iris.onnx");
  EXPECT_EQ(model.manifest.artifact_type, "ModelArtifact");

  // Without files in the model id, the manifest's "files" list is used.
  auto whole = cache.open(ModelId::parse("huggingface/owner/iris"));
  ASSERT_EQ(whole.files.size(), 1u);
  EXPECT_EQ(whole.files[0].filename(), "iris.onnx");
}

TEST_F(ModelCacheTest, OpenRejectsTamperedFile) {
  const fs::path directory = options_.directory / "huggingface/owner/iris/default";
  write_repo(directory);
  write_file(directory / "iris.onnx", "tampered");
  ModelCache cache(options_);
  try {
    cache.open(ModelId::parse("huggingface/owner/iris:iris.onnx"));
    FAIL() << "opened a tampered file";
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::internal_server_error);
    EXPECT_NE(std::string(error.what()).find("sha256"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("delete"), std::string::npos) << error.what();
  }
}

TEST_F(ModelCacheTest, OpenRejectsUnknownFileAndRepo) {
  write_repo(options_.directory / "huggingface/owner/iris/default");
  ModelCache cache(options_);
  try {
    cache.open(ModelId::parse("huggingface/owner/iris:iris.torch"));
    FAIL() << "opened a file the repo does not have";
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::not_found);
    EXPECT_NE(std::string(error.what()).find("iris.onnx"), std::string::npos) << error.what();
  }
  try {
    cache.open(ModelId::parse("huggingface/owner/other:iris.onnx"));
    FAIL() << "opened a repo that is not cached";
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::not_found);
  }
}

TEST_F(ModelCacheTest, FetchFromHttpMirrorFollowsRedirect) {
  serve("/mirror/huggingface/owner/iris/default/ritual_manifest.json",
        files_["ritual_manifest.json"]);
  serve("/mirror/huggingface/owner/iris/default/config.json", kConfigBytes);
  redirect("/mirror/huggingface/owner/iris/default/iris.onnx", "/blobs/iris.onnx");
  serve("/blobs/iris.onnx", kModelBytes);
  start_server();
  options_.mirror = base_url() + "/mirror/";
  ModelCache cache(options_);

  auto model = run(cache.load(ModelId::parse("huggingface/owner/iris:iris.onnx")));

  ASSERT_EQ(model.files.size(), 1u);
  EXPECT_EQ(read_file(model.files[0]), kModelBytes);
  EXPECT_EQ(requests_.load(), 3);
  // A second load reads the cache only.
  run(cache.load(ModelId::parse("huggingface/owner/iris:iris.onnx")));
  EXPECT_EQ(requests_.load(), 3);
}

TEST_F(ModelCacheTest, FetchFromDirectoryMirror) {
  write_repo(root_ / "mirror/arweave/wallet/iris/v2");
  options_.mirror = "file://" + (root_ / "mirror").string();
  ModelCache cache(options_);
  auto model = run(cache.load(ModelId::parse("arweave/wallet/iris/v2:iris.onnx")));
  EXPECT_EQ(model.directory, options_.directory / "arweave/wallet/iris/v2");
}

TEST_F(ModelCacheTest, FetchFromHuggingfaceEndpoint) {
  serve_repo("/owner/iris/resolve/main");
  serve("/owner/iris/resolve/v3/ritual_manifest.json", files_["ritual_manifest.json"]);
  serve("/owner/iris/resolve/v3/iris.onnx", kModelBytes);
  serve("/owner/iris/resolve/v3/config.json", kConfigBytes);
  start_server();
  options_.huggingface_endpoint = base_url();
  ModelCache cache(options_);

  run(cache.fetch(kHuggingfaceRepo));
  run(cache.fetch(RepoId::parse("huggingface/owner/iris/v3")));

  EXPECT_TRUE(cache.contains(kHuggingfaceRepo));
  EXPECT_TRUE(cache.contains(RepoId::parse("huggingface/owner/iris/v3")));
}

TEST_F(ModelCacheTest, FetchRejectsHashMismatch) {
  serve("/repo/ritual_manifest.json", files_["ritual_manifest.json"]);
  serve("/repo/iris.onnx", "not the model");
  serve("/repo/config.json", kConfigBytes);
  start_server();
  ModelCache cache(options_);

  auto error = failure(cache.fetch_from(kHuggingfaceRepo, base_url() + "/repo"));

  EXPECT_EQ(error.status(), Status::bad_gateway);
  EXPECT_NE(std::string(error.what()).find("sha256 mismatch"), std::string::npos) << error.what();
  EXPECT_FALSE(cache.contains(kHuggingfaceRepo));
  EXPECT_FALSE(has_partial_downloads());
}

TEST_F(ModelCacheTest, FetchReportsMissingFile) {
  serve("/repo/ritual_manifest.json", files_["ritual_manifest.json"]);
  serve("/repo/iris.onnx", kModelBytes);
  start_server();
  ModelCache cache(options_);

  auto error = failure(cache.fetch_from(kHuggingfaceRepo, base_url() + "/repo"));

  EXPECT_EQ(error.status(), Status::not_found);
  EXPECT_NE(std::string(error.what()).find("/repo/config.json"), std::string::npos) << error.what();
  EXPECT_FALSE(cache.contains(kHuggingfaceRepo));
}

TEST_F(ModelCacheTest, FetchRejectsInvalidManifest) {
  serve("/repo/ritual_manifest.json", R"({"files": ["../escape"]})");
  start_server();
  ModelCache cache(options_);

  auto error = failure(cache.fetch_from(kHuggingfaceRepo, base_url() + "/repo"));

  EXPECT_EQ(error.status(), Status::bad_gateway);
  EXPECT_NE(std::string(error.what()).find("../escape"), std::string::npos) << error.what();
}

TEST_F(ModelCacheTest, UnreachableHuggingfaceIsUnavailable) {
  // A port that was just free: bind it, then close it before the download starts.
  asio::ip::tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = acceptor.local_endpoint().port();
  acceptor.close();
  options_.huggingface_endpoint = "http://127.0.0.1:" + std::to_string(port);
  ModelCache cache(options_);

  auto error = failure(cache.fetch(kHuggingfaceRepo));

  EXPECT_EQ(error.status(), Status::service_unavailable);
  EXPECT_NE(std::string(error.what()).find("network may not be available"), std::string::npos)
      << error.what();
}

TEST_F(ModelCacheTest, ArweaveAndLocalNeedACache) {
  ModelCache cache(options_);

  auto arweave = failure(cache.fetch(RepoId::parse("arweave/wallet/iris")));
  EXPECT_EQ(arweave.status(), Status::not_implemented);
  EXPECT_NE(std::string(arweave.what()).find("Arweave downloads are not supported"),
            std::string::npos);

  auto local = failure(cache.fetch(RepoId::parse("local/me/iris")));
  EXPECT_EQ(local.status(), Status::not_found);
  EXPECT_NE(std::string(local.what()).find((options_.directory / "local/me/iris/default").string()),
            std::string::npos)
      << local.what();
}

TEST_F(ModelCacheTest, CachedReposListsValidRepos) {
  write_repo(options_.directory / "huggingface/owner/iris/default");
  write_repo(options_.directory / "arweave/wallet/iris/v1");
  write_file(options_.directory / "local/me/broken/default/ritual_manifest.json", "not json");
  ModelCache cache(options_);

  auto repos = cache.cached_repos();

  ASSERT_EQ(repos.size(), 2u);
  EXPECT_EQ(repos[0].repo.to_string(), "arweave/wallet/iris/v1");
  EXPECT_EQ(repos[1].repo.to_string(), "huggingface/owner/iris");
  auto json = repos[1].to_json();
  EXPECT_EQ(json["type"], "ModelArtifact");
  EXPECT_EQ(json["repo_id"], "huggingface/owner/iris");
  EXPECT_EQ(json["manifest"]["files"], nlohmann::json({"iris.onnx"}));
}

TEST_F(ModelCacheTest, TokenGoesToHuggingfaceOriginOnly) {
  // A second server plays the CDN that Hugging Face redirects large files to.
  HttpServer cdn(io_, HttpServerOptions{});
  std::string cdn_authorization = "not requested";
  cdn.route(http::verb::get, "/blob", [&](RequestContext& context) -> Awaitable<HttpResponse> {
    cdn_authorization = std::string(context.request()[http::field::authorization]);
    HttpResponse response(http::status::ok, context.request().version());
    response.body() = kModelBytes;
    response.prepare_payload();
    co_return response;
  });
  cdn.start();
  serve("/owner/iris/resolve/main/ritual_manifest.json", files_["ritual_manifest.json"]);
  serve("/owner/iris/resolve/main/config.json", kConfigBytes);
  redirect("/owner/iris/resolve/main/iris.onnx",
           "http://127.0.0.1:" + std::to_string(cdn.port()) + "/blob");
  start_server();
  options_.huggingface_endpoint = base_url();
  options_.huggingface_token = "hf_test_token";
  ModelCache cache(options_);

  run(cache.fetch(kHuggingfaceRepo));
  cdn.stop_accepting();
  cdn.close_connections();

  EXPECT_EQ(authorization("/owner/iris/resolve/main/ritual_manifest.json"), "Bearer hf_test_token");
  EXPECT_EQ(authorization("/owner/iris/resolve/main/config.json"), "Bearer hf_test_token");
  EXPECT_EQ(cdn_authorization, "");
  EXPECT_TRUE(cache.contains(kHuggingfaceRepo));
}

TEST(ModelCacheOptions, FromEnvironment) {
  ::setenv("INFERDTEST_CACHE_DIR", "~/models", 1);
  ::setenv("INFERDTEST_MODEL_MIRROR", "http://127.0.0.1:9/mirror", 1);
  const char* home = std::getenv("HOME");
  auto options = ModelCacheOptions::from_environment("INFERDTEST");
  ::unsetenv("INFERDTEST_CACHE_DIR");
  ::unsetenv("INFERDTEST_MODEL_MIRROR");

  ASSERT_NE(home, nullptr);
  EXPECT_EQ(options.directory, fs::path(home) / "models");
  EXPECT_EQ(options.mirror, "http://127.0.0.1:9/mirror");
  auto defaults = ModelCacheOptions::from_environment("INFERDTEST");
  EXPECT_EQ(defaults.directory, fs::path(home) / ".cache/ritual");
  EXPECT_TRUE(defaults.mirror.empty());
}

TEST(ModelManifest, RejectsBadHashes) {
  EXPECT_THROW(
      ModelManifest::parse(nlohmann::json::parse(R"({"file_hashes": {"a": "xyz"}})"), "test"),
      ServiceError);
  EXPECT_THROW(ModelManifest::parse(nlohmann::json::parse(R"({"files": "a"})"), "test"),
               ServiceError);
  auto manifest = ModelManifest::parse(
      nlohmann::json::parse(std::string(R"({"files": ["a"], "file_hashes": {"b": ")") + kSha256Abc +
                            "\"}}"),
      "test");
  EXPECT_EQ(manifest.all_files(), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace infernet::sdk

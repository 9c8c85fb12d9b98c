// Starts the real onnx-service and torch-service binaries on free loopback ports with the iris
// models of services/models/ and checks their replies against iris_expected.json, which contains
// the probabilities PyTorch computed for fixed inputs when the models were generated.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/model_cache.hpp"
#include "infernet/sdk/model_id.hpp"
#include "infernet/sdk/vector.hpp"
#include "infra/http_client.hpp"
#include "ml/inference_request.hpp"
#include "tests/service_process.hpp"

namespace infernet::services::testing {
namespace {

using namespace std::chrono_literals;
using inferd::infra::ClientRequest;
using inferd::infra::ClientResponse;
using inferd::infra::HttpClient;
using inferd::infra::Url;
using sdk::RitualVector;
namespace asio = boost::asio;
namespace http = boost::beast::http;

namespace fs = std::filesystem;

const fs::path kCommittedModels = fs::path(INFERD_SOURCE_DIR) / "services/models";

nlohmann::json expected_results() {
  std::ifstream file(kCommittedModels / "iris_expected.json");
  return nlohmann::json::parse(file);
}

// A model cache directory for this test process, removed at exit. It contains
//   iris.onnx, iris.pt            the committed models, for model ids that are paths
//   not_a_model.onnx              text, for the "cannot load" case
//   local/tests/iris/default/     both models with a ritual_manifest.json of their sha256
//   local/tests/tampered/default/ the same, but iris.onnx and iris.pt differ from the manifest
class ModelDirectory {
 public:
  ModelDirectory()
      : path_(fs::temp_directory_path() / ("inferd-inference-test-" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
    for (const char* file : {"iris.onnx", "iris.pt"})
      fs::copy_file(kCommittedModels / file, path_ / file, fs::copy_options::overwrite_existing);
    std::ofstream(path_ / "not_a_model.onnx") << "not an ONNX model";
    add_repo("iris", false);
    add_repo("tampered", true);
  }
  ~ModelDirectory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }

  const fs::path& path() const { return path_; }

 private:
  void add_repo(const std::string& name, bool tamper) {
    const fs::path repo = path_ / "local/tests" / name / "default";
    fs::create_directories(repo);
    nlohmann::json manifest{{"files", {"iris.onnx", "iris.pt"}},
                            {"file_hashes", nlohmann::json::object()},
                            {"repo_id", "local/tests/" + name},
                            {"artifact_type", "ModelArtifact"}};
    for (const char* file : {"iris.onnx", "iris.pt"}) {
      fs::copy_file(kCommittedModels / file, repo / file, fs::copy_options::overwrite_existing);
      manifest["file_hashes"][file] = sdk::sha256_file(repo / file);
      if (tamper)
        std::ofstream(repo / file, std::ios::app) << "tampered";
    }
    std::ofstream(repo / "ritual_manifest.json") << manifest.dump(2);
  }

  fs::path path_;
};

const fs::path& model_directory() {
  static const ModelDirectory directory;
  return directory.path();
}

// One service binary under test and what differs between the two.
struct Flavor {
  std::string binary;
  std::string prefix;  ///< environment variable prefix
  std::string model_file;
  std::string readiness_message;
  std::string proof_error;
  bool wraps_result;  ///< off-chain reply is {"result": [...]} rather than the vector itself
};

// Names the parameter in test output instead of printing its bytes.
void PrintTo(const Flavor& flavor, std::ostream* out) {
  *out << flavor.binary;
}

const Flavor kOnnx{"onnx-service",
                   "ONNX",
                   "iris.onnx",
                   "onnx-inference-service",
                   "Proofs are not supported for ONNX Inference",
                   true};
const Flavor kTorch{"torch-service",
                    "TORCH",
                    "iris.pt",
                    "torch-inference-service",
                    "Proofs are not supported for Torch Inference Service",
                    false};

std::vector<std::string> environment(const Flavor& flavor, bool with_default_model) {
  std::vector<std::string> entries{flavor.prefix + "_CACHE_DIR=" + model_directory().string()};
  if (with_default_model)
    entries.push_back(flavor.prefix + "_DEFAULT_MODEL_ID=" + flavor.model_file);
  return entries;
}

const std::vector<std::string> kLoopback{"--bind-address", "127.0.0.1", "--port", "0"};

// An HTTP client on its own I/O thread.
class Client {
 public:
  Client() : thread_([this] { io_.run(); }) {}
  ~Client() {
    client_.clear_idle();
    work_.reset();
    io_.stop();
    thread_.join();
  }

  ClientResponse send(unsigned short port, http::verb method, const std::string& path,
                      std::string body = {}) {
    ClientRequest request;
    request.method = method;
    request.body = std::move(body);
    request.content_type = "application/json";
    auto url = Url::parse("http://127.0.0.1:" + std::to_string(port) + path);
    return asio::co_spawn(
               io_, client_.send(url, std::move(request), std::chrono::steady_clock::now() + 20s),
               asio::use_future)
        .get();
  }

  nlohmann::json post_job(unsigned short port, int source, int destination,
                          const nlohmann::json& data, bool requires_proof = false,
                          unsigned expected_status = 200) {
    nlohmann::json envelope{{"source", source},
                            {"destination", destination},
                            {"data", data},
                            {"requires_proof", requires_proof}};
    auto response = send(port, http::verb::post, "/service_output", envelope.dump());
    EXPECT_EQ(response.status_code, expected_status) << response.body;
    EXPECT_TRUE(response.is_json()) << response.header("content-type");
    return nlohmann::json::parse(response.body);
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  HttpClient client_{io_.get_executor()};
  std::thread thread_;
};

// The output vector of an off-chain reply, whichever form the service uses.
RitualVector offchain_output(const Flavor& flavor, const nlohmann::json& reply) {
  if (!flavor.wraps_result)
    return RitualVector::from_json(reply, "reply");
  EXPECT_TRUE(reply.contains("result")) << reply;
  EXPECT_EQ(reply["result"].size(), 1u) << reply;
  return RitualVector::from_json(reply["result"][0], "reply.result[0]");
}

void expect_probabilities(const RitualVector& output, const nlohmann::json& expected,
                          const std::vector<std::int64_t>& shape, double tolerance) {
  EXPECT_EQ(output.dtype, sdk::DataType::kFloat32);
  EXPECT_EQ(output.shape, shape);
  ASSERT_EQ(output.values.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(output.values[i], expected[i].get<double>(), tolerance) << "probability " << i;
}

std::size_t argmax(const std::vector<double>& values) {
  return static_cast<std::size_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

class InferenceService : public ::testing::TestWithParam<Flavor> {
 protected:
  const Flavor& flavor() const { return GetParam(); }
};

TEST_P(InferenceService, ReadinessNamesService) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), true));
  Client client;
  auto response = client.send(service.port(), http::verb::get, "/");
  EXPECT_EQ(response.status_code, 200u);
  EXPECT_EQ(nlohmann::json::parse(response.body),
            nlohmann::json({{"message", flavor().readiness_message}}));
}

TEST_P(InferenceService, OffchainIrisCases) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), true));
  Client client;
  const auto expected = expected_results();
  const double tolerance = expected["tolerance"].get<double>();
  for (const auto& example : expected["cases"]) {
    SCOPED_TRACE(example["class"].get<std::string>());
    const nlohmann::json data{{"inputs", {{"input", example["input"]}}}};
    auto output = offchain_output(flavor(), client.post_job(service.port(), 1, 1, data));
    expect_probabilities(output, example["probabilities"], {1, 3}, tolerance);
    EXPECT_EQ(argmax(output.values), example["class_index"].get<std::size_t>());
  }
}

TEST_P(InferenceService, OffchainBatch) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), true));
  Client client;
  const auto expected = expected_results();
  const nlohmann::json data{{"input", expected["batch"]["input"]}};
  auto output = offchain_output(flavor(), client.post_job(service.port(), 1, 1, data));
  expect_probabilities(output, expected["batch"]["probabilities"], {4, 3},
                       expected["tolerance"].get<double>());
}

TEST_P(InferenceService, OnchainIrisCase) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), true));
  Client client;
  const auto expected = expected_results();
  const auto& example = expected["cases"][2];
  auto input = ml::encode_onchain_request({}, RitualVector::from_json(example["input"]));

  auto reply = client.post_job(service.port(), 0, 0, sdk::hex_encode(input));
  ASSERT_EQ(reply.size(), 5u) << reply;
  EXPECT_EQ(reply["raw_input"], "");
  EXPECT_EQ(reply["processed_output"], "");
  EXPECT_EQ(reply["proof"], "");
  auto output = RitualVector::abi_decode(sdk::hex_decode(reply["raw_output"].get<std::string>()));
  expect_probabilities(output, example["probabilities"], {1, 3}, expected["tolerance"]);
  EXPECT_EQ(argmax(output.values), 2u);
}

// Consumer contracts usually send fixed-point vectors, which decode as float128.
TEST_P(InferenceService, OnchainFixedPointInput) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), true));
  Client client;
  const auto expected = expected_results();
  const auto& example = expected["cases"][1];
  auto vector = RitualVector::from_json(example["input"])
                    .abi_encode(sdk::Arithmetic::kFixedPoint, /*fixed_point_scale=*/6);
  auto input = sdk::abi_encode(sdk::abi_type("(bytes,bytes)"),
                               {sdk::AbiValue::bytes({}), sdk::AbiValue::bytes(vector)});

  auto reply = client.post_job(service.port(), 0, 0, sdk::hex_encode(input));
  auto output = RitualVector::abi_decode(sdk::hex_decode(reply["raw_output"].get<std::string>()));
  expect_probabilities(output, example["probabilities"], {1, 3}, expected["tolerance"]);
  EXPECT_EQ(argmax(output.values), 1u);
}

// The on-chain model id names a repo in the model cache, abi.encode(bytes repo, string files).
inferd::core::Bytes cached_model_id(const std::string& repo_name, const std::string& file) {
  sdk::ModelId model_id;
  model_id.repo.storage = sdk::StorageId::kLocal;
  model_id.repo.owner = "tests";
  model_id.repo.name = repo_name;
  model_id.files = {file};
  return model_id.abi_encode();
}

TEST_P(InferenceService, OnchainCachedModelId) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), false));
  Client client;
  const auto expected = expected_results();
  const auto& example = expected["cases"][0];
  auto input = ml::encode_onchain_request(cached_model_id("iris", flavor().model_file),
                                          RitualVector::from_json(example["input"]));

  auto reply = client.post_job(service.port(), 0, 0, sdk::hex_encode(input));
  auto output = RitualVector::abi_decode(sdk::hex_decode(reply["raw_output"].get<std::string>()));
  expect_probabilities(output, example["probabilities"], {1, 3}, expected["tolerance"]);
}

TEST_P(InferenceService, TamperedModelIsRejected) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), false));
  Client client;
  const auto expected = expected_results();
  auto input = ml::encode_onchain_request(cached_model_id("tampered", flavor().model_file),
                                          RitualVector::from_json(expected["cases"][0]["input"]));

  auto reply = client.post_job(service.port(), 0, 0, sdk::hex_encode(input), false, 500);
  EXPECT_EQ(reply["code"], "500");
  EXPECT_NE(reply["description"].get<std::string>().find("sha256"), std::string::npos) << reply;
}

TEST_P(InferenceService, ServiceResourcesListCache) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), true));
  Client client;
  auto response = client.send(service.port(), http::verb::get, "/service-resources");
  ASSERT_EQ(response.status_code, 200u) << response.body;
  auto resources = nlohmann::json::parse(response.body);
  EXPECT_EQ(resources["service_id"], flavor().readiness_message);
  ASSERT_EQ(resources["compute_capability"].size(), 1u) << resources;
  const auto& ml = resources["compute_capability"][0];
  EXPECT_EQ(ml["id"], "ml");
  EXPECT_EQ(ml["type"], flavor().binary.substr(0, flavor().binary.find('-')));
  std::vector<std::string> repos;
  for (const auto& cached : ml["cached_models"])
    repos.push_back(cached["repo_id"].get<std::string>());
  EXPECT_NE(std::find(repos.begin(), repos.end(), "local/tests/iris"), repos.end()) << ml;

  auto supported = [&](const std::string& model_id) {
    auto reply =
        client.send(service.port(), http::verb::get, "/service-resources?model_id=" + model_id);
    return nlohmann::json::parse(reply.body);
  };
  EXPECT_EQ(supported("local/tests/iris:" + flavor().model_file)["supported"], true);
  const std::string other = flavor().model_file == "iris.onnx" ? "iris.pt" : "iris.onnx";
  EXPECT_EQ(supported("local/tests/iris:" + other)["supported"], false);
  EXPECT_EQ(supported("nonsense")["supported"], false);
}

TEST_P(InferenceService, ModelIdNamesLocalFile) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), false));
  Client client;
  const auto expected = expected_results();
  const auto& example = expected["cases"][1];

  auto reply = client.post_job(service.port(), 1, 1, {{"input", example["input"]}}, false, 400);
  EXPECT_NE(reply["description"].get<std::string>().find("missing model_id"), std::string::npos);

  const nlohmann::json data{{"model_id", flavor().model_file}, {"input", example["input"]}};
  auto output = offchain_output(flavor(), client.post_job(service.port(), 1, 1, data));
  expect_probabilities(output, example["probabilities"], {1, 3}, expected["tolerance"]);
}

TEST_P(InferenceService, ProofRequestIs400) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), true));
  Client client;
  const nlohmann::json data{{"input", expected_results()["cases"][0]["input"]}};
  auto reply = client.post_job(service.port(), 1, 1, data, true, 400);
  EXPECT_EQ(reply,
            nlohmann::json(
                {{"code", "400"}, {"name", "Bad Request"}, {"description", flavor().proof_error}}));
}

TEST_P(InferenceService, BadRequestsAreJsonErrors) {
  ServiceProcess service(binary_path(flavor().binary), kLoopback, environment(flavor(), true));
  Client client;
  const nlohmann::json wrong_width{{"dtype", 1}, {"shape", {1, 5}}, {"values", {1, 2, 3, 4, 5}}};

  struct Case {
    nlohmann::json data;
    unsigned status;
  };
  const Case cases[] = {
      {{{"input", wrong_width}}, 400},
      {{{"inputs", nlohmann::json::object()}}, 400},
      {{{"model_id", "../iris.onnx"}, {"input", wrong_width}}, 400},
      {{{"model_id", "missing.onnx"}, {"input", wrong_width}}, 404},
      {{{"model_id", "not_a_model.onnx"}, {"input", wrong_width}}, 400},
      {{{"model_id", "local/tests/absent:iris.onnx"}, {"input", wrong_width}}, 404},
  };
  for (const auto& test_case : cases) {
    auto reply = client.post_job(service.port(), 1, 1, test_case.data, false, test_case.status);
    EXPECT_EQ(reply["code"], std::to_string(test_case.status)) << test_case.data;
    EXPECT_TRUE(reply["description"].is_string()) << reply;
  }
}

TEST_P(InferenceService, MissingDefaultModelFailsStart) {
  // The process exits with status 1 before it listens, which ServiceProcess reports by throwing.
  const std::vector<std::string> broken{
      flavor().prefix + "_CACHE_DIR=" + model_directory().string(),
      flavor().prefix + "_DEFAULT_MODEL_ID=missing.model"};
  EXPECT_THROW(ServiceProcess(binary_path(flavor().binary), kLoopback, broken), std::runtime_error);
}

INSTANTIATE_TEST_SUITE_P(Engines, InferenceService, ::testing::Values(kOnnx, kTorch),
                         [](const auto& info) { return info.param.prefix; });

// Both engines run the same network, so their outputs agree beyond the expected tolerance.
TEST(InferenceServices, OnnxAndTorchAgree) {
  ServiceProcess onnx(binary_path(kOnnx.binary), kLoopback, environment(kOnnx, true));
  ServiceProcess torch(binary_path(kTorch.binary), kLoopback, environment(kTorch, true));
  Client client;
  const auto expected = expected_results();
  const nlohmann::json data{{"input", expected["batch"]["input"]}};
  auto from_onnx = offchain_output(kOnnx, client.post_job(onnx.port(), 1, 1, data));
  auto from_torch = offchain_output(kTorch, client.post_job(torch.port(), 1, 1, data));
  EXPECT_EQ(from_onnx.shape, from_torch.shape);
  ASSERT_EQ(from_onnx.values.size(), from_torch.values.size());
  for (std::size_t i = 0; i < from_onnx.values.size(); ++i)
    EXPECT_NEAR(from_onnx.values[i], from_torch.values[i], 1e-6) << "value " << i;
}

}  // namespace
}  // namespace infernet::services::testing

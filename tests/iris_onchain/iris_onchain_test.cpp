// The iris example end to end on a real chain: anvil with the contracts deployed by
// contracts/scripts/deploy.sh, the real onnx-service with services/models/iris.onnx preloaded,
// and the real inferd serving on-chain subscriptions with that service as an unmanaged
// container. IrisConsumer.classify() builds the RitualVector request on-chain, and the test
// compares the probabilities the consumer decoded on-chain with iris_expected.json, which
// contains what PyTorch computed when the model was generated.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chain_harness.hpp"
#include "infernet/sdk/model_cache.hpp"
#include "support/node_harness.hpp"
#include "support/process.hpp"

namespace inferd::testing::iris {
namespace {

using namespace std::chrono_literals;
using e2e::anvil_account;
using e2e::Chain;
using e2e::ChainNode;
using nlohmann::json;
namespace fs = std::filesystem;

const fs::path kCommittedModels = fs::path(INFERD_SOURCE_DIR) / "services/models";

constexpr int kNodeIndex = 1;
constexpr int kTesterIndex = 3;

// Probabilities are stored as integers scaled by 1e6, so the stored value may differ from the
// exact product by up to half a unit on top of the model's own tolerance.
constexpr double kProbabilityScale = 1e6;
constexpr double kRoundingTolerance = 0.5 / kProbabilityScale;

json expected_results() {
  return json::parse(read_file(kCommittedModels / "iris_expected.json"));
}

// A model cache for onnx-service:
//   iris.onnx                   the default model, preloaded by path
//   local/tests/iris/default/   the same model as a cached repo with a ritual_manifest.json, for
//                               the model id "local/tests/iris:iris.onnx"
void fill_model_cache(const fs::path& directory) {
  fs::copy_file(kCommittedModels / "iris.onnx", directory / "iris.onnx");
  const fs::path repo = directory / "local/tests/iris/default";
  fs::create_directories(repo);
  fs::copy_file(kCommittedModels / "iris.onnx", repo / "iris.onnx");
  json manifest{{"files", {"iris.onnx"}},
                {"file_hashes", {{"iris.onnx", infernet::sdk::sha256_file(repo / "iris.onnx")}}},
                {"repo_id", "local/tests/iris"},
                {"artifact_type", "ModelArtifact"}};
  write_file(repo / "ritual_manifest.json", manifest.dump(2));
}

// onnx-service on a free loopback port, ready once GET / returns 200 (the default model loaded).
class OnnxService {
 public:
  explicit OnnxService(const fs::path& model_cache) {
    process_ = std::make_unique<Process>(
        INFERD_BIN_ONNX_SERVICE,
        std::vector<std::string>{"--bind-address", "127.0.0.1", "--port", "0"},
        std::map<std::string, std::string>{{"ONNX_CACHE_DIR", model_cache.string()},
                                           {"ONNX_DEFAULT_MODEL_ID", "iris.onnx"},
                                           {"ONNX_INFERENCE_THREADS", "1"}});
    if (!process_->wait_for_output("listening on 127.0.0.1:", 60s)) {
      throw std::runtime_error("onnx-service did not start listening within 60 s: " + output());
    }
    std::smatch match;
    const std::string out = process_->stdout_text() + process_->stderr_text();
    if (!std::regex_search(out, match, std::regex("listening on 127\\.0\\.0\\.1:(\\d+)")))
      throw std::runtime_error("onnx-service output names no port: " + out);
    port_ = static_cast<unsigned short>(std::stoi(match[1]));

    TestClient client;
    bool ready = e2e::wait_until(
        [&] {
          try {
            return client.request(http::verb::get, url() + "/").status_code == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        60s, 200ms);
    if (!ready)
      throw std::runtime_error("onnx-service at " + url() +
                               " was not ready within 60 s: " + output());
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string output() const { return process_->stdout_text() + process_->stderr_text(); }

 private:
  std::unique_ptr<Process> process_;
  unsigned short port_ = 0;
};

// One anvil, deployment, onnx-service and node for every case: deploying compiles the contracts,
// which takes minutes on a loaded machine.
class IrisOnchain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      chain_ = std::make_unique<Chain>();
      model_cache_ = std::make_unique<TempDir>();
      fill_model_cache(model_cache_->path());
      service_ = std::make_unique<OnnxService>(model_cache_->path());

      const auto& node_account = anvil_account(kNodeIndex);
      const std::string wallet = chain_->create_wallet(node_account, node_account.address);
      json containers = json::array({{{"id", "iris-classification"}, {"url", service_->url()}}});
      json config = e2e::node_config(*chain_, node_account, wallet, containers, false);
      config["chain"]["trail_head_blocks"] = 0;
      node_ = std::make_unique<ChainNode>(config);
      node_->start();
    } catch (const std::exception& error) {
      setup_error_ = error.what();
    }
  }

  static void TearDownTestSuite() {
    node_.reset();
    service_.reset();
    model_cache_.reset();
    chain_.reset();
  }

  void SetUp() override { ASSERT_TRUE(setup_error_.empty()) << setup_error_; }

  void TearDown() override {
    if (HasFailure() && node_ && service_) {
      std::cout << node_->log_tail() << "\n---- onnx-service output:\n"
                << service_->output() << std::endl;
    }
  }

  std::string consumer() const { return chain_->address("irisConsumer"); }

  // Sets IrisConsumer's model id from its owner, the deployer; "0x" selects the preloaded model.
  void set_model_id(const std::string& model_id_hex) {
    chain_->cast().send(anvil_account(Chain::kDeployerIndex), consumer(), "setModelId(bytes)",
                        {model_id_hex});
  }

  // Sends classify() for `features` scaled by 1e6; returns the subscription id.
  std::uint32_t classify(const json& features) {
    std::string argument = "[";
    for (std::size_t i = 0; i < features.size(); ++i) {
      if (i != 0)
        argument += ",";
      argument += std::to_string(std::llround(features[i].get<double>() * kProbabilityScale));
    }
    argument += "]";
    auto receipt = chain_->cast().send(anvil_account(kTesterIndex), consumer(),
                                       "classify(uint256[4])", {argument});
    auto id = e2e::created_subscription_id(receipt);
    if (!id)
      throw std::runtime_error("classify receipt has no SubscriptionCreated log: " +
                               receipt.dump());
    return *id;
  }

  // The consumer's stored probabilities (scaled by 1e6), polled until they arrive or 120 s pass;
  // empty when they never arrived.
  std::vector<std::uint64_t> wait_for_result(std::uint32_t subscription_id) {
    std::vector<std::uint64_t> result;
    e2e::wait_until(
        [&] {
          result = read_result(subscription_id);
          return !result.empty();
        },
        120s, 250ms);
    return result;
  }

  std::vector<std::uint64_t> read_result(std::uint32_t subscription_id) {
    json value =
        chain_->cast()
            .call(consumer(), "getResult(uint32)(uint256[])", {std::to_string(subscription_id)})
            .at(0);
    // cast prints an array return value as one string, e.g. "[999783, 215, 2]".
    if (value.is_string())
      value = json::parse(value.get<std::string>());
    std::vector<std::uint64_t> result;
    for (const auto& element : value)
      result.push_back(e2e::json_to_u256(element).low_u64());
    return result;
  }

  std::uint64_t predicted_class(std::uint32_t subscription_id) {
    return e2e::json_to_u256(chain_->cast()
                                 .call(consumer(), "predictedClass(uint32)(uint256)",
                                       {std::to_string(subscription_id)})
                                 .at(0))
        .low_u64();
  }

  void expect_case(std::uint32_t subscription_id, const json& expected_case, double tolerance) {
    const auto result = wait_for_result(subscription_id);
    const auto& probabilities = expected_case.at("probabilities");
    ASSERT_EQ(result.size(), probabilities.size())
        << "subscription " << subscription_id << " has no result after 120 s";
    for (std::size_t i = 0; i < result.size(); ++i) {
      EXPECT_NEAR(static_cast<double>(result[i]) / kProbabilityScale,
                  probabilities[i].get<double>(), tolerance + kRoundingTolerance)
          << "subscription " << subscription_id << ", probability " << i;
    }
    EXPECT_EQ(predicted_class(subscription_id),
              expected_case.at("class_index").get<std::uint64_t>())
        << "subscription " << subscription_id;
  }

  static inline std::unique_ptr<Chain> chain_;
  static inline std::unique_ptr<TempDir> model_cache_;
  static inline std::unique_ptr<OnnxService> service_;
  static inline std::unique_ptr<ChainNode> node_;
  static inline std::string setup_error_;
};

TEST_F(IrisOnchain, PreloadedModelClassifiesEachCase) {
  set_model_id("0x");
  const json expected = expected_results();
  const double tolerance = expected.at("tolerance").get<double>();

  // All requests first, so the node serves them together.
  std::vector<std::uint32_t> ids;
  for (const auto& example : expected.at("cases"))
    ids.push_back(classify(example.at("input").at("values")));
  for (std::size_t i = 0; i < ids.size(); ++i)
    expect_case(ids[i], expected.at("cases")[i], tolerance);
}

TEST_F(IrisOnchain, CachedModelIdClassifies) {
  // abi.encode(bytes repo, string files) with repo = abi.encode(uint8 storage, string owner,
  // string name, string version); storage 0 is "local".
  const auto& cast = chain_->cast();
  const std::string repo =
      cast.abi_encode("f(uint8,string,string,string)", {"0", "tests", "iris", ""});
  set_model_id(cast.abi_encode("f(bytes,string)", {repo, "iris.onnx"}));

  const json expected = expected_results();
  const json& versicolor = expected.at("cases")[1];
  const std::uint32_t id = classify(versicolor.at("input").at("values"));
  expect_case(id, versicolor, expected.at("tolerance").get<double>());
  set_model_id("0x");
}

}  // namespace
}  // namespace inferd::testing::iris

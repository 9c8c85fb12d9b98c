// onnx-service and torch-service as unmanaged containers of the real inferd node: an off-chain
// job per engine classifies the first case of services/models/iris_expected.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/node_harness.hpp"
#include "tests/service_process.hpp"

namespace inferd::testing {
namespace {

using infernet::services::testing::binary_path;
using nlohmann::json;
using ServiceBinary = infernet::services::testing::ServiceProcess;

const std::vector<std::string> kLoopback{"--bind-address", "127.0.0.1", "--port", "0"};
const std::filesystem::path kModels = std::filesystem::path(INFERD_SOURCE_DIR) / "services/models";

json expected() {
  std::ifstream file(kModels / "iris_expected.json");
  return json::parse(file);
}

json container(const std::string& id, unsigned short port) {
  json entry = container_entry(id, port);
  entry["url"] = "http://127.0.0.1:" + std::to_string(port);
  return entry;
}

// The probabilities of a RitualVector object, flattened.
std::vector<double> probabilities(const json& vector) {
  return vector.at("values").get<std::vector<double>>();
}

TEST(InferenceThroughNode, OnnxAndTorchClassifyTheSameIris) {
  ServiceBinary onnx{binary_path("onnx-service"),
                     kLoopback,
                     {"ONNX_CACHE_DIR=" + kModels.string(), "ONNX_DEFAULT_MODEL_ID=iris.onnx"}};
  ServiceBinary torch{binary_path("torch-service"),
                      kLoopback,
                      {"TORCH_CACHE_DIR=" + kModels.string(), "TORCH_DEFAULT_MODEL_ID=iris.pt"}};
  NodeProcess node{{{"manage_containers", false},
                    {"containers", json::array({container("onnx", onnx.port()),
                                                container("torch", torch.port())})}}};
  node.start();

  const json cases = expected();
  const json& first = cases.at("cases").at(0);
  const auto want = first.at("probabilities").get<std::vector<double>>();
  const double tolerance = cases.at("tolerance").get<double>();
  const json inputs = {{"input", first.at("input")}};

  auto onnx_job =
      node.wait_job(node.submit({{"containers", {"onnx"}}, {"data", {{"inputs", inputs}}}}));
  ASSERT_EQ(onnx_job["status"], "success") << onnx_job.dump();
  const json& onnx_output = onnx_job["result"]["output"];
  ASSERT_TRUE(onnx_output.contains("result")) << onnx_output.dump();
  auto onnx_probabilities = probabilities(onnx_output["result"].at(0));

  auto torch_job =
      node.wait_job(node.submit({{"containers", {"torch"}}, {"data", {{"inputs", inputs}}}}));
  ASSERT_EQ(torch_job["status"], "success") << torch_job.dump();
  auto torch_probabilities = probabilities(torch_job["result"]["output"]);

  ASSERT_EQ(onnx_probabilities.size(), want.size());
  ASSERT_EQ(torch_probabilities.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(onnx_probabilities[i], want[i], tolerance) << "class " << i;
    EXPECT_NEAR(torch_probabilities[i], want[i], tolerance) << "class " << i;
  }
}

}  // namespace
}  // namespace inferd::testing

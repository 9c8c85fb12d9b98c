// Unit tests of the pieces the ONNX and Torch services share: request parsing, model lookup
// and the model cache.
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/errors.hpp"
#include "ml/inference_request.hpp"
#include "ml/lru_cache.hpp"
#include "ml/model_locator.hpp"

namespace infernet::services::ml {
namespace {

namespace fs = std::filesystem;
using sdk::AbiValue;
using sdk::Arithmetic;
using sdk::DataType;
using sdk::RitualVector;
using sdk::ServiceError;
using sdk::Status;

// Runs `action` and returns the status of the ServiceError it throws; fails if it throws none.
template <typename Action>
Status status_of(Action action) {
  try {
    action();
  } catch (const ServiceError& error) {
    return error.status();
  }
  ADD_FAILURE() << "no ServiceError thrown";
  return Status::ok;
}

RitualVector iris_vector() {
  RitualVector vector;
  vector.dtype = DataType::kFloat32;
  vector.shape = {1, 4};
  // Exact in float32, so the ABI form (float32 bit patterns) round-trips them exactly.
  vector.values = {5.5, 3.5, 1.25, 0.25};
  return vector;
}

// abi.encode(uint8 storage, string owner, string name, string version) inside
// abi.encode(bytes repo, string files).
inferd::core::Bytes model_id_bytes(unsigned storage, const std::string& owner,
                                   const std::string& name, const std::string& version,
                                   const std::string& files) {
  auto repo = sdk::abi_encode(sdk::abi_type("(uint8,string,string,string)"),
                              {AbiValue::uint(storage), AbiValue::string(owner),
                               AbiValue::string(name), AbiValue::string(version)});
  return sdk::abi_encode(sdk::abi_type("(bytes,string)"),
                         {AbiValue::bytes(repo), AbiValue::string(files)});
}

TEST(LruCache, EvictsLeastRecentlyUsed) {
  LruCache<int> cache(2);
  int loads = 0;
  auto load = [&loads](int value) {
    return [&loads, value] {
      ++loads;
      return std::make_shared<int>(value);
    };
  };
  EXPECT_EQ(*cache.get_or_load("a", load(1)), 1);
  EXPECT_EQ(*cache.get_or_load("b", load(2)), 2);
  EXPECT_EQ(*cache.get_or_load("a", load(99)), 1);  // hit: "b" is now the oldest
  EXPECT_EQ(*cache.get_or_load("c", load(3)), 3);
  EXPECT_EQ(loads, 3);
  EXPECT_TRUE(cache.contains("a"));
  EXPECT_FALSE(cache.contains("b"));
  EXPECT_TRUE(cache.contains("c"));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.hits_and_misses(), std::make_pair(std::size_t{1}, std::size_t{3}));
}

TEST(LruCache, ZeroCapacityAlwaysLoads) {
  LruCache<int> cache(0);
  int loads = 0;
  auto load = [&loads] {
    ++loads;
    return std::make_shared<int>(7);
  };
  cache.get_or_load("a", load);
  cache.get_or_load("a", load);
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(LruCache, FailedLoadCachesNothing) {
  LruCache<int> cache(2);
  EXPECT_THROW(cache.get_or_load(
                   "a", []() -> std::shared_ptr<int> { throw std::runtime_error("broken model"); }),
               std::runtime_error);
  EXPECT_FALSE(cache.contains("a"));
  EXPECT_EQ(*cache.get_or_load("a", [] { return std::make_shared<int>(5); }), 5);
}

class ModelLocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("inferd-locator-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(directory_ / "team");
    std::ofstream(directory_ / "iris.onnx") << "model";
    std::ofstream(directory_ / "team/iris.onnx") << "model";
  }
  void TearDown() override { fs::remove_all(directory_); }

  fs::path directory_;
};

TEST_F(ModelLocatorTest, RelativePaths) {
  ModelLocator locator(directory_);
  EXPECT_EQ(locator.resolve("iris.onnx"), directory_ / "iris.onnx");
  EXPECT_EQ(locator.resolve("team/iris.onnx"), directory_ / "team/iris.onnx");
}

TEST_F(ModelLocatorTest, RejectsEscapes) {
  ModelLocator locator(directory_);
  for (const char* model_id : {"../iris.onnx", "/etc/passwd", "team/../iris.onnx", "",
                               "./iris.onnx", "team//iris.onnx", "team/", "a\\b.onnx"}) {
    EXPECT_EQ(status_of([&] { locator.resolve(model_id); }), Status::bad_request) << model_id;
  }
}

TEST_F(ModelLocatorTest, MissingFileIs404) {
  ModelLocator locator(directory_);
  EXPECT_EQ(status_of([&] { locator.resolve("nothing.onnx"); }), Status::not_found);
  EXPECT_EQ(status_of([&] { locator.resolve("team"); }), Status::not_found);
}

TEST(RepoModelId, StorageNameDecides) {
  EXPECT_TRUE(is_repo_model_id("huggingface/Ritual-Net/iris-classification:iris.onnx"));
  EXPECT_TRUE(is_repo_model_id("local/me/iris"));
  EXPECT_TRUE(is_repo_model_id("arweave/owner/name/v1:a.onnx"));
  EXPECT_FALSE(is_repo_model_id("iris.onnx"));
  EXPECT_FALSE(is_repo_model_id("models/iris.onnx"));
  EXPECT_FALSE(is_repo_model_id("localfiles/iris.onnx"));
}

TEST(PickModelFile, PrefersExtension) {
  const std::vector<fs::path> files{"/c/iris.torch", "/c/iris.onnx"};
  EXPECT_EQ(pick_model_file(files, {".onnx"}), fs::path("/c/iris.onnx"));
  EXPECT_EQ(pick_model_file(files, {".pt", ".torch"}), fs::path("/c/iris.torch"));
  EXPECT_EQ(pick_model_file(files, {".pb"}), fs::path("/c/iris.torch"));
  EXPECT_EQ(status_of([] { pick_model_file({}, {".onnx"}); }), Status::bad_request);
}

TEST(OffchainRequest, NamedInputs) {
  auto request = parse_offchain_request(
      {{"model_id", "iris.onnx"}, {"inputs", {{"input", iris_vector().to_json()}}}});
  EXPECT_EQ(request.model_id, "iris.onnx");
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].name, "input");
  EXPECT_EQ(request.inputs[0].vector, iris_vector());
  EXPECT_EQ(request.output_arithmetic, Arithmetic::kIeee);
  EXPECT_EQ(request.output_num_decimals, 18);
}

TEST(OffchainRequest, SingleInputWithOptions) {
  auto request = parse_offchain_request({{"input", iris_vector().to_json()},
                                         {"output_arithmetic", "fixed_point"},
                                         {"output_num_decimals", 6}});
  EXPECT_TRUE(request.model_id.empty());
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].name, "");
  EXPECT_EQ(request.output_arithmetic, Arithmetic::kFixedPoint);
  EXPECT_EQ(request.output_num_decimals, 6);
}

TEST(OffchainRequest, InvalidFieldsAre400) {
  const nlohmann::json vector = iris_vector().to_json();
  const nlohmann::json cases[] = {
      nlohmann::json::object(),
      {{"inputs", nlohmann::json::object()}},
      {{"inputs", nlohmann::json::array({vector})}},
      {{"inputs", {{"input", vector}}}, {"input", vector}},
      {{"input", vector}, {"model_id", 5}},
      {{"input", vector}, {"output_arithmetic", "float"}},
      {{"input", vector}, {"output_num_decimals", 256}},
      {{"input", {{"dtype", 1}, {"shape", {1, 4}}, {"values", {1, 2, 3}}}}},
  };
  for (const auto& data : cases)
    EXPECT_EQ(status_of([&] { parse_offchain_request(data); }), Status::bad_request) << data;
}

TEST(OnchainRequest, RoundTripWithoutModelId) {
  auto request = parse_onchain_request(encode_onchain_request({}, iris_vector()));
  EXPECT_TRUE(request.model_id.empty());
  ASSERT_EQ(request.inputs.size(), 1u);
  EXPECT_EQ(request.inputs[0].name, "");
  EXPECT_EQ(request.inputs[0].vector, iris_vector());
  EXPECT_EQ(request.output_arithmetic, Arithmetic::kIeee);
}

TEST(OnchainRequest, ModelIdAndTrailingArithmetic) {
  auto model_id = model_id_bytes(0, "me", "iris", "", "iris.onnx");
  auto input =
      sdk::abi_encode(sdk::abi_type("(bytes,bytes,uint8,uint8)"),
                      {AbiValue::bytes(model_id), AbiValue::bytes(iris_vector().abi_encode()),
                       AbiValue::uint(1), AbiValue::uint(6)});
  auto request = parse_onchain_request(input);
  EXPECT_EQ(request.model_id, "local/me/iris:iris.onnx");
  EXPECT_EQ(request.inputs.at(0).vector, iris_vector());
  EXPECT_EQ(request.output_arithmetic, Arithmetic::kFixedPoint);
  EXPECT_EQ(request.output_num_decimals, 6);
}

TEST(OnchainRequest, GarbageIs400) {
  EXPECT_EQ(status_of([] { parse_onchain_request({}); }), Status::bad_request);
  EXPECT_EQ(status_of([] { parse_onchain_request(inferd::core::Bytes(64, 0xff)); }),
            Status::bad_request);
  auto not_a_vector = sdk::abi_encode(sdk::abi_type("(bytes,bytes)"),
                                      {AbiValue::bytes({}), AbiValue::bytes({1, 2, 3})});
  EXPECT_EQ(status_of([&] { parse_onchain_request(not_a_vector); }), Status::bad_request);
}

}  // namespace
}  // namespace infernet::services::ml

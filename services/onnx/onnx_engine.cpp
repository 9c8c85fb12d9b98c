#include "onnx/onnx_engine.hpp"

#include <limits>
#include <mutex>
#include <utility>
#include <vector>

#include <opencv2/core/utility.hpp>
#include <opencv2/dnn.hpp>

#include "infernet/sdk/errors.hpp"

namespace infernet::services::onnx {
namespace {

using sdk::DataType;
using sdk::RitualVector;
using sdk::ServiceError;

// OpenCV's messages repeat the failed condition after the source path; err and func are enough.
std::string describe(const cv::Exception& error) {
  return error.err + (error.func.empty() ? "" : " (in " + error.func + ")");
}

cv::Mat to_mat(const ml::NamedInput& input) {
  const RitualVector& vector = input.vector;
  const std::string field = input.name.empty() ? "input" : "inputs." + input.name;
  if (sdk::is_complex(vector.dtype)) {
    throw ServiceError::bad_request("invalid " + field + ": OpenCV's DNN module has no " +
                                    std::string(sdk::data_type_name(vector.dtype)) + " tensors");
  }

  // NOTE: OpenCV keeps a 1-D Mat as a 2-D column, so rank-1 inputs reach the model as (n, 1).
  std::vector<int> sizes;
  for (auto dimension : vector.shape) {
    if (dimension > std::numeric_limits<int>::max()) {
      throw ServiceError::bad_request("invalid " + field + ".shape: dimension " +
                                      std::to_string(dimension) + " is too large");
    }
    sizes.push_back(static_cast<int>(dimension));
  }
  if (sizes.empty())
    sizes.push_back(1);

  cv::Mat mat(static_cast<int>(sizes.size()), sizes.data(), CV_32F);
  auto* data = mat.ptr<float>();
  for (std::size_t i = 0; i < vector.values.size(); ++i)
    data[i] = static_cast<float>(vector.values[i]);
  return mat;
}

RitualVector from_mat(const cv::Mat& mat) {
  cv::Mat values = mat.isContinuous() ? mat : mat.clone();
  RitualVector vector;
  for (int i = 0; i < values.dims; ++i)
    vector.shape.push_back(values.size[i]);
  const std::size_t count = values.total();
  vector.values.reserve(count);

  switch (values.depth()) {
    case CV_32S: {
      vector.dtype = DataType::kInt32;
      const auto* data = values.ptr<std::int32_t>();
      vector.values.assign(data, data + count);
      break;
    }
    case CV_64F: {
      vector.dtype = DataType::kFloat64;
      const auto* data = values.ptr<double>();
      vector.values.assign(data, data + count);
      break;
    }
    default: {
      cv::Mat as_float;
      values.convertTo(as_float, CV_32F);
      vector.dtype = DataType::kFloat32;
      const auto* data = as_float.ptr<float>();
      vector.values.assign(data, data + count);
      break;
    }
  }
  return vector;
}

class OnnxModel : public ml::Model {
 public:
  explicit OnnxModel(cv::dnn::Net net)
      : net_(std::move(net)), output_names_(net_.getUnconnectedOutLayersNames()) {}

  std::vector<RitualVector> run(const std::vector<ml::NamedInput>& inputs) override {
    std::vector<cv::Mat> mats;
    for (const auto& input : inputs)
      mats.push_back(to_mat(input));

    // cv::dnn::Net keeps its inputs and intermediate blobs in the object, so one inference at a
    // time per model.
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      try {
        net_.setInput(mats[i], inputs[i].name);
      } catch (const cv::Exception& error) {
        if (error.code == cv::Error::StsObjectNotFound) {
          throw ServiceError::bad_request("invalid inputs: the model has no input named \"" +
                                          inputs[i].name + "\"");
        }
        throw ServiceError::bad_request("invalid inputs: " + describe(error));
      }
    }
    std::vector<cv::Mat> outputs;
    try {
      // NOTE: the outputs come in OpenCV's layer order, which for a model with several outputs
      // may differ from the order of the ONNX graph's outputs.
      net_.forward(outputs, output_names_);
    } catch (const cv::Exception& error) {
      throw ServiceError::bad_request("inference failed, check the input shapes and names: " +
                                      describe(error));
    }

    std::vector<RitualVector> vectors;
    for (const auto& output : outputs)
      vectors.push_back(from_mat(output));
    return vectors;
  }

 private:
  std::mutex mutex_;
  cv::dnn::Net net_;
  std::vector<std::string> output_names_;
};

}  // namespace

std::string OnnxEngine::version() const {
  return cv::getVersionString();
}

std::shared_ptr<ml::Model> OnnxEngine::load(const std::filesystem::path& file) {
  try {
    auto net = cv::dnn::readNetFromONNX(file.string());
    if (net.empty())
      throw std::runtime_error("OpenCV read no layers from " + file.string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return std::make_shared<OnnxModel>(std::move(net));
  } catch (const cv::Exception& error) {
    throw std::runtime_error("not an ONNX model OpenCV can import: " + describe(error));
  }
}

}  // namespace infernet::services::onnx

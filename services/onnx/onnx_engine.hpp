// ONNX models run with OpenCV's DNN module.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "ml/inference_service.hpp"

namespace infernet::services::onnx {

/// Loads .onnx files with cv::dnn::readNetFromONNX. OpenCV's DNN layers compute in float32, so
/// inputs of any real or integer dtype are converted to float32. Outputs come back as float32,
/// or as int32 or float64 when a layer produces those. Complex inputs are rejected.
class OnnxEngine : public ml::Engine {
 public:
  std::string name() const override { return "OpenCV DNN"; }
  std::string version() const override;
  std::shared_ptr<ml::Model> load(const std::filesystem::path& file) override;
};

}  // namespace infernet::services::onnx

// onnx-inference-service: runs ONNX models with OpenCV's DNN module (see README.md).
#include <memory>

#include "ml/inference_service.hpp"
#include "onnx/onnx_engine.hpp"

int main(int argc, char** argv) {
  namespace ml = infernet::services::ml;
  ml::InferenceSettings settings;
  settings.service_name = "onnx-inference-service";
  settings.proof_error = "Proofs are not supported for ONNX Inference";
  settings.offchain_reply = ml::OffchainReply::kResultList;
  settings.ml_type = "onnx";
  settings.model_extensions = {".onnx"};
  return ml::run_inference_service(argc, argv, std::move(settings), "ONNX",
                                   std::make_unique<infernet::services::onnx::OnnxEngine>());
}

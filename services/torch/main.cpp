// torch-inference-service: runs TorchScript models with libtorch (see README.md).
#include <memory>

#include "ml/inference_service.hpp"
#include "torch/torch_engine.hpp"

int main(int argc, char** argv) {
  namespace ml = infernet::services::ml;
  ml::InferenceSettings settings;
  settings.service_name = "torch-inference-service";
  settings.proof_error = "Proofs are not supported for Torch Inference Service";
  settings.offchain_reply = ml::OffchainReply::kFirstVector;
  settings.ml_type = "torch";
  settings.model_extensions = {".pt", ".torch", ".pth"};
  return ml::run_inference_service(
      argc, argv, std::move(settings), "TORCH",
      std::make_unique<infernet::services::torchscript::TorchEngine>());
}

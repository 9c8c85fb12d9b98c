// TorchScript models run with libtorch. Only torch_engine.cpp includes libtorch's headers,
// which take long to compile.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "ml/inference_service.hpp"

namespace infernet::services::torchscript {

/// Loads TorchScript files (torch.jit.save output) with torch::jit::load and runs them on the
/// CPU in inference mode. Pickled models saved with torch.save cannot be loaded from C++.
///
/// Named inputs are matched to the parameter names of the module's forward(); unnamed inputs
/// are passed in request order. One input to a forward() with one parameter is passed whatever
/// its name.
///
/// Each vector becomes a tensor of the matching scalar type: float16/32/64 as Half/Float/Double,
/// intN as Char, Short, Int and Long, uint8 as Byte, uint16 and uint32 as Long, bool as Bool.
/// float128 and float256 take the type of the model's floating-point weights (Double without
/// any). uint64 and complex inputs are rejected. forward() may return a tensor, or a tuple or
/// list whose tensors are the outputs.
class TorchEngine : public ml::Engine {
 public:
  std::string name() const override { return "libtorch"; }
  std::string version() const override;
  std::shared_ptr<ml::Model> load(const std::filesystem::path& file) override;
};

}  // namespace infernet::services::torchscript

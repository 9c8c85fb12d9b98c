#include "torch/torch_engine.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <torch/script.h>
#include <torch/version.h>

#include "infernet/sdk/errors.hpp"

namespace infernet::services::torchscript {
namespace {

using sdk::DataType;
using sdk::RitualVector;
using sdk::ServiceError;

std::string field_name(const ml::NamedInput& input) {
  return input.name.empty() ? "input" : "inputs." + input.name;
}

// `wide_float_type` is the type of float128 and float256 vectors, which torch does not have.
at::ScalarType scalar_type_for(const ml::NamedInput& input, at::ScalarType wide_float_type) {
  switch (input.vector.dtype) {
    case DataType::kFloat16:
      return at::kHalf;
    case DataType::kFloat32:
      return at::kFloat;
    case DataType::kFloat64:
      return at::kDouble;
    case DataType::kFloat128:
    case DataType::kFloat256:
      return wide_float_type;
    case DataType::kInt8:
      return at::kChar;
    case DataType::kInt16:
      return at::kShort;
    case DataType::kInt32:
      return at::kInt;
    case DataType::kInt64:
    case DataType::kUint16:
    case DataType::kUint32:
      return at::kLong;
    case DataType::kUint8:
      return at::kByte;
    case DataType::kBool:
      return at::kBool;
    case DataType::kUint64:
    case DataType::kComplex64:
    case DataType::kComplex128:
      break;
  }
  throw ServiceError::bad_request("invalid " + field_name(input) + ": " +
                                  std::string(sdk::data_type_name(input.vector.dtype)) +
                                  " inputs are not supported by the Torch service");
}

at::Tensor to_tensor(const ml::NamedInput& input, at::ScalarType wide_float_type) {
  const RitualVector& vector = input.vector;
  const auto scalar_type = scalar_type_for(input, wide_float_type);
  const std::vector<std::int64_t> shape = vector.shape;

  // int64 values beyond 2^53 are exact only in int64_values.
  if (vector.dtype == DataType::kInt64 && !vector.int64_values.empty()) {
    return at::tensor(vector.int64_values, at::TensorOptions().dtype(at::kLong)).reshape(shape);
  }
  return at::tensor(vector.values, at::TensorOptions().dtype(at::kDouble))
      .reshape(shape)
      .to(scalar_type);
}

RitualVector from_tensor(const at::Tensor& output) {
  at::Tensor tensor = output.detach().cpu().contiguous();
  RitualVector vector;
  vector.shape.assign(tensor.sizes().begin(), tensor.sizes().end());

  switch (tensor.scalar_type()) {
    case at::kHalf:
      vector.dtype = DataType::kFloat16;
      break;
    case at::kFloat:
      vector.dtype = DataType::kFloat32;
      break;
    case at::kDouble:
      vector.dtype = DataType::kFloat64;
      break;
    case at::kChar:
      vector.dtype = DataType::kInt8;
      break;
    case at::kShort:
      vector.dtype = DataType::kInt16;
      break;
    case at::kInt:
      vector.dtype = DataType::kInt32;
      break;
    case at::kLong: {
      vector.dtype = DataType::kInt64;
      const auto* data = tensor.data_ptr<std::int64_t>();
      vector.int64_values.assign(data, data + tensor.numel());
      break;
    }
    case at::kByte:
      vector.dtype = DataType::kUint8;
      break;
    case at::kBool:
      vector.dtype = DataType::kBool;
      break;
    default:
      throw ServiceError(sdk::Status::internal_server_error,
                         "the model returned a " +
                             std::string(c10::toString(tensor.scalar_type())) +
                             " tensor, which has no RitualVector dtype here");
  }

  at::Tensor as_double = tensor.to(at::kDouble);
  const auto* data = as_double.data_ptr<double>();
  vector.values.assign(data, data + as_double.numel());
  return vector;
}

// Collects the tensors of forward()'s result: a tensor, or a tuple or list of tensors.
void collect_tensors(const c10::IValue& value, std::vector<RitualVector>& outputs) {
  if (value.isTensor()) {
    outputs.push_back(from_tensor(value.toTensor()));
  } else if (value.isTuple()) {
    for (const auto& element : value.toTupleRef().elements())
      collect_tensors(element, outputs);
  } else if (value.isList()) {
    for (const auto& element : value.toListRef())
      collect_tensors(element, outputs);
  } else {
    throw ServiceError(sdk::Status::internal_server_error,
                       "the model returned a " + value.tagKind() +
                           ", expected a tensor or a tuple or list of tensors");
  }
}

class TorchModel : public ml::Model {
 public:
  explicit TorchModel(torch::jit::Module module) : module_(std::move(module)) {
    // Argument 0 of forward() is the module itself.
    const auto& arguments = module_.get_method("forward").function().getSchema().arguments();
    for (std::size_t i = 1; i < arguments.size(); ++i)
      parameter_names_.push_back(arguments[i].name());

    // Fixed-point RitualVectors always decode as float128, so on-chain inputs of a float32
    // model arrive as float128: give such inputs the type of the model's weights.
    for (const auto& parameter : module_.parameters()) {
      if (at::isFloatingType(parameter.scalar_type())) {
        wide_float_type_ = parameter.scalar_type();
        break;
      }
    }
  }

  std::vector<RitualVector> run(const std::vector<ml::NamedInput>& inputs) override {
    std::vector<c10::IValue> arguments = order_arguments(inputs);

    c10::InferenceMode inference_mode;
    c10::IValue result;
    try {
      result = module_.forward(std::move(arguments));
    } catch (const c10::Error& error) {
      throw ServiceError::bad_request("inference failed, check the input shapes and dtypes: " +
                                      std::string(error.what_without_backtrace()));
    } catch (const std::exception& error) {
      // The TorchScript interpreter reports errors raised inside the model as
      // torch::jit::JITException, a std::runtime_error.
      throw ServiceError::bad_request("inference failed, check the input shapes and dtypes: " +
                                      std::string(error.what()));
    }

    std::vector<RitualVector> outputs;
    collect_tensors(result, outputs);
    return outputs;
  }

 private:
  // Puts named inputs at the position of forward()'s parameter with that name; unnamed inputs
  // keep their order. A single input goes to a single parameter whatever its name, because ONNX
  // input names (e.g. "input") rarely match the Python parameter names (e.g. "x").
  std::vector<c10::IValue> order_arguments(const std::vector<ml::NamedInput>& inputs) const {
    if (inputs.size() == 1 && parameter_names_.size() == 1)
      return {to_tensor(inputs.front(), wide_float_type_)};

    std::vector<std::optional<at::Tensor>> slots(std::max(inputs.size(), parameter_names_.size()));
    std::size_t next_unnamed = 0;
    for (const auto& input : inputs) {
      std::size_t position = next_unnamed++;
      if (!input.name.empty()) {
        auto found = std::find(parameter_names_.begin(), parameter_names_.end(), input.name);
        if (found == parameter_names_.end()) {
          std::string known;
          for (const auto& name : parameter_names_)
            known += (known.empty() ? "" : ", ") + name;
          throw ServiceError::bad_request(
              "invalid inputs: the model's forward() has no parameter "
              "named \"" +
              input.name + "\" (parameters: " + known + ")");
        }
        position = static_cast<std::size_t>(found - parameter_names_.begin());
      }
      if (slots[position]) {
        throw ServiceError::bad_request("invalid inputs: two inputs go to forward() parameter " +
                                        std::to_string(position + 1));
      }
      slots[position] = to_tensor(input, wide_float_type_);
    }

    std::vector<c10::IValue> arguments;
    for (std::size_t i = 0; i < slots.size(); ++i) {
      if (!slots[i]) {
        throw ServiceError::bad_request("invalid inputs: missing forward() parameter \"" +
                                        (i < parameter_names_.size() ? parameter_names_[i] : "") +
                                        "\"");
      }
      arguments.emplace_back(*slots[i]);
    }
    return arguments;
  }

  torch::jit::Module module_;
  std::vector<std::string> parameter_names_;
  at::ScalarType wide_float_type_ = at::kDouble;
};

}  // namespace

std::string TorchEngine::version() const {
  return TORCH_VERSION;
}

std::shared_ptr<ml::Model> TorchEngine::load(const std::filesystem::path& file) {
  try {
    auto module = torch::jit::load(file.string(), at::kCPU);
    module.eval();
    return std::make_shared<TorchModel>(std::move(module));
  } catch (const c10::Error& error) {
    throw std::runtime_error("not a TorchScript model libtorch can load: " +
                             std::string(error.what_without_backtrace()));
  }
}

}  // namespace infernet::services::torchscript

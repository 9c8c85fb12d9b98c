// Selectors, calls, event logs, revert data and value rendering.
#include "core/abi.hpp"
#include "core/hex.hpp"
#include "core/keccak.hpp"

namespace inferd::core::abi {

namespace {

std::string params_canonical(std::string_view name, const AbiType& params) {
  return std::string(name) + params.canonical();
}

}  // namespace

Selector selector_of(std::string_view canonical_signature) {
  const Bytes32 hash = keccak256(canonical_signature);
  return *Selector::from_view(hash.view().first(4));
}

std::string FunctionSignature::canonical() const {
  return params.components().empty() ? name + "()" : params_canonical(name, params);
}

Selector FunctionSignature::selector() const {
  return selector_of(canonical());
}

Result<Bytes> encode_call(const FunctionSignature& function, const AbiValue::List& args) {
  auto encoded = encode(function.params, AbiValue::list(args));
  if (!encoded) {
    return make_error(encoded.error().code, "encoding the arguments of " + function.canonical() +
                                                ": " + encoded.error().message);
  }
  const Selector selector = function.selector();
  Bytes call(selector.bytes.begin(), selector.bytes.end());
  append(call, *encoded);
  return call;
}

Result<Bytes> encode_call(std::string_view signature, const AbiValue::List& args) {
  auto function = parse_function_signature(signature);
  if (!function) {
    return function.error();
  }
  return encode_call(*function, args);
}

std::string EventSignature::canonical() const {
  std::string out = name + "(";
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += params[i].type.canonical();
  }
  return out + ")";
}

Bytes32 EventSignature::topic0() const {
  return keccak256(canonical());
}

Result<AbiValue::List> decode_log(const EventSignature& event, std::span<const Bytes32> topics,
                                  ByteView data) {
  std::size_t indexed_count = 0;
  std::vector<AbiType> data_types;
  for (const EventParam& param : event.params) {
    if (param.indexed) {
      ++indexed_count;
    } else {
      data_types.push_back(param.type);
    }
  }

  if (topics.size() != indexed_count + 1) {
    return make_error(Errc::kAbiValueMismatch, "log of " + event.canonical() + " should have " +
                                                   std::to_string(indexed_count + 1) +
                                                   " topics, got " + std::to_string(topics.size()));
  }

  if (topics[0] != event.topic0()) {
    return make_error(Errc::kAbiValueMismatch, "log topic0 " + to_hex(topics[0].view()) +
                                                   " is not the topic of " + event.canonical());
  }

  auto data_values = decode(AbiType::tuple(std::move(data_types)), data);
  if (!data_values) {
    return make_error(data_values.error().code, "decoding the data of a " + event.canonical() +
                                                    " log: " + data_values.error().message);
  }

  AbiValue::List values;
  std::size_t topic_index = 1;
  std::size_t data_index = 0;
  for (const EventParam& param : event.params) {
    if (!param.indexed) {
      values.push_back(data_values->as_list()[data_index++]);
      continue;
    }
    const Bytes32& topic = topics[topic_index++];
    if (param.type.is_dynamic() || param.type.kind() == AbiType::Kind::kTuple ||
        param.type.kind() == AbiType::Kind::kFixedArray) {
      // The EVM stores keccak256 of the encoding for these; the value itself is not recoverable.
      values.push_back(AbiValue::fixed_bytes(topic));
      continue;
    }
    auto value = decode(AbiType::tuple({param.type}), topic.view());
    if (!value) {
      return make_error(value.error().code, "decoding topic " + std::to_string(topic_index - 1) +
                                                " of a " + event.canonical() +
                                                " log: " + value.error().message);
    }
    values.push_back(value->as_list()[0]);
  }
  return values;
}

// ---- Revert data ------------------------------------------------------------------------------

Result<void> ErrorTable::add(std::string_view signature) {
  auto parsed = parse_function_signature(signature);
  if (!parsed) {
    return parsed.error();
  }
  errors_.push_back(std::move(*parsed));
  return {};
}

const FunctionSignature* ErrorTable::find(const Selector& selector) const {
  for (const FunctionSignature& error : errors_) {
    if (error.selector() == selector) {
      return &error;
    }
  }
  return nullptr;
}

Selector error_string_selector() {
  return selector_of("Error(string)");
}

Selector panic_selector() {
  return selector_of("Panic(uint256)");
}

std::string_view panic_description(const U256& code) {
  // Codes as listed in the Solidity documentation, "Panic via assert and Error via require".
  if (!code.fits_u64()) {
    return "unknown panic code";
  }
  switch (code.low_u64()) {
    case 0x00:
      return "generic compiler panic";
    case 0x01:
      return "assertion failed";
    case 0x11:
      return "arithmetic overflow or underflow";
    case 0x12:
      return "division or modulo by zero";
    case 0x21:
      return "invalid enum value";
    case 0x22:
      return "incorrectly encoded storage byte array";
    case 0x31:
      return "pop() on an empty array";
    case 0x32:
      return "array index out of bounds";
    case 0x41:
      return "out of memory";
    case 0x51:
      return "call to a zero-initialised function";
    default:
      return "unknown panic code";
  }
}

RevertReason decode_revert(ByteView data, const ErrorTable* errors) {
  RevertReason reason;
  reason.raw = to_bytes(data);
  if (data.empty()) {
    reason.kind = RevertReason::Kind::kEmpty;
    return reason;
  }
  reason.kind = RevertReason::Kind::kUnknown;
  if (data.size() < 4) {
    return reason;
  }
  const Selector selector = *Selector::from_view(data.first(4));
  reason.selector = selector;
  const ByteView body = data.subspan(4);

  if (selector == error_string_selector()) {
    auto decoded = decode(AbiType::tuple({AbiType::string()}), body);
    if (decoded) {
      reason.kind = RevertReason::Kind::kErrorString;
      reason.message = decoded->as_list()[0].as_string();
    }
    return reason;
  }

  if (selector == panic_selector()) {
    auto decoded = decode(AbiType::tuple({AbiType::uint()}), body);
    if (decoded) {
      reason.kind = RevertReason::Kind::kPanic;
      reason.panic_code = decoded->as_list()[0].as_uint();
    }
    return reason;
  }

  const FunctionSignature* error = errors ? errors->find(selector) : nullptr;
  if (error != nullptr) {
    auto decoded = decode(error->params, body);
    if (decoded) {
      reason.kind = RevertReason::Kind::kCustom;
      reason.name = error->name;
      reason.args = decoded->as_list();
    }
  }
  return reason;
}

std::string RevertReason::describe() const {
  switch (kind) {
    case Kind::kEmpty:
      return "reverted without data";
    case Kind::kErrorString:
      return "Error(\"" + message + "\")";
    case Kind::kPanic:
      return "panic " + panic_code.to_hex() + " (" + std::string(panic_description(panic_code)) +
             ")";
    case Kind::kCustom: {
      std::string out = "custom error " + name + "(";
      for (std::size_t i = 0; i < args.size(); ++i) {
        out += (i > 0 ? ", " : "") + args[i].to_display();
      }
      return out + ")";
    }
    case Kind::kUnknown:
      if (selector) {
        return "unknown revert with selector " + to_hex(selector->view()) + " (" +
               std::to_string(raw.size()) + " bytes)";
      }
      return "unknown revert data " + to_hex(raw);
  }
  return {};
}

std::string AbiValue::to_display() const {
  switch (kind()) {
    case Kind::kWord:
      return as_uint().to_dec();
    case Kind::kBool:
      return as_bool() ? "true" : "false";
    case Kind::kAddress:
      return as_address().to_checksum_hex();
    case Kind::kBytes:
      return to_hex(as_bytes());
    case Kind::kString:
      return "\"" + as_string() + "\"";
    case Kind::kList: {
      std::string out = "[";
      for (std::size_t i = 0; i < as_list().size(); ++i) {
        out += (i > 0 ? ", " : "") + as_list()[i].to_display();
      }
      return out + "]";
    }
  }
  return {};
}

}  // namespace inferd::core::abi

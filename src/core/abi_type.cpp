// AbiType construction, canonical spelling and the type-string parser.
#include <cctype>
#include <limits>

#include "core/abi.hpp"

namespace inferd::core::abi {

namespace {

// Static encodings larger than this are rejected while parsing, so size arithmetic cannot
// overflow and no decoder loops over absurd fixed-array lengths.
constexpr std::size_t kMaxStaticSize = std::size_t{1} << 32;

class TypeParser {
 public:
  explicit TypeParser(std::string_view text) : text_(text) {}

  Result<AbiType> parse_complete() {
    auto type = parse_type(0);
    if (!type) {
      return type;
    }
    if (pos_ != text_.size()) {
      return fail("unexpected character");
    }
    return type;
  }

  Result<AbiType> parse_type(std::size_t depth) {
    if (depth > kMaxTypeDepth) {
      return fail("type nests deeper than " + std::to_string(kMaxTypeDepth) + " levels");
    }
    auto base = peek() == '(' || text_.substr(pos_).starts_with("tuple(") ? parse_tuple(depth)
                                                                          : parse_elementary();
    if (!base) {
      return base;
    }
    AbiType type = std::move(*base);
    while (peek() == '[') {
      if (++depth > kMaxTypeDepth) {
        return fail("type nests deeper than " + std::to_string(kMaxTypeDepth) + " levels");
      }
      ++pos_;
      if (peek() == ']') {
        ++pos_;
        type = AbiType::dynamic_array(std::move(type));
        continue;
      }
      auto length = parse_number();
      if (!length) {
        return length.error();
      }
      if (peek() != ']') {
        return fail("expected ']'");
      }
      ++pos_;
      if (*length == 0) {
        return fail("fixed array length must be at least 1");
      }
      if (!type.is_dynamic() && type.head_size() > kMaxStaticSize / *length) {
        return fail("fixed array is larger than 2^32 bytes");
      }
      if (*length > kMaxStaticSize / 32) {
        return fail("fixed array length is too large");
      }
      type = AbiType::fixed_array(std::move(type), *length);
    }
    return type;
  }

  // Parses the parameter list of a signature: "(type [indexed] [name], ...)". Returns the
  // types, the indexed flags and the names.
  struct Param {
    AbiType type;
    bool indexed;
    std::string name;
  };
  Result<std::vector<Param>> parse_param_list() {
    std::vector<Param> params;
    if (peek() != '(') {
      return fail("expected '('");
    }
    ++pos_;
    skip_spaces();
    if (peek() == ')') {
      ++pos_;
      return params;
    }
    while (true) {
      skip_spaces();
      auto type = parse_type(1);
      if (!type) {
        return type.error();
      }
      Param param{std::move(*type), false, {}};
      // Optional words after the type: "indexed", a data location, a parameter name.
      while (true) {
        skip_spaces();
        const std::string word = parse_identifier();
        if (word.empty()) {
          break;
        }
        if (word == "indexed") {
          param.indexed = true;
        } else if (word != "memory" && word != "calldata" && word != "storage") {
          param.name = word;
        }
      }
      params.push_back(std::move(param));
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ')') {
        ++pos_;
        return params;
      }
      return fail("expected ',' or ')'");
    }
  }

  std::string parse_identifier() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '_' || text_[pos_] == '$')) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  void skip_spaces() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool at_end() const { return pos_ == text_.size(); }

  Error fail(const std::string& what) const {
    return make_error(Errc::kAbiTypeSyntax,
                      "invalid ABI type \"" + std::string(text_.substr(0, 200)) +
                          "\" at position " + std::to_string(pos_) + ": " + what);
  }

 private:
  Result<AbiType> parse_tuple(std::size_t depth) {
    if (peek() == 't') {
      pos_ += 5;  // "tuple"
    }
    ++pos_;  // '('
    std::vector<AbiType> components;
    if (peek() == ')') {
      return fail("empty tuple");
    }
    while (true) {
      auto component = parse_type(depth + 1);
      if (!component) {
        return component;
      }
      components.push_back(std::move(*component));
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ')') {
        ++pos_;
        break;
      }
      return fail("expected ',' or ')' in tuple");
    }
    std::size_t static_size = 0;
    for (const AbiType& c : components) {
      static_size += c.head_size();
      if (static_size > kMaxStaticSize) {
        return fail("tuple is larger than 2^32 bytes");
      }
    }
    return AbiType::tuple(std::move(components));
  }

  Result<AbiType> parse_elementary() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
    const std::string_view name = text_.substr(start, pos_ - start);
    const bool has_digits =
        pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]));
    std::size_t n = 0;
    if (has_digits) {
      auto number = parse_number();
      if (!number) {
        return number.error();
      }
      n = *number;
    }

    if (name == "uint" || name == "int") {
      const std::size_t bits = has_digits ? n : 256;
      if (bits == 0 || bits > 256 || bits % 8 != 0) {
        return fail("integer width must be a multiple of 8 from 8 to 256");
      }
      return name == "uint" ? AbiType::uint(static_cast<unsigned>(bits))
                            : AbiType::int_(static_cast<unsigned>(bits));
    }
    if (name == "bytes") {
      if (!has_digits) {
        return AbiType::bytes();
      }
      if (n == 0 || n > 32) {
        return fail("bytes<N> needs N from 1 to 32");
      }
      return AbiType::fixed_bytes(n);
    }
    if (has_digits) {
      return fail("unknown type");
    }
    if (name == "address") {
      return AbiType::address();
    }
    if (name == "bool") {
      return AbiType::boolean();
    }
    if (name == "string") {
      return AbiType::string();
    }
    pos_ = start;
    return fail("unknown type");
  }

  Result<std::size_t> parse_number() {
    const std::size_t start = pos_;
    std::size_t value = 0;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
      if (value > kMaxStaticSize) {
        return fail("number too large");
      }
      value = value * 10 + static_cast<std::size_t>(text_[pos_] - '0');
      ++pos_;
    }
    if (pos_ == start) {
      return fail("expected a number");
    }
    if (text_[start] == '0' && pos_ - start > 1) {
      return fail("number with a leading zero");
    }
    return value;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

AbiType::AbiType(Kind kind, unsigned bits, std::size_t size, std::vector<AbiType> components)
    : kind_(kind), bits_(bits), size_(size), components_(std::move(components)) {
  switch (kind_) {
    case Kind::kBytes:
    case Kind::kString:
    case Kind::kDynamicArray:
      dynamic_ = true;
      head_size_ = 32;
      break;
    case Kind::kFixedArray:
      dynamic_ = element().is_dynamic();
      head_size_ = dynamic_ ? 32 : element().head_size() * size_;
      break;
    case Kind::kTuple: {
      std::size_t total = 0;
      for (const AbiType& c : components_) {
        dynamic_ = dynamic_ || c.is_dynamic();
        total += c.head_size();
      }
      head_size_ = dynamic_ ? 32 : total;
      break;
    }
    default:
      dynamic_ = false;
      head_size_ = 32;
  }
}

AbiType AbiType::uint(unsigned bits) {
  return AbiType(Kind::kUint, bits, 0, {});
}
AbiType AbiType::int_(unsigned bits) {
  return AbiType(Kind::kInt, bits, 0, {});
}
AbiType AbiType::address() {
  return AbiType(Kind::kAddress, 0, 0, {});
}
AbiType AbiType::boolean() {
  return AbiType(Kind::kBool, 0, 0, {});
}
AbiType AbiType::fixed_bytes(std::size_t size) {
  return AbiType(Kind::kFixedBytes, 0, size, {});
}
AbiType AbiType::bytes() {
  return AbiType(Kind::kBytes, 0, 0, {});
}
AbiType AbiType::string() {
  return AbiType(Kind::kString, 0, 0, {});
}
AbiType AbiType::fixed_array(AbiType element, std::size_t length) {
  return AbiType(Kind::kFixedArray, 0, length, {std::move(element)});
}
AbiType AbiType::dynamic_array(AbiType element) {
  return AbiType(Kind::kDynamicArray, 0, 0, {std::move(element)});
}
AbiType AbiType::tuple(std::vector<AbiType> components) {
  return AbiType(Kind::kTuple, 0, 0, std::move(components));
}

Result<AbiType> AbiType::parse(std::string_view text) {
  return TypeParser(text).parse_complete();
}

std::string AbiType::canonical() const {
  switch (kind_) {
    case Kind::kUint:
      return "uint" + std::to_string(bits_);
    case Kind::kInt:
      return "int" + std::to_string(bits_);
    case Kind::kAddress:
      return "address";
    case Kind::kBool:
      return "bool";
    case Kind::kFixedBytes:
      return "bytes" + std::to_string(size_);
    case Kind::kBytes:
      return "bytes";
    case Kind::kString:
      return "string";
    case Kind::kFixedArray:
      return element().canonical() + "[" + std::to_string(size_) + "]";
    case Kind::kDynamicArray:
      return element().canonical() + "[]";
    case Kind::kTuple: {
      std::string out = "(";
      for (std::size_t i = 0; i < components_.size(); ++i) {
        if (i > 0) {
          out += ',';
        }
        out += components_[i].canonical();
      }
      return out + ")";
    }
  }
  return {};
}

bool operator==(const AbiType& a, const AbiType& b) {
  return a.kind_ == b.kind_ && a.bits_ == b.bits_ && a.size_ == b.size_ &&
         a.components_ == b.components_;
}

// ---- Signatures ------------------------------------------------------------------------------

namespace {

Result<std::pair<std::string, std::vector<TypeParser::Param>>> parse_named_params(
    std::string_view text) {
  TypeParser parser(text);
  parser.skip_spaces();
  std::string name = parser.parse_identifier();
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) {
    return parser.fail("expected a name before '('");
  }
  auto params = parser.parse_param_list();
  if (!params) {
    return params.error();
  }
  parser.skip_spaces();
  if (!parser.at_end()) {
    return parser.fail("unexpected text after ')'");
  }
  return std::make_pair(std::move(name), std::move(*params));
}

}  // namespace

Result<FunctionSignature> parse_function_signature(std::string_view text) {
  auto parsed = parse_named_params(text);
  if (!parsed) {
    return parsed.error();
  }
  std::vector<AbiType> types;
  for (auto& param : parsed->second) {
    if (param.indexed) {
      return make_error(Errc::kAbiTypeSyntax,
                        "\"indexed\" is only valid in an event: " + std::string(text));
    }
    types.push_back(std::move(param.type));
  }
  return FunctionSignature{std::move(parsed->first), AbiType::tuple(std::move(types))};
}

Result<EventSignature> parse_event_signature(std::string_view text) {
  auto parsed = parse_named_params(text);
  if (!parsed) {
    return parsed.error();
  }
  EventSignature event{std::move(parsed->first), {}};
  std::size_t indexed = 0;
  for (auto& param : parsed->second) {
    indexed += param.indexed ? 1 : 0;
    event.params.push_back(EventParam{std::move(param.type), param.indexed, std::move(param.name)});
  }
  if (indexed > 3) {
    return make_error(Errc::kAbiTypeSyntax,
                      "an event has at most 3 indexed parameters: " + std::string(text));
  }
  return event;
}

}  // namespace inferd::core::abi

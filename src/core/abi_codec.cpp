// ABI encoding and bounds-checked decoding.
#include <algorithm>
#include <limits>

#include "core/abi.hpp"
#include "core/hex.hpp"

namespace inferd::core::abi {

namespace {

using Kind = AbiType::Kind;

constexpr std::size_t kWord = 32;

Error mismatch(const AbiType& type, const std::string& what) {
  return make_error(Errc::kAbiValueMismatch, "value for " + type.canonical() + ": " + what);
}

// Whether a two's-complement word is a valid int<bits>: every bit from bits-1 up must equal
// the sign bit.
bool fits_signed(const U256& word, unsigned bits) {
  if (bits == 256) {
    return true;
  }
  const U256 high = word >> (bits - 1);
  const U256 all_ones = U256::max() >> (bits - 1);
  return high.is_zero() || high == all_ones;
}

void append_word(Bytes& out, const Bytes32& word) {
  append(out, word.view());
}

void append_padded(Bytes& out, ByteView data) {
  append(out, data);
  const std::size_t padding = (kWord - data.size() % kWord) % kWord;
  out.insert(out.end(), padding, 0);
}

Result<Bytes32> encode_static_word(const AbiType& type, const AbiValue& value) {
  switch (type.kind()) {
    case Kind::kUint: {
      if (value.kind() != AbiValue::Kind::kWord) {
        return mismatch(type, "expected an integer");
      }
      if (value.as_uint().bit_length() > type.bits()) {
        return mismatch(type, value.as_uint().to_dec() + " does not fit");
      }
      return value.as_uint().to_word();
    }
    case Kind::kInt: {
      if (value.kind() != AbiValue::Kind::kWord) {
        return mismatch(type, "expected an integer");
      }
      if (!fits_signed(value.as_uint(), type.bits())) {
        return mismatch(type, to_signed_dec(value.as_uint()) + " does not fit");
      }
      return value.as_uint().to_word();
    }
    case Kind::kAddress: {
      if (value.kind() != AbiValue::Kind::kAddress) {
        return mismatch(type, "expected an address");
      }
      Bytes32 word;
      std::copy(value.as_address().bytes().bytes.begin(), value.as_address().bytes().bytes.end(),
                word.bytes.begin() + 12);
      return word;
    }
    case Kind::kBool: {
      if (value.kind() != AbiValue::Kind::kBool) {
        return mismatch(type, "expected a bool");
      }
      return U256(value.as_bool() ? 1 : 0).to_word();
    }
    case Kind::kFixedBytes: {
      if (value.kind() != AbiValue::Kind::kBytes) {
        return mismatch(type, "expected bytes");
      }
      if (value.as_bytes().size() != type.size()) {
        return mismatch(type, "expected exactly " + std::to_string(type.size()) + " bytes, got " +
                                  std::to_string(value.as_bytes().size()));
      }
      Bytes32 word;
      std::copy(value.as_bytes().begin(), value.as_bytes().end(), word.bytes.begin());
      return word;
    }
    default:
      return mismatch(type, "not an elementary static type");
  }
}

Result<void> encode_into(const AbiType& type, const AbiValue& value, Bytes& out);

// The member types of a tuple, or `count` copies of one array element type (without copying it).
class Members {
 public:
  explicit Members(std::span<const AbiType> types) : types_(types), count_(types.size()) {}
  Members(const AbiType& repeated, std::size_t count) : repeated_(&repeated), count_(count) {}

  std::size_t size() const { return count_; }
  const AbiType& operator[](std::size_t i) const { return repeated_ ? *repeated_ : types_[i]; }
  std::size_t head_total() const {
    if (repeated_) {
      return repeated_->head_size() * count_;
    }
    std::size_t total = 0;
    for (const AbiType& t : types_) {
      total += t.head_size();
    }
    return total;
  }

 private:
  std::span<const AbiType> types_;
  const AbiType* repeated_ = nullptr;
  std::size_t count_ = 0;
};

// Encodes the members of a tuple (or the elements of an array, which encode as a tuple of
// identical members): heads in order, then the tails of the dynamic members. Offsets count
// from the first head byte.
Result<void> encode_sequence(const AbiType& owner, const Members& types,
                             const AbiValue::List& values, Bytes& out) {
  if (types.size() != values.size()) {
    return mismatch(owner, "expected " + std::to_string(types.size()) + " members, got " +
                               std::to_string(values.size()));
  }
  const std::size_t head_total = types.head_total();
  const std::size_t start = out.size();
  out.resize(start + head_total);
  std::size_t head_pos = start;
  for (std::size_t i = 0; i < types.size(); ++i) {
    const AbiType& t = types[i];
    if (t.is_dynamic()) {
      const U256 offset(out.size() - start);
      const Bytes32 word = offset.to_word();
      std::copy(word.bytes.begin(), word.bytes.end(),
                out.begin() + static_cast<std::ptrdiff_t>(head_pos));
      auto tail = encode_into(t, values[i], out);
      if (!tail) {
        return tail;
      }
    } else {
      Bytes inline_encoding;
      auto encoded = encode_into(t, values[i], inline_encoding);
      if (!encoded) {
        return encoded;
      }
      std::copy(inline_encoding.begin(), inline_encoding.end(),
                out.begin() + static_cast<std::ptrdiff_t>(head_pos));
    }
    head_pos += t.head_size();
  }
  return {};
}

Result<void> encode_into(const AbiType& type, const AbiValue& value, Bytes& out) {
  switch (type.kind()) {
    case Kind::kBytes:
    case Kind::kString: {
      ByteView data;
      if (type.kind() == Kind::kBytes && value.kind() == AbiValue::Kind::kBytes) {
        data = value.as_bytes();
      } else if (type.kind() == Kind::kString && value.kind() == AbiValue::Kind::kString) {
        data = as_bytes(value.as_string());
      } else {
        return mismatch(type, type.kind() == Kind::kBytes ? "expected bytes" : "expected a string");
      }
      append_word(out, U256(data.size()).to_word());
      append_padded(out, data);
      return {};
    }
    case Kind::kFixedArray:
    case Kind::kDynamicArray: {
      if (value.kind() != AbiValue::Kind::kList) {
        return mismatch(type, "expected a list");
      }
      const AbiValue::List& items = value.as_list();
      if (type.kind() == Kind::kFixedArray && items.size() != type.size()) {
        return mismatch(type, "expected " + std::to_string(type.size()) + " elements, got " +
                                  std::to_string(items.size()));
      }
      if (type.kind() == Kind::kDynamicArray) {
        append_word(out, U256(items.size()).to_word());
      }
      return encode_sequence(type, Members(type.element(), items.size()), items, out);
    }
    case Kind::kTuple: {
      if (value.kind() != AbiValue::Kind::kList) {
        return mismatch(type, "expected a list of tuple members");
      }
      return encode_sequence(type, Members(type.components()), value.as_list(), out);
    }
    default: {
      auto word = encode_static_word(type, value);
      if (!word) {
        return word.error();
      }
      append_word(out, *word);
      return {};
    }
  }
}

// ---- Decoding -----------------------------------------------------------------------------

class Decoder {
 public:
  explicit Decoder(ByteView data)
      : data_(data),
        // A normal encoding spends at least one word per value it holds. Allowing each word to
        // be visited once per nesting level still accepts every normal encoding, while offsets
        // that make many values share one tail (a decompression bomb) run out of budget.
        budget_((data.size() / kWord + 1) * (kMaxTypeDepth + 1)) {}

  // Decodes a tuple-like sequence of `types` whose head starts at `base`.
  Result<AbiValue> decode_sequence(const Members& types, std::size_t base) {
    const std::size_t head_total = types.head_total();
    if (head_total > data_.size() || base > data_.size() - head_total) {
      return out_of_bounds("the head of " + std::to_string(types.size()) + " values", base,
                           head_total);
    }
    AbiValue::List values;
    values.reserve(std::min(types.size(), budget_));
    std::size_t head_pos = base;
    for (std::size_t i = 0; i < types.size(); ++i) {
      const AbiType& t = types[i];
      std::size_t position = head_pos;
      if (t.is_dynamic()) {
        auto offset = read_offset(head_pos);
        if (!offset) {
          return offset.error();
        }
        // A tail lies after the head of its own sequence and inside the data.
        if (*offset < head_total || *offset > data_.size() - base) {
          return make_error(Errc::kAbiInvalidOffset, "offset " + std::to_string(*offset) +
                                                         " at byte " + std::to_string(head_pos) +
                                                         " points outside the tail area [" +
                                                         std::to_string(base + head_total) + ", " +
                                                         std::to_string(data_.size()) + "]");
        }
        position = base + *offset;
      }
      auto value = decode_value(t, position);
      if (!value) {
        return value;
      }
      values.push_back(std::move(*value));
      head_pos += t.head_size();
    }
    return AbiValue::list(std::move(values));
  }

  // Decodes one value of `type` whose encoding starts at `position` (the head position for a
  // static type, the tail position for a dynamic one).
  Result<AbiValue> decode_value(const AbiType& type, std::size_t position) {
    if (budget_ == 0) {
      return make_error(Errc::kAbiLimitExceeded,
                        "ABI data expands into more values than its size allows (overlapping "
                        "offsets)");
    }
    --budget_;

    switch (type.kind()) {
      case Kind::kBytes:
      case Kind::kString: {
        auto length = read_length(position);
        if (!length) {
          return length.error();
        }
        const std::size_t start = position + kWord;
        if (*length > data_.size() - start) {
          return out_of_bounds(type.canonical() + " of length " + std::to_string(*length), start,
                               *length);
        }
        const ByteView content = data_.subspan(start, *length);
        if (type.kind() == Kind::kBytes) {
          return AbiValue::bytes(to_bytes(content));
        }
        return AbiValue::string(to_string(content));
      }
      case Kind::kDynamicArray: {
        auto length = read_length(position);
        if (!length) {
          return length.error();
        }
        const std::size_t start = position + kWord;
        const std::size_t element_head = type.element().head_size();
        if (element_head == 0) {
          return invalid(type, position, "has elements of size zero");
        }
        // Every element needs at least its head in the data, which bounds the allocation below.
        if (*length > (data_.size() - start) / element_head) {
          return out_of_bounds(type.canonical() + " of length " + std::to_string(*length), start,
                               *length * element_head);
        }
        return decode_sequence(Members(type.element(), *length), start);
      }
      case Kind::kFixedArray:
        return decode_sequence(Members(type.element(), type.size()), position);
      case Kind::kTuple:
        return decode_sequence(Members(type.components()), position);
      default:
        return decode_static(type, position);
    }
  }

 private:
  Result<AbiValue> decode_static(const AbiType& type, std::size_t position) {
    auto word_result = read_word(position);
    if (!word_result) {
      return word_result.error();
    }
    const Bytes32& word = *word_result;
    const U256 number = U256::from_word(word);
    switch (type.kind()) {
      case Kind::kUint:
        if (number.bit_length() > type.bits()) {
          return invalid(type, position, "has bits set above bit " + std::to_string(type.bits()));
        }
        return AbiValue::uint(number);
      case Kind::kInt:
        if (!fits_signed(number, type.bits())) {
          return invalid(type, position, "is not sign-extended");
        }
        return AbiValue::uint(number);
      case Kind::kAddress: {
        if (number.bit_length() > 160) {
          return invalid(type, position, "has non-zero bytes before the address");
        }
        return AbiValue::address(*Address::from_view(word.view().subspan(12)));
      }
      case Kind::kBool:
        if (number > U256(1)) {
          return invalid(type, position, "is neither 0 nor 1");
        }
        return AbiValue::boolean(number == U256(1));
      case Kind::kFixedBytes: {
        for (std::size_t i = type.size(); i < kWord; ++i) {
          if (word[i] != 0) {
            return invalid(type, position, "has non-zero padding");
          }
        }
        return AbiValue::bytes(Bytes(
            word.bytes.begin(), word.bytes.begin() + static_cast<std::ptrdiff_t>(type.size())));
      }
      default:
        return invalid(type, position, "is not an elementary type");
    }
  }

  Result<Bytes32> read_word(std::size_t position) {
    if (position > data_.size() || data_.size() - position < kWord) {
      return out_of_bounds("a word", position, kWord);
    }
    return *Bytes32::from_view(data_.subspan(position, kWord));
  }

  // Reads a word that must be a byte count or offset small enough to index the data.
  Result<std::size_t> read_size(std::size_t position, const char* what) {
    auto word = read_word(position);
    if (!word) {
      return word.error();
    }
    const U256 value = U256::from_word(*word);
    if (value > U256(data_.size())) {
      return make_error(what[0] == 'o' ? Errc::kAbiInvalidOffset : Errc::kAbiOutOfBounds,
                        std::string(what) + " " + value.to_dec() + " at byte " +
                            std::to_string(position) + " exceeds the data size " +
                            std::to_string(data_.size()));
    }
    return static_cast<std::size_t>(value.low_u64());
  }
  Result<std::size_t> read_offset(std::size_t position) { return read_size(position, "offset"); }
  Result<std::size_t> read_length(std::size_t position) { return read_size(position, "length"); }

  Error out_of_bounds(const std::string& what, std::size_t position, std::size_t length) const {
    return make_error(Errc::kAbiOutOfBounds, "ABI data too short: " + what + " needs " +
                                                 std::to_string(length) + " bytes at byte " +
                                                 std::to_string(position) + ", but the data has " +
                                                 std::to_string(data_.size()));
  }

  static Error invalid(const AbiType& type, std::size_t position, const std::string& what) {
    return make_error(Errc::kAbiInvalidValue,
                      type.canonical() + " word at byte " + std::to_string(position) + " " + what);
  }

  ByteView data_;
  std::size_t budget_;
};

Result<AbiType> parse_params(std::string_view signature) {
  auto type = AbiType::parse(signature);
  if (!type) {
    return type;
  }
  if (type->kind() != Kind::kTuple) {
    return make_error(Errc::kAbiTypeSyntax, "a parameter list must be a tuple such as \"(" +
                                                std::string(signature) + ")\", got \"" +
                                                std::string(signature) + "\"");
  }
  return type;
}

}  // namespace

Result<Bytes> encode(const AbiType& params, const AbiValue& value) {
  if (params.kind() != Kind::kTuple) {
    return mismatch(params, "encode() takes a parameter list (a tuple type)");
  }
  if (value.kind() != AbiValue::Kind::kList) {
    return mismatch(params, "expected a list of parameters");
  }
  Bytes out;
  auto encoded = encode_sequence(params, Members(params.components()), value.as_list(), out);
  if (!encoded) {
    return encoded.error();
  }
  return out;
}

Result<Bytes> encode(std::string_view params_signature, const AbiValue::List& values) {
  auto params = parse_params(params_signature);
  if (!params) {
    return params.error();
  }
  return encode(*params, AbiValue::list(values));
}

Result<AbiValue> decode(const AbiType& params, ByteView data) {
  if (params.kind() != Kind::kTuple) {
    return mismatch(params, "decode() takes a parameter list (a tuple type)");
  }
  Decoder decoder(data);
  return decoder.decode_sequence(Members(params.components()), 0);
}

Result<AbiValue> decode(std::string_view params_signature, ByteView data) {
  auto params = parse_params(params_signature);
  if (!params) {
    return params.error();
  }
  return decode(*params, data);
}

Result<Bytes32> encode_word(const AbiType& type, const AbiValue& value) {
  return encode_static_word(type, value);
}

}  // namespace inferd::core::abi

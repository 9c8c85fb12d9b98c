// Solidity contract ABI (v2) codec: types parsed from signature strings, a dynamic value model,
// encoding, bounds-checked decoding, selectors, event logs and revert data.
//
// Rules implemented are those of the Solidity ABI specification ("Contract ABI Specification",
// docs.soliditylang.org): head/tail encoding with offsets relative to the start of the enclosing
// tuple, 32-byte words, left-padded integers and addresses, right-padded bytesN/bytes/string.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/address.hpp"
#include "core/bytes.hpp"
#include "core/result.hpp"
#include "core/u256.hpp"

namespace inferd::core::abi {

/// Maximum nesting of arrays and tuples in a type, so recursion stays shallow on hostile input.
inline constexpr std::size_t kMaxTypeDepth = 32;

/// A parsed ABI type. Immutable once built; cheap enough to copy for signatures.
class AbiType {
 public:
  enum class Kind {
    kUint,          ///< uint<N>, N in 8..256 step 8
    kInt,           ///< int<N>, two's complement
    kAddress,       ///< address (20 bytes)
    kBool,          ///< bool
    kFixedBytes,    ///< bytes<N>, N in 1..32
    kBytes,         ///< bytes (dynamic)
    kString,        ///< string (dynamic, UTF-8 not checked)
    kFixedArray,    ///< T[k]
    kDynamicArray,  ///< T[]
    kTuple,         ///< (T1,...,Tn)
  };

  static AbiType uint(unsigned bits = 256);
  static AbiType int_(unsigned bits = 256);
  static AbiType address();
  static AbiType boolean();
  static AbiType fixed_bytes(std::size_t size);
  static AbiType bytes();
  static AbiType string();
  static AbiType fixed_array(AbiType element, std::size_t length);
  static AbiType dynamic_array(AbiType element);
  static AbiType tuple(std::vector<AbiType> components);

  /// Parses one type such as "uint256", "bytes32[]", "(address,uint32)[2]" or "tuple(bool)".
  /// "uint" and "int" mean the 256-bit types. Whitespace is not allowed inside the type.
  /// Fails with kAbiTypeSyntax naming the position, including for nesting deeper than
  /// kMaxTypeDepth or a static size above 2^32 bytes.
  static Result<AbiType> parse(std::string_view text);

  Kind kind() const { return kind_; }
  /// Bit width of uint<N>/int<N>.
  unsigned bits() const { return bits_; }
  /// Byte count of bytes<N>, or the length of T[k].
  std::size_t size() const { return size_; }
  /// Element type of an array.
  const AbiType& element() const { return components_.front(); }
  /// Member types of a tuple.
  const std::vector<AbiType>& components() const { return components_; }

  /// Whether the encoding is dynamic (bytes, string, T[], or anything containing one).
  bool is_dynamic() const { return dynamic_; }
  /// Bytes this type takes in the head of its enclosing tuple: 32 for dynamic types, otherwise
  /// the full static encoding size.
  std::size_t head_size() const { return head_size_; }

  /// The canonical spelling used in selectors, e.g. "(uint256,bytes)[]".
  std::string canonical() const;

  friend bool operator==(const AbiType& a, const AbiType& b);

 private:
  AbiType(Kind kind, unsigned bits, std::size_t size, std::vector<AbiType> components);

  Kind kind_ = Kind::kBool;
  unsigned bits_ = 0;
  std::size_t size_ = 0;
  std::vector<AbiType> components_;
  bool dynamic_ = false;
  std::size_t head_size_ = 32;
};

/// A value for one ABI type. Integers of every width are carried as a 256-bit word (int<N> in
/// two's complement), bytes<N> and bytes as Bytes, arrays and tuples as a List.
class AbiValue {
 public:
  using List = std::vector<AbiValue>;

  enum class Kind { kWord, kBool, kAddress, kBytes, kString, kList };

  AbiValue() = default;

  static AbiValue uint(const U256& value) { return AbiValue(value); }
  /// A signed integer in two's complement; use with int<N> types.
  static AbiValue int_(std::int64_t value) { return AbiValue(from_signed(value)); }
  static AbiValue boolean(bool value) { return AbiValue(value); }
  static AbiValue address(const Address& value) { return AbiValue(value); }
  static AbiValue bytes(Bytes value) { return AbiValue(std::move(value)); }
  template <std::size_t N>
  static AbiValue fixed_bytes(const FixedBytes<N>& value) {
    return AbiValue(Bytes(value.bytes.begin(), value.bytes.end()));
  }
  static AbiValue string(std::string value) { return AbiValue(std::move(value)); }
  static AbiValue list(List values) { return AbiValue(std::move(values)); }

  Kind kind() const { return static_cast<Kind>(value_.index()); }

  // The accessors throw std::bad_variant_access when the value holds another kind. A value
  // decoded successfully against a type always has that type's shape.
  const U256& as_uint() const { return std::get<U256>(value_); }
  bool as_bool() const { return std::get<bool>(value_); }
  const Address& as_address() const { return std::get<Address>(value_); }
  const Bytes& as_bytes() const { return std::get<Bytes>(value_); }
  const std::string& as_string() const { return std::get<std::string>(value_); }
  const List& as_list() const { return std::get<List>(value_); }
  /// The element or member i of a list value.
  const AbiValue& operator[](std::size_t i) const { return as_list().at(i); }
  /// A bytes32 value as Bytes32; throws std::bad_variant_access or BadResultAccess on mismatch.
  Bytes32 as_bytes32() const { return Bytes32::from_view(as_bytes()).value(); }

  /// A readable rendering for tests and diagnostics, e.g. "[1, 0xab, \"x\"]".
  std::string to_display() const;

  friend bool operator==(const AbiValue&, const AbiValue&) = default;

 private:
  explicit AbiValue(U256 v) : value_(std::move(v)) {}
  explicit AbiValue(bool v) : value_(v) {}
  explicit AbiValue(Address v) : value_(v) {}
  explicit AbiValue(Bytes v) : value_(std::move(v)) {}
  explicit AbiValue(std::string v) : value_(std::move(v)) {}
  explicit AbiValue(List v) : value_(std::move(v)) {}

  std::variant<U256, bool, Address, Bytes, std::string, List> value_{U256()};
};

// ---- Encoding and decoding -------------------------------------------------------------------

/// Encodes `value` as the parameter list `params` (a tuple type), exactly like Solidity's
/// `abi.encode(a, b, ...)`: "(string,string)" with a two-element list gives abi.encode(s1, s2).
/// To encode one struct argument, wrap it: "((string,string))". Fails with kAbiValueMismatch
/// when the value's shape or range does not fit the type (e.g. 256 for uint8, 31 bytes for
/// bytes32, a wrong fixed-array length).
Result<Bytes> encode(const AbiType& params, const AbiValue& value);

/// Parses `params_signature` (e.g. "(string,uint256)") and encodes `values` as those parameters.
Result<Bytes> encode(std::string_view params_signature, const AbiValue::List& values);

/// Decodes `data` as the parameter list `params` (a tuple type) into a list value: the inverse of
/// encode(). Never reads outside `data`. Fails with kAbiOutOfBounds when the data is too short,
/// kAbiInvalidOffset for an offset outside the data or into the head, kAbiInvalidValue for a word
/// that is not a clean value of its type (dirty high bits, bool other than 0/1, non-zero bytes<N>
/// padding), and kAbiLimitExceeded when the data would expand into more values than it could
/// hold if encoded normally. Trailing bytes after the encoded value are ignored.
Result<AbiValue> decode(const AbiType& params, ByteView data);

/// Parses `params_signature` and decodes `data` as those parameters.
Result<AbiValue> decode(std::string_view params_signature, ByteView data);

/// Encodes one 32-byte word for a static elementary type (used for indexed event topics).
Result<Bytes32> encode_word(const AbiType& type, const AbiValue& value);

// ---- Functions, events, errors ----------------------------------------------------------------

/// keccak256(text)[0..4] for an already canonical signature such as "transfer(address,uint256)".
Selector selector_of(std::string_view canonical_signature);

/// A function or custom error: its name and parameter list.
struct FunctionSignature {
  std::string name;
  AbiType params = AbiType::tuple({});

  /// "name(type1,type2)" without spaces or parameter names.
  std::string canonical() const;
  /// The 4-byte selector of canonical().
  Selector selector() const;
};

/// Parses "name(type1 name1, type2 name2)"; parameter names and data locations are ignored.
/// Fails with kAbiTypeSyntax.
Result<FunctionSignature> parse_function_signature(std::string_view text);

/// Encodes a call: selector followed by the encoded arguments.
Result<Bytes> encode_call(const FunctionSignature& function, const AbiValue::List& args);

/// Parses `signature` and encodes a call to it.
Result<Bytes> encode_call(std::string_view signature, const AbiValue::List& args);

/// One event parameter.
struct EventParam {
  AbiType type;
  bool indexed = false;
  std::string name;
};

/// An event declaration.
struct EventSignature {
  std::string name;
  std::vector<EventParam> params;

  /// "Name(type1,type2)" without "indexed" or names.
  std::string canonical() const;
  /// keccak256(canonical()): topic 0 of a non-anonymous event.
  Bytes32 topic0() const;
};

/// Parses "Name(uint32 indexed id, address node)" (names optional, "indexed" marks topics).
Result<EventSignature> parse_event_signature(std::string_view text);

/// Decodes a log of `event` into its parameters in declaration order. `topics[0]` must equal
/// topic0() and there must be one more topic than indexed parameters. Indexed parameters of
/// dynamic type (string, bytes, arrays, tuples) are only stored as keccak256 hashes by the EVM,
/// so they are returned as a 32-byte Bytes value. Fails with kAbiValueMismatch on a topic
/// mismatch, or with the data decoding error.
Result<AbiValue::List> decode_log(const EventSignature& event, std::span<const Bytes32> topics,
                                  ByteView data);

/// Custom errors known by selector, for naming revert reasons.
class ErrorTable {
 public:
  /// Adds an error declaration such as "InsufficientFunds()"; fails on a syntax error.
  Result<void> add(std::string_view signature);
  /// The declaration with this selector, or nullptr.
  const FunctionSignature* find(const Selector& selector) const;

 private:
  std::vector<FunctionSignature> errors_;
};

/// Selector of Solidity's `Error(string)`: 0x08c379a0.
Selector error_string_selector();
/// Selector of Solidity's `Panic(uint256)`: 0x4e487b71.
Selector panic_selector();

/// The meaning of a Solidity panic code (e.g. 0x11 "arithmetic overflow or underflow"), or
/// "unknown panic code" for codes Solidity does not define.
std::string_view panic_description(const U256& code);

/// What a reverted call returned.
struct RevertReason {
  enum class Kind {
    kEmpty,        ///< no data: require() without message, out of gas, call to a non-contract
    kErrorString,  ///< Error(string): `message`
    kPanic,        ///< Panic(uint256): `panic_code`
    kCustom,       ///< a custom error found in the ErrorTable: `name` and `args`
    kUnknown,      ///< anything else, including a known selector with malformed arguments
  };

  Kind kind = Kind::kEmpty;
  std::string message;
  U256 panic_code;
  std::optional<Selector> selector;
  std::string name;
  AbiValue::List args;
  Bytes raw;

  /// One line for logs and errors, e.g. "custom error NodeRespondedAlready()" or
  /// "panic 0x11 (arithmetic overflow or underflow)".
  std::string describe() const;
};

/// Classifies revert data. Never fails: data that is not a well-formed Error(string),
/// Panic(uint256) or known custom error is kUnknown with its raw bytes and selector (if any).
RevertReason decode_revert(ByteView data, const ErrorTable* errors = nullptr);

}  // namespace inferd::core::abi

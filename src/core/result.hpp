// Error values for the pure core: every fallible function in src/core returns Result<T>.
#pragma once

#include <cassert>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace inferd::core {

/// Kinds of failure reported by the core. The message in `Error` names the offending value.
enum class Errc {
  kInvalidHex,          ///< a character that is not a hex digit, or a missing digit
  kOddLength,           ///< hex text with an odd number of digits
  kInvalidLength,       ///< a byte string of the wrong size for a fixed-size type
  kInvalidNumber,       ///< decimal or hex number text that does not parse
  kOverflow,            ///< a value that does not fit the target type
  kInvalidAddress,      ///< address text that is not 20 bytes of hex
  kChecksumMismatch,    ///< mixed-case address text whose EIP-55 checksum is wrong
  kAbiTypeSyntax,       ///< an ABI type or signature string that does not parse
  kAbiValueMismatch,    ///< an AbiValue whose shape does not match the AbiType
  kAbiOutOfBounds,      ///< ABI data too short for what the type requires
  kAbiInvalidOffset,    ///< an ABI offset pointing outside the data or before the head
  kAbiInvalidValue,     ///< an ABI word with dirty high bits, a bool other than 0/1, etc.
  kAbiLimitExceeded,    ///< decoding would exceed the work or nesting limit
  kInvalidPrivateKey,   ///< zero, >= the curve order, or not 32 bytes
  kInvalidSignature,    ///< a signature that does not parse or does not recover
  kKeystore,            ///< a V3 keystore that does not parse or whose parameters are unsupported
  kWrongPassword,       ///< the keystore MAC does not match: wrong password or corrupt file
  kRlpMalformed,        ///< RLP input that is not canonical or runs past its end
  kInvalidTransaction,  ///< a transaction field outside its allowed range
  kEip712,              ///< typed data that cannot be hashed
};

/// A failure: its kind and a one-line message naming the bad value (never a secret).
struct Error {
  Errc code;
  std::string message;
};

/// Thrown by Result::value() when the result holds an error: reading it is a bug in the caller.
class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Error& error)
      : std::logic_error("value() called on a failed result: " + error.message) {}
};

/// Either a T or an Error (a small stand-in for C++23 std::expected, which clang 14 lacks here).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  /// Returns the value; throws BadResultAccess when this holds an error.
  T& value() & {
    check();
    return std::get<0>(state_);
  }
  const T& value() const& {
    check();
    return std::get<0>(state_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// Returns the error; only valid when !ok().
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  void check() const {
    if (!ok()) {
      throw BadResultAccess(std::get<1>(state_));
    }
  }

  std::variant<T, Error> state_;
};

/// Result of an operation that produces no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(failed_);
    return error_;
  }

 private:
  Error error_{};
  bool failed_ = false;
};

/// Builds an Error; a shorthand for the many early returns in decoders.
inline Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace inferd::core

// RitualVector: the tensor format of Infernet's ML services, in its JSON and ABI forms.
//
// JSON form: {"dtype": <DataType integer>, "shape": [d0, d1, ...], "values": [flattened,
// row-major]}. ABI form (what consumer contracts send and receive), as Solidity's
//   abi.encode(uint8 arithmetic, uint8 fixed_point_scale, uint8 dtype, uint16[] shape, T[] values)
// where T depends on the dtype and the arithmetic (see abi_element_type()). The layout and the
// integer values of DataType and Arithmetic are those of infernet-ml 2.0.0
// (infernet_ml/utils/codec/vector.py, "the reference" below), so vectors round-trip with
// Ritual's Python services.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/bytes.hpp"

namespace infernet::sdk {

/// Element type of a RitualVector. The integers are the wire values.
enum class DataType : std::uint8_t {
  kFloat16 = 0,
  kFloat32 = 1,
  kFloat64 = 2,
  kFloat128 = 3,  ///< held as float64: the Python reference has no wider float either
  kFloat256 = 4,  ///< held as float64
  kInt8 = 5,
  kInt16 = 6,
  kInt32 = 7,
  kInt64 = 8,
  kUint8 = 9,
  kUint16 = 10,
  kUint32 = 11,
  kUint64 = 12,
  kComplex64 = 13,   ///< two float32: real and imaginary part
  kComplex128 = 14,  ///< two float64
  kBool = 15,
};

/// Encoding of real numbers in the ABI form.
enum class Arithmetic : std::uint8_t {
  /// The IEEE 754 bit pattern read as a signed integer of the same width.
  kIeee = 0,
  /// trunc(x * 10^scale) as int128; the encoded dtype becomes kFloat128.
  kFixedPoint = 1,
};

/// The scale the reference writes by default, and always for IEEE vectors.
inline constexpr std::uint8_t kDefaultFixedPointScale = 18;

/// The reference's lowercase name, e.g. "float32", "uint8", "bool".
std::string_view data_type_name(DataType dtype);
/// The DataType with this wire integer, or nullopt outside 0..15.
std::optional<DataType> data_type_from_int(std::int64_t value);

/// "ieee" or "fixed_point", the strings of the off-chain `output_arithmetic` field.
std::string_view arithmetic_name(Arithmetic arithmetic);
/// The Arithmetic named "ieee" or "fixed_point", or nullopt for any other text.
std::optional<Arithmetic> arithmetic_from_name(std::string_view name);

bool is_floating(DataType dtype);  ///< float16 to float256
bool is_complex(DataType dtype);   ///< complex64, complex128
bool is_integer(DataType dtype);   ///< int8 to uint64 (not bool)

/// The Solidity element type of the `values` array for `dtype` in IEEE mode, e.g. "int32" for
/// float32 and "uint64" for complex64. Fixed-point vectors always use "int128".
std::string_view abi_element_type(DataType dtype);

/// A tensor: element type, shape and the elements flattened in row-major order.
///
/// `values` contains one double per element (two for a complex element, real part first) for
/// every dtype; a bool element is 0.0 or 1.0. Doubles are exact for all dtypes except int64 and
/// uint64 beyond 2^53, so for those two dtypes `int64_values` or `uint64_values` may also hold
/// the exact integers. Both decoders fill them, and the encoders read them instead of `values`
/// when they are non-empty, so a caller with small integers may leave them empty.
///
/// All throwing functions throw ServiceError (400) with a message naming the bad field, e.g.
/// "invalid vector.values[3]: 300 is out of range for uint8".
struct RitualVector {
  DataType dtype = DataType::kFloat32;
  std::vector<std::int64_t> shape;
  std::vector<double> values;
  std::vector<std::int64_t> int64_values;
  std::vector<std::uint64_t> uint64_values;

  /// The product of the shape: 1 for a scalar (empty shape). Throws when it overflows.
  std::size_t element_count() const;

  /// Checks that no dimension is negative, that the number of values matches the shape, that
  /// every value fits the dtype and that exact integer arrays, when present, have the same size.
  /// `field` names the vector in messages.
  void validate(std::string_view field = "vector") const;

  /// Parses and validates the JSON form. Float dtypes take any JSON number and `null` for NaN.
  /// Integer dtypes take integral numbers within the dtype's range. Bool takes true/false or
  /// 0/1. A complex element is a two-number array [real, imaginary].
  /// `field` names the vector in error messages, e.g. "inputs.input".
  static RitualVector from_json(const nlohmann::json& json, std::string_view field = "vector");

  /// The JSON form. Integer and bool dtypes give JSON integers and booleans, float dtypes give
  /// numbers. NaN and infinity become `null` because JSON has no such numbers.
  nlohmann::json to_json() const;

  /// The ABI form. IEEE mode writes `fixed_point_scale` as given (the reference writes 18).
  /// Fixed-point mode writes every element as trunc(x * 10^scale) in an int128[] and sets the
  /// dtype to float128; it rejects complex vectors and values whose scaled form does not fit.
  /// Float16 and float32 values are rounded to nearest, and a finite value beyond their range
  /// is rejected. Unlike the reference, a scale of 0 means 10^0 and not the default 18.
  inferd::core::Bytes abi_encode(Arithmetic arithmetic = Arithmetic::kIeee,
                                 std::uint8_t fixed_point_scale = kDefaultFixedPointScale) const;

  /// Decodes and validates the ABI form. A fixed-point float value v decodes to v / 10^scale,
  /// rounded to the nearest double. Fixed-point integer values are taken unscaled, as the
  /// reference does. The result keeps the encoded dtype, which is float128 after fixed-point
  /// encoding.
  static RitualVector abi_decode(inferd::core::ByteView bytes);

  friend bool operator==(const RitualVector&, const RitualVector&) = default;
};

/// nlohmann::json conversion hooks, so `json j = vector;` and `j.get<RitualVector>()` work.
void to_json(nlohmann::json& json, const RitualVector& vector);
void from_json(const nlohmann::json& json, RitualVector& vector);

}  // namespace infernet::sdk

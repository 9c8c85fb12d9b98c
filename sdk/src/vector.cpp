#include "infernet/sdk/vector.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include <boost/multiprecision/cpp_int.hpp>

#include "core/abi.hpp"
#include "core/u256.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {
namespace {

using BigInt = boost::multiprecision::cpp_int;
using inferd::core::Bytes;
using inferd::core::ByteView;
using inferd::core::U256;
using inferd::core::abi::AbiType;
using inferd::core::abi::AbiValue;

struct DataTypeInfo {
  std::string_view name;
  std::string_view abi_element;
};

// Indexed by the DataType integer.
constexpr std::array<DataTypeInfo, 16> kDataTypes = {{
    {"float16", "int16"},
    {"float32", "int32"},
    {"float64", "int64"},
    {"float128", "int128"},
    {"float256", "int256"},
    {"int8", "int8"},
    {"int16", "int16"},
    {"int32", "int32"},
    {"int64", "int64"},
    {"uint8", "uint8"},
    {"uint16", "uint16"},
    {"uint32", "uint32"},
    {"uint64", "uint64"},
    {"complex64", "uint64"},
    {"complex128", "uint128"},
    {"bool", "bool"},
}};

const DataTypeInfo& info(DataType dtype) {
  return kDataTypes.at(static_cast<std::size_t>(dtype));
}

[[noreturn]] void reject(std::string_view field, const std::string& problem) {
  throw ServiceError::bad_request("invalid " + std::string(field) + ": " + problem);
}

std::string index_field(std::string_view field, std::string_view member, std::size_t index) {
  return std::string(field) + "." + std::string(member) + "[" + std::to_string(index) + "]";
}

std::string member_field(std::string_view field, std::string_view member) {
  return std::string(field) + "." + std::string(member);
}

std::string format_number(double value) {
  return nlohmann::json(value).dump();
}

// ---- Integer ranges ----------------------------------------------------------------------------

struct IntegerRange {
  BigInt min;
  BigInt max;
};

IntegerRange integer_range(DataType dtype) {
  switch (dtype) {
    case DataType::kInt8:
      return {-128, 127};
    case DataType::kInt16:
      return {-32768, 32767};
    case DataType::kInt32:
      return {std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()};
    case DataType::kInt64:
      return {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
    case DataType::kUint8:
      return {0, 255};
    case DataType::kUint16:
      return {0, 65535};
    case DataType::kUint32:
      return {0, std::numeric_limits<std::uint32_t>::max()};
    case DataType::kUint64:
      return {0, std::numeric_limits<std::uint64_t>::max()};
    default:
      return {0, 1};  // bool
  }
}

// The exact integer value of trunc(x) for a finite double.
BigInt truncate_to_integer(double x) {
  const double magnitude = std::trunc(std::fabs(x));
  int exponent = 0;
  const double fraction = std::frexp(magnitude, &exponent);  // magnitude = fraction * 2^exponent
  BigInt result = static_cast<std::uint64_t>(std::ldexp(fraction, 53));
  exponent -= 53;
  if (exponent > 0) {
    result <<= exponent;
  } else {
    result >>= -exponent;  // only zero bits are shifted out because magnitude is integral
  }
  return x < 0 ? BigInt(-result) : result;
}

// numerator / denominator rounded to the nearest double (ties to even), as Python's int / int.
// The denominator must be positive.
double divide_to_nearest_double(BigInt numerator, const BigInt& denominator) {
  if (numerator == 0) {
    return 0.0;
  }
  const bool negative = numerator < 0;
  if (negative) {
    numerator = -numerator;
  }

  // Scale so that the integer quotient has 55 or 56 bits: 53 for the mantissa, a rounding bit,
  // and below it a sticky bit that records a non-zero remainder. One conversion to double then
  // rounds exactly once.
  const long shift = 55 - (static_cast<long>(boost::multiprecision::msb(numerator)) -
                           static_cast<long>(boost::multiprecision::msb(denominator)));
  BigInt scaled_numerator = numerator;
  BigInt scaled_denominator = denominator;
  if (shift >= 0) {
    scaled_numerator <<= shift;
  } else {
    scaled_denominator <<= -shift;
  }
  BigInt quotient;
  BigInt remainder;
  boost::multiprecision::divide_qr(scaled_numerator, scaled_denominator, quotient, remainder);
  auto bits = quotient.convert_to<std::uint64_t>();
  if (remainder != 0) {
    bits |= 1;
  }
  // NOTE: results below 2^-1022 would round twice; 10^-255 is the smallest non-zero quotient
  // the codec produces, so they do not occur.
  const double magnitude = std::ldexp(static_cast<double>(bits), static_cast<int>(-shift));
  return negative ? -magnitude : magnitude;
}

BigInt power_of_ten(unsigned exponent) {
  return boost::multiprecision::pow(BigInt(10), exponent);
}

// ---- IEEE bit patterns -------------------------------------------------------------------------

// The binary16 bit pattern nearest to `x` (ties to even), rounding straight from double as
// Python's struct format "e" does, or nullopt when a finite x rounds beyond the largest half.
std::optional<std::uint16_t> to_half_bits(double x) {
  const std::uint16_t sign = std::signbit(x) ? 0x8000 : 0;
  if (std::isnan(x)) {
    return static_cast<std::uint16_t>(sign | 0x7e00);
  }
  if (std::isinf(x)) {
    return static_cast<std::uint16_t>(sign | 0x7c00);
  }
  const double magnitude = std::fabs(x);
  if (magnitude < 0x1p-14) {
    // Subnormal range: the pattern is the value in units of 2^-24. Rounding up to 1024 gives
    // the smallest normal number's pattern, as it should.
    return static_cast<std::uint16_t>(
        sign | static_cast<std::uint16_t>(std::nearbyint(std::ldexp(magnitude, 24))));
  }
  int exponent = 0;
  std::frexp(magnitude, &exponent);
  exponent -= 1;  // magnitude = 1.f * 2^exponent
  double significand = std::nearbyint(std::ldexp(magnitude, 10 - exponent));  // 1024..2048
  if (significand == 2048.0) {
    significand = 1024.0;
    exponent += 1;
  }
  if (exponent > 15) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(sign | ((exponent + 15) << 10) |
                                    (static_cast<unsigned>(significand) - 1024));
}

double from_half_bits(std::uint16_t bits) {
  const double sign = (bits & 0x8000) ? -1.0 : 1.0;
  const int exponent = (bits >> 10) & 0x1f;
  const int fraction = bits & 0x3ff;
  if (exponent == 0x1f) {
    return fraction ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  }
  if (exponent == 0) {
    return sign * std::ldexp(fraction, -24);
  }
  return sign * std::ldexp(fraction + 1024, exponent - 25);
}

// x rounded to float32, or nullopt when a finite x rounds beyond the largest float.
std::optional<float> to_float32(double x) {
  const auto rounded = static_cast<float>(x);
  if (std::isfinite(x) && std::isinf(rounded)) {
    return std::nullopt;
  }
  return rounded;
}

// ---- ABI words ---------------------------------------------------------------------------------

U256 word_from_integer(const BigInt& value) {
  static const BigInt kTwoTo256 = BigInt(1) << 256;
  const BigInt unsigned_value = value < 0 ? BigInt(value + kTwoTo256) : value;
  return U256(U256::Native(unsigned_value));
}

BigInt signed_from_word(const U256& word) {
  static const BigInt kTwoTo256 = BigInt(1) << 256;
  BigInt value(word.native());
  if (inferd::core::is_negative(word)) {
    value -= kTwoTo256;
  }
  return value;
}

BigInt unsigned_from_word(const U256& word) {
  return BigInt(word.native());
}

AbiType header_type() {
  return AbiType::tuple({AbiType::uint(8), AbiType::uint(8), AbiType::uint(8),
                         AbiType::dynamic_array(AbiType::uint(16))});
}

AbiType element_abi_type(DataType dtype) {
  auto parsed = AbiType::parse(abi_element_type(dtype));
  return std::move(parsed).value();  // the table contains valid type names only
}

// ---- Element access ----------------------------------------------------------------------------

bool uses_exact_int64(const RitualVector& vector) {
  return vector.dtype == DataType::kInt64 && !vector.int64_values.empty();
}

bool uses_exact_uint64(const RitualVector& vector) {
  return vector.dtype == DataType::kUint64 && !vector.uint64_values.empty();
}

// The element i of an integer or bool vector. validate() has checked that it is integral.
BigInt integer_at(const RitualVector& vector, std::size_t i) {
  if (uses_exact_int64(vector)) {
    return vector.int64_values[i];
  }
  if (uses_exact_uint64(vector)) {
    return vector.uint64_values[i];
  }
  return truncate_to_integer(vector.values[i]);
}

void check_integer_value(const RitualVector& vector, std::size_t i, std::string_view field) {
  const double value = vector.values[i];
  if (!std::isfinite(value) || value != std::trunc(value)) {
    reject(index_field(field, "values", i), format_number(value) +
                                                " is not an integer, but dtype is " +
                                                std::string(data_type_name(vector.dtype)));
  }
  const IntegerRange range = integer_range(vector.dtype);
  const BigInt integer = truncate_to_integer(value);
  if (integer < range.min || integer > range.max) {
    reject(index_field(field, "values", i), format_number(value) + " is out of range for " +
                                                std::string(data_type_name(vector.dtype)));
  }
}

void check_value(const RitualVector& vector, std::size_t i, std::string_view field) {
  const double value = vector.values[i];
  switch (vector.dtype) {
    case DataType::kFloat16:
      if (!to_half_bits(value)) {
        reject(index_field(field, "values", i),
               format_number(value) + " is out of range for float16 (max 65504)");
      }
      return;
    case DataType::kFloat32:
    case DataType::kComplex64:
      if (!to_float32(value)) {
        reject(index_field(field, "values", i), format_number(value) + " is out of range for " +
                                                    std::string(data_type_name(vector.dtype)));
      }
      return;
    case DataType::kFloat64:
    case DataType::kFloat128:
    case DataType::kFloat256:
    case DataType::kComplex128:
      return;
    case DataType::kBool:
      if (value != 0.0 && value != 1.0) {
        reject(index_field(field, "values", i),
               format_number(value) + " is not a bool (expected 0 or 1)");
      }
      return;
    default:
      check_integer_value(vector, i, field);
  }
}

// ---- JSON --------------------------------------------------------------------------------------

double parse_float_value(const nlohmann::json& item, const std::string& field) {
  if (item.is_null()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (!item.is_number()) {
    reject(field, "expected a number, got " + item.dump());
  }
  return item.get<double>();
}

void parse_integer_value(const nlohmann::json& item, const std::string& field,
                         RitualVector& vector) {
  const std::string dtype_name(data_type_name(vector.dtype));
  BigInt integer;
  if (item.is_number_integer() && item.is_number_unsigned()) {
    integer = item.get<std::uint64_t>();
  } else if (item.is_number_integer()) {
    integer = item.get<std::int64_t>();
  } else if (item.is_number_float()) {
    const double value = item.get<double>();
    if (!std::isfinite(value) || value != std::trunc(value)) {
      reject(field, item.dump() + " is not an integer, but dtype is " + dtype_name);
    }
    integer = truncate_to_integer(value);
  } else {
    reject(field, "expected an integer, got " + item.dump());
  }

  const IntegerRange range = integer_range(vector.dtype);
  if (integer < range.min || integer > range.max) {
    reject(field, item.dump() + " is out of range for " + dtype_name);
  }
  if (vector.dtype == DataType::kInt64) {
    vector.int64_values.push_back(integer.convert_to<std::int64_t>());
  } else if (vector.dtype == DataType::kUint64) {
    vector.uint64_values.push_back(integer.convert_to<std::uint64_t>());
  }
  vector.values.push_back(integer.convert_to<double>());
}

void parse_value(const nlohmann::json& item, const std::string& field, RitualVector& vector) {
  if (is_complex(vector.dtype)) {
    if (!item.is_array() || item.size() != 2) {
      reject(field, "expected a complex number as [real, imaginary], got " + item.dump());
    }
    vector.values.push_back(parse_float_value(item[0], field + "[0]"));
    vector.values.push_back(parse_float_value(item[1], field + "[1]"));
    return;
  }
  if (vector.dtype == DataType::kBool) {
    if (item.is_boolean()) {
      vector.values.push_back(item.get<bool>() ? 1.0 : 0.0);
      return;
    }
    if (item.is_number() && (item.get<double>() == 0.0 || item.get<double>() == 1.0)) {
      vector.values.push_back(item.get<double>());
      return;
    }
    reject(field, "expected true, false, 0 or 1, got " + item.dump());
  }
  if (is_integer(vector.dtype)) {
    parse_integer_value(item, field, vector);
    return;
  }
  vector.values.push_back(parse_float_value(item, field));
}

nlohmann::json float_to_json(double value) {
  if (!std::isfinite(value)) {
    return nullptr;
  }
  return value;
}

// ---- ABI elements ------------------------------------------------------------------------------

AbiValue ieee_element(const RitualVector& vector, std::size_t i) {
  const double value = vector.values[i];
  switch (vector.dtype) {
    case DataType::kFloat16:
      return AbiValue::int_(static_cast<std::int16_t>(*to_half_bits(value)));
    case DataType::kFloat32:
      return AbiValue::int_(std::bit_cast<std::int32_t>(*to_float32(value)));
    case DataType::kFloat64:
    case DataType::kFloat128:
    case DataType::kFloat256:
      return AbiValue::int_(std::bit_cast<std::int64_t>(value));
    case DataType::kComplex64: {
      const auto real = std::bit_cast<std::uint32_t>(*to_float32(vector.values[2 * i]));
      const auto imaginary = std::bit_cast<std::uint32_t>(*to_float32(vector.values[2 * i + 1]));
      return AbiValue::uint(U256((static_cast<std::uint64_t>(real) << 32) | imaginary));
    }
    case DataType::kComplex128: {
      const BigInt real = std::bit_cast<std::uint64_t>(vector.values[2 * i]);
      const BigInt imaginary = std::bit_cast<std::uint64_t>(vector.values[2 * i + 1]);
      return AbiValue::uint(word_from_integer((real << 64) | imaginary));
    }
    case DataType::kBool:
      return AbiValue::boolean(value != 0.0);
    default:
      return AbiValue::uint(word_from_integer(integer_at(vector, i)));
  }
}

AbiValue fixed_point_element(const RitualVector& vector, std::size_t i, std::uint8_t scale,
                             std::string_view field) {
  static const BigInt kInt128Limit = BigInt(1) << 127;
  BigInt scaled;
  if (is_floating(vector.dtype)) {
    const double value = vector.values[i];
    if (!std::isfinite(value)) {
      reject(index_field(field, "values", i),
             "NaN and infinity have no fixed-point form; use IEEE arithmetic");
    }
    // A double product truncated to an integer, as the reference computes int(x * 10**scale).
    const double power = std::strtod(("1e" + std::to_string(scale)).c_str(), nullptr);
    const double product = value * power;
    if (!std::isfinite(product)) {
      reject(index_field(field, "values", i),
             format_number(value) + " * 10^" + std::to_string(scale) + " does not fit int128");
    }
    scaled = truncate_to_integer(product);
  } else {
    scaled = integer_at(vector, i) * power_of_ten(scale);
  }
  if (scaled < -kInt128Limit || scaled >= kInt128Limit) {
    reject(index_field(field, "values", i), format_number(vector.values[i]) + " * 10^" +
                                                std::to_string(scale) +
                                                " does not fit int128; use a smaller scale");
  }
  return AbiValue::uint(word_from_integer(scaled));
}

// Converts one decoded ABI element into `vector`'s value arrays.
void append_ieee_element(const AbiValue& element, std::size_t i, RitualVector& vector) {
  switch (vector.dtype) {
    case DataType::kFloat16: {
      const auto bits = signed_from_word(element.as_uint()).convert_to<std::int16_t>();
      vector.values.push_back(from_half_bits(static_cast<std::uint16_t>(bits)));
      return;
    }
    case DataType::kFloat32: {
      const auto bits = signed_from_word(element.as_uint()).convert_to<std::int32_t>();
      vector.values.push_back(std::bit_cast<float>(bits));
      return;
    }
    case DataType::kFloat64:
    case DataType::kFloat128:
    case DataType::kFloat256: {
      const BigInt bits = signed_from_word(element.as_uint());
      if (bits < std::numeric_limits<std::int64_t>::min() ||
          bits > std::numeric_limits<std::int64_t>::max()) {
        reject(index_field("vector", "values", i),
               "an IEEE " + std::string(data_type_name(vector.dtype)) +
                   " element must hold a float64 bit pattern, got " + bits.str());
      }
      vector.values.push_back(std::bit_cast<double>(bits.convert_to<std::int64_t>()));
      return;
    }
    case DataType::kComplex64: {
      const std::uint64_t bits = element.as_uint().low_u64();
      vector.values.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(bits >> 32)));
      vector.values.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
      return;
    }
    case DataType::kComplex128: {
      const BigInt bits = unsigned_from_word(element.as_uint());
      const auto real = static_cast<BigInt>(bits >> 64).convert_to<std::uint64_t>();
      const auto imaginary = static_cast<BigInt>(bits & 0xffff'ffff'ffff'ffffULL);
      vector.values.push_back(std::bit_cast<double>(real));
      vector.values.push_back(std::bit_cast<double>(imaginary.convert_to<std::uint64_t>()));
      return;
    }
    case DataType::kBool:
      vector.values.push_back(element.as_bool() ? 1.0 : 0.0);
      return;
    default: {
      const BigInt value = vector.dtype >= DataType::kUint8 ? unsigned_from_word(element.as_uint())
                                                            : signed_from_word(element.as_uint());
      if (vector.dtype == DataType::kInt64) {
        vector.int64_values.push_back(value.convert_to<std::int64_t>());
      } else if (vector.dtype == DataType::kUint64) {
        vector.uint64_values.push_back(value.convert_to<std::uint64_t>());
      }
      vector.values.push_back(value.convert_to<double>());
    }
  }
}

void append_fixed_point_element(const AbiValue& element, std::size_t i, std::uint8_t scale,
                                RitualVector& vector) {
  const BigInt denominator = power_of_ten(scale);
  if (is_floating(vector.dtype)) {
    vector.values.push_back(
        divide_to_nearest_double(signed_from_word(element.as_uint()), denominator));
    return;
  }
  if (is_complex(vector.dtype)) {
    // Two's-complement halves: 32 bits each for complex64 (a uint64), 64 for complex128.
    const unsigned half = vector.dtype == DataType::kComplex64 ? 32 : 64;
    const BigInt bits = unsigned_from_word(element.as_uint());
    const BigInt mask = (BigInt(1) << half) - 1;
    const BigInt limit = BigInt(1) << (half - 1);
    for (BigInt part : {BigInt(bits >> half), BigInt(bits & mask)}) {
      if (part >= limit) {
        part -= BigInt(1) << half;
      }
      vector.values.push_back(divide_to_nearest_double(part, denominator));
    }
    return;
  }
  // Integers and bools are not scaled: the reference decodes them as they are.
  append_ieee_element(element, i, vector);
}

}  // namespace

// ---- Names -------------------------------------------------------------------------------------

std::string_view data_type_name(DataType dtype) {
  return info(dtype).name;
}

std::optional<DataType> data_type_from_int(std::int64_t value) {
  if (value < 0 || value >= static_cast<std::int64_t>(kDataTypes.size())) {
    return std::nullopt;
  }
  return static_cast<DataType>(value);
}

std::string_view arithmetic_name(Arithmetic arithmetic) {
  return arithmetic == Arithmetic::kIeee ? "ieee" : "fixed_point";
}

std::optional<Arithmetic> arithmetic_from_name(std::string_view name) {
  if (name == "ieee") {
    return Arithmetic::kIeee;
  }
  if (name == "fixed_point") {
    return Arithmetic::kFixedPoint;
  }
  return std::nullopt;
}

bool is_floating(DataType dtype) {
  return dtype <= DataType::kFloat256;
}

bool is_complex(DataType dtype) {
  return dtype == DataType::kComplex64 || dtype == DataType::kComplex128;
}

bool is_integer(DataType dtype) {
  return dtype >= DataType::kInt8 && dtype <= DataType::kUint64;
}

std::string_view abi_element_type(DataType dtype) {
  return info(dtype).abi_element;
}

// ---- RitualVector ------------------------------------------------------------------------------

std::size_t RitualVector::element_count() const {
  std::size_t count = 1;
  for (std::int64_t dimension : shape) {
    const auto size = static_cast<std::size_t>(dimension < 0 ? 0 : dimension);
    if (size != 0 && count > std::numeric_limits<std::size_t>::max() / size) {
      throw ServiceError::bad_request("invalid vector.shape: the element count overflows");
    }
    count *= size;
  }
  return count;
}

void RitualVector::validate(std::string_view field) const {
  if (!data_type_from_int(static_cast<std::int64_t>(dtype))) {
    reject(member_field(field, "dtype"),
           std::to_string(static_cast<int>(dtype)) + " is not a DataType (expected 0 to 15)");
  }

  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0) {
      reject(index_field(field, "shape", i),
             std::to_string(shape[i]) + " is negative; dimensions are sizes");
    }
  }

  const std::size_t count = element_count();
  const std::size_t expected_values = is_complex(dtype) ? 2 * count : count;
  if (values.size() != expected_values) {
    reject(member_field(field, "values"),
           "has " + std::to_string(values.size()) + " numbers but shape " +
               nlohmann::json(shape).dump() + " needs " + std::to_string(expected_values) +
               (is_complex(dtype) ? " (two per complex element)" : ""));
  }

  if (!int64_values.empty() && (dtype != DataType::kInt64 || int64_values.size() != count)) {
    reject(member_field(field, "int64_values"),
           "must be empty or hold one integer per element of an int64 vector");
  }
  if (!uint64_values.empty() && (dtype != DataType::kUint64 || uint64_values.size() != count)) {
    reject(member_field(field, "uint64_values"),
           "must be empty or hold one integer per element of a uint64 vector");
  }

  if (uses_exact_int64(*this) || uses_exact_uint64(*this)) {
    return;  // every int64 and uint64 is in range
  }
  for (std::size_t i = 0; i < values.size(); ++i) {
    check_value(*this, i, field);
  }
}

RitualVector RitualVector::from_json(const nlohmann::json& json, std::string_view field) {
  if (!json.is_object()) {
    reject(field, "expected an object with dtype, shape and values, got " + json.dump());
  }
  RitualVector vector;

  // dtype defaults to float32, as in the reference's model.
  if (auto it = json.find("dtype"); it != json.end()) {
    std::optional<DataType> dtype;
    if (it->is_number_unsigned()) {
      dtype = data_type_from_int(it->get<std::uint64_t>() > 15 ? -1 : it->get<std::int64_t>());
    } else if (it->is_number_integer()) {
      dtype = data_type_from_int(it->get<std::int64_t>());
    }
    if (!dtype) {
      reject(member_field(field, "dtype"),
             it->dump() + " is not a DataType integer (0 float16 to 15 bool)");
    }
    vector.dtype = *dtype;
  }

  auto shape = json.find("shape");
  if (shape == json.end() || !shape->is_array()) {
    reject(member_field(field, "shape"), "missing or not an array of dimension sizes");
  }
  for (std::size_t i = 0; i < shape->size(); ++i) {
    const auto& dimension = (*shape)[i];
    if (!dimension.is_number_integer() ||
        (!dimension.is_number_unsigned() && dimension.get<std::int64_t>() < 0) ||
        (dimension.is_number_unsigned() &&
         dimension.get<std::uint64_t>() >
             static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
      reject(index_field(field, "shape", i),
             "expected a non-negative integer, got " + dimension.dump());
    }
    vector.shape.push_back(dimension.get<std::int64_t>());
  }

  auto values = json.find("values");
  if (values == json.end() || !values->is_array()) {
    reject(member_field(field, "values"), "missing or not a flat array of numbers");
  }
  for (std::size_t i = 0; i < values->size(); ++i) {
    parse_value((*values)[i], index_field(field, "values", i), vector);
  }

  vector.validate(field);
  return vector;
}

nlohmann::json RitualVector::to_json() const {
  nlohmann::json values_json = nlohmann::json::array();
  if (uses_exact_int64(*this)) {
    values_json = int64_values;
  } else if (uses_exact_uint64(*this)) {
    values_json = uint64_values;
  } else if (is_complex(dtype)) {
    for (std::size_t i = 0; i + 1 < values.size(); i += 2) {
      values_json.push_back({float_to_json(values[i]), float_to_json(values[i + 1])});
    }
  } else if (dtype == DataType::kBool) {
    for (double value : values) {
      values_json.push_back(value != 0.0);
    }
  } else if (is_integer(dtype)) {
    for (double value : values) {
      if (dtype >= DataType::kUint8) {
        values_json.push_back(static_cast<std::uint64_t>(value));
      } else {
        values_json.push_back(static_cast<std::int64_t>(value));
      }
    }
  } else {
    for (double value : values) {
      values_json.push_back(float_to_json(value));
    }
  }
  return nlohmann::json{
      {"dtype", static_cast<int>(dtype)}, {"shape", shape}, {"values", std::move(values_json)}};
}

Bytes RitualVector::abi_encode(Arithmetic arithmetic, std::uint8_t fixed_point_scale) const {
  validate("vector");
  if (arithmetic == Arithmetic::kFixedPoint && is_complex(dtype)) {
    reject("vector.dtype", std::string(data_type_name(dtype)) +
                               " has no fixed-point encoding; use IEEE arithmetic");
  }

  AbiValue::List shape_words;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] > std::numeric_limits<std::uint16_t>::max()) {
      reject(index_field("vector", "shape", i),
             std::to_string(shape[i]) + " does not fit the uint16 of the on-chain form");
    }
    shape_words.push_back(AbiValue::uint(U256(static_cast<std::uint64_t>(shape[i]))));
  }

  const DataType encoded_dtype =
      arithmetic == Arithmetic::kFixedPoint ? DataType::kFloat128 : dtype;
  AbiValue::List elements;
  const std::size_t count = element_count();
  elements.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    elements.push_back(arithmetic == Arithmetic::kFixedPoint
                           ? fixed_point_element(*this, i, fixed_point_scale, "vector")
                           : ieee_element(*this, i));
  }

  const AbiType params = AbiType::tuple({AbiType::uint(8), AbiType::uint(8), AbiType::uint(8),
                                         AbiType::dynamic_array(AbiType::uint(16)),
                                         AbiType::dynamic_array(element_abi_type(encoded_dtype))});
  auto encoded = inferd::core::abi::encode(
      params, AbiValue::list({AbiValue::uint(U256(static_cast<std::uint64_t>(arithmetic))),
                              AbiValue::uint(U256(fixed_point_scale)),
                              AbiValue::uint(U256(static_cast<std::uint64_t>(encoded_dtype))),
                              AbiValue::list(std::move(shape_words)),
                              AbiValue::list(std::move(elements))}));
  if (!encoded) {
    // validate() and the range checks above admit only encodable values.
    throw ServiceError(Status::internal_server_error,
                       "cannot ABI-encode the vector: " + encoded.error().message);
  }
  return std::move(encoded).value();
}

RitualVector RitualVector::abi_decode(ByteView bytes) {
  auto header = inferd::core::abi::decode(header_type(), bytes);
  if (!header) {
    reject("vector", "not an ABI-encoded (uint8,uint8,uint8,uint16[],T[]) RitualVector: " +
                         header.error().message);
  }
  const AbiValue& fields = *header;

  const std::uint64_t arithmetic_int = fields[0].as_uint().low_u64();
  if (arithmetic_int > 1) {
    reject("vector.arithmetic",
           std::to_string(arithmetic_int) + " is neither 0 (ieee) nor 1 (fixed_point)");
  }
  const auto arithmetic = static_cast<Arithmetic>(arithmetic_int);
  const auto scale = static_cast<std::uint8_t>(fields[1].as_uint().low_u64());
  const auto dtype = data_type_from_int(static_cast<std::int64_t>(fields[2].as_uint().low_u64()));
  if (!dtype) {
    reject("vector.dtype", fields[2].as_uint().to_dec() + " is not a DataType (expected 0 to 15)");
  }

  RitualVector vector;
  vector.dtype = *dtype;
  for (const AbiValue& dimension : fields[3].as_list()) {
    vector.shape.push_back(static_cast<std::int64_t>(dimension.as_uint().low_u64()));
  }

  const AbiType params = AbiType::tuple({AbiType::uint(8), AbiType::uint(8), AbiType::uint(8),
                                         AbiType::dynamic_array(AbiType::uint(16)),
                                         AbiType::dynamic_array(element_abi_type(*dtype))});
  auto decoded = inferd::core::abi::decode(params, bytes);
  if (!decoded) {
    reject("vector.values", "not an ABI-encoded " + std::string(abi_element_type(*dtype)) +
                                "[] for dtype " + std::string(data_type_name(*dtype)) + ": " +
                                decoded.error().message);
  }
  const AbiValue::List& elements = (*decoded)[4].as_list();
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (arithmetic == Arithmetic::kFixedPoint) {
      append_fixed_point_element(elements[i], i, scale, vector);
    } else {
      append_ieee_element(elements[i], i, vector);
    }
  }

  vector.validate("vector");
  return vector;
}

void to_json(nlohmann::json& json, const RitualVector& vector) {
  json = vector.to_json();
}

void from_json(const nlohmann::json& json, RitualVector& vector) {
  vector = RitualVector::from_json(json);
}

}  // namespace infernet::sdk

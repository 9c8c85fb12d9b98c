#include "infernet/sdk/vector.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {
namespace {

// Expected ABI bytes below were produced by `cast abi-encode` (Foundry 1.7.1), an encoder
// independent of inferd's, e.g.
//   cast abi-encode "f(uint8,uint8,uint8,uint16[],int32[])" 0 18 1 "[1,4]" "[1065672023,...]"

// The iris input of the Infernet services: IEEE float32, shape (1,4), values
// [1.0380048, 0.5586108, 1.1037828, 1.712096] (float32 bit patterns 0x3f84dd57, 0x3f0f011e,
// 0x3f8d48c1, 0x3fdb25f6).
constexpr const char* kIrisInput =
    "0000000000000000000000000000000000000000000000000000000000000000"  // arithmetic: ieee
    "0000000000000000000000000000000000000000000000000000000000000012"  // scale 18
    "0000000000000000000000000000000000000000000000000000000000000001"  // dtype float32
    "00000000000000000000000000000000000000000000000000000000000000a0"  // shape offset
    "0000000000000000000000000000000000000000000000000000000000000100"  // values offset
    "0000000000000000000000000000000000000000000000000000000000000002"  // shape length
    "0000000000000000000000000000000000000000000000000000000000000001"  // 1
    "0000000000000000000000000000000000000000000000000000000000000004"  // 4
    "0000000000000000000000000000000000000000000000000000000000000004"  // values length
    "000000000000000000000000000000000000000000000000000000003f84dd57"
    "000000000000000000000000000000000000000000000000000000003f0f011e"
    "000000000000000000000000000000000000000000000000000000003f8d48c1"
    "000000000000000000000000000000000000000000000000000000003fdb25f6";

// Fixed point, scale 6, dtype float128, shape [2], int128 values [-1500000, 250000].
constexpr const char* kFixedPointScale6 =
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000006"
    "0000000000000000000000000000000000000000000000000000000000000003"
    "00000000000000000000000000000000000000000000000000000000000000a0"
    "00000000000000000000000000000000000000000000000000000000000000e0"
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000002"
    "0000000000000000000000000000000000000000000000000000000000000002"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe91ca0"
    "000000000000000000000000000000000000000000000000000000000003d090";

// IEEE float16, shape [3], int16 values [15360, -16128, 31743] = 1.0, -2.5, 65504.
constexpr const char* kFloat16 =
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000012"
    "0000000000000000000000000000000000000000000000000000000000000000"
    "00000000000000000000000000000000000000000000000000000000000000a0"
    "00000000000000000000000000000000000000000000000000000000000000e0"
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000003"
    "0000000000000000000000000000000000000000000000000000000000000003"
    "0000000000000000000000000000000000000000000000000000000000003c00"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc100"
    "0000000000000000000000000000000000000000000000000000000000007bff";

// bool, shape [2, 1], values [true, false].
constexpr const char* kBool =
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000012"
    "000000000000000000000000000000000000000000000000000000000000000f"
    "00000000000000000000000000000000000000000000000000000000000000a0"
    "0000000000000000000000000000000000000000000000000000000000000100"
    "0000000000000000000000000000000000000000000000000000000000000002"
    "0000000000000000000000000000000000000000000000000000000000000002"
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000002"
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000000";

// int8, shape [3], values [-128, -1, 127].
constexpr const char* kInt8 =
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000012"
    "0000000000000000000000000000000000000000000000000000000000000005"
    "00000000000000000000000000000000000000000000000000000000000000a0"
    "00000000000000000000000000000000000000000000000000000000000000e0"
    "0000000000000000000000000000000000000000000000000000000000000001"
    "0000000000000000000000000000000000000000000000000000000000000003"
    "0000000000000000000000000000000000000000000000000000000000000003"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "000000000000000000000000000000000000000000000000000000000000007f";

RitualVector make_vector(DataType dtype, std::vector<std::int64_t> shape,
                         std::vector<double> values) {
  RitualVector vector;
  vector.dtype = dtype;
  vector.shape = std::move(shape);
  vector.values = std::move(values);
  return vector;
}

// Runs `action` expecting a 400 and returns its message.
template <typename Action>
std::string rejection(Action action) {
  try {
    action();
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::bad_request);
    return error.what();
  }
  ADD_FAILURE() << "accepted invalid input";
  return {};
}

std::string json_rejection(const std::string& text) {
  return rejection([&] { RitualVector::from_json(nlohmann::json::parse(text), "inputs.input"); });
}

// ---- Names -------------------------------------------------------------------------------------

TEST(DataType, WireIntegersAndNames) {
  EXPECT_EQ(static_cast<int>(DataType::kFloat16), 0);
  EXPECT_EQ(static_cast<int>(DataType::kFloat32), 1);
  EXPECT_EQ(static_cast<int>(DataType::kInt64), 8);
  EXPECT_EQ(static_cast<int>(DataType::kUint64), 12);
  EXPECT_EQ(static_cast<int>(DataType::kComplex128), 14);
  EXPECT_EQ(static_cast<int>(DataType::kBool), 15);
  EXPECT_EQ(data_type_name(DataType::kFloat128), "float128");
  EXPECT_EQ(data_type_name(DataType::kBool), "bool");
  EXPECT_EQ(data_type_from_int(9), DataType::kUint8);
  EXPECT_EQ(data_type_from_int(16), std::nullopt);
  EXPECT_EQ(data_type_from_int(-1), std::nullopt);
}

TEST(DataType, AbiElementTypes) {
  EXPECT_EQ(abi_element_type(DataType::kFloat16), "int16");
  EXPECT_EQ(abi_element_type(DataType::kFloat32), "int32");
  EXPECT_EQ(abi_element_type(DataType::kFloat256), "int256");
  EXPECT_EQ(abi_element_type(DataType::kUint32), "uint32");
  EXPECT_EQ(abi_element_type(DataType::kComplex64), "uint64");
  EXPECT_EQ(abi_element_type(DataType::kComplex128), "uint128");
  EXPECT_EQ(abi_element_type(DataType::kBool), "bool");
}

TEST(Arithmetic, NamesRoundTrip) {
  EXPECT_EQ(arithmetic_name(Arithmetic::kFixedPoint), "fixed_point");
  EXPECT_EQ(arithmetic_from_name("ieee"), Arithmetic::kIeee);
  EXPECT_EQ(arithmetic_from_name("fixed_point"), Arithmetic::kFixedPoint);
  EXPECT_EQ(arithmetic_from_name("IEEE"), std::nullopt);
}

// ---- ABI form ----------------------------------------------------------------------------------

TEST(RitualVectorAbi, IrisInputMatchesGoldenBytes) {
  auto vector = make_vector(DataType::kFloat32, {1, 4},
                            {static_cast<float>(1.0380048), static_cast<float>(0.5586108),
                             static_cast<float>(1.1037828), static_cast<float>(1.712096)});
  EXPECT_EQ(hex_encode(vector.abi_encode()), kIrisInput);
}

TEST(RitualVectorAbi, IrisInputDecodes) {
  auto vector = RitualVector::abi_decode(hex_decode(kIrisInput));
  EXPECT_EQ(vector.dtype, DataType::kFloat32);
  EXPECT_EQ(vector.shape, (std::vector<std::int64_t>{1, 4}));
  ASSERT_EQ(vector.values.size(), 4u);
  EXPECT_EQ(vector.values[0], static_cast<float>(1.0380048));
  EXPECT_EQ(vector.values[3], static_cast<float>(1.712096));
}

TEST(RitualVectorAbi, FixedPointMatchesGoldenBytes) {
  auto vector = make_vector(DataType::kFloat32, {2}, {-1.5, 0.25});
  EXPECT_EQ(hex_encode(vector.abi_encode(Arithmetic::kFixedPoint, 6)), kFixedPointScale6);
}

TEST(RitualVectorAbi, FixedPointDecodesAsFloat128) {
  auto vector = RitualVector::abi_decode(hex_decode(kFixedPointScale6));
  EXPECT_EQ(vector.dtype, DataType::kFloat128);
  EXPECT_EQ(vector.shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(vector.values, (std::vector<double>{-1.5, 0.25}));
}

TEST(RitualVectorAbi, Float16MatchesGoldenBytes) {
  auto vector = make_vector(DataType::kFloat16, {3}, {1.0, -2.5, 65504.0});
  EXPECT_EQ(hex_encode(vector.abi_encode()), kFloat16);
  EXPECT_EQ(RitualVector::abi_decode(hex_decode(kFloat16)), vector);
}

TEST(RitualVectorAbi, BoolMatchesGoldenBytes) {
  auto vector = make_vector(DataType::kBool, {2, 1}, {1.0, 0.0});
  EXPECT_EQ(hex_encode(vector.abi_encode()), kBool);
  EXPECT_EQ(RitualVector::abi_decode(hex_decode(kBool)), vector);
}

TEST(RitualVectorAbi, NegativeInt8MatchesGoldenBytes) {
  auto vector = make_vector(DataType::kInt8, {3}, {-128, -1, 127});
  EXPECT_EQ(hex_encode(vector.abi_encode()), kInt8);
  EXPECT_EQ(RitualVector::abi_decode(hex_decode(kInt8)), vector);
}

// Every dtype survives an IEEE round trip unchanged, negatives and extremes included.
TEST(RitualVectorAbi, IeeeRoundTripEveryDtype) {
  const double kMinusZero = -0.0;
  const std::vector<RitualVector> cases = {
      make_vector(DataType::kFloat16, {4},
                  {-0.333251953125, 6.103515625e-05, 5.960464477539063e-08, kMinusZero}),
      make_vector(DataType::kFloat32, {2, 2},
                  {-1.5, static_cast<float>(0.1), std::numeric_limits<float>::max(),
                   std::numeric_limits<float>::denorm_min()}),
      make_vector(DataType::kFloat64, {3}, {-0.1, 1e300, std::numeric_limits<double>::min()}),
      make_vector(DataType::kFloat128, {2}, {-123.456, 7e-200}),
      make_vector(DataType::kFloat256, {1}, {-2.5}),
      make_vector(DataType::kInt16, {2}, {-32768, 32767}),
      make_vector(DataType::kInt32, {2}, {-2147483648.0, 2147483647.0}),
      make_vector(DataType::kUint8, {2}, {0, 255}),
      make_vector(DataType::kUint16, {1}, {65535}),
      make_vector(DataType::kUint32, {1}, {4294967295.0}),
      make_vector(DataType::kComplex64, {2}, {1.5, -2.0, -0.25, 3.0}),
      make_vector(DataType::kComplex128, {1}, {-0.1, 1e-300}),
      make_vector(DataType::kBool, {3}, {0, 1, 1}),
      make_vector(DataType::kFloat32, {}, {-7.0}),
      make_vector(DataType::kFloat32, {0}, {}),
  };
  for (const auto& vector : cases) {
    SCOPED_TRACE(std::string(data_type_name(vector.dtype)));
    auto decoded = RitualVector::abi_decode(vector.abi_encode());
    EXPECT_EQ(decoded, vector);
    for (std::size_t i = 0; i < vector.values.size(); ++i) {
      EXPECT_EQ(std::signbit(decoded.values[i]), std::signbit(vector.values[i])) << i;
    }
  }
}

TEST(RitualVectorAbi, ComplexPacksRealAboveImaginary) {
  auto vector = make_vector(DataType::kComplex64, {1}, {1.5, -2.0});
  auto fields = abi_decode(abi_type("(uint8,uint8,uint8,uint16[],uint64[])"), vector.abi_encode());
  EXPECT_EQ(fields[4][0].as_uint(), inferd::core::U256(0x3fc00000'c0000000ULL));
}

TEST(RitualVectorAbi, NanAndInfinitySurviveIeee) {
  auto vector = make_vector(
      DataType::kFloat32, {3},
      {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
       -std::numeric_limits<double>::infinity()});
  auto decoded = RitualVector::abi_decode(vector.abi_encode());
  EXPECT_TRUE(std::isnan(decoded.values[0]));
  EXPECT_EQ(decoded.values[1], std::numeric_limits<double>::infinity());
  EXPECT_EQ(decoded.values[2], -std::numeric_limits<double>::infinity());
}

TEST(RitualVectorAbi, Int64KeepsExactValues) {
  RitualVector vector = make_vector(DataType::kInt64, {2}, {-9.223372036854775808e18, 9.0e18});
  vector.int64_values = {std::numeric_limits<std::int64_t>::min(), 9'007'199'254'740'993};
  auto decoded = RitualVector::abi_decode(vector.abi_encode());
  EXPECT_EQ(decoded.int64_values, vector.int64_values);
  EXPECT_EQ(decoded.values[1], 9'007'199'254'740'992.0);
}

TEST(RitualVectorAbi, Uint64KeepsExactValues) {
  RitualVector vector = make_vector(DataType::kUint64, {1}, {1.8446744073709552e19});
  vector.uint64_values = {std::numeric_limits<std::uint64_t>::max()};
  auto decoded = RitualVector::abi_decode(vector.abi_encode());
  EXPECT_EQ(decoded.uint64_values, vector.uint64_values);
}

TEST(RitualVectorAbi, Int64WithoutExactValuesUsesDoubles) {
  auto vector = make_vector(DataType::kInt64, {2}, {-5, 1e15});
  auto decoded = RitualVector::abi_decode(vector.abi_encode());
  EXPECT_EQ(decoded.values, vector.values);
  EXPECT_EQ(decoded.int64_values, (std::vector<std::int64_t>{-5, 1'000'000'000'000'000}));
}

// ---- Fixed point -------------------------------------------------------------------------------

TEST(RitualVectorFixedPoint, DefaultScaleRoundTrip) {
  auto vector = make_vector(DataType::kFloat64, {4}, {-0.1, 0.5, 123456789.5, -3e-18});
  auto decoded = RitualVector::abi_decode(vector.abi_encode(Arithmetic::kFixedPoint));
  EXPECT_EQ(decoded.dtype, DataType::kFloat128);
  EXPECT_EQ(decoded.values, vector.values);
}

TEST(RitualVectorFixedPoint, TruncatesTowardZero) {
  // The reference computes int(x * 10**scale): 2.675 * 100 is 267.49999999999997 in binary.
  auto vector = make_vector(DataType::kFloat64, {2}, {2.675, -1.7});
  auto fields = abi_decode(abi_type("(uint8,uint8,uint8,uint16[],int128[])"),
                           vector.abi_encode(Arithmetic::kFixedPoint, 2));
  EXPECT_EQ(inferd::core::to_signed_dec(fields[4][0].as_uint()), "267");
  EXPECT_EQ(inferd::core::to_signed_dec(fields[4][1].as_uint()), "-170");
}

TEST(RitualVectorFixedPoint, IntegersScaleExactly) {
  RitualVector vector = make_vector(DataType::kInt64, {2}, {-9.007199254740993e15, 1.0});
  vector.int64_values = {-9'007'199'254'740'993, 1};
  auto fields = abi_decode(abi_type("(uint8,uint8,uint8,uint16[],int128[])"),
                           vector.abi_encode(Arithmetic::kFixedPoint, 18));
  EXPECT_EQ(fields[2].as_uint(), inferd::core::U256(3));
  EXPECT_EQ(inferd::core::to_signed_dec(fields[4][0].as_uint()),
            "-9007199254740993000000000000000000");
  EXPECT_EQ(inferd::core::to_signed_dec(fields[4][1].as_uint()), "1000000000000000000");
}

TEST(RitualVectorFixedPoint, BoolScalesToOneOrZero) {
  auto vector = make_vector(DataType::kBool, {2}, {1, 0});
  auto decoded = RitualVector::abi_decode(vector.abi_encode(Arithmetic::kFixedPoint, 3));
  EXPECT_EQ(decoded.dtype, DataType::kFloat128);
  EXPECT_EQ(decoded.values, (std::vector<double>{1.0, 0.0}));
}

// Decoding divides with one rounding, like Python's int / int; the expected doubles are what
// Python 3.11 prints for the same divisions.
TEST(RitualVectorFixedPoint, DecodingRoundsOnce) {
  auto encoded = abi_encode(
      abi_type("(uint8,uint8,uint8,uint16[],int128[])"),
      {AbiValue::uint(1), AbiValue::uint(18), AbiValue::uint(3),
       AbiValue::list({AbiValue::uint(3)}),
       AbiValue::list({AbiValue::uint(*inferd::core::U256::from_dec("123456789012345678901234567")),
                       AbiValue::int_(-7), AbiValue::int_(1)})});
  auto vector = RitualVector::abi_decode(encoded);
  EXPECT_EQ(vector.values[0], 123456789.01234567);
  EXPECT_EQ(vector.values[1], -7e-18);
  EXPECT_EQ(vector.values[2], 1e-18);
}

TEST(RitualVectorFixedPoint, ScaleZeroIsUnscaled) {
  auto vector = make_vector(DataType::kFloat32, {1}, {-42.9});
  auto decoded = RitualVector::abi_decode(vector.abi_encode(Arithmetic::kFixedPoint, 0));
  EXPECT_EQ(decoded.values, (std::vector<double>{-42.0}));
}

TEST(RitualVectorFixedPoint, RejectsOverflowAndComplex) {
  auto big = make_vector(DataType::kFloat64, {1}, {1e30});
  EXPECT_NE(rejection([&] { big.abi_encode(Arithmetic::kFixedPoint, 18); }).find("int128"),
            std::string::npos);
  auto complex = make_vector(DataType::kComplex64, {1}, {1, 2});
  EXPECT_NE(rejection([&] { complex.abi_encode(Arithmetic::kFixedPoint); }).find("complex64"),
            std::string::npos);
  auto nan = make_vector(DataType::kFloat32, {1}, {std::numeric_limits<double>::quiet_NaN()});
  EXPECT_NE(rejection([&] { nan.abi_encode(Arithmetic::kFixedPoint); }).find("values[0]"),
            std::string::npos);
}

// ---- Invalid ABI input -------------------------------------------------------------------------

TEST(RitualVectorAbi, RejectsUnknownDtype) {
  auto encoded = abi_encode(abi_type("(uint8,uint8,uint8,uint16[],int32[])"),
                            {AbiValue::uint(0), AbiValue::uint(18), AbiValue::uint(16),
                             AbiValue::list({}), AbiValue::list({AbiValue::int_(1)})});
  EXPECT_NE(rejection([&] { RitualVector::abi_decode(encoded); }).find("vector.dtype"),
            std::string::npos);
}

TEST(RitualVectorAbi, RejectsUnknownArithmetic) {
  auto encoded = abi_encode(abi_type("(uint8,uint8,uint8,uint16[],int32[])"),
                            {AbiValue::uint(2), AbiValue::uint(18), AbiValue::uint(1),
                             AbiValue::list({}), AbiValue::list({AbiValue::int_(1)})});
  EXPECT_NE(rejection([&] { RitualVector::abi_decode(encoded); }).find("vector.arithmetic"),
            std::string::npos);
}

TEST(RitualVectorAbi, RejectsShapeMismatch) {
  auto encoded =
      abi_encode(abi_type("(uint8,uint8,uint8,uint16[],int32[])"),
                 {AbiValue::uint(0), AbiValue::uint(18), AbiValue::uint(1),
                  AbiValue::list({AbiValue::uint(3)}), AbiValue::list({AbiValue::int_(1)})});
  EXPECT_NE(rejection([&] { RitualVector::abi_decode(encoded); }).find("vector.values"),
            std::string::npos);
}

TEST(RitualVectorAbi, RejectsTruncatedBytes) {
  auto bytes = hex_decode(kIrisInput);
  bytes.resize(bytes.size() - 32);
  EXPECT_NE(rejection([&] { RitualVector::abi_decode(bytes); }).find("vector.values"),
            std::string::npos);
  EXPECT_NE(rejection([&] { RitualVector::abi_decode(Bytes{}); }).find("invalid vector"),
            std::string::npos);
}

TEST(RitualVectorAbi, RejectsWideIeeeFloat128) {
  auto encoded = abi_encode(
      abi_type("(uint8,uint8,uint8,uint16[],int128[])"),
      {AbiValue::uint(0), AbiValue::uint(18), AbiValue::uint(3), AbiValue::list({}),
       AbiValue::list(
           {AbiValue::uint(*inferd::core::U256::from_dec("18446744073709551616"))})});  // 2^64
  EXPECT_NE(rejection([&] { RitualVector::abi_decode(encoded); }).find("float64 bit pattern"),
            std::string::npos);
}

TEST(RitualVectorAbi, RejectsUnencodableValues) {
  auto wide = make_vector(DataType::kFloat32, {70000}, std::vector<double>(70000, 0.0));
  EXPECT_NE(rejection([&] { wide.abi_encode(); }).find("vector.shape[0]"), std::string::npos);
  auto half = make_vector(DataType::kFloat16, {1}, {65520.0});
  EXPECT_NE(rejection([&] { half.abi_encode(); }).find("float16"), std::string::npos);
  auto single = make_vector(DataType::kFloat32, {1}, {1e39});
  EXPECT_NE(rejection([&] { single.abi_encode(); }).find("float32"), std::string::npos);
}

// Mutated encodings either decode or raise ServiceError; no other exception and no crash.
TEST(RitualVectorAbi, MutatedBytesRaiseServiceErrorOnly) {
  std::mt19937 random(7);  // fixed seed, so a failure reproduces
  const std::vector<Bytes> seeds = {hex_decode(kIrisInput), hex_decode(kFixedPointScale6),
                                    hex_decode(kFloat16), hex_decode(kBool), hex_decode(kInt8)};
  int decoded = 0;
  for (int round = 0; round < 4000; ++round) {
    Bytes bytes = seeds[round % seeds.size()];
    const int mutations = 1 + static_cast<int>(random() % 4);
    for (int m = 0; m < mutations; ++m) {
      switch (random() % 3) {
        case 0:  // overwrite one byte
          bytes[random() % bytes.size()] = static_cast<std::uint8_t>(random());
          break;
        case 1:
          bytes.resize(random() % (bytes.size() + 1));
          break;
        default:
          bytes.resize(bytes.size() + 32 * (1 + random() % 3), static_cast<std::uint8_t>(random()));
      }
      if (bytes.empty()) {
        break;
      }
    }
    try {
      RitualVector::abi_decode(bytes);
      ++decoded;
    } catch (const ServiceError& error) {
      EXPECT_EQ(error.status(), Status::bad_request) << hex_encode(bytes);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "unexpected " << error.what() << " for " << hex_encode(bytes);
    }
  }
  EXPECT_GT(decoded, 0);  // some mutations (e.g. appended bytes) keep the vector valid
}

// ---- float16 rounding --------------------------------------------------------------------------

// Bit patterns from Python 3.11: struct.unpack(">h", struct.pack(">e", x)).
TEST(RitualVectorFloat16, RoundsToNearestLikePython) {
  const std::vector<std::pair<double, std::int64_t>> cases = {
      {0.1, 11878},       // 0x2e66
      {1e-7, 2},          // subnormal
      {65519.99, 31743},  // rounds down to 65504
      {-2.5, -16128},
  };
  for (const auto& [input, bits] : cases) {
    auto vector = make_vector(DataType::kFloat16, {1}, {input});
    auto fields = abi_decode(abi_type("(uint8,uint8,uint8,uint16[],int16[])"), vector.abi_encode());
    EXPECT_EQ(inferd::core::to_signed_dec(fields[4][0].as_uint()), std::to_string(bits)) << input;
  }
}

// ---- JSON form ---------------------------------------------------------------------------------

TEST(RitualVectorJson, ParsesReferenceForm) {
  auto vector = RitualVector::from_json(
      nlohmann::json::parse(R"({"dtype": 1, "shape": [1, 4], "values": [1.0, -2, 3.5, 4]})"));
  EXPECT_EQ(vector.dtype, DataType::kFloat32);
  EXPECT_EQ(vector.shape, (std::vector<std::int64_t>{1, 4}));
  EXPECT_EQ(vector.values, (std::vector<double>{1.0, -2.0, 3.5, 4.0}));
}

TEST(RitualVectorJson, DtypeDefaultsToFloat32) {
  auto vector = RitualVector::from_json(nlohmann::json::parse(R"({"shape": [], "values": [2]})"));
  EXPECT_EQ(vector.dtype, DataType::kFloat32);
}

TEST(RitualVectorJson, RoundTripEveryKind) {
  const std::vector<std::string> cases = {
      R"({"dtype":1,"shape":[2],"values":[-1.5,0.25]})",
      R"({"dtype":0,"shape":[1],"values":[-0.5]})",
      R"({"dtype":5,"shape":[2],"values":[-128,127]})",
      R"({"dtype":8,"shape":[2],"values":[-9223372036854775808,9007199254740993]})",
      R"({"dtype":12,"shape":[1],"values":[18446744073709551615]})",
      R"({"dtype":13,"shape":[1],"values":[[1.5,-2.0]]})",
      R"({"dtype":15,"shape":[2,1],"values":[true,false]})",
      R"({"dtype":2,"shape":[],"values":[null]})",
  };
  for (const auto& text : cases) {
    auto json = nlohmann::json::parse(text);
    EXPECT_EQ(RitualVector::from_json(json).to_json(), json) << text;
  }
}

TEST(RitualVectorJson, IntegerDtypesGiveJsonIntegers) {
  auto vector = make_vector(DataType::kUint8, {2}, {0, 200});
  EXPECT_EQ(vector.to_json().dump(), R"({"dtype":9,"shape":[2],"values":[0,200]})");
}

TEST(RitualVectorJson, ConversionHooks) {
  auto vector = make_vector(DataType::kBool, {1}, {1});
  nlohmann::json json = vector;
  EXPECT_EQ(json.get<RitualVector>(), vector);
}

TEST(RitualVectorJson, JsonToAbiAndBack) {
  auto vector = RitualVector::from_json(
      nlohmann::json::parse(R"({"dtype":7,"shape":[3],"values":[-2147483648,0,2147483647]})"));
  EXPECT_EQ(RitualVector::abi_decode(vector.abi_encode()).to_json(), vector.to_json());
}

TEST(RitualVectorJson, RejectsNamingTheField) {
  EXPECT_NE(json_rejection("[1]").find("inputs.input"), std::string::npos);
  EXPECT_NE(
      json_rejection(R"({"dtype": 16, "shape": [1], "values": [1]})").find("inputs.input.dtype"),
      std::string::npos);
  EXPECT_NE(json_rejection(R"({"dtype": "float32", "shape": [1], "values": [1]})")
                .find("inputs.input.dtype"),
            std::string::npos);
  EXPECT_NE(json_rejection(R"({"dtype": 1, "values": [1]})").find("inputs.input.shape"),
            std::string::npos);
  EXPECT_NE(
      json_rejection(R"({"dtype": 1, "shape": [-1], "values": []})").find("inputs.input.shape[0]"),
      std::string::npos);
  EXPECT_NE(json_rejection(R"({"dtype": 1, "shape": [1]})").find("inputs.input.values"),
            std::string::npos);
  EXPECT_NE(json_rejection(R"({"dtype": 1, "shape": [1], "values": ["1"]})")
                .find("inputs.input.values[0]"),
            std::string::npos);
  EXPECT_NE(json_rejection(R"({"dtype": 1, "shape": [2, 2], "values": [1, 2, 3]})").find("needs 4"),
            std::string::npos);
}

TEST(RitualVectorJson, RejectsOutOfRangeIntegers) {
  EXPECT_NE(json_rejection(R"({"dtype": 9, "shape": [2], "values": [1, 256]})")
                .find("inputs.input.values[1]: 256 is out of range for uint8"),
            std::string::npos);
  EXPECT_NE(json_rejection(R"({"dtype": 12, "shape": [1], "values": [-1]})")
                .find("out of range for uint64"),
            std::string::npos);
  EXPECT_NE(json_rejection(R"({"dtype": 5, "shape": [1], "values": [1.5]})").find("not an integer"),
            std::string::npos);
  EXPECT_NE(json_rejection(R"({"dtype": 0, "shape": [1], "values": [1e6]})").find("float16"),
            std::string::npos);
}

TEST(RitualVectorJson, RejectsMalformedBoolAndComplex) {
  EXPECT_NE(json_rejection(R"({"dtype": 15, "shape": [1], "values": [2]})")
                .find("inputs.input.values[0]"),
            std::string::npos);
  EXPECT_NE(
      json_rejection(R"({"dtype": 13, "shape": [1], "values": [1.0]})").find("[real, imaginary]"),
      std::string::npos);
}

TEST(RitualVectorJson, ValidateRejectsMismatchedExactValues) {
  RitualVector vector = make_vector(DataType::kInt32, {1}, {1});
  vector.int64_values = {1};
  EXPECT_NE(rejection([&] { vector.validate(); }).find("vector.int64_values"), std::string::npos);
}

}  // namespace
}  // namespace infernet::sdk

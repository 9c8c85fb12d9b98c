#include "core/abi.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"
#include "core/keccak.hpp"

namespace inferd::core::abi {
namespace {

Bytes hex(std::string_view text) {
  return from_hex(text).value();
}

// Joins 32-byte words given as 64-digit hex strings.
Bytes words(std::initializer_list<const char*> parts) {
  Bytes out;
  for (const char* part : parts) {
    append(out, hex(part));
  }
  return out;
}

std::string word_hex(std::uint64_t value) {
  return to_hex(U256(value).to_word().view(), HexPrefix::kWithout);
}

AbiValue u(std::uint64_t value) {
  return AbiValue::uint(U256(value));
}
AbiValue str(std::string text) {
  return AbiValue::string(std::move(text));
}
AbiValue list(AbiValue::List values) {
  return AbiValue::list(std::move(values));
}

// ---- Types ---------------------------------------------------------------------------------

TEST(AbiTypeTest, ParsesAndCanonicalises) {
  const std::pair<const char*, const char*> cases[] = {
      {"uint", "uint256"},
      {"int", "int256"},
      {"uint8", "uint8"},
      {"int24", "int24"},
      {"bytes", "bytes"},
      {"bytes1", "bytes1"},
      {"bytes32", "bytes32"},
      {"address[]", "address[]"},
      {"uint[2][]", "uint256[2][]"},
      {"(uint,string)[3]", "(uint256,string)[3]"},
      {"tuple(bool,(address,bytes4))", "(bool,(address,bytes4))"},
  };
  for (const auto& [text, canonical] : cases) {
    auto type = AbiType::parse(text);
    ASSERT_TRUE(type) << text << ": " << type.error().message;
    EXPECT_EQ(type->canonical(), canonical) << text;
  }
}

TEST(AbiTypeTest, RejectsInvalidTypes) {
  for (const char* text : {"",         "uint7",    "uint0",       "uint264",
                           "int1024",  "bytes0",   "bytes33",     "bool8",
                           "string[",  "uint[0]",  "uint[01]",    "()",
                           "(uint,)",  "(uint",    "foo",         "address payable",
                           "uint256 ", "function", "fixed128x18", "uint[4294967296]"}) {
    auto type = AbiType::parse(text);
    EXPECT_FALSE(type) << text;
    if (!type) {
      EXPECT_EQ(type.error().code, Errc::kAbiTypeSyntax) << text;
    }
  }
}

TEST(AbiTypeTest, RejectsDeepNesting) {
  std::string deep = "uint";
  for (int i = 0; i < 40; ++i) {
    deep += "[]";
  }
  EXPECT_FALSE(AbiType::parse(deep));
  EXPECT_FALSE(AbiType::parse(std::string(40, '(') + "bool" + std::string(40, ')')));
}

TEST(AbiTypeTest, DynamicAndHeadSize) {
  EXPECT_FALSE(AbiType::parse("(uint256,bool)").value().is_dynamic());
  EXPECT_EQ(AbiType::parse("(uint256,bool)").value().head_size(), 64u);
  EXPECT_EQ(AbiType::parse("uint16[3][2]").value().head_size(), 192u);
  EXPECT_TRUE(AbiType::parse("(uint256,bytes)").value().is_dynamic());
  EXPECT_TRUE(AbiType::parse("string[2]").value().is_dynamic());
  EXPECT_EQ(AbiType::parse("string[2]").value().head_size(), 32u);
}

// ---- Known answers from the Solidity ABI specification's examples ------------------------------

TEST(AbiEncodeTest, SpecExampleBaz) {
  // baz(uint32 69, bool true) from the "Examples" section of the Solidity ABI specification.
  auto call = encode_call("baz(uint32,bool)", {u(69), AbiValue::boolean(true)});
  ASSERT_TRUE(call) << call.error().message;
  EXPECT_EQ(to_hex(*call), "0xcdcd77c0" + word_hex(69) + word_hex(1));
}

TEST(AbiEncodeTest, SpecExampleSam) {
  // sam("dave", true, [1,2,3]) from the same section.
  auto call =
      encode_call("sam(bytes,bool,uint256[])", {AbiValue::bytes(to_bytes(as_bytes("dave"))),
                                                AbiValue::boolean(true), list({u(1), u(2), u(3)})});
  ASSERT_TRUE(call) << call.error().message;
  const std::string expected = "0xa5643bf2" + word_hex(0x60) + word_hex(1) + word_hex(0xa0) +
                               word_hex(4) +
                               "6461766500000000000000000000000000000000000000000000000000000000" +
                               word_hex(3) + word_hex(1) + word_hex(2) + word_hex(3);
  EXPECT_EQ(to_hex(*call), expected);
}

TEST(AbiEncodeTest, SpecExampleDynamicTypes) {
  // f(0x123, [0x456, 0x789], "1234567890", "Hello, world!") from the "Use of Dynamic Types"
  // example of the Solidity ABI specification.
  auto call = encode_call(
      "f(uint256,uint32[],bytes10,bytes)",
      {u(0x123), list({u(0x456), u(0x789)}), AbiValue::bytes(to_bytes(as_bytes("1234567890"))),
       AbiValue::bytes(to_bytes(as_bytes("Hello, world!")))});
  ASSERT_TRUE(call) << call.error().message;
  const std::string expected = "0x8be65246" + word_hex(0x123) + word_hex(0x80) +
                               "3132333435363738393000000000000000000000000000000000000000000000" +
                               word_hex(0xe0) + word_hex(2) + word_hex(0x456) + word_hex(0x789) +
                               word_hex(0xd) +
                               "48656c6c6f2c20776f726c642100000000000000000000000000000000000000";
  EXPECT_EQ(to_hex(*call), expected);
}

TEST(AbiEncodeTest, SpecExampleNestedDynamicArrays) {
  // g([[1, 2], [3]], ["one", "two", "three"]) from the same example section.
  auto call = encode_call(
      "g(uint256[][],string[])",
      {list({list({u(1), u(2)}), list({u(3)})}), list({str("one"), str("two"), str("three")})});
  ASSERT_TRUE(call) << call.error().message;
  const std::string expected =
      "0x2289b18c" + word_hex(0x40) + word_hex(0x140) + word_hex(2) + word_hex(0x40) +
      word_hex(0xa0) + word_hex(2) + word_hex(1) + word_hex(2) + word_hex(1) + word_hex(3) +
      word_hex(3) + word_hex(0x60) + word_hex(0xa0) + word_hex(0xe0) + word_hex(3) +
      "6f6e650000000000000000000000000000000000000000000000000000000000" + word_hex(3) +
      "74776f0000000000000000000000000000000000000000000000000000000000" + word_hex(5) +
      "7468726565000000000000000000000000000000000000000000000000000000";
  EXPECT_EQ(to_hex(*call), expected);

  auto decoded = decode("(uint256[][],string[])", ByteView(*call).subspan(4));
  ASSERT_TRUE(decoded) << decoded.error().message;
  EXPECT_EQ((*decoded)[0][0][1].as_uint(), U256(2));
  EXPECT_EQ((*decoded)[1][2].as_string(), "three");
}

TEST(AbiEncodeTest, StringPairMatchesAbiEncode) {
  // abi.encode("a", "bc"): two offsets, then length-prefixed, right-padded strings.
  auto encoded = encode("(string,string)", {str("a"), str("bc")});
  ASSERT_TRUE(encoded) << encoded.error().message;
  const std::string expected = "0x" + word_hex(0x40) + word_hex(0x80) + word_hex(1) +
                               "6100000000000000000000000000000000000000000000000000000000000000" +
                               word_hex(2) +
                               "6263000000000000000000000000000000000000000000000000000000000000";
  EXPECT_EQ(to_hex(*encoded), expected);
  auto decoded = decode("(string,string)", *encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, list({str("a"), str("bc")}));
}

// ---- Infernet SDK contract selectors and topics (as computed with `cast sig` / `cast keccak`) ---

TEST(AbiSelectorTest, InfernetFunctions) {
  const std::pair<const char*, const char*> cases[] = {
      {"id()", "0xaf640d0f"},
      {"getSubscription(uint32)", "0xa17b920b"},
      {"deliverCompute(uint32,uint32,bytes,bytes,bytes,address)", "0xc509543d"},
      {"deliverComputeDelegatee(uint32,uint32,(address,uint32,uint32,uint32,uint16,bytes32,bool,"
       "address,uint256,address,address),uint8,bytes32,bytes32,uint32,bytes,bytes,bytes,address)",
       "0x9fff314a"},
      {"readSubscriptionBatch(uint32,uint32)", "0x3ddc29f5"},
      {"readRedundancyCountBatch(uint32[],uint32[])", "0x757f1c84"},
      {"getContainerInputs(uint32,uint32,uint32,address)", "0x962fad75"},
      {"isValidWallet(address)", "0x439a3012"},
  };
  for (const auto& [signature, selector] : cases) {
    auto parsed = parse_function_signature(signature);
    ASSERT_TRUE(parsed) << signature << ": " << parsed.error().message;
    EXPECT_EQ(parsed->canonical(), signature);
    EXPECT_EQ(to_hex(parsed->selector().view()), selector) << signature;
  }
}

TEST(AbiSelectorTest, NamesAndSpacesAreIgnored) {
  auto parsed = parse_function_signature(
      "deliverCompute(uint32 subscriptionId, uint32 deliveryInterval, bytes calldata input, "
      "bytes calldata output, bytes calldata proof, address nodeWallet)");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(to_hex(parsed->selector().view()), "0xc509543d");
  EXPECT_FALSE(parse_function_signature("f(uint256"));
  EXPECT_FALSE(parse_function_signature("(uint256)"));
  EXPECT_FALSE(parse_function_signature("f(uint256 indexed x)"));
}

TEST(AbiSelectorTest, InfernetEventTopics) {
  const std::pair<const char*, const char*> cases[] = {
      {"SubscriptionCreated(uint32 indexed id)",
       "0x04344ed7a67fec80c444d56ee1cee242f3f75b91fecc8dbce8890069c82eb48e"},
      {"SubscriptionFulfilled(uint32 indexed id, address indexed node)",
       "0xc68fb0ae5cea2793405d29014d881bcda18f67122e0bcd7d0a577e118b64e4c8"},
      {"ProofVerified(uint32 indexed id, uint32 indexed interval, address indexed node, bool "
       "active, address verifier, bool valid)",
       "0xaf1556610075709bf885e17681512d329b1a40f799ee5196f79461e89b656454"},
  };
  for (const auto& [signature, topic] : cases) {
    auto event = parse_event_signature(signature);
    ASSERT_TRUE(event) << signature << ": " << event.error().message;
    EXPECT_EQ(to_hex(event->topic0().view()), topic) << signature;
  }
  EXPECT_FALSE(
      parse_event_signature("E(uint indexed a, uint indexed b, uint indexed c, uint indexed d)"));
}

// ---- Round trips ---------------------------------------------------------------------------

TEST(AbiRoundTripTest, EveryKindOfType) {
  const Address owner = Address::from_hex("0x1111111111111111111111111111111111111111").value();
  struct Case {
    const char* type;
    AbiValue value;
  };
  const Case cases[] = {
      {"(uint8)", list({u(255)})},
      {"(int8)", list({AbiValue::int_(-128)})},
      {"(int256)", list({AbiValue::int_(-1)})},
      {"(int40,uint40)", list({AbiValue::int_(-549755813888), u(1099511627775)})},
      {"(bool,address)", list({AbiValue::boolean(false), AbiValue::address(owner)})},
      {"(bytes1,bytes32)", list({AbiValue::bytes({0xab}), AbiValue::bytes(Bytes(32, 0x77))})},
      {"(bytes)", list({AbiValue::bytes({})})},
      {"(bytes)", list({AbiValue::bytes(Bytes(33, 0x01))})},
      {"(string)", list({str("")})},
      {"(string[])", list({list({})})},
      {"(uint16[3])", list({list({u(1), u(2), u(3)})})},
      {"(string[2])", list({list({str("x"), str("yz")})})},
      {"((uint256,string)[],bool)",
       list({list({list({u(1), str("one")}), list({u(2), str("two")})}), AbiValue::boolean(true)})},
      {"(((bytes,uint8[2])[1])[])",
       list({list({list({list({list({AbiValue::bytes({1, 2, 3}), list({u(4), u(5)})})})})})})},
  };
  for (const auto& c : cases) {
    auto type = AbiType::parse(c.type);
    ASSERT_TRUE(type) << c.type;
    auto encoded = encode(*type, c.value);
    ASSERT_TRUE(encoded) << c.type << ": " << encoded.error().message;
    EXPECT_EQ(encoded->size() % 32, 0u) << c.type;
    auto decoded = decode(*type, *encoded);
    ASSERT_TRUE(decoded) << c.type << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, c.value) << c.type << ": " << decoded->to_display();
  }
}

TEST(AbiRoundTripTest, SubscriptionStaticTupleIsElevenWords) {
  const std::string sub =
      "(address,uint32,uint32,uint32,uint16,bytes32,bool,address,uint256,address,address)";
  auto type = AbiType::parse(sub).value();
  EXPECT_FALSE(type.is_dynamic());
  EXPECT_EQ(type.head_size(), 11u * 32u);
}

// ---- Encoding rejects values that do not fit ------------------------------------------------

TEST(AbiEncodeTest, RejectsValuesOutOfRange) {
  const std::pair<const char*, AbiValue::List> cases[] = {
      {"(uint8)", {u(256)}},
      {"(int8)", {AbiValue::int_(128)}},
      {"(int8)", {AbiValue::int_(-129)}},
      {"(bytes4)", {AbiValue::bytes({1, 2, 3})}},
      {"(uint16[2])", {list({u(1)})}},
      {"(bool)", {u(1)}},
      {"(string)", {AbiValue::bytes({})}},
      {"(uint256,uint256)", {u(1)}},
  };
  for (const auto& [type, values] : cases) {
    auto encoded = encode(type, values);
    ASSERT_FALSE(encoded) << type;
    EXPECT_EQ(encoded.error().code, Errc::kAbiValueMismatch) << type;
  }
}

// ---- Decoding rejects malformed data --------------------------------------------------------

struct MalformedCase {
  const char* name;
  const char* type;
  Bytes data;
  Errc expected;
};

TEST(AbiDecodeTest, RejectsMalformedData) {
  const std::string max_word(64, 'f');
  const MalformedCase cases[] = {
      {"empty data for a word", "(uint256)", {}, Errc::kAbiOutOfBounds},
      {"31 bytes for a word", "(uint256)", Bytes(31, 0), Errc::kAbiOutOfBounds},
      {"uint8 with high bits", "(uint8)", words({word_hex(256).c_str()}), Errc::kAbiInvalidValue},
      {"int8 not sign-extended", "(int8)", words({word_hex(128).c_str()}), Errc::kAbiInvalidValue},
      {"bool of 2", "(bool)", words({word_hex(2).c_str()}), Errc::kAbiInvalidValue},
      {"address with dirty bytes", "(address)",
       words({"0000000000000000000000010000000000000000000000000000000000000000"}),
       Errc::kAbiInvalidValue},
      {"bytes4 with padding", "(bytes4)",
       words({"0102030405000000000000000000000000000000000000000000000000000000"}),
       Errc::kAbiInvalidValue},
      {"offset past the end", "(bytes)", words({word_hex(0x40).c_str()}), Errc::kAbiInvalidOffset},
      {"offset of 2^256-1", "(string)", words({max_word.c_str()}), Errc::kAbiInvalidOffset},
      {"offset into the head", "(uint256,bytes)",
       words({word_hex(0).c_str(), word_hex(0x20).c_str(), word_hex(0).c_str()}),
       Errc::kAbiInvalidOffset},
      {"length past the end", "(bytes)", words({word_hex(0x20).c_str(), word_hex(33).c_str()}),
       Errc::kAbiOutOfBounds},
      {"length of 2^256-1", "(bytes)", words({word_hex(0x20).c_str(), max_word.c_str()}),
       Errc::kAbiOutOfBounds},
      {"array length past the end", "(uint256[])",
       words({word_hex(0x20).c_str(), word_hex(2).c_str(), word_hex(7).c_str()}),
       Errc::kAbiOutOfBounds},
      {"huge array length", "(uint256[])", words({word_hex(0x20).c_str(), max_word.c_str()}),
       Errc::kAbiOutOfBounds},
      {"fixed array too short", "(uint256[3])", words({word_hex(1).c_str(), word_hex(2).c_str()}),
       Errc::kAbiOutOfBounds},
      {"no length word", "(bytes)", words({word_hex(0x20).c_str()}), Errc::kAbiOutOfBounds},
  };
  for (const auto& c : cases) {
    auto decoded = decode(c.type, c.data);
    ASSERT_FALSE(decoded) << c.name;
    EXPECT_EQ(decoded.error().code, c.expected) << c.name << ": " << decoded.error().message;
  }
}

TEST(AbiDecodeTest, RejectsOverlappingOffsetBomb) {
  // A string[][] whose 16 outer elements all point at the same inner array of 16 elements, which
  // all point at the same string: 256 values from about 40 words. Nested deeper, such sharing
  // grows exponentially, so the decoder caps the values per byte of input.
  Bytes data = words({word_hex(0x20).c_str(), word_hex(16).c_str()});
  for (int i = 0; i < 16; ++i) {
    append(data, hex(word_hex(16 * 32)));  // every outer element -> the inner array below
  }
  append(data, hex(word_hex(16)));
  for (int i = 0; i < 16; ++i) {
    append(data, hex(word_hex(16 * 32)));  // every inner element -> the string below
  }
  append(data, hex(word_hex(0)));
  auto shallow = decode("(string[][])", data);
  ASSERT_TRUE(shallow) << shallow.error().message;
  EXPECT_EQ((*shallow)[0].as_list().size(), 16u);

  // Four levels of 64-fold sharing would be 16 million strings.
  Bytes bomb = words({word_hex(0x20).c_str()});
  for (int level = 0; level < 4; ++level) {
    append(bomb, hex(word_hex(64)));
    for (int i = 0; i < 64; ++i) {
      append(bomb, hex(word_hex(64 * 32)));
    }
  }
  append(bomb, hex(word_hex(0)));
  auto decoded = decode("(string[][][][])", bomb);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::kAbiLimitExceeded);
}

TEST(AbiDecodeTest, IgnoresTrailingBytes) {
  Bytes data = words({word_hex(7).c_str(), word_hex(9).c_str()});
  auto decoded = decode("(uint256)", data);
  ASSERT_TRUE(decoded);
  EXPECT_EQ((*decoded)[0].as_uint(), U256(7));
}

// ---- Event logs ------------------------------------------------------------------------------

TEST(AbiLogTest, DecodesProofVerified) {
  auto event =
      parse_event_signature(
          "ProofVerified(uint32 indexed id, uint32 indexed interval, address indexed node, "
          "bool active, address verifier, bool valid)")
          .value();
  const Address node = Address::from_hex("0x2222222222222222222222222222222222222222").value();
  const Address verifier = Address::from_hex("0x3333333333333333333333333333333333333333").value();
  Bytes32 node_topic;
  std::copy(node.bytes().bytes.begin(), node.bytes().bytes.end(), node_topic.bytes.begin() + 12);
  const Bytes32 topics[] = {event.topic0(), U256(5).to_word(), U256(2).to_word(), node_topic};
  const Bytes data =
      encode("(bool,address,bool)",
             {AbiValue::boolean(true), AbiValue::address(verifier), AbiValue::boolean(false)})
          .value();

  auto values = decode_log(event, topics, data);
  ASSERT_TRUE(values) << values.error().message;
  ASSERT_EQ(values->size(), 6u);
  EXPECT_EQ((*values)[0].as_uint(), U256(5));
  EXPECT_EQ((*values)[1].as_uint(), U256(2));
  EXPECT_EQ((*values)[2].as_address(), node);
  EXPECT_TRUE((*values)[3].as_bool());
  EXPECT_EQ((*values)[4].as_address(), verifier);
  EXPECT_FALSE((*values)[5].as_bool());
}

TEST(AbiLogTest, IndexedDynamicValueIsItsHash) {
  auto event = parse_event_signature("Named(string indexed name, uint256 value)").value();
  const Bytes32 name_hash = keccak256("container");
  const Bytes32 topics[] = {event.topic0(), name_hash};
  auto values = decode_log(event, topics, U256(3).to_word().view());
  ASSERT_TRUE(values) << values.error().message;
  EXPECT_EQ((*values)[0].as_bytes32(), name_hash);
  EXPECT_EQ((*values)[1].as_uint(), U256(3));
}

TEST(AbiLogTest, RejectsWrongTopics) {
  auto event = parse_event_signature("SubscriptionCreated(uint32 indexed id)").value();
  const Bytes32 wrong_count[] = {event.topic0()};
  EXPECT_EQ(decode_log(event, wrong_count, {}).error().code, Errc::kAbiValueMismatch);
  const Bytes32 wrong_topic[] = {keccak256("Other(uint32)"), U256(1).to_word()};
  EXPECT_EQ(decode_log(event, wrong_topic, {}).error().code, Errc::kAbiValueMismatch);
  const Bytes32 dirty[] = {event.topic0(), U256::max().to_word()};
  EXPECT_EQ(decode_log(event, dirty, {}).error().code, Errc::kAbiInvalidValue);
}

// ---- Revert data -------------------------------------------------------------------------------

TEST(AbiRevertTest, ErrorString) {
  // require(false, "Not enough Ether provided.") as shown in the Solidity documentation on
  // revert data: Error(string) selector 0x08c379a0 and the ABI-encoded message.
  const Bytes data = hex("0x08c379a0" + word_hex(0x20) + word_hex(0x1a) +
                         "4e6f7420656e6f7567682045746865722070726f76696465642e000000000000");
  const RevertReason reason = decode_revert(data);
  EXPECT_EQ(reason.kind, RevertReason::Kind::kErrorString);
  EXPECT_EQ(reason.message, "Not enough Ether provided.");
  EXPECT_EQ(reason.describe(), "Error(\"Not enough Ether provided.\")");
}

TEST(AbiRevertTest, Panic) {
  const Bytes data = hex("0x4e487b71" + word_hex(0x11));
  const RevertReason reason = decode_revert(data);
  EXPECT_EQ(reason.kind, RevertReason::Kind::kPanic);
  EXPECT_EQ(reason.panic_code, U256(0x11));
  EXPECT_EQ(reason.describe(), "panic 0x11 (arithmetic overflow or underflow)");
  EXPECT_EQ(panic_description(U256(0x32)), "array index out of bounds");
  EXPECT_EQ(panic_description(U256(0x99)), "unknown panic code");
}

TEST(AbiRevertTest, CustomErrorsBySelector) {
  ErrorTable errors;
  ASSERT_TRUE(errors.add("NodeRespondedAlready()"));
  ASSERT_TRUE(errors.add("InsufficientFunds()"));
  ASSERT_TRUE(errors.add("Failure(uint256 code, string why)"));

  // Selectors of the Infernet SDK errors as computed with `cast sig`.
  const RevertReason responded = decode_revert(hex("0x88a21e4f"), &errors);
  EXPECT_EQ(responded.kind, RevertReason::Kind::kCustom);
  EXPECT_EQ(responded.name, "NodeRespondedAlready");
  EXPECT_EQ(responded.describe(), "custom error NodeRespondedAlready()");
  EXPECT_EQ(decode_revert(hex("0x356680b7"), &errors).name, "InsufficientFunds");

  Bytes failure = encode_call("Failure(uint256,string)", {u(7), str("bad")}).value();
  const RevertReason with_args = decode_revert(failure, &errors);
  ASSERT_EQ(with_args.kind, RevertReason::Kind::kCustom);
  EXPECT_EQ(with_args.describe(), "custom error Failure(7, \"bad\")");
}

TEST(AbiRevertTest, UnknownAndMalformed) {
  EXPECT_EQ(decode_revert({}).kind, RevertReason::Kind::kEmpty);
  EXPECT_EQ(decode_revert(hex("0x0102")).kind, RevertReason::Kind::kUnknown);

  const RevertReason unknown = decode_revert(hex("0x88a21e4f"));
  EXPECT_EQ(unknown.kind, RevertReason::Kind::kUnknown);
  EXPECT_EQ(unknown.describe(), "unknown revert with selector 0x88a21e4f (4 bytes)");

  // Error(string) whose offset points past the end.
  const RevertReason truncated = decode_revert(hex("0x08c379a0" + word_hex(0x40)));
  EXPECT_EQ(truncated.kind, RevertReason::Kind::kUnknown);
}

}  // namespace
}  // namespace inferd::core::abi

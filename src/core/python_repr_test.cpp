#include <gtest/gtest.h>

#include "core/python_repr.hpp"

namespace inferd::core {
namespace {

// Expected strings were checked against CPython 3.11.7: repr(json.loads(text)).
std::string repr_of(const char* json_text) {
  return python_repr(nlohmann::ordered_json::parse(json_text));
}

TEST(PythonRepr, Scalars) {
  EXPECT_EQ(repr_of("null"), "None");
  EXPECT_EQ(repr_of("true"), "True");
  EXPECT_EQ(repr_of("false"), "False");
  EXPECT_EQ(repr_of("42"), "42");
  EXPECT_EQ(repr_of("-7"), "-7");
  EXPECT_EQ(repr_of("18446744073709551615"), "18446744073709551615");
}

TEST(PythonRepr, Floats) {
  EXPECT_EQ(repr_of("1.0"), "1.0");
  EXPECT_EQ(repr_of("0.1"), "0.1");
  EXPECT_EQ(repr_of("-2.5"), "-2.5");
  EXPECT_EQ(repr_of("1e-05"), "1e-05");
  EXPECT_EQ(repr_of("0.0001"), "0.0001");
  EXPECT_EQ(repr_of("1e16"), "1e+16");
  EXPECT_EQ(repr_of("1e15"), "1000000000000000.0");
  EXPECT_EQ(repr_of("-1.5e15"), "-1500000000000000.0");
  EXPECT_EQ(repr_of("1234567890123456.5"), "1234567890123456.5");
  EXPECT_EQ(repr_of("123456789012345.6"), "123456789012345.6");
}

TEST(PythonRepr, ContainersKeepKeyOrder) {
  EXPECT_EQ(repr_of(R"({"b": 1, "a": [1, "x", null], "c": {}})"),
            "{'b': 1, 'a': [1, 'x', None], 'c': {}}");
  EXPECT_EQ(repr_of("[]"), "[]");
}

TEST(PythonRepr, StringQuoteChoice) {
  EXPECT_EQ(python_string_repr("plain"), "'plain'");
  EXPECT_EQ(python_string_repr("it's"), "\"it's\"");
  EXPECT_EQ(python_string_repr("say \"hi\""), "'say \"hi\"'");
  EXPECT_EQ(python_string_repr("it's \"both\""), "'it\\'s \"both\"'");
}

TEST(PythonRepr, StringEscapes) {
  EXPECT_EQ(python_string_repr("a\\b"), "'a\\\\b'");
  EXPECT_EQ(python_string_repr("t\tn\nr\r"), "'t\\tn\\nr\\r'");
  EXPECT_EQ(python_string_repr(std::string("\x01\x1f\x7f", 3)), "'\\x01\\x1f\\x7f'");
}

TEST(PythonRepr, StringNonAscii) {
  EXPECT_EQ(python_string_repr("caf\xc3\xa9"), "'caf\xc3\xa9'");            // é stays
  EXPECT_EQ(python_string_repr("\xe2\x82\xac"), "'\xe2\x82\xac'");          // € stays
  EXPECT_EQ(python_string_repr("\xf0\x9f\x98\x80"), "'\xf0\x9f\x98\x80'");  // emoji stays
  EXPECT_EQ(python_string_repr("\xc2\xa0"), "'\\xa0'");                     // no-break space
  EXPECT_EQ(python_string_repr("\xc2\x85"), "'\\x85'");                     // C1 control
  EXPECT_EQ(python_string_repr("\xe2\x80\xa8"), "'\\u2028'");               // line separator
  EXPECT_EQ(python_string_repr("\xef\xbb\xbf"), "'\\ufeff'");               // BOM
}

}  // namespace
}  // namespace inferd::core

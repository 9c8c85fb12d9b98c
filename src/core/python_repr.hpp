// Python's repr() of a value parsed from JSON, as Python would print the result of json.loads.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace inferd::core {

/// Renders `value` like Python's repr() of the equivalent json.loads result: dicts in key order
/// as {'k': v}, lists as [a, b], True/False/None, ints exactly, floats in Python's shortest form
/// (1.0, 1e+20, 1e-05), and strings quoted and escaped as Python does.
/// NOTE: for characters outside ASCII, only the common non-printable ranges (C1 controls, format
/// and separator characters, private use) are escaped; unassigned code points are kept as-is,
/// where Python would escape them.
std::string python_repr(const nlohmann::ordered_json& value);

/// Renders a string as Python's repr() would, quotes included.
std::string python_string_repr(const std::string& utf8);

}  // namespace inferd::core

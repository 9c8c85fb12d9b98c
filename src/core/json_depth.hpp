// Nesting depth of JSON text, measured without parsing it.
#pragma once

#include <cstddef>
#include <string_view>

namespace inferd::core {

/// The deepest nesting of arrays and objects in `text`, ignoring brackets inside strings. Stops
/// counting once `limit` is exceeded and returns `limit + 1`. Malformed text gives some depth;
/// the parser reports what is wrong with it.
///
/// Recursive JSON parsers and serialisers (nlohmann::json among them) use stack space per level,
/// so untrusted text must be checked with this before it is parsed.
std::size_t json_nesting_depth(std::string_view text, std::size_t limit);

/// The depth limit the node and the service SDK apply to every JSON body they parse.
inline constexpr std::size_t kMaxJsonDepth = 512;

}  // namespace inferd::core

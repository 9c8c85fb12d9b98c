// Logging: one named spdlog logger per subsystem, all writing to the same two sinks.
//
// The console sink (stderr) shows INFO and above; the rotating file sink set up from `log.*`
// keeps DEBUG and above. Messages carry their details as `key=value` fields built with kv():
//
//   log->info("job finished {} {}", kv("job_id", id), kv("status", "success"));
//
// Secrets (private keys, bearer tokens, registry passwords) must not be logged; wrap a value
// that may hold one in Redacted.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace inferd::infra {
struct LogConfig;
}

namespace inferd::infra::logging {

/// Log destinations and levels.
struct Options {
  std::string file_path;                     ///< rotating DEBUG+ file; empty means no file sink
  std::uint64_t max_file_size = 1073741824;  ///< bytes before the file rotates
  std::uint32_t backup_count = 2;            ///< rotated files kept (path.1.ext, path.2.ext, ...)
  bool console = true;                       ///< INFO+ to stderr
  spdlog::level::level_enum console_level = spdlog::level::info;
};

/// Options from the `log` section of the config.
Options options_from(const LogConfig& config);

/// Installs the sinks for every logger, existing and future, and creates the log file's
/// directory. Throws std::runtime_error naming the path when the file cannot be opened.
/// Call it before other threads log: it replaces the sinks of existing loggers without locking.
void setup(const Options& options);

/// Flushes and closes the sinks; loggers keep working but discard everything until the next
/// setup(). Same threading rule as setup().
void teardown();

/// Returns the logger for `subsystem` ("api", "store", "chain", ...), creating it on first use.
/// Before setup() a new logger writes INFO+ to stderr. Thread-safe.
std::shared_ptr<spdlog::logger> get_logger(std::string_view subsystem);

/// Flushes every logger's sinks (tests, shutdown). Thread-safe.
void flush();

/// One `key=value` field. The value is quoted (with " and \ escaped) when it is empty or
/// contains a space, a quote, '=' or a control character.
struct Field {
  std::string_view key;
  std::string value;
};

/// Builds a field from anything fmt can format.
template <typename T>
Field kv(std::string_view key, const T& value) {
  return Field{key, fmt::format("{}", value)};
}

/// A value that is logged as <redacted>.
struct Redacted {
  std::string_view value;
};

/// Renders a field as it appears in a log line.
std::string render_field(const Field& field);

}  // namespace inferd::infra::logging

template <>
struct fmt::formatter<inferd::infra::logging::Field> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const inferd::infra::logging::Field& field, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format(inferd::infra::logging::render_field(field),
                                                    context);
  }
};

template <>
struct fmt::formatter<inferd::infra::logging::Redacted> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const inferd::infra::logging::Redacted&, FormatContext& context) const {
    return fmt::formatter<std::string_view>::format("<redacted>", context);
  }
};

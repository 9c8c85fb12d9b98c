#include "infra/logging.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <vector>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "infra/config.hpp"

namespace inferd::infra::logging {
namespace {

constexpr const char* kConsolePattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";
constexpr const char* kFilePattern = "%Y-%m-%dT%H:%M:%S.%e%z %-5l [%n] [tid=%t] %v";

struct State {
  std::mutex mutex;
  std::vector<spdlog::sink_ptr> sinks;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
  bool configured = false;
};

State& state() {
  static State instance;
  return instance;
}

std::vector<spdlog::sink_ptr> default_sinks() {
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(spdlog::level::info);
  console->set_pattern(kConsolePattern);
  return {console};
}

// Caller holds the state mutex.
void attach(spdlog::logger& logger, const std::vector<spdlog::sink_ptr>& sinks) {
  logger.sinks() = sinks;
  logger.set_level(spdlog::level::debug);
  logger.flush_on(spdlog::level::warn);
}

}  // namespace

Options options_from(const LogConfig& config) {
  Options options;
  options.file_path = config.path;
  options.max_file_size = config.max_file_size;
  options.backup_count = config.backup_count;
  return options;
}

void setup(const Options& options) {
  std::vector<spdlog::sink_ptr> sinks;
  if (options.console) {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    console->set_level(options.console_level);
    console->set_pattern(kConsolePattern);
    sinks.push_back(console);
  }
  if (!options.file_path.empty()) {
    std::filesystem::path path(options.file_path);
    std::error_code error;
    if (path.has_parent_path()) {
      std::filesystem::create_directories(path.parent_path(), error);
    }
    try {
      auto file = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          options.file_path, static_cast<std::size_t>(options.max_file_size),
          static_cast<std::size_t>(options.backup_count));
      file->set_level(spdlog::level::debug);
      file->set_pattern(kFilePattern);
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& failure) {
      throw std::runtime_error("cannot open log file " + options.file_path + ": " + failure.what() +
                               "; check log.path and the directory's permissions");
    }
  }

  State& s = state();
  std::lock_guard lock(s.mutex);
  s.sinks = std::move(sinks);
  s.configured = true;
  for (auto& [name, logger] : s.loggers) {
    attach(*logger, s.sinks);
  }
  // DEBUG lines would otherwise sit in the file's buffer until it fills.
  spdlog::flush_every(std::chrono::seconds(1));
}

void teardown() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  for (auto& [name, logger] : s.loggers) {
    logger->flush();
    logger->sinks().clear();
  }
  s.sinks.clear();
  s.configured = true;  // loggers created from now on discard, like the existing ones
}

std::shared_ptr<spdlog::logger> get_logger(std::string_view subsystem) {
  State& s = state();
  std::lock_guard lock(s.mutex);
  auto it = s.loggers.find(subsystem);
  if (it != s.loggers.end()) {
    return it->second;
  }
  if (!s.configured) {
    s.sinks = default_sinks();
    s.configured = true;
  }
  auto logger = std::make_shared<spdlog::logger>(std::string(subsystem));
  attach(*logger, s.sinks);
  s.loggers.emplace(std::string(subsystem), logger);
  // Registering lets spdlog's periodic flusher (started by setup) reach this logger.
  try {
    spdlog::register_logger(logger);
  } catch (const spdlog::spdlog_ex&) {
    // Another part of the program registered this name directly; it then misses periodic flushes.
  }
  return logger;
}

void flush() {
  State& s = state();
  std::lock_guard lock(s.mutex);
  for (auto& [name, logger] : s.loggers) {
    logger->flush();
  }
}

std::string render_field(const Field& field) {
  bool quote = field.value.empty();
  for (char c : field.value) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      quote = true;
      break;
    }
  }
  std::string text(field.key);
  text += '=';
  if (!quote) {
    text += field.value;
    return text;
  }
  text += '"';
  for (char c : field.value) {
    switch (c) {
      case '"':
        text += "\\\"";
        break;
      case '\\':
        text += "\\\\";
        break;
      case '\n':
        text += "\\n";
        break;
      case '\r':
        text += "\\r";
        break;
      case '\t':
        text += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          text += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        } else {
          text += c;
        }
    }
  }
  text += '"';
  return text;
}

}  // namespace inferd::infra::logging

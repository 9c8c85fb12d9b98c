#include "infra/logging.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "infra/config.hpp"

namespace inferd::infra::logging {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream file(path);
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

class LoggingTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("inferd_logging_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override {
    teardown();
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(LoggingTest, FileRotatesAndKeepsBackupCount) {
  Options options;
  options.file_path = (dir_ / "logs" / "node.log").string();
  options.max_file_size = 2048;
  options.backup_count = 2;
  options.console = false;
  setup(options);

  auto log = get_logger("rotation");
  std::string padding(100, 'x');
  for (int i = 0; i < 200; ++i) {
    log->debug("line {} {}", kv("index", i), kv("padding", padding));
  }
  flush();

  EXPECT_TRUE(fs::exists(dir_ / "logs" / "node.log"));
  EXPECT_TRUE(fs::exists(dir_ / "logs" / "node.1.log"));
  EXPECT_TRUE(fs::exists(dir_ / "logs" / "node.2.log"));
  EXPECT_FALSE(fs::exists(dir_ / "logs" / "node.3.log"));
  for (const char* name : {"node.log", "node.1.log", "node.2.log"}) {
    EXPECT_LE(fs::file_size(dir_ / "logs" / name), 2048u) << name;
  }
  // The newest line is in the current file, at DEBUG level, with its logger name and fields.
  std::string current = read_file(dir_ / "logs" / "node.log");
  EXPECT_NE(current.find("debug [rotation]"), std::string::npos) << current;
  EXPECT_NE(current.find("index=199 padding=xxx"), std::string::npos) << current;
}

TEST_F(LoggingTest, ConsoleShowsInfoButNotDebug) {
  Options options;
  options.file_path = (dir_ / "node.log").string();
  setup(options);
  auto log = get_logger("console");

  testing::internal::CaptureStderr();
  log->debug("hidden debug line");
  log->info("shown info line {}", kv("job_id", "abc"));
  flush();
  std::string console = testing::internal::GetCapturedStderr();

  EXPECT_EQ(console.find("hidden debug line"), std::string::npos) << console;
  EXPECT_NE(console.find("[console] shown info line job_id=abc"), std::string::npos) << console;
  std::string file = read_file(dir_ / "node.log");
  EXPECT_NE(file.find("hidden debug line"), std::string::npos) << file;
  EXPECT_NE(file.find("shown info line"), std::string::npos) << file;
}

TEST_F(LoggingTest, SameNameReturnsSameLogger) {
  EXPECT_EQ(get_logger("api"), get_logger("api"));
  EXPECT_NE(get_logger("api"), get_logger("store"));
  EXPECT_EQ(get_logger("store")->name(), "store");
}

TEST_F(LoggingTest, SetupFailsForUnwritablePath) {
  Options options;
  options.file_path = "/proc/inferd-cannot-write/node.log";
  options.console = false;
  EXPECT_THROW(setup(options), std::runtime_error);
}

TEST(LoggingOptions, FromLogConfig) {
  LogConfig config;
  config.path = "a/b.log";
  config.max_file_size = 123;
  config.backup_count = 4;
  Options options = options_from(config);
  EXPECT_EQ(options.file_path, "a/b.log");
  EXPECT_EQ(options.max_file_size, 123u);
  EXPECT_EQ(options.backup_count, 4u);
}

struct FieldCase {
  const char* value;
  const char* rendered;
};

TEST(LoggingFields, QuoteOnlyWhenNeeded) {
  const FieldCase cases[] = {
      {"abc", "k=abc"},
      {"", "k=\"\""},
      {"two words", "k=\"two words\""},
      {"a=b", "k=\"a=b\""},
      {"say \"hi\"", "k=\"say \\\"hi\\\"\""},
      {"line\nbreak", "k=\"line\\nbreak\""},
      {"back\\slash", "k=\"back\\\\slash\""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(render_field(kv("k", c.value)), c.rendered) << c.value;
  }
  EXPECT_EQ(render_field(kv("n", 42)), "n=42");
  EXPECT_EQ(fmt::format("{}", Redacted{"0xsecret"}), "<redacted>");
  EXPECT_EQ(fmt::format("{} {}", kv("a", 1), kv("b", "x y")), "a=1 b=\"x y\"");
}

}  // namespace
}  // namespace inferd::infra::logging

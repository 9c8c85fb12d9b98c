// Runs one fuzz entry point over its committed corpus (fuzz/corpus/INFERD_FUZZ_CORPUS) as a
// plain test, so builds without libFuzzer still exercise the fuzzed parsers on tricky inputs.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size);

namespace {

std::vector<std::filesystem::path> corpus_files(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(INFERD_SOURCE_DIR) / "fuzz/corpus" / name;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) {
      files.push_back(entry.path());
    }
  }
  return files;
}

std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(FuzzReplayTest, CommittedCorpus) {
  const auto files = corpus_files(INFERD_FUZZ_CORPUS);
  ASSERT_GE(files.size(), 5u) << "the committed corpus is missing";
  for (const auto& file : files) {
    SCOPED_TRACE(file.filename().string());
    const auto bytes = read_file(file);
    EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), bytes.size()), 0);
  }
}

TEST(FuzzReplayTest, TruncatedPrefixes) {
  // Every prefix of every corpus file: truncation is the most common malformation.
  for (const auto& file : corpus_files(INFERD_FUZZ_CORPUS)) {
    const auto bytes = read_file(file);
    for (std::size_t length = 0; length <= bytes.size(); ++length) {
      EXPECT_EQ(LLVMFuzzerTestOneInput(bytes.data(), length), 0);
    }
  }
}

}  // namespace

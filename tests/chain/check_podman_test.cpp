// `inferd check` image checks against a real Podman API service: a present image passes and a
// missing one is a warning, because the node pulls missing images at start-up.
#include <stdlib.h>
#include <unistd.h>

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/check_command.hpp"
#include "support/process.hpp"

namespace inferd::cli {
namespace {

using nlohmann::json;

// Runs a bash command line to its end; returns its standard output without the final newline.
std::string run_shell(const std::string& command) {
  inferd::testing::Process process("/bin/bash", {"-c", command});
  const std::optional<int> status = process.wait(std::chrono::minutes(10));
  if (status != 0) {
    throw std::runtime_error(command + " failed: " + process.stderr_text());
  }
  std::string output = process.stdout_text();
  while (!output.empty() && output.back() == '\n') {
    output.pop_back();
  }
  return output;
}

// An image tag of this process only, so parallel runs never remove each other's image.
const std::string kTag = "check-" + std::to_string(::getpid());
const std::string kImage = "localhost/inferd/test-httpd:" + kTag;

class CheckPodmanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* docker_host = std::getenv("DOCKER_HOST");
    if (docker_host == nullptr || *docker_host == '\0') {
      ::setenv("DOCKER_HOST", run_shell("bash " INFERD_SOURCE_DIR "/scripts/podman.sh").c_str(), 1);
    }
    run_shell("bash " INFERD_SOURCE_DIR "/scripts/build-images.sh --tag " + kTag +
              " test-httpd >&2");
  }

  static void TearDownTestSuite() { run_shell("podman rmi -f " + kImage + " >/dev/null || true"); }

  std::string check(const std::string& image) {
    json config = {
        {"manage_containers", true},
        {"server", {{"port", inferd::testing::free_port()}}},
        {"containers",
         json::array({{{"id", "web"}, {"image", image}, {"port", inferd::testing::free_port()}}})}};
    const std::filesystem::path path = dir_.path() / "config.json";
    inferd::testing::write_file(path, config.dump());
    std::ostringstream out;
    status_ = run_check(path.string(), out);
    return out.str();
  }

  inferd::testing::TempDir dir_;
  int status_ = -1;
};

TEST_F(CheckPodmanTest, PresentImagePasses) {
  const std::string output = check(kImage);

  EXPECT_EQ(status_, 0) << output;
  EXPECT_NE(output.find("ok docker: Docker API "), std::string::npos) << output;
  EXPECT_NE(output.find("ok container web image: image " + kImage + " is present"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("ok container web port: "), std::string::npos) << output;
}

TEST_F(CheckPodmanTest, MissingImageIsWarning) {
  const std::string missing = "localhost/inferd/missing-" + kTag + ":latest";

  const std::string output = check(missing);

  EXPECT_EQ(status_, 0) << "a missing image alone is not an error: " << output;
  EXPECT_NE(output.find("warning container web image: image " + missing +
                        " is not present locally; the node pulls it at start-up"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace inferd::cli

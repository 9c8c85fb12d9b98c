// `inferd check` against written config files, a real anvil and occupied ports: each failure is
// one "error" line and exit status 1; a clean off-chain config passes with status 0.
#include "cli/check_command.hpp"

#include <stdlib.h>

#include <sstream>

#include <gtest/gtest.h>

#include "chain/test_anvil.hpp"
#include "support/process.hpp"

namespace inferd::cli {
namespace {

using nlohmann::json;

constexpr const char* kRegistryWithoutCode = "0x1000000000000000000000000000000000000001";
// anvil's first default account (a well-known test key, funded only on local chains).
constexpr const char* kAnvilKey =
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
// 64 hex digits, so the config loader accepts it, but above the secp256k1 group order.
constexpr const char* kOutOfRangeKey =
    "0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff0";

struct CheckRun {
  int status = -1;
  std::string output;
};

class CheckCommandTest : public ::testing::Test {
 protected:
  // A config that passes: chain disabled, no containers, a free REST port.
  json base_config() const {
    return {{"manage_containers", false},
            {"server", {{"port", inferd::testing::free_port()}}},
            {"chain", {{"enabled", false}}},
            {"containers", json::array()}};
  }

  json chain_config(const std::string& rpc_url, const std::string& registry,
                    const std::string& key) const {
    json config = base_config();
    config["chain"] = {{"enabled", true},
                       {"rpc_url", rpc_url},
                       {"registry_address", registry},
                       {"trail_head_blocks", 0},
                       {"wallet", {{"max_gas_limit", 1000000}, {"private_key", key}}}};
    return config;
  }

  CheckRun check(const json& config) { return check_text(config.dump(2)); }

  CheckRun check_text(const std::string& text) {
    const std::filesystem::path path = dir_.path() / "config.json";
    inferd::testing::write_file(path, text);
    std::ostringstream out;
    CheckRun run;
    run.status = run_check(path.string(), out);
    run.output = out.str();
    return run;
  }

  inferd::testing::TempDir dir_;
};

bool has_line(const std::string& output, const std::string& prefix) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) == 0) {
      return true;
    }
  }
  return false;
}

TEST_F(CheckCommandTest, OffChainConfigPasses) {
  const CheckRun run = check(base_config());

  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(has_line(run.output, "ok config: loaded ")) << run.output;
  EXPECT_TRUE(has_line(run.output, "ok chain: chain.enabled is false")) << run.output;
  EXPECT_TRUE(has_line(run.output, "ok rest port: server.port ")) << run.output;
  EXPECT_EQ(run.output.find("error"), std::string::npos) << run.output;
}

TEST_F(CheckCommandTest, InvalidConfigIsSingleError) {
  const CheckRun run = check_text("{\"server\": {\"port\": \"not a number\"}}");

  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(has_line(run.output, "error config: ")) << run.output;
  EXPECT_NE(run.output.find("server.port"), std::string::npos) << run.output;
  EXPECT_EQ(std::count(run.output.begin(), run.output.end(), '\n'), 1) << run.output;
}

TEST_F(CheckCommandTest, ConfigWarningsArePrinted) {
  json config = base_config();
  config["unknown_setting"] = true;

  const CheckRun run = check(config);

  EXPECT_EQ(run.status, 0) << "a warning alone does not fail the check: " << run.output;
  EXPECT_TRUE(has_line(run.output, "warning config: ")) << run.output;
  EXPECT_NE(run.output.find("unknown_setting"), std::string::npos) << run.output;
}

TEST_F(CheckCommandTest, RestPortInUseIsError) {
  asio::io_context io;
  asio::ip::tcp::acceptor taken(io, {asio::ip::make_address("127.0.0.1"), 0});
  json config = base_config();
  config["server"]["port"] = taken.local_endpoint().port();

  const CheckRun run = check(config);

  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(has_line(run.output, "error rest port: server.port " +
                                       std::to_string(taken.local_endpoint().port()) +
                                       " on 127.0.0.1 is in use"))
      << run.output;
}

TEST_F(CheckCommandTest, UnreachableDockerIsError) {
  const std::string socket = (dir_.path() / "missing.sock").string();
  ASSERT_EQ(::setenv("DOCKER_HOST", ("unix://" + socket).c_str(), 1), 0);
  json config = base_config();
  config["manage_containers"] = true;
  config["containers"] =
      json::array({{{"id", "echo"}, {"image", "localhost/inferd/echo:latest"}, {"port", 3000}}});

  const CheckRun run = check(config);
  ::unsetenv("DOCKER_HOST");

  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(has_line(run.output, "error docker: ")) << run.output;
  EXPECT_NE(run.output.find(socket), std::string::npos) << run.output;
  EXPECT_TRUE(has_line(run.output, "ok container echo port: ") ||
              has_line(run.output, "error container echo port: "))
      << "the port is still checked: " << run.output;
}

TEST_F(CheckCommandTest, RemoteContainerIsNotProbed) {
  json config = base_config();
  config["manage_containers"] = true;
  config["containers"] =
      json::array({{{"id", "remote"}, {"image", "x"}, {"url", "http://127.0.0.1:9"}}});

  const CheckRun run = check(config);

  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_TRUE(has_line(run.output, "ok container remote: remote service at http://127.0.0.1:9"))
      << run.output;
  EXPECT_EQ(run.output.find("docker"), std::string::npos) << run.output;
}

class CheckCommandChainTest : public CheckCommandTest {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(chain::testing::anvil_path())) {
      GTEST_SKIP() << "anvil not installed at " << chain::testing::anvil_path();
    }
    ASSERT_TRUE(anvil_.started());
    infra::HttpClient http(io_.get_executor());
    infra::metrics::Registry metrics;
    chain::RpcClient rpc(http, chain::RpcClientOptions{.urls = {anvil_.url()}}, metrics);
    ASSERT_TRUE(chain::testing::wait_until_responding(io_, rpc)) << "anvil did not respond";
  }

  chain::testing::AnvilProcess anvil_;
  asio::io_context io_;
};

TEST_F(CheckCommandChainTest, RegistryWithoutCodeIsError) {
  const CheckRun run = check(chain_config(anvil_.url(), kRegistryWithoutCode, kAnvilKey));

  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(has_line(run.output,
                       "ok wallet key: node address "
                       "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"))
      << run.output;
  EXPECT_TRUE(has_line(run.output, "ok chain id: chain id 31337")) << run.output;
  EXPECT_TRUE(has_line(run.output,
                       "error registry code: chain.registry_address "
                       "0x1000000000000000000000000000000000000001 has no contract "
                       "code on chain 31337"))
      << run.output;
  EXPECT_TRUE(has_line(run.output, "ok node balance: ")) << run.output;
  EXPECT_TRUE(has_line(run.output, "ok chain head: ")) << run.output;
}

TEST_F(CheckCommandChainTest, WrongChainIdIsError) {
  json config = chain_config(anvil_.url(), kRegistryWithoutCode, kAnvilKey);
  config["chain"]["chain_id"] = 10;

  const CheckRun run = check(config);

  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(has_line(run.output,
                       "error chain id: the RPC node serves chain id 31337, but chain.chain_id "
                       "is 10"))
      << run.output;
}

TEST_F(CheckCommandChainTest, BadKeyIsErrorWithoutKeyInOutput) {
  const CheckRun run = check(chain_config(anvil_.url(), kRegistryWithoutCode, kOutOfRangeKey));

  EXPECT_EQ(run.status, 1);
  EXPECT_TRUE(has_line(run.output, "error wallet key: ")) << run.output;
  EXPECT_FALSE(has_line(run.output, "ok node balance")) << "no address, so no balance check";
  EXPECT_TRUE(has_line(run.output, "ok chain id: ")) << "the other chain checks still run";
  const std::string digits = std::string(kOutOfRangeKey).substr(2);
  EXPECT_EQ(run.output.find(digits.substr(0, 16)), std::string::npos)
      << "key material in the output: " << run.output;
}

TEST_F(CheckCommandChainTest, ShortChainIsWarning) {
  json config = chain_config(anvil_.url(), kRegistryWithoutCode, kAnvilKey);
  config["chain"]["trail_head_blocks"] = 50;

  const CheckRun run = check(config);

  EXPECT_TRUE(has_line(run.output, "warning chain head: waiting for block 50")) << run.output;
}

TEST_F(CheckCommandTest, ProgramPrintsChecksAndExitStatus) {
  const std::filesystem::path good = dir_.path() / "good.json";
  const std::filesystem::path bad = dir_.path() / "bad.json";
  inferd::testing::write_file(good, base_config().dump());
  inferd::testing::write_file(bad, "{");

  inferd::testing::Process passing(INFERD_BIN_INFERD, {"check", "--config", good.string()});
  inferd::testing::Process failing(INFERD_BIN_INFERD, {"check", "--config", bad.string()});

  EXPECT_EQ(passing.wait(std::chrono::seconds(60)), 0) << passing.stdout_text();
  EXPECT_TRUE(has_line(passing.stdout_text(), "ok config: loaded ")) << passing.stdout_text();
  EXPECT_EQ(failing.wait(std::chrono::seconds(60)), 1) << failing.stdout_text();
  EXPECT_TRUE(has_line(failing.stdout_text(), "error config: ")) << failing.stdout_text();
}

}  // namespace
}  // namespace inferd::cli

#include "cli/keys_command.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace inferd::cli {
namespace {

// anvil's first default account.
constexpr const char* kKeyHex = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr const char* kAddress = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

class KeysCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("inferd_keys_command_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    password_file_ = (dir_ / "password").string();
    std::ofstream(password_file_) << "hunter2\n";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  KeystoreOptions fast_keystore(const std::string& name) {
    KeystoreOptions options;
    options.keystore = (dir_ / name).string();
    options.password_file = password_file_;
    options.scrypt_n = 1024;
    return options;
  }

  // Every byte a run wrote, for the "key never printed" checks.
  std::string all_output() const { return out_.str() + err_.str(); }

  std::filesystem::path dir_;
  std::string password_file_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(KeysCommandTest, ImportFromStdinThenAddress) {
  std::istringstream in(std::string("0x") + kKeyHex + "\n");
  const KeystoreOptions options = fast_keystore("imported.json");
  ASSERT_EQ(run_keys_import(options, {}, in, out_, err_), 0) << err_.str();
  EXPECT_EQ(out_.str(), std::string(kAddress) + "\n");

  KeySourceOptions source;
  source.keystore = options.keystore;
  source.password_file = password_file_;
  std::istringstream no_input;
  std::ostringstream address_out;
  ASSERT_EQ(run_keys_address(source, no_input, address_out, err_), 0) << err_.str();
  EXPECT_EQ(address_out.str(), std::string(kAddress) + "\n");

  EXPECT_EQ(all_output().find(kKeyHex), std::string::npos) << all_output();
  EXPECT_EQ(all_output().find("hunter2"), std::string::npos) << all_output();
}

TEST_F(KeysCommandTest, NewKeyIsReadableAndNeverPrinted) {
  const KeystoreOptions options = fast_keystore("new.json");
  std::istringstream no_input;
  ASSERT_EQ(run_keys_new(options, out_, err_), 0) << err_.str();
  const std::string address = out_.str();
  ASSERT_EQ(address.size(), 43u);

  KeySourceOptions source;
  source.keystore = options.keystore;
  source.password_file = password_file_;
  std::ostringstream address_out;
  ASSERT_EQ(run_keys_address(source, no_input, address_out, err_), 0) << err_.str();
  EXPECT_EQ(address_out.str(), address);
}

TEST_F(KeysCommandTest, AddressFromEnvironmentAndFile) {
  ::setenv("INFERD_TEST_KEYS_COMMAND_KEY", kKeyHex, 1);
  KeySourceOptions from_env;
  from_env.private_key_env = "INFERD_TEST_KEYS_COMMAND_KEY";
  std::istringstream no_input;
  ASSERT_EQ(run_keys_address(from_env, no_input, out_, err_), 0) << err_.str();
  ::unsetenv("INFERD_TEST_KEYS_COMMAND_KEY");

  const auto key_file = dir_ / "key.txt";
  std::ofstream(key_file) << kKeyHex << "\n";
  KeySourceOptions from_file;
  from_file.private_key_file = key_file.string();
  ASSERT_EQ(run_keys_address(from_file, no_input, out_, err_), 0) << err_.str();

  EXPECT_EQ(out_.str(), std::string(kAddress) + "\n" + kAddress + "\n");
  EXPECT_EQ(all_output().find(kKeyHex), std::string::npos);
}

TEST_F(KeysCommandTest, FailuresNeverEchoTheKey) {
  // A key with one bad digit: the error must describe it without repeating it.
  const std::string bad = std::string(kKeyHex).substr(0, 63) + "g";
  std::istringstream in(bad + "\n");
  EXPECT_EQ(run_keys_address({}, in, out_, err_), 1);
  EXPECT_NE(err_.str().find("invalid private key"), std::string::npos) << err_.str();

  KeySourceOptions wrong_password;
  std::istringstream key_in(std::string(kKeyHex) + "\n");
  const KeystoreOptions options = fast_keystore("k.json");
  ASSERT_EQ(run_keys_import(options, {}, key_in, out_, err_), 0);
  wrong_password.keystore = options.keystore;
  wrong_password.password_file = (dir_ / "wrong").string();
  std::ofstream(*wrong_password.password_file) << "nope";
  std::istringstream no_input;
  EXPECT_EQ(run_keys_address(wrong_password, no_input, out_, err_), 1);
  EXPECT_NE(err_.str().find("wrong password"), std::string::npos) << err_.str();

  // Refuses to overwrite the existing keystore.
  std::istringstream again(std::string(kKeyHex) + "\n");
  EXPECT_EQ(run_keys_import(options, {}, again, out_, err_), 1);

  EXPECT_EQ(all_output().find(bad.substr(0, 20)), std::string::npos) << all_output();
  EXPECT_EQ(all_output().find(kKeyHex), std::string::npos) << all_output();
}

TEST_F(KeysCommandTest, ParsesThroughCli11) {
  CLI::App app;
  int exit_code = -1;
  add_keys_command(app, exit_code);
  const auto key_file = dir_ / "key.txt";
  std::ofstream(key_file) << kKeyHex << "\n";
  const std::string path = key_file.string();
  const char* argv[] = {"inferd", "keys", "address", "--private-key-file", path.c_str()};
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  app.parse(5, const_cast<char**>(argv));
  const std::string printed =
      ::testing::internal::GetCapturedStdout() + ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(exit_code, 0);
  EXPECT_EQ(printed, std::string(kAddress) + "\n");
}

}  // namespace
}  // namespace inferd::cli

#include "chain/wallet_key.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "core/hex.hpp"

namespace inferd::chain {
namespace {

// anvil's first default account.
constexpr const char* kKeyHex = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr const char* kAddress = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

class WalletKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("inferd_wallet_key_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path) << content;
    return path;
  }

  std::string address_of(const core::PrivateKey& key) {
    return core::derive_public_key(context_, key).address().to_checksum_hex();
  }

  core::Secp256k1Context context_;
  std::filesystem::path dir_;
};

TEST_F(WalletKeyTest, ConfigValueWithAndWithoutPrefix) {
  EXPECT_EQ(address_of(private_key_from_config(context_, kKeyHex)), kAddress);
  EXPECT_EQ(address_of(private_key_from_config(context_, std::string("0x") + kKeyHex)), kAddress);
}

TEST_F(WalletKeyTest, ConfigErrorNamesFieldNotKey) {
  const std::string bad = std::string(kKeyHex).substr(0, 62) + "zz";
  try {
    private_key_from_config(context_, bad);
    FAIL() << "expected KeyError";
  } catch (const KeyError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("chain.wallet.private_key"), std::string::npos) << message;
    EXPECT_EQ(message.find(bad.substr(0, 16)), std::string::npos) << message;
  }
}

TEST_F(WalletKeyTest, EnvironmentVariable) {
  ::setenv("INFERD_TEST_WALLET_KEY", kKeyHex, 1);
  EXPECT_EQ(address_of(private_key_from_env(context_, "INFERD_TEST_WALLET_KEY")), kAddress);
  ::unsetenv("INFERD_TEST_WALLET_KEY");
  EXPECT_THROW(private_key_from_env(context_, "INFERD_TEST_WALLET_KEY"), KeyError);
}

TEST_F(WalletKeyTest, KeyFileFirstLine) {
  const auto path = write("key.txt", std::string("0x") + kKeyHex + "\n");
  EXPECT_EQ(address_of(private_key_from_file(context_, path)), kAddress);
  EXPECT_THROW(private_key_from_file(context_, dir_ / "missing.txt"), KeyError);
}

TEST_F(WalletKeyTest, PasswordFileStripsOneNewline) {
  EXPECT_EQ(read_password_file(write("a", "secret\n")), "secret");
  EXPECT_EQ(read_password_file(write("b", "secret\r\n")), "secret");
  EXPECT_EQ(read_password_file(write("c", "secret\n\n")), "secret\n");
  EXPECT_EQ(read_password_file(write("d", " spaced ")), " spaced ");
}

TEST_F(WalletKeyTest, KeystoreFileRoundTrip) {
  const auto key = private_key_from_config(context_, kKeyHex);
  core::KeystoreKdf kdf;
  kdf.scrypt_n = 1 << 10;
  const auto keystore = dir_ / "keystore.json";
  write_keystore_file(context_, key, "correct horse", kdf, keystore);

  struct stat info {};
  ASSERT_EQ(::stat(keystore.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  const auto password = write("password", "correct horse\n");
  EXPECT_EQ(address_of(private_key_from_keystore(context_, keystore, password)), kAddress);

  // Never overwrite an existing keystore.
  EXPECT_THROW(write_keystore_file(context_, key, "other", kdf, keystore), KeyError);
}

TEST_F(WalletKeyTest, KeystoreWrongPasswordNamesFiles) {
  const auto key = private_key_from_config(context_, kKeyHex);
  core::KeystoreKdf kdf;
  kdf.kind = core::KeystoreKdf::Kind::kPbkdf2;
  kdf.pbkdf2_iterations = 1000;
  const auto keystore = dir_ / "keystore.json";
  write_keystore_file(context_, key, "right", kdf, keystore);
  const auto password = write("password", "wrong");
  try {
    private_key_from_keystore(context_, keystore, password);
    FAIL() << "expected KeyError";
  } catch (const KeyError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("wrong password"), std::string::npos) << message;
    EXPECT_NE(message.find(keystore.string()), std::string::npos) << message;
  }
}

TEST_F(WalletKeyTest, GeneratedKeysDiffer) {
  const auto first = generate_private_key(context_);
  const auto second = generate_private_key(context_);
  EXPECT_NE(core::to_hex(first.secret()), core::to_hex(second.secret()));
}

}  // namespace
}  // namespace inferd::chain

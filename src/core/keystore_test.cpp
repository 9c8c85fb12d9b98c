#include "core/keystore.hpp"

#include <gtest/gtest.h>

#include "core/hex.hpp"

namespace inferd::core {
namespace {

// Test vectors of the Web3 Secret Storage Definition (ethereum.org, "Web3 secret storage
// definition", section "Test vectors"): password "testpassword" protects this private key.
constexpr const char* kVectorKey =
    "7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d";

constexpr const char* kPbkdf2Vector = R"({
  "crypto" : {
    "cipher" : "aes-128-ctr",
    "cipherparams" : { "iv" : "6087dab2f9fdbbfaddc31a909735c1e6" },
    "ciphertext" : "5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46",
    "kdf" : "pbkdf2",
    "kdfparams" : {
      "c" : 262144,
      "dklen" : 32,
      "prf" : "hmac-sha256",
      "salt" : "ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd"
    },
    "mac" : "517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2"
  },
  "id" : "3198bc9c-6672-5ab3-d995-4942343ae5b6",
  "version" : 3
})";

constexpr const char* kScryptVector = R"({
  "crypto" : {
    "cipher" : "aes-128-ctr",
    "cipherparams" : { "iv" : "83dbcc02d8ccb40e466191a123791e0e" },
    "ciphertext" : "d172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c",
    "kdf" : "scrypt",
    "kdfparams" : {
      "dklen" : 32,
      "n" : 262144,
      "r" : 1,
      "p" : 8,
      "salt" : "ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19"
    },
    "mac" : "2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097"
  },
  "id" : "3198bc9c-6672-5ab3-d995-4942343ae5b6",
  "version" : 3
})";

class KeystoreTest : public ::testing::Test {
 protected:
  static KeystoreRandomness fixed_randomness() {
    KeystoreRandomness randomness;
    randomness.salt[0] = 1;
    randomness.iv[0] = 2;
    randomness.uuid[0] = 3;
    return randomness;
  }

  Secp256k1Context context_;
};

TEST_F(KeystoreTest, DecryptsPbkdf2Vector) {
  auto key = decrypt_keystore(context_, kPbkdf2Vector, "testpassword");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(to_hex(key->secret(), HexPrefix::kWithout), kVectorKey);
}

TEST_F(KeystoreTest, DecryptsScryptVector) {
  auto key = decrypt_keystore(context_, kScryptVector, "testpassword");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(to_hex(key->secret(), HexPrefix::kWithout), kVectorKey);
}

TEST_F(KeystoreTest, WrongPasswordFailsMacCheck) {
  auto key = decrypt_keystore(context_, kPbkdf2Vector, "wrongpassword");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::kWrongPassword);
  EXPECT_EQ(key.error().message.find("wrongpassword"), std::string::npos);
}

TEST_F(KeystoreTest, EncryptRoundTripsBothKdfs) {
  auto key = PrivateKey::from_hex(context_, kVectorKey).value();
  KeystoreKdf scrypt;
  scrypt.scrypt_n = 1 << 10;  // small so the test is fast; the format is the same
  KeystoreKdf pbkdf2;
  pbkdf2.kind = KeystoreKdf::Kind::kPbkdf2;
  pbkdf2.pbkdf2_iterations = 1000;

  for (const KeystoreKdf& kdf : {scrypt, pbkdf2}) {
    auto json = encrypt_keystore(context_, key, "pw", kdf, fixed_randomness());
    ASSERT_TRUE(json) << json.error().message;
    EXPECT_EQ(json->find(kVectorKey), std::string::npos) << "the key must not appear in clear";
    auto decrypted = decrypt_keystore(context_, *json, "pw");
    ASSERT_TRUE(decrypted) << decrypted.error().message;
    EXPECT_EQ(to_hex(decrypted->secret()), to_hex(key.secret()));
    EXPECT_EQ(keystore_address(*json).value(), derive_public_key(context_, key).address());
    EXPECT_NE(json->find("\"id\": \"03000000-0000-4000-8000-000000000000\""), std::string::npos)
        << *json;
  }
}

TEST_F(KeystoreTest, RejectsMalformedFiles) {
  struct Case {
    const char* name;
    std::string json;
    const char* field;
  };
  std::string base = kPbkdf2Vector;
  auto replace = [&base](const std::string& from, const std::string& to) {
    std::string out = base;
    out.replace(out.find(from), from.size(), to);
    return out;
  };
  const Case cases[] = {
      {"not json", "{", "JSON"},
      {"version 1", replace("\"version\" : 3", "\"version\" : 1"), "version"},
      {"cbc cipher", replace("aes-128-ctr", "aes-128-cbc"), "crypto.cipher"},
      {"unknown kdf", replace("\"pbkdf2\"", "\"argon2\""), "crypto.kdf"},
      {"sha512 prf", replace("hmac-sha256", "hmac-sha512"), "prf"},
      {"dklen 16", replace("\"dklen\" : 32", "\"dklen\" : 16"), "dklen"},
      {"huge iteration count", replace("262144", "4000000000"), "crypto.kdfparams.c"},
      {"short iv", replace("6087dab2f9fdbbfaddc31a909735c1e6", "6087"), "iv"},
      {"odd ciphertext", replace("5318b4", "5318b"), "ciphertext"},
      {"missing mac",
       replace("\"mac\" : \"517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2\"",
               "\"mac2\" : \"\""),
       "crypto.mac"},
  };
  for (const auto& c : cases) {
    auto key = decrypt_keystore(context_, c.json, "testpassword");
    ASSERT_FALSE(key) << c.name;
    EXPECT_EQ(key.error().code, Errc::kKeystore) << c.name;
    EXPECT_NE(key.error().message.find(c.field), std::string::npos)
        << c.name << ": " << key.error().message;
  }
}

TEST_F(KeystoreTest, RejectsExcessiveScryptCost) {
  std::string json = kScryptVector;
  json.replace(json.find("262144"), 6, "1073741824");  // 2^30
  auto key = decrypt_keystore(context_, json, "testpassword");
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::kKeystore);
}

}  // namespace
}  // namespace inferd::core

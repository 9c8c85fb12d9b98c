#include "core/keystore.hpp"

#include <crypto++/aes.h>
#include <crypto++/hmac.h>
#include <crypto++/misc.h>
#include <crypto++/modes.h>
#include <crypto++/pwdbased.h>
#include <crypto++/scrypt.h>
#include <crypto++/sha.h>
#include <nlohmann/json.hpp>

#include "core/hex.hpp"
#include "core/keccak.hpp"

namespace inferd::core {

namespace {

using nlohmann::json;

constexpr std::uint64_t kMaxScryptNr = std::uint64_t{1} << 22;
constexpr std::uint64_t kMaxScryptP = 16;
constexpr std::uint64_t kMaxPbkdf2Iterations = 10'000'000;

Error bad_field(const std::string& field, const std::string& what) {
  return make_error(Errc::kKeystore, "invalid keystore: \"" + field + "\" " + what);
}

Result<const json*> member(const json& object, const std::string& name, const std::string& path) {
  if (!object.is_object() || !object.contains(name)) {
    return bad_field(path + name, "is missing");
  }
  return &object.at(name);
}

Result<Bytes> hex_member(const json& object, const std::string& name, const std::string& path) {
  auto field = member(object, name, path);
  if (!field) {
    return field.error();
  }
  if (!(*field)->is_string()) {
    return bad_field(path + name, "must be a hex string");
  }
  auto bytes = from_hex((*field)->get<std::string>());
  if (!bytes) {
    return bad_field(path + name, "is not hex: " + bytes.error().message);
  }
  return bytes;
}

Result<std::uint64_t> uint_member(const json& object, const std::string& name,
                                  const std::string& path) {
  auto field = member(object, name, path);
  if (!field) {
    return field.error();
  }
  const json& value = **field;
  if (value.is_number_unsigned()) {
    return value.get<std::uint64_t>();
  }
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  return bad_field(path + name, "must be a non-negative integer");
}

// The 32-byte derived key: bytes 0..16 are the AES key, bytes 16..32 feed the MAC.
using DerivedKey = Bytes32;

Result<DerivedKey> derive_key(const json& crypto, std::string_view password) {
  auto kdf_field = member(crypto, "kdf", "crypto.");
  if (!kdf_field) {
    return kdf_field.error();
  }
  const std::string kdf = (*kdf_field)->is_string() ? (*kdf_field)->get<std::string>() : "";
  auto params_field = member(crypto, "kdfparams", "crypto.");
  if (!params_field) {
    return params_field.error();
  }
  const json& params = **params_field;
  const std::string path = "crypto.kdfparams.";

  auto salt = hex_member(params, "salt", path);
  if (!salt) {
    return salt.error();
  }
  auto dklen = uint_member(params, "dklen", path);
  if (!dklen) {
    return dklen.error();
  }
  if (*dklen != 32) {
    return bad_field(path + "dklen", "must be 32, got " + std::to_string(*dklen));
  }

  DerivedKey derived;
  const auto* secret = reinterpret_cast<const CryptoPP::byte*>(password.data());
  if (kdf == "scrypt") {
    auto n = uint_member(params, "n", path);
    auto r = uint_member(params, "r", path);
    auto p = uint_member(params, "p", path);
    if (!n || !r || !p) {
      return !n ? n.error() : (!r ? r.error() : p.error());
    }
    if (*n < 2 || (*n & (*n - 1)) != 0) {
      return bad_field(path + "n", "must be a power of two above 1, got " + std::to_string(*n));
    }
    if (*r == 0 || *p == 0 || *p > kMaxScryptP || *r > kMaxScryptNr || *n > kMaxScryptNr / *r) {
      return bad_field(path + "n",
                       "with r and p exceeds the supported scrypt cost (N*r <= 2^22, "
                       "p <= 16)");
    }
    CryptoPP::Scrypt scrypt;
    scrypt.DeriveKey(derived.data(), derived.size(), secret, password.size(), salt->data(),
                     salt->size(), *n, *r, *p);
    return derived;
  }
  if (kdf == "pbkdf2") {
    auto prf_field = member(params, "prf", path);
    if (!prf_field) {
      return prf_field.error();
    }
    if (!(*prf_field)->is_string() || (*prf_field)->get<std::string>() != "hmac-sha256") {
      return bad_field(path + "prf", "must be \"hmac-sha256\"");
    }
    auto c = uint_member(params, "c", path);
    if (!c) {
      return c.error();
    }
    if (*c == 0 || *c > kMaxPbkdf2Iterations) {
      return bad_field(path + "c", "must be from 1 to 10000000, got " + std::to_string(*c));
    }
    CryptoPP::PKCS5_PBKDF2_HMAC<CryptoPP::SHA256> pbkdf2;
    pbkdf2.DeriveKey(derived.data(), derived.size(), 0, secret, password.size(), salt->data(),
                     salt->size(), static_cast<unsigned>(*c));
    return derived;
  }
  return bad_field("crypto.kdf", "must be \"scrypt\" or \"pbkdf2\", got \"" + kdf + "\"");
}

Bytes32 keystore_mac(const DerivedKey& derived, ByteView ciphertext) {
  Bytes input(derived.bytes.begin() + 16, derived.bytes.end());
  append(input, ciphertext);
  const Bytes32 mac = keccak256(input);
  CryptoPP::SecureWipeArray(input.data(), input.size());
  return mac;
}

// AES-128-CTR is its own inverse, so this both encrypts and decrypts.
Bytes aes128_ctr(const DerivedKey& derived, ByteView iv, ByteView input) {
  CryptoPP::CTR_Mode<CryptoPP::AES>::Encryption cipher;
  cipher.SetKeyWithIV(derived.data(), 16, iv.data(), iv.size());
  Bytes output(input.size());
  cipher.ProcessData(output.data(), input.data(), input.size());
  return output;
}

std::string format_uuid(const FixedBytes<16>& random) {
  FixedBytes<16> bytes = random;
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = to_hex(bytes.view(), HexPrefix::kWithout);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

Result<json> parse_json(std::string_view text) {
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return make_error(Errc::kKeystore, "invalid keystore: not a JSON object");
  }
  return document;
}

}  // namespace

Result<PrivateKey> decrypt_keystore(const Secp256k1Context& context, std::string_view text,
                                    std::string_view password) {
  auto document = parse_json(text);
  if (!document) {
    return document.error();
  }

  auto version = uint_member(*document, "version", "");
  if (!version) {
    return version.error();
  }
  if (*version != 3) {
    return bad_field("version", "must be 3, got " + std::to_string(*version));
  }

  // geth writes "crypto"; some older tools wrote "Crypto".
  const char* crypto_name = document->contains("crypto") ? "crypto" : "Crypto";
  auto crypto_field = member(*document, crypto_name, "");
  if (!crypto_field) {
    return crypto_field.error();
  }
  const json& crypto = **crypto_field;

  auto cipher = member(crypto, "cipher", "crypto.");
  if (!cipher) {
    return cipher.error();
  }
  if (!(*cipher)->is_string() || (*cipher)->get<std::string>() != "aes-128-ctr") {
    return bad_field("crypto.cipher", "must be \"aes-128-ctr\"");
  }
  auto cipherparams = member(crypto, "cipherparams", "crypto.");
  if (!cipherparams) {
    return cipherparams.error();
  }
  auto iv = hex_member(**cipherparams, "iv", "crypto.cipherparams.");
  if (!iv) {
    return iv.error();
  }
  if (iv->size() != 16) {
    return bad_field("crypto.cipherparams.iv", "must be 16 bytes");
  }
  auto ciphertext = hex_member(crypto, "ciphertext", "crypto.");
  if (!ciphertext) {
    return ciphertext.error();
  }
  auto mac = hex_member(crypto, "mac", "crypto.");
  if (!mac) {
    return mac.error();
  }
  if (mac->size() != 32) {
    return bad_field("crypto.mac", "must be 32 bytes");
  }

  auto derived = derive_key(crypto, password);
  if (!derived) {
    return derived.error();
  }

  const Bytes32 expected_mac = keystore_mac(*derived, *ciphertext);
  if (!std::equal(mac->begin(), mac->end(), expected_mac.bytes.begin())) {
    CryptoPP::SecureWipeArray(derived->data(), derived->size());
    return make_error(Errc::kWrongPassword,
                      "keystore MAC mismatch: the password is wrong or the file is corrupt");
  }

  Bytes secret = aes128_ctr(*derived, *iv, *ciphertext);
  CryptoPP::SecureWipeArray(derived->data(), derived->size());
  auto key = PrivateKey::from_bytes(context, secret);
  CryptoPP::SecureWipeArray(secret.data(), secret.size());
  return key;
}

Result<std::string> encrypt_keystore(const Secp256k1Context& context, const PrivateKey& key,
                                     std::string_view password, const KeystoreKdf& kdf,
                                     const KeystoreRandomness& randomness) {
  json kdfparams;
  kdfparams["dklen"] = 32;
  kdfparams["salt"] = to_hex(randomness.salt.view(), HexPrefix::kWithout);
  json crypto;
  if (kdf.kind == KeystoreKdf::Kind::kScrypt) {
    crypto["kdf"] = "scrypt";
    kdfparams["n"] = kdf.scrypt_n;
    kdfparams["r"] = kdf.scrypt_r;
    kdfparams["p"] = kdf.scrypt_p;
  } else {
    crypto["kdf"] = "pbkdf2";
    kdfparams["c"] = kdf.pbkdf2_iterations;
    kdfparams["prf"] = "hmac-sha256";
  }
  crypto["kdfparams"] = kdfparams;

  // Derive through the same validated path that decryption uses.
  auto derived = derive_key(crypto, password);
  if (!derived) {
    return derived.error();
  }
  const Bytes ciphertext = aes128_ctr(*derived, randomness.iv.view(), key.secret());
  const Bytes32 mac = keystore_mac(*derived, ciphertext);
  CryptoPP::SecureWipeArray(derived->data(), derived->size());

  crypto["cipher"] = "aes-128-ctr";
  crypto["cipherparams"] = {{"iv", to_hex(randomness.iv.view(), HexPrefix::kWithout)}};
  crypto["ciphertext"] = to_hex(ciphertext, HexPrefix::kWithout);
  crypto["mac"] = to_hex(mac.view(), HexPrefix::kWithout);

  json document;
  document["address"] =
      to_hex(derive_public_key(context, key).address().view(), HexPrefix::kWithout);
  document["crypto"] = crypto;
  document["id"] = format_uuid(randomness.uuid);
  document["version"] = 3;
  return document.dump(2);
}

Result<Address> keystore_address(std::string_view text) {
  auto document = parse_json(text);
  if (!document) {
    return document.error();
  }
  auto field = member(*document, "address", "");
  if (!field) {
    return field.error();
  }
  if (!(*field)->is_string()) {
    return bad_field("address", "must be a hex string");
  }
  return Address::from_hex((*field)->get<std::string>());
}

}  // namespace inferd::core

#include "infernet/sdk/model_id.hpp"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/errors.hpp"

namespace infernet::sdk {
namespace {

// abi.encode(uint8 2, string "Ritual-Net", string "iris-classification", string ""), the repo of
// huggingface/Ritual-Net/iris-classification; checked with
//   cast abi-encode "f(uint8,string,string,string)" 2 Ritual-Net iris-classification ""
constexpr const char* kIrisRepo =
    "0000000000000000000000000000000000000000000000000000000000000002"
    "0000000000000000000000000000000000000000000000000000000000000080"
    "00000000000000000000000000000000000000000000000000000000000000c0"
    "0000000000000000000000000000000000000000000000000000000000000100"
    "000000000000000000000000000000000000000000000000000000000000000a"
    "52697475616c2d4e657400000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000013"
    "697269732d636c617373696669636174696f6e00000000000000000000000000"
    "0000000000000000000000000000000000000000000000000000000000000000";

std::string rejection(std::string_view text) {
  try {
    ModelId::parse(text, "model_id");
  } catch (const ServiceError& error) {
    EXPECT_EQ(error.status(), Status::bad_request);
    return error.what();
  }
  ADD_FAILURE() << "accepted " << text;
  return {};
}

TEST(RepoId, ParsesUnversioned) {
  auto repo = RepoId::parse("huggingface/Ritual-Net/iris-classification");
  EXPECT_EQ(repo.storage, StorageId::kHuggingface);
  EXPECT_EQ(repo.owner, "Ritual-Net");
  EXPECT_EQ(repo.name, "iris-classification");
  EXPECT_EQ(repo.version, "");
  EXPECT_EQ(repo.to_string(), "huggingface/Ritual-Net/iris-classification");
  EXPECT_EQ(repo.cache_path(), "huggingface/Ritual-Net/iris-classification/default");
}

TEST(RepoId, ParsesVersioned) {
  auto repo = RepoId::parse("arweave/abc_DEF-123/iris/v1.2");
  EXPECT_EQ(repo.storage, StorageId::kArweave);
  EXPECT_EQ(repo.version, "v1.2");
  EXPECT_EQ(repo.to_string(), "arweave/abc_DEF-123/iris/v1.2");
  EXPECT_EQ(repo.cache_path(), "arweave/abc_DEF-123/iris/v1.2");
}

TEST(RepoId, StorageIntegers) {
  EXPECT_EQ(static_cast<int>(StorageId::kLocal), 0);
  EXPECT_EQ(static_cast<int>(StorageId::kArweave), 1);
  EXPECT_EQ(static_cast<int>(StorageId::kHuggingface), 2);
  EXPECT_EQ(storage_from_name("local"), StorageId::kLocal);
  EXPECT_EQ(storage_from_name("s3"), std::nullopt);
}

TEST(RepoId, AbiMatchesGoldenBytes) {
  auto repo = RepoId::parse("huggingface/Ritual-Net/iris-classification");
  EXPECT_EQ(hex_encode(repo.abi_encode()), kIrisRepo);
  EXPECT_EQ(RepoId::abi_decode(hex_decode(kIrisRepo)), repo);
}

TEST(ModelId, ParsesFiles) {
  auto model = ModelId::parse("huggingface/Ritual-Net/iris-classification:iris.onnx,iris.torch");
  EXPECT_EQ(model.repo.name, "iris-classification");
  EXPECT_EQ(model.files, (std::vector<std::string>{"iris.onnx", "iris.torch"}));
  EXPECT_EQ(model.to_string(), "huggingface/Ritual-Net/iris-classification:iris.onnx,iris.torch");
}

TEST(ModelId, WithoutFilesIsRepoOnly) {
  auto model = ModelId::parse("local/me/iris/2");
  EXPECT_TRUE(model.files.empty());
  EXPECT_EQ(model.to_string(), "local/me/iris/2");
}

TEST(ModelId, AbiRoundTrip) {
  auto model = ModelId::parse("arweave/owner/iris/v1:iris.onnx,extra.json");
  auto fields = abi_decode(abi_type("(bytes,string)"), model.abi_encode());
  EXPECT_EQ(fields[1].as_string(), "iris.onnx,extra.json");
  EXPECT_EQ(RepoId::abi_decode(fields[0].as_bytes()), model.repo);
  EXPECT_EQ(ModelId::abi_decode(model.abi_encode()), model);
}

TEST(ModelId, AbiEmptyFilesMeansNone) {
  ModelId model{RepoId::parse("local/me/iris"), {}};
  EXPECT_TRUE(ModelId::abi_decode(model.abi_encode()).files.empty());
}

TEST(ModelId, RejectsMalformedText) {
  EXPECT_NE(rejection("iris.onnx").find("{storage}/{owner}/{name}"), std::string::npos);
  EXPECT_NE(rejection("s3/a/b:c").find("unknown storage \"s3\""), std::string::npos);
  EXPECT_NE(rejection("local/a/b/c/d:e").find("not of the form"), std::string::npos);
  EXPECT_NE(rejection("local//b:c").find("owner"), std::string::npos);
  EXPECT_NE(rejection("local/a/b:").find("file name"), std::string::npos);
  EXPECT_NE(rejection("local/a/b:x,,y").find("file name"), std::string::npos);
  EXPECT_NE(rejection("").find("invalid model_id"), std::string::npos);
}

TEST(ModelId, RejectsPathTraversal) {
  EXPECT_NE(rejection("local/../b:c").find("owner \"..\""), std::string::npos);
  EXPECT_NE(rejection("local/a/..:c").find("name \"..\""), std::string::npos);
  EXPECT_NE(rejection("local/a/b/..:c").find("version \"..\""), std::string::npos);
  EXPECT_NE(rejection("local/a/b:..").find("file name \"..\""), std::string::npos);
  EXPECT_NE(rejection("local/a/b:c\\d").find("file name"), std::string::npos);
}

TEST(ModelId, AbiRejectsBadRepo) {
  auto bad_storage = abi_encode(
      abi_type("(uint8,string,string,string)"),
      {AbiValue::uint(3), AbiValue::string("a"), AbiValue::string("b"), AbiValue::string("")});
  auto encoded = abi_encode(abi_type("(bytes,string)"),
                            {AbiValue::bytes(bad_storage), AbiValue::string("x.onnx")});
  try {
    ModelId::abi_decode(encoded);
    FAIL() << "accepted storage 3";
  } catch (const ServiceError& error) {
    EXPECT_NE(std::string(error.what()).find("unknown storage 3"), std::string::npos);
  }
  EXPECT_THROW(ModelId::abi_decode(Bytes{0x01}), ServiceError);
}

TEST(ModelId, AbiRejectsTraversalInOwner) {
  RepoId repo;
  repo.storage = StorageId::kLocal;
  repo.owner = "..";
  repo.name = "b";
  EXPECT_THROW(RepoId::abi_decode(repo.abi_encode()), ServiceError);
}

// Mutated encodings either decode or raise ServiceError; no other exception and no crash.
TEST(ModelId, MutatedAbiRaisesServiceErrorOnly) {
  std::mt19937 random(11);  // fixed seed, so a failure reproduces
  const Bytes seed =
      ModelId::parse("huggingface/Ritual-Net/iris-classification:iris.onnx").abi_encode();
  for (int round = 0; round < 3000; ++round) {
    Bytes bytes = seed;
    const int mutations = 1 + static_cast<int>(random() % 3);
    for (int m = 0; m < mutations && !bytes.empty(); ++m) {
      if (random() % 4 == 0) {
        bytes.resize(random() % bytes.size());
      } else {
        bytes[random() % bytes.size()] = static_cast<std::uint8_t>(random());
      }
    }
    try {
      auto model = ModelId::abi_decode(bytes);
      for (const auto& file : model.files) {
        EXPECT_TRUE(is_valid_path_component(file)) << file;
      }
      EXPECT_TRUE(is_valid_path_component(model.repo.owner));
    } catch (const ServiceError& error) {
      EXPECT_EQ(error.status(), Status::bad_request);
    } catch (const std::exception& error) {
      ADD_FAILURE() << "unexpected " << error.what() << " for " << hex_encode(bytes);
    }
  }
}

}  // namespace
}  // namespace infernet::sdk

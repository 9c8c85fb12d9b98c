#include "api/guardian.hpp"

#include <gtest/gtest.h>

namespace inferd::api {
namespace {

infra::ContainerConfig container(std::string id, bool external = true, bool proofs = false,
                                 std::vector<std::string> allowed_ips = {}) {
  infra::ContainerConfig config;
  config.id = std::move(id);
  config.external = external;
  config.generates_proofs = proofs;
  config.allowed_ips = std::move(allowed_ips);
  return config;
}

const auto kLocal = asio::ip::make_address("127.0.0.1");

TEST(NetworkList, MatchesHostsAndNetworks) {
  auto list = NetworkList::parse({"10.0.0.0/8", "192.168.1.7", "::1", "2001:db8::/32"});
  EXPECT_TRUE(list.contains(asio::ip::make_address("10.200.3.4")));
  EXPECT_TRUE(list.contains(asio::ip::make_address("192.168.1.7")));
  EXPECT_FALSE(list.contains(asio::ip::make_address("192.168.1.8")));
  EXPECT_TRUE(list.contains(asio::ip::make_address("::1")));
  EXPECT_TRUE(list.contains(asio::ip::make_address("2001:db8:1::5")));
  EXPECT_TRUE(list.contains(asio::ip::make_address("::ffff:10.1.1.1")));
  EXPECT_FALSE(list.contains(asio::ip::make_address("11.0.0.1")));
}

TEST(NetworkList, HostBitsAreClearedLikePython) {
  auto list = NetworkList::parse({"10.1.2.3/16"});
  EXPECT_TRUE(list.contains(asio::ip::make_address("10.1.200.1")));
}

TEST(NetworkList, RejectsInvalidEntries) {
  EXPECT_THROW(NetworkList::parse({"10.0.0.0/33"}), std::invalid_argument);
  EXPECT_THROW(NetworkList::parse({"not-an-ip"}), std::invalid_argument);
  EXPECT_THROW(NetworkList::parse({"10.0.0.0/"}), std::invalid_argument);
}

TEST(Guardian, RulesInReferenceOrder) {
  Guardian guardian({container("a"), container("internal", false), container("prover", true, true),
                     container("private", true, false, {"10.0.0.0/8"})});

  auto rejection = guardian.check_offchain({}, false, kLocal);
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->error, "No containers specified");

  rejection = guardian.check_offchain({"a", "missing"}, false, kLocal);
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->kind, Rejection::Kind::kUnknownContainer);
  EXPECT_EQ(rejection->params["container"], "missing");

  // An unknown container is reported before a non-external first one.
  rejection = guardian.check_offchain({"internal", "missing"}, false, kLocal);
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->error, "Container not supported");

  rejection = guardian.check_offchain({"internal", "a"}, false, kLocal);
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->error, "First container must be external");
  EXPECT_EQ(rejection->params["first_container"], "internal");

  rejection = guardian.check_offchain({"prover", "a"}, true, kLocal);
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->error, "Container does not generate proof");
  EXPECT_EQ(rejection->params["container"], "a");
  EXPECT_FALSE(guardian.check_offchain({"a", "prover"}, true, kLocal));

  rejection = guardian.check_offchain({"a", "private"}, false, kLocal);
  ASSERT_TRUE(rejection);
  EXPECT_EQ(rejection->error, "Container not allowed for address");
  EXPECT_EQ(rejection->params["address"], "127.0.0.1");
  EXPECT_FALSE(guardian.check_offchain({"private"}, false, asio::ip::make_address("10.2.3.4")));
}

}  // namespace
}  // namespace inferd::api

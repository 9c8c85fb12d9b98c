#include "infra/config.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include <gtest/gtest.h>

namespace inferd::infra {
namespace {

namespace fs = std::filesystem;

std::string error_of(std::string_view text) {
  try {
    parse_config(text, "config.json");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "<no error>";
}

std::string error_path_of(std::string_view text) {
  try {
    parse_config(text, "config.json");
  } catch (const ConfigError& error) {
    return error.path();
  }
  return "<no error>";
}

TEST(Config, EmptyObjectGivesReferenceDefaults) {
  NodeConfig config = parse_config("{}");
  EXPECT_EQ(config.log.path, "infernet_node.log");
  EXPECT_EQ(config.log.max_file_size, 1073741824u);
  EXPECT_EQ(config.log.backup_count, 2u);
  EXPECT_TRUE(config.manage_containers);
  EXPECT_EQ(config.server.port, 4000);
  EXPECT_EQ(config.server.rate_limit.num_requests, 60u);
  EXPECT_EQ(config.server.rate_limit.period, 60.0);
  EXPECT_FALSE(config.chain.enabled);
  EXPECT_FALSE(config.chain.rpc_url);
  EXPECT_EQ(config.chain.trail_head_blocks, 1u);
  EXPECT_FALSE(config.chain.registry_address);
  EXPECT_FALSE(config.chain.wallet);
  EXPECT_EQ(config.chain.snapshot_sync.sleep, 1.0);
  EXPECT_EQ(config.chain.snapshot_sync.batch_size, 500u);
  EXPECT_EQ(config.chain.snapshot_sync.starting_sub_id, 0u);
  EXPECT_EQ(config.chain.snapshot_sync.sync_period, 0.5);
  EXPECT_FALSE(config.docker);
  EXPECT_EQ(config.redis.host, "redis");
  EXPECT_EQ(config.redis.port, 6379);
  EXPECT_TRUE(config.forward_stats);
  EXPECT_EQ(config.startup_wait, 5.0);
  EXPECT_TRUE(config.containers.empty());
  EXPECT_TRUE(config.warnings.empty());
}

TEST(Config, ExtensionDefaults) {
  NodeConfig config = parse_config(R"({"manage_containers": false, "containers": [{"id": "a"}]})");
  EXPECT_EQ(config.server.bind_address, "127.0.0.1");
  EXPECT_EQ(config.server.max_body_bytes, 1048576u);
  EXPECT_TRUE(config.server.trusted_proxies.empty());
  EXPECT_TRUE(config.server.status_networks.empty());
  EXPECT_EQ(config.server.shutdown_grace, 10.0);
  EXPECT_EQ(config.store.backend, "sqlite");
  EXPECT_EQ(config.store.data_dir, "data");
  EXPECT_EQ(config.store.result_ttl, 86400.0);
  ASSERT_EQ(config.containers.size(), 1u);
  const ContainerConfig& container = config.containers[0];
  EXPECT_EQ(container.timeout, 180.0);
  EXPECT_EQ(container.stream_timeout, 60.0);
  EXPECT_EQ(container.max_concurrency, 64u);
  EXPECT_EQ(container.queue_size, 1024u);
  EXPECT_EQ(container.readiness_path, "/");
}

TEST(Config, ContainerDefaults) {
  NodeConfig config = parse_config(R"({"manage_containers": false, "containers": [{"id": "a"}]})");
  const ContainerConfig& container = config.containers.at(0);
  EXPECT_EQ(container.id, "a");
  EXPECT_EQ(container.image, "");
  EXPECT_EQ(container.url, "");
  EXPECT_EQ(container.bearer, "");
  EXPECT_EQ(container.port, 3000);
  EXPECT_FALSE(container.port_explicit);
  EXPECT_TRUE(container.external);
  EXPECT_FALSE(container.gpu);
  EXPECT_TRUE(container.accepted_payments.empty());
  EXPECT_TRUE(container.allowed_ips.empty());
  EXPECT_TRUE(container.allowed_addresses.empty());
  EXPECT_TRUE(container.allowed_delegate_addresses.empty());
  EXPECT_EQ(container.description, "");
  EXPECT_EQ(container.command, "");
  EXPECT_EQ(container.env, nlohmann::json::object());
  EXPECT_FALSE(container.generates_proofs);
  EXPECT_TRUE(container.volumes.empty());
}

TEST(Config, EveryKeyIsRead) {
  NodeConfig config = parse_config(R"({
    "log": {"path": "x.log", "max_file_size": 100, "backup_count": 5},
    "manage_containers": true,
    "server": {"port": 4100, "rate_limit": {"num_requests": 10, "period": 20},
               "bind_address": "0.0.0.0", "max_body_bytes": 2048,
               "trusted_proxies": ["10.0.0.1", "10.1.0.0/16"], "status_networks": ["::1/128"],
               "shutdown_grace": 2.5},
    "chain": {"enabled": true, "rpc_url": "http://127.0.0.1:8545", "trail_head_blocks": 3,
              "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602",
              "wallet": {"max_gas_limit": 100000,
                         "private_key": "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
                         "payment_address": "0x1111111111111111111111111111111111111111",
                         "allowed_sim_errors": ["not enough balance"]},
              "snapshot_sync": {"sleep": 2, "batch_size": 100, "starting_sub_id": 7,
                                "sync_period": 1.5}},
    "docker": {"username": "user", "password": "pass"},
    "redis": {"host": "127.0.0.1", "port": 6390},
    "forward_stats": false,
    "startup_wait": 0.5,
    "store": {"backend": "redis", "data_dir": "/var/lib/inferd", "result_ttl": 60},
    "containers": [{
      "id": "svc", "image": "img:1", "port": 3005, "external": false, "gpu": true,
      "accepted_payments": {"0x0000000000000000000000000000000000000000": 5},
      "allowed_ips": ["127.0.0.1"], "allowed_addresses": ["0x2222222222222222222222222222222222222222"],
      "allowed_delegate_addresses": ["0x3333333333333333333333333333333333333333"],
      "description": "d", "command": "--flag", "env": {"A": 1, "B": "two", "C": [true]},
      "generates_proofs": true, "volumes": ["/a:/b:ro"], "timeout": 5, "stream_timeout": 6,
      "max_concurrency": 7, "queue_size": 0, "readiness_path": "/ready"}]
  })");
  EXPECT_TRUE(config.warnings.empty());
  EXPECT_EQ(config.log.path, "x.log");
  EXPECT_EQ(config.log.max_file_size, 100u);
  EXPECT_EQ(config.log.backup_count, 5u);
  EXPECT_EQ(config.server.port, 4100);
  EXPECT_EQ(config.server.rate_limit.num_requests, 10u);
  EXPECT_EQ(config.server.rate_limit.period, 20.0);
  EXPECT_EQ(config.server.bind_address, "0.0.0.0");
  EXPECT_EQ(config.server.max_body_bytes, 2048u);
  EXPECT_EQ(config.server.trusted_proxies.size(), 2u);
  EXPECT_EQ(config.server.status_networks, std::vector<std::string>{"::1/128"});
  EXPECT_EQ(config.server.shutdown_grace, 2.5);
  EXPECT_TRUE(config.chain.enabled);
  EXPECT_EQ(config.chain.rpc_url, "http://127.0.0.1:8545");
  EXPECT_EQ(config.chain.trail_head_blocks, 3u);
  ASSERT_TRUE(config.chain.wallet);
  EXPECT_EQ(config.chain.wallet->max_gas_limit, 100000u);
  EXPECT_EQ(config.chain.wallet->payment_address, "0x1111111111111111111111111111111111111111");
  EXPECT_EQ(config.chain.wallet->allowed_sim_errors,
            std::vector<std::string>{"not enough balance"});
  EXPECT_EQ(config.chain.snapshot_sync.sleep, 2.0);
  EXPECT_EQ(config.chain.snapshot_sync.batch_size, 100u);
  EXPECT_EQ(config.chain.snapshot_sync.starting_sub_id, 7u);
  EXPECT_EQ(config.chain.snapshot_sync.sync_period, 1.5);
  ASSERT_TRUE(config.docker);
  EXPECT_EQ(config.docker->username, "user");
  EXPECT_EQ(config.docker->password, "pass");
  EXPECT_EQ(config.redis.host, "127.0.0.1");
  EXPECT_EQ(config.redis.port, 6390);
  EXPECT_FALSE(config.forward_stats);
  EXPECT_EQ(config.startup_wait, 0.5);
  EXPECT_EQ(config.store.backend, "redis");
  EXPECT_EQ(config.store.data_dir, "/var/lib/inferd");
  EXPECT_EQ(config.store.result_ttl, 60.0);
  const ContainerConfig& c = config.containers.at(0);
  EXPECT_EQ(c.port, 3005);
  EXPECT_TRUE(c.port_explicit);
  EXPECT_FALSE(c.external);
  EXPECT_TRUE(c.gpu);
  EXPECT_EQ(c.accepted_payments.at("0x0000000000000000000000000000000000000000"), "5");
  EXPECT_EQ(c.env["C"], nlohmann::json::array({true}));
  EXPECT_EQ(c.command, "--flag");
  EXPECT_EQ(c.volumes, std::vector<std::string>{"/a:/b:ro"});
  EXPECT_EQ(c.timeout, 5.0);
  EXPECT_EQ(c.stream_timeout, 6.0);
  EXPECT_EQ(c.max_concurrency, 7u);
  EXPECT_EQ(c.queue_size, 0u);
  EXPECT_EQ(c.readiness_path, "/ready");
}

TEST(Config, LaxCoercionOfScalars) {
  NodeConfig config = parse_config(R"({
    "manage_containers": "false", "forward_stats": 0, "startup_wait": "2.5",
    "server": {"port": "4001", "rate_limit": {"num_requests": 5.0}},
    "containers": [{"id": "a", "port": "3000", "external": "yes"}]})");
  EXPECT_FALSE(config.manage_containers);
  EXPECT_FALSE(config.forward_stats);
  EXPECT_EQ(config.startup_wait, 2.5);
  EXPECT_EQ(config.server.port, 4001);
  EXPECT_EQ(config.server.rate_limit.num_requests, 5u);
  EXPECT_EQ(config.containers.at(0).port, 3000);
  EXPECT_TRUE(config.containers.at(0).port_explicit);
  EXPECT_TRUE(config.containers.at(0).external);
}

TEST(Config, KeyFromEnvironmentVariableNeedsNoPrivateKey) {
  NodeConfig config = parse_config(R"({"chain": {"enabled": true, "rpc_url": "https://h",
    "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602", "rpc_ca_file": "ca.pem",
    "chain_id": 31337, "wallet": {"private_key_env": "NODE_KEY"}}})");
  ASSERT_TRUE(config.chain.wallet.has_value());
  EXPECT_FALSE(config.chain.wallet->private_key.has_value());
  EXPECT_EQ(config.chain.wallet->private_key_env, "NODE_KEY");
  EXPECT_EQ(config.chain.rpc_ca_file, "ca.pem");
  EXPECT_EQ(config.chain.chain_id, 31337u);
  EXPECT_EQ(config.chain.max_delivery_attempts, 3u);
}

TEST(Config, NullOptionalKeysCountAsAbsent) {
  NodeConfig config = parse_config(
      R"({"chain": {"rpc_url": null, "registry_address": null, "wallet": null}, "docker": null})");
  EXPECT_FALSE(config.chain.rpc_url);
  EXPECT_FALSE(config.chain.wallet);
  EXPECT_FALSE(config.docker);
}

TEST(Config, AcceptedPaymentsKeepU256Exact) {
  NodeConfig config = parse_config(R"({"manage_containers": false, "containers": [{"id": "a",
    "accepted_payments": {
      "0x0000000000000000000000000000000000000001": 115792089237316195423570985008687907853269984665640564039457584007913129639935,
      "0x0000000000000000000000000000000000000002": "000123",
      "0x0000000000000000000000000000000000000003": 18446744073709551616,
      "0x0000000000000000000000000000000000000004": 0}}]})");
  const auto& payments = config.containers.at(0).accepted_payments;
  EXPECT_EQ(payments.at("0x0000000000000000000000000000000000000001"),
            "115792089237316195423570985008687907853269984665640564039457584007913129639935");
  EXPECT_EQ(payments.at("0x0000000000000000000000000000000000000002"), "123");
  EXPECT_EQ(payments.at("0x0000000000000000000000000000000000000003"), "18446744073709551616");
  EXPECT_EQ(payments.at("0x0000000000000000000000000000000000000004"), "0");
}

TEST(Config, PortAssignmentFollowsReferenceExample) {
  NodeConfig config = parse_config(R"({"manage_containers": false, "containers": [
    {"id": "a"}, {"id": "b"}, {"id": "c", "port": 3999}, {"id": "d", "port": 3000}]})");
  ASSERT_EQ(config.containers.size(), 4u);
  EXPECT_EQ(config.containers[0].port, 3000);
  EXPECT_EQ(config.containers[1].port, 3999);
  EXPECT_EQ(config.containers[2].port, 3998);
  EXPECT_EQ(config.containers[3].port, 3997);
  EXPECT_EQ(config.containers[2].configured_port, 3999);
  // The two explicit ports that moved are reported; b had no port of its own.
  ASSERT_EQ(config.warnings.size(), 2u);
  EXPECT_EQ(config.warnings[0].path, "containers[2].port");
  EXPECT_EQ(config.warnings[0].message,
            "config.json: containers[2].port: port 3999 is already used by an earlier container; "
            "assigned 3998 instead");
  EXPECT_EQ(config.warnings[1].path, "containers[3].port");
}

TEST(Config, DistinctPortsStayUnchanged) {
  NodeConfig config = parse_config(R"({"manage_containers": false, "containers": [
    {"id": "a", "port": 3000}, {"id": "b", "port": 3001}]})");
  EXPECT_EQ(config.containers[0].port, 3000);
  EXPECT_EQ(config.containers[1].port, 3001);
  EXPECT_TRUE(config.warnings.empty());
}

struct WarningCase {
  const char* name;
  const char* text;
  const char* path;
  const char* message;
};

class ConfigWarnings : public testing::TestWithParam<WarningCase> {};

TEST_P(ConfigWarnings, NameKeyAndSuggestion) {
  const WarningCase& c = GetParam();
  NodeConfig config = parse_config(c.text);
  ASSERT_EQ(config.warnings.size(), 1u) << c.text;
  EXPECT_EQ(config.warnings[0].path, c.path);
  EXPECT_EQ(config.warnings[0].message, c.message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigWarnings,
    testing::Values(
        WarningCase{"rpc_ws", R"({"chain": {"rpc_ws": "ws://x"}})", "chain.rpc_ws",
                    "config.json: chain.rpc_ws: unknown key, ignored; did you mean "
                    "chain.rpc_url?"},
        WarningCase{"imag",
                    R"({"manage_containers": false, "containers": [{"id": "a", "imag": "x"}]})",
                    "containers[0].imag",
                    "config.json: containers[0].imag: unknown key, ignored; did you mean "
                    "containers[0].image?"},
        WarningCase{"top_level", R"({"servr": {}})", "servr",
                    "config.json: servr: unknown key, ignored; did you mean server?"},
        WarningCase{"no_suggestion", R"({"completely_unrelated": 1})", "completely_unrelated",
                    "config.json: completely_unrelated: unknown key, ignored"},
        WarningCase{"rate_limit", R"({"server": {"rate_limit": {"num_request": 5}}})",
                    "server.rate_limit.num_request",
                    "config.json: server.rate_limit.num_request: unknown key, ignored; did you "
                    "mean server.rate_limit.num_requests?"},
        WarningCase{"managed_url",
                    R"({"containers": [{"id": "a", "image": "i", "url": "http://h:1"}]})",
                    "containers[0]",
                    "config.json: containers[0]: url and bearer are meant for containers the "
                    "node does not manage; calls still go to url when it is set"}),
    [](const testing::TestParamInfo<WarningCase>& info) { return std::string(info.param.name); });

struct ErrorCase {
  const char* name;
  const char* text;
  const char* path;
  const char* message;  // the whole what() text
};

class ConfigErrors : public testing::TestWithParam<ErrorCase> {};

TEST_P(ConfigErrors, MessageNamesPathValueAndFix) {
  const ErrorCase& c = GetParam();
  EXPECT_EQ(error_of(c.text), c.message);
  EXPECT_EQ(error_path_of(c.text), c.path);
}

constexpr const char* kChainOn = R"("enabled": true, "rpc_url": "http://127.0.0.1:8545")";

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigErrors,
    testing::Values(
        ErrorCase{"invalid_json", "{\n  \"server\": {\"port\": 4000,}\n}", "",
                  "config.json: invalid JSON at line 2, column 27: syntax error while parsing "
                  "object key - unexpected '}'; expected string literal; fix the syntax there"},
        ErrorCase{"empty_file", "", "",
                  "config.json: invalid JSON at line 1, column 1: syntax error while parsing "
                  "value - unexpected end of input; expected '[', '{', or a literal; fix the "
                  "syntax there"},
        ErrorCase{"root_array", "[1, 2]", "",
                  "config.json: invalid value: the file holds array but must hold one JSON "
                  "object; wrap the keys in { }"},
        ErrorCase{
            "port_string",
            R"({"manage_containers": false, "containers": [{"id": "a"}, {"id": "b", "port": "abc"}]})",
            "containers[1].port",
            "config.json: containers[1].port: invalid value \"abc\" (expected an integer "
            "1-65535); set it to the host port the container listens on"},
        ErrorCase{"port_zero",
                  R"({"manage_containers": false, "containers": [{"id": "a", "port": 0}]})",
                  "containers[0].port",
                  "config.json: containers[0].port: invalid value 0 (expected an integer "
                  "1-65535); set it to the host port the container listens on"},
        ErrorCase{"port_too_large", R"({"server": {"port": 65536}})", "server.port",
                  "config.json: server.port: invalid value 65536 (expected an integer 1-65535); "
                  "set it to the TCP port the REST API listens on"},
        ErrorCase{"port_negative", R"({"redis": {"port": -1}})", "redis.port",
                  "config.json: redis.port: invalid value -1 (expected an integer 1-65535); set "
                  "it to the Redis server's TCP port"},
        ErrorCase{"port_fraction", R"({"server": {"port": 4000.5}})", "server.port",
                  "config.json: server.port: invalid value 4000.5 (expected an integer "
                  "1-65535); set it to the TCP port the REST API listens on"},
        ErrorCase{"port_bool", R"({"server": {"port": true}})", "server.port",
                  "config.json: server.port: invalid value true (expected an integer 1-65535); "
                  "set it to the TCP port the REST API listens on"},
        ErrorCase{"enabled_type", R"({"chain": {"enabled": "maybe"}})", "chain.enabled",
                  "config.json: chain.enabled: invalid value \"maybe\" (expected true or false); "
                  "set it to true or false"},
        ErrorCase{"server_not_object", R"({"server": 4000})", "server",
                  "config.json: server: invalid value 4000 (expected a JSON object); make server "
                  "an object"},
        ErrorCase{"containers_not_list", R"({"containers": {"id": "a"}})", "containers",
                  "config.json: containers: invalid value <object> (expected a list of "
                  "container objects); make containers a JSON list"},
        ErrorCase{"container_not_object", R"({"containers": ["a"]})", "containers[0]",
                  "config.json: containers[0]: invalid value \"a\" (expected a JSON object); "
                  "describe each container as an object with at least id"},
        ErrorCase{"id_missing", R"({"containers": [{"image": "x"}]})", "containers[0].id",
                  "config.json: containers[0].id: missing (every container needs an id); set it "
                  "to the name used in job requests, e.g. \"hello\""},
        ErrorCase{"id_number", R"({"containers": [{"id": 5}]})", "containers[0].id",
                  "config.json: containers[0].id: invalid value 5 (expected a string); set it to "
                  "the name used in job requests"},
        ErrorCase{
            "id_duplicate",
            R"({"manage_containers": false, "containers": [{"id": "a"}, {"id": "a", "port": 3001}]})",
            "containers[1].id",
            "config.json: containers[1].id: duplicate id \"a\" (also containers[0]); give "
            "every container a unique id"},
        ErrorCase{"image_missing_when_managed", R"({"containers": [{"id": "a"}]})",
                  "containers[0].image",
                  "config.json: containers[0].image: missing (image must be defined when "
                  "manage_containers is set to true); set it to the Docker image to run, or set "
                  "manage_containers to false"},
        ErrorCase{"docker_name", R"({"containers": [{"id": "a b", "image": "i"}]})",
                  "containers[0].id",
                  "config.json: containers[0].id: invalid value \"a b\" (expected a Docker "
                  "container name: letters, digits, _ . - and a letter or digit first); rename "
                  "the container, because managed containers are named by id"},
        ErrorCase{"chain_rpc_missing", R"({"chain": {"enabled": true}})", "chain.rpc_url",
                  "config.json: chain.rpc_url: missing (rpc_url must be defined when chain is "
                  "enabled); set it to the HTTP URL of an RPC node, or set chain.enabled to "
                  "false"},
        ErrorCase{"chain_registry_missing",
                  R"({"chain": {"enabled": true, "rpc_url": "not a url"}})",
                  "chain.registry_address",
                  "config.json: chain.registry_address: missing (registry_address must be "
                  "defined when chain is enabled); set it to the address of the Infernet "
                  "Registry contract"},
        ErrorCase{
            "chain_wallet_missing",
            R"({"chain": {"enabled": true, "rpc_url": "http://h", "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602"}})",
            "chain.wallet",
            "config.json: chain.wallet: missing (wallet must be defined when chain is "
            "enabled); add a wallet object with the node's private_key"},
        ErrorCase{
            "chain_key_missing",
            R"({"chain": {"enabled": true, "rpc_url": "http://h", "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602", "wallet": {}}})",
            "chain.wallet.private_key",
            "config.json: chain.wallet.private_key: missing (private_key must be defined "
            "when chain is enabled); set it to the node's 32-byte private key in hex, or name "
            "the key's environment variable in private_key_env, or set keystore and "
            "password_file"},
        ErrorCase{
            "chain_two_key_sources",
            R"({"chain": {"enabled": true, "rpc_url": "http://h", "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602", "wallet": {"private_key_env": "K", "keystore": "k.json", "password_file": "p"}}})",
            "chain.wallet.keystore",
            "config.json: chain.wallet.keystore: invalid value \"k.json\" (expected one key "
            "source only); keep one of private_key, private_key_env and keystore"},
        ErrorCase{
            "chain_keystore_without_password",
            R"({"chain": {"enabled": true, "rpc_url": "http://h", "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602", "wallet": {"keystore": "k.json"}}})",
            "chain.wallet.password_file",
            "config.json: chain.wallet.password_file: missing (password_file must be set with "
            "keystore); set it to the file holding the keystore's password"},
        ErrorCase{
            "chain_rpc_format",
            R"({"chain": {"enabled": true, "rpc_url": "localhost:8545", "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602", "wallet": {"private_key": "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"}}})",
            "chain.rpc_url",
            "config.json: chain.rpc_url: invalid value \"localhost:8545\" (expected an "
            "http:// or https:// URL); set it to the HTTP URL of an RPC node, e.g. "
            "http://127.0.0.1:8545"},
        ErrorCase{
            "chain_registry_format",
            R"({"chain": {"enabled": true, "rpc_url": "http://h", "registry_address": "0x12", "wallet": {"private_key": "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"}}})",
            "chain.registry_address",
            "config.json: chain.registry_address: invalid value \"0x12\" (expected an "
            "address: 0x and 40 hex digits); set it to the address of the Infernet "
            "Registry contract"},
        ErrorCase{
            "private_key_redacted",
            R"({"chain": {"enabled": true, "rpc_url": "http://h", "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602", "wallet": {"private_key": "supersecretvalue"}}})",
            "chain.wallet.private_key",
            "config.json: chain.wallet.private_key: invalid value <redacted> (expected 64 "
            "hex digits, optionally prefixed with 0x); set it to the node's 32-byte "
            "private key in hex"},
        ErrorCase{"private_key_type_redacted", R"({"chain": {"wallet": {"private_key": 12345}}})",
                  "chain.wallet.private_key",
                  "config.json: chain.wallet.private_key: invalid value <redacted> (expected a "
                  "string); set it to the node's 32-byte private key in hex"},
        ErrorCase{
            "bearer_redacted",
            R"({"manage_containers": false, "containers": [{"id": "a", "bearer": ["secret-token"]}]})",
            "containers[0].bearer",
            "config.json: containers[0].bearer: invalid value <redacted> (expected a "
            "string); set it to the token sent as Authorization: Bearer"},
        ErrorCase{"docker_password_redacted",
                  R"({"docker": {"username": "u", "password": {"token": "secret"}}})",
                  "docker.password",
                  "config.json: docker.password: invalid value <redacted> (expected a string); "
                  "set it to the image registry password or token"},
        ErrorCase{"docker_password_missing", R"({"docker": {"username": "u"}})", "docker.password",
                  "config.json: docker.password: missing (required when docker is set); set the "
                  "image registry password or token, or remove docker"},
        ErrorCase{"docker_username_missing", R"({"docker": {"password": "p"}})", "docker.username",
                  "config.json: docker.username: missing (required when docker is set); set the "
                  "image registry user name, or remove docker"},
        ErrorCase{
            "payment_amount_float",
            R"({"manage_containers": false, "containers": [{"id": "a", "accepted_payments": {"0x0000000000000000000000000000000000000000": 1.5}}]})",
            "containers[0].accepted_payments.0x0000000000000000000000000000000000000000",
            "config.json: "
            "containers[0].accepted_payments.0x0000000000000000000000000000000000000000: "
            "invalid value 1.5 (expected an integer amount 0 to 2^256-1); set it to the "
            "minimum amount in the token's smallest unit"},
        ErrorCase{
            "payment_amount_over_u256",
            R"({"manage_containers": false, "containers": [{"id": "a", "accepted_payments": {"0x0000000000000000000000000000000000000000": 115792089237316195423570985008687907853269984665640564039457584007913129639936}}]})",
            "containers[0].accepted_payments.0x0000000000000000000000000000000000000000",
            "config.json: "
            "containers[0].accepted_payments.0x0000000000000000000000000000000000000000: "
            "invalid value "
            "115792089237316195423570985008687907853269984665640564039457584007913129639936 "
            "(expected an integer amount 0 to 2^256-1); set it to the minimum "
            "amount in the token's smallest unit"},
        ErrorCase{
            "payment_token",
            R"({"manage_containers": false, "containers": [{"id": "a", "accepted_payments": {"eth": 1}}]})",
            "containers[0].accepted_payments.eth",
            "config.json: containers[0].accepted_payments.eth: invalid value \"eth\" "
            "(expected a token address: 0x and 40 hex digits); use the token contract's "
            "address, or the zero address for ETH"},
        ErrorCase{
            "allowed_ips",
            R"({"manage_containers": false, "containers": [{"id": "a", "allowed_ips": ["10.0.0.0/8", "10.0.0.300"]}]})",
            "containers[0].allowed_ips[1]",
            "config.json: containers[0].allowed_ips[1]: invalid value \"10.0.0.300\" "
            "(expected an IP address or CIDR network such as 10.0.0.0/8); list the IPs or "
            "CIDRs allowed to request this container"},
        ErrorCase{
            "allowed_ips_item_type",
            R"({"manage_containers": false, "containers": [{"id": "a", "allowed_ips": [7]}]})",
            "containers[0].allowed_ips[0]",
            "config.json: containers[0].allowed_ips[0]: invalid value 7 (expected a "
            "string); list the IPs or CIDRs allowed to request this container"},
        ErrorCase{
            "allowed_addresses",
            R"({"manage_containers": false, "containers": [{"id": "a", "allowed_addresses": ["0xabc"]}]})",
            "containers[0].allowed_addresses[0]",
            "config.json: containers[0].allowed_addresses[0]: invalid value \"0xabc\" "
            "(expected an address: 0x and 40 hex digits); fix or remove the address"},
        ErrorCase{"trusted_proxy_prefix", R"({"server": {"trusted_proxies": ["10.0.0.0/33"]}})",
                  "server.trusted_proxies[0]",
                  "config.json: server.trusted_proxies[0]: invalid value \"10.0.0.0/33\" "
                  "(expected an IP address or CIDR network such as 10.0.0.0/8); list the IPs or "
                  "CIDRs of reverse proxies whose X-Forwarded-For is honoured"},
        ErrorCase{"bind_address", R"({"server": {"bind_address": "localhost"}})",
                  "server.bind_address",
                  "config.json: server.bind_address: invalid value \"localhost\" (expected an IP "
                  "address); set it to e.g. 127.0.0.1 (loopback only) or 0.0.0.0 (every "
                  "interface)"},
        ErrorCase{"store_backend", R"({"store": {"backend": "postgres"}})", "store.backend",
                  "config.json: store.backend: invalid value \"postgres\" (expected \"sqlite\" "
                  "or \"redis\"); use sqlite for one node, redis to share jobs between nodes"},
        ErrorCase{"result_ttl_zero", R"({"store": {"result_ttl": 0}})", "store.result_ttl",
                  "config.json: store.result_ttl: invalid value 0 (expected a number of seconds "
                  "> 0 and <= 315360000 (ten years)); set it to the seconds a completed job is "
                  "kept"},
        ErrorCase{"timeout_negative",
                  R"({"manage_containers": false, "containers": [{"id": "a", "timeout": -5}]})",
                  "containers[0].timeout",
                  "config.json: containers[0].timeout: invalid value -5 (expected a number of "
                  "seconds > 0 and <= 315360000 (ten years)); set it to the seconds one "
                  "container call may take"},
        ErrorCase{"timeout_huge",
                  R"({"manage_containers": false, "containers": [{"id": "a", "timeout": 1e300}]})",
                  "containers[0].timeout",
                  "config.json: containers[0].timeout: invalid value 1e+300 (expected a number of "
                  "seconds > 0 and <= 315360000 (ten years)); set it to the seconds one "
                  "container call may take"},
        ErrorCase{"wallet_as_string", R"({"chain": {"wallet": "SECRETKEY1234"}})", "chain.wallet",
                  "config.json: chain.wallet: invalid value <redacted> (expected a JSON object); "
                  "make it an object with private_key and max_gas_limit"},
        ErrorCase{
            "max_concurrency_zero",
            R"({"manage_containers": false, "containers": [{"id": "a", "max_concurrency": 0}]})",
            "containers[0].max_concurrency",
            "config.json: containers[0].max_concurrency: invalid value 0 (expected an "
            "integer 1-1000000); set it to the number of calls this container handles at "
            "once"},
        ErrorCase{
            "readiness_path",
            R"({"manage_containers": false, "containers": [{"id": "a", "readiness_path": "health"}]})",
            "containers[0].readiness_path",
            "config.json: containers[0].readiness_path: invalid value \"health\" (expected "
            "a path starting with /); set it to the HTTP path probed for readiness, e.g. /"},
        ErrorCase{"env_not_object",
                  R"({"manage_containers": false, "containers": [{"id": "a", "env": ["A=1"]}]})",
                  "containers[0].env",
                  "config.json: containers[0].env: invalid value <array> (expected a JSON "
                  "object); make env an object of environment variable names to values"},
        ErrorCase{"rate_limit_zero", R"({"server": {"rate_limit": {"num_requests": 0}}})",
                  "server.rate_limit.num_requests",
                  "config.json: server.rate_limit.num_requests: invalid value 0 (expected an "
                  "integer 1-4294967295); set it to the number of requests a client may make per "
                  "period"},
        ErrorCase{"null_port", R"({"server": {"port": null}})", "server.port",
                  "config.json: server.port: invalid value null (expected an integer 1-65535); "
                  "set it to the TCP port the REST API listens on"},
        ErrorCase{"container_url",
                  R"({"manage_containers": false, "containers": [{"id": "a", "url": "ftp://x"}]})",
                  "containers[0].url",
                  "config.json: containers[0].url: invalid value \"ftp://x\" (expected an "
                  "http:// or https:// URL); set it to the service's base URL, e.g. "
                  "http://10.0.0.5:3000"}),
    [](const testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST(Config, ChainChecksIgnoreFormatsWhenDisabled) {
  NodeConfig config = parse_config(
      R"({"chain": {"enabled": false, "rpc_url": "x", "registry_address": "y",
                    "wallet": {"private_key": ""}}})");
  EXPECT_FALSE(config.chain.enabled);
  EXPECT_EQ(config.chain.rpc_url, "x");
}

TEST(Config, SecretNeverInInvalidJsonMessage) {
  std::string message = error_of(R"({"chain": {"wallet": {"private_key": "0xdeadbeefcafe\q"}}})");
  EXPECT_EQ(message.find("deadbeef"), std::string::npos) << message;
  EXPECT_NE(message.find("invalid JSON at line 1"), std::string::npos) << message;
}

TEST(Config, ChoosePathPrefersArgumentThenEnvironment) {
  ::unsetenv("INFERNET_CONFIG_PATH");
  EXPECT_EQ(choose_config_path(std::nullopt), fs::path("config.json"));
  ::setenv("INFERNET_CONFIG_PATH", "/etc/inferd.json", 1);
  EXPECT_EQ(choose_config_path(std::nullopt), fs::path("/etc/inferd.json"));
  EXPECT_EQ(choose_config_path(std::string("mine.json")), fs::path("mine.json"));
  ::unsetenv("INFERNET_CONFIG_PATH");
}

TEST(Config, LoadRecordsAbsolutePath) {
  fs::path dir = fs::temp_directory_path() / ("inferd_config_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path file = dir / "config.json";
  std::ofstream(file) << R"({"manage_containers": false})";
  fs::path old_cwd = fs::current_path();
  fs::current_path(dir);
  NodeConfig config = load_config("config.json");
  fs::current_path(old_cwd);
  EXPECT_EQ(config.source_path, fs::canonical(file));
  EXPECT_FALSE(config.manage_containers);
  fs::remove_all(dir);
}

TEST(Config, LoadMissingFileNamesIt) {
  try {
    load_config("/nonexistent/inferd/config.json");
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "/nonexistent/inferd/config.json: cannot read the config file (no such file); "
              "pass --config FILE or set INFERNET_CONFIG_PATH, e.g. deploy/config.hello.json");
  }
}

TEST(Config, EverySampleConfigValidatesWithoutWarnings) {
  fs::path deploy = fs::path(INFERD_SOURCE_DIR) / "deploy";
  std::size_t checked = 0;
  for (const auto& entry : fs::directory_iterator(deploy)) {
    if (entry.path().extension() != ".json") {
      continue;
    }
    SCOPED_TRACE(entry.path().string());
    NodeConfig config;
    ASSERT_NO_THROW(config = load_config(entry.path()));
    for (const auto& warning : config.warnings) {
      ADD_FAILURE() << warning.message;
    }
    ++checked;
  }
  EXPECT_GE(checked, 2u);
}

TEST(Config, HelloSampleIsTheQuickstartSetup) {
  NodeConfig config = load_config(fs::path(INFERD_SOURCE_DIR) / "deploy" / "config.hello.json");
  EXPECT_TRUE(config.manage_containers);
  EXPECT_FALSE(config.chain.enabled);
  EXPECT_EQ(config.store.backend, "sqlite");
  EXPECT_EQ(config.store.data_dir, "data");
  ASSERT_EQ(config.containers.size(), 1u);
  EXPECT_EQ(config.containers[0].id, "hello");
  EXPECT_EQ(config.containers[0].image, "localhost/inferd/hello:latest");
}

}  // namespace
}  // namespace inferd::infra

namespace inferd::infra {
namespace {

// Mutates the full sample config many times (fixed seed): every outcome must be a loaded
// config or a one-line ConfigError that does not contain the private key.
TEST(ConfigMutations, OnlyConfigErrorsAndNoSecretLeaks) {
  const std::string key = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
  std::string base = R"({"log": {"path": "x.log", "max_file_size": 100, "backup_count": 5},
    "manage_containers": true,
    "server": {"port": "4100", "rate_limit": {"num_requests": 10, "period": 20.5}},
    "chain": {"enabled": true, "rpc_url": "http://127.0.0.1:8545", "trail_head_blocks": 3,
              "registry_address": "0x663F3ad617193148711d28f5334eE4Ed07016602",
              "wallet": {"max_gas_limit": 100000, "private_key": ")" +
                     key + R"(", "allowed_sim_errors": ["x"]}},
    "docker": {"username": "user", "password": "pass"},
    "containers": [{"id": "svc", "image": "img:1", "port": 3005, "bearer": "bearer-secret-xyz",
      "accepted_payments": {"0x0000000000000000000000000000000000000000": 5},
      "allowed_ips": ["127.0.0.1/8"], "env": {"A": 1}}]})";
  const std::string tokens[] = {
      "{",       "}",  "[",     "]",    ",",    ":",     "\"",
      "0",       "-1", "1e999", "null", "true", "\"x\"", "99999999999999999999999",
      "\\u0000", " "};

  std::mt19937 random(12345);
  int loaded = 0;
  int rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string text = base;
    int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = random() % (text.size() + 1);
      switch (random() % 3) {
        case 0:
          text.erase(at, 1 + random() % 8);
          break;
        case 1:
          text.insert(at, tokens[random() % std::size(tokens)]);
          break;
        default:
          if (at < text.size()) {
            text[at] = static_cast<char>(random() % 256);
          }
      }
    }
    try {
      parse_config(text);
      ++loaded;
    } catch (const ConfigError& error) {
      ++rejected;
      std::string message = error.what();
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      EXPECT_EQ(message.find(key.substr(0, 16)), std::string::npos) << message;
      EXPECT_EQ(message.find("secret-xyz"), std::string::npos) << message;
    }
  }
  EXPECT_GT(loaded, 0);
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace inferd::infra

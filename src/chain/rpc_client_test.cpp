// JSON-RPC client tests: a scripted loopback peer that injects faults, and a real anvil.
#include "chain/rpc_client.hpp"

#include <deque>

#include <gtest/gtest.h>

#include "chain/test_anvil.hpp"
#include "core/abi.hpp"
#include "core/hex.hpp"
#include "core/keccak.hpp"
#include "core/transaction.hpp"

namespace inferd::chain {
namespace {

using nlohmann::json;
using tcp = asio::ip::tcp;
using testing::anvil_path;
using testing::AnvilProcess;
using testing::local_url;
using testing::run;

// A JSON-RPC peer on 127.0.0.1 that answers each request with the next scripted action, then
// with valid responses (result "0x7a69", or one per request of a batch).
class ScriptedPeer {
 public:
  enum class Action { kRateLimit, kServerError, kGarbage, kStall, kUnauthorized, kOk };

  ScriptedPeer(asio::io_context& io, std::deque<Action> script, std::string retry_after = "0")
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        script_(std::move(script)),
        retry_after_(std::move(retry_after)) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int requests() const { return requests_; }

 private:
  Awaitable<void> accept_loop() {
    while (true) {
      tcp::socket socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  Awaitable<void> serve(tcp::socket socket) {
    beast::flat_buffer buffer;
    while (true) {
      http::request<http::string_body> request;
      co_await http::async_read(socket, buffer, request, asio::use_awaitable);
      ++requests_;
      Action action = Action::kOk;
      if (!script_.empty()) {
        action = script_.front();
        script_.pop_front();
      }

      if (action == Action::kStall) {
        // Never answer; the client's attempt deadline must fire. The timer dies with the test.
        asio::steady_timer forever(socket.get_executor(), std::chrono::hours(1));
        co_await forever.async_wait(asio::use_awaitable);
        co_return;
      }

      http::response<http::string_body> response;
      response.version(11);
      response.keep_alive(true);
      response.set(http::field::content_type, "application/json");
      switch (action) {
        case Action::kRateLimit:
          response.result(http::status::too_many_requests);
          response.set(http::field::retry_after, retry_after_);
          response.body() = "{\"error\":\"slow down\"}";
          break;
        case Action::kServerError:
          response.result(http::status::internal_server_error);
          response.body() = "upstream failed";
          break;
        case Action::kGarbage:
          response.result(http::status::ok);
          response.body() = "<html>not json";
          break;
        case Action::kUnauthorized:
          response.result(http::status::unauthorized);
          response.body() = "{\"error\":\"bad key\"}";
          break;
        default:
          response.result(http::status::ok);
          response.body() = answer(json::parse(request.body())).dump();
      }
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::use_awaitable);
    }
  }

  static json answer(const json& request) {
    if (request.is_array()) {
      json replies = json::array();
      // Reply in reverse order: a batch reply may come in any order.
      for (auto it = request.rbegin(); it != request.rend(); ++it) {
        replies.push_back(answer(*it));
      }
      return replies;
    }
    if (request["method"] == "eth_fail") {
      return {{"jsonrpc", "2.0"},
              {"id", request["id"]},
              {"error", {{"code", 3}, {"message", "execution reverted"}, {"data", "0x88a21e4f"}}}};
    }
    return {{"jsonrpc", "2.0"}, {"id", request["id"]}, {"result", "0x7a69"}};
  }

  tcp::acceptor acceptor_;
  std::deque<Action> script_;
  std::string retry_after_;
  int requests_ = 0;
};

std::uint64_t attempts(infra::metrics::Registry& registry, const std::string& method,
                       const std::string& outcome) {
  return registry
      .counter("inferd_rpc_attempts_total", "", {{"method", method}, {"outcome", outcome}})
      .value();
}

RpcClientOptions fast_options(std::vector<std::string> urls) {
  RpcClientOptions options;
  options.urls = std::move(urls);
  options.attempt_timeout = std::chrono::milliseconds(300);
  options.call_timeout = std::chrono::milliseconds(20000);
  options.initial_backoff = std::chrono::milliseconds(5);
  options.max_backoff = std::chrono::milliseconds(20);
  options.jitter_seed = 42;
  return options;
}

class RpcClientFaultTest : public ::testing::Test {
 protected:
  asio::io_context io_;
  infra::HttpClient http_{io_.get_executor()};
  infra::metrics::Registry metrics_;
};

TEST_F(RpcClientFaultTest, RetriesRateLimitServerErrorGarbageAndStall) {
  using A = ScriptedPeer::Action;
  ScriptedPeer peer(io_, {A::kRateLimit, A::kServerError, A::kGarbage, A::kStall}, "1");
  RpcClientOptions options = fast_options({local_url(peer.port())});
  std::vector<RpcRetry> retries;
  options.on_retry = [&retries](const RpcRetry& retry) { retries.push_back(retry); };
  RpcClient client(http_, options, metrics_);

  const json result = run(io_, client.call("eth_chainId"));
  EXPECT_EQ(result, "0x7a69");
  EXPECT_EQ(peer.requests(), 5);

  ASSERT_EQ(retries.size(), 4u);
  EXPECT_EQ(retries[0].kind, RpcErrorKind::kRateLimited);
  EXPECT_GE(retries[0].delay, std::chrono::milliseconds(1000)) << "Retry-After: 1 is honoured";
  EXPECT_EQ(retries[1].kind, RpcErrorKind::kHttpServerError);
  EXPECT_LE(retries[1].delay, std::chrono::milliseconds(20)) << "backoff is capped";
  EXPECT_EQ(retries[2].kind, RpcErrorKind::kInvalidResponse);
  EXPECT_EQ(retries[3].kind, RpcErrorKind::kTimeout);

  EXPECT_EQ(attempts(metrics_, "eth_chainId", "rate_limited"), 1u);
  EXPECT_EQ(attempts(metrics_, "eth_chainId", "http_5xx"), 1u);
  EXPECT_EQ(attempts(metrics_, "eth_chainId", "invalid_response"), 1u);
  EXPECT_EQ(attempts(metrics_, "eth_chainId", "timeout"), 1u);
  EXPECT_EQ(attempts(metrics_, "eth_chainId", "ok"), 1u);
}

TEST_F(RpcClientFaultTest, GivesUpAfterMaxAttempts) {
  using A = ScriptedPeer::Action;
  ScriptedPeer peer(io_, {A::kServerError, A::kServerError, A::kServerError});
  RpcClientOptions options = fast_options({local_url(peer.port())});
  options.max_attempts = 3;
  RpcClient client(http_, options, metrics_);
  try {
    run(io_, client.call("eth_blockNumber"));
    FAIL() << "expected RpcError";
  } catch (const RpcError& error) {
    EXPECT_EQ(error.kind(), RpcErrorKind::kHttpServerError);
    EXPECT_NE(std::string(error.what()).find("after 3 attempts"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(peer.requests(), 3);
}

TEST_F(RpcClientFaultTest, UnauthorizedFailsAtOnceWithRedactedUrl) {
  using A = ScriptedPeer::Action;
  ScriptedPeer peer(io_, {A::kUnauthorized});
  const std::string url = "http://alice:s3cret-token@127.0.0.1:" + std::to_string(peer.port());
  RpcClient client(http_, fast_options({url}), metrics_);
  try {
    run(io_, client.call("eth_chainId"));
    FAIL() << "expected RpcError";
  } catch (const RpcError& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.kind(), RpcErrorKind::kUnauthorized);
    EXPECT_EQ(message.find("s3cret-token"), std::string::npos) << message;
    EXPECT_NE(message.find("HTTP 401"), std::string::npos) << message;
    EXPECT_NE(message.find("credentials"), std::string::npos) << message;
  }
  EXPECT_EQ(peer.requests(), 1);
  EXPECT_EQ(attempts(metrics_, "eth_chainId", "unauthorized"), 1u);
}

TEST_F(RpcClientFaultTest, FailsOverToTheNextUrl) {
  ScriptedPeer peer(io_, {});
  // A port with no listener: bind, read the port, close.
  std::uint16_t closed_port = 0;
  {
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  RpcClient client(http_, fast_options({local_url(closed_port), local_url(peer.port())}), metrics_);
  EXPECT_EQ(run(io_, client.call("eth_chainId")), "0x7a69");
  EXPECT_EQ(attempts(metrics_, "eth_chainId", "transport"), 1u);

  // The URL that worked is now tried first.
  EXPECT_EQ(run(io_, client.call("eth_chainId")), "0x7a69");
  EXPECT_EQ(attempts(metrics_, "eth_chainId", "transport"), 1u);
  EXPECT_EQ(attempts(metrics_, "eth_chainId", "ok"), 2u);
}

TEST_F(RpcClientFaultTest, RpcErrorCarriesRevertData) {
  ScriptedPeer peer(io_, {});
  RpcClient client(http_, fast_options({local_url(peer.port())}), metrics_);
  try {
    run(io_, client.call("eth_fail"));
    FAIL() << "expected RpcError";
  } catch (const RpcError& error) {
    EXPECT_EQ(error.kind(), RpcErrorKind::kRpcError);
    EXPECT_EQ(error.rpc_code, 3);
    EXPECT_EQ(error.rpc_data, "0x88a21e4f");
  }
  EXPECT_EQ(peer.requests(), 1) << "a JSON-RPC error is not retried";
}

TEST_F(RpcClientFaultTest, BatchMatchesRepliesById) {
  using A = ScriptedPeer::Action;
  ScriptedPeer peer(io_, {A::kGarbage});
  RpcClient client(http_, fast_options({local_url(peer.port())}), metrics_);
  const auto responses = run(io_, client.batch({{"eth_chainId", json::array()},
                                                {"eth_fail", json::array()},
                                                {"eth_blockNumber", json::array()}}));
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_TRUE(responses[0].ok());
  EXPECT_FALSE(responses[1].ok());
  EXPECT_EQ(responses[1].error_code, 3);
  EXPECT_TRUE(responses[2].ok());
  EXPECT_EQ(attempts(metrics_, "batch", "invalid_response"), 1u);
  EXPECT_EQ(attempts(metrics_, "batch", "ok"), 1u);
}

TEST_F(RpcClientFaultTest, DeadlineBoundsAStallingPeer) {
  using A = ScriptedPeer::Action;
  ScriptedPeer peer(io_, {A::kStall, A::kStall, A::kStall, A::kStall, A::kStall, A::kStall});
  RpcClient client(http_, fast_options({local_url(peer.port())}), metrics_);
  try {
    run(io_, client.call("eth_chainId", json::array(), std::chrono::milliseconds(700)));
    FAIL() << "expected RpcError";
  } catch (const RpcError& error) {
    EXPECT_TRUE(error.kind() == RpcErrorKind::kDeadlineExceeded ||
                error.kind() == RpcErrorKind::kTimeout)
        << error.what();
  }
  EXPECT_LE(peer.requests(), 3);
}

// ---- Against a real anvil ------------------------------------------------------------------

class RpcClientAnvilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(anvil_path())) {
      GTEST_SKIP() << "anvil not installed at " << anvil_path() << " (run scripts/install-deps.sh)";
    }
    anvil_ = std::make_unique<AnvilProcess>();
    ASSERT_TRUE(anvil_->started());
    RpcClientOptions options = fast_options({anvil_->url()});
    options.attempt_timeout = std::chrono::milliseconds(1000);
    client_ = std::make_unique<RpcClient>(http_, options, metrics_);
    ASSERT_TRUE(testing::wait_until_responding(io_, *client_))
        << "anvil did not respond on " << anvil_->url();
  }

  json call(const std::string& method, json params = json::array()) {
    return run(io_, client_->call(method, std::move(params)));
  }

  core::PrivateKey funded_key() {
    // anvil's first default account.
    return core::PrivateKey::from_hex(
               context_, "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
        .value();
  }

  core::U256 quantity(const json& value) {
    return core::U256::from_hex(value.get<std::string>()).value();
  }

  json wait_receipt(const std::string& hash) {
    // anvil mines each transaction at once; bounded in case it does not.
    for (int i = 0; i < 50; ++i) {
      json receipt = call("eth_getTransactionReceipt", {hash});
      if (!receipt.is_null()) {
        return receipt;
      }
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      pause.wait();
    }
    return nullptr;
  }

  asio::io_context io_;
  infra::HttpClient http_{io_.get_executor()};
  infra::metrics::Registry metrics_;
  core::Secp256k1Context context_;
  std::unique_ptr<AnvilProcess> anvil_;
  std::unique_ptr<RpcClient> client_;
};

TEST_F(RpcClientAnvilTest, SendsSignedTransfersOfBothTypes) {
  const core::PrivateKey key = funded_key();
  const core::Address sender = core::derive_public_key(context_, key).address();
  const core::Address recipient =
      core::Address::from_hex("0x3535353535353535353535353535353535353535").value();
  const core::U256 base_fee =
      quantity(call("eth_getBlockByNumber", {"latest", false})["baseFeePerGas"]);

  core::Eip1559Transaction typed;
  typed.chain_id = 31337;
  typed.nonce = quantity(call("eth_getTransactionCount", {sender.to_checksum_hex(), "pending"}));
  typed.max_priority_fee_per_gas = 1000000000;
  typed.max_fee_per_gas = base_fee * core::U256(2) + typed.max_priority_fee_per_gas;
  typed.gas_limit = 21000;
  typed.to = recipient;
  typed.value = 12345;
  const core::SignedTransaction signed_typed = core::sign_transaction(context_, key, typed);
  const json typed_hash = call("eth_sendRawTransaction", {core::to_hex(signed_typed.raw)});
  EXPECT_EQ(typed_hash, core::to_hex(signed_typed.hash.view()));

  core::LegacyTransaction legacy;
  legacy.chain_id = 31337;
  legacy.nonce = typed.nonce + core::U256(1);
  legacy.gas_price = typed.max_fee_per_gas;
  legacy.gas_limit = 21000;
  legacy.to = recipient;
  legacy.value = 55;
  const core::SignedTransaction signed_legacy = core::sign_transaction(context_, key, legacy);
  const json legacy_hash = call("eth_sendRawTransaction", {core::to_hex(signed_legacy.raw)});
  EXPECT_EQ(legacy_hash, core::to_hex(signed_legacy.hash.view()));

  for (const json& hash : {typed_hash, legacy_hash}) {
    const json receipt = wait_receipt(hash.get<std::string>());
    ASSERT_FALSE(receipt.is_null()) << hash;
    EXPECT_EQ(receipt["status"], "0x1");
    EXPECT_EQ(core::Address::from_hex(receipt["from"].get<std::string>()).value(), sender);
  }
  EXPECT_EQ(quantity(call("eth_getBalance", {recipient.to_checksum_hex(), "latest"})),
            core::U256(12345 + 55));
}

TEST_F(RpcClientAnvilTest, DecodesCustomErrorRevertOfDeployedContract) {
  // Hand-assembled EVM code. Runtime: PUSH4 0x88a21e4f PUSH1 0xe0 SHL PUSH1 0 MSTORE PUSH1 4
  // PUSH1 0 REVERT, i.e. revert with the 4-byte selector of NodeRespondedAlready(). Init code:
  // CODECOPY the 16 runtime bytes that follow it (at offset 12) and RETURN them.
  const core::Bytes init_code = core::from_hex(
                                    "0x6010600c60003960106000f3"
                                    "6388a21e4f60e01b60005260046000fd")
                                    .value();

  const core::PrivateKey key = funded_key();
  const core::Address sender = core::derive_public_key(context_, key).address();
  core::Eip1559Transaction deploy;
  deploy.chain_id = 31337;
  deploy.nonce = quantity(call("eth_getTransactionCount", {sender.to_checksum_hex(), "pending"}));
  deploy.max_priority_fee_per_gas = 1000000000;
  deploy.max_fee_per_gas = core::U256(10000000000ULL);
  deploy.gas_limit = 200000;
  deploy.data = init_code;
  const core::SignedTransaction signed_deploy = core::sign_transaction(context_, key, deploy);
  call("eth_sendRawTransaction", {core::to_hex(signed_deploy.raw)});
  const json receipt = wait_receipt(core::to_hex(signed_deploy.hash.view()));
  ASSERT_FALSE(receipt.is_null());
  ASSERT_EQ(receipt["status"], "0x1");
  const std::string contract = receipt["contractAddress"].get<std::string>();

  const core::Bytes call_data =
      core::abi::encode_call("deliverCompute(uint32,uint32,bytes,bytes,bytes,address)",
                             {core::abi::AbiValue::uint(1), core::abi::AbiValue::uint(1),
                              core::abi::AbiValue::bytes({}), core::abi::AbiValue::bytes({}),
                              core::abi::AbiValue::bytes({}), core::abi::AbiValue::address(sender)})
          .value();
  try {
    call("eth_call",
         {{{"from", sender.to_checksum_hex()}, {"to", contract}, {"data", core::to_hex(call_data)}},
          "latest"});
    FAIL() << "expected a revert";
  } catch (const RpcError& error) {
    ASSERT_EQ(error.kind(), RpcErrorKind::kRpcError) << error.what();
    ASSERT_TRUE(error.rpc_data.is_string()) << error.rpc_data.dump();
    core::abi::ErrorTable errors;
    ASSERT_TRUE(errors.add("NodeRespondedAlready()"));
    const core::Bytes data = core::from_hex(error.rpc_data.get<std::string>()).value();
    const core::abi::RevertReason reason = core::abi::decode_revert(data, &errors);
    EXPECT_EQ(reason.kind, core::abi::RevertReason::Kind::kCustom);
    EXPECT_EQ(reason.name, "NodeRespondedAlready");
  }
}

TEST_F(RpcClientAnvilTest, BatchMixesResultsAndErrors) {
  const auto responses = run(io_, client_->batch({{"eth_chainId", json::array()},
                                                  {"eth_blockNumber", json::array()},
                                                  {"no_such_method", json::array()}}));
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(*responses[0].result, "0x7a69");
  EXPECT_TRUE(responses[1].ok());
  EXPECT_FALSE(responses[2].ok());
  EXPECT_NE(responses[2].error_code, 0);
}

}  // namespace
}  // namespace inferd::chain

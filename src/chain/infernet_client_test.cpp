// InfernetClient tests against a loopback JSON-RPC peer that answers eth_call with canned
// return data per selector, as the Infernet contracts would.
#include "chain/infernet_client.hpp"

#include <map>

#include <gtest/gtest.h>

#include "chain/test_anvil.hpp"
#include "core/hex.hpp"

namespace inferd::chain {
namespace {

using core::abi::AbiValue;
using nlohmann::json;
using tcp = asio::ip::tcp;

class CannedChain {
 public:
  explicit CannedChain(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  std::string url() const { return testing::local_url(acceptor_.local_endpoint().port()); }

  /// Answers calls whose data starts with the selector of `signature` with `return_data`.
  void on(const std::string& signature, core::Bytes return_data) {
    results_[core::to_hex(core::abi::selector_of(signature).view())] = core::to_hex(return_data);
  }
  /// Reverts calls of `signature` with `revert_data`.
  void revert(const std::string& signature, core::Bytes revert_data) {
    reverts_[core::to_hex(core::abi::selector_of(signature).view())] = core::to_hex(revert_data);
  }

  /// The calldata of the last eth_call.
  const std::string& last_data() const { return last_data_; }

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
      const json body = json::parse(request.body());
      json reply;
      if (body.is_array()) {
        reply = json::array();
        for (const json& item : body) {
          reply.push_back(answer(item));
        }
      } else {
        reply = answer(body);
      }
      http::response<http::string_body> response{http::status::ok, 11};
      response.keep_alive(true);
      response.set(http::field::content_type, "application/json");
      response.body() = reply.dump();
      response.prepare_payload();
      co_await http::async_write(socket, response, asio::use_awaitable);
    }
  }

  json answer(const json& request) {
    const std::string data = request["params"][0]["data"].get<std::string>();
    last_data_ = data;
    const std::string selector = data.substr(0, 10);
    if (reverts_.count(selector) != 0) {
      return {{"jsonrpc", "2.0"},
              {"id", request["id"]},
              {"error",
               {{"code", 3}, {"message", "execution reverted"}, {"data", reverts_[selector]}}}};
    }
    const auto found = results_.find(selector);
    return {{"jsonrpc", "2.0"},
            {"id", request["id"]},
            {"result", found == results_.end() ? "0x" : found->second}};
  }

  tcp::acceptor acceptor_;
  std::map<std::string, std::string> results_;
  std::map<std::string, std::string> reverts_;
  std::string last_data_;
};

core::Address address_of(char digit) {
  return core::Address::from_hex("0x" + std::string(40, digit)).value();
}

core::Bytes encode(const std::string& types, const AbiValue::List& values) {
  return core::abi::encode(types, values).value();
}

class InfernetClientTest : public ::testing::Test {
 protected:
  InfernetClientTest() {
    RpcClientOptions options;
    options.urls = {chain_.url()};
    options.attempt_timeout = std::chrono::milliseconds(2000);
    rpc_ = std::make_unique<RpcClient>(http_, options, metrics_);
    client_ = std::make_unique<InfernetClient>(*rpc_, errors_);
  }

  asio::io_context io_;
  CannedChain chain_{io_};
  infra::HttpClient http_{io_.get_executor()};
  infra::metrics::Registry metrics_;
  core::abi::ErrorTable errors_ = core::infernet::make_error_table();
  std::unique_ptr<RpcClient> rpc_;
  std::unique_ptr<InfernetClient> client_;
};

TEST_F(InfernetClientTest, ReadsRegistryInOneBatch) {
  const char* getters[] = {"COORDINATOR()", "INBOX()", "READER()", "FEE()", "WALLET_FACTORY()"};
  for (int i = 0; i < 5; ++i) {
    chain_.on(getters[i],
              encode("(address)", {AbiValue::address(address_of(static_cast<char>('1' + i)))}));
  }
  const InfernetAddresses addresses = testing::run(io_, client_->read_registry(address_of('9')));
  EXPECT_EQ(addresses.coordinator, address_of('1'));
  EXPECT_EQ(addresses.inbox, address_of('2'));
  EXPECT_EQ(addresses.reader, address_of('3'));
  EXPECT_EQ(addresses.fee, address_of('4'));
  EXPECT_EQ(addresses.wallet_factory, address_of('5'));
  EXPECT_EQ(
      metrics_.counter("inferd_rpc_attempts_total", "", {{"method", "batch"}, {"outcome", "ok"}})
          .value(),
      1u);
}

TEST_F(InfernetClientTest, CoordinatorViews) {
  core::Subscription subscription;
  subscription.owner = address_of('1');
  subscription.active_at = 1700000000;
  subscription.period = 60;
  subscription.frequency = 10;
  subscription.redundancy = 2;
  subscription.container_id = core::infernet::container_set_id({"container"});
  chain_.on("id()", encode("(uint32)", {AbiValue::uint(42)}));
  chain_.on("getSubscription(uint32)",
            encode(std::string("(") + core::infernet::kSubscriptionTuple + ")",
                   {core::infernet::to_abi(subscription)}));
  chain_.on("redundancyCount(bytes32)", encode("(uint16)", {AbiValue::uint(1)}));
  chain_.on("nodeResponded(bytes32)", encode("(bool)", {AbiValue::boolean(true)}));

  const core::Address coordinator = address_of('c');
  EXPECT_EQ(testing::run(io_, client_->next_subscription_id(coordinator)), 42u);
  const core::Subscription read = testing::run(io_, client_->get_subscription(coordinator, 7));
  EXPECT_EQ(read.owner, subscription.owner);
  EXPECT_EQ(read.container_id, subscription.container_id);
  EXPECT_EQ(chain_.last_data(), "0xa17b920b" + std::string(63, '0') + "7");

  EXPECT_EQ(testing::run(io_, client_->redundancy_count(coordinator, 7, 2)), 1u);
  EXPECT_EQ(chain_.last_data(),
            "0xbc85694f" + core::to_hex(core::infernet::redundancy_key(7, 2).view(),
                                        core::HexPrefix::kWithout));
  EXPECT_TRUE(testing::run(io_, client_->node_responded(coordinator, 7, 2, address_of('1'))));
}

TEST_F(InfernetClientTest, ReaderBatches) {
  core::Subscription first;
  first.owner = address_of('1');
  core::Subscription second;
  second.owner = address_of('2');
  second.active_at = core::infernet::kCancelledActiveAt;
  chain_.on(
      "readSubscriptionBatch(uint32,uint32)",
      encode(std::string("(") + core::infernet::kSubscriptionTuple + "[])",
             {AbiValue::list({core::infernet::to_abi(first), core::infernet::to_abi(second)})}));
  chain_.on("readRedundancyCountBatch(uint32[],uint32[])",
            encode("(uint16[])", {AbiValue::list({AbiValue::uint(0), AbiValue::uint(3)})}));

  const auto batch = testing::run(io_, client_->read_subscription_batch(address_of('d'), 1, 3));
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[1].active_at, core::infernet::kCancelledActiveAt);

  const auto counts =
      testing::run(io_, client_->read_redundancy_count_batch(address_of('d'), {1, 2}, {1, 1}));
  EXPECT_EQ(counts, (std::vector<std::uint16_t>{0, 3}));
}

TEST_F(InfernetClientTest, ConsumerAndWalletReads) {
  chain_.on("getContainerInputs(uint32,uint32,uint32,address)",
            encode("(bytes)", {AbiValue::bytes({0xde, 0xad})}));
  chain_.on("getSigner()", encode("(address)", {AbiValue::address(address_of('5'))}));
  chain_.on("isValidWallet(address)", encode("(bool)", {AbiValue::boolean(true)}));
  chain_.on("allowance(address,address)", encode("(uint256)", {AbiValue::uint(500)}));
  chain_.on("balanceOf(address)", encode("(uint256)", {AbiValue::uint(900)}));

  EXPECT_EQ(
      testing::run(io_, client_->get_container_inputs(address_of('1'), 1, 2, 3, address_of('2'))),
      (core::Bytes{0xde, 0xad}));
  EXPECT_EQ(testing::run(io_, client_->get_signer(address_of('1'))), address_of('5'));
  EXPECT_TRUE(testing::run(io_, client_->is_valid_wallet(address_of('f'), address_of('a'))));
  EXPECT_EQ(testing::run(
                io_, client_->wallet_allowance(address_of('a'), address_of('1'), core::Address())),
            core::U256(500));
  EXPECT_EQ(testing::run(io_, client_->erc20_balance(address_of('e'), address_of('1'))),
            core::U256(900));
}

TEST_F(InfernetClientTest, RevertIsNamedAndEmptyReturnIsExplained) {
  chain_.revert("delegateCreatedIds(bytes32)",
                core::from_hex("0x10c74b03").value());  // SignerMismatch()
  try {
    testing::run(io_, client_->delegate_created_id(address_of('c'), address_of('1'), 0));
    FAIL() << "expected ContractRevert";
  } catch (const ContractRevert& error) {
    ASSERT_TRUE(error.error);
    EXPECT_EQ(*error.error, core::infernet::InfernetError::kSignerMismatch);
    EXPECT_NE(std::string(error.what()).find("SignerMismatch"), std::string::npos) << error.what();
  }

  // No canned answer: "0x", as from an address without code.
  try {
    testing::run(io_, client_->get_signer(address_of('0')));
    FAIL() << "expected ContractDecodeError";
  } catch (const ContractDecodeError& error) {
    EXPECT_NE(std::string(error.what()).find("does the address hold that contract?"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace inferd::chain

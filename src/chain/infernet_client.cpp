#include "chain/infernet_client.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "core/hex.hpp"

namespace inferd::chain {

namespace {

using core::abi::AbiValue;
using nlohmann::json;

AbiValue u32(std::uint32_t value) {
  return AbiValue::uint(core::U256(value));
}

std::uint64_t small_uint(const AbiValue& value) {
  return value.as_uint().low_u64();
}

bool mentions_revert(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find("revert") != std::string::npos;
}

core::Bytes decode_hex_result(const json& result, const std::string& what) {
  if (!result.is_string()) {
    throw ContractDecodeError(what + ": eth_call result is not a hex string");
  }
  auto bytes = core::from_hex(result.get<std::string>());
  if (!bytes) {
    throw ContractDecodeError(what + ": eth_call result is not hex: " + bytes.error().message);
  }
  return std::move(*bytes);
}

}  // namespace

Awaitable<core::Bytes> InfernetClient::call(core::Address to, core::Bytes data, BlockTag block) {
  const std::string what = "eth_call to " + to.to_checksum_hex();
  json params =
      json::array({json{{"to", to.to_checksum_hex()}, {"data", core::to_hex(data)}}, block});
  std::optional<RpcError> revert_error;
  try {
    const json result = co_await rpc_.call("eth_call", std::move(params));
    co_return decode_hex_result(result, what);
  } catch (const RpcError& error) {
    if (error.kind() != RpcErrorKind::kRpcError || !mentions_revert(error.rpc_message)) {
      throw;
    }
    revert_error = error;
  }

  core::Bytes revert_data;
  if (revert_error->rpc_data.is_string()) {
    auto parsed = core::from_hex(revert_error->rpc_data.get<std::string>());
    if (parsed) {
      revert_data = std::move(*parsed);
    }
  }
  core::abi::RevertReason reason = core::abi::decode_revert(revert_data, &errors_);
  const auto infernet_error = core::infernet::classify_revert(reason);
  const std::string message = what + " reverted: " + reason.describe();
  throw ContractRevert(message, std::move(reason), infernet_error);
}

Awaitable<AbiValue> InfernetClient::read(core::Address to, const char* signature,
                                         AbiValue::List args, const char* returns, BlockTag block) {
  auto data = core::abi::encode_call(signature, args);
  if (!data) {
    throw std::invalid_argument(std::string("encoding ") + signature + ": " + data.error().message);
  }
  const core::Bytes result = co_await call(to, std::move(*data), std::move(block));
  auto decoded = core::abi::decode(returns, result);
  if (!decoded) {
    throw ContractDecodeError(std::string(signature) + " on " + to.to_checksum_hex() +
                              " returned " + std::to_string(result.size()) +
                              " bytes that are not " + returns + ": " + decoded.error().message +
                              (result.empty() ? " (does the address hold that contract?)" : ""));
  }
  co_return std::move(*decoded);
}

Awaitable<InfernetAddresses> InfernetClient::read_registry(core::Address registry, BlockTag block) {
  // std::array rather than C arrays: g++ 12 cannot keep a C array in a coroutine frame.
  const std::array<std::string, 5> getters = {"COORDINATOR()", "INBOX()", "READER()", "FEE()",
                                              "WALLET_FACTORY()"};
  std::vector<RpcRequest> requests;
  for (const std::string& getter : getters) {
    const core::Selector selector = core::abi::selector_of(getter);
    requests.push_back({"eth_call", json::array({json{{"to", registry.to_checksum_hex()},
                                                      {"data", core::to_hex(selector.view())}},
                                                 block})});
  }
  const std::vector<RpcResponse> responses = co_await rpc_.batch(std::move(requests));

  std::array<core::Address, 5> addresses;
  for (std::size_t i = 0; i < 5; ++i) {
    const std::string what =
        std::string("Registry ") + getters[i] + " on " + registry.to_checksum_hex();
    if (!responses[i].ok()) {
      throw ContractDecodeError(what + " failed: " + responses[i].error_message);
    }
    const core::Bytes result = decode_hex_result(*responses[i].result, what);
    auto decoded = core::abi::decode("(address)", result);
    if (!decoded) {
      throw ContractDecodeError(
          what + " returned no address (is it a Registry?): " + decoded.error().message);
    }
    addresses[i] = (*decoded)[0].as_address();
  }
  co_return InfernetAddresses{addresses[0], addresses[1], addresses[2], addresses[3], addresses[4]};
}

Awaitable<std::uint32_t> InfernetClient::next_subscription_id(core::Address coordinator,
                                                              BlockTag block) {
  const AbiValue value = co_await read(coordinator, "id()", {}, "(uint32)", std::move(block));
  co_return static_cast<std::uint32_t>(small_uint(value[0]));
}

Awaitable<core::Subscription> InfernetClient::get_subscription(core::Address coordinator,
                                                               std::uint32_t id, BlockTag block) {
  const std::string returns = std::string("(") + core::infernet::kSubscriptionTuple + ")";
  AbiValue::List args{u32(id)};
  const AbiValue value = co_await read(coordinator, "getSubscription(uint32)", std::move(args),
                                       returns.c_str(), std::move(block));
  auto subscription = core::infernet::subscription_from_abi(value[0]);
  if (!subscription) {
    throw ContractDecodeError("getSubscription(" + std::to_string(id) +
                              "): " + subscription.error().message);
  }
  co_return *subscription;
}

Awaitable<std::uint16_t> InfernetClient::redundancy_count(core::Address coordinator,
                                                          std::uint32_t id, std::uint32_t interval,
                                                          BlockTag block) {
  const core::Bytes32 key = core::infernet::redundancy_key(id, interval);
  AbiValue::List args{AbiValue::fixed_bytes(key)};
  const AbiValue value = co_await read(coordinator, "redundancyCount(bytes32)", std::move(args),
                                       "(uint16)", std::move(block));
  co_return static_cast<std::uint16_t>(small_uint(value[0]));
}

Awaitable<bool> InfernetClient::node_responded(core::Address coordinator, std::uint32_t id,
                                               std::uint32_t interval, core::Address node,
                                               BlockTag block) {
  const core::Bytes32 key = core::infernet::node_responded_key(id, interval, node);
  AbiValue::List args{AbiValue::fixed_bytes(key)};
  const AbiValue value = co_await read(coordinator, "nodeResponded(bytes32)", std::move(args),
                                       "(bool)", std::move(block));
  co_return value[0].as_bool();
}

Awaitable<std::uint32_t> InfernetClient::delegate_created_id(core::Address coordinator,
                                                             core::Address owner,
                                                             std::uint32_t nonce, BlockTag block) {
  const core::Bytes32 key = core::infernet::delegate_key(owner, nonce);
  AbiValue::List args{AbiValue::fixed_bytes(key)};
  const AbiValue value = co_await read(coordinator, "delegateCreatedIds(bytes32)", std::move(args),
                                       "(uint32)", std::move(block));
  co_return static_cast<std::uint32_t>(small_uint(value[0]));
}

Awaitable<std::vector<core::Subscription>> InfernetClient::read_subscription_batch(
    core::Address reader, std::uint32_t start, std::uint32_t end, BlockTag block) {
  auto data =
      core::abi::encode_call("readSubscriptionBatch(uint32,uint32)", {u32(start), u32(end)});
  const core::Bytes result = co_await call(reader, std::move(data.value()), std::move(block));
  auto batch = core::infernet::decode_subscription_batch(result);
  if (!batch) {
    throw ContractDecodeError("readSubscriptionBatch(" + std::to_string(start) + ", " +
                              std::to_string(end) + ") on " + reader.to_checksum_hex() + ": " +
                              batch.error().message);
  }
  co_return std::move(*batch);
}

Awaitable<std::vector<std::uint16_t>> InfernetClient::read_redundancy_count_batch(
    core::Address reader, std::vector<std::uint32_t> ids, std::vector<std::uint32_t> intervals,
    BlockTag block) {
  AbiValue::List id_values;
  AbiValue::List interval_values;
  for (std::uint32_t id : ids) {
    id_values.push_back(u32(id));
  }
  for (std::uint32_t interval : intervals) {
    interval_values.push_back(u32(interval));
  }
  auto data = core::abi::encode_call(
      "readRedundancyCountBatch(uint32[],uint32[])",
      {AbiValue::list(std::move(id_values)), AbiValue::list(std::move(interval_values))});
  const core::Bytes result = co_await call(reader, std::move(data.value()), std::move(block));
  auto counts = core::infernet::decode_redundancy_counts(result);
  if (!counts) {
    throw ContractDecodeError("readRedundancyCountBatch on " + reader.to_checksum_hex() + ": " +
                              counts.error().message);
  }
  co_return std::move(*counts);
}

Awaitable<core::Bytes> InfernetClient::get_container_inputs(core::Address consumer,
                                                            std::uint32_t id,
                                                            std::uint32_t interval,
                                                            std::uint32_t timestamp,
                                                            core::Address node, BlockTag block) {
  AbiValue::List args{u32(id), u32(interval), u32(timestamp), AbiValue::address(node)};
  const AbiValue value = co_await read(consumer, "getContainerInputs(uint32,uint32,uint32,address)",
                                       std::move(args), "(bytes)", std::move(block));
  co_return value[0].as_bytes();
}

Awaitable<core::Address> InfernetClient::get_signer(core::Address consumer, BlockTag block) {
  const AbiValue value = co_await read(consumer, "getSigner()", {}, "(address)", std::move(block));
  co_return value[0].as_address();
}

Awaitable<bool> InfernetClient::is_valid_wallet(core::Address wallet_factory, core::Address wallet,
                                                BlockTag block) {
  AbiValue::List args{AbiValue::address(wallet)};
  const AbiValue value = co_await read(wallet_factory, "isValidWallet(address)", std::move(args),
                                       "(bool)", std::move(block));
  co_return value[0].as_bool();
}

Awaitable<core::U256> InfernetClient::wallet_allowance(core::Address wallet, core::Address spender,
                                                       core::Address token, BlockTag block) {
  AbiValue::List args{AbiValue::address(spender), AbiValue::address(token)};
  const AbiValue value = co_await read(wallet, "allowance(address,address)", std::move(args),
                                       "(uint256)", std::move(block));
  co_return value[0].as_uint();
}

Awaitable<core::U256> InfernetClient::erc20_balance(core::Address token, core::Address owner,
                                                    BlockTag block) {
  AbiValue::List args{AbiValue::address(owner)};
  const AbiValue value =
      co_await read(token, "balanceOf(address)", std::move(args), "(uint256)", std::move(block));
  co_return value[0].as_uint();
}

}  // namespace inferd::chain

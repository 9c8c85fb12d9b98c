// Read-only bindings of the Infernet SDK contracts the node calls: Registry getters, Coordinator
// and EIP712Coordinator views, Reader batch reads, consumer getContainerInputs and getSigner,
// WalletFactory isValidWallet, Wallet allowance and ERC-20 balanceOf. Each is one eth_call.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chain/rpc_client.hpp"
#include "core/infernet.hpp"

namespace inferd::chain {

/// The contract addresses a Registry publishes.
struct InfernetAddresses {
  core::Address coordinator;
  core::Address inbox;
  core::Address reader;
  core::Address fee;
  core::Address wallet_factory;
};

/// An eth_call that reverted. `reason` is the decoded revert data and `error` the Infernet error
/// it names, if any.
class ContractRevert : public std::runtime_error {
 public:
  ContractRevert(const std::string& message, core::abi::RevertReason reason,
                 std::optional<core::infernet::InfernetError> error)
      : std::runtime_error(message), reason(std::move(reason)), error(error) {}

  core::abi::RevertReason reason;
  std::optional<core::infernet::InfernetError> error;
};

/// Return data that does not decode as the function's declared return type; usually a wrong
/// contract address or an account without code.
class ContractDecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Block tag or number of a read: "latest", "pending" or a hex quantity.
using BlockTag = std::string;

/// Thread-safe as far as RpcClient is. Every method throws RpcError for transport failures,
/// ContractRevert when the call reverts and ContractDecodeError for malformed return data.
class InfernetClient {
 public:
  /// `rpc` and `errors` must outlive the client.
  InfernetClient(RpcClient& rpc, const core::abi::ErrorTable& errors)
      : rpc_(rpc), errors_(errors) {}

  /// eth_call of `data` to `to` at `block`; returns the return data.
  Awaitable<core::Bytes> call(core::Address to, core::Bytes data, BlockTag block = "latest");

  /// Registry: COORDINATOR(), INBOX(), READER(), FEE(), WALLET_FACTORY() in one batch.
  Awaitable<InfernetAddresses> read_registry(core::Address registry, BlockTag block = "latest");

  /// Coordinator.id(): the id the next subscription will get.
  Awaitable<std::uint32_t> next_subscription_id(core::Address coordinator,
                                                BlockTag block = "latest");
  Awaitable<core::Subscription> get_subscription(core::Address coordinator, std::uint32_t id,
                                                 BlockTag block = "latest");
  Awaitable<std::uint16_t> redundancy_count(core::Address coordinator, std::uint32_t id,
                                            std::uint32_t interval, BlockTag block = "latest");
  Awaitable<bool> node_responded(core::Address coordinator, std::uint32_t id,
                                 std::uint32_t interval, core::Address node,
                                 BlockTag block = "latest");
  /// EIP712Coordinator.delegateCreatedIds(keccak256(abi.encode(owner, nonce))); 0 when unused.
  Awaitable<std::uint32_t> delegate_created_id(core::Address coordinator, core::Address owner,
                                               std::uint32_t nonce, BlockTag block = "latest");

  /// Reader.readSubscriptionBatch(start, end): subscriptions [start, end).
  Awaitable<std::vector<core::Subscription>> read_subscription_batch(core::Address reader,
                                                                     std::uint32_t start,
                                                                     std::uint32_t end,
                                                                     BlockTag block = "latest");
  /// Reader.readRedundancyCountBatch(ids, intervals).
  Awaitable<std::vector<std::uint16_t>> read_redundancy_count_batch(
      core::Address reader, std::vector<std::uint32_t> ids, std::vector<std::uint32_t> intervals,
      BlockTag block = "latest");

  /// Consumer.getContainerInputs(id, interval, timestamp, node).
  Awaitable<core::Bytes> get_container_inputs(core::Address consumer, std::uint32_t id,
                                              std::uint32_t interval, std::uint32_t timestamp,
                                              core::Address node, BlockTag block = "latest");
  /// Delegator.getSigner().
  Awaitable<core::Address> get_signer(core::Address consumer, BlockTag block = "latest");

  Awaitable<bool> is_valid_wallet(core::Address wallet_factory, core::Address wallet,
                                  BlockTag block = "latest");
  /// Wallet.allowance(spender, token).
  Awaitable<core::U256> wallet_allowance(core::Address wallet, core::Address spender,
                                         core::Address token, BlockTag block = "latest");
  /// ERC-20 balanceOf(owner).
  Awaitable<core::U256> erc20_balance(core::Address token, core::Address owner,
                                      BlockTag block = "latest");

 private:
  // Calls `signature` on `to` and decodes the return data as `returns` (a parameter list). The
  // strings are C strings because g++ 12 rejects string literals converted to std::string inside
  // a co_await expression; both must outlive the call.
  Awaitable<core::abi::AbiValue> read(core::Address to, const char* signature,
                                      core::abi::AbiValue::List args, const char* returns,
                                      BlockTag block);

  RpcClient& rpc_;
  const core::abi::ErrorTable& errors_;
};

}  // namespace inferd::chain

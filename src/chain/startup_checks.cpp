#include "chain/startup_checks.hpp"

#include <array>
#include <stdexcept>
#include <utility>

#include "core/u256.hpp"

namespace inferd::chain {
namespace {

using nlohmann::json;

constexpr const char* kChainId = "chain id";
constexpr const char* kRegistryCode = "registry code";
constexpr const char* kRegistryAddresses = "registry addresses";
constexpr const char* kPaymentAddress = "payment address";
constexpr const char* kNodeBalance = "node balance";
constexpr const char* kChainHead = "chain head";

// Named rather than written inline because g++ 12 rejects string literals inside co_await
// expressions ("array used as initializer").
constexpr const char* kLatest = "latest";
constexpr const char* kEthChainId = "eth_chainId";
constexpr const char* kEthGetCode = "eth_getCode";
constexpr const char* kEthGetBalance = "eth_getBalance";
constexpr const char* kEthGasPrice = "eth_gasPrice";
constexpr const char* kEthBlockNumber = "eth_blockNumber";

CheckResult ok(std::string name, std::string message) {
  return {std::move(name), CheckResult::kOk, std::move(message)};
}

CheckResult warning(std::string name, std::string message) {
  return {std::move(name), CheckResult::kWarning, std::move(message)};
}

CheckResult error(std::string name, std::string message) {
  return {std::move(name), CheckResult::kError, std::move(message)};
}

// Parses a JSON-RPC QUANTITY ("0x1a"); throws RpcError(kInvalidResponse) naming the method.
core::U256 parse_quantity(const json& result, const std::string& method) {
  if (result.is_string()) {
    auto value = core::U256::from_hex(result.get<std::string>());
    if (value && result.get<std::string>().rfind("0x", 0) == 0) {
      return *value;
    }
  }
  throw RpcError(RpcErrorKind::kInvalidResponse,
                 method + " returned " + result.dump() + ", which is not a hex quantity");
}

// Calls `method` and parses its QUANTITY result.
Awaitable<core::U256> call_quantity(RpcClient& rpc, std::string method, json params) {
  const json result = co_await rpc.call(method, std::move(params));
  co_return parse_quantity(result, method);
}

core::Address parse_config_address(const std::string& text, const char* key) {
  auto address = core::Address::from_hex(text);
  if (!address) {
    throw std::invalid_argument(std::string(key) +
                                " is not an address: " + address.error().message);
  }
  return *address;
}

// Runs one check; an RPC failure or an unreadable contract becomes an error result for `name`.
Awaitable<CheckResult> guarded(std::string name, Awaitable<CheckResult> check) {
  try {
    co_return co_await std::move(check);
  } catch (const RpcError& failure) {
    co_return error(name, failure.what());
  } catch (const ContractRevert& failure) {
    co_return error(name, failure.what());
  } catch (const ContractDecodeError& failure) {
    co_return error(name, failure.what());
  }
}

Awaitable<CheckResult> check_registry_code(core::Address registry, std::string chain_id,
                                           RpcClient& rpc) {
  json params = json::array({registry.to_checksum_hex(), kLatest});
  const json code = co_await rpc.call(kEthGetCode, std::move(params));
  if (!code.is_string()) {
    throw RpcError(RpcErrorKind::kInvalidResponse,
                   "eth_getCode returned " + code.dump() + ", which is not hex data");
  }
  const std::string text = code.get<std::string>();
  if (text.size() <= 2) {
    co_return error(kRegistryCode, "chain.registry_address " + registry.to_checksum_hex() +
                                       " has no contract code on chain " + chain_id +
                                       "; deploy the Infernet contracts to this chain, or correct "
                                       "chain.registry_address or chain.rpc_url");
  }
  co_return ok(kRegistryCode, "Registry " + registry.to_checksum_hex() + " has " +
                                  std::to_string((text.size() - 2) / 2) +
                                  " bytes of code on chain " + chain_id);
}

// Reads the Registry's getters into `read`, then checks them.
Awaitable<CheckResult> check_registry_addresses(core::Address registry, InfernetClient& infernet,
                                                std::optional<InfernetAddresses>& read) {
  read = co_await infernet.read_registry(registry);
  const InfernetAddresses addresses = *read;
  if (addresses.coordinator.is_zero()) {
    co_return error(kRegistryAddresses,
                    "Registry " + registry.to_checksum_hex() +
                        " returns the zero address as COORDINATOR(), so it is not a deployed "
                        "Infernet Registry; correct chain.registry_address");
  }
  // std::array rather than a C array: g++ 12 cannot keep a C array in a coroutine frame.
  const std::array<std::pair<const char*, core::Address>, 4> others = {
      {{"INBOX()", addresses.inbox},
       {"READER()", addresses.reader},
       {"FEE()", addresses.fee},
       {"WALLET_FACTORY()", addresses.wallet_factory}}};
  std::string zero_getters;
  for (const auto& [getter, address] : others) {
    if (address.is_zero()) {
      zero_getters += zero_getters.empty() ? getter : std::string(", ") + getter;
    }
  }
  const std::string listing = "coordinator " + addresses.coordinator.to_checksum_hex() +
                              ", inbox " + addresses.inbox.to_checksum_hex() + ", reader " +
                              addresses.reader.to_checksum_hex() + ", fee " +
                              addresses.fee.to_checksum_hex() + ", wallet factory " +
                              addresses.wallet_factory.to_checksum_hex();
  if (!zero_getters.empty()) {
    co_return warning(kRegistryAddresses, "Registry " + registry.to_checksum_hex() +
                                              " returns the zero address for " + zero_getters +
                                              ": " + listing);
  }
  co_return ok(kRegistryAddresses, listing);
}

Awaitable<CheckResult> check_payment_address(core::Address payment, core::Address wallet_factory,
                                             InfernetClient& infernet) {
  if (wallet_factory.is_zero()) {
    co_return error(kPaymentAddress, "chain.wallet.payment_address " + payment.to_checksum_hex() +
                                         " cannot be checked: the Registry's WALLET_FACTORY() is "
                                         "the zero address");
  }
  const bool valid = co_await infernet.is_valid_wallet(wallet_factory, payment);
  if (!valid) {
    co_return error(kPaymentAddress,
                    "chain.wallet.payment_address " + payment.to_checksum_hex() +
                        " is not a wallet of the WalletFactory " +
                        wallet_factory.to_checksum_hex() +
                        "; create one with WalletFactory.createWallet(owner) and set its address");
  }
  co_return ok(kPaymentAddress, payment.to_checksum_hex() + " is a wallet of the WalletFactory " +
                                    wallet_factory.to_checksum_hex());
}

Awaitable<CheckResult> check_node_balance(core::Address node, std::uint64_t max_gas_limit,
                                          std::uint32_t min_deliveries, RpcClient& rpc) {
  json params = json::array({node.to_checksum_hex(), kLatest});
  const core::U256 balance = co_await call_quantity(rpc, kEthGetBalance, std::move(params));
  // NOTE: eth_gasPrice is the node's suggestion at this block; fees at delivery time may differ.
  const core::U256 gas_price = co_await call_quantity(rpc, kEthGasPrice, json::array());
  const std::string balance_text =
      "node " + node.to_checksum_hex() + " holds " + balance.to_dec() + " wei";

  const std::optional<core::U256> per_delivery =
      core::checked_mul(core::U256(max_gas_limit), gas_price);
  if (!per_delivery || per_delivery->is_zero()) {
    co_return ok(kNodeBalance, balance_text + " at gas price " + gas_price.to_dec() + " wei");
  }
  const core::U256 deliveries = balance / *per_delivery;
  const std::string cost = " deliveries at max_gas_limit " + std::to_string(max_gas_limit) +
                           " and gas price " + gas_price.to_dec() + " wei";
  if (deliveries < core::U256(min_deliveries)) {
    co_return warning(kNodeBalance, balance_text + ", enough for " + deliveries.to_dec() + cost +
                                        ", fewer than chain.min_balance_deliveries (" +
                                        std::to_string(min_deliveries) +
                                        "); send ETH to the node's address");
  }
  co_return ok(kNodeBalance, balance_text + ", enough for " + deliveries.to_dec() + cost);
}

Awaitable<CheckResult> check_chain_head(std::uint32_t trail_head_blocks, RpcClient& rpc) {
  const core::U256 head = co_await call_quantity(rpc, kEthBlockNumber, json::array());
  if (head < core::U256(trail_head_blocks)) {
    co_return warning(kChainHead, "waiting for block " + std::to_string(trail_head_blocks) +
                                      ": the chain head is block " + head.to_dec() +
                                      " and subscriptions are read trail_head_blocks (" +
                                      std::to_string(trail_head_blocks) + ") behind the head");
  }
  co_return ok(kChainHead, "head block " + head.to_dec() + "; subscriptions are read at block " +
                               (head - core::U256(trail_head_blocks)).to_dec());
}

// Reads eth_chainId into `chain_id` and compares it with `expected`. Returns false when the RPC
// node could not be reached, which makes every later check pointless.
Awaitable<bool> check_chain_id(std::optional<std::uint64_t> expected, RpcClient& rpc,
                               std::vector<CheckResult>& results, std::string& chain_id) {
  core::U256 value;
  try {
    value = co_await call_quantity(rpc, kEthChainId, json::array());
  } catch (const RpcError& failure) {
    results.push_back(error(kChainId, std::string("cannot read the chain id: ") + failure.what() +
                                          "; check chain.rpc_url and that the RPC node runs"));
    co_return false;
  }
  chain_id = value.to_dec();

  if (expected && (!value.fits_u64() || value.low_u64() != *expected)) {
    results.push_back(
        error(kChainId, "the RPC node serves chain id " + chain_id + ", but chain.chain_id is " +
                            std::to_string(*expected) + "; point chain.rpc_url at chain " +
                            std::to_string(*expected) + " or correct chain.chain_id"));
  } else {
    results.push_back(
        ok(kChainId, "chain id " + chain_id + (expected ? " (matches chain.chain_id)" : "")));
  }
  co_return true;
}

}  // namespace

const char* to_string(CheckResult::Status status) {
  switch (status) {
    case CheckResult::kOk:
      return "ok";
    case CheckResult::kWarning:
      return "warning";
    case CheckResult::kError:
      return "error";
  }
  return "unknown";
}

bool has_error(const std::vector<CheckResult>& results) {
  for (const CheckResult& result : results) {
    if (result.status == CheckResult::kError) {
      return true;
    }
  }
  return false;
}

Awaitable<std::vector<CheckResult>> run_chain_checks(const infra::NodeConfig& config,
                                                     RpcClient& rpc, InfernetClient& infernet,
                                                     core::Address node_address) {
  co_return co_await run_chain_checks(config, rpc, infernet,
                                      std::optional<core::Address>(node_address));
}

Awaitable<std::vector<CheckResult>> run_chain_checks(const infra::NodeConfig& config,
                                                     RpcClient& rpc, InfernetClient& infernet,
                                                     std::optional<core::Address> node_address) {
  const infra::ChainConfig& chain = config.chain;
  if (!chain.enabled || !chain.registry_address || !chain.wallet) {
    throw std::invalid_argument(
        "the chain checks need chain.enabled with registry_address and wallet set");
  }
  const core::Address registry =
      parse_config_address(*chain.registry_address, "chain.registry_address");

  std::vector<CheckResult> results;
  std::string chain_id;
  if (!co_await check_chain_id(chain.chain_id, rpc, results, chain_id)) {
    co_return results;
  }

  results.push_back(co_await guarded(kRegistryCode, check_registry_code(registry, chain_id, rpc)));
  std::optional<InfernetAddresses> addresses;
  if (results.back().status == CheckResult::kOk) {
    results.push_back(co_await guarded(kRegistryAddresses,
                                       check_registry_addresses(registry, infernet, addresses)));
  }

  if (chain.wallet->payment_address) {
    const core::Address payment =
        parse_config_address(*chain.wallet->payment_address, "chain.wallet.payment_address");
    if (addresses) {
      results.push_back(co_await guarded(
          kPaymentAddress, check_payment_address(payment, addresses->wallet_factory, infernet)));
    } else {
      results.push_back(warning(kPaymentAddress, "chain.wallet.payment_address " +
                                                     payment.to_checksum_hex() +
                                                     " not checked: the Registry was not read"));
    }
  }

  if (node_address) {
    results.push_back(co_await guarded(
        kNodeBalance, check_node_balance(*node_address, chain.wallet->max_gas_limit,
                                         chain.min_balance_deliveries, rpc)));
  }
  results.push_back(co_await guarded(kChainHead, check_chain_head(chain.trail_head_blocks, rpc)));
  co_return results;
}

}  // namespace inferd::chain

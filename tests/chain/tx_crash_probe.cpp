// Test-only program: sends a 99 wei transfer from anvil's first account for one purpose through a
// TxManager with an SQLite journal, and prints the mined hash. With "crash" it kills itself with
// SIGKILL right after the signed transfer is journalled, before it is broadcast.
//
//   tx-crash-probe crash|resume RPC_URL JOURNAL_PATH PURPOSE
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "chain/rpc_client.hpp"
#include "chain/sqlite_tx_journal.hpp"
#include "chain/tx_manager.hpp"
#include "core/hex.hpp"
#include "core/infernet.hpp"

namespace {

using namespace inferd;

// anvil's first default account.
constexpr const char* kKey = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
constexpr const char* kRecipient = "0x3535353535353535353535353535353535353535";

Awaitable<chain::TxReceipt> start_and_send(chain::TxManager& manager, std::string purpose) {
  co_await manager.start();
  chain::TxRequest request;
  request.to = core::Address::from_hex(kRecipient).value();
  request.value = 99;
  request.purpose = std::move(purpose);
  co_return co_await manager.send(std::move(request));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5 || (std::string(argv[1]) != "crash" && std::string(argv[1]) != "resume")) {
    std::cerr << "usage: tx-crash-probe crash|resume RPC_URL JOURNAL_PATH PURPOSE\n";
    return 2;
  }
  const bool crash = std::string(argv[1]) == "crash";
  try {
    asio::io_context io;
    infra::HttpClient http(io.get_executor());
    infra::metrics::Registry metrics;
    chain::RpcClientOptions rpc_options;
    rpc_options.urls = {argv[2]};
    rpc_options.attempt_timeout = std::chrono::milliseconds(2000);
    rpc_options.initial_backoff = std::chrono::milliseconds(10);
    chain::RpcClient rpc(http, rpc_options, metrics);
    chain::SqliteTxJournal journal(argv[3]);

    core::Secp256k1Context context;
    const core::abi::ErrorTable errors = core::infernet::make_error_table();
    chain::TxManagerOptions options;
    options.chain_id = 31337;
    options.journal = &journal;
    options.poll_interval = std::chrono::milliseconds(50);
    options.receipt_timeout = std::chrono::milliseconds(30000);
    if (crash) {
      // The journal row is committed by now. Die before eth_sendRawTransaction, as a crash would.
      options.on_journaled = [](const chain::JournalEntry&) { ::raise(SIGKILL); };
    }
    chain::TxManager manager(rpc, context, core::PrivateKey::from_hex(context, kKey).value(),
                             options, errors);

    std::optional<chain::TxReceipt> receipt;
    std::exception_ptr error;
    asio::co_spawn(io, start_and_send(manager, argv[4]),
                   [&](std::exception_ptr e, chain::TxReceipt r) {
                     error = e;
                     if (!e) {
                       receipt = r;
                     }
                     io.stop();
                   });
    io.run();
    if (error) {
      std::rethrow_exception(error);
    }
    std::cout << "mined " << core::to_hex(receipt->hash.view()) << " nonce "
              << receipt->nonce.to_dec() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "tx-crash-probe: " << e.what() << "\n";
    return 1;
  }
}

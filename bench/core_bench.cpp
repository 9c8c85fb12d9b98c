// Throughput of the chain core: keccak-256, secp256k1 signing and recovery, transaction signing,
// and ABI encoding/decoding of the payloads the node exchanges with the Infernet contracts.
// Run from a Release build: build/release/bin/core_bench
#include <benchmark/benchmark.h>

#include "core/abi.hpp"
#include "core/keccak.hpp"
#include "core/secp256k1.hpp"
#include "core/transaction.hpp"

namespace {

using namespace inferd::core;

PrivateKey test_key(const Secp256k1Context& context) {
  // anvil's first default account; a public test key.
  return PrivateKey::from_hex(context,
                              "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
      .value();
}

void BM_Keccak256(benchmark::State& state) {
  const Bytes input(static_cast<std::size_t>(state.range(0)), 0x5a);
  for (auto _ : state) {
    benchmark::DoNotOptimize(keccak256(input));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Keccak256)->Arg(32)->Arg(1024);

void BM_SignHash(benchmark::State& state) {
  const Secp256k1Context context;
  const PrivateKey key = test_key(context);
  Bytes32 hash = keccak256("benchmark");
  for (auto _ : state) {
    benchmark::DoNotOptimize(sign_hash(context, key, hash));
    hash[0]++;
  }
}
BENCHMARK(BM_SignHash);

void BM_RecoverAddress(benchmark::State& state) {
  const Secp256k1Context context;
  const Bytes32 hash = keccak256("benchmark");
  const RecoverableSignature signature = sign_hash(context, test_key(context), hash);
  for (auto _ : state) {
    benchmark::DoNotOptimize(recover_address(context, hash, signature));
  }
}
BENCHMARK(BM_RecoverAddress);

// A deliverCompute transaction with 1 KiB of output, signed as EIP-1559 (hash, sign, encode).
void BM_SignDeliverComputeTransaction(benchmark::State& state) {
  const Secp256k1Context context;
  const PrivateKey key = test_key(context);
  Eip1559Transaction tx;
  tx.chain_id = 31337;
  tx.max_fee_per_gas = U256(2000000000ULL);
  tx.max_priority_fee_per_gas = U256(1000000000ULL);
  tx.gas_limit = 500000;
  tx.to = Address::from_hex("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512").value();
  tx.data =
      abi::encode_call("deliverCompute(uint32,uint32,bytes,bytes,bytes,address)",
                       {abi::AbiValue::uint(1), abi::AbiValue::uint(1),
                        abi::AbiValue::bytes(Bytes(64, 1)), abi::AbiValue::bytes(Bytes(1024, 2)),
                        abi::AbiValue::bytes({}), abi::AbiValue::address(Address())})
          .value();
  std::uint64_t nonce = 0;
  for (auto _ : state) {
    tx.nonce = nonce++;
    benchmark::DoNotOptimize(sign_transaction(context, key, tx));
  }
}
BENCHMARK(BM_SignDeliverComputeTransaction);

// abi.encode(string, string): the output shape of an off-chain job delivered on-chain.
void BM_AbiEncodeStringPair(benchmark::State& state) {
  const abi::AbiType type = abi::AbiType::parse("(string,string)").value();
  const abi::AbiValue value = abi::AbiValue::list(
      {abi::AbiValue::string(std::string(100, 'a')), abi::AbiValue::string(std::string(900, 'b'))});
  for (auto _ : state) {
    benchmark::DoNotOptimize(abi::encode(type, value));
  }
}
BENCHMARK(BM_AbiEncodeStringPair);

void BM_AbiDecodeStringPair(benchmark::State& state) {
  const abi::AbiType type = abi::AbiType::parse("(string,string)").value();
  const Bytes data =
      abi::encode(type, abi::AbiValue::list({abi::AbiValue::string(std::string(100, 'a')),
                                             abi::AbiValue::string(std::string(900, 'b'))}))
          .value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(abi::decode(type, data));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_AbiDecodeStringPair);

// Reader.readSubscriptionBatch return data: N static 11-word Subscription tuples.
void BM_AbiDecodeSubscriptionBatch(benchmark::State& state) {
  const abi::AbiType type =
      abi::AbiType::parse(
          "((address,uint32,uint32,uint32,uint16,bytes32,bool,address,uint256,address,address)[])")
          .value();
  abi::AbiValue::List subscriptions;
  for (std::int64_t i = 0; i < state.range(0); ++i) {
    subscriptions.push_back(abi::AbiValue::list(
        {abi::AbiValue::address(Address()), abi::AbiValue::uint(U256(1700000000)),
         abi::AbiValue::uint(60), abi::AbiValue::uint(10), abi::AbiValue::uint(2),
         abi::AbiValue::bytes(Bytes(32, 7)), abi::AbiValue::boolean(false),
         abi::AbiValue::address(Address()), abi::AbiValue::uint(0),
         abi::AbiValue::address(Address()), abi::AbiValue::address(Address())}));
  }
  const Bytes data =
      abi::encode(type, abi::AbiValue::list({abi::AbiValue::list(std::move(subscriptions))}))
          .value();
  for (auto _ : state) {
    benchmark::DoNotOptimize(abi::decode(type, data));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AbiDecodeSubscriptionBatch)->Arg(500);

}  // namespace

BENCHMARK_MAIN();

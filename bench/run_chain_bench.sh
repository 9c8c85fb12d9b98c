#!/usr/bin/env bash
# Measures the chain pipeline on anvil: snapshot-sync time for N subscriptions (default 10,000)
# and the time from the node seeing the block that makes an interval due to its delivery
# transaction being broadcast, with 1, 100 and 1,000 subscriptions due at once.
# Usage: bench/run_chain_bench.sh [build dir]   (default build/release). N=... overrides the
# sync count. Needs scripts/install-deps.sh (anvil, cast, forge in contracts/node_modules).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
count=${N:-10000}
cmake --build "$build" --target inferd hello-service >/dev/null
bin="$build/bin"
tools="$root/contracts/node_modules/.bin"
py=/usr/bin/python3

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
anvil_port=$(free_port)
rpc="http://127.0.0.1:$anvil_port"
"$tools/anvil" --port "$anvil_port" --gas-limit 3000000000 --silent >"$work/anvil.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do "$tools/cast" block-number --rpc-url "$rpc" >/dev/null 2>&1 && break; sleep 0.1; done

# anvil's default accounts: #1 is the node, #2 deploys, #3 and #4 create subscriptions.
deployer_key=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
node_key=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
sender=0x90F79bf6EB2c4f870365E785982E1f101E93b906
second_sender=0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65  # #4, for the due subscriptions
"$root/contracts/scripts/deploy.sh" --rpc-url "$rpc" --private-key "$deployer_key" \
  --fee-recipient 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC --fee 0 \
  --out "$work/deploy.json" >"$work/deploy.log" 2>&1
registry=$(jq -r .registry "$work/deploy.json")
coordinator=$(jq -r .coordinator "$work/deploy.json")
consumer=$(jq -r .subscriptionConsumer "$work/deploy.json")
zero=0x0000000000000000000000000000000000000000
signature="createSubscription(string,uint32,uint32,uint16,bool,address,uint256,address,address)"

# Subscriptions that are not due for a day: the sync alone is measured.
later=$("$tools/cast" calldata "$signature" hello 1 86400 1 false $zero 0 $zero $zero)
read -r first last < <($py "$root/bench/chain_bench.py" create "$rpc" $sender "$consumer" "$later" "$count" "$coordinator")

service_port=$(free_port)
node_port=$(free_port)
"$bin/hello-service" --port "$service_port" --bind-address 127.0.0.1 >"$work/hello.log" 2>&1 &
pids+=($!)
cat >"$work/config.json" <<JSON
{
  "manage_containers": false,
  "log": {"path": "$work/inferd.log"},
  "server": {"port": $node_port},
  "store": {"data_dir": "$work/data"},
  "chain": {
    "enabled": true,
    "rpc_url": "$rpc",
    "trail_head_blocks": 0,
    "registry_address": "$registry",
    "wallet": {"private_key": "$node_key"},
    "snapshot_sync": {"sleep": 0, "batch_size": 500, "sync_period": 0.1}
  },
  "containers": [{"id": "hello", "url": "http://127.0.0.1:$service_port", "max_concurrency": 256}]
}
JSON
"$bin/inferd" run --config "$work/config.json" >"$work/inferd.out" 2>&1 &
pids+=($!)
sync_seconds=$($py "$root/bench/chain_bench.py" wait-synced "http://127.0.0.1:$node_port" "$last")
echo "snapshot sync of $count subscriptions: $sync_seconds s" >&2

# Blocks every second from now on, as on a live chain; intervals open 20 s after creation.
"$tools/cast" rpc --rpc-url "$rpc" evm_setIntervalMining 1 >/dev/null
soon=$("$tools/cast" calldata "$signature" hello 1 20 1 false $zero 0 $zero $zero)
rows=()
for due in 1 100 1000; do
  $py "$root/bench/chain_bench.py" snapshot "http://127.0.0.1:$node_port" "$work/before.json"
  $py "$root/bench/chain_bench.py" create "$rpc" $second_sender "$consumer" "$soon" "$due" "$coordinator" >/dev/null
  read -r n mean p50 p95 < <($py "$root/bench/chain_bench.py" deliveries "http://127.0.0.1:$node_port" "$work/before.json" "$due")
  rows+=("| $due | $n | $mean | <= $p50 | <= $p95 |")
  echo "due $due: $n broadcast, mean $mean s" >&2
done

echo "## Chain pipeline ($(date -u +%Y-%m-%d), $(nproc) vCPU $(lscpu | sed -n 's/^Model name: *//p'))"
echo
echo "Snapshot sync of $count subscriptions (batch_size 500, sleep 0, one owner contract):"
echo "$sync_seconds s from node start to the last id synced."
echo
echo "| due at once | broadcast | mean s | p50 s (bucket) | p95 s (bucket) |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"

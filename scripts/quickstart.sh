#!/usr/bin/env bash
# The first run. It installs what is missing and builds inferd and the hello image. It then starts
# a local chain (anvil), deploys the Infernet contracts and the hello consumer, and starts a node
# on loopback that runs hello as a managed container (Podman through the Docker Engine API) and
# serves the chain. It submits one off-chain job and makes one on-chain request, prints both
# results, and keeps everything running until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target inferd hello-service

# Podman's Docker-compatible API service (started once, reused afterwards) and the hello image,
# built offline FROM scratch.
DOCKER_HOST=${DOCKER_HOST:-$(bash scripts/podman.sh)}
export DOCKER_HOST
bash scripts/build-images.sh --build-dir "$root/build/release" hello

bin="$root/build/release/bin"
tools="$root/contracts/node_modules/.bin"
work="$root/data/quickstart"
# A fresh chain each run, so the node's chain state starts fresh too.
rm -rf "$work"
mkdir -p "$work"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; echo "quickstart: stopping"; exit 0' INT TERM

# anvil's default accounts: #1 is the node, #2 deploys the contracts, #3 is the dApp user.
deployer_key=0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a
node_key=0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d
user_key=0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6
anvil_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rpc="http://127.0.0.1:$anvil_port"
"$tools/anvil" --host 127.0.0.1 --port "$anvil_port" --silent >"$work/anvil.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do "$tools/cast" block-number --rpc-url "$rpc" >/dev/null 2>&1 && break; sleep 0.1; done
echo "quickstart: deploying the Infernet contracts to anvil at $rpc (the first run compiles them; this takes a few minutes)"
"$root/contracts/scripts/deploy.sh" --rpc-url "$rpc" --private-key "$deployer_key" \
  --fee-recipient 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC --fee 0 \
  --out "$work/deploy.json" >"$work/deploy.log" 2>&1 ||
  { echo "quickstart: deploying the contracts failed; see $work/deploy.log" >&2; exit 1; }
registry=$(jq -r .registry "$work/deploy.json")
hello_consumer=$(jq -r .helloConsumer "$work/deploy.json")
# A block every second from now on, as on a live chain.
"$tools/cast" rpc --rpc-url "$rpc" evm_setIntervalMining 1 >/dev/null

# The hello config with the chain enabled. HelloConsumer requests container "hello-world".
config="$work/config.json"
jq --arg rpc "$rpc" --arg registry "$registry" --arg key "$node_key" --arg data "$work" '
  .store.data_dir = $data | .log.path = ($data + "/inferd.log") |
  .containers[0].id = "hello-world" |
  .chain = {enabled: true, rpc_url: $rpc, registry_address: $registry, trail_head_blocks: 0,
            wallet: {private_key: $key}, snapshot_sync: {sleep: 0, sync_period: 0.5}}' \
  "$root/deploy/config.hello.json" >"$config"

# The node logs to this terminal and to data/quickstart/inferd.log.
"$bin/inferd" run --config "$config" &
pids+=($!)

for _ in $(seq 1 300); do
  if curl -fsS http://127.0.0.1:4000/info >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS http://127.0.0.1:4000/info >/dev/null || { echo "quickstart: the node did not start; see $work/inferd.log" >&2; exit 1; }

echo
echo "quickstart: submitting an off-chain job to the hello container (the node waits until it is ready)"
"$bin/inferd" job submit --url http://127.0.0.1:4000 --containers hello-world --data '{"input": "hello from the quickstart"}' --wait

echo
echo "quickstart: asking HelloConsumer $hello_consumer on-chain: sayHello(\"quickstart\")"
"$tools/cast" send --rpc-url "$rpc" --private-key "$user_key" "$hello_consumer" 'sayHello(string)' quickstart >/dev/null
output=0x
for _ in $(seq 1 120); do
  output=$("$tools/cast" call --rpc-url "$rpc" "$hello_consumer" 'lastOutput()(bytes)')
  [ "$output" != 0x ] && break
  sleep 0.5
done
if [ "$output" = 0x ]; then
  echo "quickstart: no on-chain delivery within 60 s; see $work/inferd.log" >&2
  exit 1
fi
echo "quickstart: the node delivered on-chain; HelloConsumer.lastOutput() decodes to:"
"$tools/cast" abi-decode 'f()(string)' "$output"
curl -fsS http://127.0.0.1:4000/api/subscriptions/1
echo
echo
echo "quickstart: the node serves on http://127.0.0.1:4000 and anvil on $rpc (Ctrl-C stops both). Try:"
echo "  curl -s -X POST http://127.0.0.1:4000/api/jobs -H 'Content-Type: application/json' -d '{\"containers\":[\"hello-world\"],\"data\":{\"input\":\"hi\"}}'"
echo "  $tools/cast send --rpc-url $rpc --private-key $user_key $hello_consumer 'sayHello(string)' you"
wait

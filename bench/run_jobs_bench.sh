#!/usr/bin/env bash
# Measures off-chain job throughput and latency through inferd and directly to echo, in one run.
# Usage: bench/run_jobs_bench.sh [build dir]   (default build/release; configure it with
# `cmake --preset release`). Prints a Markdown table and the machine it ran on.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
cmake --build "$build" --target inferd echo-service jobs_bench >/dev/null
bin="$build/bin"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
echo_port=$(free_port)
node_port=$(free_port)

"$bin/echo-service" --port "$echo_port" --bind-address 127.0.0.1 >"$work/echo.log" 2>&1 &
pids+=($!)
cat >"$work/config.json" <<JSON
{
  "manage_containers": false,
  "forward_stats": false,
  "log": {"path": "$work/inferd.log"},
  "server": {"port": $node_port, "rate_limit": {"num_requests": 100000000, "period": 1}},
  "store": {"data_dir": "$work/data"},
  "containers": [{"id": "echo", "port": $echo_port, "max_concurrency": 256}]
}
JSON
"$bin/inferd" run --config "$work/config.json" >"$work/inferd.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$node_port/health" >/dev/null 2>&1 && break
  sleep 0.1
done

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)"
"$bin/jobs_bench" --node "http://127.0.0.1:$node_port" --service "http://127.0.0.1:$echo_port" \
  --clients "${CLIENTS:-1,16,64}" --duration "${DURATION:-5}" --warmup 1

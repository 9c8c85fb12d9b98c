#!/usr/bin/env bash
# Measures onnx-service and torch-service on the iris model of services/models/: the start-up
# time from exec to the "listening on" line (default model preloaded), then off-chain inference
# throughput and latency called directly and through inferd, in one run per service.
# Usage: bench/run_inference_bench.sh [build dir]   (default build/release; configure it with
# `cmake --preset release`). Environment: RUNS (start-ups per service, default 10), CLIENTS
# (default 1,16), DURATION (seconds per run, default 5). Prints Markdown tables.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
cmake --build "$build" --target inferd onnx-service torch-service jobs_bench >/dev/null
bin="$build/bin"
models="$root/services/models"

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Prints the milliseconds from exec to the "listening on" line of one start of service $1
# (onnx or torch) with its iris model preloaded, then stops it.
startup_ms() {
  local service=$1 prefix model
  if [ "$service" = onnx ]; then prefix=ONNX model=iris.onnx; else prefix=TORCH model=iris.pt; fi
  local started line
  started=$(date +%s%N)
  coproc SERVICE { env "${prefix}_CACHE_DIR=$models" "${prefix}_DEFAULT_MODEL_ID=$model" \
    "$bin/$service-service" --bind-address 127.0.0.1 --port 0 2>/dev/null; }
  local service_pid=$SERVICE_PID
  read -r line <&"${SERVICE[0]}"
  local finished
  finished=$(date +%s%N)
  kill -TERM "$service_pid" 2>/dev/null || true
  wait "$service_pid" 2>/dev/null || true
  case "$line" in listening*) ;; *) echo "startup_ms: $service-service did not start" >&2; return 1 ;; esac
  echo $(((finished - started) / 1000000))
}

echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), $(uname -r)," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| service | start-ups | min (ms) | median (ms) | max (ms) |"
echo "|---|---|---|---|---|"
for service in onnx torch; do
  times=()
  for _ in $(seq 1 "${RUNS:-10}"); do times+=("$(startup_ms "$service")"); done
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  count=${#times[@]}
  echo "| $service-service | $count | $(echo "$sorted" | head -n 1) |" \
    "$(echo "$sorted" | sed -n "$(((count + 1) / 2))p") | $(echo "$sorted" | tail -n 1) |"
done
echo

onnx_port=$(free_port)
torch_port=$(free_port)
node_port=$(free_port)
ONNX_CACHE_DIR="$models" ONNX_DEFAULT_MODEL_ID=iris.onnx \
  "$bin/onnx-service" --bind-address 127.0.0.1 --port "$onnx_port" >"$work/onnx.log" 2>&1 &
pids+=($!)
TORCH_CACHE_DIR="$models" TORCH_DEFAULT_MODEL_ID=iris.pt \
  "$bin/torch-service" --bind-address 127.0.0.1 --port "$torch_port" >"$work/torch.log" 2>&1 &
pids+=($!)
cat >"$work/config.json" <<JSON
{
  "manage_containers": false,
  "forward_stats": false,
  "log": {"path": "$work/inferd.log"},
  "server": {"port": $node_port, "rate_limit": {"num_requests": 100000000, "period": 1}},
  "store": {"data_dir": "$work/data"},
  "containers": [
    {"id": "onnx", "port": $onnx_port, "max_concurrency": 256},
    {"id": "torch", "port": $torch_port, "max_concurrency": 256}
  ]
}
JSON
"$bin/inferd" run --config "$work/config.json" >"$work/inferd.out" 2>&1 &
pids+=($!)
for port in "$node_port" "$onnx_port" "$torch_port"; do
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
    curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
done

# One iris flower: the versicolor case of services/models/iris_expected.json.
vector='{"dtype": 1, "shape": [1, 4], "values": [6.0, 2.8, 4.5, 1.4]}'
for service in onnx torch; do
  port=$onnx_port
  if [ "$service" = torch ]; then port=$torch_port; fi
  echo "$service-service, one iris flower per job:"
  "$bin/jobs_bench" --node "http://127.0.0.1:$node_port" --service "http://127.0.0.1:$port" \
    --container "$service" --data "{\"input\": $vector}" \
    --clients "${CLIENTS:-1,16}" --duration "${DURATION:-5}" --warmup 1
  echo
done

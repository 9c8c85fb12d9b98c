#!/usr/bin/env bash
# The first run: installs what is missing, builds inferd, starts the hello service and a node
# on loopback, submits one job, prints its result, and keeps the node serving until Ctrl-C.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target inferd hello-service

bin="$root/build/release/bin"
run_dir="$root/data/quickstart"
mkdir -p "$run_dir"
config="$root/deploy/config.hello.json"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; echo "quickstart: stopping"; exit 0' INT TERM

# The hello service listens where config.hello.json expects it (127.0.0.1:3000).
"$bin/hello-service" --port 3000 --bind-address 127.0.0.1 >"$run_dir/hello.log" 2>&1 &
pids+=($!)

(cd "$root" && "$bin/inferd" run --config "$config" 2>&1 | tee "$run_dir/inferd.out") &
pids+=($!)

for _ in $(seq 1 100); do
  if curl -fsS http://127.0.0.1:4000/health >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS http://127.0.0.1:4000/health >/dev/null || { echo "quickstart: the node did not start; see $run_dir/inferd.out" >&2; exit 1; }

echo
echo "quickstart: submitting a job to the hello container"
"$bin/inferd" job submit --url http://127.0.0.1:4000 --containers hello --data '{"input": "hello from the quickstart"}' --wait
echo
echo "quickstart: the node serves on http://127.0.0.1:4000 (Ctrl-C stops it). Try:"
echo "  curl -s -X POST http://127.0.0.1:4000/api/jobs -H 'Content-Type: application/json' -d '{\"containers\":[\"hello\"],\"data\":{\"input\":\"hi\"}}'"
wait

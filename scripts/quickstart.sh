#!/usr/bin/env bash
# The first run. It installs what is missing and builds inferd and the hello image. It then starts
# a node on loopback that runs hello as a managed container (Podman through the Docker Engine
# API), submits one job, prints its result, and keeps the node serving until Ctrl-C.
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
config="$root/deploy/config.hello.json"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; echo "quickstart: stopping"; exit 0' INT TERM

# The node logs to this terminal and to data/inferd.log.
"$bin/inferd" run --config "$config" &
pids+=($!)

for _ in $(seq 1 300); do
  if curl -fsS http://127.0.0.1:4000/info >/dev/null 2>&1; then break; fi
  sleep 0.1
done
curl -fsS http://127.0.0.1:4000/info >/dev/null || { echo "quickstart: the node did not start; see data/inferd.log" >&2; exit 1; }

echo
echo "quickstart: submitting a job to the hello container (the node waits until it is ready)"
"$bin/inferd" job submit --url http://127.0.0.1:4000 --containers hello --data '{"input": "hello from the quickstart"}' --wait
echo
echo "quickstart: the node serves on http://127.0.0.1:4000 (Ctrl-C stops it). Try:"
echo "  curl -s -X POST http://127.0.0.1:4000/api/jobs -H 'Content-Type: application/json' -d '{\"containers\":[\"hello\"],\"data\":{\"input\":\"hi\"}}'"
wait

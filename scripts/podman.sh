#!/usr/bin/env bash
# Starts Podman's Docker-compatible API service for inferd and prints the DOCKER_HOST to use.
#
# Usage: export DOCKER_HOST=$(scripts/podman.sh [data-dir])      (default data-dir: <repo>/data/podman)
#
# Installs podman, runc and curl when missing, writes a containers.conf that selects runc and clears the
# default ulimits (crun fails on these machines with "setrlimit RLIMIT_NOFILE: Operation not
# permitted"), then starts `podman system service` on <data-dir>/podman.sock unless a service
# already answers there. Safe to run more than once. Progress goes to stderr, so that stdout carries
# only the DOCKER_HOST value.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
data_dir=${1:-${INFERD_PODMAN_DIR:-$root/data/podman}}
mkdir -p "$data_dir"
data_dir=$(cd "$data_dir" && pwd)
socket="$data_dir/podman.sock"
conf="$data_dir/containers.conf"
log="$data_dir/podman-service.log"

say() { echo "podman.sh: $*" >&2; }

missing=()
for tool in podman runc curl; do
  if ! command -v "$tool" >/dev/null 2>&1; then missing+=("$tool"); fi
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

cat >"$conf.tmp" <<'EOF'
# Written by scripts/podman.sh. crun fails on these machines (setrlimit, hybrid cgroups); runc works.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
EOF
mv "$conf.tmp" "$conf"

ping_service() {
  curl --silent --fail --max-time 2 --unix-socket "$socket" http://podman/_ping >/dev/null 2>&1
}

if ping_service; then
  say "service already answers on $socket"
else
  rm -f "$socket"
  say "starting podman system service on $socket (log: $log)"
  # setsid detaches the service from this script's session, so it outlives the caller.
  CONTAINERS_CONF="$conf" setsid podman system service --time=0 "unix://$socket" \
    >>"$log" 2>&1 </dev/null &
  echo $! >"$data_dir/podman-service.pid"
  for _ in $(seq 1 100); do
    if ping_service; then break; fi
    sleep 0.1
  done
  if ! ping_service; then
    say "the service did not answer on $socket within 10 s; last lines of $log:"
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
fi

echo "unix://$socket"

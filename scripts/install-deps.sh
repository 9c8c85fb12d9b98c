#!/usr/bin/env bash
# Installs every Debian package and npm tool that building, testing and running inferd needs.
# Safe to run more than once: packages already present are skipped.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)

debian_packages=(
  build-essential cmake ninja-build g++ clang clang-format clang-tidy libclang-rt-14-dev
  libboost-dev libboost-system-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libsqlite3-dev sqlite3 libgtest-dev libgmock-dev libbenchmark-dev
  libssl-dev libsecp256k1-dev libcrypto++-dev libhiredis-dev redis-server
  podman runc busybox-static wrk hyperfine curl ca-certificates jq python3
  libopencv-dnn-dev libtorch-dev
)
# Node.js may already come from another source that bundles npm; Debian's npm conflicts with it.
if ! command -v npm >/dev/null 2>&1; then
  debian_packages+=(nodejs npm)
fi

missing=()
for package in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: Debian packages already installed"
fi

# npm tools (anvil, forge, cast, solc-js, solady) live in contracts/node_modules.
if [ -f "$root/contracts/package.json" ]; then
  if [ ! -d "$root/contracts/node_modules" ] || [ "$root/contracts/package.json" -nt "$root/contracts/node_modules" ]; then
    echo "install-deps: installing npm packages for contracts/"
    (cd "$root/contracts" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi)
    touch "$root/contracts/node_modules"
  else
    echo "install-deps: npm packages for contracts/ already installed"
  fi
fi

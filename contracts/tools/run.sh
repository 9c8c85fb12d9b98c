#!/usr/bin/env bash
# Runs one of the contracts' checks with the npm-installed foundry tools.
# Usage: tools/run.sh test|abi|deploy   (from anywhere; CTest calls it)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
export PATH="$here/node_modules/@foundry-rs/forge-linux-amd64/bin:$here/node_modules/@foundry-rs/anvil-linux-amd64/bin:$here/node_modules/@foundry-rs/cast-linux-amd64/bin:$PATH"
if ! command -v forge >/dev/null 2>&1; then
  echo "contracts: forge not found under node_modules; run scripts/install-deps.sh first" >&2
  exit 1
fi

case "${1:-}" in
  test)
    forge test
    # Gas against the reference's figures: only --isolate measures whole transactions.
    forge test --isolate --match-contract GasTest
    ;;
  abi)
    forge build
    node tools/check-abi.js
    ;;
  deploy)
    bash tools/deploy-check.sh
    ;;
  *)
    echo "usage: tools/run.sh test|abi|deploy" >&2
    exit 2
    ;;
esac

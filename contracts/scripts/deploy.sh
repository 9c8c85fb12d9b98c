#!/usr/bin/env bash
# Deploys the inferd contracts (core set in registry order, then the example and test
# contracts) to a chain and writes every address to a JSON file.
#
# Usage:
#   contracts/scripts/deploy.sh --rpc-url URL --private-key KEY --fee-recipient ADDR \
#       --fee BP --out FILE.json [--delegate-signer ADDR]
#
# The deployer (the key's address) must not send other transactions while this runs: the
# Registry is built with the predicted addresses of its next five deployments.
set -euo pipefail

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

rpc_url='' private_key='' fee_recipient='' fee_bp='' out_file='' delegate_signer=''
while (($#)); do
  case "$1" in
    --rpc-url) rpc_url=${2:-}; shift 2 ;;
    --private-key) private_key=${2:-}; shift 2 ;;
    --fee-recipient) fee_recipient=${2:-}; shift 2 ;;
    --fee) fee_bp=${2:-}; shift 2 ;;
    --out) out_file=${2:-}; shift 2 ;;
    --delegate-signer) delegate_signer=${2:-}; shift 2 ;;
    -h|--help) usage ;;
    *) echo "deploy.sh: unknown argument '$1'" >&2; usage ;;
  esac
done
for name in rpc_url private_key fee_recipient fee_bp out_file; do
  if [ -z "${!name}" ]; then
    echo "deploy.sh: missing --${name//_/-}" >&2
    usage
  fi
done
if ! [[ "$fee_bp" =~ ^[0-9]+$ ]] || ((fee_bp > 5000)); then
  echo "deploy.sh: --fee must be basis points between 0 and 5000, got '$fee_bp'" >&2
  exit 2
fi

# Relative to the caller's directory, not to contracts/ where forge runs.
out_file=$(realpath -m -- "$out_file")
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/node_modules/@foundry-rs"
export PATH="$bin/forge-linux-amd64/bin:$bin/cast-linux-amd64/bin:$PATH"
if ! command -v forge >/dev/null 2>&1; then
  echo "deploy.sh: forge not found under $bin; run scripts/install-deps.sh first" >&2
  exit 1
fi

if [ -z "$delegate_signer" ]; then
  delegate_signer=$(cast wallet address --private-key "$private_key")
fi

# forge may only write inside contracts/deployments (foundry.toml fs_permissions).
mkdir -p "$here/deployments"
tmp_out="$here/deployments/deploy-$$.json"
trap 'rm -f "$tmp_out"' EXIT

cd "$here"
PRIVATE_KEY="$private_key" FEE_RECIPIENT="$fee_recipient" FEE_BP="$fee_bp" \
  DELEGATE_SIGNER="$delegate_signer" OUT_FILE="$tmp_out" \
  forge script script/Deploy.s.sol:Deploy --rpc-url "$rpc_url" --broadcast --slow >&2

mkdir -p "$(dirname "$out_file")"
cp "$tmp_out" "$out_file"
echo "deploy.sh: wrote $out_file" >&2

#!/usr/bin/env bash
# Installs what is missing, builds inferd and runs every test suite: C++ unit and integration
# tests through CTest, and the contracts' forge tests.
# Usage: scripts/test.sh [preset]   (preset: debug (default), release, asan)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
preset=${1:-debug}
cd "$root"

bash scripts/install-deps.sh
bash scripts/check-format.sh

cmake --preset "$preset"
cmake --build --preset "$preset"
ctest --preset "$preset" --output-on-failure --no-tests=error -j2

#!/usr/bin/env bash
# Runs the leak-check program (tools/src/bin/leak-check.rs: successes and every failure kind)
# under valgrind and fails on any definitely or indirectly lost byte, or any memory error.
# Usage: scripts/valgrind-leaks.sh [CONNECTIONS]   (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-2000}"
cargo build --quiet -p sslbridge-tools --bin leak-check
bin="${CARGO_TARGET_DIR:-target}/debug/leak-check"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout 1800 valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=1 --log-file="$log" "$bin" "$count"
grep -E "definitely lost|indirectly lost|ERROR SUMMARY" "$log"

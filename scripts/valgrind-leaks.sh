#!/usr/bin/env bash
# Runs the leak-check program (successes and every failure kind) under valgrind and fails on
# any definitely or indirectly lost byte, or any memory error.
# Usage: scripts/valgrind-leaks.sh [CONNECTIONS]   (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-2000}"
cargo build --quiet --example leak-check
log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout 1800 valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect \
  --error-exitcode=1 --log-file="$log" target/debug/examples/leak-check "$count"
grep -E "definitely lost|indirectly lost|ERROR SUMMARY" "$log"

#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ with the instrumented OpenSSL (fuzz/.cargo/config.toml:
# openssl-src compiled by clang with SanitizerCoverage), checks that the recorded seeds replay
# exactly in that build, then runs each target for FUZZ_SECONDS (default 30) seconds from its
# committed corpus, seeds and crash regressions. New inputs go to a scratch directory, so the
# committed corpus does not grow; a crash fails the script and leaves its input in
# fuzz/artifacts/<target>/. Installs cargo-fuzz and clang if they are missing. Uses the
# nightly toolchain when there is one, else stable with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs
# -Z flags).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
# shellcheck source=scripts/fuzz-lib.sh
source ../scripts/fuzz-lib.sh

seconds="${FUZZ_SECONDS:-30}"
if [ "$seconds" -lt 30 ]; then
  echo "fuzz-ci: FUZZ_SECONDS must be at least 30" >&2
  exit 2
fi

ensure_cargo_fuzz
ensure_clang

targets=$("${fuzz[@]}" list)
echo "fuzz-ci: building $(echo "$targets" | wc -w) targets ($(echo $targets)) and OpenSSL $(openssl_build) for them"
start=$(date +%s)
"${fuzz[@]}" build
echo "fuzz-ci: built in $(($(date +%s) - start))s"

echo "fuzz-ci: the recorded seeds of $(openssl_build) must replay exactly in the fuzzers' build"
SSLBRIDGE_FUZZ_CHECK_SEEDS="$PWD/seeds" "${fuzz[@]}" run client_records \
  "seeds/client_records/$(openssl_build)" -- -runs=0 2>&1 | grep -E '^sslbridge-fuzz' || {
  echo "fuzz-ci: the seed check failed" >&2
  exit 1
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
  mkdir -p "$scratch/$target" "corpus/$target"
  mapfile -t extra < <(extra_input_dirs "$target")
  echo "fuzz-ci: running $target for ${seconds}s"
  log="$scratch/$target.log"
  status=0
  "${fuzz[@]}" run "$target" "$scratch/$target" "corpus/$target" "${extra[@]}" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E '^(INFO: seed corpus|#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "fuzz-ci: $target failed (exit $status); the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
echo "fuzz-ci: all targets ran ${seconds}s without a crash"

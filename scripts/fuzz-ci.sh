#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each one for FUZZ_SECONDS (default 30)
# seconds, starting from the committed seed corpus. New inputs go to a scratch directory, so
# the committed corpus does not grow; a crash fails the script and leaves its input in
# fuzz/artifacts/<target>/. Installs cargo-fuzz if it is missing. Uses the nightly toolchain
# when there is one, else stable with RUSTC_BOOTSTRAP=1 (cargo-fuzz needs -Z flags).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
if [ "$seconds" -lt 30 ]; then
  echo "fuzz-ci: FUZZ_SECONDS must be at least 30" >&2
  exit 2
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-ci: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi

targets=$("${fuzz[@]}" list)
echo "fuzz-ci: building $(echo "$targets" | wc -w) targets: $(echo $targets)"
"${fuzz[@]}" build

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in $targets; do
  mkdir -p "$scratch/$target" "fuzz/corpus/$target"
  echo "fuzz-ci: running $target for ${seconds}s"
  log="$scratch/$target.log"
  status=0
  "${fuzz[@]}" run "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$log" 2>&1 || status=$?
  grep -E '^(INFO: seed corpus|#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added)' "$log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "fuzz-ci: $target failed (exit $status); the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
done
echo "fuzz-ci: all targets ran ${seconds}s without a crash"

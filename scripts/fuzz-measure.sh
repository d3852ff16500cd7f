#!/usr/bin/env bash
# Measures each fuzz target the way the README's table does: SECONDS (default 60) of fuzzing
# from the committed corpus `fuzz/corpus/<target>/` alone, as `cargo +nightly fuzz run <target>`
# does (same binary, same ASAN_OPTIONS), niced, one target at a time. New inputs go to a
# scratch directory, so the corpus does not change. Prints libFuzzer's last `cov:` and `ft:`,
# the executions, libFuzzer's average exec/s (wall clock), the CPU seconds the fuzzer got and
# the executions per CPU second: on a machine shared with other builds, a niced fuzzer gets
# a fraction of a core and only the last figure compares runs. `cov at start` is libFuzzer's
# `cov:` once the corpus is loaded (INITED), which does not depend on the load.
#
#   scripts/fuzz-measure.sh [seconds] [target…]      (FUZZ_DIR=<dir> to measure another checkout;
#                                                     NICE=<n> instead of 19; FLAGS="<libFuzzer
#                                                     flags>" added to the command line)
set -euo pipefail
cd "${FUZZ_DIR:-$(dirname "$0")/../fuzz}"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
nice -n 19 cargo +nightly fuzz build >/dev/null 2>&1
bin=target/x86_64-unknown-linux-gnu/release
read -ra flags <<<"${FLAGS:-}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ), ${seconds}s per target, load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| target | cov at start | cov | ft | execs | exec/s (wall) | CPU s | exec per CPU s |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  log="$scratch/$t.log"
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0" \
    /usr/bin/time -f 'CPU %U %S' -o "$scratch/$t.time" \
    nice -n "${NICE:-19}" "$bin/$t" -artifact_prefix="$scratch/" "$scratch/$t" "corpus/$t" \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 "${flags[@]}" \
    >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "$t failed" >&2; }
  inited=$(grep -E '^#[0-9]+[[:space:]]+INITED' "$log" | sed -E 's/.* cov: ([0-9]+).*/\1/' || true)
  last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -n 1)
  cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$last")
  ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$last")
  execs=$(awk '/^stat::number_of_executed_units/ {print $2}' "$log")
  eps=$(awk '/^stat::average_exec_per_sec/ {print $2}' "$log")
  cpu=$(awk '/^CPU/ {printf "%.1f", $2 + $3}' "$scratch/$t.time")
  per_cpu=$(awk -v e="$execs" -v c="$cpu" 'BEGIN { printf "%d", (c > 0 ? e / c : 0) }')
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$t" "$inited" "$cov" "$ft" "$execs" "$eps" "$cpu" "$per_cpu"
  cp "$log" "/tmp/fuzz-measure-$t.log"
done

#!/usr/bin/env bash
# Measures each fuzz target the way the README's table does: SECONDS (default 60) of
# `cargo +nightly fuzz run <target>` from the committed corpus (new inputs go to a scratch
# directory, so the corpus is not changed), niced, one target at a time. Prints libFuzzer's
# last `cov:` and `ft:` figures and the average executions per second.
#
#   scripts/fuzz-measure.sh [seconds] [target…]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
printf '| target | cov | ft | exec/s | corpus files |\n| --- | ---: | ---: | ---: | ---: |\n'
for t in "${targets[@]}"; do
  mkdir -p "$scratch/$t"
  log="$scratch/$t.log"
  nice -n 19 cargo +nightly fuzz run "$t" "$scratch/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    >"$log" 2>&1 || { tail -n 40 "$log" >&2; echo "$t failed" >&2; }
  last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -n 1)
  cov=$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$last")
  ft=$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$last")
  eps=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
  n=$(ls "corpus/$t" | wc -l)
  printf '| %s | %s | %s | %s | %s |\n' "$t" "$cov" "$ft" "$eps" "$n"
  cp "$log" "/tmp/fuzz-measure-$t.log"
done

#!/usr/bin/env bash
# A fuzzing campaign measured in CPU time, for a machine shared with other work: runs one
# target, niced, from its corpus, seeds and regressions, until the fuzzer process has used
# CPU_MINUTES (default 30) minutes of CPU, then stops it (SIGINT: libFuzzer prints its final
# statistics). New inputs go to fuzz/target/campaign/<target>/ (merge them with
# scripts/fuzz-cmin.sh <target> target/campaign/<target>), crashes to fuzz/artifacts/<target>/.
# The log, with the CPU time, is fuzz/target/campaign/<target>.log.
#
#   scripts/fuzz-campaign.sh <target> [cpu-minutes]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
# shellcheck source=scripts/fuzz-lib.sh
source ../scripts/fuzz-lib.sh

target=${1:?usage: scripts/fuzz-campaign.sh <target> [cpu-minutes]}
limit=$((${2:-${CPU_MINUTES:-30}} * 60))
ensure_clang
nice -n 19 "${fuzz[@]}" build "$target" >/dev/null
bin=target/x86_64-unknown-linux-gnu/release/$target
out=target/campaign/$target
log=target/campaign/$target.log
mkdir -p "$out" "artifacts/$target" "corpus/$target"
mapfile -t extra < <(extra_input_dirs "$target")

ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0" \
  nice -n 19 "$bin" -artifact_prefix="artifacts/$target/" -timeout=20 -rss_limit_mb=4096 \
  -print_final_stats=1 "$out" "corpus/$target" "${extra[@]}" >"$log" 2>&1 &
pid=$!
ticks=$(getconf CLK_TCK)
cpu=0
started=$(date +%s)
while kill -0 "$pid" 2>/dev/null; do
  sleep 10
  # utime + stime: fields 14 and 15 of /proc/<pid>/stat (the name, field 2, has no spaces).
  if stat=$(cat "/proc/$pid/stat" 2>/dev/null); then
    cpu=$(awk -v t="$ticks" '{ print int(($14 + $15) / t) }' <<<"$stat")
  fi
  if [ "$cpu" -ge "$limit" ]; then
    kill -INT "$pid" 2>/dev/null || true
    break
  fi
done
status=0
wait "$pid" || status=$?
# libFuzzer exits with 72 (its -interrupt_exitcode) when SIGINT stops it: the normal end here.
if [ "$cpu" -ge "$limit" ] && [ "$status" -eq 72 ]; then
  status=0
fi
wall=$(($(date +%s) - started))
echo "campaign $target: ${cpu}s CPU in ${wall}s wall, exit $status" | tee -a "$log"
grep -E '^stat::|^#[0-9]+ +DONE' "$log" | tail -n 8 || true
if ls "artifacts/$target"/crash-* "artifacts/$target"/timeout-* "artifacts/$target"/leak-* \
  "artifacts/$target"/oom-* >/dev/null 2>&1; then
  echo "campaign $target: findings in fuzz/artifacts/$target/" >&2
fi
# Anything else is a finding (or an error) the log shows.
exit "$status"

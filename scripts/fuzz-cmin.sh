#!/usr/bin/env bash
# Minimises the committed corpora: `cargo fuzz cmin` of fuzz/corpus/<target>/ after adding the
# target's seeds, crash regressions and any directories given (a campaign's new inputs), so
# the corpus alone — what a plain `cargo fuzz run <target>` loads — covers everything they
# cover. Edges count, hit counts do not (`-use_counters=0`): every edge an input reaches
# stays covered, and the corpora stay small. The seeds and regressions themselves are never
# touched (cmin renames inputs by their hash). Prints the corpus sizes before and after.
#
#   scripts/fuzz-cmin.sh [target] [more input directories…]      (no target: every target)
set -euo pipefail
# Directories given are relative to where the script is called from.
args=()
for a in "$@"; do
  if [ -d "$a" ]; then args+=("$(realpath "$a")"); else args+=("$a"); fi
done
set -- "${args[@]}"
cd "$(dirname "$0")/../fuzz"
# shellcheck source=scripts/fuzz-lib.sh
source ../scripts/fuzz-lib.sh

if [ $# -eq 0 ]; then
  mapfile -t targets < <("${fuzz[@]}" list)
  more=()
else
  targets=("$1")
  shift
  more=("$@")
fi

size() { echo "$(find "$1" -type f | wc -l) files, $(du -sb "$1" | cut -f1) bytes"; }

for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  before=$(size "corpus/$target")
  mapfile -t extra < <(extra_input_dirs "$target")
  for dir in "${extra[@]}" "${more[@]}"; do
    # Named by content, as libFuzzer names them: a seed already in the corpus is not doubled.
    find "$dir" -maxdepth 1 -type f -print0 | while IFS= read -r -d '' f; do
      cp "$f" "corpus/$target/$(sha1sum "$f" | cut -d' ' -f1)"
    done
  done
  nice -n 19 "${fuzz[@]}" cmin "$target" "corpus/$target" -- -use_counters=0 -timeout=20 \
    -rss_limit_mb=4096 \
    >"/tmp/fuzz-cmin-$target.log" 2>&1 || {
    tail -n 30 "/tmp/fuzz-cmin-$target.log" >&2
    exit 1
  }
  echo "$target: $before -> $(size "corpus/$target")"
done

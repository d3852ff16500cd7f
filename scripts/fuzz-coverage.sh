#!/usr/bin/env bash
# Source-based coverage of sslbridge's own code (src/) reached by the committed inputs of every
# fuzz target: `cargo fuzz coverage` per target (corpus, seeds, regressions; no sanitizer),
# the profiles merged, and `llvm-cov` (rustup's llvm-tools component, which matches nightly's
# profile format) over all the target binaries. Prints a Markdown table per file of src/bio/
# and src/stream/, and the total over src/.
#
#   rustup component add --toolchain nightly llvm-tools
#   scripts/fuzz-coverage.sh [target…]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
# shellcheck source=scripts/fuzz-lib.sh
source ../scripts/fuzz-lib.sh

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <("${fuzz[@]}" list | grep -v '^protocol_template$')
fi
tools=$(rustc +nightly --print sysroot)/lib/rustlib/$(rustc +nightly -vV | sed -n 's/^host: //p')/bin
if [ ! -x "$tools/llvm-cov" ]; then
  echo "llvm-cov missing: rustup component add --toolchain nightly llvm-tools" >&2
  exit 2
fi
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
objects=()
profiles=()
for target in "${targets[@]}"; do
  mapfile -t extra < <(extra_input_dirs "$target")
  nice -n 19 "${fuzz[@]}" coverage -s none "$target" "corpus/$target" "${extra[@]}" \
    >"/tmp/fuzz-coverage-$target.log" 2>&1 || {
    tail -n 30 "/tmp/fuzz-coverage-$target.log" >&2
    exit 1
  }
  objects+=(-object "target/$triple/coverage/$triple/release/$target")
  profiles+=("coverage/$target/coverage.profdata")
done
"$tools/llvm-profdata" merge -sparse "${profiles[@]}" -o coverage/all.profdata
src=$(cd .. && pwd)/src/
"$tools/llvm-cov" export -summary-only -instr-profile=coverage/all.profdata "${objects[@]:1}" \
  >coverage/all.json
python3 - "$src" coverage/all.json <<'EOF'
import json, sys
src, path = sys.argv[1], sys.argv[2]
files = [f for d in json.load(open(path))["data"] for f in d["files"] if f["filename"].startswith(src)]
def pct(s):
    return f'{100.0 * s["covered"] / s["count"]:.1f} %' if s["count"] else "–"
def row(name, s):
    print(f'| {name} | {pct(s["lines"])} ({s["lines"]["covered"]}/{s["lines"]["count"]}) '
          f'| {pct(s["regions"])} | {pct(s["functions"])} |')
print("| file | lines | regions | functions |")
print("| --- | ---: | ---: | ---: |")
for f in sorted(files, key=lambda f: f["filename"]):
    name = f["filename"][len(src):]
    if name.startswith(("bio/", "stream/")):
        row(f"`src/{name}`", f["summary"])
total = {k: {"covered": sum(f["summary"][k]["covered"] for f in files),
             "count": sum(f["summary"][k]["count"] for f in files)}
         for k in ("lines", "regions", "functions")}
row("all of `src/`", total)
EOF

#!/usr/bin/env bash
# Fuzzes sslbridge with the instrumented OpenSSL (fuzz/.cargo/config.toml), from the project
# root. The build is cargo-fuzz's, in fuzz/target/; the first one compiles OpenSSL (minutes).
#
#   scripts/fuzz.sh <target> [seconds] [libFuzzer flags…]
#       `cargo +nightly fuzz run <target>` from fuzz/corpus/<target>, the target's seeds (the
#       recordings of the linked OpenSSL build) and its crash regressions; new inputs go to
#       fuzz/corpus/<target>/ (merge them with scripts/fuzz-cmin.sh), crashes to
#       fuzz/artifacts/<target>/. Without seconds, until Ctrl-C.
#   scripts/fuzz.sh list
#   scripts/fuzz.sh check-seeds
#       Checks that the recorded seeds replay exactly in the fuzzer's own build (every
#       handshake completes): run it after changing OpenSSL or the scenarios.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
# shellcheck source=scripts/fuzz-lib.sh
source ../scripts/fuzz-lib.sh

case "${1:-}" in
"" | -h | --help)
  sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
list)
  "${fuzz[@]}" list
  ;;
check-seeds)
  ensure_clang
  SSLBRIDGE_FUZZ_CHECK_SEEDS="$PWD/seeds" "${fuzz[@]}" run client_records \
    "seeds/client_records/$(openssl_build)" -- -runs=0
  ;;
*)
  ensure_clang
  target=$1
  shift
  flags=(-timeout=20 -rss_limit_mb=4096 -print_final_stats=1)
  if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
    flags+=(-max_total_time="$1")
    shift
  fi
  mkdir -p "corpus/$target"
  mapfile -t extra < <(extra_input_dirs "$target")
  exec "${fuzz[@]}" run "$target" "corpus/$target" "${extra[@]}" -- "${flags[@]}" "$@"
  ;;
esac

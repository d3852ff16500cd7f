#!/usr/bin/env bash
# Cross-builds the tests for Windows (x86_64-pc-windows-gnu, with the vendored OpenSSL built
# by mingw) and runs those that need no external peer under wine: the library's unit tests
# and the core, tls, faults and tokio binaries, skipping the tests that drive the `openssl`
# command-line tool (there is none inside wine). Not part of CI (it takes ~20 minutes on two
# cores, mostly building OpenSSL); the result is in the README's platform table.
#
# Debian 12's wine 8.0 lacks bcryptprimitives.dll, whose ProcessPrng Rust's standard library
# calls for randomness on Windows: a two-line stand-in (on RtlGenRandom) is built with mingw
# next to the test programs, for the run only.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v wine >/dev/null || need+=(wine64)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
rustup target add x86_64-pc-windows-gnu >/dev/null

target=x86_64-pc-windows-gnu
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
export AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
binaries=(core tls faults tokio)
args=(--features vendored,tokio --target "$target" --lib)
for b in "${binaries[@]}"; do args+=(--test "$b"); done
cargo test --no-run "${args[@]}"

deps="${CARGO_TARGET_DIR:-target}/$target/debug/deps"
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
cat >"$shim/prng.c" <<'C'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG chunk = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
        if (!SystemFunction036(data, chunk)) return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
C
x86_64-w64-mingw32-gcc -shared -O2 -o "$deps/bcryptprimitives.dll" "$shim/prng.c" -ladvapi32

export WINEDEBUG=-all
# The tests that need the `openssl` binary (s_server/s_client peers, certificate checks with
# `openssl x509`/`verify`, `openssl rehash`).
skip=(--skip openssl --skip s_server --skip s_client --skip testing::pki::tests
  --skip certificates::from_file --skip certificates::issuer_differs
  --skip certificates::valid_until --skip a_hashed_directory)
status=0
for name in sslbridge "${binaries[@]}"; do
  exe=$(ls -t "$deps/$name"-*.exe | head -n 1)
  echo "wine-tests: $name"
  timeout 1200 wine "$exe" "${skip[@]}" 2>&1 | grep -E '^test result|FAILED$|panicked' || status=1
done
exit $status

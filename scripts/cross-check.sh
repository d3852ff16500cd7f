#!/usr/bin/env bash
# Type-checks and lints sslbridge for the other platforms it supports, on this Linux machine,
# against the host's OpenSSL headers (nothing is linked): macOS (x86_64 and arm64) and
# FreeBSD with the host's gcc preprocessing the headers, and Windows (x86_64-pc-windows-gnu)
# with mingw's compiler, all targets (tests, examples, benches) included. Installs the
# targets' standard libraries and mingw when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

unix_targets=(x86_64-apple-darwin aarch64-apple-darwin x86_64-unknown-freebsd)
windows=x86_64-pc-windows-gnu
rustup target add "${unix_targets[@]}" "$windows" >/dev/null
if ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq gcc-mingw-w64-x86-64 >/dev/null
fi

export OPENSSL_NO_VENDOR=1 OPENSSL_DIR=/usr OPENSSL_LIB_DIR=/usr/lib/x86_64-linux-gnu

for target in "${unix_targets[@]}"; do
  echo "cross-check: $target"
  cc_var="CC_${target//-/_}"
  env OPENSSL_INCLUDE_DIR=/usr/include CRATE_CC_NO_DEFAULTS=1 "$cc_var=gcc" \
    cargo check --lib --features tokio,testing --target "$target"
  env OPENSSL_INCLUDE_DIR=/usr/include CRATE_CC_NO_DEFAULTS=1 "$cc_var=gcc" \
    cargo clippy --lib --features tokio,testing --target "$target" -- -D warnings
done

# mingw's gcc preprocesses openssl-sys's probe too, and does not look in Debian's multiarch
# directory: give it one include directory holding both halves of the host's headers.
headers=$(mktemp -d)
trap 'rm -rf "$headers"' EXIT
mkdir "$headers/openssl"
ln -s /usr/include/openssl/* /usr/include/x86_64-linux-gnu/openssl/* "$headers/openssl/"
echo "cross-check: $windows (all targets)"
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc
OPENSSL_INCLUDE_DIR="$headers" cargo check --all-targets --features tokio,testing --target "$windows"
OPENSSL_INCLUDE_DIR="$headers" \
  cargo clippy --all-targets --features tokio,testing --target "$windows" -- -D warnings
echo "cross-check: all targets clean"

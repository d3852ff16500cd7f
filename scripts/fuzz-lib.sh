# Sourced by scripts/fuzz*.sh (not run on its own): where a target's inputs live, and how to
# call cargo-fuzz. Expects the current directory to be fuzz/.

# cargo-fuzz needs nightly (-Z flags): the nightly toolchain when there is one, else stable
# with RUSTC_BOOTSTRAP=1.
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi

# The OpenSSL the fuzz crate links, as the recorded seeds name it: openssl-<major>.<minor> of
# the openssl-src crate in fuzz/Cargo.lock (version "300.6.1+3.6.3" builds OpenSSL 3.6.3).
openssl_build() {
  local version
  version=$(awk '/^name = "openssl-src"/ { getline; print }' Cargo.lock | sed -E 's/.*\+([0-9]+\.[0-9]+).*/\1/')
  echo "openssl-$version"
}

# The directories of committed inputs besides the corpus: the seeds (for the recorded
# handshakes, the recording of the linked build only) and the crash regressions.
extra_input_dirs() {
  local target=$1 build
  build=$(openssl_build)
  if [ -d "seeds/$target/$build" ]; then
    echo "seeds/$target/$build"
  elif [ -d "seeds/$target" ]; then
    echo "seeds/$target"
  fi
  if [ -d "regressions/$target" ]; then
    echo "regressions/$target"
  fi
}

# Builds cargo-fuzz if it is missing.
ensure_cargo_fuzz() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
  fi
}

# Installs clang (it compiles the instrumented OpenSSL) if it is missing, when we may.
ensure_clang() {
  if command -v clang >/dev/null; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing clang"
    apt-get update -qq
    apt-get install -y -qq clang >/dev/null
  else
    echo "the instrumented OpenSSL build needs clang: apt-get install clang" >&2
    exit 2
  fi
}

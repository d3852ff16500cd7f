//! The bodies of sslbridge's fuzz targets, in plain files that depend only on `sslbridge` (and
//! `openssl-sys`, for the hostname oracle) so that three programs share them: the cargo-fuzz
//! crate (`fuzz/`, through its library), the corpus replay test (`tests/fuzz_corpus.rs`, with
//! `#[path]`) and the seed generator (`tools/src/bin/make-fuzz-corpus.rs`, with `#[path]`).
//!
//! - [`scenarios`] holds the recorded connection set-ups and their contexts, made once per
//!   process;
//! - [`records`] the targets `client_records` and `server_records`, and the recorded seeds'
//!   exact replay;
//! - [`chaos`] the target `transport_chaos`;
//! - [`certificate`] the target `certificate`;
//! - [`hostname`] the target `hostname`, a differential oracle against OpenSSL's
//!   `X509_check_host` (with [`der`], the few DER encoders it builds certificates with).
//!
//! Record replay is exact only with sslbridge's `fuzzing` feature (deterministic randomness):
//! the client (or server) then draws the same key shares and randoms it drew while the flight
//! was recorded, so a recorded server flight completes the handshake and the fuzzer mutates
//! real handshakes. Without the feature — `cargo test` on stable — the same inputs still run
//! every parser they reach and must not panic or hang, but a handshake stops at the first
//! message that depends on randomness.
// Each program that includes these files uses a different part of them.
#![allow(dead_code, unused_imports)]

pub mod certificate;
pub mod chaos;
pub mod der;
pub mod hostname;
pub mod prompts;
pub mod records;
pub mod scenarios;

pub use certificate::certificate;
pub use chaos::transport_chaos;
pub use hostname::hostname;
pub use records::{
    check_recorded_seeds, client_records, client_records_outcome, openssl_build, recorded_seed_dir,
    run_client, run_server, server_records, server_records_outcome, ClientOutcome, ServerOutcome,
    REQUEST, RESPONSE,
};
pub use scenarios::{encode_input, parse_input, Scenario, SCENARIOS};

/// The seed every client-side run starts from (reset per run and per thread).
pub const CLIENT_SEED: &[u8] = b"sslbridge fuzz: client side seed";
/// The seed every server-side run starts from.
pub const SERVER_SEED: &[u8] = b"sslbridge fuzz: server side seed";

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every fuzz target, by name, with its body.
pub const TARGETS: &[(&str, Target)] = &[
    ("client_records", client_records),
    ("server_records", server_records),
    ("transport_chaos", transport_chaos),
    ("certificate", certificate),
    ("hostname", hostname),
];

/// Long-lived (100-year) test keys, made once by `make-fuzz-corpus --new-keys`. Recorded
/// flights contain these certificates and signatures made with these keys, so replacing them
/// means recording the seeds again.
pub mod keys {
    /// The root CA that issued everything below.
    pub const CA: &[u8] = include_bytes!("../../keys/ca.pem");
    /// An ECDSA P-256 server certificate for `localhost` and `fuzz.example`, with its chain.
    pub const SERVER_ECDSA_CHAIN: &[u8] = include_bytes!("../../keys/server-ecdsa.pem");
    /// Its key.
    pub const SERVER_ECDSA_KEY: &[u8] = include_bytes!("../../keys/server-ecdsa.key");
    /// An RSA 2048 server certificate for the same names, with its chain.
    pub const SERVER_RSA_CHAIN: &[u8] = include_bytes!("../../keys/server-rsa.pem");
    /// Its key.
    pub const SERVER_RSA_KEY: &[u8] = include_bytes!("../../keys/server-rsa.key");
    /// A client certificate ("fuzz client"), with its chain.
    pub const CLIENT_CHAIN: &[u8] = include_bytes!("../../keys/client.pem");
    /// Its key.
    pub const CLIENT_KEY: &[u8] = include_bytes!("../../keys/client.key");

    // Self-signed server certificates for `localhost`, `fuzz.example` and 127.0.0.1 (the
    // scenarios that use them do not verify the server), made once with OpenSSL 3.0's
    // `openssl req -x509 -newkey <type> -days 36500 -nodes -subj /CN=localhost -addext
    // subjectAltName=…` (`rsa-pss -pkeyopt rsa_keygen_bits:2048`, `ec -pkeyopt
    // ec_paramgen_curve:P-384`): `TestPki` makes only P-256 and RSA keys.

    /// Ed25519.
    pub const SERVER_ED25519_CHAIN: &[u8] = include_bytes!("../../keys/server-ed25519.pem");
    /// Its key.
    pub const SERVER_ED25519_KEY: &[u8] = include_bytes!("../../keys/server-ed25519.key");
    /// Ed448.
    pub const SERVER_ED448_CHAIN: &[u8] = include_bytes!("../../keys/server-ed448.pem");
    /// Its key.
    pub const SERVER_ED448_KEY: &[u8] = include_bytes!("../../keys/server-ed448.key");
    /// RSA-PSS 2048 (a key restricted to PSS signatures).
    pub const SERVER_RSA_PSS_CHAIN: &[u8] = include_bytes!("../../keys/server-rsa-pss.pem");
    /// Its key.
    pub const SERVER_RSA_PSS_KEY: &[u8] = include_bytes!("../../keys/server-rsa-pss.key");
    /// ECDSA P-384.
    pub const SERVER_ECDSA_P384_CHAIN: &[u8] = include_bytes!("../../keys/server-ecdsa-p384.pem");
    /// Its key.
    pub const SERVER_ECDSA_P384_KEY: &[u8] = include_bytes!("../../keys/server-ecdsa-p384.key");
}

/// Makes every scenario's contexts (once per process), then resets this thread's random
/// generator (exactly, with the `fuzzing` feature). In that order: making a context draws
/// random bytes.
pub fn reseed(seed: &[u8]) {
    scenarios::prepare();
    sslbridge::ensure_initialized_with_seed(seed).expect("a 32-byte seed is accepted");
}

/// Runs one input through a target body, then empties this thread's OpenSSL error queue.
///
/// OpenSSL keeps the file and function names of queued errors as allocations that only the
/// next error in the same slot, or a clear, frees; sslbridge reads errors out of the queue
/// without clearing it. An input that made OpenSSL report errors therefore ended with more
/// allocations than it started with, and libFuzzer answers that, for every input that finds
/// new coverage, by running it again under LeakSanitizer (a scan of the whole heap): most of
/// the `hostname` target's time went there.
pub fn run(body: Target, data: &[u8]) {
    body(data);
    // SAFETY: clears this thread's OpenSSL error queue; nothing points into it.
    unsafe { openssl_sys::ERR_clear_error() };
}

/// Run once when a fuzz target starts (the first run makes the contexts, before it reseeds):
/// makes OpenSSL's pass-phrase prompts fail instead of reading the terminal (see [`prompts`]).
/// With `SSLBRIDGE_FUZZ_CHECK_SEEDS=<seeds directory>` in the environment, checks that the
/// recorded seeds of the linked OpenSSL build replay exactly (see [`check_recorded_seeds`])
/// and aborts the process if they do not: fuzzing from recordings that no longer complete
/// their handshakes would silently stay shallow. `scripts/fuzz-ci.sh` and
/// `scripts/fuzz.sh check-seeds` set it.
pub fn init() {
    prompts::refuse_password_prompts();
    let Some(dir) = std::env::var_os("SSLBRIDGE_FUZZ_CHECK_SEEDS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    match check_recorded_seeds(&dir) {
        Ok(()) => eprintln!(
            "sslbridge-fuzz: the {} recorded seeds in {} replay exactly ({})",
            openssl_build(),
            dir.display(),
            sslbridge::openssl_version()
        ),
        Err(failures) => {
            eprintln!(
                "sslbridge-fuzz: recorded seeds of {} ({}) do not replay exactly; record them \
                 again (README, Fuzzing):\n  {}",
                openssl_build(),
                sslbridge::openssl_version(),
                failures.join("\n  ")
            );
            std::process::exit(3);
        }
    }
}

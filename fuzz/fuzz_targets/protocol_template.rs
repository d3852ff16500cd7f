//! A template for fuzzing your own protocol over sslbridge: copy this file into your
//! cargo-fuzz crate's `fuzz_targets/`, replace `serve` and `talk` with your protocol's two
//! sides, and run `cargo +nightly fuzz run protocol_template` inside `fuzz/` (the manual's
//! fuzzing chapter, `sslbridge::manual::fuzzing`, "With OpenSSL instrumented too", gives the
//! crate's `Cargo.toml` and `.cargo/config.toml`, which build OpenSSL instrumented for the
//! fuzzer).
//!
//! The input drives both what the client says and how the transport misbehaves (a
//! `ChaosTransport` under the client: split reads, `Interrupted` storms, a connection reset at
//! some byte). The property: the exchange completes with the right answer, or fails with
//! exactly the error that was injected. sslbridge's `fuzzing` feature makes OpenSSL's
//! randomness deterministic, so with the seeds reset per run a crash input replays exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sslbridge::testing::{ChaosPlan, Direction, Fault, TestPki};
use sslbridge::{ClientOptions, Context, Error, ServerOptions, SslStream, Transport};
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::sync::OnceLock;

/// The protocol's server side: reads a line, answers with its length.
fn serve<T: Transport>(tls: &mut SslStream<T>) -> std::io::Result<()> {
    let mut line = Vec::new();
    BufReader::new(&mut *tls).read_until(b'\n', &mut line)?;
    writeln!(tls, "{}", line.len())
}

/// The protocol's client side: sends `message` as a line, returns the answer.
fn talk<T: Transport>(tls: &mut SslStream<T>, message: &[u8]) -> std::io::Result<String> {
    tls.write_all(message)?;
    tls.write_all(b"\n")?;
    let mut answer = String::new();
    BufReader::new(&mut *tls).read_line(&mut answer)?;
    Ok(answer)
}

/// Keys and contexts are made once per process: making them per run would cost more than
/// the run. (Making a context draws random bytes, so each run reseeds *after* this.)
fn contexts() -> &'static (Context, Context) {
    static CONTEXTS: OnceLock<(Context, Context)> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        let pki = TestPki::new().expect("a test PKI");
        let key = pki.server(&["localhost"]).expect("a server certificate");
        let client = Context::builder()
            .ca_certificates_pem(&pki.root_pem())
            .build()
            .expect("the client context");
        let server = Context::builder()
            .certificate_chain_pem(&key.chain_pem)
            .private_key_pem(&key.key_pem)
            .build()
            .expect("the server context");
        (client, server)
    })
}

fuzz_target!(|input: &[u8]| {
    let (client_context, server_context) = contexts();
    let (script, message) = input.split_at(input.len().min(4));
    let byte = |i: usize| script.get(i).copied().unwrap_or(0);
    let reset_at = 200 + 50 * u64::from(byte(3));
    let mut plan = ChaosPlan::new()
        .seed(u64::from(byte(0)))
        .max_chunk(Direction::Read, 1 + usize::from(byte(1) % 32))
        .random_chunks(Direction::Write, true)
        .probability(
            Direction::Read,
            Fault::Interrupted,
            f64::from(byte(2)) / 512.0,
        );
    let reset = byte(3) > 200;
    if reset {
        plan = plan.fault_at_byte(
            Direction::Read,
            reset_at,
            Fault::Error(ErrorKind::ConnectionReset),
        );
    }
    let message: Vec<u8> = message.iter().copied().filter(|&b| b != b'\n').collect();

    let (client_end, server_end) = sslbridge::duplex(64 * 1024);
    let server_context = server_context.clone();
    let server = std::thread::spawn(move || {
        // Each thread has its own deterministic generator: reset it for every run.
        sslbridge::ensure_initialized_with_seed(b"protocol template: server").unwrap();
        if let Ok(mut tls) = ServerOptions::new()
            .context(server_context)
            .accept(server_end)
        {
            let _ = serve(&mut tls);
        }
    });
    sslbridge::ensure_initialized_with_seed(b"protocol template: client").unwrap();
    let result = ClientOptions::new()
        .context(client_context.clone())
        .hostname("localhost")
        .connect(plan.wrap(client_end))
        .and_then(|mut tls| talk(&mut tls, &message).map_err(Error::from));
    match result {
        Ok(answer) => assert_eq!(answer, format!("{}\n", message.len() + 1)),
        // The only acceptable failure is the one injected, with its own kind.
        Err(e) => assert!(
            reset && e.io_kind() == ErrorKind::ConnectionReset,
            "failed without an injected fault: {e}"
        ),
    }
    server.join().expect("the server thread");
});

//! # Fuzzing your protocol
//!
//! sslbridge's BIO calls whatever `Read + Write` value it is given, so a test can slide a
//! misbehaving transport under a real TLS connection. [`ChaosTransport`](../../testing/struct.ChaosTransport.html)
//! is that transport: it wraps another one and, following a
//! [`ChaosPlan`](../../testing/struct.ChaosPlan.html), splits reads and writes into one-byte or random
//! pieces, injects `Interrupted` and `WouldBlock` at chosen calls or in random storms, and
//! fails with an `io::Error` of any kind, an end of stream or a panic at an exact byte
//! offset. It is deterministic for a plan and a seed, and
//! [`ChaosPlan::from_bytes`](../../testing/struct.ChaosPlan.html#method.from_bytes) turns any byte string
//! into a plan, so a fuzzer can drive it. Your protocol code then meets, in a few minutes of
//! fuzzing, the short reads, retries and broken connections that production meets in months.
//!
//! `ChaosTransport` and [`TestPki`](../../testing/struct.TestPki.html) live in
//! [`sslbridge::testing`](../../testing/index.html), behind the `testing` feature:
//!
//! ```toml
//! [dev-dependencies]
//! sslbridge = { version = "0.1", features = ["testing"] }
//! ```
//!
//! ## Choosing a plan
//!
//! | plan | injects | for |
//! | --- | --- | --- |
//! | [`ChaosPlan::random_blocking(seed)`](../../testing/struct.ChaosPlan.html#method.random_blocking) | random splits, `Interrupted` | blocking code (`connect`, `read_exact`, `write_all`): everything must still succeed |
//! | [`ChaosPlan::random(seed)`](../../testing/struct.ChaosPlan.html#method.random) | the same, plus `WouldBlock` storms | non-blocking code: everything must still succeed |
//! | [`ChaosPlan::from_bytes(script)`](../../testing/struct.ChaosPlan.html#method.from_bytes) | anything but panics, chosen by the bytes | fuzz targets |
//! | [`ChaosPlan::new()`](../../testing/struct.ChaosPlan.html#method.new) and its builder methods | exactly what you schedule | a test for one failure |
//!
//! [`ChaosTransport::stats`](../../testing/struct.ChaosTransport.html#method.stats) counts what was injected,
//! and [`ChaosStats::explains(kind)`](../../testing/struct.ChaosStats.html#method.explains) says whether an
//! injected fault accounts for an error a caller saw: the property a fuzz target asserts.
//!
//! ## A fuzz target
//!
//! The function below is a complete target for a tiny line protocol (the client sends a
//! line, the server answers with its length). The input's first byte says how much of it is
//! the chaos script for the client's transport; the rest is the message. The property: the
//! right answer arrives, or the client fails with an error that an injected fault explains.
//! Anything else (a wrong answer, an unexplained error, a hang, a panic) is a bug, in your
//! code or in sslbridge. Contexts are built once, since fuzzers run the target millions of
//! times.
//!
//! ```
//! use std::io::{self, BufRead, ErrorKind, Write};
//! use std::sync::OnceLock;
//! use sslbridge::testing::{ChaosPlan, TestPki};
//! use sslbridge::{ClientOptions, Context, ServerOptions, SslStream, Transport};
//!
//! /// The server side of the protocol under test.
//! fn serve<T: Transport>(tls: &mut SslStream<T>) -> io::Result<()> {
//!     let mut line = Vec::new();
//!     tls.read_until(b'\n', &mut line)?;
//!     writeln!(tls, "{}", line.len())
//! }
//!
//! /// The client side, written for a transport that may say "would block".
//! fn ask<T: Transport>(tls: &mut SslStream<T>, message: &[u8]) -> io::Result<Vec<u8>> {
//!     retry(|| Ok(tls.handshake()?))?;
//!     let mut rest = message;
//!     while !rest.is_empty() {
//!         let n = retry(|| tls.write(rest))?; // a blocked write is retried with the same bytes
//!         rest = &rest[n..];
//!     }
//!     retry(|| tls.write(b"\n"))?;
//!     let mut answer = Vec::new();
//!     retry(|| tls.read_until(b'\n', &mut answer))?;
//!     Ok(answer)
//! }
//!
//! fn retry<R>(mut op: impl FnMut() -> io::Result<R>) -> io::Result<R> {
//!     loop {
//!         match op() {
//!             Err(e) if e.kind() == ErrorKind::WouldBlock => continue, // real code would wait
//!             other => return other,
//!         }
//!     }
//! }
//!
//! /// The fuzz target's body.
//! pub fn fuzz_one(data: &[u8]) {
//!     static CONTEXTS: OnceLock<(Context, Context)> = OnceLock::new();
//!     let (server_ctx, client_ctx) = CONTEXTS.get_or_init(|| {
//!         let pki = TestPki::new().unwrap();
//!         let key = pki.server(&["localhost"]).unwrap();
//!         let server = Context::builder()
//!             .certificate_chain_pem(&key.chain_pem)
//!             .private_key_pem(&key.key_pem)
//!             .build()
//!             .unwrap();
//!         let client = Context::builder().ca_certificates_pem(&pki.root_pem()).build().unwrap();
//!         (server, client)
//!     });
//!     let (script_len, rest) = data.split_first().map_or((0, data), |(n, rest)| (usize::from(*n % 64), rest));
//!     let (script, message) = rest.split_at(script_len.min(rest.len()));
//!     let message: Vec<u8> = message.iter().copied().filter(|&b| b != b'\n').collect();
//!
//!     let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//!     let server_ctx = server_ctx.clone();
//!     let server = std::thread::spawn(move || {
//!         if let Ok(mut tls) = ServerOptions::new().context(server_ctx).accept(server_end) {
//!             let _ = serve(&mut tls);
//!         }
//!     });
//!     let mut tls = ClientOptions::new()
//!         .hostname("localhost")
//!         .context(client_ctx.clone())
//!         .start(ChaosPlan::from_bytes(script).wrap(client_end))
//!         .expect("start does no I/O");
//!     let outcome = ask(&mut tls, &message);
//!     let injected = tls.get_ref().stats().clone();
//!     drop(tls); // the server sees the connection end, and returns
//!     server.join().unwrap();
//!
//!     match outcome {
//!         Ok(answer) => assert_eq!(answer, format!("{}\n", message.len() + 1).into_bytes()),
//!         Err(e) => assert!(
//!             injected.explains(e.kind())
//!                 || (e.kind() == ErrorKind::UnexpectedEof && injected.injected_read_eof()),
//!             "an error no injected fault explains: {e} (injected: {injected:?})"
//!         ),
//!     }
//! }
//!
//! // A few fixed inputs, as a regression test would run them.
//! fuzz_one(b"");
//! fuzz_one(b"\x00no chaos at all");
//! // Reads and writes in random pieces of at most 1 and 5 bytes, `Interrupted` and
//! // `WouldBlock` storms.
//! fuzz_one(&[&[14, 0x81, 0x85, 40, 40, 40, 40, 7, 0, 0, 0, 0, 0, 0, 0][..], b"chunked"].concat());
//! // The connection is reset once 200 bytes have been read.
//! fuzz_one(&[&[17][..], &[0; 14], &[0x0a, 200, 0], b"reset"].concat());
//! // The transport stops accepting writes after 100 bytes.
//! fuzz_one(&[&[17][..], &[0; 14], &[0x0f, 100, 0], b"cut"].concat());
//! ```
//!
//! ## Running it under cargo-fuzz
//!
//! Put `fuzz_one` in your crate (or in the fuzz crate itself), then:
//!
//! ```sh
//! cargo install cargo-fuzz
//! cargo fuzz init                    # makes fuzz/, a crate of its own
//! cargo fuzz add my_protocol         # fuzz/fuzz_targets/my_protocol.rs
//! ```
//!
//! In `fuzz/Cargo.toml`, depend on sslbridge with the `testing` feature
//! (`sslbridge = { version = "0.1", features = ["testing"] }`), and make the target call the
//! function (this file is built by cargo-fuzz with `libfuzzer-sys`, not as a doctest):
//!
//! ```rust,ignore
//! #![no_main]
//! libfuzzer_sys::fuzz_target!(|data: &[u8]| my_crate::fuzz_one(data));
//! ```
//!
//! ```sh
//! cargo +nightly fuzz run my_protocol     # or RUSTC_BOOTSTRAP=1 cargo fuzz run my_protocol
//! ```
//!
//! An input that fails is saved under `fuzz/artifacts/my_protocol/`; `cargo fuzz run
//! my_protocol <file>` replays it. Passing its bytes to `fuzz_one` in an ordinary `#[test]`
//! keeps it as a regression test that runs on stable Rust.
//!
//! ## The `fuzzing` feature: deterministic handshakes
//!
//! A target like the one above needs nothing more. The `fuzzing` cargo feature is for the
//! other kind of target: one that replays *recorded* TLS records into a client or a server
//! and lets the fuzzer mutate them. A recording replays only if both ends draw the same
//! random numbers as when it was made, so the feature replaces OpenSSL's random generator
//! with a predictable one, seeded per thread; with it,
//! [`ensure_initialized_with_seed`](crate::ensure_initialized_with_seed) resets the calling
//! thread's generator, so every input starts from the same state.
//!
//! **⚠ The `fuzzing` feature removes ALL security.** Keys, nonces and handshakes made under
//! it can be predicted: every connection can be decrypted and impersonated. Never enable it
//! outside fuzzing; normal builds never do. Because cargo unifies features across a
//! dependency graph, the feature alone is not enough: sslbridge refuses to compile with
//! `fuzzing` unless `--cfg fuzzing` is also passed. cargo-fuzz passes it; elsewhere use
//! `RUSTFLAGS="--cfg fuzzing"`, with a `CARGO_TARGET_DIR` of its own so that the normal build
//! is not invalidated.
//!
//! ## Fuzzing sslbridge itself
//!
//! *For contributors; the figures in this section are updated with each fuzzing campaign.*
//!
//! The repository's `fuzz/` directory is a cargo-fuzz crate; `scripts/fuzz.sh <target>
//! [seconds]` runs one of its targets with its seed corpus. The targets:
//!
//! - `client_records` and `server_records`: recorded handshake flights replayed into a
//!   client or a server (with the `fuzzing` feature), so the fuzzer mutates real handshakes;
//! - `transport_chaos`: a real client and server over two `ChaosTransport`s scripted by the
//!   input; the data must arrive once and in order, and every error must be one that was
//!   injected;
//! - `certificate`: parsing, every inspector, DER/PEM round trips and hostname checks.
//!
//! ```sh
//! cargo +nightly fuzz run client_records
//! RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=target/cfg-fuzzing \
//!   cargo run --features fuzzing --example make-fuzz-corpus   # regenerate the seed corpora
//! ```
//!
//! `cargo test` replays every corpus and crash input on stable Rust;
//! `RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=target/cfg-fuzzing cargo test --features
//! fuzzing --test fuzz_corpus` also checks that every recorded flight replays to a finished
//! handshake and that two fresh processes produce byte-identical ClientHellos. CI fuzzes
//! every target for 30 s (`scripts/fuzz-ci.sh`).
//!
//! Last campaign: 2026-11-26, on a 2-core machine shared with other builds, with
//! AddressSanitizer.
//!
//! | target | execs/s | fuzzing time | executions | corpus (files / bytes) |
//! | --- | ---: | ---: | ---: | ---: |
//! | client_records | ~90 | 21 min | 109,500 | 51 / 53 KB |
//! | server_records | ~35 | 20 min | 42,265 | 56 / 43 KB |
//! | transport_chaos | ~17 | 21 min | 20,618 | 120 / 125 KB |
//! | certificate | ~830 | 20 min | 1,005,518 | 152 / 99 KB |
//!
//! It found one bug, fixed at its root: a transport write error after the peer's
//! close_notify was reported as a generic error instead of the transport's own (OpenSSL
//! reports every failure after close_notify as `SSL_ERROR_ZERO_RETURN`); the input is kept
//! in `fuzz/corpus/transport_chaos/`. Line coverage reached by the corpus (`cargo fuzz
//! coverage` and llvm-cov): 66.1 % of the stream code and 68.2 % of `src/bio/` (84.2 % of
//! `state.rs`, 63.2 % of `method.rs`). The fd fast path cannot be reached from a fuzzer,
//! which has no descriptors.

//! A throwaway PKI generated in memory, so tests, examples and demos need no certificate files
//! and no `openssl` command-line tool.
//!
//! [`TestPki::new`] creates a root CA, an intermediate CA signed by it and a second, unrelated
//! "untrusted" root, each with a fresh ECDSA P-256 key. From it you issue leaf certificates:
//! valid servers and clients, plus deliberately broken ones (expired, not yet valid,
//! self-signed, from the untrusted root, without the serverAuth purpose, without any
//! subjectAltName) to exercise every verification failure. [`TestPki::leaf`] gives a
//! [`LeafBuilder`] for anything else: extra DNS or IP names, RSA keys, custom validity,
//! extended key usages, issuer and serial number.
//!
//! Every [`CertifiedKey`] holds PEM bytes: the leaf, the chain a peer sends (leaf plus
//! intermediate), and the unencrypted PKCS#8 private key. Trust [`TestPki::root_pem`] on the
//! verifying side.
//!
//! **These certificates are for tests only.** The CA keys exist only in memory, are never
//! protected, and nothing can be revoked; never use them to secure real traffic.
//!
//! ```
//! let pki = sslbridge::testing::TestPki::new()?;
//! let server = pki.server(&["localhost", "127.0.0.1"])?;
//! assert!(server.chain_pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
//! # Ok::<(), sslbridge::Error>(())
//! ```
//!
//! Broken certificates for negative tests come from the same PKI:
//!
//! ```
//! let pki = sslbridge::testing::TestPki::new()?;
//! let root = pki.root_pem(); // what the client trusts
//! let expired = pki.expired(&["localhost"])?; // fails with "certificate has expired"
//! let stranger = pki.untrusted(&["localhost"])?; // issued by a root the client doesn't trust
//! let encrypted_key = expired.encrypted_key_pem("password")?;
//! assert!(encrypted_key.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
//! # let _ = (root, stranger);
//! # Ok::<(), sslbridge::Error>(())
//! ```
//!
//! # Fault injection: [`ChaosTransport`]
//!
//! [`ChaosTransport`] wraps any transport and misbehaves on purpose, following a
//! [`ChaosPlan`]: reads and writes split into one-byte or random pieces, `Interrupted` and
//! `WouldBlock` at chosen calls or in random storms, an `io::Error` of any kind, an end of
//! stream or a panic at an exact byte offset. It is deterministic for a plan and a seed, and
//! [`ChaosPlan::from_bytes`] turns any byte string into a plan, so a fuzzer can drive it.
//! sslbridge's own `transport_chaos` fuzz target (in `fuzz/`) runs a client and a server
//! over two of them.
//!
//! Fuzzing your own protocol over TLS: the input picks how the transport misbehaves and what
//! the client sends; the property is that the answer arrives intact, or that the only error
//! is the one injected. The body below is what a `cargo fuzz` target would call
//! (`fuzz_target!(|data: &[u8]| fuzz_one(data));`); here it runs on a few inputs.
//!
//! ```
//! use std::io::{BufRead, BufReader, ErrorKind, Write};
//! use sslbridge::testing::{ChaosPlan, Direction, Fault, TestPki};
//! use sslbridge::{ClientOptions, Error, ServerOptions, Verify};
//!
//! // The protocol under test: the client sends a line, the server answers with its length.
//! fn serve(tls: &mut sslbridge::SslStream<sslbridge::MemoryPipe>) -> std::io::Result<()> {
//!     let mut line = Vec::new();
//!     BufReader::new(&mut *tls).read_until(b'\n', &mut line)?;
//!     writeln!(tls, "{}", line.len())
//! }
//!
//! fn fuzz_one(pki: &TestPki, input: &[u8]) {
//!     let (script, message) = input.split_at(input.len().min(4));
//!     let byte = |i: usize| script.get(i).copied().unwrap_or(0);
//!     let mut plan = ChaosPlan::new()
//!         .seed(u64::from(byte(0)))
//!         .max_chunk(Direction::Read, 1 + usize::from(byte(1) % 32))
//!         .random_chunks(Direction::Write, true)
//!         .probability(Direction::Read, Fault::Interrupted, f64::from(byte(2)) / 512.0);
//!     if byte(3) > 200 {
//!         // Sometimes the connection breaks partway through the server's answer.
//!         plan = plan.fault_at_byte(Direction::Read, 2000, Fault::Error(ErrorKind::ConnectionReset));
//!     }
//!     let message: Vec<u8> = message.iter().copied().filter(|&b| b != b'\n').collect();
//!
//!     let key = pki.server(&["localhost"]).unwrap();
//!     let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//!     let server = std::thread::spawn(move || {
//!         let tls = ServerOptions::new()
//!             .certificate_chain_pem(&key.chain_pem)
//!             .private_key_pem(&key.key_pem)
//!             .accept(server_end);
//!         if let Ok(mut tls) = tls {
//!             let _ = serve(&mut tls);
//!         }
//!     });
//!
//!     let result = (|| -> Result<String, Error> {
//!         let mut tls = ClientOptions::new()
//!             .verify(Verify::None)
//!             .connect(plan.wrap(client_end))?;
//!         tls.write_all(&message)?;
//!         tls.write_all(b"\n")?;
//!         let mut answer = String::new();
//!         BufReader::new(&mut tls).read_line(&mut answer)?;
//!         Ok(answer)
//!     })();
//!     match result {
//!         Ok(answer) => assert_eq!(answer, format!("{}\n", message.len() + 1)),
//!         // The only acceptable failure is the one the plan injected, with its own kind.
//!         Err(e) => assert_eq!(e.io_kind(), ErrorKind::ConnectionReset, "{e}"),
//!     }
//!     server.join().unwrap();
//! }
//!
//! let pki = TestPki::new()?;
//! for input in [&b""[..], b"\x01\x00\x80\x00hello", b"\x07\x05\xff\xffbreak me", b"\x02\x1f\x10\x00ok"] {
//!     fuzz_one(&pki, input);
//! }
//! # Ok::<(), sslbridge::Error>(())
//! ```

mod chaos;
mod pki;

pub use chaos::{ChaosPlan, ChaosStats, ChaosTransport, Direction, Fault, InjectedPanic};
pub use pki::{CertifiedKey, ExtendedKeyUsage, KeyType, LeafBuilder, TestPki};

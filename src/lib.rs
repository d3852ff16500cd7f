//! # sslbridge: OpenSSL's TLS over any byte transport
//!
//! sslbridge runs OpenSSL's TLS engine over anything that implements [`std::io::Read`] and
//! [`std::io::Write`]: a TCP socket, a Unix socket, a pair of pipes to a child process, an
//! in-memory [`MemoryPipe`], a serial line, a fuzzer's byte string. It is the Rust heir of
//! Common Lisp's cl+ssl: OpenSSL does the protocol; sslbridge does the plumbing through one
//! hand-written OpenSSL `BIO_METHOD` whose callbacks call your transport.
//!
//! ## Quick start
//!
//! ```
//! use std::io::{Read, Write};
//! use sslbridge::{ClientOptions, Context, ServerOptions, Verify};
//!
//! // A throwaway PKI made in memory (tests and demos only).
//! let pki = sslbridge::testing::TestPki::new()?;
//! let server_cert = pki.server(&["localhost"])?;
//! let client_ctx = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//!
//! // Any Read + Write works as a transport; here, an in-memory pipe.
//! let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//!
//! let server = std::thread::spawn(move || -> Result<Vec<u8>, sslbridge::Error> {
//!     let mut tls = ServerOptions::new()
//!         .certificate_chain_pem(&server_cert.chain_pem)
//!         .private_key_pem(&server_cert.key_pem)
//!         .accept(server_end)?;
//!     let mut request = [0u8; 14];
//!     tls.read_exact(&mut request)?;
//!     tls.write_all(b"hello back")?;
//!     tls.close()?; // close_notify, then free
//!     Ok(request.to_vec())
//! });
//!
//! let mut tls = ClientOptions::new()
//!     .hostname("localhost")        // SNI and hostname check
//!     .verify(Verify::Required)     // the default: chain and hostname must verify
//!     .context(client_ctx)
//!     .connect(client_end)?;
//! tls.write_all(b"hello over TLS")?;
//! let mut answer = Vec::new();
//! tls.read_to_end(&mut answer)?;    // Ok(0) at the server's close_notify
//! assert_eq!(answer, b"hello back");
//! tls.close()?;
//! assert_eq!(server.join().unwrap()?, b"hello over TLS");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What you get
//!
//! - [`ClientOptions`] / [`ServerOptions`]: everything cl+ssl's `make-ssl-client-stream` and
//!   `make-ssl-server-stream` take; [`SslStream`] implements `Read`, `Write` and `BufRead`.
//! - [`Context`] and [`ContextBuilder`]: every cl+ssl `make-context` keyword; a lazily created
//!   [`global_context`] and [`with_global_context`].
//! - Honest end of stream: the peer's close_notify reads as `Ok(0)`; a transport EOF without
//!   it is [`Error::UnexpectedEof`].
//! - Errors you can match: [`Error`]; a transport's own `io::Error` comes back with its kind,
//!   and a panic inside your transport is resumed in your code, never unwound through C.
//! - Non-blocking transports: `WouldBlock` from the transport becomes [`Error::WantRead`] /
//!   [`Error::WantWrite`] (or `io::ErrorKind::WouldBlock` through `Read`/`Write`); call again
//!   when ready. See [`SslStream::handshake`].
//! - Verification on by default for clients ([`Verify::Required`]).
//!
//! ## Features
//!
//! All off by default.
//!
//! - `tokio`: the `sslbridge::tokio` module, async streams over any tokio
//!   `AsyncRead + AsyncWrite` transport (`ClientOptions::connect_async`,
//!   `ServerOptions::accept_async`), through the same BIO.
//! - `vendored`: build OpenSSL from source (the `openssl-src` crate) instead of linking the
//!   system library.
//! - `fuzzing`: deterministic randomness so a fuzzer can replay recorded handshakes. It
//!   **removes all security** and needs `--cfg fuzzing` as well (cargo-fuzz passes it); never
//!   enable it in a program that talks to anything real.
//!
//! ## Verification
//!
//! | [`Verify`] | no certificate | bad chain | wrong host |
//! | --- | --- | --- | --- |
//! | `Required` (default) | [`Error::ServerCertificateMissing`] | [`Error::Verify`] | [`Error::Hostname`] |
//! | `Optional` | accepted | [`Error::Verify`] | [`Error::Hostname`] |
//! | `None` | accepted | accepted | accepted |
//!
//! The client's [`Verify`] decides whatever the context's verify mode says.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

// Cargo unifies features across a build: any crate (or `--all-features`) could switch
// `fuzzing` on and make every OpenSSL user in the process draw predictable "randomness".
// Requiring `--cfg fuzzing` as well (cargo-fuzz passes it) makes that impossible by accident.
#[cfg(all(feature = "fuzzing", not(fuzzing)))]
compile_error!(
    "the `fuzzing` feature of sslbridge makes OpenSSL's randomness predictable and removes all \
     security, so it also needs `--cfg fuzzing`: build with `cargo fuzz` (which passes it) or \
     with RUSTFLAGS=\"--cfg fuzzing\" (and a separate CARGO_TARGET_DIR, e.g. target/cfg-fuzzing); \
     never enable it in a production build"
);

mod bio;
mod callbacks;
mod context;
mod credentials;
mod error;
mod ex_data;
mod ffi;
#[cfg(all(feature = "fuzzing", fuzzing))]
mod fuzzing_rand;
mod init;
mod options;
mod session;
mod stream;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
mod transport;
mod util;
pub mod verify_code;
mod x509;

pub use bio::TransportStats;
pub use context::global::{
    global_context, load_global_verify_locations, set_global_default_verify_paths,
    use_certificate_chain_file, with_global_context,
};
pub use context::{
    Context, ContextBuilder, ContextRef, KeylogCallback, Method, Protocol, SessionCacheMode,
    SslOptions, VerifyCallback, VerifyLocation, VerifyMode,
};
pub use credentials::PasswordCallback;
pub use error::{Error, ErrorStack, OpenSslError, Operation, Side};
pub use init::{ensure_initialized, ensure_initialized_with_seed, openssl_version, random_bytes};
pub use options::{
    client_verify_default, set_client_verify_default, ClientOptions, ServerOptions, Verify,
};
pub use session::{Session, SessionRef};
pub use stream::connection::{AlpnCallback, SniCallback};
pub use stream::SslStream;
pub use transport::{duplex, stream_fd, Descriptor, FdTransport, MemoryPipe, Pipes, Transport};
pub use x509::{verify_hostname, Certificate, CertificateRef, Digest};

/// Re-exported so users can reach the raw OpenSSL pointers (`ForeignType::as_ptr`) behind
/// [`Context`], [`Certificate`] and [`Session`].
pub use foreign_types;

//! # sslbridge: OpenSSL's TLS over any byte transport
//!
//! sslbridge runs OpenSSL's TLS engine over anything that implements [`std::io::Read`] and
//! [`std::io::Write`]: a TCP socket, a Unix socket, a pair of pipes to a child process, an
//! in-memory [`MemoryPipe`], a serial line, a fuzzer's byte string. OpenSSL does the protocol;
//! sslbridge does the plumbing, through one hand-written OpenSSL `BIO_METHOD` whose callbacks
//! call your transport. When the transport is a plain file descriptor it steps aside and lets
//! OpenSSL make the system calls itself: the *fd fast path*. It is the Rust heir of Common
//! Lisp's [cl+ssl](https://github.com/cl-plus-ssl/cl-plus-ssl), whose options, defaults and
//! names it keeps where they were right ([the mapping](manual::cl_plus_ssl)).
//!
//! This page is the front of the manual: how the pieces fit, a quick start, the cargo
//! features, and the [chapters](#the-manual). Every public item has its own documentation,
//! most with an example that runs as a test.
//!
//! ## How it fits together
//!
//! ```text
//!  your code
//!     │  Read / Write / BufRead      (AsyncRead / AsyncWrite with the `tokio` feature)
//!     ▼
//!  SslStream<T>     made by ClientOptions / ServerOptions, from a shared Context
//!     │  SSL_do_handshake / SSL_read_ex / SSL_write_ex / SSL_shutdown
//!     ▼
//!  OpenSSL (libssl): handshake, records, encryption, certificate checks
//!     │  encrypted TLS records
//!     ├─────────────────────────────────────┐
//!     ▼                                     ▼
//!  custom BIO: any transport             fd fast path: descriptors it knows
//!  one BIO_METHOD; its callbacks call    a socket BIO (send/recv), or an fd
//!  Read / Write / flush on your T        BIO per direction (read/write), on
//!     │                                  the stream's own descriptor copies
//!     ▼                                     ▼
//!  your transport T                      its descriptor, read and written by
//!  MemoryPipe, BufReader<…>, a serial    the kernel: TcpStream, UnixStream,
//!  port, ChaosTransport, an SslStream,   a child's pipes, File, Descriptor,
//!  tokio's AsyncTransport                FdTransport<T>
//! ```
//!
//! Which path a stream takes is decided once, when it is set up: a transport whose descriptor
//! sslbridge recognises goes on the fd fast path unless you pass
//! [`unwrap_fd(false)`](ClientOptions::unwrap_fd); everything else goes through the custom
//! BIO. [`SslStream::uses_fd_fast_path`] tells which one is live. Both paths behave the same
//! to you: same errors, same deadlines, same end-of-stream rules. The
//! [transports chapter](manual::transports) has the details.
//!
//! ## Quick start
//!
//! A client and a server over an in-memory pipe, with a certificate made on the fly. Over a
//! network you pass a `TcpStream` instead of the pipe end, and load your certificate from
//! files with [`certificate_file`](ServerOptions::certificate_file) and
//! [`private_key_file`](ServerOptions::private_key_file).
//!
//! ```
//! use std::io::{Read, Write};
//! use sslbridge::{ClientOptions, Context, ServerOptions, Verify};
//!
//! // A throwaway PKI made in memory (tests and demos only; the `testing` feature).
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
//! `cargo run --example demo` runs the same exchange with a 64 MiB transfer and prints what
//! was negotiated; `examples/client.rs` and `examples/server.rs` are small `openssl s_client`
//! and `s_server` look-alikes over TCP.
//!
//! ## What you get
//!
//! - [`ClientOptions`] / [`ServerOptions`]: everything cl+ssl's `make-ssl-client-stream` and
//!   `make-ssl-server-stream` take; [`SslStream`] implements `Read`, `Write` and `BufRead`.
//! - [`Context`] and [`ContextBuilder`]: every cl+ssl `make-context` keyword; a lazily created
//!   [`global_context`] and [`with_global_context`]. A built context never changes; see
//!   [contexts](manual::contexts) for changing certificates while serving.
//! - Honest end of stream: the peer's close_notify reads as `Ok(0)`; a transport EOF without
//!   it is [`Error::UnexpectedEof`], a truncation rather than a clean end.
//! - Errors you can match: [`Error`]. A transport's own `io::Error` comes back with its kind
//!   and message, certificate failures carry the X509 code, its text, the depth and the
//!   subject, and a panic inside your transport or callback is resumed in your code, never
//!   unwound through C ([errors](manual::errors)).
//! - Non-blocking transports and deadlines: `WouldBlock` anywhere (read, write, flush) is a
//!   retry, handshakes resume, and a deadline is enforced or refused, never silently ignored
//!   ([deadlines](manual::deadlines)).
//! - Verification on by default for clients ([`Verify::Required`]: chain and hostname, DNS
//!   name or IP address), with cl+ssl's semantics ([verification](manual::verification)).
//! - Session resumption ([`Session`]), which cl+ssl lacks ([sessions](manual::sessions)).
//!
//! ## Cargo features
//!
//! All off by default.
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `tokio` | the `sslbridge::tokio` module: async streams over any tokio `AsyncRead + AsyncWrite` transport (`ClientOptions::connect_async`, `ServerOptions::accept_async`), through the same BIO ([async](manual::async_tokio)) |
//! | `vendored` | builds OpenSSL from source (the `openssl-src` crate) instead of linking the system library |
//! | `testing` | [`sslbridge::testing`](testing/index.html): the in-memory [`TestPki`](testing/struct.TestPki.html) and the fault-injecting [`ChaosTransport`](testing/struct.ChaosTransport.html), for your tests and fuzz targets |
//! | `fuzzing` | deterministic randomness, so a fuzzer can replay recorded handshakes. It **removes all security** and also needs `--cfg fuzzing` ([fuzzing](manual::fuzzing)) |
//!
//! `testing` belongs in your dev-dependencies:
//!
//! ```toml
//! [dev-dependencies]
//! sslbridge = { version = "0.1", features = ["testing"] }
//! ```
//!
//! **`vendored` or the system library?** Choose `vendored` for speed and a current OpenSSL
//! (faster handshakes, post-quantum key exchange by default, the same version everywhere);
//! keep the system library (the default) to get your distribution's security updates without
//! rebuilding, and a faster build. Any other feature in `Cargo.toml` exists for sslbridge's
//! own test suite and is not meant for users.
//!
//! ## Requirements
//!
//! Unix (Linux is tested; see [limitations](manual::limitations) for other systems), Rust
//! 1.87 or newer, OpenSSL 3.0 to 3.6 with headers and `pkg-config` (or a C compiler and
//! `perl` for `vendored`, which builds 3.6).
//!
//! ## The manual
//!
//! The chapters are modules that hold only documentation, under [`manual`]:
//!
//! 1. [Transports](manual::transports): what can carry TLS, which types take the fd fast
//!    path, adding your own transport, pipes to a child process, STARTTLS, TLS inside TLS.
//! 2. [Deadlines and non-blocking use](manual::deadlines): `timeout`, which transports
//!    enforce it, `WantRead`/`WantWrite`, driving a stream from a `poll` loop.
//! 3. [Errors, end of stream and closing](manual::errors): the [`Error`] variants, honest
//!    EOF, failed streams, `close`, `shutdown`, `Drop` and `into_inner`.
//! 4. [Verification and certificates](manual::verification): [`Verify`], hostname rules,
//!    trusted roots, client certificates (mutual TLS), inspecting certificates, SNI, ALPN,
//!    key logging.
//! 5. [Contexts](manual::contexts): shared settings, the global context, changing
//!    certificates while serving.
//! 6. [Sessions](manual::sessions): resuming TLS sessions, storing them, what is re-checked.
//! 7. [Async with tokio](manual::async_tokio): the `tokio` feature, cancellation,
//!    differences from the blocking API.
//! 8. [Fuzzing your protocol](manual::fuzzing): [`ChaosTransport`](testing/struct.ChaosTransport.html),
//!    a template fuzz target, the `fuzzing` feature, and how sslbridge itself is fuzzed.
//! 9. [Coming from cl+ssl](manual::cl_plus_ssl): the mapping table and where sslbridge
//!    deliberately differs.
//! 10. [Limitations and platforms](manual::limitations): what sslbridge does not do, and
//!     where it runs.
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
pub mod manual;
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
pub use transport::{duplex, MemoryPipe, Pipes, Transport};
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub use transport::{stream_fd, Descriptor, FdTransport};
pub use x509::{verify_hostname, Certificate, CertificateRef, Digest};

/// Re-exported so users can reach the raw OpenSSL pointers (`ForeignType::as_ptr`) behind
/// [`Context`], [`Certificate`] and [`Session`].
pub use foreign_types;

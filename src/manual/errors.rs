//! # Errors, end of stream and closing
//!
//! ## The error type
//!
//! Every fallible function returns [`Error`](crate::Error), an enum you can match on (it is
//! `#[non_exhaustive]`: keep a `_` arm). Its `Display` says what happened and what to do
//! about it. Through `Read`/`Write` the same error arrives as an `io::Error` whose kind is
//! kept, and `Error::from(io_error)` recovers the sslbridge error from it.
//!
//! | variant | means | `io::ErrorKind` |
//! | --- | --- | --- |
//! | [`Io`](crate::Error::Io) | your transport failed; this is its own error, untouched | the transport's |
//! | [`Ssl`](crate::Error::Ssl) | OpenSSL failed: library, reason and text of each entry of its error queue | `Other` |
//! | [`Verify`](crate::Error::Verify) `{ code, text, depth, subject, verified_by }` | the peer's chain did not verify: the X509 code and its text, the depth and subject of the failing certificate, and which side checked | `InvalidData` |
//! | [`Hostname`](crate::Error::Hostname) `{ hostname, presented }` | a valid certificate for other names | `InvalidData` |
//! | [`ServerCertificateMissing`](crate::Error::ServerCertificateMissing) | `Verify::Required`, and the server sent no certificate | `InvalidData` |
//! | [`PeerNotTls`](crate::Error::PeerNotTls) `{ received }` | the peer's first bytes cannot start a TLS record: a plaintext port, or a protocol that needs STARTTLS first; the message shows the bytes | `InvalidData` |
//! | [`PeerAlert`](crate::Error::PeerAlert) `{ alert, name }` | the peer sent a fatal alert; for certificate alerts the message says the peer rejected *our* certificate, and what to check | `ConnectionAborted` |
//! | [`UnexpectedEof`](crate::Error::UnexpectedEof) | the transport ended without the peer's close_notify: a truncation | `UnexpectedEof` |
//! | [`WantRead`](crate::Error::WantRead), [`WantWrite`](crate::Error::WantWrite) | a non-blocking operation must be called again when the transport is ready ([deadlines](super::deadlines)) | `WouldBlock` |
//! | [`Timeout`](crate::Error::Timeout) `{ operation }` | a deadline expired, or the transport's own timeout | `TimedOut` |
//! | [`VerifyLocationNotFound`](crate::Error::VerifyLocationNotFound) | a CA file or directory given to the context does not exist | `NotFound` |
//! | [`Initialize`](crate::Error::Initialize) | OpenSSL could not be initialised or seeded | `Other` |
//! | [`InvalidArgument`](crate::Error::InvalidArgument) | an argument was rejected before anything was sent | `InvalidInput` |
//! | [`StreamFailed`](crate::Error::StreamFailed) `{ kind, reason }` | the stream failed earlier and refuses further I/O | the first failure's |
//!
//! **A failed stream stays failed.** After a fatal error the TLS state is undefined, so the
//! stream does not call OpenSSL again: every later call returns
//! [`StreamFailed`](crate::Error::StreamFailed), with the `io::ErrorKind` and the message of
//! the first failure (a stream whose transport broke with `BrokenPipe` keeps answering
//! `BrokenPipe`). Open a new connection. `WantRead`, `WantWrite` and a read timeout are not
//! failures.
//!
//! **Panics do not cross into C.** A transport, or a callback (verify, SNI, ALPN, key log,
//! password), that panics is caught at the C boundary; OpenSSL sees a failure, and the panic
//! resumes in your code once the OpenSSL call has returned.
//!
//! ```
//! use std::io::Write;
//! use sslbridge::{ClientOptions, Error, Verify};
//!
//! // A peer that answers in plaintext, like an HTTP server on the port you meant for HTTPS.
//! let (transport, mut plaintext_peer) = sslbridge::duplex(64 * 1024);
//! plaintext_peer.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")?;
//! match ClientOptions::new().verify(Verify::None).connect(transport) {
//!     Err(Error::PeerNotTls { received }) => assert!(received.starts_with(b"HTTP/1.1")),
//!     other => panic!("expected PeerNotTls, got {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## End of stream
//!
//! - The peer's close_notify ends the stream cleanly: `read` returns `Ok(0)`, and
//!   `read_to_end` returns.
//! - A transport EOF without close_notify is [`Error::UnexpectedEof`](crate::Error::UnexpectedEof)
//!   (kind `UnexpectedEof`): the data may have been cut short by an attacker or a crashed
//!   peer. [`ignore_unexpected_eof(true)`](crate::ClientOptions::ignore_unexpected_eof) reads
//!   it as `Ok(0)` instead; use it only when the protocol above detects truncation itself
//!   (HTTP with `Content-Length`, a length-prefixed format).
//!
//! ```
//! use std::io::{ErrorKind, Read, Write};
//! use sslbridge::{ClientOptions, Context, Error, ServerOptions};
//!
//! # let pki = sslbridge::testing::TestPki::new()?;
//! # let key = pki.server(&["localhost"])?;
//! # let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//! let server = std::thread::spawn(move || -> Result<(), sslbridge::Error> {
//!     let mut tls = ServerOptions::new()
//!         .certificate_chain_pem(&key.chain_pem)
//!         .private_key_pem(&key.key_pem)
//!         .accept(server_end)?;
//!     tls.write_all(b"partial answer")?;
//!     drop(tls); // no close_notify: the transport simply ends
//!     Ok(())
//! });
//!
//! let mut tls = ClientOptions::new().hostname("localhost").context(trust).connect(client_end)?;
//! let mut data = Vec::new();
//! let err = tls.read_to_end(&mut data).unwrap_err();
//! assert_eq!(data, b"partial answer"); // what arrived is kept
//! assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
//! assert!(matches!(Error::from(err), Error::UnexpectedEof));
//! // The stream has failed; it keeps the kind of that failure.
//! assert_eq!(tls.read(&mut [0u8; 8]).unwrap_err().kind(), ErrorKind::UnexpectedEof);
//! # server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Ending a connection
//!
//! | call | close_notify | frees the TLS state | the transport | errors |
//! | --- | --- | --- | --- | --- |
//! | [`close()`](crate::SslStream::close) | sent, after flushing buffered output | yes | dropped | the first one met, reported (everything is freed regardless) |
//! | [`shutdown()`](crate::SslStream::shutdown) | sent (without waiting for the peer's) | no: reads return what the peer still sends; writes fail | kept | reported |
//! | `drop` | not sent | yes | dropped | ignored |
//! | [`into_inner()`](crate::SslStream::into_inner) | not sent (call `shutdown` first) | yes; bytes already read ahead from the transport are discarded | returned | none |
//!
//! `Drop` makes one best-effort flush of output buffered with
//! [`output_buffer_size`](crate::ClientOptions::output_buffer_size), as `BufWriter` does
//! (errors ignored; on a blocking transport it may block); `close` and `flush` report those
//! errors. A stream dropped after a clean exchange keeps its session resumable
//! ([sessions](super::sessions)). The async stream cannot flush in `Drop`: flush or shut it
//! down first. [`on_close`](crate::ClientOptions::on_close) registers a callback that runs
//! once, when the stream is closed, dropped or turned back into its transport.
//!
//! ## TLS 1.3 timing
//!
//! Two consequences of TLS 1.3's message order surprise people:
//!
//! - A client learns that the server rejected its certificate only on its first read (the
//!   client's handshake is complete before the server has checked the certificate). Expect
//!   the [`PeerAlert`](crate::Error::PeerAlert) there.
//! - A TLS 1.3 server sends its session tickets right after the handshake, so a client that
//!   connects and hangs up at once makes the server's `accept` fail with the transport's
//!   error (`BrokenPipe` on a [`MemoryPipe`](crate::MemoryPipe)).

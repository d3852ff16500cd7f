//! # Deadlines and non-blocking use
//!
//! A stream can wait in two ways: **blocking with deadlines** (the call waits, but no longer
//! than you allow) or **non-blocking** (the call never waits and tells you what it is waiting
//! for). Both work on both [paths](super::transports), and the async streams build on the
//! second ([async](super::async_tokio)).
//!
//! ## Deadlines
//!
//! [`ClientOptions::timeout`](crate::ClientOptions::timeout) and
//! [`ServerOptions::timeout`](crate::ServerOptions::timeout) bound the handshake and each later
//! read and write; [`SslStream::set_read_timeout`](crate::SslStream::set_read_timeout) and
//! [`set_write_timeout`](crate::SslStream::set_write_timeout) change them afterwards (the
//! write timeout also bounds the shutdown). Expiry is
//! [`Error::Timeout`](crate::Error::Timeout) naming the [`Operation`](crate::Operation), an
//! `io::Error` of kind `TimedOut` through `Read`/`Write`. The stream stays usable after a
//! read timeout; any other timeout leaves OpenSSL mid-operation, so the stream refuses
//! further I/O.
//!
//! A deadline is **enforced or refused, never ignored**:
//!
//! | transport | deadlines |
//! | --- | --- |
//! | `TcpStream`, `UnixStream`, [`Pipes`](crate::Pipes) of descriptors, [`Descriptor`](crate::Descriptor), [`FdTransport`](crate::FdTransport) (on either path) | enforced with `poll` on a non-blocking descriptor; a blocking socket still behaves as blocking to you (its mode is restored by `into_inner` and drop) |
//! | [`MemoryPipe`](crate::MemoryPipe) | enforced (sslbridge's own waits) |
//! | anything else (a `BufReader<TcpStream>` in `Pipes::new`, your own wrapper) | refused: [`Error::InvalidArgument`](crate::Error::InvalidArgument) at `start`/`connect`/`accept` (before any I/O) or at `set_*_timeout`; give sslbridge the descriptor, or set the transport's own timeouts |
//! | the async streams | refused: use `tokio::time::timeout` |
//!
//! ```
//! use std::time::Duration;
//! use sslbridge::{ClientOptions, Error, Operation, Verify};
//!
//! // A peer that never answers: the handshake gives up after 100 ms.
//! let (transport, _silent_peer) = sslbridge::duplex(64 * 1024);
//! let result = ClientOptions::new()
//!     .verify(Verify::None)
//!     .timeout(Duration::from_millis(100))
//!     .connect(transport);
//! assert!(matches!(result, Err(Error::Timeout { operation: Operation::Handshake })));
//! ```
//!
//! A read timeout leaves the stream usable, so it works as a poll for data:
//!
//! ```
//! use std::io::{ErrorKind, Read, Write};
//! use std::time::Duration;
//! use sslbridge::{ClientOptions, Context, ServerOptions};
//!
//! # let pki = sslbridge::testing::TestPki::new()?;
//! # let key = pki.server(&["localhost"])?;
//! # let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//! let (go, wait) = std::sync::mpsc::channel::<()>();
//! let server = std::thread::spawn(move || -> Result<(), sslbridge::Error> {
//!     let mut tls = ServerOptions::new()
//!         .certificate_chain_pem(&key.chain_pem)
//!         .private_key_pem(&key.key_pem)
//!         .accept(server_end)?;
//!     wait.recv().unwrap(); // silent until told
//!     tls.write_all(b"late")?;
//!     tls.close()
//! });
//!
//! let mut tls = ClientOptions::new()
//!     .hostname("localhost")
//!     .context(trust)
//!     .timeout(Duration::from_secs(10))
//!     .connect(client_end)?;
//! tls.set_read_timeout(Some(Duration::from_millis(50)))?;
//! let mut buf = [0u8; 4];
//! assert_eq!(tls.read(&mut buf).unwrap_err().kind(), ErrorKind::TimedOut);
//! go.send(())?;
//! tls.set_read_timeout(Some(Duration::from_secs(10)))?;
//! tls.read_exact(&mut buf)?; // the same stream, after the timeout
//! assert_eq!(&buf, b"late");
//! # server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! **The transport's own timeout** still works on transports sslbridge cannot bound: its
//! `TimedOut` is reported as `Error::Timeout`, and so is its `WouldBlock` during a blocking
//! `connect` or `accept` (std's sockets report an expired `set_read_timeout` as `WouldBlock`
//! on Unix; a transport that is non-blocking on purpose needs `start` and `handshake`, below).
//!
//! **How deadlines are enforced on descriptors.** With a timeout set, sslbridge switches a
//! blocking descriptor to non-blocking mode for the life of the stream and waits with `poll`;
//! `into_inner` and drop restore the mode. The mode belongs to the open file description, so
//! another handle sharing it (a `try_clone` of the socket, a parent process's copy) sees the
//! change meanwhile. A descriptor you made non-blocking yourself is never waited on: it gets
//! the non-blocking behaviour below.
//!
//! ## Non-blocking transports
//!
//! A non-blocking transport (a socket or a [`MemoryPipe`](crate::MemoryPipe) with
//! `set_nonblocking(true)`, or your own transport returning `WouldBlock`) stays non-blocking:
//!
//! - [`start`](crate::ClientOptions::start) sets the connection up without any I/O;
//! - [`handshake`](crate::SslStream::handshake) returns [`Error::WantRead`](crate::Error::WantRead)
//!   or [`Error::WantWrite`](crate::Error::WantWrite) until it completes (`connect` and
//!   `accept` are for blocking transports);
//! - `Read` and `Write` return `io::ErrorKind::WouldBlock`;
//! - call again when the transport is ready. Nothing is lost in between: `WouldBlock` from
//!   the transport's read, write *or flush* is a retry, never a failure.
//!
//! [`Error::is_would_block`](crate::Error::is_would_block) recognises both variants. One rule
//! comes from OpenSSL: **a write that returned `WouldBlock` must be retried with the same
//! bytes** (a buffer that starts with them), because OpenSSL has already encrypted them into
//! a record. A retry with other data is refused with an error of kind `InvalidInput` rather
//! than silently sending the old bytes. `write_all` loops that resume where they stopped
//! follow the rule by themselves.
//!
//! Here a client and a server share one thread, both non-blocking; a real program would wait
//! for readiness where this one just tries the other side:
//!
//! ```
//! use std::io::{self, Read, Write};
//! use sslbridge::{ClientOptions, Context, Error, ServerOptions};
//!
//! # let pki = sslbridge::testing::TestPki::new()?;
//! # let key = pki.server(&["localhost"])?;
//! # let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let (mut a, mut b) = sslbridge::duplex(64 * 1024);
//! a.set_nonblocking(true);
//! b.set_nonblocking(true);
//! let mut client = ClientOptions::new().hostname("localhost").context(trust).start(a)?;
//! let mut server = ServerOptions::new()
//!     .certificate_chain_pem(&key.chain_pem)
//!     .private_key_pem(&key.key_pem)
//!     .start(b)?;
//!
//! // The handshake: each side runs until it waits for the other.
//! let (mut client_done, mut server_done) = (false, false);
//! while !(client_done && server_done) {
//!     for (done, step) in [(&mut client_done, client.handshake()), (&mut server_done, server.handshake())] {
//!         match step {
//!             Ok(()) => *done = true,
//!             Err(Error::WantRead | Error::WantWrite) => {} // wait for readiness here
//!             Err(e) => return Err(e.into()),
//!         }
//!     }
//! }
//!
//! // Writing: on WouldBlock, offer the same bytes again once the transport is writable.
//! let mut message: &[u8] = b"hello, non-blocking world";
//! while !message.is_empty() {
//!     match client.write(message) {
//!         Ok(n) => message = &message[n..],
//!         Err(e) if e.kind() == io::ErrorKind::WouldBlock => {} // wait for writable, retry
//!         Err(e) => return Err(e.into()),
//!     }
//! }
//!
//! // Reading: WouldBlock means "nothing yet".
//! let mut received = Vec::new();
//! let mut buf = [0u8; 64];
//! while received.len() < 25 {
//!     match server.read(&mut buf) {
//!         Ok(n) => received.extend_from_slice(&buf[..n]),
//!         Err(e) if e.kind() == io::ErrorKind::WouldBlock => {} // wait for readable
//!         Err(e) => return Err(e.into()),
//!     }
//! }
//! assert_eq!(received, b"hello, non-blocking world");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Under an event loop
//!
//! To drive a stream from `poll`, `epoll` or `mio`, register the transport's own descriptor
//! ([`SslStream::get_ref`](crate::SslStream::get_ref) reaches the socket; the stream's
//! private duplicate shares its readiness) and wait for what the last call asked for:
//! readable after `WantRead`, writable after `WantWrite`. Two habits keep such a loop
//! correct:
//!
//! - **Read until `WouldBlock` before waiting for readable.** OpenSSL and the BIO read
//!   ahead, so decrypted data (or a whole record) can sit inside the stream while the socket
//!   has nothing more to report.
//! - **Wait for the direction asked for.** A read can need to write (a TLS 1.3 key update is
//!   answered from inside `read`), and a write can need to read during a handshake.
//!
//! For tokio, use the [`tokio` feature](super::async_tokio) instead of doing this by hand.

//! # Limitations and platforms
//!
//! ## Platforms
//!
//! | platform | what works | how it is checked |
//! | --- | --- | --- |
//! | Linux | everything | the whole test suite in CI |
//! | macOS, FreeBSD | everything (the fd fast path and deadlines use POSIX calls through `libc`) | type-checked and linted in CI (x86_64 and arm64 macOS, x86_64 FreeBSD); not run |
//! | Windows | everything but the fd fast path: the custom BIO over any transport (`TcpStream` too), `MemoryPipe`, contexts, certificates, sessions, callbacks, `tokio`, `testing`; deadlines on `MemoryPipe` only | type-checked and linted in CI (all targets); the unit, core, tls, faults and tokio tests that need no `openssl` binary passed under wine 8.0 with the vendored OpenSSL 3.6 |
//!
//! The items of the fd fast path are Unix-only and marked so in these docs: `Pipes::from_fds`,
//! `Descriptor`, `connect_fd`/`accept_fd`, `FdTransport`, `stream_fd`. On Windows a
//! `TcpStream` goes through the custom BIO (there is no socket-BIO fast path over `RawSocket`
//! yet), and a `timeout` is refused (`Error::InvalidArgument`) except on a `MemoryPipe`: Windows
//! leaves a socket in an undefined state after an `SO_RCVTIMEO` timeout.
//!
//! - **Rust**: 1.87 or newer.
//! - **OpenSSL**: 3.0 to 3.6. The system library (found with `pkg-config`) is the default and
//!   is tested with 3.0; the `vendored` feature builds 3.6 from source.
//!
//! ## What sslbridge does not do, and why
//!
//! - **The fd fast path and descriptor deadlines are Unix only**: they use descriptors, `poll`
//!   and `fcntl` (see the platform table above).
//! - **A raw `OwnedFd` is not a transport by itself.** `connect` and `accept` take a
//!   [`Transport`](crate::Transport), and Rust's coherence rules forbid accepting `OwnedFd`
//!   next to every `Read + Write` type. Pass it to
//!   [`connect_fd`](crate::ClientOptions::connect_fd) /
//!   [`accept_fd`](crate::ServerOptions::accept_fd) or wrap it in a
//!   [`Descriptor`](crate::Descriptor) ([transports](super::transports)).
//! - **Deadlines change a descriptor's mode.** With a timeout set, sslbridge switches a
//!   blocking descriptor to non-blocking mode for the life of the stream (restored by
//!   `into_inner` and drop); another handle that shares the same open file description sees
//!   the change meanwhile ([deadlines](super::deadlines)).
//! - **Deadlines only where sslbridge controls the waiting**: on descriptors it knows and on
//!   [`MemoryPipe`](crate::MemoryPipe). On other transports a timeout is refused
//!   (`Error::InvalidArgument`); set the transport's own timeouts instead.
//! - **`Drop` never sends close_notify.** Call [`close()`](crate::SslStream::close) (or
//!   [`shutdown()`](crate::SslStream::shutdown)) for an orderly end. Like `BufWriter`, `Drop`
//!   makes one best-effort flush of output buffered with
//!   [`output_buffer_size`](crate::ClientOptions::output_buffer_size) (errors ignored; on a
//!   blocking transport it may block). The async stream cannot flush in `Drop`: flush or shut
//!   it down before dropping it.
//! - **[`into_inner()`](crate::SslStream::into_inner) discards bytes already read ahead** from
//!   the transport.
//! - **A non-blocking write that returned `WouldBlock` must be retried with the same data**
//!   (OpenSSL's rule: it has already encrypted them); other data is refused with
//!   `InvalidInput`. For the same reason async writes are not cancel-safe unless an output
//!   buffer is set ([async](super::async_tokio)).
//! - **TLS 1.3 reports some failures late.** A client learns that the server rejected its
//!   certificate only on its first read, and a server's `accept` fails with the transport's
//!   error when a client connects and hangs up at once, because the server sends session
//!   tickets right after the handshake ([errors](super::errors)).
//! - **Servers request no client certificate unless told to** (OpenSSL's `VerifyMode::NONE`,
//!   not cl+ssl's `PEER`): set [`verify_mode`](crate::ServerOptions::verify_mode) on the
//!   stream or the context for mutual TLS ([verification](super::verification)).
//! - **An SNI callback switches only part of the context.** With
//!   [`ServerOptions::sni_callback`](crate::ServerOptions::sni_callback), the certificate,
//!   key, verify mode and verify depth come from the chosen context; the other settings
//!   (protocol versions, ciphers, options) stay those of the first context, as in OpenSSL.
//! - **The fd fast path bypasses the transport's own code.** For an
//!   [`FdTransport`](crate::FdTransport) or [`Pipes::from_fds`](crate::Pipes::from_fds),
//!   OpenSSL reads and writes the descriptor, so whatever the type's `Read`/`Write` would
//!   buffer or translate is skipped; `unwrap_fd(false)` goes through them.
//! - **The async streams** have no fd fast path, no `AsyncBufRead` and no blocking timeouts
//!   ([async](super::async_tokio)).
//! - **A rebuilt context does not resume earlier sessions**: it has a new session cache and
//!   new ticket keys ([sessions](super::sessions)).
//! - **Not ahead of rust-openssl on every benchmark row.** sslbridge makes one `read` fill a
//!   large buffer from many records and one record from a vectored write, and it keeps
//!   nothing from an idle connection's buffers. But each 1 KiB write runs about 4% more
//!   instructions than rust-openssl's (mostly the look at the thread's OpenSSL error queue
//!   before each call, which keeps errors left there by other code from being blamed on this
//!   stream). Over loopback TCP with 1 KiB writes, OpenSSL's read-ahead on the fd path lets
//!   the receiver empty the socket at each read and sleep, so the sender pays to wake it:
//!   that row was 0.58–0.96 × rust-openssl with the defaults and 0.79–1.38 with
//!   [`fd_read_ahead(false)`](crate::ClientOptions::fd_read_ahead) (one record per pair of
//!   system calls, as rust-openssl reads) in five runs. A reader with a 64 KiB buffer takes
//!   everything that has arrived, which makes that effect stronger: the TCP 1 KiB row with
//!   64 KiB reads was 0.44 in one run. An idle connection holds about 0.8% more memory
//!   than rust-openssl's, all of it sslbridge's own per-connection state (about 280 bytes,
//!   for the transport counters, the read-ahead and record bookkeeping and the rest). The
//!   async reader over `tokio::io::duplex` with 1 KiB records is 0.84–1.00 × tokio-openssl:
//!   in tokio's multi-thread runtime a reader woken by a writer task runs after it on the
//!   writer's thread (tokio's LIFO slot, which idle threads cannot take from), and only a
//!   read that runs out of budget sends it to the run queue, where an idle thread can take it
//!   ([async](super::async_tokio)).
//!   BENCHMARKS.md has the figures and says which rows are behind.

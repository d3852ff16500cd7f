//! # Transports
//!
//! A transport is whatever carries the encrypted bytes. Every `Read + Write` value is one,
//! without implementing anything: the [`Transport`](crate::Transport) trait is implemented
//! for all of them. It may be owned (`TcpStream`) or borrowed (`&mut TcpStream`,
//! `&TcpStream`), `Send` or not (a pipe built on `Rc`); `Box<dyn Transport>` and
//! `Box<dyn Transport + Send>` are transports too. An [`SslStream<T>`](crate::SslStream) is
//! `Send` exactly when `T` is, so a stream over a `Send` transport can move to another
//! thread.
//!
//! ## Two paths
//!
//! When a stream is set up, sslbridge looks at the transport's type once and picks one of two
//! ways for OpenSSL to reach it:
//!
//! - **The custom BIO**, for every transport. OpenSSL calls one `BIO_METHOD` whose callbacks
//!   call your transport's `read`, `write` and `flush`. Your transport's errors come back to
//!   you with their own kind, a panic inside it is resumed in your code after OpenSSL has
//!   returned, and `WouldBlock` is a retry (see [deadlines](super::deadlines)).
//! - **The fd fast path**, for the descriptor types sslbridge recognises. OpenSSL reads and
//!   writes the descriptor itself, without calling back into Rust. Sockets get a socket BIO
//!   (`send`/`recv`); pipes, FIFOs, files and ttys get an fd BIO (`read`/`write`), since
//!   `send` on a pipe fails with `ENOTSOCK`. A pair of descriptors gets one BIO per
//!   direction. cl+ssl calls this "unwrapping" the stream.
//!
//! | transport | how to pass it | path |
//! | --- | --- | --- |
//! | `TcpStream`, `UnixStream`, owned or borrowed (`&`, `&mut`) | as it is | fd fast path (socket BIO) |
//! | `File` | as it is | fd fast path (fd BIO) |
//! | a child's stdout and stdin, OS pipes | [`Pipes::new`](crate::Pipes::new)`(reader, writer)`, when both halves are `ChildStdout`, `ChildStdin`, `ChildStderr`, `File`, `PipeReader`, `PipeWriter`, `TcpStream`, `UnixStream` or `Descriptor` | fd fast path, one fd BIO per direction |
//! | any reader and any writer | [`Pipes::new`](crate::Pipes::new)`(reader, writer)` | custom BIO |
//! | your own descriptor types | [`Pipes::from_fds`](crate::Pipes::from_fds)`(r, w)` (any `AsFd` halves) or [`FdTransport::new`](crate::FdTransport::new)`(t)` (any `Read + Write + AsFd`; `Send` when `t` is) | fd fast path |
//! | a raw descriptor | [`connect_fd`](crate::ClientOptions::connect_fd) / [`accept_fd`](crate::ServerOptions::accept_fd) with an `OwnedFd` (closed with the stream) or a `BorrowedFd<'static>` (not closed); or a [`Descriptor`](crate::Descriptor) | fd fast path |
//! | in memory | [`duplex`](crate::duplex)`(capacity)`, a pair of [`MemoryPipe`](crate::MemoryPipe)s | custom BIO, zero-copy into OpenSSL's buffer |
//! | anything else | as it is | custom BIO |
//!
//! [`unwrap_fd(false)`](crate::ClientOptions::unwrap_fd) forces the custom BIO (your
//! transport's `Read`/`Write` are then called even for a socket);
//! [`SslStream::uses_fd_fast_path`](crate::SslStream::uses_fd_fast_path) says which path is
//! live; [`stream_fd`](crate::stream_fd) is cl+ssl's `stream-fd`, the descriptor behind a
//! transport. A `Box<dyn Transport>` is looked through: a boxed socket still takes the fd
//! fast path.
//!
//! ```
//! use std::os::unix::net::UnixStream;
//! use sslbridge::{ClientOptions, Pipes, Transport, Verify};
//!
//! // `start` sets a stream up without any I/O, so no peer is needed to see the path.
//! let client = || ClientOptions::new().verify(Verify::None);
//!
//! let (socket, _peer) = UnixStream::pair()?;
//! assert!(client().start(socket)?.uses_fd_fast_path());
//!
//! let (mut socket, _peer) = UnixStream::pair()?;
//! assert!(client().start(&mut socket)?.uses_fd_fast_path()); // borrowed: still the fd path
//!
//! let (socket, _peer) = UnixStream::pair()?;
//! let boxed: Box<dyn Transport + Send> = Box::new(socket);
//! assert!(client().start(boxed)?.uses_fd_fast_path()); // looked through
//!
//! let (socket, _peer) = UnixStream::pair()?;
//! assert!(!client().unwrap_fd(false).start(socket)?.uses_fd_fast_path()); // forced off
//!
//! // A `BufReader` may hold bytes the descriptor no longer has: sslbridge goes through it.
//! let (socket, _peer) = UnixStream::pair()?;
//! let buffered = Pipes::new(std::io::BufReader::new(socket.try_clone()?), socket);
//! assert!(!client().start(buffered)?.uses_fd_fast_path());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Adding your own transport
//!
//! Implement `Read` and `Write` for it; that is all. A serial port, a framing layer inside
//! another protocol, a channel between threads: the custom BIO calls your methods. The
//! example below counts what crosses the wire.
//!
//! ```
//! use std::io::{self, Read, Write};
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::sync::Arc;
//! use sslbridge::{ClientOptions, Context, MemoryPipe, ServerOptions};
//!
//! /// A transport of your own: another transport plus a byte counter.
//! struct Counted {
//!     inner: MemoryPipe,
//!     sent: Arc<AtomicU64>,
//! }
//!
//! impl Read for Counted {
//!     fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
//!         self.inner.read(buf)
//!     }
//! }
//!
//! impl Write for Counted {
//!     fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
//!         let n = self.inner.write(buf)?;
//!         self.sent.fetch_add(n as u64, Ordering::Relaxed);
//!         Ok(n)
//!     }
//!     fn flush(&mut self) -> io::Result<()> {
//!         self.inner.flush()
//!     }
//! }
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
//!     let mut request = [0u8; 4];
//!     tls.read_exact(&mut request)?;
//!     tls.write_all(b"pong")?;
//!     tls.close()
//! });
//!
//! let sent = Arc::new(AtomicU64::new(0));
//! let transport = Counted { inner: client_end, sent: sent.clone() };
//! let mut tls = ClientOptions::new().hostname("localhost").context(trust).connect(transport)?;
//! tls.write_all(b"ping")?;
//! let mut reply = [0u8; 4];
//! tls.read_exact(&mut reply)?;
//! assert_eq!(&reply, b"pong");
//! assert!(sent.load(Ordering::Relaxed) > 4); // the ClientHello, Finished, one record…
//! println!("{:?}", tls.transport_stats()); // reads, writes and flushes your transport saw
//! # server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! If your type owns a descriptor and its `Read`/`Write` are plain system calls on it,
//! implement `AsFd` as well and wrap it in [`FdTransport`](crate::FdTransport): OpenSSL then
//! reads and writes the descriptor directly, bypassing your methods (anything they would
//! buffer or translate is skipped; `unwrap_fd(false)` goes through them again). For separate
//! read and write descriptors, [`Pipes::from_fds`](crate::Pipes::from_fds) does the same. In
//! both cases the descriptor is asked for (through `AsFd`) when the stream is set up, never
//! remembered from before.
//!
//! ## Records, reads and flushes
//!
//! OpenSSL reads a record in two steps: the 5-byte header, then the body. On the custom BIO
//! sslbridge reads ahead (up to [`read_ahead_size`](crate::ClientOptions::read_ahead_size),
//! 34 KiB by default: two full records), so one transport read usually serves a whole
//! record; [`SslStream::transport_stats`](crate::SslStream::transport_stats) counts the calls
//! your transport sees. A [`MemoryPipe`](crate::MemoryPipe) is read straight into OpenSSL's
//! record buffer, which saves a copy. On the fd fast path the kernel does the copying and
//! OpenSSL's own read-ahead saves a system call per record
//! ([`fd_read_ahead(false)`](crate::ClientOptions::fd_read_ahead) turns it off: worth trying
//! when a process on the same machine sends you a stream of small records, see its
//! documentation).
//!
//! On the custom BIO each `write` that produces records flushes the transport before it
//! returns (OpenSSL itself flushes only after handshake flights), so a buffering transport
//! (`BufWriter`, `Stdout`, a framing layer) delivers every record without your help. A flush
//! that would block is retried by the next `write`, `flush` or `read`. With
//! [`output_buffer_size(n)`](crate::ClientOptions::output_buffer_size), writes are collected
//! into one record and go out on `flush` or when the buffer is full; dropping the stream
//! makes one best-effort flush of them, as `BufWriter` does. The flush per `write` costs
//! nothing measurable over an unbuffered transport (both make one system call per record;
//! see BENCHMARKS.md); `output_buffer_size` is the way to fewer system calls for small writes.
//!
//! A `read` fills your buffer from as many records as can be had without waiting (a 64 KiB
//! buffer takes sixty-four 1 KiB records in one call) and never waits once it has bytes: over
//! a socket, pipe or file it asks `poll`, with no timeout, before each system call for more,
//! so it takes what has arrived and stops where nothing more has; a transport whose `read`
//! might wait (an `FdTransport`, your own `Read`) gives only the whole records already read
//! ahead. `write_vectored` sends a header and a body as one record. A connection that goes
//! idle gives its record buffers back
//! ([`release_buffers`](crate::ClientOptions::release_buffers)), so thousands of idle
//! connections hold no 16 KiB buffers. The details, with `fd_read_ahead(false)` and
//! timeouts, are on [`SslStream`](crate::SslStream#reads-writes-and-memory).
//!
//! ## In memory: `duplex`
//!
//! [`duplex(capacity)`](crate::duplex) returns two connected [`MemoryPipe`](crate::MemoryPipe)
//! ends, each direction buffering up to `capacity` bytes. It blocks like a socket (a read
//! waits for data, a write for room) unless
//! [`set_nonblocking(true)`](crate::MemoryPipe::set_nonblocking); dropping one end gives the
//! other EOF on read and `BrokenPipe` on write. sslbridge enforces deadlines on it, and the
//! BIO hands received records into OpenSSL's buffer without an intermediate copy. It is the
//! transport of the examples in this manual and a good one for tests.
//!
//! ## Child processes and pipes
//!
//! [`Pipes`](crate::Pipes) joins a reader and a writer into one transport. With a child's
//! stdout and stdin it runs on the fd fast path, one fd BIO per direction. Here both ends are
//! OS pipes in one process:
//!
//! ```
//! use std::io::{Read, Write};
//! use sslbridge::{ClientOptions, Context, Pipes, ServerOptions};
//!
//! # let pki = sslbridge::testing::TestPki::new()?;
//! # let key = pki.server(&["localhost"])?;
//! # let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let (server_reads, client_writes) = std::io::pipe()?;
//! let (client_reads, server_writes) = std::io::pipe()?;
//!
//! let server = std::thread::spawn(move || -> Result<(), sslbridge::Error> {
//!     let mut tls = ServerOptions::new()
//!         .certificate_chain_pem(&key.chain_pem)
//!         .private_key_pem(&key.key_pem)
//!         .accept(Pipes::new(server_reads, server_writes))?;
//!     let mut request = [0u8; 5];
//!     tls.read_exact(&mut request)?;
//!     tls.write_all(&request)?;
//!     tls.close()
//! });
//!
//! let pipes = Pipes::new(client_reads, client_writes);
//! assert!(pipes.descriptors().is_some());
//! let mut tls = ClientOptions::new().hostname("localhost").context(trust).connect(pipes)?;
//! assert!(tls.uses_fd_fast_path());
//! tls.write_all(b"hello")?;
//! let mut echo = Vec::new();
//! tls.read_to_end(&mut echo)?; // until the server's close_notify
//! assert_eq!(echo, b"hello");
//! server.join().unwrap()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The child's side is `Pipes::from_fds(std::io::stdin(), std::io::stdout())`;
//! [`Pipes`](crate::Pipes) shows both sides, and `cargo run --release --example pipe` runs a
//! TLS server in a child process over its stdin and stdout.
//!
//! ## Descriptors, signals and interrupted calls
//!
//! - **OpenSSL works on the stream's own descriptors.** When a stream is created it makes
//!   duplicates of the transport's descriptors (`fcntl(F_DUPFD_CLOEXEC)`) and closes them
//!   when it is dropped or [`into_inner`](crate::SslStream::into_inner) returns. OpenSSL,
//!   `poll` and the blocking-mode switches use only these, so replacing or closing the
//!   transport through [`get_mut`](crate::SslStream::get_mut) can never point OpenSSL at
//!   another file. `SSL_get_fd` on [`as_ptr`](crate::SslStream::as_ptr) answers the
//!   duplicate. Running out of descriptors (`EMFILE`, `ENFILE`) makes `start`, `connect` and
//!   `accept` fail with an error that names the limit.
//! - **Owned or borrowed.** A [`Descriptor`](crate::Descriptor) made from an `OwnedFd` closes
//!   it with the stream; one made with [`Descriptor::borrowed`](crate::Descriptor::borrowed)
//!   (or the `unsafe` [`Descriptor::borrow_raw`](crate::Descriptor::borrow_raw), cl+ssl's
//!   stream over an fd number) never closes it.
//! - **`EINTR` is a retry** on both paths: a signal that interrupts a blocking call restarts
//!   it, with the time that remains when there is a deadline.
//! - **`SIGPIPE`.** On the fd path OpenSSL writes with `write`/`send` without
//!   `MSG_NOSIGNAL`. Rust programs ignore `SIGPIPE` by default, so a vanished peer is an
//!   error of kind `BrokenPipe`; a C program that hosts sslbridge must ignore `SIGPIPE`
//!   itself, or the signal kills it.
//!
//! ## STARTTLS: upgrading a plaintext connection
//!
//! Protocols such as SMTP, IMAP and LDAP talk plaintext first and switch to TLS after an
//! upgrade command. Plaintext bytes that arrive *after* the server's "go ahead" and sit in
//! your buffered reader are an injection attack (CVE-2011-0411: an attacker on the path
//! appends commands, which the plaintext buffer then feeds to the TLS session as if they were
//! protected). Refuse the upgrade when the `BufReader` still holds bytes, then give TLS the
//! inner `TcpStream` itself, which keeps the fd fast path and deadlines:
//!
//! ```
//! use std::io::BufReader;
//! use std::net::TcpStream;
//! use sslbridge::{ClientOptions, SslStream};
//!
//! /// Called after "STARTTLS" was sent and the server's "220 go ahead" was read.
//! fn upgrade(plain: BufReader<TcpStream>) -> Result<SslStream<TcpStream>, Box<dyn std::error::Error>> {
//!     if !plain.buffer().is_empty() {
//!         return Err("bytes after the STARTTLS reply: refusing to upgrade".into());
//!     }
//!     Ok(ClientOptions::new().hostname("mail.example").connect(plain.into_inner())?)
//! }
//! # let _ = upgrade;
//! ```
//!
//! `cargo run --example starttls` shows both sides, and the refusal when a line is injected.
//!
//! ## TLS inside TLS
//!
//! An [`SslStream`](crate::SslStream) is `Read + Write`, so it is itself a transport: a
//! connection through an HTTPS proxy (HTTP `CONNECT`) runs the inner TLS session over the
//! outer stream, and the proxy relays records it cannot read.
//!
//! ```
//! use std::net::TcpStream;
//! use sslbridge::{ClientOptions, Error, SslStream};
//!
//! /// `outer` is verified TLS to the proxy, which has answered our CONNECT with 200.
//! fn through_proxy(outer: SslStream<TcpStream>) -> Result<SslStream<SslStream<TcpStream>>, Error> {
//!     ClientOptions::new().hostname("origin.example").connect(outer)
//! }
//! # let _ = through_proxy;
//! ```
//!
//! The inner stream goes through the custom BIO (its transport is not a descriptor).
//! `cargo run --example proxy_tunnel` runs a client, a proxy and an origin server this way.

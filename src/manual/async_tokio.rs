//! # Async with tokio
//!
//! With the `tokio` feature, the [`sslbridge::tokio`][tokio] module runs the same engine over
//! any tokio transport: `S: AsyncRead + AsyncWrite + Unpin`, such as a
//! `tokio::net::TcpStream`, a `UnixStream`, one end of `tokio::io::duplex`, or a borrowed
//! `&mut TcpStream`. [`ClientOptions::connect_async`][connect_async] and
//! [`ServerOptions::accept_async`][accept_async] return an async [`SslStream<S>`][stream]
//! that implements tokio's `AsyncRead` and `AsyncWrite`, and is `Send` exactly when `S` is,
//! so it works with `tokio::spawn`. Every option and verification rule of the blocking API
//! applies unchanged, and so do the end-of-stream rules: `Ok(0)` at the peer's close_notify,
//! `UnexpectedEof` without it. The feature needs tokio's I/O traits and its `rt` feature
//! (for the cooperative budget, below); sslbridge starts no runtime of its own.
//!
//! ```toml
//! [dependencies]
//! sslbridge = { version = "0.1", features = ["tokio"] }
//! ```
//!
//! ```
//! # #[cfg(feature = "tokio")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use sslbridge::{ClientOptions, Context, ServerOptions};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tokio::net::{TcpListener, TcpStream};
//!
//! let pki = sslbridge::testing::TestPki::new()?;
//! let key = pki.server(&["localhost"])?;
//! let server_ctx = Context::builder()
//!     .certificate_chain_pem(&key.chain_pem)
//!     .private_key_pem(&key.key_pem)
//!     .build()?;
//! let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//!
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let address = listener.local_addr()?;
//! let server = tokio::spawn(async move {
//!     let (tcp, _) = listener.accept().await?;
//!     let mut tls = ServerOptions::new().context(server_ctx).accept_async(tcp).await?;
//!     let mut request = [0u8; 4];
//!     tls.read_exact(&mut request).await?;
//!     tls.write_all(b"pong").await?;
//!     tls.shutdown().await?; // close_notify, then the transport's own shutdown
//!     Ok::<_, std::io::Error>(())
//! });
//!
//! let tcp = TcpStream::connect(address).await?;
//! // Deadlines come from tokio: bound any step with `tokio::time::timeout`.
//! let connecting = ClientOptions::new().hostname("localhost").context(trust).connect_async(tcp);
//! let mut tls = tokio::time::timeout(Duration::from_secs(10), connecting).await??;
//! println!("{:?}", tls.ssl().protocol_version()); // the blocking stream's inspectors
//! tls.write_all(b"ping").await?;
//! let mut reply = Vec::new();
//! tls.read_to_end(&mut reply).await?; // Ok at the server's close_notify
//! assert_eq!(reply, b"pong");
//! server.await??;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "tokio"))]
//! # fn main() {}
//! ```
//!
//! ## Differences from the blocking API
//!
//! - **Deadlines**: the blocking [`timeout`](crate::ClientOptions::timeout) option is refused
//!   with [`Error::InvalidArgument`](crate::Error::InvalidArgument); wrap the future in
//!   `tokio::time::timeout` instead.
//! - **Keeping a stream whose handshake failed**: `start_async` (on
//!   [`ClientOptions`][client_start_async] or [`ServerOptions`][server_start_async]) followed
//!   by [`handshake().await`][handshake] keeps the stream even if the handshake fails, and it
//!   can then be shut down without "shutdown while in init" errors.
//! - **Inspection** goes through [`ssl()`][ssl], the blocking stream inside
//!   (`protocol_version`, `peer_certificate`, `session`, …); its transport is the adapter
//!   [`AsyncTransport`][adapter].
//! - **No fd fast path**: the transport is always called through the custom BIO.
//! - **No `AsyncBufRead`**: wrap the stream in `tokio::io::BufReader`.
//! - **Cooperative budget**: a read that takes many records from the read-ahead buffer
//!   charges each to the task's tokio budget, so a task reading a flood of small records
//!   yields as often as one reading them one by one (a read out of budget returns `Pending`
//!   and takes nothing). See [the module documentation][tokio] for an example.
//! - **`Drop` cannot flush** output buffered with
//!   [`output_buffer_size`](crate::ClientOptions::output_buffer_size) (it has no task
//!   context): call `flush().await` or `shutdown().await` first.
//! - With `tokio::io::split`, both halves poll the one transport; a read that must send
//!   something (the answer to a TLS 1.3 key update) polls the write side from the reading
//!   task.
//!
//! ## Cancellation
//!
//! Dropping any future, or the stream, frees everything exactly once, without blocking.
//!
//! - **Reads are cancel-safe** (fine in `tokio::select!`): a pending read has consumed no
//!   plaintext.
//! - **A handshake** cancelled through [`handshake()`][handshake] resumes when called again;
//!   dropping a `connect_async`/`accept_async` future drops the connection.
//! - **Writes are not cancel-safe**: after a pending write is dropped, OpenSSL may already
//!   hold an encrypted record made from the start of that buffer. Write the same bytes again
//!   (a write with other data is refused with `InvalidInput`), or close the connection. With
//!   [`output_buffer_size(n)`](crate::ClientOptions::output_buffer_size) writes become
//!   cancel-safe: a write copies into the stream's buffer, and `flush` sends it.
//! - **Shutdown is idempotent**: close_notify is sent once, however often `shutdown` is
//!   called or cancelled.
//!
//! The [module documentation][tokio] explains how the adapter lends the task's context to the
//! BIO, and lists the rules above in full.
//!
#![cfg_attr(
    not(feature = "tokio"),
    doc = "*These pages were built without the `tokio` feature, so the links to the async \
           items lead nowhere: build the documentation with `--features tokio`.*"
)]
#![cfg_attr(not(feature = "tokio"), doc = "")]
#![cfg_attr(
    feature = "tokio",
    doc = "
[tokio]: crate::tokio
[stream]: crate::tokio::SslStream
[handshake]: crate::tokio::SslStream::handshake
[ssl]: crate::tokio::SslStream::ssl
[adapter]: crate::tokio::AsyncTransport
[connect_async]: crate::ClientOptions::connect_async
[accept_async]: crate::ServerOptions::accept_async
[client_start_async]: crate::ClientOptions::start_async
[server_start_async]: crate::ServerOptions::start_async
"
)]
#![cfg_attr(
    not(feature = "tokio"),
    doc = "
[tokio]: ../../tokio/index.html
[stream]: ../../tokio/struct.SslStream.html
[handshake]: ../../tokio/struct.SslStream.html#method.handshake
[ssl]: ../../tokio/struct.SslStream.html#method.ssl
[adapter]: ../../tokio/struct.AsyncTransport.html
[connect_async]: ../../struct.ClientOptions.html#method.connect_async
[accept_async]: ../../struct.ServerOptions.html#method.accept_async
[client_start_async]: ../../struct.ClientOptions.html#method.start_async
[server_start_async]: ../../struct.ServerOptions.html#method.start_async
"
)]

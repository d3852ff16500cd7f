//! TLS over tokio: the same engine and the same custom BIO, driven by `async`/`.await`.
//!
//! Enabled by the `tokio` feature. [`ClientOptions::connect_async`] and
//! [`ServerOptions::accept_async`] take any `S: AsyncRead + AsyncWrite + Unpin` (a
//! `tokio::net::TcpStream`, a `UnixStream`, one end of `tokio::io::duplex`, a borrowed
//! `&mut TcpStream`, …) and return an [`SslStream<S>`] that implements tokio's [`AsyncRead`]
//! and [`AsyncWrite`], `Send` exactly when `S` is.
//! Every option and verification rule of the blocking API applies unchanged.
//!
//! ```
//! use sslbridge::{ClientOptions, Context, ServerOptions};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pki = sslbridge::testing::TestPki::new()?;
//! let server_key = pki.server(&["localhost"])?;
//! let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let (client_end, server_end) = tokio::io::duplex(64 * 1024);
//!
//! let server = tokio::spawn(async move {
//!     let mut tls = ServerOptions::new()
//!         .certificate_chain_pem(&server_key.chain_pem)
//!         .private_key_pem(&server_key.key_pem)
//!         .accept_async(server_end)
//!         .await?;
//!     let mut request = Vec::new();
//!     tls.read_to_end(&mut request).await?; // ends at the client's close_notify
//!     tls.write_all(b"bye").await?;
//!     tls.shutdown().await?;
//!     Ok::<_, std::io::Error>(request)
//! });
//!
//! let mut tls = ClientOptions::new()
//!     .hostname("localhost")
//!     .context(trust)
//!     .connect_async(client_end)
//!     .await?;
//! tls.write_all(b"hello over async TLS").await?;
//! tls.shutdown().await?; // close_notify, then the transport's own shutdown
//! let mut reply = Vec::new();
//! tls.read_to_end(&mut reply).await?;
//! assert_eq!(reply, b"bye");
//! assert_eq!(server.await??, b"hello over async TLS");
//! # Ok(())
//! # }
//! ```
//!
//! # How it works
//!
//! The transport is wrapped in an [`AsyncTransport`], a plain `Read + Write` value that the
//! BIO calls like any other transport. For the duration of one `poll_*` call it holds the
//! task's [`Context`]; its `read`/`write`/`flush` call the transport's `poll_*` with it and
//! turn `Poll::Pending` into `io::ErrorKind::WouldBlock`, which the BIO reports to OpenSSL as
//! "retry". The transport has registered the task's waker by then, so the task is woken when
//! the operation can make progress and OpenSSL resumes where it stopped. The context pointer
//! is cleared before every `poll_*` returns (also when it panics).
//!
//! # Cooperative scheduling
//!
//! tokio makes a task yield once it has used its budget (128 operations on resources per
//! turn), so that a busy task cannot starve the others on its thread. A `poll_read` that
//! takes many records calls the transport only a few times for all of them (filling the
//! stream's read-ahead buffer; a tokio transport charges its own unit for each call), so it
//! charges the task's budget itself: one unit for the poll, and one for each further
//! `SSL_read` that returned data, about one per record. Out of budget, `poll_read` returns `Pending` before it takes
//! anything (reads stay cancel-safe). A task reading many small records thus yields about as
//! often as one reading them record by record.
//!
//! With the multi-thread scheduler this also matters for speed. A reader woken by a writer
//! task goes into that worker thread's LIFO slot, which idle workers cannot take tasks from,
//! and runs there after the writer, on the writer's budget. A read that runs out of budget
//! puts the reader at the back of the run queue, where an idle worker can take it over.
//!
//! Nothing is charged outside a tokio runtime, or inside `tokio::task::coop::unconstrained`
//! (the way to opt out). As with every tokio resource, a read polled by another executor
//! nested inside a tokio task (`futures::executor::block_on` there) spends that task's
//! budget, and once it is used up waits for a wake-up that comes only when the task yields.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use std::sync::Arc;
//! use sslbridge::{ClientOptions, Context, ServerOptions};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let pki = sslbridge::testing::TestPki::new()?;
//! # let key = pki.server(&["localhost"])?;
//! # let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! # let (client_end, server_end) = tokio::io::duplex(64 * 1024);
//! # let server = ServerOptions::new()
//! #     .certificate_chain_pem(&key.chain_pem)
//! #     .private_key_pem(&key.key_pem)
//! #     .accept_async(server_end);
//! # let client = ClientOptions::new().hostname("localhost").context(trust).connect_async(client_end);
//! # let (server, client) = tokio::join!(server, client);
//! # let (mut server, mut client) = (server?, client?);
//! // Another task on this (single) thread counts the turns it gets.
//! let turns = Arc::new(AtomicUsize::new(0));
//! let counter = turns.clone();
//! let other = tokio::spawn(async move {
//!     loop {
//!         counter.fetch_add(1, Ordering::Relaxed);
//!         tokio::task::yield_now().await;
//!     }
//! });
//!
//! // 1,000 one-byte records wait for the client.
//! for i in 0..1000u32 {
//!     server.write_all(&[i as u8]).await?;
//! }
//! server.flush().await?;
//! tokio::task::yield_now().await;
//!
//! let before = turns.load(Ordering::Relaxed);
//! let mut buf = [0u8; 100]; // up to 100 records a read
//! let mut got = 0;
//! while got < 1000 {
//!     got += client.read(&mut buf).await?; // no read waits: the records are all there
//! }
//! // Reading them, the client's task yielded: the other task had turns meanwhile.
//! assert!(turns.load(Ordering::Relaxed) > before);
//! other.abort();
//! # Ok(())
//! # }
//! ```
//!
//! # Cancellation
//!
//! Every value is owned by the stream or the future: dropping any future (or the stream) at
//! any point frees the TLS state and the transport exactly once, without blocking.
//!
//! - **Handshake** ([`connect_async`](ClientOptions::connect_async),
//!   [`accept_async`](ServerOptions::accept_async), [`SslStream::handshake`]): dropping the
//!   future drops the connection (or, for [`SslStream::handshake`], leaves it mid-handshake:
//!   calling it again resumes). Wrap it in `tokio::time::timeout` to bound it.
//! - **Reads are cancel-safe**: `poll_read` returning `Pending` has consumed no plaintext, so
//!   dropping a `read` future loses nothing (`tokio::select!` on reads is fine).
//! - **Writes are not**: when `poll_write` returns `Pending`, OpenSSL may already hold an
//!   encrypted record made from the start of the buffer, partly sent. The next write must
//!   offer the same bytes again (as `write_all` does); a write with other data is refused
//!   with `InvalidInput` rather than silently sending the old bytes. After dropping an
//!   unfinished write future, shut the connection down instead. With
//!   [`output_buffer_size`](ClientOptions::output_buffer_size) set, `poll_write` copies into
//!   the stream's buffer, so a write that returned `Ready` is committed and a `Pending` one
//!   took nothing (call `flush` to send).
//! - **Shutdown is idempotent**: `poll_shutdown` sends close_notify once, however often it is
//!   called or cancelled, then shuts the transport down.
//!
//! # Limitations
//!
//! - The blocking [`timeout`](ClientOptions::timeout) option is refused
//!   ([`Error::InvalidArgument`]); use `tokio::time::timeout` instead.
//! - The fd fast path does not apply: the transport is always called through the BIO.
//! - With `tokio::io::split`, both halves poll the one transport. A read that has to send
//!   something (a reply to a TLS 1.3 KeyUpdate) polls the transport's write side from the
//!   reading task, as with any TLS stream over one transport.
//! - No `AsyncBufRead`: wrap the stream in `tokio::io::BufReader`.
//! - `Drop` cannot flush (it has no task context): output buffered with
//!   [`output_buffer_size`](ClientOptions::output_buffer_size) and not flushed is lost when the
//!   stream is dropped. Call `flush().await` or `shutdown().await` first.

use crate::error::Error;
use crate::options::{ClientOptions, ServerOptions};
use ::tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use ::tokio::task::coop;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::ptr;
use std::task::{Context, Poll};

/// The adapter between tokio and the BIO: `std::io::Read`/`Write` over an async transport.
///
/// It is the transport type of the blocking [`crate::SslStream`] inside an async
/// [`SslStream`]; reach it through [`SslStream::ssl`] (its [`get_ref`](crate::SslStream::get_ref)).
/// Outside a `poll_*` call of its stream it has no task context, and its `read`/`write`
/// fail with `io::ErrorKind::Other`.
pub struct AsyncTransport<S> {
    inner: S,
    /// The task context of the poll call in progress; null outside one. Only
    /// [`Polling`] sets it, and its `Drop` clears it.
    cx: *mut Context<'static>,
}

// SAFETY: `cx` is non-null only while a `Polling` guard holds `&mut` to the stream on the
// thread running the poll call, and it is cleared before that call returns; so moving the
// adapter to another thread never moves a live pointer, and the rest is an `S`.
unsafe impl<S: Send> Send for AsyncTransport<S> {}
// SAFETY: `&AsyncTransport` gives access to `&S` only; `cx` is never read through `&self`.
unsafe impl<S: Sync> Sync for AsyncTransport<S> {}

impl<S> AsyncTransport<S> {
    fn new(inner: S) -> AsyncTransport<S> {
        AsyncTransport {
            inner,
            cx: ptr::null_mut(),
        }
    }

    /// The async transport.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Unpin> AsyncTransport<S> {
    /// Runs one `poll_*` of the transport with the current task's context; `Pending` becomes
    /// `WouldBlock` (the transport has registered the waker).
    fn poll_with<R>(
        &mut self,
        f: impl FnOnce(Pin<&mut S>, &mut Context<'_>) -> Poll<io::Result<R>>,
    ) -> io::Result<R> {
        if self.cx.is_null() {
            return Err(io::Error::other(
                "sslbridge::tokio: the transport was used outside a poll of its stream",
            ));
        }
        // SAFETY: a non-null `cx` comes from a live `Polling` guard (we are inside the call it
        // wraps; it clears `cx` on drop) that borrows the `&mut Context` exclusively, so
        // nothing else uses it meanwhile; the lifetime is shortened to this call.
        let cx = unsafe { &mut *self.cx.cast::<Context<'_>>() };
        match f(Pin::new(&mut self.inner), cx) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl<S: AsyncRead + Unpin> Read for AsyncTransport<S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.poll_with(|s, cx| {
            let mut buf = ReadBuf::new(buf);
            match s.poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
    }
}

// SAFETY: `ReadBuf` only reports as filled what `poll_read` initialised, within `buf`.
unsafe impl<S: AsyncRead + AsyncWrite + Unpin> crate::transport::ReadUninit for AsyncTransport<S> {
    fn read_uninit(&mut self, buf: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize> {
        self.poll_with(|s, cx| {
            let mut buf = ReadBuf::uninit(buf);
            match s.poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) => Poll::Ready(Ok(buf.filled().len())),
                Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
                Poll::Pending => Poll::Pending,
            }
        })
    }
}

impl<S: AsyncWrite + Unpin> Write for AsyncTransport<S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.poll_with(|s, cx| s.poll_write(cx, buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.poll_with(|s, cx| s.poll_flush(cx))
    }
}

impl<S: fmt::Debug> fmt::Debug for AsyncTransport<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncTransport")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// Lends the task context to the adapter for one poll call; clears it on drop, on every path.
struct Polling<'a, S: AsyncRead + AsyncWrite + Unpin> {
    stream: &'a mut crate::stream::SslStream<AsyncTransport<S>>,
}

impl<'a, S: AsyncRead + AsyncWrite + Unpin> Polling<'a, S> {
    /// The `'a` borrow of `cx` keeps the context alive and unused elsewhere for as long as the
    /// guard, so the pointer stored in the adapter is valid until the guard clears it.
    fn new(
        stream: &'a mut crate::stream::SslStream<AsyncTransport<S>>,
        cx: &'a mut Context<'_>,
    ) -> Polling<'a, S> {
        stream.get_mut().cx = (cx as *mut Context<'_>).cast::<Context<'static>>();
        Polling { stream }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Drop for Polling<'_, S> {
    fn drop(&mut self) {
        self.stream.get_mut().cx = ptr::null_mut();
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> std::ops::Deref for Polling<'_, S> {
    type Target = crate::stream::SslStream<AsyncTransport<S>>;
    fn deref(&self) -> &Self::Target {
        self.stream
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> std::ops::DerefMut for Polling<'_, S> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.stream
    }
}

/// Charges the `SSL_read`s beyond the first that returned data in one `poll_read` (about one
/// per record) to the task's cooperative budget, one unit each, as if each had been a poll of
/// its own (the first is the poll's own unit). It stops where the budget runs out: the next
/// `poll_read` then yields. (Checking the budget first keeps `poll_proceed` from scheduling a
/// wake-up for a poll that returns `Ready`. tokio's budget is a `u8`, so more than 255 units
/// never matter; an unlimited budget, outside a runtime or in `unconstrained`, would
/// otherwise be asked once per record.)
fn charge_records(cx: &mut Context<'_>, records: usize) {
    for _ in 0..records.min(u8::MAX.into()) {
        if !coop::has_budget_remaining() {
            return;
        }
        if let Poll::Ready(unit) = coop::poll_proceed(cx) {
            unit.made_progress();
        }
    }
}

/// `Ok(v)` is ready, "would block" is pending (no `io::Error` is made for it), any other
/// error is ready.
fn ready<T>(result: Result<T, Error>) -> Poll<io::Result<T>> {
    match result {
        Err(e) if e.is_would_block() => Poll::Pending,
        other => Poll::Ready(other.map_err(io::Error::from)),
    }
}

/// A TLS connection over the async transport `S`, with tokio's [`AsyncRead`] and
/// [`AsyncWrite`].
///
/// Made by [`ClientOptions::connect_async`] / [`ServerOptions::accept_async`] (handshake
/// done), or by [`ClientOptions::start_async`] / [`ServerOptions::start_async`] followed by
/// [`handshake`](SslStream::handshake). Reading returns `Ok(0)` bytes only after the peer's
/// close_notify; a transport EOF without it is an `io::ErrorKind::UnexpectedEof` error.
/// `poll_shutdown` (`AsyncWriteExt::shutdown`) sends close_notify and then shuts the
/// transport down. Dropping the stream frees everything without I/O. `Send` when `S` is.
///
/// See the [module documentation](crate::tokio) for an example and which operations are cancel-safe.
pub struct SslStream<S> {
    inner: crate::stream::SslStream<AsyncTransport<S>>,
    /// A read returned end of stream (the peer's close_notify).
    peer_closed: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SslStream<S> {
    fn new(inner: crate::stream::SslStream<AsyncTransport<S>>) -> SslStream<S> {
        SslStream {
            inner,
            peer_closed: false,
        }
    }

    fn polling<'a>(&'a mut self, cx: &'a mut Context<'_>) -> Polling<'a, S> {
        Polling::new(&mut self.inner, cx)
    }

    /// Runs (or resumes) the handshake: [`crate::SslStream::handshake`] with the task's
    /// context. `Ready(Ok(()))` at once when it is already done.
    pub fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match self.polling(cx).handshake() {
            Err(e) if e.is_would_block() => Poll::Pending,
            other => Poll::Ready(other),
        }
    }

    /// Runs the handshake to the end (nothing to do once it is done). Dropping the future
    /// leaves the handshake where it was; calling again resumes it. After a failure the
    /// stream refuses I/O, and shutting it down (`poll_shutdown`) only shuts the transport
    /// down (there is no TLS session to close).
    #[doc(alias = "SSL_do_handshake")]
    pub async fn handshake(&mut self) -> Result<(), Error> {
        poll_fn(|cx| self.poll_handshake(cx)).await
    }

    /// The blocking-API stream inside, for inspection: [`protocol_version`],
    /// [`cipher_name`], [`peer_certificate`], [`selected_alpn_protocol`], [`session`],
    /// [`transport_stats`] and the rest.
    ///
    /// [`protocol_version`]: crate::SslStream::protocol_version
    /// [`cipher_name`]: crate::SslStream::cipher_name
    /// [`peer_certificate`]: crate::SslStream::peer_certificate
    /// [`selected_alpn_protocol`]: crate::SslStream::selected_alpn_protocol
    /// [`session`]: crate::SslStream::session
    /// [`transport_stats`]: crate::SslStream::transport_stats
    pub fn ssl(&self) -> &crate::stream::SslStream<AsyncTransport<S>> {
        &self.inner
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.inner.get_ref().inner
    }

    /// The transport, mutably. Reading or writing it directly corrupts the TLS stream; use it
    /// for socket options and the like.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner.get_mut().inner
    }

    /// Frees the TLS state and returns the transport, without sending close_notify (shut the
    /// stream down first for that). Bytes already read ahead from the transport are
    /// discarded.
    pub fn into_inner(self) -> S {
        self.inner.into_inner().inner
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for SslStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let this = self.get_mut();
        // A task out of budget yields here, before any plaintext is taken (still cancel-safe).
        let budget = std::task::ready!(coop::poll_proceed(cx));
        let mut records = 0;
        // OpenSSL gets an initialised slice: `initialize_unfilled` zeroes only the part of
        // the buffer never initialised before, so a reused buffer costs nothing.
        let result = this
            .polling(cx)
            .read_plaintext_counting(buf.initialize_unfilled(), &mut records);
        if !matches!(&result, Err(e) if e.is_would_block()) {
            budget.made_progress();
            charge_records(cx, records.saturating_sub(1));
        }
        ready(result).map_ok(|n| {
            if n == 0 {
                this.peer_closed = true;
            }
            buf.advance(n);
        })
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for SslStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        ready(self.get_mut().polling(cx).write_plaintext(buf))
    }

    /// Gathers the slices into one record (see the blocking stream's `write_vectored`).
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready(self.get_mut().polling(cx).write_plaintext_vectored(bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready(self.get_mut().polling(cx).flush_plaintext())
    }

    /// Sends close_notify ([`crate::SslStream::shutdown`], once, however often this is
    /// polled), then shuts the transport down. Before a completed handshake only the transport
    /// is shut down; after a failure the transport is shut down and the failure returned.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let peer_closed = this.peer_closed;
        let tls = match this.polling(cx).shutdown() {
            Ok(()) => Ok(()),
            Err(e) if e.is_would_block() => return Poll::Pending,
            // Once the peer has sent its close_notify and gone, ours is only a courtesy.
            Err(Error::Io(e))
                if peer_closed
                    && matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
            {
                Ok(())
            }
            // A failed stream has no session to close: shut the transport down anyway, then
            // report the failure.
            Err(e @ Error::StreamFailed { .. }) => Err(e),
            Err(e) => return Poll::Ready(Err(e.into())),
        };
        match Pin::new(this.get_mut()).poll_shutdown(cx) {
            Poll::Ready(Ok(())) => Poll::Ready(tls.map_err(io::Error::from)),
            other => other,
        }
    }
}

impl<S> fmt::Debug for SslStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("tokio::SslStream")
            .field("inner", &self.inner)
            .field("peer_closed", &self.peer_closed)
            .finish()
    }
}

/// The blocking `timeout` option cannot work here: every `Pending` would count as expiry.
fn refuse_blocking_timeout(has_timeout: bool) -> Result<(), Error> {
    if has_timeout {
        return Err(Error::InvalidArgument(
            "the timeout option applies to blocking streams only; wrap the async operation in \
             tokio::time::timeout instead"
                .into(),
        ));
    }
    Ok(())
}

/// Wraps a blocking stream set up over an [`AsyncTransport`] as an async one.
fn into_async<S>(stream: crate::stream::SslStream<AsyncTransport<S>>) -> Result<SslStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut stream = stream;
    // tokio reads take uninitialised memory: the read-ahead buffer is never zeroed.
    stream.read_uninit();
    // The adapter never waits (`Pending` is "would block"): a read goes on asking it for
    // more records until it has none, not only while whole records are buffered.
    stream.set_transport_never_waits();
    // Drop has no task context to flush with: the async stream's buffered output must be
    // flushed (or the stream shut down) before it is dropped.
    stream.set_flush_on_drop(false);
    Ok(SslStream::new(stream))
}

impl ClientOptions {
    /// Sets up the connection over an async transport without any I/O; drive it with
    /// [`SslStream::handshake`] (or just read/write, which handshake first).
    pub fn start_async<S>(self, transport: S) -> Result<SslStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        refuse_blocking_timeout(self.has_timeout())?;
        into_async(self.start(AsyncTransport::new(transport))?)
    }

    /// Connects over an async transport: [`start_async`](ClientOptions::start_async), then
    /// the handshake. Same options and verification as [`connect`](ClientOptions::connect).
    /// The future is `Send` when `S` is; dropping it frees everything.
    #[doc(alias = "SSL_connect")]
    pub async fn connect_async<S>(self, transport: S) -> Result<SslStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut stream = self.start_async(transport)?;
        stream.handshake().await?;
        Ok(stream)
    }
}

impl ServerOptions {
    /// Sets up the connection over an async transport without any I/O; drive it with
    /// [`SslStream::handshake`].
    pub fn start_async<S>(self, transport: S) -> Result<SslStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        refuse_blocking_timeout(self.has_timeout())?;
        into_async(self.start(AsyncTransport::new(transport))?)
    }

    /// Accepts over an async transport: [`start_async`](ServerOptions::start_async), then the
    /// handshake. Same options as [`accept`](ServerOptions::accept). The future is `Send`
    /// when `S` is; dropping it frees everything.
    #[doc(alias = "SSL_accept")]
    pub async fn accept_async<S>(self, transport: S) -> Result<SslStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut stream = self.start_async(transport)?;
        stream.handshake().await?;
        Ok(stream)
    }
}

//! `SslStream`: one TLS connection over a transport. This file holds the stream itself, its
//! failure state and teardown; [`setup`] builds one, [`calls`] runs the `SSL_*` call loop
//! (handshake, reads, writes, shutdown), [`diagnose`] turns a failed call into an [`Error`],
//! [`deadlines`] bounds the waits, [`connection`] is the state OpenSSL's callbacks reach (owned
//! through [`shared`]), [`properties`] tells what a connection negotiated, and [`io_impls`]
//! implements `Read`/`Write`/`BufRead`.

mod calls;
pub(crate) mod connection;
mod deadlines;
mod diagnose;
mod io_impls;
mod properties;
pub(crate) mod setup;
mod shared;

pub(crate) use deadlines::{Deadlines, IoMode};
pub(crate) use shared::SharedWithOpenSsl;

use crate::bio::TransportStats;
use crate::context::Context;
use crate::error::{Error, ErrorStack, Operation};
use crate::ffi::openssl as ffi;
#[cfg(unix)]
use crate::ffi::posix;
use crate::transport::OwnedDescriptor;
use crate::transport::Transport;
use connection::Connection;
use openssl_sys::SSL;
use std::io;
use std::marker::PhantomData;

/// The most plaintext one TLS record carries.
const MAX_RECORD_PLAINTEXT: usize = 16 * 1024;

/// Called once when a stream is closed or dropped.
pub(crate) type CloseCallback = Box<dyn FnOnce() + Send + 'static>;

/// A TLS connection over the transport `T`.
///
/// Made by [`ClientOptions`](crate::ClientOptions) or [`ServerOptions`](crate::ServerOptions).
/// Reading returns `Ok(0)` only after the peer's close_notify; a transport EOF without it is an
/// [`Error::UnexpectedEof`] (as an `io::Error` of kind `UnexpectedEof`). Writes are one TLS
/// record per call unless an output buffer size was set. `Drop` frees everything without
/// sending close_notify (after one best-effort flush of an output buffer, as `BufWriter`
/// does); call [`close`](SslStream::close) (or [`shutdown`](SslStream::shutdown)) for an
/// orderly end.
///
/// ```
/// use std::io::{Read, Write};
/// use sslbridge::{ClientOptions, Context, ServerOptions};
///
/// let pki = sslbridge::testing::TestPki::new()?;
/// let server_key = pki.server(&["localhost"])?;
/// let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
/// let (client_end, server_end) = sslbridge::duplex(64 * 1024);
///
/// let server = std::thread::spawn(move || -> Result<(), sslbridge::Error> {
///     let mut tls = ServerOptions::new()
///         .certificate_chain_pem(&server_key.chain_pem)
///         .private_key_pem(&server_key.key_pem)
///         .accept(server_end)?;
///     let mut buf = [0u8; 5];
///     tls.read_exact(&mut buf)?;
///     tls.write_all(&buf)?;
///     tls.close()
/// });
///
/// let mut tls = ClientOptions::new().hostname("localhost").context(trust).connect(client_end)?;
/// tls.write_all(b"hello")?;
/// let mut echo = Vec::new();
/// tls.read_to_end(&mut echo)?; // Ok once the server's close_notify arrives
/// assert_eq!(echo, b"hello");
/// server.join().unwrap()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SslStream<T> {
    /// Owned; null once torn down. Freed before `conn`, which its BIO points into.
    ssl: *mut SSL,
    /// The state OpenSSL's callbacks reach (BIO data, ex_data): only through this owner's one
    /// pointer, never through a `Box` that would invalidate OpenSSL's copies of it.
    conn: SharedWithOpenSsl<Connection>,
    /// The stream's own duplicates of the transport's descriptors: OpenSSL, `poll` and the
    /// blocking-mode switches use these, so nothing done to the transport can redirect them.
    /// Closed after the `SSL` is freed.
    owned_fds: Vec<OwnedDescriptor>,
    /// Keeps the `SSL_CTX` and its Rust callbacks alive as long as the connection.
    _context: Context,
    input: Vec<u8>,
    input_pos: usize,
    input_end: usize,
    input_capacity: usize,
    output: Vec<u8>,
    output_capacity: usize,
    on_close: Option<CloseCallback>,
    is_client: bool,
    require_peer_certificate: bool,
    handshake_done: bool,
    peer_closed: bool,
    close_notify_sent: bool,
    /// A flush after a write would have blocked: the next write, flush or read retries it.
    flush_pending: bool,
    /// The start of a write that would block: OpenSSL made a record of these bytes, so the
    /// retry must begin with them.
    blocked_write: Option<Vec<u8>>,
    /// What stopped a read after it already had bytes to return: the next read reports it.
    deferred_read_error: Option<Error>,
    failed: Option<Failure>,
    /// Drop flushes the output buffer (false for the async stream, which has no task
    /// context in `Drop`).
    flush_on_drop: bool,
    io: IoMode,
    _transport: PhantomData<T>,
}

/// The first fatal error of a stream, which every later call reports.
#[derive(Debug, Clone)]
struct Failure {
    kind: io::ErrorKind,
    reason: String,
}

// SAFETY: the SSL, its BIO and the Connection are owned by this value alone and only touched
// through &mut self (or &self for read-only queries); the transport inside is a T, so the
// whole is Send when T is.
unsafe impl<T: Send> Send for SslStream<T> {}
// SAFETY: every method that changes the SSL, its BIO or the connection state takes &mut self;
// &self methods only read (peer certificate, cipher, version: unsynchronised reads of state
// no &self method writes), and the transport is only shared as &T, which needs T: Sync.
unsafe impl<T: Sync> Sync for SslStream<T> {}

/// How a stream is set up; filled in by the options types.
pub(crate) struct StreamParts {
    pub(crate) ssl: *mut SSL,
    pub(crate) conn: SharedWithOpenSsl<Connection>,
    pub(crate) owned_fds: Vec<OwnedDescriptor>,
    pub(crate) context: Context,
    pub(crate) is_client: bool,
    pub(crate) require_peer_certificate: bool,
    pub(crate) input_capacity: usize,
    pub(crate) output_capacity: usize,
    pub(crate) io: IoMode,
}

impl<T> SslStream<T> {
    /// Wraps already configured parts. Ownership of `ssl` passes to the stream.
    pub(crate) fn from_parts(parts: StreamParts) -> SslStream<T> {
        SslStream {
            ssl: parts.ssl,
            conn: parts.conn,
            owned_fds: parts.owned_fds,
            _context: parts.context,
            input: Vec::new(),
            input_pos: 0,
            input_end: 0,
            input_capacity: parts.input_capacity.max(1),
            output: Vec::new(),
            output_capacity: parts.output_capacity,
            on_close: None,
            is_client: parts.is_client,
            require_peer_certificate: parts.require_peer_certificate,
            handshake_done: false,
            peer_closed: false,
            close_notify_sent: false,
            failed: None,
            flush_pending: false,
            blocked_write: None,
            deferred_read_error: None,
            flush_on_drop: true,
            io: parts.io,
            _transport: PhantomData,
        }
    }

    /// Records how the stream reaches its transport (set up after the `SSL` exists).
    pub(crate) fn set_plumbing(&mut self, io: IoMode, owned_fds: Vec<OwnedDescriptor>) {
        self.io = io;
        self.owned_fds = owned_fds;
    }

    pub(crate) fn connection_mut(&mut self) -> &mut Connection {
        self.conn.get_mut()
    }

    /// Whether `Drop` makes a best-effort flush of the output buffer (the async stream
    /// cannot: it has no task context there).
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn set_flush_on_drop(&mut self, flush: bool) {
        self.flush_on_drop = flush;
    }

    pub(crate) fn set_on_close(&mut self, callback: Option<CloseCallback>) {
        self.on_close = callback;
    }
}

impl<T> SslStream<T> {
    /// The transport, as the box the BIO holds: the stream made it from a `Box<T>`.
    fn transport_ptr(&self) -> *mut T {
        let boxed = self.conn.get().bio.transport.as_deref();
        let t = boxed.expect("the stream holds its transport until it is dropped");
        (t as *const dyn Transport).cast::<T>().cast_mut()
    }

    /// The transport.
    pub fn get_ref(&self) -> &T {
        // SAFETY: the BIO's box holds exactly the T this stream was made with (setup boxes
        // it, teardown takes it back); the reference is tied to &self.
        unsafe { &*self.transport_ptr() }
    }

    /// The transport, mutably. Reading or writing it directly corrupts the TLS stream; use it
    /// for socket options and the like. (On the fd fast path OpenSSL works on the stream's own
    /// duplicate of its descriptor: replacing the transport here cannot redirect it.)
    pub fn get_mut(&mut self) -> &mut T {
        let boxed = self.conn.get_mut().bio.transport.as_deref_mut();
        let t = boxed.expect("the stream holds its transport until it is dropped");
        // SAFETY: as in get_ref; derived from the box's &mut, tied to &mut self.
        unsafe { &mut *(t as *mut dyn Transport).cast::<T>() }
    }

    /// Frees the TLS state, runs the close callback and returns the transport. No
    /// close_notify is sent (call [`shutdown`](SslStream::shutdown) first for that); bytes
    /// already read ahead from the transport are discarded.
    pub fn into_inner(mut self) -> T {
        let transport = self
            .teardown()
            .expect("the stream holds its transport until it is dropped");
        self.run_close_callback();
        // SAFETY: the box was made from a Box<T> (see get_ref); turning it back gives that
        // T, with its own lifetime again.
        *unsafe { Box::from_raw(Box::into_raw(transport).cast::<T>()) }
    }
}

impl<T> SslStream<T> {
    fn ssl(&self) -> *mut SSL {
        self.ssl
    }

    fn check_usable(&self) -> Result<(), Error> {
        if let Some(failure) = &self.failed {
            return Err(Error::StreamFailed {
                kind: failure.kind,
                reason: failure.reason.clone(),
            });
        }
        if self.ssl.is_null() {
            return Err(Error::StreamFailed {
                kind: io::ErrorKind::NotConnected,
                reason: "the stream is closed".into(),
            });
        }
        Ok(())
    }

    /// Marks the stream failed (unless the error is retryable) and passes the error on. The
    /// first failure's kind and message are what every later call reports.
    fn fail(&mut self, e: Error) -> Error {
        let retryable = e.is_would_block()
            || matches!(
                e,
                Error::Timeout {
                    operation: Operation::Read
                }
            );
        if !retryable && self.failed.is_none() {
            self.failed = Some(Failure {
                kind: e.io_kind(),
                reason: e.to_string(),
            });
        }
        e
    }

    /// Resumes a panic caught in a callback during the last `SSL_*` call.
    fn resume_panic(&mut self) {
        if let Some(payload) = self.conn.get_mut().take_panic() {
            ErrorStack::clear();
            self.failed = Some(Failure {
                kind: io::ErrorKind::Other,
                reason: "a transport or callback panicked".into(),
            });
            std::panic::resume_unwind(payload);
        }
    }

    /// Frees OpenSSL's record buffers when they hold nothing (`SSL_free_buffers`; it refuses
    /// when data is pending) and the BIO's empty read-ahead buffer, once the handshake is
    /// done: its flights needed them, the connection's data may never come.
    fn free_idle_buffers(&mut self) {
        if !self.ssl.is_null() {
            // SAFETY: ssl is live; OpenSSL reallocates the buffers on the next record.
            unsafe { ffi::SSL_free_buffers(self.ssl) };
        }
        self.conn.get_mut().bio.release_if_empty();
    }

    /// Frees the `SSL` (and its BIO) and takes the transport out. Idempotent.
    fn teardown(&mut self) -> Option<Box<dyn Transport>> {
        if !self.ssl.is_null() {
            // SAFETY: ssl is live and owned by us; it is freed exactly once, here.
            unsafe {
                if self.handshake_done && self.failed.is_none() {
                    // Mark a clean end without I/O so OpenSSL keeps the session cached.
                    openssl_sys::SSL_set_shutdown(
                        self.ssl,
                        openssl_sys::SSL_SENT_SHUTDOWN | openssl_sys::SSL_RECEIVED_SHUTDOWN,
                    );
                }
                openssl_sys::SSL_free(self.ssl);
            }
            self.ssl = std::ptr::null_mut();
        }
        if std::mem::take(&mut self.io.emulating_blocking) {
            // Hand the descriptor back in the blocking mode the user gave it to us in. Through
            // our duplicates: O_NONBLOCK belongs to the open file description they share with
            // the transport's own descriptors, and no other file can be behind them.
            #[cfg(unix)]
            if let Some(fds) = self.io.fds {
                let _ = posix::set_nonblocking(fds.read, false);
                let _ = posix::set_nonblocking(fds.write, false);
            }
        }
        // OpenSSL's BIOs on the duplicates are gone with the SSL: close them.
        self.owned_fds.clear();
        self.io.fds = None;
        self.conn.get_mut().bio.transport.take()
    }

    fn run_close_callback(&mut self) {
        if let Some(callback) = self.on_close.take() {
            callback();
        }
    }

    /// How many reads, writes and flushes the transport has seen through the custom BIO.
    pub fn transport_stats(&self) -> TransportStats {
        self.conn.get().bio.stats
    }

    /// The raw `SSL` pointer, for calling OpenSSL functions sslbridge does not wrap. It stays
    /// owned by the stream.
    pub fn as_ptr(&self) -> *mut SSL {
        self.ssl()
    }
}

impl<T> Drop for SslStream<T> {
    fn drop(&mut self) {
        // Like BufWriter: one best-effort flush of buffered output (which may block on a
        // blocking transport), errors ignored; never while unwinding, never close_notify.
        let mut flush_panic = None;
        if self.flush_on_drop
            && !self.output.is_empty()
            && self.handshake_done
            && self.failed.is_none()
            && !self.ssl.is_null()
            && !std::thread::panicking()
        {
            // A transport that panics here still gets the SSL, the transport and the close
            // callback cleaned up first; then its panic goes on.
            flush_panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = self.flush_output().and_then(|()| self.flush_transport());
            }))
            .err();
        }
        // Free the SSL (never blocks: no close_notify), then the transport, then tell the
        // user. A panicking close callback must not abort while already unwinding.
        drop(self.teardown());
        if std::thread::panicking() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.run_close_callback()
            }));
        } else if let Some(payload) = flush_panic {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.run_close_callback()
            }));
            std::panic::resume_unwind(payload);
        } else {
            self.run_close_callback();
        }
    }
}

impl<T> std::fmt::Debug for SslStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SslStream")
            .field("client", &self.is_client)
            .field("handshake_done", &self.handshake_done)
            .field("protocol", &self.protocol_version())
            .field("cipher", &self.cipher_name())
            .field("failed", &self.failed.as_ref().map(|f| &f.reason))
            .finish()
    }
}

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
use crate::transport::OwnedDescriptors;
use crate::transport::Transport;
use connection::Connection;
use openssl_sys::SSL;
use std::io;
use std::marker::PhantomData;

/// The most plaintext one TLS record carries.
const MAX_RECORD_PLAINTEXT: usize = 16 * 1024;

/// The largest `BufRead` buffer: larger sizes are clamped to it (the size is a `u32`).
const MAX_INPUT_BUFFER: usize = 1 << 30;

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
///
/// # Reads, writes and memory
///
/// - A `read` (and [`BufRead::fill_buf`](std::io::BufRead::fill_buf), and the tokio
///   stream's `poll_read`) fills the caller's buffer across records: after the first record
///   it keeps taking records while more can be had without waiting (decrypted bytes pending
///   in OpenSSL, a whole record in the read-ahead buffer or the `MemoryPipe`, or a transport
///   that can be asked without waiting), so a 64 KiB buffer takes sixty-four 1 KiB records
///   in one call. Once it has bytes it never waits for more: if close_notify, an error or
///   "would block" comes after them, it returns the bytes and the next call reports the
///   condition. Which transports can be asked for these extra records without waiting:
///   - On the fd path, the descriptor: OpenSSL's read BIO asks `poll`, with no timeout,
///     before each system call, so the read takes what has arrived (in OpenSSL's read-ahead
///     buffer, then in the kernel, including the rest of a partial record) and stops where
///     nothing more has. Where sslbridge made the descriptor non-blocking itself (to enforce
///     a timeout), it reads until "would block" instead. With
///     [`fd_read_ahead(false)`](crate::ClientOptions::fd_read_ahead), a read over a
///     blocking descriptor takes one record. A descriptor that was non-blocking when the
///     stream was made stays guarded by `poll` if you make it blocking later through
///     [`get_mut`](SslStream::get_mut); one that sslbridge made non-blocking for a timeout
///     must not be made blocking behind its back.
///   - On the custom BIO, a transport whose `read` is one system call on a descriptor
///     sslbridge knows (`TcpStream`, `UnixStream`, `File`, the standard pipe and child
///     process types, [`Descriptor`](crate::Descriptor), and
///     [`Pipes::new`](crate::Pipes::new) of them): sslbridge's BIO asks `poll` the same way.
///     An [`FdTransport`](crate::FdTransport) or [`Pipes::from_fds`](crate::Pipes::from_fds)
///     is not asked: its `read` is yours, and might wait for more than has arrived.
///   - The async stream's transport, which never waits (its `Pending` is "would block").
///   - Any other transport only gives the whole records already in the read-ahead buffer
///     (or the `MemoryPipe`): its `read` might wait.
///
///   Only reading never waits: a record that makes OpenSSL answer, a KeyUpdate asking for
///   one back or a post-handshake certificate request, has its answer written during the
///   read, and on a blocking transport that write waits for room as any write does.
/// - [`write_vectored`](std::io::Write::write_vectored) (and tokio's `poll_write_vectored`,
///   with `is_write_vectored() == true`) gathers the slices, up to one maximal record
///   (16 KiB), into one `SSL_write`: a header and a body become one record and one
///   transport write.
/// - With [`release_buffers`](crate::ClientOptions::release_buffers) (the default), a
///   connection that goes idle gives its record buffers back: an idle connection holds no
///   16 KiB buffer, whatever it moved before.
/// - What an idle connection then holds is OpenSSL's state (about 17.6 KB per end with TLS
///   1.3: the `SSL`, its session, the peer's certificate, two AES-GCM contexts; the same as
///   with rust-openssl) and about 280 bytes of sslbridge's own (this stream, 96 bytes, and
///   the state OpenSSL's callbacks reach, 184), plus the boxed transport. What most
///   connections never use costs a pointer until it is set: the stream's output and
///   `BufRead` buffers, close callback and kept failure share one; timeouts and the ALPN and
///   SNI callbacks have one each.
///
/// ```
/// use std::io::{IoSlice, Read, Write};
/// use sslbridge::{ClientOptions, Context, ServerOptions};
///
/// let pki = sslbridge::testing::TestPki::new()?;
/// let server_key = pki.server(&["localhost"])?;
/// let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
/// let (client_end, server_end) = sslbridge::duplex(256 * 1024);
/// let server = std::thread::spawn(move || -> Result<_, sslbridge::Error> {
///     let mut tls = ServerOptions::new()
///         .certificate_chain_pem(&server_key.chain_pem)
///         .private_key_pem(&server_key.key_pem)
///         .accept(server_end)?;
///     for _ in 0..64 {
///         tls.write_all(&[7u8; 1024])?; // 64 records of 1 KiB
///     }
///     Ok(tls)
/// });
/// let mut tls = ClientOptions::new().hostname("localhost").context(trust).connect(client_end)?;
/// let mut server = server.join().unwrap()?;
///
/// // All 64 records wait in the pipe: one read takes them all.
/// let mut buf = vec![0u8; 64 * 1024];
/// assert_eq!(tls.read(&mut buf)?, 64 * 1024);
///
/// // A header and a body: one record, one transport write.
/// let writes = tls.transport_stats().writes;
/// let n = tls.write_vectored(&[IoSlice::new(b"HEADER "), IoSlice::new(b"body")])?;
/// assert_eq!(n, 11);
/// assert_eq!(tls.transport_stats().writes, writes + 1);
/// assert_eq!(server.read(&mut buf)?, 11);
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
    owned_fds: OwnedDescriptors,
    /// Keeps the `SSL_CTX` and its Rust callbacks alive as long as the connection.
    _context: Context,
    /// The `BufRead` buffer's size, used when the first `fill_buf` makes it.
    input_capacity: u32,
    /// Free the record buffers whenever the connection goes idle (`release_buffers`).
    release_buffers: bool,
    /// `SSL_MODE_RELEASE_BUFFERS` is set on the `SSL` (see `set_release_mode`).
    release_mode: bool,
    /// Buffers OpenSSL's own release does not free may be held: the handshake's, when records
    /// of the peer's already waited at its end. The next read that leaves the connection idle
    /// frees them.
    unreleased: bool,
    /// The session ticket last seen (its address, only compared): a read that brought a new
    /// one ran OpenSSL's state machine for it, which sets up a write buffer too, and
    /// OpenSSL's own release (of the read side) leaves that one allocated.
    ticket_seen: u32,
    is_client: bool,
    require_peer_certificate: bool,
    handshake_done: bool,
    peer_closed: bool,
    close_notify_sent: bool,
    /// A flush after a write would have blocked: the next write, flush or read retries it.
    flush_pending: bool,
    /// What most streams never set (buffers, callbacks, errors), boxed together: an idle
    /// stream pays one pointer for all of it. Made when one is set; see [`RareState`].
    rare: Option<Box<RareState>>,
    /// Drop flushes the output buffer (false for the async stream, which has no task
    /// context in `Drop`).
    flush_on_drop: bool,
    io: IoMode,
    _transport: PhantomData<T>,
}

/// The part of a stream's state that most streams never set, in one box made when the first
/// of it is set (the fields were a pointer each before: 64 bytes per idle stream).
#[derive(Default)]
struct RareState {
    /// The `BufRead` buffer, made by the first `fill_buf`.
    input: Option<InputBuffer>,
    /// The output buffer, when `output_buffer_size` set one.
    output: Option<OutputBuffer>,
    on_close: Option<CloseCallback>,
    /// The start of a write that would block: OpenSSL made a record of these bytes, so the
    /// retry must begin with them.
    blocked_write: Option<Box<[u8]>>,
    /// What stopped a read after it already had bytes to return: the next read reports it.
    deferred_read_error: Option<Error>,
    /// The stream's first fatal error, which every later call reports.
    failed: Option<Failure>,
}

impl RareState {
    fn is_empty(&self) -> bool {
        self.input.is_none()
            && self.output.is_none()
            && self.on_close.is_none()
            && self.blocked_write.is_none()
            && self.deferred_read_error.is_none()
            && self.failed.is_none()
    }
}

/// Plaintext written and not yet handed to OpenSSL: at most `capacity` bytes.
struct OutputBuffer {
    data: Vec<u8>,
    capacity: usize,
}

/// What `fill_buf` read and `consume` has not yet taken: `data[pos..end]`.
struct InputBuffer {
    data: Vec<u8>,
    pos: usize,
    end: usize,
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
    pub(crate) owned_fds: OwnedDescriptors,
    pub(crate) context: Context,
    pub(crate) is_client: bool,
    pub(crate) require_peer_certificate: bool,
    pub(crate) input_capacity: usize,
    pub(crate) output_capacity: usize,
    pub(crate) release_buffers: bool,
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
            input_capacity: parts.input_capacity.clamp(1, MAX_INPUT_BUFFER) as u32,
            rare: (parts.output_capacity > 0).then(|| {
                Box::new(RareState {
                    output: Some(OutputBuffer {
                        data: Vec::new(),
                        capacity: parts.output_capacity,
                    }),
                    ..RareState::default()
                })
            }),
            release_buffers: parts.release_buffers,
            release_mode: false,
            unreleased: false,
            ticket_seen: 0,
            is_client: parts.is_client,
            require_peer_certificate: parts.require_peer_certificate,
            handshake_done: false,
            peer_closed: false,
            close_notify_sent: false,
            flush_pending: false,
            flush_on_drop: true,
            io: parts.io,
            _transport: PhantomData,
        }
    }

    /// Records how the stream reaches its transport (set up after the `SSL` exists).
    pub(crate) fn set_plumbing(&mut self, io: IoMode, owned_fds: OwnedDescriptors) {
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
        if callback.is_some() || self.rare.is_some() {
            self.rare_mut().on_close = callback;
            self.tidy_rare();
        }
    }

    /// The rarely set state, if any of it is set.
    #[inline]
    fn rare(&self) -> Option<&RareState> {
        self.rare.as_deref()
    }

    /// The rarely set state, made empty if none of it was set.
    fn rare_mut(&mut self) -> &mut RareState {
        self.rare.get_or_insert_with(Box::default)
    }

    /// Frees the rarely set state once nothing in it is set any more.
    fn tidy_rare(&mut self) {
        if self.rare.as_deref().is_some_and(RareState::is_empty) {
            self.rare = None;
        }
    }

    /// The stream's first fatal error, if it has failed.
    #[inline]
    fn failure(&self) -> Option<&Failure> {
        self.rare().and_then(|r| r.failed.as_ref())
    }

    /// The failure a read met after it had bytes to return, taken for the next read.
    #[inline]
    fn take_deferred_read_error(&mut self) -> Option<Error> {
        let e = self.rare.as_deref_mut()?.deferred_read_error.take()?;
        self.tidy_rare();
        Some(e)
    }

    #[inline]
    fn input(&self) -> Option<&InputBuffer> {
        self.rare().and_then(|r| r.input.as_ref())
    }

    #[inline]
    fn input_mut(&mut self) -> Option<&mut InputBuffer> {
        self.rare.as_deref_mut().and_then(|r| r.input.as_mut())
    }

    #[inline]
    fn output(&self) -> Option<&OutputBuffer> {
        self.rare().and_then(|r| r.output.as_ref())
    }

    #[inline]
    fn output_mut(&mut self) -> Option<&mut OutputBuffer> {
        self.rare.as_deref_mut().and_then(|r| r.output.as_mut())
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
    /// Lets the custom BIO fill its read-ahead buffer through
    /// [`ReadUninit`](crate::transport::ReadUninit), without zeroing it first.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // the async adapter's
    pub(crate) fn read_uninit(&mut self)
    where
        T: crate::transport::ReadUninit,
    {
        // The BIO's box holds exactly this stream's T (see get_mut), which is what
        // read_uninit_as::<T> requires of the transport it is given.
        self.conn.get_mut().bio.read_uninit = Some(crate::transport::read_uninit_as::<T>);
    }

    /// Tells the custom BIO that the transport never waits (it says "would block" instead),
    /// so a read beyond the bytes in hand may ask it for more.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))] // the async adapter's
    pub(crate) fn set_transport_never_waits(&mut self) {
        self.conn.get_mut().bio.never_waits = true;
    }
}

impl<T> SslStream<T> {
    fn ssl(&self) -> *mut SSL {
        self.ssl
    }

    fn check_usable(&self) -> Result<(), Error> {
        if let Some(failure) = self.failure() {
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
        if !retryable && self.failure().is_none() {
            self.rare_mut().failed = Some(Failure {
                kind: e.io_kind(),
                reason: e.to_string(),
            });
        }
        e
    }

    /// Resumes a panic caught in a callback during the last `SSL_*` call. (Runs after every
    /// call: the check is inlined, the rare resumption is not.)
    #[inline]
    fn resume_panic(&mut self) {
        if self.conn.get().bio.panic.is_some() {
            self.resume_parked_panic();
        }
    }

    #[cold]
    #[inline(never)]
    fn resume_parked_panic(&mut self) {
        if let Some(payload) = self.conn.get_mut().take_panic() {
            ErrorStack::clear();
            self.rare_mut().failed = Some(Failure {
                kind: io::ErrorKind::Other,
                reason: "a transport or callback panicked".into(),
            });
            std::panic::resume_unwind(payload);
        }
    }

    /// Frees every record buffer that holds nothing now: OpenSSL's read and write buffers
    /// (`SSL_free_buffers`) and the BIO's read-ahead buffer; whether they are free now. For
    /// the points where the connection is idle and OpenSSL's own release (see
    /// [`set_release_mode`]) does not free them: the end of the handshake (whose flights
    /// needed the buffers, while the connection's data may never come), the peer's
    /// close_notify, a read that ends with OpenSSL's release off, and a read that brought a
    /// session ticket. With `unless_more_waits` nothing is freed while bytes wait in the
    /// `MemoryPipe`: the connection is not idle then. `SSL_free_buffers` is not cheap (it
    /// walks all 32 record slots), so it is not the per-read release.
    ///
    /// [`set_release_mode`]: SslStream::set_release_mode
    fn release_buffers_if_empty(&mut self, unless_more_waits: bool) -> bool {
        // Without `release_buffers`, only the handshake's buffers are freed.
        if self.ssl.is_null() || (self.handshake_done && !self.release_buffers) {
            return true;
        }
        // SAFETY: ssl is live. (Checking both, rather than trusting SSL_free_buffers to
        // refuse, also keeps OpenSSL releases without the CVE-2024-4741 fix, which freed a
        // buffer holding decrypted bytes not yet read, from ever being asked.)
        let busy = unsafe {
            openssl_sys::SSL_pending(self.ssl) > 0 || ffi::SSL_has_pending(self.ssl) != 0
        };
        let bio = &mut self.conn.get_mut().bio;
        let more_waits = unless_more_waits && bio.memory_pipe().is_some_and(|p| p.available() > 0);
        if busy || bio.buffered() > 0 || more_waits {
            return false;
        }
        // SAFETY: ssl is live; OpenSSL reallocates the buffers for the next record. It
        // refuses while a record waits to be written.
        let freed = unsafe { ffi::SSL_free_buffers(self.ssl) } == 1;
        self.conn.get_mut().bio.release_if_empty();
        freed
    }

    /// Frees the BIO's read-ahead buffer if it holds nothing (with `release_buffers`): after
    /// a read, and when one would block.
    fn release_idle_read_ahead(&mut self) {
        if self.release_buffers {
            self.conn.get_mut().bio.release_if_empty();
        }
    }

    /// Turns OpenSSL's own buffer release (`SSL_MODE_RELEASE_BUFFERS`) on or off, with
    /// `release_buffers`, once the handshake is done. On, OpenSSL frees its write buffer as
    /// soon as a write has sent all it was given, and its read buffer as soon as a read
    /// empties it or finds nothing to read: the points where the connection goes idle, at the
    /// cost of a `free` and a `malloc`. It is on except for a read that is not the last of a
    /// run: when more whole records already wait in the BIO or the `MemoryPipe`, which hands
    /// OpenSSL one record at a time, so its buffer empties after every record (see
    /// `prepare_read`).
    fn set_release_mode(&mut self, on: bool) {
        if !self.release_buffers || !self.handshake_done || self.ssl.is_null() {
            return;
        }
        if self.release_mode == on {
            return;
        }
        let mode = openssl_sys::SSL_MODE_RELEASE_BUFFERS;
        // SAFETY: ssl is live; setting and clearing a mode bit takes no pointer.
        unsafe {
            if on {
                ffi::ssl_set_mode(self.ssl, mode);
            } else {
                ffi::ssl_clear_mode(self.ssl, mode);
            }
        }
        self.release_mode = on;
    }

    /// Frees the `SSL` (and its BIO) and takes the transport out. Idempotent.
    fn teardown(&mut self) -> Option<Box<dyn Transport>> {
        if !self.ssl.is_null() {
            // SAFETY: ssl is live and owned by us; it is freed exactly once, here.
            unsafe {
                if self.handshake_done && self.failure().is_none() {
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
        self.owned_fds = Default::default();
        self.io.fds = None;
        self.conn.get_mut().bio.transport.take()
    }

    fn run_close_callback(&mut self) {
        if let Some(callback) = self.rare.as_deref_mut().and_then(|r| r.on_close.take()) {
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
            && self.has_buffered_output()
            && self.handshake_done
            && self.failure().is_none()
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
            .field("failed", &self.failure().map(|f| &f.reason))
            .finish()
    }
}

//! `SslStream`: one TLS connection over a transport: set-up, handshake, the `SSL_*` call
//! loop with deadlines, shutdown and teardown. What a finished connection negotiated is in
//! [`properties`]; the `Read`/`Write`/`BufRead` impls are in [`io_impls`].

pub(crate) mod connection;
mod io_impls;
mod properties;
pub(crate) mod setup;
mod shared;

pub(crate) use shared::SharedWithOpenSsl;

use crate::bio::Plumbing;
use crate::bio::TransportStats;
use crate::context::Context;
use crate::error::{alert_name, Error, ErrorStack, Operation, QueueScope};
use crate::ffi::openssl as ffi;
use crate::ffi::posix::{self, Readiness};
use crate::transport::Fds;
use crate::transport::Transport;
use connection::Connection;
use openssl_sys::SSL;
use std::io;
use std::marker::PhantomData;
use std::os::fd::OwnedFd;
use std::os::raw::c_int;
use std::time::{Duration, Instant};

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
    owned_fds: Vec<OwnedFd>,
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
    failed: Option<Failure>,
    /// Drop flushes the output buffer (false for the async stream, which has no task
    /// context in `Drop`).
    flush_on_drop: bool,
    io: IoMode,
    _transport: PhantomData<T>,
}

impl IoMode {
    /// Before the transport is installed: no descriptors, no deadlines.
    pub(crate) fn unset() -> IoMode {
        IoMode {
            fds: None,
            fd_fast_path: false,
            user_nonblocking: false,
            emulating_blocking: false,
            deadlines: Deadlines::Unsupported("(not set up)"),
            flush_after_write: false,
            handshake_timeout: None,
            read_timeout: None,
            write_timeout: None,
        }
    }

    /// How a stream waits, given how it reaches its transport (of type `transport`, named
    /// in errors) and the options.
    pub(crate) fn new(
        plumbing: &Plumbing,
        common: &setup::Common,
        transport: &'static str,
    ) -> IoMode {
        // sslbridge bounds the waits of the descriptors it knows (with poll) and of its own
        // MemoryPipe, and nothing else.
        let deadlines = if plumbing.fds.is_some() {
            Deadlines::Descriptors
        } else if plumbing.memory_pipe {
            Deadlines::MemoryPipe
        } else {
            Deadlines::Unsupported(transport)
        };
        IoMode {
            fds: plumbing.fds,
            fd_fast_path: plumbing.fd_fast_path,
            user_nonblocking: plumbing.user_nonblocking,
            emulating_blocking: false,
            deadlines,
            // OpenSSL flushes the BIO after a handshake flight but not after SSL_write: a
            // transport that buffers (BufWriter, Stdout, a framing layer) would keep the
            // records. A MemoryPipe's flush does nothing.
            flush_after_write: !plumbing.fd_fast_path
                && !plumbing.memory_pipe
                && common.output_buffer_size == 0,
            handshake_timeout: common.timeout,
            read_timeout: common.timeout,
            write_timeout: common.timeout,
        }
    }
}

/// How a stream bounds the time an operation may wait.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Deadlines {
    /// `poll` on the stream's own duplicates of the transport's descriptors.
    Descriptors,
    /// The waits of sslbridge's own `MemoryPipe`, bounded by the operation's deadline.
    MemoryPipe,
    /// Nothing sslbridge can bound (the transport's type, for the message): a deadline is
    /// refused rather than silently ignored.
    Unsupported(&'static str),
}

impl Deadlines {
    /// `Ok` when a deadline can be enforced; else the error that says what to do instead.
    pub(crate) fn check(self) -> Result<(), Error> {
        match self {
            Deadlines::Unsupported(transport) => Err(Error::InvalidArgument(format!(
                "a timeout cannot be enforced on a transport of type `{transport}`: sslbridge \
                 bounds the waits of descriptors it knows (TcpStream, UnixStream, Pipes of \
                 descriptors, Descriptor, FdTransport) and of its MemoryPipe only; give it the \
                 descriptor (e.g. the TcpStream itself, Pipes::from_fds or FdTransport::new), or \
                 set the transport's own timeouts (e.g. TcpStream::set_read_timeout) and no \
                 sslbridge timeout"
            ))),
            _ => Ok(()),
        }
    }
}

/// The first fatal error of a stream, which every later call reports.
#[derive(Debug, Clone)]
struct Failure {
    kind: io::ErrorKind,
    reason: String,
}

/// How operations wait: descriptors, deadlines and who owns blocking behaviour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IoMode {
    /// The transport's descriptors, when sslbridge knows them (fd path or custom BIO).
    pub(crate) fds: Option<Fds>,
    /// OpenSSL does the I/O on `fds` itself.
    pub(crate) fd_fast_path: bool,
    /// The user's descriptor was already non-blocking: never wait, return WantRead/WantWrite.
    pub(crate) user_nonblocking: bool,
    /// sslbridge set `O_NONBLOCK` to enforce deadlines with `poll`, and restores it at the end.
    pub(crate) emulating_blocking: bool,
    /// How deadlines are enforced on this transport, if they can be.
    pub(crate) deadlines: Deadlines,
    /// Flush the transport after each write that produced records (custom BIO, no output
    /// buffer, not a MemoryPipe).
    pub(crate) flush_after_write: bool,
    pub(crate) handshake_timeout: Option<Duration>,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) write_timeout: Option<Duration>,
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
    pub(crate) owned_fds: Vec<OwnedFd>,
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
            flush_on_drop: true,
            io: parts.io,
            _transport: PhantomData,
        }
    }

    /// Records how the stream reaches its transport (set up after the `SSL` exists).
    pub(crate) fn set_plumbing(&mut self, io: IoMode, owned_fds: Vec<OwnedFd>) {
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

    /// Runs (or resumes) the handshake (`SSL_do_handshake`). Returns [`Error::WantRead`] or
    /// [`Error::WantWrite`] on a non-blocking transport that is not ready; call again once it
    /// is. Calling it after the handshake completed does nothing (on a failed stream it
    /// returns the failure, as every call does).
    ///
    /// ```
    /// # use sslbridge::{ClientOptions, ServerOptions, Context, Error, Verify};
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let key = pki.server(&["localhost"])?;
    /// let (mut a, mut b) = sslbridge::duplex(64 * 1024);
    /// a.set_nonblocking(true);
    /// b.set_nonblocking(true);
    /// let mut client = ClientOptions::new().verify(Verify::None).start(a)?;
    /// let mut server = ServerOptions::new()
    ///     .certificate_chain_pem(&key.chain_pem).private_key_pem(&key.key_pem).start(b)?;
    /// let (mut c_done, mut s_done) = (false, false);
    /// while !(c_done && s_done) {
    ///     for (stream_done, result) in [(&mut c_done, client.handshake()), (&mut s_done, server.handshake())] {
    ///         match result {
    ///             Ok(()) => *stream_done = true,
    ///             Err(Error::WantRead | Error::WantWrite) => {} // a real program would poll here
    ///             Err(e) => return Err(e.into()),
    ///         }
    ///     }
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn handshake(&mut self) -> Result<(), Error> {
        if self.failed.is_some() {
            return self.check_usable();
        }
        if self.handshake_done {
            return Ok(());
        }
        let call = |ssl: *mut SSL, _: &mut usize| {
            // SAFETY: drive() passes the live SSL.
            unsafe { openssl_sys::SSL_do_handshake(ssl) }
        };
        match self.drive(Operation::Handshake, call)? {
            Some(_) => {
                // SAFETY: ssl is live; the message callback is only needed during the handshake.
                unsafe { ffi::SSL_set_msg_callback(self.ssl, None) };
                if self.require_peer_certificate && self.peer_certificate().is_none() {
                    return Err(self.fail(Error::ServerCertificateMissing));
                }
                if let Err(e) = self.check_resumed_session() {
                    return Err(self.fail(e));
                }
                self.handshake_done = true;
                self.free_idle_buffers();
                Ok(())
            }
            None => Err(self.fail(Error::UnexpectedEof)),
        }
    }

    /// A resumed handshake verifies nothing (OpenSSL does not run the verify callback again):
    /// a verifying client checks what the session recorded, the chain verdict from when it was
    /// made and the certificate against this connection's host name, so a session from an
    /// unverified connection or another host never slips past `Verify::Required`.
    fn check_resumed_session(&self) -> Result<(), Error> {
        // SAFETY: ssl is live.
        if !self.is_client || !self.conn.get().verifies_server || !self.session_reused() {
            return Ok(());
        }
        let Some(cert) = self.peer_certificate() else {
            return Ok(()); // Verify::Required's certificate check ran above
        };
        // SAFETY: ssl is live; SSL_set_session restored the session's verify result.
        let code = unsafe { openssl_sys::SSL_get_verify_result(self.ssl) } as c_int;
        if code != openssl_sys::X509_V_OK {
            return Err(Error::Verify {
                code,
                // SAFETY: returns a static string for any code.
                text: unsafe {
                    crate::ffi::openssl::c_string(openssl_sys::X509_verify_cert_error_string(
                        code as _,
                    ))
                },
                depth: 0,
                subject: cert.subject_name(),
                verified_by: crate::error::Side::Client,
            });
        }
        match &self.conn.get().check_hostname {
            Some(host) => crate::x509::verify_hostname(&cert, host),
            None => Ok(()),
        }
    }

    /// The handshake of the blocking `connect`/`accept`: a transport that says "would block"
    /// there has had its own timeout expire (or is non-blocking, which needs `start` and
    /// `handshake` instead), so that is a handshake timeout, not a retry.
    pub(crate) fn blocking_handshake(&mut self) -> Result<(), Error> {
        match self.handshake() {
            Err(e) if e.is_would_block() => Err(self.fail(Error::Timeout {
                operation: Operation::Handshake,
            })),
            other => other,
        }
    }

    /// Whether the handshake has completed.
    pub fn is_handshake_done(&self) -> bool {
        self.handshake_done
    }

    /// Reads decrypted data into `buf` (`SSL_read_ex`); `Ok(0)` after the peer's close_notify.
    fn ssl_read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.handshake()?;
        if self.flush_pending {
            self.flush_written_records();
        }
        if self.peer_closed {
            return Ok(0);
        }
        let (ptr, len) = (buf.as_mut_ptr(), buf.len());
        let call = |ssl: *mut SSL, n: &mut usize| {
            // SAFETY: drive() passes the live SSL; `ptr` is valid for `len` writable bytes.
            unsafe { openssl_sys::SSL_read_ex(ssl, ptr.cast(), len, n) }
        };
        let read = self.drive(Operation::Read, call)?;
        match read {
            Some(n) => Ok(n),
            None => {
                self.peer_closed = true;
                Ok(0)
            }
        }
    }

    /// Encrypts and sends some of `buf` (`SSL_write_ex`, one record at most).
    fn ssl_write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.handshake()?;
        if self.flush_pending {
            self.flush_written_records();
        }
        let (ptr, len) = (buf.as_ptr(), buf.len());
        let call = |ssl: *mut SSL, n: &mut usize| {
            // SAFETY: drive() passes the live SSL; `ptr` is valid for `len` readable bytes.
            unsafe { openssl_sys::SSL_write_ex(ssl, ptr.cast(), len, n) }
        };
        match self.drive(Operation::Write, call)? {
            Some(n) => {
                if self.io.flush_after_write {
                    self.flush_written_records();
                }
                Ok(n)
            }
            None => Err(self.fail(Error::StreamFailed {
                kind: io::ErrorKind::BrokenPipe,
                reason: "the peer closed the connection (close_notify) while we were writing"
                    .into(),
            })),
        }
    }

    /// A write without an output buffer: one record at most.
    ///
    /// When `SSL_write` would block, OpenSSL has already made a record from the start of
    /// `buf`, and the retry must offer the same bytes (OpenSSL's rule; `write_all` and tokio's
    /// `write_all` do). A retry with other data would silently send the old bytes in their
    /// place, so it is refused with `InvalidInput` instead.
    pub(crate) fn write_unbuffered(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if let Some(blocked) = &self.blocked_write {
            if !buf.starts_with(blocked) {
                return Err(Error::InvalidArgument(
                    "a write that would block must be retried with the same bytes (OpenSSL \
                     already encrypted them into a record); retry it with the same data, or \
                     close the stream"
                        .into(),
                ));
            }
        }
        match self.ssl_write(buf) {
            Err(e) if e.is_would_block() && self.handshake_done => {
                if self.blocked_write.is_none() {
                    let taken = buf.len().min(MAX_RECORD_PLAINTEXT);
                    self.blocked_write = Some(buf[..taken].to_vec());
                }
                Err(e)
            }
            other => {
                if other.is_ok() {
                    self.blocked_write = None;
                }
                other
            }
        }
    }

    /// Runs one `SSL_*` call until it succeeds, fails, or must be retried by the caller.
    /// `Ok(None)` means the peer sent close_notify. When sslbridge enforces deadlines on a
    /// known descriptor, retries wait with `poll` until the operation's deadline.
    fn drive(
        &mut self,
        op: Operation,
        mut call: impl FnMut(*mut SSL, &mut usize) -> c_int,
    ) -> Result<Option<usize>, Error> {
        let timeout = match op {
            Operation::Handshake => self.io.handshake_timeout,
            Operation::Read => self.io.read_timeout,
            Operation::Write | Operation::Shutdown => self.io.write_timeout,
        };
        // A timeout too large to add is no deadline at all.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            self.check_usable()?;
            // Until the error is read: stale entries out, a caller's entries set aside.
            let _queue = QueueScope::enter();
            // A timeout belongs to the call that hit it, never to a later one.
            let bio = &mut self.conn.get_mut().bio;
            bio.timed_out = false;
            if let (Deadlines::MemoryPipe, Some(pipe)) = (self.io.deadlines, bio.memory_pipe()) {
                pipe.set_stream_deadline(deadline);
            }
            posix::clear_errno();
            let mut n = 0usize;
            let r = call(self.ssl, &mut n);
            if let (Deadlines::MemoryPipe, Some(pipe)) =
                (self.io.deadlines, self.conn.get_mut().bio.memory_pipe())
            {
                // The deadline belongs to this call: the pipe, handed back by get_mut or
                // into_inner, must not keep it.
                pipe.set_stream_deadline(None);
            }
            // On the fd path OpenSSL made the system call; a signal that interrupted it left
            // EINTR, which OpenSSL's socket and fd BIOs report as "retry".
            let interrupted = self.io.fd_fast_path && posix::interrupted();
            self.resume_panic();
            if r > 0 {
                return Ok(Some(n));
            }
            let want = match self.take_error(r) {
                None => return Ok(None),
                Some(e @ (Error::WantRead | Error::WantWrite)) => e,
                Some(e) => return Err(self.fail(e)),
            };
            if interrupted {
                // Not a timeout and not a failure: call again (the deadline, if any, is fixed,
                // so the remaining time shrinks).
                continue;
            }
            let timed_out = Error::Timeout { operation: op };
            if std::mem::take(&mut self.conn.get_mut().bio.timed_out) {
                return Err(self.fail(timed_out));
            }
            let fds = match self.io.fds {
                Some(fds) if self.io.emulating_blocking => fds,
                // A blocking descriptor that says "try again" had its own timeout
                // (SO_RCVTIMEO / SO_SNDTIMEO) expire.
                Some(_) if !self.io.user_nonblocking => return Err(self.fail(timed_out)),
                // (No buffer release here: under an event loop "would block" is the steady state
                // of a reader that keeps up, and freeing would cost an allocation per wake-up.)
                _ => return Err(want),
            };
            let (fd, readiness) = match want {
                Error::WantRead => (fds.read, Readiness::Readable),
                _ => (fds.write, Readiness::Writable),
            };
            match posix::wait_ready(fd, readiness, deadline) {
                Ok(true) => continue,
                Ok(false) => return Err(self.fail(timed_out)),
                Err(e) => return Err(self.fail(Error::Io(e))),
            }
        }
    }

    /// Writes out the output buffer (when one is configured).
    fn flush_output(&mut self) -> Result<(), Error> {
        while !self.output.is_empty() {
            let pending = std::mem::take(&mut self.output);
            let result = self.ssl_write(&pending);
            self.output = pending;
            let n = result?;
            self.output.drain(..n);
        }
        Ok(())
    }

    /// Flushes the records a write produced. The plaintext is consumed already, so the write
    /// reports success whatever happens here: a flush that would block is retried by the next
    /// write, flush or read; a failure fails the stream, and the next call reports it.
    fn flush_written_records(&mut self) {
        match self.flush_transport() {
            Ok(()) => self.flush_pending = false,
            Err(e) if e.is_would_block() => self.flush_pending = true,
            Err(_) => self.flush_pending = false,
        }
    }

    /// Flushes the transport through the BIO (`BIO_flush`), so a panic or error is handled
    /// like any other transport call.
    fn flush_transport(&mut self) -> Result<(), Error> {
        self.check_usable()?;
        // SAFETY: ssl is live; its wbio, if any, is live while the SSL is.
        let r = unsafe {
            let wbio = openssl_sys::SSL_get_wbio(self.ssl);
            if wbio.is_null() {
                return Ok(());
            }
            openssl_sys::BIO_ctrl(wbio, openssl_sys::BIO_CTRL_FLUSH, 0, std::ptr::null_mut())
        };
        self.resume_panic();
        let bio = &mut self.conn.get_mut().bio;
        let timed_out = std::mem::take(&mut bio.timed_out);
        if r == 1 {
            self.flush_pending = false;
            return Ok(());
        }
        if let Some(e) = bio.error.take() {
            return Err(self.fail(Error::Io(e)));
        }
        if timed_out {
            // The transport's own timeout expired while flushing written data: the write's
            // timeout, handled as any write timeout.
            return Err(self.fail(Error::Timeout {
                operation: Operation::Write,
            }));
        }
        self.flush_pending = true;
        Err(Error::WantWrite)
    }

    /// Sends buffered output, then close_notify (`SSL_shutdown`), and flushes the transport,
    /// without waiting for the peer's. Does nothing if nothing was ever sent (no handshake and
    /// no buffered output: there is no TLS session to close); on a failed stream it returns
    /// the failure, like every later call. Further writes fail; reads return what the peer
    /// still sends.
    pub fn shutdown(&mut self) -> Result<(), Error> {
        self.check_usable()?;
        if !self.handshake_done && self.output.is_empty() {
            return Ok(());
        }
        // Handshakes first if it has not happened yet.
        self.flush_output()?;
        // OpenSSL marks SSL_SENT_SHUTDOWN before the alert is out, and re-sends it on the next
        // SSL_shutdown after WantWrite: so keep calling until a call succeeds once.
        if !self.close_notify_sent {
            // SSL_shutdown returns 0 once close_notify is sent and 1 once the peer's arrived too.
            let call = |ssl: *mut SSL, _: &mut usize| {
                // SAFETY: drive() passes the live SSL.
                match unsafe { openssl_sys::SSL_shutdown(ssl) } {
                    r if r >= 0 => 1,
                    r => r,
                }
            };
            self.drive(Operation::Shutdown, call)?;
            self.close_notify_sent = true;
        }
        self.flush_transport()
    }

    /// Ends the connection in order: flushes, sends close_notify, frees the TLS state and the
    /// transport, runs the close callback, and reports the first error met on the way
    /// (everything is freed regardless).
    pub fn close(mut self) -> Result<(), Error> {
        let result = match self.shutdown() {
            // Once the peer has sent its close_notify and gone, ours is only a courtesy.
            Err(Error::Io(e))
                if self.peer_closed
                    && matches!(
                        e.kind(),
                        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                    ) =>
            {
                Ok(())
            }
            other => other,
        };
        drop(self.teardown());
        self.run_close_callback();
        result
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

    /// Classifies a failed `SSL_*` call. `None` means the peer sent close_notify.
    fn take_error(&mut self, ret: c_int) -> Option<Error> {
        // SAFETY: ssl is live (callers checked) and `ret` is the value the call returned.
        let code = unsafe { openssl_sys::SSL_get_error(self.ssl, ret) };
        // On the fd path OpenSSL made the system call: its errno is the transport error.
        let os_error = self.io.fd_fast_path.then(io::Error::last_os_error);
        let conn = self.conn.get_mut();
        let io_error = conn.bio.error.take();
        let verify_failure = conn.verify_failure.take();
        let bio_at_eof = conn.bio.at_eof();
        // What the peer sent first: the BIO's bytes on the custom BIO, the record header the
        // message callback saw on the fd path.
        let received = if conn.bio.first_bytes.is_empty() {
            &conn.first_header
        } else {
            &conn.bio.first_bytes
        };
        let not_tls = (!self.handshake_done && !received.is_empty() && !looks_like_tls(received))
            .then(|| received.clone());
        match code {
            openssl_sys::SSL_ERROR_ZERO_RETURN => {
                ErrorStack::clear();
                // The peer's close_notify arrived earlier; a transport failure in this call
                // (e.g. writing our close_notify) is still a failure.
                io_error.map(Error::Io)
            }
            openssl_sys::SSL_ERROR_WANT_READ => {
                ErrorStack::clear();
                Some(Error::WantRead)
            }
            openssl_sys::SSL_ERROR_WANT_WRITE => {
                ErrorStack::clear();
                Some(Error::WantWrite)
            }
            _ => {
                let stack = ErrorStack::drain();
                // A read-side EOF wins over a failed write of the alert OpenSSL then tries to
                // send (to a pipe whose other end is gone, that write fails too).
                let truncated = stack.has_reason(ffi::SSL_R_UNEXPECTED_EOF_WHILE_READING);
                Some(if let Some(v) = verify_failure {
                    v
                } else if let Some(received) = not_tls {
                    Error::PeerNotTls { received }
                } else if let Some(alert) = stack.peer_alert() {
                    Error::PeerAlert {
                        alert,
                        name: alert_name(alert),
                    }
                } else if truncated {
                    Error::UnexpectedEof
                } else if let Some(e) = io_error {
                    Error::Io(e)
                } else if let Some(e) = stack.system_error() {
                    Error::Io(e)
                } else if let Some(e) = os_error.filter(|e| {
                    code == openssl_sys::SSL_ERROR_SYSCALL && e.raw_os_error().unwrap_or(0) != 0
                }) {
                    Error::Io(e)
                } else if stack.has_reason(ffi::SSL_R_UNEXPECTED_EOF_WHILE_READING)
                    || (code == openssl_sys::SSL_ERROR_SYSCALL && stack.is_empty() && bio_at_eof)
                {
                    Error::UnexpectedEof
                } else if stack.is_empty() {
                    Error::Ssl(ErrorStack::message(format!(
                        "SSL_get_error returned {code} without details"
                    )))
                } else {
                    Error::Ssl(stack)
                })
            }
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

    /// Whether OpenSSL reads and writes the transport's descriptor directly (the fd fast
    /// path) rather than calling the transport through the custom BIO.
    pub fn uses_fd_fast_path(&self) -> bool {
        self.io.fd_fast_path
    }

    /// Bounds each later read (`None`: wait as long as it takes). On a descriptor sslbridge
    /// knows this is enforced with `poll`; on other transports the transport's own timeout
    /// governs. Expiry is [`Error::Timeout`] (`io::ErrorKind::TimedOut`); the stream stays
    /// usable after a read timeout.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        if timeout.is_some() {
            self.io.deadlines.check()?;
        }
        self.io.read_timeout = timeout;
        self.enforce_deadlines()
    }

    /// Bounds each later write and the shutdown; see
    /// [`set_read_timeout`](SslStream::set_read_timeout).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        if timeout.is_some() {
            self.io.deadlines.check()?;
        }
        self.io.write_timeout = timeout;
        self.enforce_deadlines()
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.io.read_timeout
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> Option<Duration> {
        self.io.write_timeout
    }

    /// Makes a blocking descriptor non-blocking so deadlines can be enforced with `poll`.
    pub(crate) fn enforce_deadlines(&mut self) -> Result<(), Error> {
        let io = &mut self.io;
        let wants_deadlines = io.handshake_timeout.is_some()
            || io.read_timeout.is_some()
            || io.write_timeout.is_some();
        if let (Some(fds), true, false, false) = (
            io.fds,
            wants_deadlines,
            io.user_nonblocking,
            io.emulating_blocking,
        ) {
            posix::set_nonblocking(fds.read, true).map_err(Error::Io)?;
            io.emulating_blocking = true;
            posix::set_nonblocking(fds.write, true).map_err(Error::Io)?;
        }
        Ok(())
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

/// Whether `bytes` can be the start of a TLS record: a record type (change_cipher_spec,
/// alert, handshake, application_data, heartbeat) and major version 3, or an SSLv2-format
/// ClientHello (length with the high bit set, then message type 1).
fn looks_like_tls(bytes: &[u8]) -> bool {
    match bytes {
        [] => true,
        [kind, rest @ ..] if (0x14..=0x18).contains(kind) => rest.first().is_none_or(|&v| v == 3),
        [len_hi, rest @ ..] if len_hi & 0x80 != 0 => rest.get(1).is_none_or(|&t| t == 1),
        _ => false,
    }
}

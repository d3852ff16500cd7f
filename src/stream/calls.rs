//! The `SSL_*` call loop of [`SslStream`]: handshake, reads, writes, flushes and shutdown,
//! each run by `drive` until it succeeds, fails, or must be retried by the caller (with
//! `poll` and the operation's deadline in between when sslbridge enforces one).

use super::Deadlines;
use super::{SslStream, MAX_RECORD_PLAINTEXT};
use crate::error::{Error, Operation, QueueScope};
use crate::ffi::openssl as ffi;
#[cfg(unix)]
use crate::ffi::posix::{self, Readiness};
use openssl_sys::SSL;
use std::io;
use std::os::raw::c_int;
use std::time::Instant;

/// What the next `SSL_read` would find without waiting (see `SslStream::waiting`).
#[derive(Clone, Copy)]
struct Waiting {
    /// Decrypted bytes of the current record are still to be read.
    pending: bool,
    /// Whole records waiting in the BIO or the `MemoryPipe`, up to 2.
    records: usize,
}

impl<T> SslStream<T> {
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
    #[doc(alias = "SSL_do_handshake")]
    #[inline] // every read and write starts here: the checks inline, the handshake not
    pub fn handshake(&mut self) -> Result<(), Error> {
        if self.failure().is_some() {
            return self.check_usable();
        }
        if self.handshake_done {
            return Ok(());
        }
        self.run_handshake()
    }

    #[inline(never)]
    fn run_handshake(&mut self) -> Result<(), Error> {
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
                // Even if the peer's first records (session tickets, data) already wait: the
                // write buffer at least is idle, and the read buffer is reallocated for them.
                // (Before `handshake_done`: this one runs without `release_buffers` too.) With
                // the peer's records already in OpenSSL's buffer it cannot run: the first read
                // that leaves the connection idle does it.
                self.unreleased = !self.release_buffers_if_empty(false);
                self.ticket_seen = self.ticket_address();
                self.handshake_done = true;
                self.set_release_mode(true);
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
    /// `records` counts the `SSL_read`s that returned data (the async stream charges them to
    /// tokio's cooperative budget).
    pub(super) fn ssl_read(&mut self, buf: &mut [u8], records: &mut usize) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        // A failure met after bytes were handed out by the previous call.
        if let Some(e) = self.take_deferred_read_error() {
            return Err(e);
        }
        self.handshake()?;
        if self.flush_pending {
            self.flush_written_records();
        }
        if self.peer_closed {
            return Ok(0);
        }
        let result = self.read_records(buf, records);
        let stopped = match &result {
            Ok(_) => true,
            Err(e) => e.is_would_block(),
        };
        if stopped {
            // OpenSSL freed its read buffer if the last read emptied it with its release on;
            // a read with it off (others were waiting, but turned out to be tickets or other
            // records that carry no data), close_notify and the handshake's buffers leave it
            // to us.
            let ticket = self.is_client && self.ticket_address() != self.ticket_seen;
            if self.peer_closed || !self.release_mode || self.unreleased || ticket {
                self.unreleased = !self.release_buffers_if_empty(true);
                self.ticket_seen = self.ticket_address();
            } else {
                self.release_idle_read_ahead();
            }
        }
        // Writes and the next read start with OpenSSL's release on again.
        self.set_release_mode(true);
        result
    }

    /// The address of the session ticket the client holds (0 without one), to notice a new
    /// one.
    fn ticket_address(&self) -> u32 {
        let mut ticket: *const std::os::raw::c_uchar = std::ptr::null();
        let mut len = 0usize;
        // SAFETY: ssl is live; SSL_get_session borrows its session (or gives null), and the
        // ticket pointer is only compared, never dereferenced.
        unsafe {
            let session = openssl_sys::SSL_get_session(self.ssl);
            if session.is_null() {
                return 0;
            }
            ffi::SSL_SESSION_get0_ticket(session, &mut ticket, &mut len);
        }
        // Its low 32 bits: every stream carries the last one seen, and a false match (as
        // with an address reused by a new ticket) only leaves a buffer allocated longer.
        ticket as usize as u32
    }

    /// The reads of [`ssl_read`](Self::ssl_read): one `SSL_read` that may wait, then more
    /// while they can be had without waiting.
    fn read_records(&mut self, buf: &mut [u8], records: &mut usize) -> Result<usize, Error> {
        let (ptr, len) = (buf.as_mut_ptr(), buf.len());
        let call = |ssl: *mut SSL, n: &mut usize| {
            // SAFETY: drive() passes the live SSL; `ptr` is valid for `len` writable bytes.
            unsafe { openssl_sys::SSL_read_ex(ssl, ptr.cast(), len, n) }
        };
        // (On the fd path nothing is prepared, so nothing needs asking.)
        if !self.io.fd_fast_path {
            let waiting = self.waiting();
            self.prepare_read(waiting);
        }
        let Some(mut filled) = self.drive(Operation::Read, call)? else {
            self.peer_closed = true;
            return Ok(0);
        };
        *records += 1;
        // One record per SSL_read: keep going while more can be had without waiting, so a
        // large buffer is filled from many small records in one call.
        if filled == len {
            return Ok(filled);
        }
        let mut waiting = self.waiting();
        if !self.more_without_waiting(waiting) {
            return Ok(filled);
        }
        // One scope for all of them: each failure below reads the queue and leaves it empty,
        // and a read that succeeds leaves nothing on it.
        let _queue = QueueScope::enter();
        loop {
            self.prepare_read(waiting);
            match self.read_available(&mut buf[filled..]) {
                0 => break,
                n => filled += n,
            }
            *records += 1;
            if filled == len {
                break;
            }
            waiting = self.waiting();
            if !self.more_without_waiting(waiting) {
                break;
            }
        }
        Ok(filled)
    }

    /// What the next `SSL_read` would find without waiting: decrypted bytes pending in
    /// OpenSSL, and how many whole records (up to 2) wait in the BIO's read-ahead buffer or
    /// the `MemoryPipe` (none counted on the fd path: they are in the kernel or in OpenSSL's
    /// own read-ahead buffer).
    fn waiting(&mut self) -> Waiting {
        // SAFETY: ssl is live (callers checked).
        let pending = unsafe { openssl_sys::SSL_pending(self.ssl) } > 0;
        let records = if self.io.fd_fast_path {
            0
        } else {
            self.conn.get_mut().bio.complete_records(2)
        };
        Waiting { pending, records }
    }

    /// The read descriptor when OpenSSL reads it itself (fd path) and a read beyond the bytes
    /// in hand must be guarded so that it does not wait. That is where the descriptor blocks,
    /// and also where the user's descriptor was non-blocking at setup: the user can make it
    /// blocking again through the transport (the stream's duplicate shares the mode). There
    /// the guard costs a `poll` before each such `recv` (none when nothing is readable: the
    /// `poll` then replaces the `recv` that would have found nothing). Not where sslbridge
    /// made the descriptor non-blocking itself to enforce deadlines: it stays so for the
    /// life of the stream.
    #[cfg(unix)]
    fn fd_path_read(&self) -> Option<std::os::raw::c_int> {
        self.io
            .fds
            .filter(|_| self.io.fd_fast_path && !self.io.emulating_blocking)
            .map(|fds| fds.read)
    }

    /// Whether another `SSL_read` may find more without waiting for the transport: decrypted
    /// bytes are pending, a whole record is already in the BIO's read-ahead buffer or in the
    /// `MemoryPipe`, or the transport can be asked without waiting (see
    /// [`transport_can_be_asked`](Self::transport_can_be_asked)).
    fn more_without_waiting(&self, waiting: Waiting) -> bool {
        if self.peer_closed {
            return false;
        }
        waiting.pending || waiting.records > 0 || self.transport_can_be_asked()
    }

    /// Whether a read beyond the bytes in hand may go to the transport, because that cannot
    /// wait. On the custom BIO: a transport that never waits (the async adapter), or one that
    /// reads its descriptor with one `read(2)`, which the BIO asks `poll` first (see
    /// `BioState::can_read_without_waiting`). On the fd path: the descriptor, whose reads
    /// OpenSSL's read BIO guards with `poll` (see [`fd_path_read`](Self::fd_path_read)), or
    /// which sslbridge made non-blocking. Such a read takes what has arrived, in a read-ahead
    /// buffer or in the kernel, and says "would block" for the rest. (`SSL_has_pending` alone
    /// would not do: it is also true for part of a record, and an unguarded read would block
    /// for the rest.) On the fd path with `fd_read_ahead(false)` over a blocking descriptor a
    /// read takes one record, as that option says: its point is to leave the socket to the
    /// next read.
    fn transport_can_be_asked(&self) -> bool {
        let bio = &self.conn.get().bio;
        if !self.io.fd_fast_path {
            return bio.never_waits || bio.poll_then_read;
        }
        self.io.fd_read_ahead || self.io.emulating_blocking || self.io.user_nonblocking
    }

    /// Before an `SSL_read`: OpenSSL may free its read buffer once the read empties it only if
    /// nothing else is waiting to be read after it, so a run of records read one after the
    /// other frees and reallocates the buffer once, after the last. On the fd path OpenSSL's
    /// buffer holds what the socket gave it and empties only when all of that is read, so its
    /// own release is right as it is.
    fn prepare_read(&mut self, waiting: Waiting) {
        if self.io.fd_fast_path {
            return;
        }
        // The read consumes the pending bytes, or else the next waiting record.
        let beyond = if waiting.pending {
            waiting.records
        } else {
            waiting.records.saturating_sub(1)
        };
        self.set_release_mode(beyond == 0);
    }

    /// One `SSL_read` that must not wait, for bytes beyond those already in hand: whatever
    /// stops it (would block, close_notify, an error) ends this call with what it has, and
    /// close_notify or an error is what the next call reports.
    ///
    /// The caller holds a [`QueueScope`].
    fn read_available(&mut self, buf: &mut [u8]) -> usize {
        let bio = &mut self.conn.get_mut().bio;
        bio.timed_out = false;
        // Even a record that is all there may be a ticket or a KeyUpdate, after which OpenSSL
        // reads on: the BIO must then say "would block" rather than wait for more.
        bio.set_no_wait(true);
        // On the fd path OpenSSL reads the descriptor itself: its BIO is told instead.
        #[cfg(unix)]
        let guarded = self.fd_path_read();
        #[cfg(unix)]
        if let Some(fd) = guarded {
            // SAFETY: ssl is live and, on the fd path, its read BIO is on `fd`.
            unsafe { crate::bio::set_read_no_wait(self.ssl, fd, true) };
        }
        let mut n = 0usize;
        // SAFETY: ssl is live; `buf` is valid for its length in writable bytes.
        let r = unsafe {
            openssl_sys::SSL_read_ex(self.ssl, buf.as_mut_ptr().cast(), buf.len(), &mut n)
        };
        #[cfg(unix)]
        if let Some(fd) = guarded {
            // The BIO's "retry reading" flags stay set: `take_error` below needs them to see
            // "would block" (SSL_get_error), and the BIO's next read or write clears them.
            // SAFETY: as above.
            unsafe { crate::bio::set_read_no_wait(self.ssl, fd, false) };
        }
        self.conn.get_mut().bio.set_no_wait(false);
        self.resume_panic();
        if r > 0 {
            return n;
        }
        match self.take_error(r) {
            None => self.peer_closed = true,
            Some(e) if e.is_would_block() => {}
            Some(e) => {
                let e = self.fail(e);
                self.rare_mut().deferred_read_error = Some(e);
            }
        }
        0
    }

    /// Encrypts and sends some of `buf` (`SSL_write_ex`, one record at most).
    pub(super) fn ssl_write(&mut self, buf: &[u8]) -> Result<usize, Error> {
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
        // OpenSSL frees its write buffer itself once a write has sent all it was given (see
        // `set_release_mode`); one that would block keeps the record it holds.
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
        if let Some(blocked) = self.rare().and_then(|r| r.blocked_write.as_deref()) {
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
                let rare = self.rare_mut();
                if rare.blocked_write.is_none() {
                    let taken = buf.len().min(MAX_RECORD_PLAINTEXT);
                    rare.blocked_write = Some(buf[..taken].into());
                }
                Err(e)
            }
            other => {
                if other.is_ok() {
                    if let Some(rare) = self.rare.as_deref_mut() {
                        rare.blocked_write = None;
                        self.tidy_rare();
                    }
                }
                other
            }
        }
    }

    /// Runs one `SSL_*` call until it succeeds, fails, or must be retried by the caller.
    /// `Ok(None)` means the peer sent close_notify. When sslbridge enforces deadlines on a
    /// known descriptor, retries wait with `poll` until the operation's deadline.
    pub(super) fn drive(
        &mut self,
        op: Operation,
        mut call: impl FnMut(*mut SSL, &mut usize) -> c_int,
    ) -> Result<Option<usize>, Error> {
        let timeout = self.io.timeout(op);
        // A timeout too large to add is no deadline at all.
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        // Only a MemoryPipe with a deadline to enforce is told about it.
        let pipe_deadline = deadline.filter(|_| matches!(self.io.deadlines, Deadlines::MemoryPipe));
        loop {
            self.check_usable()?;
            // Until the error is read: stale entries out, a caller's entries set aside.
            let _queue = QueueScope::enter();
            // A timeout belongs to the call that hit it, never to a later one.
            let bio = &mut self.conn.get_mut().bio;
            bio.timed_out = false;
            if let Some(deadline) = pipe_deadline {
                if let Some(pipe) = bio.memory_pipe() {
                    pipe.set_stream_deadline(Some(deadline));
                }
            }
            #[cfg(unix)]
            posix::clear_errno();
            let mut n = 0usize;
            let r = call(self.ssl, &mut n);
            if pipe_deadline.is_some() {
                if let Some(pipe) = self.conn.get_mut().bio.memory_pipe() {
                    // The deadline belongs to this call: the pipe, handed back by get_mut or
                    // into_inner, must not keep it.
                    pipe.set_stream_deadline(None);
                }
            }
            // On the fd path OpenSSL made the system call; a signal that interrupted it left
            // EINTR, which OpenSSL's socket and fd BIOs report as "retry".
            #[cfg(unix)]
            let interrupted = self.io.fd_fast_path && posix::interrupted();
            #[cfg(not(unix))]
            let interrupted = false;
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
            #[cfg(not(unix))]
            return Err(want); // no descriptors to wait on off Unix
            #[cfg(unix)]
            {
                let fds = match self.io.fds {
                    Some(fds) if self.io.emulating_blocking => fds,
                    // A blocking descriptor that says "try again" had its own timeout
                    // (SO_RCVTIMEO / SO_SNDTIMEO) expire.
                    Some(_) if !self.io.user_nonblocking => return Err(self.fail(timed_out)),
                    _ => return Err(want),
                };
                let (fd, readiness) = match want {
                    Error::WantRead => (fds.read, Readiness::Readable),
                    _ => (fds.write, Readiness::Writable),
                };
                // Waiting for the peer: the connection is idle meanwhile. (OpenSSL has freed
                // its own buffers if they are empty.)
                if self.handshake_done {
                    self.release_idle_read_ahead();
                }
                match posix::wait_ready(fd, readiness, deadline) {
                    Ok(true) => continue,
                    Ok(false) => return Err(self.fail(timed_out)),
                    Err(e) => return Err(self.fail(Error::Io(e))),
                }
            }
        }
    }

    /// Writes out the output buffer (when one is configured).
    pub(super) fn flush_output(&mut self) -> Result<(), Error> {
        // Only the bytes leave the buffer for each call (ssl_write needs &mut self); the
        // buffer itself stays, even if the transport panics meanwhile.
        while let Some(output) = self.output_mut().filter(|o| !o.data.is_empty()) {
            let mut pending = std::mem::take(&mut output.data);
            let result = self.ssl_write(&pending);
            if let Ok(n) = result {
                pending.drain(..n);
            }
            if let Some(output) = self.output_mut() {
                output.data = pending;
            }
            result?;
        }
        Ok(())
    }

    /// Whether the output buffer holds plaintext not yet written.
    pub(super) fn has_buffered_output(&self) -> bool {
        self.output().is_some_and(|o| !o.data.is_empty())
    }

    /// Flushes the records a write produced. The plaintext is consumed already, so the write
    /// reports success whatever happens here: a flush that would block is retried by the next
    /// write, flush or read; a failure fails the stream, and the next call reports it.
    pub(super) fn flush_written_records(&mut self) {
        match self.flush_transport() {
            Ok(()) => self.flush_pending = false,
            Err(e) if e.is_would_block() => self.flush_pending = true,
            Err(_) => self.flush_pending = false,
        }
    }

    /// Flushes the transport through the BIO (`BIO_flush`), so a panic or error is handled
    /// like any other transport call.
    pub(super) fn flush_transport(&mut self) -> Result<(), Error> {
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
    #[doc(alias = "SSL_shutdown")]
    pub fn shutdown(&mut self) -> Result<(), Error> {
        self.check_usable()?;
        if !self.handshake_done && !self.has_buffered_output() {
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
    #[doc(alias = "SSL_free")]
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

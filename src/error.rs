//! The error type, and the only place that reads OpenSSL's thread-local error queue.

use crate::ffi::openssl::c_string;
use std::fmt;
use std::io;
use std::os::raw::{c_char, c_int};
use std::path::PathBuf;

/// Everything that can go wrong in sslbridge.
///
/// Match on the variants to react to a specific failure; `Display` says what happened and what
/// to do about it. Converting into [`std::io::Error`] (as the `Read`/`Write` impls do) keeps
/// the kind: a transport error comes back with its own kind, [`Error::WantRead`] and
/// [`Error::WantWrite`] become `WouldBlock`, [`Error::UnexpectedEof`] becomes `UnexpectedEof`
/// and [`Error::Timeout`] becomes `TimedOut`.
///
/// ```
/// use sslbridge::Error;
/// let err = Error::InvalidArgument("seed too short".into());
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed; this is its own error, with its original kind.
    #[error("the transport failed: {0}")]
    Io(#[source] io::Error),

    /// OpenSSL reported an error; the entries of its error queue, oldest first.
    #[error("OpenSSL failed: {0}")]
    Ssl(ErrorStack),

    /// The peer's certificate chain did not verify.
    #[error(
        "certificate verification failed at depth {depth} ({subject}): {text} (X509 error {code}); {}",
        verify_hint(*.verified_by)
    )]
    Verify {
        /// The X509 verify result code (`X509_V_ERR_*`, e.g. 10 for an expired certificate).
        code: i32,
        /// OpenSSL's text for the code (`X509_verify_cert_error_string`).
        text: String,
        /// The depth of the failing certificate in the chain (0 is the peer's own).
        depth: u32,
        /// The one-line subject name of the failing certificate.
        subject: String,
        /// Which side verified (and rejected) its peer: a client checking a server, or a
        /// server checking a client certificate. The message names the setting of that side.
        verified_by: Side,
    },

    /// The certificate is valid but not for the host name (or IP address) we connected to.
    #[error(
        "the peer's certificate is not valid for {hostname:?} (it names {presented}); \
         connect with the name the certificate was issued for"
    )]
    Hostname {
        /// The host name or IP address the client asked for.
        hostname: String,
        /// The names the certificate presents (DNS and IP subjectAltNames, or the subject CN).
        presented: String,
    },

    /// Verification was required but the server presented no certificate.
    #[error(
        "the server presented no certificate but Verify::Required demands one; \
         use Verify::Optional to accept anonymous servers"
    )]
    ServerCertificateMissing,

    /// The transport reached end-of-file without the peer's close_notify: the data may have
    /// been truncated by an attacker or a crashed peer.
    #[error(
        "the transport ended without a TLS close_notify: the data may be truncated; \
         use ignore_unexpected_eof(true) only if the protocol above detects truncation itself"
    )]
    UnexpectedEof,

    /// The peer's first bytes cannot start a TLS record: it speaks another protocol (a
    /// plaintext port, an HTTP server, a STARTTLS protocol before its upgrade command).
    #[error("{}", not_tls_message(.received))]
    PeerNotTls {
        /// The first bytes received from the peer: up to 16 on the custom BIO, the 5-byte
        /// record header on the fd path.
        received: Vec<u8>,
    },

    /// The peer ended the handshake (or the connection) with a fatal TLS alert.
    #[error("{}", alert_message(*.alert, .name))]
    PeerAlert {
        /// The alert's code (RFC 8446 §6), e.g. 48 for `unknown_ca`.
        alert: u8,
        /// The alert's name, e.g. `"unknown_ca"`.
        name: &'static str,
    },

    /// A non-blocking operation needs the transport to become readable; call it again then.
    #[error("the operation would block until the transport is readable; retry it then")]
    WantRead,

    /// A non-blocking operation needs the transport to become writable; call it again then.
    #[error("the operation would block until the transport is writable; retry it then")]
    WantWrite,

    /// A deadline set with `timeout` / `set_read_timeout` / `set_write_timeout` expired, or
    /// the transport's own timeout did. After a read timeout the stream stays usable; any
    /// other timeout leaves the TLS state mid-operation, so the stream refuses further I/O.
    #[error(
        "the TLS {operation} did not complete in time: the stream's deadline or the transport's \
         own timeout expired (the peer was slow or silent), or, in a blocking connect/accept, the \
         transport is non-blocking (use start() and handshake() for non-blocking transports)"
    )]
    Timeout {
        /// What timed out.
        operation: Operation,
    },

    /// A configured verify location (CA file or directory) does not exist.
    #[error("verify location {0:?} does not exist; give an existing CA file or directory")]
    VerifyLocationNotFound(PathBuf),

    /// OpenSSL could not be initialised or seeded.
    #[error("OpenSSL initialisation failed: {0}")]
    Initialize(String),

    /// An argument was rejected before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The stream failed earlier; TLS state after a fatal error is undefined, so further I/O is
    /// refused. Open a new connection. `kind` is the `io::ErrorKind` of the first failure (a
    /// stream whose transport broke with `BrokenPipe` keeps answering `BrokenPipe`), and
    /// `reason` its message.
    #[error(
        "the TLS stream failed earlier ({reason}); it refuses further I/O, open a new connection"
    )]
    StreamFailed {
        /// The kind of the first failure, which every later error of the stream keeps.
        kind: io::ErrorKind,
        /// What the first failure was.
        reason: String,
    },
}

/// One end of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The end that sent the ClientHello.
    Client,
    /// The end that answered it.
    Server,
}

fn verify_hint(side: Side) -> &'static str {
    match side {
        Side::Client => {
            "trust the issuing CA (ContextBuilder::verify_location or ca_certificates_pem), or \
             connect with Verify::None only if you accept an unauthenticated server"
        }
        Side::Server => {
            "trust the CA that issued the client's certificate (ContextBuilder::verify_location \
             or ca_certificates_pem on the server's context), or stop asking clients for \
             certificates (ServerOptions::verify_mode(VerifyMode::NONE))"
        }
    }
}

/// The peer's bytes as text where they are printable ASCII, escaped elsewhere.
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

fn not_tls_message(received: &[u8]) -> String {
    format!(
        "the peer does not speak TLS: its first bytes were \"{}\", which cannot start a TLS \
         record; is this a plaintext port, or a protocol that needs a STARTTLS (or CONNECT) \
         command before the TLS handshake?",
        printable(received)
    )
}

/// The name of a TLS alert (RFC 8446 §6 and the TLS 1.2 ones OpenSSL still sends).
pub(crate) fn alert_name(alert: u8) -> &'static str {
    match alert {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => "unknown_alert",
    }
}

fn alert_message(alert: u8, name: &str) -> String {
    let about_our_certificate = matches!(alert, 42..=46 | 48 | 116);
    if about_our_certificate {
        format!(
            "the peer rejected our certificate, or its absence (fatal TLS alert {name}, {alert}): \
             check that we send a certificate chain (certificate_file / certificate_chain_pem and \
             the matching private key) issued by a CA the peer trusts, complete with its \
             intermediates, valid now and meant for this use"
        )
    } else if alert == 40 {
        format!(
            "the peer aborted the handshake with a fatal {name} alert ({alert}): no parameters in \
             common (protocol versions, cipher suites, groups, signature algorithms), or, in TLS \
             1.2, the peer required a client certificate we did not send"
        )
    } else if alert == 120 {
        format!(
            "the peer found no application protocol (ALPN) in common with ours (fatal TLS alert \
             {name}, {alert}): compare the alpn_protocols of both ends"
        )
    } else {
        format!("the peer aborted the connection with a fatal TLS alert: {name} ({alert})")
    }
}

/// The operation a [`Error::Timeout`] interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// The handshake (`connect`, `accept`, [`SslStream::handshake`](crate::SslStream::handshake)).
    Handshake,
    /// A read.
    Read,
    /// A write, or a flush of written data.
    Write,
    /// Sending close_notify.
    Shutdown,
}

impl Operation {
    /// The operation's name, e.g. "handshake".
    pub fn name(self) -> &'static str {
        match self {
            Operation::Handshake => "handshake",
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Shutdown => "shutdown",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Error {
    /// Whether this is [`Error::WantRead`] or [`Error::WantWrite`]: retry when ready.
    pub fn is_would_block(&self) -> bool {
        matches!(self, Error::WantRead | Error::WantWrite)
            || matches!(self, Error::Io(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// The `io::ErrorKind` this error maps to when converted into an [`io::Error`].
    pub fn io_kind(&self) -> io::ErrorKind {
        match self {
            Error::Io(e) => e.kind(),
            Error::WantRead | Error::WantWrite => io::ErrorKind::WouldBlock,
            Error::UnexpectedEof => io::ErrorKind::UnexpectedEof,
            Error::Timeout { .. } => io::ErrorKind::TimedOut,
            Error::StreamFailed { kind, .. } => *kind,
            Error::VerifyLocationNotFound(_) => io::ErrorKind::NotFound,
            Error::InvalidArgument(_) => io::ErrorKind::InvalidInput,
            Error::Verify { .. }
            | Error::Hostname { .. }
            | Error::ServerCertificateMissing
            | Error::PeerNotTls { .. } => io::ErrorKind::InvalidData,
            Error::PeerAlert { .. } => io::ErrorKind::ConnectionAborted,
            _ => io::ErrorKind::Other,
        }
    }
}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        match err {
            // The transport's own error goes back untouched: kind, source and payload.
            Error::Io(e) => e,
            other => io::Error::new(other.io_kind(), other),
        }
    }
}

impl From<io::Error> for Error {
    /// An `io::Error` that carries an sslbridge [`Error`] (as the `Read`/`Write` impls
    /// return) becomes that error again; any other is [`Error::Io`].
    fn from(err: io::Error) -> Error {
        if err.get_ref().is_some_and(|e| e.is::<Error>()) {
            let kind = err.kind();
            match err.into_inner().map(|e| e.downcast::<Error>()) {
                Some(Ok(inner)) => return *inner,
                _ => return Error::Io(io::Error::from(kind)),
            }
        }
        Error::Io(err)
    }
}

impl From<ErrorStack> for Error {
    fn from(stack: ErrorStack) -> Error {
        Error::Ssl(stack)
    }
}

/// One entry of OpenSSL's error queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenSslError {
    /// The packed error code (`ERR_get_error`).
    pub code: u64,
    /// The library that raised it, e.g. "SSL routines".
    pub library: String,
    /// The reason, e.g. "wrong version number".
    pub reason: String,
    /// The function that raised it, where OpenSSL recorded one.
    pub function: String,
    /// Extra data attached by OpenSSL, if any.
    pub data: String,
}

impl OpenSslError {
    /// OpenSSL 3 packs operating-system errors with this flag and the errno below it.
    const SYSTEM_FLAG: u64 = 0x8000_0000;

    /// The reason code (`ERR_GET_REASON`); the errno for system errors.
    pub fn reason_code(&self) -> i32 {
        if self.code & Self::SYSTEM_FLAG != 0 {
            (self.code & 0x7FFF_FFFF) as i32
        } else {
            (self.code & 0x7F_FFFF) as i32
        }
    }

    /// The library code (`ERR_GET_LIB`); 2 (`ERR_LIB_SYS`) for system errors.
    pub fn library_code(&self) -> i32 {
        if self.code & Self::SYSTEM_FLAG != 0 {
            2
        } else {
            ((self.code >> 23) & 0xFF) as i32
        }
    }
}

impl fmt::Display for OpenSslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.library, self.reason)?;
        if !self.function.is_empty() {
            write!(f, " (in {})", self.function)?;
        }
        if !self.data.is_empty() {
            write!(f, " [{}]", self.data)?;
        }
        Ok(())
    }
}

/// The OpenSSL error queue, drained: every entry, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorStack(Vec<OpenSslError>);

impl ErrorStack {
    /// Drains this thread's OpenSSL error queue.
    pub fn drain() -> ErrorStack {
        let mut entries = Vec::new();
        loop {
            let mut file: *const c_char = std::ptr::null();
            let mut line: c_int = 0;
            let mut func: *const c_char = std::ptr::null();
            let mut data: *const c_char = std::ptr::null();
            let mut flags: c_int = 0;
            // SAFETY: all out-pointers are valid locals; OpenSSL stores static or queue-owned
            // strings into them, which we copy before the next queue call.
            let code = unsafe {
                openssl_sys::ERR_get_error_all(
                    &mut file, &mut line, &mut func, &mut data, &mut flags,
                )
            };
            if code == 0 {
                break;
            }
            // SAFETY: the strings are NUL-terminated C strings owned by OpenSSL (or null).
            let (library, reason) = unsafe {
                (
                    c_string(openssl_sys::ERR_lib_error_string(code)),
                    c_string(openssl_sys::ERR_reason_error_string(code)),
                )
            };
            let data = if flags & openssl_sys::ERR_TXT_STRING != 0 {
                // SAFETY: with ERR_TXT_STRING set, data is a NUL-terminated string.
                unsafe { c_string(data) }
            } else {
                String::new()
            };
            entries.push(OpenSslError {
                code: code as u64,
                library: fallback(library, "unknown library"),
                reason: fallback(reason, &format!("error code {code:#x}")),
                // SAFETY: func is a NUL-terminated static string or null.
                function: unsafe { c_string(func) },
                data,
            });
        }
        ErrorStack(entries)
    }

    /// Discards this thread's OpenSSL error queue. Every `SSL_*` call is preceded by this
    /// (SSL_get_error needs an empty queue), so the common empty case is a cheap peek:
    /// ERR_clear_error walks and resets every slot, several hundred instructions.
    pub(crate) fn clear() {
        // SAFETY: both only touch this thread's queue.
        unsafe {
            if crate::ffi::openssl::ERR_peek_error() != 0 {
                openssl_sys::ERR_clear_error();
            }
        }
    }

    /// A stack with one synthetic entry, for failures OpenSSL did not describe.
    pub(crate) fn message(reason: impl Into<String>) -> ErrorStack {
        ErrorStack(vec![OpenSslError {
            code: 0,
            library: "sslbridge".into(),
            reason: reason.into(),
            function: String::new(),
            data: String::new(),
        }])
    }

    /// Appends an explanation of our own after OpenSSL's entries.
    pub(crate) fn push_hint(&mut self, reason: String) {
        self.0.extend(ErrorStack::message(reason).0);
    }

    /// The entries, oldest first.
    pub fn errors(&self) -> &[OpenSslError] {
        &self.0
    }

    /// Whether any entry has this reason code (`SSL_R_*`, `X509_R_*`, …).
    pub fn has_reason(&self, reason: i32) -> bool {
        self.0.iter().any(|e| e.reason_code() == reason)
    }

    /// The fatal alert the peer sent, when an entry reports one: OpenSSL records a received
    /// alert as an SSL error with reason `SSL_AD_REASON_OFFSET + alert`.
    pub(crate) fn peer_alert(&self) -> Option<u8> {
        let offset = openssl_sys::SSL_AD_REASON_OFFSET;
        self.0.iter().find_map(|e| {
            let alert = e.reason_code() - offset;
            (e.library_code() == crate::ffi::openssl::ERR_LIB_SSL && (0..=255).contains(&alert))
                .then_some(alert as u8)
        })
    }

    /// An operating-system error OpenSSL recorded (library `ERR_LIB_SYS`), as an `io::Error`.
    pub(crate) fn system_error(&self) -> Option<io::Error> {
        const ERR_LIB_SYS: i32 = 2;
        self.0
            .iter()
            .find(|e| e.library_code() == ERR_LIB_SYS && e.reason_code() != 0)
            .map(|e| io::Error::from_raw_os_error(e.reason_code()))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ErrorStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no details in the OpenSSL error queue");
        }
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorStack {}

fn fallback(s: String, default: &str) -> String {
    if s.is_empty() {
        default.to_string()
    } else {
        s
    }
}

thread_local! {
    /// How many sslbridge call sequences are in progress on this thread: more than one means
    /// we run inside another's OpenSSL call (a verify callback, or TLS inside TLS, where one
    /// stream is the transport of another).
    static QUEUE_SCOPES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The start of an sslbridge call sequence that reads the error queue afterwards (an `SSL_*`
/// call and `SSL_get_error`, a decode that reports OpenSSL's reasons).
///
/// At top level it discards what unrelated code left behind, so stale entries neither fail a
/// good call (`SSL_get_error` looks at the oldest entry) nor show up in our errors. Nested
/// inside another sslbridge call on this thread, it sets that caller's entries aside and puts
/// them back when it ends, so neither side sees or loses the other's errors.
pub(crate) struct QueueScope {
    saved: Option<Vec<OpenSslError>>,
}

impl QueueScope {
    pub(crate) fn enter() -> QueueScope {
        let nested = QUEUE_SCOPES.with(|n| {
            let depth = n.get();
            n.set(depth + 1);
            depth > 0
        });
        // SAFETY: only reads this thread's queue.
        let saved = if nested && unsafe { crate::ffi::openssl::ERR_peek_error() } != 0 {
            Some(ErrorStack::drain().0)
        } else {
            ErrorStack::clear();
            None
        };
        QueueScope { saved }
    }
}

impl Drop for QueueScope {
    fn drop(&mut self) {
        QUEUE_SCOPES.with(|n| n.set(n.get().saturating_sub(1)));
        if let Some(saved) = self.saved.take() {
            // What this sequence left is its own business; the caller gets its entries back.
            ErrorStack::clear();
            saved.iter().for_each(OpenSslError::raise);
        }
    }
}

impl OpenSslError {
    /// Puts this entry (back) on the thread's queue: library, reason, function and data.
    fn raise(&self) {
        let function = std::ffi::CString::new(self.function.as_str()).unwrap_or_default();
        let data = std::ffi::CString::new(self.data.as_str()).unwrap_or_default();
        // SAFETY: plain calls on this thread's queue; the strings outlive the calls and the
        // format is "%s" with one string argument.
        unsafe {
            openssl_sys::ERR_new();
            openssl_sys::ERR_set_debug(std::ptr::null(), 0, function.as_ptr());
            if self.data.is_empty() {
                openssl_sys::ERR_set_error(
                    self.library_code(),
                    self.reason_code(),
                    std::ptr::null(),
                );
            } else {
                openssl_sys::ERR_set_error(
                    self.library_code(),
                    self.reason_code(),
                    c"%s".as_ptr(),
                    data.as_ptr(),
                );
            }
        }
    }
}

/// A mark on this thread's error queue for code that may run while OpenSSL is filling the
/// queue itself: the x509 helpers run inside the verify callback, in the middle of a
/// handshake. Dropping the mark removes exactly the entries added since it was set
/// (`ERR_set_mark` / `ERR_pop_to_mark`), leaving older ones to whoever owns them.
pub(crate) struct ErrorMark {
    newest_before: std::os::raw::c_ulong,
}

impl ErrorMark {
    pub(crate) fn set() -> ErrorMark {
        // SAFETY: both only touch this thread's queue; the mark is removed by Drop, so marks
        // stay balanced (OpenSSL uses them internally too).
        unsafe {
            let newest_before = openssl_sys::ERR_peek_last_error();
            crate::ffi::openssl::ERR_set_mark();
            ErrorMark { newest_before }
        }
    }

    /// The newest entry added since the mark, as a stack with `hint` after it. Only the newest
    /// can be read without disturbing the entries below it.
    pub(crate) fn error(&self, hint: String) -> Error {
        // SAFETY: only reads this thread's queue; the strings are static.
        let newest = unsafe { openssl_sys::ERR_peek_last_error() };
        let mut stack = if newest != 0 && newest != self.newest_before {
            // SAFETY: lib/reason strings are static NUL-terminated strings or null.
            let (library, reason) = unsafe {
                (
                    c_string(openssl_sys::ERR_lib_error_string(newest)),
                    c_string(openssl_sys::ERR_reason_error_string(newest)),
                )
            };
            ErrorStack(vec![OpenSslError {
                code: newest as u64,
                library: fallback(library, "unknown library"),
                reason: fallback(reason, &format!("error code {newest:#x}")),
                function: String::new(),
                data: String::new(),
            }])
        } else {
            ErrorStack::default()
        };
        stack.push_hint(hint);
        Error::Ssl(stack)
    }
}

impl Drop for ErrorMark {
    fn drop(&mut self) {
        // SAFETY: pops this thread's entries above the mark set in `set`, and the mark.
        unsafe { crate::ffi::openssl::ERR_pop_to_mark() };
    }
}

/// Turns an OpenSSL "1 on success" return code into a `Result`.
pub(crate) fn cvt(r: c_int) -> Result<c_int, Error> {
    if r <= 0 {
        Err(Error::Ssl(ErrorStack::drain()))
    } else {
        Ok(r)
    }
}

/// Turns a "positive on success" `long` return code into a `Result`.
pub(crate) fn cvt_long(r: std::os::raw::c_long) -> Result<std::os::raw::c_long, Error> {
    if r <= 0 {
        Err(Error::Ssl(ErrorStack::drain()))
    } else {
        Ok(r)
    }
}

/// Turns a "null on failure" pointer into a `Result`.
pub(crate) fn cvt_p<T>(p: *mut T) -> Result<*mut T, Error> {
    if p.is_null() {
        Err(Error::Ssl(ErrorStack::drain()))
    } else {
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_conversion_keeps_the_transport_kind_and_payload() {
        let inner = io::Error::new(io::ErrorKind::ConnectionReset, "peer reset");
        let back: io::Error = Error::Io(inner).into();
        assert_eq!(back.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(back.to_string(), "peer reset");
    }

    #[test]
    fn would_block_variants_map_to_would_block() {
        let io: io::Error = Error::WantRead.into();
        assert_eq!(io.kind(), io::ErrorKind::WouldBlock);
        let io: io::Error = Error::UnexpectedEof.into();
        assert_eq!(io.kind(), io::ErrorKind::UnexpectedEof);
        assert!(io.get_ref().unwrap().downcast_ref::<Error>().is_some());
    }

    #[test]
    fn error_is_send_sync_static() {
        fn check<T: Send + Sync + 'static>() {}
        check::<Error>();
    }
}

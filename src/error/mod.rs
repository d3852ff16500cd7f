//! The error type: [`Error`], a matchable enum, with [`Operation`] and [`Side`]. Reading
//! OpenSSL's error queue happens in [`queue`] only; the wording of the detailed messages is in
//! [`messages`].

mod messages;
mod queue;

pub(crate) use messages::alert_name;
use messages::{alert_message, not_tls_message, verify_hint};
pub(crate) use queue::{cvt, cvt_long, cvt_p, ErrorMark, QueueScope};
pub use queue::{ErrorStack, OpenSslError};

use std::fmt;
use std::io;
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

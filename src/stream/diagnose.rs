//! Why an `SSL_*` call failed: OpenSSL's verdict turned into the most useful [`Error`]
//! (our own verification failure, a peer that does not speak TLS, the peer's alert, a
//! truncation, the transport's own error, or OpenSSL's error queue).

use super::SslStream;
use crate::error::{alert_name, Error, ErrorStack};
use crate::ffi::openssl as ffi;
use std::io;
use std::os::raw::c_int;

impl<T> SslStream<T> {
    /// Classifies a failed `SSL_*` call. `None` means the peer sent close_notify.
    pub(super) fn take_error(&mut self, ret: c_int) -> Option<Error> {
        // SAFETY: ssl is live (callers checked) and `ret` is the value the call returned.
        let code = unsafe { openssl_sys::SSL_get_error(self.ssl, ret) };
        // On the fd path OpenSSL made the system call: its errno is the transport error.
        let os_error = self.io.fd_fast_path.then(io::Error::last_os_error);
        let conn = self.conn.get_mut();
        let io_error = conn.bio.error.take();
        let verify_failure = conn.verify_failure.take().map(|e| *e);
        let bio_at_eof = conn.bio.at_eof();
        // What the peer sent first: the BIO's bytes on the custom BIO, the record header the
        // message callback saw on the fd path.
        if !self.handshake_done {
            conn.bio.top_up_first_bytes();
        }
        let received = conn.bio.first_bytes.as_slice();
        let not_tls = (!self.handshake_done && !received.is_empty() && !looks_like_tls(received))
            .then(|| received.to_vec());
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

//! `Session`: a TLS session a client can resume (cl+ssl lists session reuse as missing).

use crate::context::Protocol;
use crate::error::{cvt, Error, ErrorStack};
use foreign_types::{ForeignType, ForeignTypeRef};
use openssl_sys::SSL_SESSION;
use std::os::raw::c_long;

foreign_types::foreign_type! {
    /// A resumable TLS session (an owned `SSL_SESSION`): a TLS 1.2 session ID or ticket, or a
    /// TLS 1.3 ticket. Take it from a finished connection with
    /// [`SslStream::session`](crate::SslStream::session) and offer it on the next one with
    /// [`ClientOptions::session`](crate::ClientOptions::session); the server decides whether
    /// to resume ([`SslStream::session_reused`](crate::SslStream::session_reused) tells).
    ///
    /// Sessions hold secret keys: keep stored DER as safe as a private key.
    pub unsafe type Session: Send + Sync {
        type CType = SSL_SESSION;
        fn drop = openssl_sys::SSL_SESSION_free;
        fn clone = session_up_ref;
    }
}

unsafe fn session_up_ref(s: *mut SSL_SESSION) -> *mut SSL_SESSION {
    // SAFETY: s is a live session.
    unsafe { openssl_sys::SSL_SESSION_up_ref(s) };
    s
}

impl Session {
    /// Decodes a session saved with [`to_der`](SessionRef::to_der).
    #[doc(alias = "d2i_SSL_SESSION")]
    pub fn from_der(der: &[u8]) -> Result<Session, Error> {
        crate::init::ensure_initialized();
        let _queue = crate::error::QueueScope::enter();
        let len = c_long::try_from(der.len())
            .map_err(|_| Error::InvalidArgument("session larger than 2 GiB".into()))?;
        let mut p = der.as_ptr();
        // SAFETY: `p` points to `len` readable bytes; d2i advances our local copy.
        let s = unsafe { openssl_sys::d2i_SSL_SESSION(std::ptr::null_mut(), &mut p, len) };
        if s.is_null() {
            let mut stack = ErrorStack::drain();
            stack.push_hint("the input is not a DER-encoded TLS session".into());
            return Err(Error::Ssl(stack));
        }
        // SAFETY: s is a fresh owned session.
        Ok(unsafe { Session::from_ptr(s) })
    }
}

impl SessionRef {
    /// The session in DER form, to store and restore with [`Session::from_der`].
    #[doc(alias = "i2d_SSL_SESSION")]
    pub fn to_der(&self) -> Vec<u8> {
        // SAFETY: a null output asks for the length only.
        let len = unsafe { openssl_sys::i2d_SSL_SESSION(self.as_ptr(), std::ptr::null_mut()) };
        let Ok(len) = cvt(len) else {
            return Vec::new();
        };
        let mut out = vec![0u8; len as usize];
        let mut p = out.as_mut_ptr();
        // SAFETY: `out` has exactly the room i2d asked for.
        unsafe { openssl_sys::i2d_SSL_SESSION(self.as_ptr(), &mut p) };
        out
    }

    /// The session ID (empty for TLS 1.3 tickets without one).
    #[doc(alias = "SSL_SESSION_get_id")]
    pub fn id(&self) -> Vec<u8> {
        let mut len = 0u32;
        // SAFETY: the returned pointer refers to `len` bytes inside the live session.
        unsafe {
            let p = openssl_sys::SSL_SESSION_get_id(self.as_ptr(), &mut len);
            if p.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(p, len as usize).to_vec()
            }
        }
    }

    /// The protocol version the session was negotiated with.
    #[doc(alias = "SSL_SESSION_get_protocol_version")]
    pub fn protocol_version(&self) -> Option<Protocol> {
        // SAFETY: reads a field of the live session.
        Protocol::from_raw(unsafe { openssl_sys::SSL_SESSION_get_protocol_version(self.as_ptr()) })
    }

    /// Whether a client can offer it for resumption (`SSL_SESSION_is_resumable`).
    #[doc(alias = "SSL_SESSION_is_resumable")]
    pub fn is_resumable(&self) -> bool {
        // SAFETY: reads a field of the live session.
        unsafe { crate::ffi::openssl::SSL_SESSION_is_resumable(self.as_ptr()) == 1 }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("protocol", &self.protocol_version())
            .field("resumable", &self.is_resumable())
            .finish()
    }
}

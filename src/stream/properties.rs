//! What a connection negotiated: peer certificates, protocol, cipher, ALPN, SNI, session.

use super::SslStream;
use crate::context::Protocol;
use crate::session::Session;
use crate::x509::Certificate;
use foreign_types::ForeignType;

impl<T> SslStream<T> {
    /// The peer's certificate, if it presented one (`SSL_get1_peer_certificate`).
    #[doc(alias = "SSL_get1_peer_certificate")]
    #[doc(alias = "ssl-stream-x509-certificate")]
    pub fn peer_certificate(&self) -> Option<Certificate> {
        if self.ssl.is_null() {
            return None;
        }
        // SAFETY: ssl is live; get1 returns a new reference that we own.
        let x = unsafe { openssl_sys::SSL_get1_peer_certificate(self.ssl) };
        // SAFETY: x is null or an owned X509.
        (!x.is_null()).then(|| unsafe { Certificate::from_ptr(x) })
    }

    /// The ALPN protocol the handshake selected, if any.
    #[doc(alias = "SSL_get0_alpn_selected")]
    #[doc(alias = "get-selected-alpn-protocol")]
    pub fn selected_alpn_protocol(&self) -> Option<&str> {
        self.selected_alpn_protocol_bytes()
            .and_then(|p| std::str::from_utf8(p).ok())
    }

    /// The ALPN protocol the handshake selected, as raw bytes.
    #[doc(alias = "SSL_get0_alpn_selected")]
    pub fn selected_alpn_protocol_bytes(&self) -> Option<&[u8]> {
        if self.ssl.is_null() {
            return None;
        }
        let mut data = std::ptr::null();
        let mut len = 0u32;
        // SAFETY: ssl is live; OpenSSL points `data` into the SSL's own storage, valid while
        // the SSL is (tied to &self).
        unsafe {
            openssl_sys::SSL_get0_alpn_selected(self.ssl, &mut data, &mut len);
            if data.is_null() || len == 0 {
                None
            } else {
                Some(std::slice::from_raw_parts(data, len as usize))
            }
        }
    }

    /// The negotiated protocol version; `None` before the handshake completes.
    #[doc(alias = "SSL_version")]
    pub fn protocol_version(&self) -> Option<Protocol> {
        if self.ssl.is_null() || !self.handshake_done {
            return None;
        }
        // SAFETY: ssl is live.
        Protocol::from_raw(unsafe { openssl_sys::SSL_version(self.ssl) })
    }

    /// The negotiated cipher suite, e.g. `"TLS_AES_128_GCM_SHA256"` (OpenSSL's name for
    /// TLS 1.2 suites, e.g. `"ECDHE-ECDSA-AES128-GCM-SHA256"`).
    #[doc(alias = "SSL_CIPHER_get_name")]
    pub fn cipher_name(&self) -> Option<&'static str> {
        if self.ssl.is_null() {
            return None;
        }
        // SAFETY: ssl is live; cipher descriptions are static tables.
        unsafe {
            let cipher = openssl_sys::SSL_get_current_cipher(self.ssl);
            if cipher.is_null() {
                return None;
            }
            std::ffi::CStr::from_ptr(openssl_sys::SSL_CIPHER_get_name(cipher))
                .to_str()
                .ok()
        }
    }

    /// The session to resume later with [`ClientOptions::session`](crate::ClientOptions::session),
    /// or `None` if it cannot be resumed. In TLS 1.3 the server sends its tickets after the
    /// handshake; they are processed when the client reads, so read some data (or the
    /// close_notify) before asking.
    #[doc(alias = "SSL_get1_session")]
    pub fn session(&self) -> Option<Session> {
        if self.ssl.is_null() {
            return None;
        }
        // SAFETY: ssl is live; get1 returns a new reference that we own.
        let s = unsafe { crate::ffi::openssl::SSL_get1_session(self.ssl) };
        if s.is_null() {
            return None;
        }
        // SAFETY: s is an owned session.
        let session = unsafe { Session::from_ptr(s) };
        session.is_resumable().then_some(session)
    }

    /// The server name (SNI) of the connection: the one a client sent, or the one a server
    /// received.
    #[doc(alias = "SSL_get_servername")]
    pub fn server_name(&self) -> Option<String> {
        if self.ssl.is_null() {
            return None;
        }
        // SAFETY: ssl is live; the name is a NUL-terminated string it owns, copied at once.
        let name = unsafe {
            crate::ffi::openssl::c_string(openssl_sys::SSL_get_servername(
                self.ssl,
                openssl_sys::TLSEXT_NAMETYPE_host_name,
            ))
        };
        (!name.is_empty()).then_some(name)
    }

    /// The certificates the peer sent, its own first, then the chain it sent with it.
    #[doc(alias = "SSL_get_peer_cert_chain")]
    pub fn peer_certificate_chain(&self) -> Vec<Certificate> {
        let mut out = Vec::new();
        if self.ssl.is_null() {
            return out;
        }
        // SAFETY: ssl is live; the stack belongs to it, and each X509 is up-ref'd before we
        // wrap it as owned.
        unsafe {
            let stack =
                openssl_sys::SSL_get_peer_cert_chain(self.ssl) as *mut openssl_sys::OPENSSL_STACK;
            if !stack.is_null() {
                for i in 0..openssl_sys::OPENSSL_sk_num(stack) {
                    let x = openssl_sys::OPENSSL_sk_value(stack, i) as *mut openssl_sys::X509;
                    if !x.is_null() {
                        openssl_sys::X509_up_ref(x);
                        out.push(Certificate::from_ptr(x));
                    }
                }
            }
        }
        // A server's stack leaves out the client's own certificate, and a resumed session
        // keeps only the peer's certificate: put it first.
        if !self.is_client || out.is_empty() {
            if let Some(leaf) = self.peer_certificate() {
                out.insert(0, leaf);
            }
        }
        out
    }

    /// Whether the handshake resumed an earlier session.
    #[doc(alias = "SSL_session_reused")]
    pub fn session_reused(&self) -> bool {
        // SAFETY: ssl is live when non-null.
        !self.ssl.is_null() && unsafe { openssl_sys::SSL_session_reused(self.ssl) } == 1
    }

    /// Whether this is the client side.
    #[doc(alias = "SSL_is_server")]
    pub fn is_client(&self) -> bool {
        self.is_client
    }
}

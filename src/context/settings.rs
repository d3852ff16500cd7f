//! The settings a [`ContextBuilder`](super::ContextBuilder) takes: method, protocol versions,
//! verify modes, options, session cache modes and verify locations.

use std::ops::BitOr;
use std::os::raw::{c_int, c_long};
use std::path::PathBuf;

/// Which side(s) a context serves (cl+ssl's `:method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Method {
    /// `TLS_method`: clients and servers.
    #[default]
    Generic,
    /// `TLS_client_method`.
    Client,
    /// `TLS_server_method`.
    Server,
}

/// A TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// TLS 1.0 (deprecated; refused by OpenSSL 3's default security level).
    Tls1,
    /// TLS 1.1 (deprecated; refused by OpenSSL 3's default security level).
    Tls1_1,
    /// TLS 1.2.
    Tls1_2,
    /// TLS 1.3.
    Tls1_3,
}

impl Protocol {
    pub(crate) fn to_raw(self) -> c_int {
        match self {
            Protocol::Tls1 => openssl_sys::TLS1_VERSION,
            Protocol::Tls1_1 => openssl_sys::TLS1_1_VERSION,
            Protocol::Tls1_2 => openssl_sys::TLS1_2_VERSION,
            Protocol::Tls1_3 => openssl_sys::TLS1_3_VERSION,
        }
    }

    pub(crate) fn from_raw(v: c_int) -> Option<Protocol> {
        match v {
            openssl_sys::TLS1_VERSION => Some(Protocol::Tls1),
            openssl_sys::TLS1_1_VERSION => Some(Protocol::Tls1_1),
            openssl_sys::TLS1_2_VERSION => Some(Protocol::Tls1_2),
            openssl_sys::TLS1_3_VERSION => Some(Protocol::Tls1_3),
            _ => None,
        }
    }

    #[allow(clippy::unnecessary_cast)] // SSL_OP_* is u64 on OpenSSL 3, c_ulong on 1.1
    pub(crate) fn disable_option(self) -> u64 {
        (match self {
            Protocol::Tls1 => openssl_sys::SSL_OP_NO_TLSv1,
            Protocol::Tls1_1 => openssl_sys::SSL_OP_NO_TLSv1_1,
            Protocol::Tls1_2 => openssl_sys::SSL_OP_NO_TLSv1_2,
            Protocol::Tls1_3 => openssl_sys::SSL_OP_NO_TLSv1_3,
        }) as u64
    }

    /// The name OpenSSL uses, e.g. "TLSv1.3".
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tls1 => "TLSv1",
            Protocol::Tls1_1 => "TLSv1.1",
            Protocol::Tls1_2 => "TLSv1.2",
            Protocol::Tls1_3 => "TLSv1.3",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! bit_set {
    ($(#[$meta:meta])* $name:ident($raw:ty) { $($(#[$cmeta:meta])* $cname:ident = $value:expr;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name($raw);

        impl $name {
            $($(#[$cmeta])* pub const $cname: $name = $name($value as $raw);)*

            /// The raw OpenSSL bits.
            pub fn bits(self) -> $raw {
                self.0
            }

            /// A value from raw OpenSSL bits.
            pub fn from_bits(bits: $raw) -> $name {
                $name(bits)
            }

            /// Whether every bit of `other` is set in `self`.
            pub fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                $name(self.0 | rhs.0)
            }
        }
    };
}

bit_set! {
    /// Verification flags (`SSL_VERIFY_*`), combinable with `|`.
    ///
    /// ```
    /// use sslbridge::VerifyMode;
    /// let mode = VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT;
    /// assert!(mode.contains(VerifyMode::PEER));
    /// ```
    VerifyMode(c_int) {
        /// Do not verify the peer (a server does not ask for a client certificate).
        NONE = openssl_sys::SSL_VERIFY_NONE;
        /// Verify the peer's certificate (a server asks the client for one).
        PEER = openssl_sys::SSL_VERIFY_PEER;
        /// Server only: fail the handshake when the client sends no certificate.
        FAIL_IF_NO_PEER_CERT = openssl_sys::SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        /// Server only: ask for a client certificate only in the first handshake.
        CLIENT_ONCE = openssl_sys::SSL_VERIFY_CLIENT_ONCE;
    }
}

bit_set! {
    /// Connection options (`SSL_OP_*`), combinable with `|`.
    SslOptions(u64) {
        /// `SSL_OP_ALL`: OpenSSL's bug workarounds (cl+ssl's default).
        ALL = openssl_sys::SSL_OP_ALL;
        /// `SSL_OP_NO_COMPRESSION`.
        NO_COMPRESSION = openssl_sys::SSL_OP_NO_COMPRESSION;
        /// `SSL_OP_NO_TICKET`: no stateless session tickets.
        NO_TICKET = openssl_sys::SSL_OP_NO_TICKET;
        /// `SSL_OP_CIPHER_SERVER_PREFERENCE`.
        CIPHER_SERVER_PREFERENCE = openssl_sys::SSL_OP_CIPHER_SERVER_PREFERENCE;
        /// `SSL_OP_NO_RENEGOTIATION`.
        NO_RENEGOTIATION = openssl_sys::SSL_OP_NO_RENEGOTIATION;
        /// `SSL_OP_IGNORE_UNEXPECTED_EOF`: treat a transport EOF as close_notify (unsafe).
        IGNORE_UNEXPECTED_EOF = openssl_sys::SSL_OP_IGNORE_UNEXPECTED_EOF;
        /// `SSL_OP_ENABLE_MIDDLEBOX_COMPAT` (on by default in OpenSSL).
        ENABLE_MIDDLEBOX_COMPAT = openssl_sys::SSL_OP_ENABLE_MIDDLEBOX_COMPAT;
    }
}

bit_set! {
    /// Session cache modes (`SSL_SESS_CACHE_*`), combinable with `|`.
    SessionCacheMode(c_long) {
        /// No caching.
        OFF = openssl_sys::SSL_SESS_CACHE_OFF;
        /// Cache client sessions in the context.
        CLIENT = openssl_sys::SSL_SESS_CACHE_CLIENT;
        /// Cache server sessions (OpenSSL's and cl+ssl's default).
        SERVER = openssl_sys::SSL_SESS_CACHE_SERVER;
        /// Both sides.
        BOTH = openssl_sys::SSL_SESS_CACHE_BOTH;
        /// Do not flush expired sessions automatically.
        NO_AUTO_CLEAR = openssl_sys::SSL_SESS_CACHE_NO_AUTO_CLEAR;
        /// Do not use the internal cache for lookups or stores.
        NO_INTERNAL = openssl_sys::SSL_SESS_CACHE_NO_INTERNAL;
    }
}

/// Where trusted CA certificates come from (cl+ssl's `:verify-location`).
///
/// Files are read when the context is built, and a context records the certificates it
/// loaded ([`Context::to_builder`](super::Context::to_builder) does not read them again);
/// directories are consulted by OpenSSL whenever it verifies a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyLocation {
    /// OpenSSL's default file and directory: [`DefaultFile`](VerifyLocation::DefaultFile)
    /// and [`DefaultDir`](VerifyLocation::DefaultDir).
    Default,
    /// OpenSSL's default CA file (`SSL_CERT_FILE`, else the compiled-in path), if it exists.
    DefaultFile,
    /// OpenSSL's default CA directories (`SSL_CERT_DIR`, a `:`-separated list, else the
    /// compiled-in path), those that exist.
    DefaultDir,
    /// A PEM file of CA certificates.
    File(PathBuf),
    /// A directory of hashed CA certificates (`openssl rehash`).
    Dir(PathBuf),
}

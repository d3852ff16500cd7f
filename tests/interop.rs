//! Interop with other TLS implementations, both ways, on the fd path and the custom BIO, in
//! TLS 1.2 and 1.3: the `openssl` command-line peers, rustls in-process, and GnuTLS.
//!
//! The GnuTLS peers (`gnutls-cli`, `gnutls-serv`) are not among the README's prerequisites:
//! their tests run with `--features external-peers` (Debian: `apt-get install gnutls-bin`).
#![cfg(unix)] // descriptors, Unix sockets, signals or rlimits: Unix only

mod common;

#[cfg(feature = "external-peers")]
#[path = "interop/gnutls.rs"]
mod gnutls;

#[path = "interop/openssl.rs"]
mod openssl;

#[path = "interop/rustls.rs"]
mod rustls;

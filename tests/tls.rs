//! TLS features end to end, between our own peers and against the `openssl` command-line
//! peers: ALPN, key logging, mutual TLS, session resumption, SNI and the verification matrix.

mod common;

#[path = "tls/alpn.rs"]
mod alpn;

#[path = "tls/keylog.rs"]
mod keylog;

#[path = "tls/mtls.rs"]
mod mtls;

#[path = "tls/resumption.rs"]
mod resumption;

#[path = "tls/sni.rs"]
mod sni;

#[path = "tls/verify_matrix.rs"]
mod verify_matrix;

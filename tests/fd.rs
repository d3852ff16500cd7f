//! The fd fast path: OpenSSL doing the I/O on descriptors (sockets, pipes, raw descriptors),
//! proof that it bypasses Rust, deadlines enforced with `poll`, non-blocking descriptors, the
//! same scenarios on the fd path and the custom BIO (cl+ssl's "modal" tests), a child process's
//! stdin/stdout, and the `openssl` command-line peers over TCP.
#![cfg(unix)] // descriptors, Unix sockets, signals or rlimits: Unix only

mod common;

#[path = "fd/bypass.rs"]
mod bypass;

#[path = "fd/deadlines.rs"]
mod deadlines;

#[path = "fd/modal.rs"]
mod modal;

#[path = "fd/nonblocking.rs"]
mod nonblocking;

#[path = "fd/openssl_cli.rs"]
mod openssl_cli;

#[path = "fd/pipes.rs"]
mod pipes;

#[path = "fd/raw.rs"]
mod raw;

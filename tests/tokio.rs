//! `sslbridge::tokio`: async streams over `tokio::io::duplex` and loopback TCP, cancellation,
//! 1,000 concurrent connections on one runtime, and reads that fill the caller's buffer and
//! vectored writes (issue 16). Needs `--features tokio`.
#![cfg(feature = "tokio")]

mod common;

#[path = "tokio/common.rs"]
mod tokio_common;

#[path = "tokio/cancel.rs"]
mod cancel;

#[path = "tokio/duplex.rs"]
mod duplex;

#[path = "tokio/many.rs"]
mod many;

#[path = "tokio/reads_and_writes.rs"]
mod reads_and_writes;

#[path = "tokio/tcp.rs"]
mod tcp;

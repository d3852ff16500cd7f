//! `sslbridge::tokio`: async streams over `tokio::io::duplex` and loopback TCP, cancellation,
//! and 1,000 concurrent connections on one runtime. Needs `--features tokio`.
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

#[path = "tokio/tcp.rs"]
mod tcp;

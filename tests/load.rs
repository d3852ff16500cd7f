//! Load: the example server holding 500 clients while others misbehave, one context shared
//! by 16 threads, and memory that stays flat over rounds of connections.
//!
//! The tests of this binary run one at a time (they hold [`SERIAL`]): the memory test reads
//! the process's RSS, which the 500 clients of the server test would disturb.
#![cfg(unix)] // descriptors, Unix sockets, signals or rlimits: Unix only

use std::sync::Mutex;

mod common;

#[path = "load/server.rs"]
mod server;

#[path = "load/shared.rs"]
mod shared;

/// Held by every test of this binary, so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

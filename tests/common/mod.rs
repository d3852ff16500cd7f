//! Shared helpers for all the integration tests: the fixture (a test PKI and its PEM files),
//! time limits, child processes killed by PID, tools that fail with the Debian package to
//! install, free ports and socket pairs, deterministic byte patterns, the BIO modes and
//! protocol versions of the interop matrix, in-memory server threads, `openssl` processes,
//! transports that fail or panic on cue, and a few POSIX calls on `libc`. Each test binary uses
//! a subset.
#![allow(dead_code, unused_imports)]

mod files;
mod fixtures;
mod modes;
mod net;
mod openssl;
mod pattern;
#[cfg(unix)]
mod posix;
mod process;
mod serve;
mod timing;
mod transports;

pub use files::*;
pub use fixtures::*;
pub use modes::*;
pub use net::*;
pub use openssl::*;
pub use pattern::*;
#[cfg(unix)]
pub use posix::*;
pub use process::*;
pub use serve::*;
pub use timing::*;
pub use transports::*;

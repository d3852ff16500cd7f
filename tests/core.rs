//! Core behaviour: contexts and their rotation, transfers over the in-memory `duplex()`,
//! transport failures, non-blocking transports, verification, certificate inspection, the
//! soundness regressions, the silent traps a new user hits (some over loopback TCP),
//! and our client and server against the `openssl` command-line peers.

mod common;

#[path = "core/certificates.rs"]
mod certificates;

#[path = "core/context.rs"]
mod context;

#[path = "core/context_rotation.rs"]
mod context_rotation;

#[path = "core/duplex.rs"]
mod duplex;

#[path = "core/failures.rs"]
mod failures;

#[path = "core/nonblocking.rs"]
mod nonblocking;

#[path = "core/openssl.rs"]
mod openssl;

#[path = "core/soundness.rs"]
mod soundness;

#[cfg(unix)] // Unix sockets and descriptor deadlines
#[cfg(unix)] // Unix sockets and descriptor deadlines
#[path = "core/traps.rs"]
mod traps;

#[cfg(unix)] // borrowed sockets on the fd path
#[path = "core/transports.rs"]
mod transports;

#[path = "core/verify.rs"]
mod verify;

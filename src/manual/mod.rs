//! The sslbridge manual: how to use the crate, chapter by chapter.
//!
//! These modules contain no code, only documentation. Read them in order for a tour, or jump
//! to the chapter you need; the [crate root](crate) has the overview, the data-flow diagram
//! and a quick start. Examples in the chapters run as tests; the ones that make certificates
//! use [`sslbridge::testing`](../testing/index.html), which needs the `testing` feature in your own
//! `Cargo.toml` (`[dev-dependencies] sslbridge = { version = "0.1", features = ["testing"] }`).
//!
//! 1. [`transports`]: what can carry TLS, which types take the fd fast path and how to add
//!    your own; child processes, STARTTLS, TLS inside TLS, flushing, descriptors and signals.
//! 2. [`deadlines`]: timeouts that are enforced or refused, non-blocking transports,
//!    `WantRead`/`WantWrite`, retrying writes, driving a stream from an event loop.
//! 3. [`errors`]: the [`Error`](crate::Error) variants, honest end of stream, failed
//!    streams, and the ways a stream ends (`close`, `shutdown`, `Drop`, `into_inner`).
//! 4. [`verification`]: [`Verify`](crate::Verify), hostname rules, trusted roots, client
//!    certificates (mutual TLS), inspecting certificates, SNI, ALPN and key logging.
//! 5. [`contexts`]: the shared [`Context`](crate::Context), the global context, and changing
//!    certificates while serving.
//! 6. [`sessions`]: resuming sessions, storing them, and what a resumed session re-checks.
//! 7. [`async_tokio`]: async streams with the `tokio` feature, cancellation, and how they
//!    differ from the blocking ones.
//! 8. [`fuzzing`]: fuzzing your own protocol over TLS with
//!    [`ChaosTransport`](../testing/struct.ChaosTransport.html), a template target, the `fuzzing`
//!    feature, and how sslbridge itself is fuzzed.
//! 9. [`cl_plus_ssl`]: every cl+ssl function and keyword next to its sslbridge name, and
//!    where sslbridge deliberately behaves differently.
//! 10. [`limitations`]: what sslbridge does not do, and the platforms it runs on.

pub mod transports;

pub mod deadlines;

pub mod errors;

pub mod verification;

pub mod contexts;

pub mod sessions;

pub mod async_tokio;

pub mod fuzzing;

pub mod cl_plus_ssl;

pub mod limitations;

//! Foreign functions: [`openssl`] declares only what `openssl-sys` lacks; `posix` (Unix only)
//! wraps the few POSIX calls of the fd fast path, on the `libc` crate.

pub(crate) mod openssl;
#[cfg(unix)]
pub(crate) mod posix;

//! Foreign functions: [`openssl`] declares only what `openssl-sys` lacks; [`posix`] wraps the
//! few POSIX calls of the fd fast path, on the `libc` crate.

pub(crate) mod openssl;
pub(crate) mod posix;

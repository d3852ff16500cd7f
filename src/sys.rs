//! The few POSIX calls the fd fast path needs (`poll`, `fcntl`, `getsockopt`), declared here
//! because the library's only dependencies are openssl-sys, foreign-types, bytes and
//! thiserror.

use std::io;
use std::os::fd::RawFd;
use std::os::raw::{c_int, c_short, c_uint, c_ulong, c_void};
use std::time::{Duration, Instant};

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

extern "C" {
    fn poll(fds: *mut PollFd, nfds: c_ulong, timeout: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn getsockopt(
        fd: c_int,
        level: c_int,
        name: c_int,
        value: *mut c_void,
        len: *mut c_uint,
    ) -> c_int;
}

const POLLIN: c_short = 0x1;
const POLLOUT: c_short = 0x4;
const F_GETFL: c_int = 3;
const F_SETFL: c_int = 4;
#[cfg(any(target_os = "linux", target_os = "android"))]
const O_NONBLOCK: c_int = 0o4000;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const O_NONBLOCK: c_int = 0x4;
#[cfg(any(target_os = "linux", target_os = "android"))]
const SOL_SOCKET: c_int = 1;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SOL_SOCKET: c_int = 0xffff;
#[cfg(any(target_os = "linux", target_os = "android"))]
const SO_TYPE: c_int = 3;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SO_TYPE: c_int = 0x1008;

/// Whether `fd` is a socket (pipes, FIFOs, ttys and files are not).
pub(crate) fn is_socket(fd: RawFd) -> bool {
    let mut kind: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as c_uint;
    // SAFETY: kind/len are valid out-parameters of the right size; a non-socket fd simply
    // fails with ENOTSOCK.
    unsafe {
        getsockopt(
            fd,
            SOL_SOCKET,
            SO_TYPE,
            (&mut kind as *mut c_int).cast(),
            &mut len,
        ) == 0
    }
}

/// Whether `fd` has `O_NONBLOCK` set.
pub(crate) fn is_nonblocking(fd: RawFd) -> io::Result<bool> {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's flags.
    let flags = unsafe { fcntl(fd, F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags & O_NONBLOCK != 0)
}

/// Sets or clears `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: RawFd, nonblocking: bool) -> io::Result<()> {
    // SAFETY: as above.
    let flags = unsafe { fcntl(fd, F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let new = if nonblocking {
        flags | O_NONBLOCK
    } else {
        flags & !O_NONBLOCK
    };
    // SAFETY: F_SETFL takes an int argument; the descriptor stays valid.
    if new != flags && unsafe { fcntl(fd, F_SETFL, new) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Readiness {
    Readable,
    Writable,
}

/// Waits until `fd` is ready or the deadline passes. `Ok(false)` means the deadline passed.
/// Retries `EINTR` with the remaining time.
pub(crate) fn wait_ready(
    fd: RawFd,
    want: Readiness,
    deadline: Option<Instant>,
) -> io::Result<bool> {
    loop {
        let timeout_ms: c_int = match deadline {
            None => -1,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(false);
                }
                // Round up so we never wake a hair early and spin.
                let left = d - now + Duration::from_micros(999);
                left.as_millis().min(c_int::MAX as u128) as c_int
            }
        };
        let mut pfd = PollFd {
            fd,
            events: match want {
                Readiness::Readable => POLLIN,
                Readiness::Writable => POLLOUT,
            },
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { poll(&mut pfd, 1, timeout_ms) };
        if r > 0 {
            // Readable, writable, or an error/hangup that the next I/O call will report.
            return Ok(true);
        }
        if r == 0 {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(false);
            }
            continue;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

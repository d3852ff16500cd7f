//! The few POSIX calls the fd fast path needs (`poll`, `fcntl`, `getsockopt`), on the `libc`
//! crate so every constant and type is right on every Unix (`O_NONBLOCK` and `SOL_SOCKET`
//! differ on MIPS, SPARC, Alpha and PA-RISC; `nfds_t` is 32 bits on macOS).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

/// Whether `fd` is a socket (pipes, FIFOs, ttys and files are not).
pub(crate) fn is_socket(fd: RawFd) -> bool {
    let mut kind: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: kind/len are valid out-parameters of the right size; a non-socket fd simply
    // fails with ENOTSOCK.
    unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut libc::c_int).cast(),
            &mut len,
        ) == 0
    }
}

/// Whether `fd` has `O_NONBLOCK` set.
pub(crate) fn is_nonblocking(fd: RawFd) -> io::Result<bool> {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's flags.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags & libc::O_NONBLOCK != 0)
}

/// Sets or clears `O_NONBLOCK` on `fd`.
pub(crate) fn set_nonblocking(fd: RawFd, nonblocking: bool) -> io::Result<()> {
    // SAFETY: as above.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let new = if nonblocking {
        flags | libc::O_NONBLOCK
    } else {
        flags & !libc::O_NONBLOCK
    };
    // SAFETY: F_SETFL takes an int argument; the descriptor stays valid.
    if new != flags && unsafe { libc::fcntl(fd, libc::F_SETFL, new) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A new descriptor for the same open file description (`F_DUPFD_CLOEXEC`), owned by the
/// caller. Running out of descriptors (`EMFILE`/`ENFILE`) is explained, since it is the one
/// failure a caller can act on.
pub(crate) fn duplicate(fd: RawFd) -> io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC takes an int (the lowest number to use) and only creates a
    // descriptor, which we own from here on.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if new < 0 {
        let err = io::Error::last_os_error();
        return Err(match err.raw_os_error() {
            Some(libc::EMFILE) | Some(libc::ENFILE) => io::Error::new(
                err.kind(),
                format!(
                    "cannot duplicate the transport's descriptor {fd} for the TLS stream: {err}; \
                     the process (RLIMIT_NOFILE, `ulimit -n`) or the system has reached its \
                     limit of open files: close descriptors or raise the limit"
                ),
            ),
            _ => io::Error::new(
                err.kind(),
                format!("cannot duplicate the transport's descriptor {fd}: {err}"),
            ),
        });
    }
    // SAFETY: `new` is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// The calling thread's `errno`, as left by the last failed system call.
pub(crate) fn errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Sets the calling thread's `errno` to 0, so a later check sees only what happened since.
pub(crate) fn clear_errno() {
    #[cfg(any(target_os = "solaris", target_os = "illumos"))]
    use libc::___errno as errno_location;
    #[cfg(any(target_os = "openbsd", target_os = "netbsd", target_os = "android"))]
    use libc::__errno as errno_location;
    #[cfg(any(target_os = "linux", target_os = "emscripten", target_os = "redox"))]
    use libc::__errno_location as errno_location;
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "tvos",
        target_os = "watchos",
        target_os = "visionos",
        target_os = "freebsd",
        target_os = "dragonfly"
    ))]
    use libc::__error as errno_location;
    // SAFETY: errno is thread-local; writing 0 to it has no other effect.
    unsafe { *errno_location() = 0 };
}

/// Whether the last failed system call was interrupted by a signal (`EINTR`).
pub(crate) fn interrupted() -> bool {
    errno() == libc::EINTR
}

/// Whether a read on `fd` would return at once (data, EOF or an error waiting): `poll` with
/// no timeout. An interrupted or failed `poll` says no, so a caller that must not wait stops.
pub(crate) fn readable_now(fd: RawFd) -> bool {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout never waits.
    unsafe { libc::poll(&mut pfd, 1 as libc::nfds_t, 0) > 0 }
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
        let timeout_ms: libc::c_int = match deadline {
            None => -1,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(false);
                }
                // Round up so we never wake a hair early and spin.
                let left = d - now + Duration::from_micros(999);
                left.as_millis().min(libc::c_int::MAX as u128) as libc::c_int
            }
        };
        let mut pfd = libc::pollfd {
            fd,
            events: match want {
                Readiness::Readable => libc::POLLIN,
                Readiness::Writable => libc::POLLOUT,
            },
            revents: 0,
        };
        // SAFETY: one valid pollfd; nfds_t is whatever width this platform uses.
        let r = unsafe { libc::poll(&mut pfd, 1 as libc::nfds_t, timeout_ms) };
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

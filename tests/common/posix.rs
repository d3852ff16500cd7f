//! The few POSIX calls the fd tests need, on the `libc` crate.

use std::io;
use std::os::fd::RawFd;
use std::os::raw::{c_int, c_short};
use std::path::PathBuf;
use std::time::Duration;

pub use libc::{POLLIN, POLLOUT};

/// Waits (up to `timeout`) until any of `fds` is ready for its events; returns how many are.
pub fn poll_fds(fds: &[(RawFd, c_short)], timeout: Duration) -> io::Result<usize> {
    let mut pfds: Vec<libc::pollfd> = fds
        .iter()
        .map(|&(fd, events)| libc::pollfd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as c_int;
    // SAFETY: pfds is a valid array of pollfd structures of the given length.
    let r = unsafe { libc::poll(pfds.as_mut_ptr(), pfds.len() as libc::nfds_t, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(r as usize)
}

/// `fcntl(fd, F_GETFD)`: `Ok(flags)` for an open descriptor, the OS error (EBADF) otherwise.
pub fn fd_flags(fd: RawFd) -> io::Result<c_int> {
    // SAFETY: F_GETFD takes no argument and only reads the descriptor table.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Whether `fd` has `O_NONBLOCK` set.
pub fn is_nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's flags.
    let r = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    assert!(r >= 0, "fcntl(F_GETFL): {}", io::Error::last_os_error());
    r & libc::O_NONBLOCK != 0
}

/// Sets `SO_LINGER` to {on, 0}: closing the socket then sends a RST instead of a FIN.
pub fn set_linger_zero(fd: RawFd) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid struct linger of the size we pass.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(
        r,
        0,
        "setsockopt(SO_LINGER): {}",
        io::Error::last_os_error()
    );
}

/// What `/proc/self/fd/<fd>` points at (e.g. `socket:[1234]`), to tell a closed descriptor
/// from one whose number was reused by another thread.
pub fn fd_target(fd: RawFd) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()
}

/// Whether two descriptors refer to the same file (device and inode): the stream's own
/// duplicate of a transport's descriptor has another number but the same file.
pub fn same_file(a: RawFd, b: RawFd) -> bool {
    // SAFETY: fstat fills the zeroed structs; a bad descriptor only makes it fail.
    unsafe {
        let (mut sa, mut sb): (libc::stat, libc::stat) = (std::mem::zeroed(), std::mem::zeroed());
        libc::fstat(a, &mut sa) == 0
            && libc::fstat(b, &mut sb) == 0
            && (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
    }
}

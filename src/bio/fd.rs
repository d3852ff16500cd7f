//! The fd fast path: OpenSSL's own socket or fd BIOs on the transport's descriptors, so the
//! record path makes system calls directly with no Rust callback in between.

use crate::error::{cvt_p, Error};
use crate::ffi::openssl as ffi;
use crate::ffi::posix::is_socket;
use crate::transport::Fds;
use openssl_sys::{BIO, SSL};
use std::os::fd::RawFd;

/// A BIO that does not close `fd`: sockets get `send`/`recv` (a socket BIO), everything else
/// `read`/`write` (an fd BIO), since `send` on a pipe fails with `ENOTSOCK`.
fn descriptor_bio(fd: RawFd) -> Result<*mut BIO, Error> {
    // SAFETY: both constructors only record the descriptor; BIO_NOCLOSE leaves its lifetime
    // to the stream, whose own duplicate it is, closed after the SSL is freed.
    cvt_p(unsafe {
        if is_socket(fd) {
            openssl_sys::BIO_new_socket(fd, ffi::BIO_NOCLOSE)
        } else {
            ffi::BIO_new_fd(fd, ffi::BIO_NOCLOSE)
        }
    })
}

/// Gives `ssl` BIOs on the descriptors: one for a socket, one per direction for a pair.
///
/// # Safety
/// `ssl` is live; the descriptors stay open while it is.
pub(super) unsafe fn attach_descriptor_bios(ssl: *mut SSL, fds: Fds) -> Result<(), Error> {
    let rbio = descriptor_bio(fds.read)?;
    if fds.read == fds.write {
        // SAFETY: ssl is live; SSL_set_bio takes the single reference for both directions.
        unsafe { openssl_sys::SSL_set_bio(ssl, rbio, rbio) };
        return Ok(());
    }
    let wbio = match descriptor_bio(fds.write) {
        Ok(b) => b,
        Err(e) => {
            // SAFETY: rbio is ours and not yet attached.
            unsafe { openssl_sys::BIO_free_all(rbio) };
            return Err(e);
        }
    };
    // SAFETY: ssl is live; it takes ownership of both BIOs.
    unsafe { openssl_sys::SSL_set_bio(ssl, rbio, wbio) };
    Ok(())
}

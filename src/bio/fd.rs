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

/// Makes the read BIO of `ssl` (on descriptor `fd`) read only what is already there, or stops
/// that again: while it is on, each system call it would make to read first asks `poll`, with
/// no timeout, and with nothing to read it reports "retry" instead of waiting.
///
/// A read that already has bytes for the caller turns it on to take more records without
/// waiting on a blocking descriptor: a whole record in OpenSSL's read-ahead buffer is then
/// read with no system call at all, the rest of a partial one only if it has arrived.
///
/// # Safety
/// `ssl` is live and its read BIO is the fd path's BIO on `fd`.
pub(crate) unsafe fn set_read_no_wait(ssl: *mut SSL, fd: RawFd, on: bool) {
    // SAFETY: ssl is live (caller); its read BIO lives as long as it does. The callback
    // argument carries the descriptor's number, never dereferenced.
    unsafe {
        let bio = openssl_sys::SSL_get_rbio(ssl);
        if on {
            ffi::BIO_set_callback_arg(bio, fd as isize as *mut std::os::raw::c_char);
            ffi::BIO_set_callback_ex(bio, Some(read_only_what_is_there));
        } else {
            ffi::BIO_set_callback_ex(bio, None);
        }
    }
}

/// The BIO callback of [`set_read_no_wait`]: before a read, with nothing readable on the
/// descriptor, the read is not made and the BIO says "retry reading", so OpenSSL returns
/// `SSL_ERROR_WANT_READ` with whatever it has kept. Every other call passes through.
unsafe extern "C" fn read_only_what_is_there(
    bio: *mut BIO,
    oper: std::os::raw::c_int,
    _argp: *const std::os::raw::c_char,
    _len: usize,
    _argi: std::os::raw::c_int,
    _argl: std::os::raw::c_long,
    ret: std::os::raw::c_int,
    _processed: *mut usize,
) -> std::os::raw::c_long {
    if oper != ffi::BIO_CB_READ {
        return ret.into();
    }
    // SAFETY: OpenSSL passes the live BIO this callback was set on; its argument is the
    // descriptor number set with it.
    unsafe {
        let fd = ffi::BIO_get_callback_arg(bio) as isize as RawFd;
        if crate::ffi::posix::readable_now(fd) {
            return ret.into();
        }
        // What the BIO's own read sets when its descriptor would block.
        openssl_sys::BIO_clear_retry_flags(bio);
        openssl_sys::BIO_set_retry_read(bio);
    }
    -1
}

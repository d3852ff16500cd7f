//! The one process-wide `BIO_METHOD` and its callbacks.
//!
//! Every callback follows the same discipline: find the [`BioState`] behind the BIO, run the
//! transport call inside `catch_unwind`, and translate the outcome into OpenSSL's convention
//! (a count, or -1 with or without the retry flags). Errors and panics are parked in the state
//! for the stream to pick up once the `SSL_*` call has returned.

use super::state::BioState;
use crate::ffi::openssl as ffi;
use openssl_sys::{BIO, BIO_METHOD};
use std::io::{self, ErrorKind};
use std::os::raw::{c_char, c_int, c_long, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::OnceLock;

struct MethodPtr(*mut BIO_METHOD);
// SAFETY: the method table is written once before publication and only read afterwards;
// OpenSSL reads it from any thread.
unsafe impl Send for MethodPtr {}
// SAFETY: as above, shared reads of an immutable table.
unsafe impl Sync for MethodPtr {}

/// The `BIO_METHOD`, created on first use and kept for the life of the process.
pub(crate) fn transport_method() -> *const BIO_METHOD {
    static METHOD: OnceLock<MethodPtr> = OnceLock::new();
    METHOD
        .get_or_init(|| {
            crate::init::ensure_initialized();
            // SAFETY: BIO_get_new_index and BIO_meth_new have no preconditions; the name is a
            // static NUL-terminated string; the setters receive the freshly made method and
            // functions with the exact C signatures.
            unsafe {
                // DESCRIPTOR: so SSL_get_fd asks us (we answer the transport's descriptor, or -1).
                let kind =
                    ffi::BIO_get_new_index() | ffi::BIO_TYPE_SOURCE_SINK | ffi::BIO_TYPE_DESCRIPTOR;
                let method = openssl_sys::BIO_meth_new(kind, c"sslbridge transport".as_ptr());
                assert!(!method.is_null(), "BIO_meth_new failed: out of memory");
                openssl_sys::BIO_meth_set_write__fixed_rust(method, Some(bio_write));
                openssl_sys::BIO_meth_set_read__fixed_rust(method, Some(bio_read));
                openssl_sys::BIO_meth_set_puts__fixed_rust(method, Some(bio_puts));
                ffi::BIO_meth_set_gets(method, Some(bio_gets));
                openssl_sys::BIO_meth_set_ctrl__fixed_rust(method, Some(bio_ctrl));
                openssl_sys::BIO_meth_set_create__fixed_rust(method, Some(bio_create));
                openssl_sys::BIO_meth_set_destroy__fixed_rust(method, Some(bio_destroy));
                MethodPtr(method)
            }
        })
        .0
}

/// The state behind `bio` (null when the BIO is detached), as the raw pointer the stream gave
/// OpenSSL: it is turned into a reference only inside [`guarded`].
///
/// # Safety
/// `bio` is a live BIO of our method.
unsafe fn state_ptr(bio: *mut BIO) -> *mut BioState {
    // SAFETY: per the function contract.
    unsafe { openssl_sys::BIO_get_data(bio).cast::<BioState>() }
}

/// Records the outcome of a failed transport call and returns OpenSSL's -1.
///
/// # Safety
/// `bio` is a valid BIO.
unsafe fn fail(bio: *mut BIO, state: &mut BioState, err: io::Error, writing: bool) -> c_int {
    // A transport's own timeout is a retry too: OpenSSL's state stays intact, so a read can
    // be tried again after the stream reports the timeout.
    if err.kind() == ErrorKind::TimedOut {
        state.timed_out = true;
    }
    if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
        // SAFETY: bio is valid (caller's contract).
        unsafe {
            if writing {
                openssl_sys::BIO_set_retry_write(bio)
            } else {
                openssl_sys::BIO_set_retry_read(bio)
            }
        }
    } else {
        state.error = Some(err);
    }
    -1
}

/// Runs `f` on the state behind `state` (returning `on_panic` if it is null), parking a panic
/// instead of unwinding into C.
///
/// The `&mut BioState` is made from the raw pointer inside the closure and ends with it; the
/// panic is parked through the raw pointer afterwards. No reference outlives the call, so the
/// pointer the stream and OpenSSL share stays valid under Stacked and Tree Borrows.
///
/// # Safety
/// `state` is null or points to a live `BioState` that nothing else borrows for the duration
/// of the call (the stream touches it only between `SSL_*` calls; OpenSSL runs callbacks only
/// inside them).
pub(super) unsafe fn guarded<R>(
    state: *mut BioState,
    on_panic: R,
    f: impl FnOnce(&mut BioState) -> R,
) -> R {
    if state.is_null() {
        return on_panic;
    }
    // SAFETY: per the function contract; the reference lives only inside the closure.
    match catch_unwind(AssertUnwindSafe(|| f(unsafe { &mut *state }))) {
        Ok(r) => r,
        Err(payload) => {
            // SAFETY: the closure's reference ended with the unwind; the state is still live.
            unsafe { crate::util::park_panic(&mut (*state).panic, payload) };
            on_panic
        }
    }
}

unsafe extern "C" fn bio_write(bio: *mut BIO, buf: *const c_char, len: c_int) -> c_int {
    // SAFETY: bio is ours (OpenSSL calls this method's callbacks only on its BIOs).
    unsafe { openssl_sys::BIO_clear_retry_flags(bio) };
    if len <= 0 {
        return 0;
    }
    // SAFETY: the state contract holds while OpenSSL is inside an SSL_* call on this BIO.
    unsafe {
        guarded(state_ptr(bio), -1, |state| {
            // SAFETY: OpenSSL passes `len` initialised bytes at `buf`.
            let data = std::slice::from_raw_parts(buf.cast::<u8>(), len as usize);
            match state.write(data) {
                Ok(n) => n as c_int,
                Err(e) => fail(bio, state, e, true),
            }
        })
    }
}

unsafe extern "C" fn bio_read(bio: *mut BIO, buf: *mut c_char, len: c_int) -> c_int {
    // SAFETY: bio is ours.
    unsafe { openssl_sys::BIO_clear_retry_flags(bio) };
    if len <= 0 {
        return 0;
    }
    // SAFETY: the state contract holds while OpenSSL is inside an SSL_* call on this BIO.
    unsafe {
        guarded(state_ptr(bio), -1, |state| {
            // SAFETY: OpenSSL's buffer is writable for `len` bytes; read_into never makes a
            // slice of it, so its being uninitialised is fine.
            match state.read_into(buf.cast::<u8>(), len as usize) {
                Ok(n) => n as c_int,
                Err(e) => fail(bio, state, e, false),
            }
        })
    }
}

unsafe extern "C" fn bio_puts(bio: *mut BIO, s: *const c_char) -> c_int {
    if s.is_null() {
        return -1;
    }
    // SAFETY: `s` is a NUL-terminated string (BIO_puts contract).
    let len = unsafe { std::ffi::CStr::from_ptr(s) }.to_bytes().len();
    // SAFETY: same contract as bio_write; `len` bytes at `s` are initialised.
    unsafe { bio_write(bio, s, len.min(c_int::MAX as usize) as c_int) }
}

unsafe extern "C" fn bio_gets(bio: *mut BIO, buf: *mut c_char, size: c_int) -> c_int {
    // SAFETY: bio is ours.
    unsafe { openssl_sys::BIO_clear_retry_flags(bio) };
    if size <= 0 || buf.is_null() {
        return 0;
    }
    let room = size as usize - 1;
    // SAFETY: the state contract holds while OpenSSL is inside a call on this BIO.
    unsafe {
        guarded(state_ptr(bio), -1, |state| {
            let mut n = 0usize;
            while n < room {
                let mut byte = 0u8;
                // SAFETY: `byte` is a valid one-byte destination.
                match state.read_into(&mut byte, 1) {
                    Ok(0) => break,
                    Ok(_) => {
                        // SAFETY: n < size - 1, inside the caller's buffer.
                        *buf.add(n) = byte as c_char;
                        n += 1;
                        if byte == b'\n' {
                            break;
                        }
                    }
                    Err(e) if n == 0 => return fail(bio, state, e, false),
                    Err(e) => {
                        // Keep the line read so far; report the error on the next call.
                        state.error = Some(e);
                        break;
                    }
                }
            }
            // SAFETY: n <= size - 1, so the terminator fits.
            *buf.add(n) = 0;
            n as c_int
        })
    }
}

unsafe extern "C" fn bio_ctrl(bio: *mut BIO, cmd: c_int, _num: c_long, ptr: *mut c_void) -> c_long {
    match cmd {
        ffi::BIO_C_GET_FD => {
            // SAFETY: reading a plain field of the live state; `ptr`, when given, points to
            // an int (BIO_get_fd's contract).
            unsafe {
                let fd = guarded(state_ptr(bio), -1, |s| s.fd);
                if fd >= 0 && !ptr.is_null() {
                    *ptr.cast::<c_int>() = fd;
                }
                fd as c_long
            }
        }
        openssl_sys::BIO_CTRL_FLUSH => {
            // SAFETY: bio is ours; the state contract holds during OpenSSL's call.
            unsafe {
                openssl_sys::BIO_clear_retry_flags(bio);
                guarded(state_ptr(bio), 0, |state| match state.flush() {
                    Ok(()) => 1,
                    Err(e) => {
                        fail(bio, state, e, true);
                        0
                    }
                })
            }
        }
        openssl_sys::BIO_CTRL_EOF => {
            // SAFETY: reading plain fields of the live state.
            unsafe { guarded(state_ptr(bio), 1, |s| s.at_eof() as c_long) }
        }
        ffi::BIO_CTRL_PENDING => {
            // SAFETY: reading plain fields of the live state.
            unsafe { guarded(state_ptr(bio), 0, |s| s.buffered() as c_long) }
        }
        // Writes go straight to the transport: nothing is ever pending inside the BIO.
        ffi::BIO_CTRL_WPENDING => 0,
        _ => 0,
    }
}

unsafe extern "C" fn bio_create(bio: *mut BIO) -> c_int {
    // SAFETY: OpenSSL passes the BIO it is creating.
    unsafe {
        openssl_sys::BIO_set_init(bio, 0);
        openssl_sys::BIO_set_data(bio, ptr::null_mut());
    }
    1
}

unsafe extern "C" fn bio_destroy(bio: *mut BIO) -> c_int {
    if bio.is_null() {
        return 0;
    }
    // The state belongs to the stream, which frees it after the SSL; only detach here.
    // SAFETY: OpenSSL passes the BIO it is freeing.
    unsafe {
        openssl_sys::BIO_set_data(bio, ptr::null_mut());
        openssl_sys::BIO_set_init(bio, 0);
    }
    1
}

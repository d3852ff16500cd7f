//! OpenSSL functions and constants that `openssl-sys` does not declare.
//!
//! These link against the same libssl/libcrypto that `openssl-sys` selects; signatures are
//! those of OpenSSL 3.0 (and unchanged since).

#![allow(non_camel_case_types)]

use openssl_sys::{BIO, BIO_METHOD, SSL, SSL_CTX, X509_NAME};
use std::os::raw::{c_char, c_int, c_long, c_ulong, c_void};

/// `BIO_callback_fn_ex`: called before and after each operation on a BIO that has it.
#[cfg(unix)]
pub type BIO_callback_fn_ex = unsafe extern "C" fn(
    b: *mut BIO,
    oper: c_int,
    argp: *const c_char,
    len: usize,
    argi: c_int,
    argl: c_long,
    ret: c_int,
    processed: *mut usize,
) -> c_long;

extern "C" {
    pub fn BIO_meth_set_gets(
        biom: *mut BIO_METHOD,
        gets: Option<unsafe extern "C" fn(*mut BIO, *mut c_char, c_int) -> c_int>,
    ) -> c_int;
    pub fn BIO_get_new_index() -> c_int;
    #[cfg(unix)]
    pub fn BIO_new_fd(fd: c_int, close_flag: c_int) -> *mut BIO;

    pub fn SSL_set_options(ssl: *mut SSL, op: u64) -> u64;
    pub fn SSL_set_read_ahead(ssl: *mut SSL, yes: c_int);
    pub fn SSL_CTX_get_verify_depth(ctx: *const SSL_CTX) -> c_int;
    pub fn SSL_set_verify_depth(ssl: *mut SSL, depth: c_int);
    pub fn SSL_free_buffers(ssl: *mut SSL) -> c_int;
    pub fn SSL_has_pending(ssl: *const SSL) -> c_int;
    #[cfg(unix)]
    pub fn BIO_set_callback_ex(b: *mut BIO, callback: Option<BIO_callback_fn_ex>);
    #[cfg(unix)]
    pub fn BIO_set_callback_arg(b: *mut BIO, arg: *mut c_char);
    #[cfg(unix)]
    pub fn BIO_get_callback_arg(b: *const BIO) -> *mut c_char;
    pub fn SSL_set_msg_callback(
        ssl: *mut SSL,
        cb: Option<
            unsafe extern "C" fn(
                write_p: c_int,
                version: c_int,
                content_type: c_int,
                buf: *const c_void,
                len: usize,
                ssl: *mut SSL,
                arg: *mut c_void,
            ),
        >,
    );
    pub fn SSL_check_private_key(ssl: *const SSL) -> c_int;

    pub fn SSL_CTX_set_default_verify_file(ctx: *mut SSL_CTX) -> c_int;

    pub fn SSL_get1_session(ssl: *mut SSL) -> *mut openssl_sys::SSL_SESSION;
    pub fn SSL_SESSION_get0_ticket(
        s: *const openssl_sys::SSL_SESSION,
        tick: *mut *const std::os::raw::c_uchar,
        len: *mut usize,
    );
    pub fn SSL_SESSION_is_resumable(s: *const openssl_sys::SSL_SESSION) -> c_int;

    pub fn ERR_peek_error() -> std::os::raw::c_ulong;
    pub fn ERR_set_mark() -> c_int;
    pub fn ERR_pop_to_mark() -> c_int;

    pub fn RAND_seed(buf: *const c_void, num: c_int);

    pub fn X509_NAME_print_ex(
        out: *mut BIO,
        nm: *const X509_NAME,
        indent: c_int,
        flags: c_ulong,
    ) -> c_int;
}

/// `SSL_clear_mode` is a macro over `SSL_ctrl` (openssl-sys has no constant for it).
pub const SSL_CTRL_CLEAR_MODE: c_int = 78;
/// `SSL_clear_chain_certs` / `SSL_set0_chain(ssl, NULL)`.
pub const SSL_CTRL_CHAIN: c_int = 88;
/// `BIO_C_GET_FD`: ask a BIO for its descriptor.
pub const BIO_C_GET_FD: c_int = 105;
/// The `oper` of a `BIO_callback_fn_ex` call made before a read.
#[cfg(unix)]
pub const BIO_CB_READ: c_int = 0x02;
pub const BIO_CTRL_PENDING: c_int = 10;
pub const BIO_CTRL_WPENDING: c_int = 13;
#[cfg(unix)]
pub const BIO_NOCLOSE: c_int = 0;
/// `BIO_TYPE_DESCRIPTOR`: the BIO can name a descriptor (`SSL_get_fd` looks for it).
pub const BIO_TYPE_DESCRIPTOR: c_int = 0x0100;
/// `BIO_TYPE_SOURCE_SINK`: our BIO is the end of the chain.
pub const BIO_TYPE_SOURCE_SINK: c_int = 0x0400;
/// `ERR_LIB_SSL`: errors raised by libssl (received alerts among them).
pub const ERR_LIB_SSL: i32 = 20;
/// `SSL_R_UNEXPECTED_EOF_WHILE_READING`: OpenSSL 3's report of a truncated stream.
pub const SSL_R_UNEXPECTED_EOF_WHILE_READING: i32 = 294;
/// `XN_FLAG_ONELINE` without `ASN1_STRFLGS_ESC_MSB`, so UTF-8 names print as text, as
/// `openssl x509 -subject` shows them.
pub const XN_FLAG_ONELINE_UTF8: c_ulong = 0x0082_031b;

/// `SSL_set_mode(ssl, mode)`.
///
/// # Safety
/// `ssl` is a valid `SSL`.
pub unsafe fn ssl_set_mode(ssl: *mut SSL, mode: c_long) -> c_long {
    // SAFETY: guaranteed by the caller; SSL_CTRL_MODE takes no pointer argument.
    unsafe { openssl_sys::SSL_ctrl(ssl, openssl_sys::SSL_CTRL_MODE, mode, std::ptr::null_mut()) }
}

/// `SSL_clear_mode`.
///
/// # Safety
/// `ssl` is a live `SSL`.
pub unsafe fn ssl_clear_mode(ssl: *mut SSL, mode: c_long) -> c_long {
    // SAFETY: guaranteed by the caller; SSL_CTRL_CLEAR_MODE takes no pointer argument.
    unsafe { openssl_sys::SSL_ctrl(ssl, SSL_CTRL_CLEAR_MODE, mode, std::ptr::null_mut()) }
}

/// Copies a C string OpenSSL returned, which may be null.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string valid for the duration of the call.
pub(crate) unsafe fn c_string(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned()
    }
}

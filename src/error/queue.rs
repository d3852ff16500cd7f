//! OpenSSL's thread-local error queue, the only place sslbridge reads it: [`ErrorStack`]
//! (drained entries), [`QueueScope`] (the start of a call sequence), [`ErrorMark`] (helpers
//! that run inside a handshake), and the `cvt` helpers that turn return codes into errors.

use super::Error;
use crate::ffi::openssl::c_string;
use std::fmt;
use std::io;
use std::os::raw::{c_char, c_int};

/// One entry of OpenSSL's error queue.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenSslError {
    /// The packed error code (`ERR_get_error`).
    pub code: u64,
    /// The library that raised it, e.g. "SSL routines".
    pub library: String,
    /// The reason, e.g. "wrong version number".
    pub reason: String,
    /// The function that raised it, where OpenSSL recorded one.
    pub function: String,
    /// Extra data attached by OpenSSL, if any.
    pub data: String,
}

impl OpenSslError {
    /// OpenSSL 3 packs operating-system errors with this flag and the errno below it.
    const SYSTEM_FLAG: u64 = 0x8000_0000;

    /// The reason code (`ERR_GET_REASON`); the errno for system errors.
    pub fn reason_code(&self) -> i32 {
        if self.code & Self::SYSTEM_FLAG != 0 {
            (self.code & 0x7FFF_FFFF) as i32
        } else {
            (self.code & 0x7F_FFFF) as i32
        }
    }

    /// The library code (`ERR_GET_LIB`); 2 (`ERR_LIB_SYS`) for system errors.
    pub fn library_code(&self) -> i32 {
        if self.code & Self::SYSTEM_FLAG != 0 {
            2
        } else {
            ((self.code >> 23) & 0xFF) as i32
        }
    }
}

impl fmt::Display for OpenSslError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.library, self.reason)?;
        if !self.function.is_empty() {
            write!(f, " (in {})", self.function)?;
        }
        if !self.data.is_empty() {
            write!(f, " [{}]", self.data)?;
        }
        Ok(())
    }
}

/// The OpenSSL error queue, drained: every entry, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorStack(Vec<OpenSslError>);

impl ErrorStack {
    /// Drains this thread's OpenSSL error queue.
    pub fn drain() -> ErrorStack {
        let mut entries = Vec::new();
        loop {
            let mut file: *const c_char = std::ptr::null();
            let mut line: c_int = 0;
            let mut func: *const c_char = std::ptr::null();
            let mut data: *const c_char = std::ptr::null();
            let mut flags: c_int = 0;
            // SAFETY: all out-pointers are valid locals; OpenSSL stores static or queue-owned
            // strings into them, which we copy before the next queue call.
            let code = unsafe {
                openssl_sys::ERR_get_error_all(
                    &mut file, &mut line, &mut func, &mut data, &mut flags,
                )
            };
            if code == 0 {
                break;
            }
            // SAFETY: the strings are NUL-terminated C strings owned by OpenSSL (or null).
            let (library, reason) = unsafe {
                (
                    c_string(openssl_sys::ERR_lib_error_string(code)),
                    c_string(openssl_sys::ERR_reason_error_string(code)),
                )
            };
            let data = if flags & openssl_sys::ERR_TXT_STRING != 0 {
                // SAFETY: with ERR_TXT_STRING set, data is a NUL-terminated string.
                unsafe { c_string(data) }
            } else {
                String::new()
            };
            entries.push(OpenSslError {
                code: code as u64,
                library: fallback(library, "unknown library"),
                reason: fallback(reason, &format!("error code {code:#x}")),
                // SAFETY: func is a NUL-terminated static string or null.
                function: unsafe { c_string(func) },
                data,
            });
        }
        ErrorStack(entries)
    }

    /// Discards this thread's OpenSSL error queue. Every `SSL_*` call is preceded by this
    /// (SSL_get_error needs an empty queue), so the common empty case is a cheap peek:
    /// ERR_clear_error walks and resets every slot, several hundred instructions.
    pub(crate) fn clear() {
        // SAFETY: both only touch this thread's queue.
        unsafe {
            if crate::ffi::openssl::ERR_peek_error() != 0 {
                openssl_sys::ERR_clear_error();
            }
        }
    }

    /// A stack with one synthetic entry, for failures OpenSSL did not describe.
    pub(crate) fn message(reason: impl Into<String>) -> ErrorStack {
        ErrorStack(vec![OpenSslError {
            code: 0,
            library: "sslbridge".into(),
            reason: reason.into(),
            function: String::new(),
            data: String::new(),
        }])
    }

    /// Appends an explanation of our own after OpenSSL's entries.
    pub(crate) fn push_hint(&mut self, reason: String) {
        self.0.extend(ErrorStack::message(reason).0);
    }

    /// The entries, oldest first.
    pub fn errors(&self) -> &[OpenSslError] {
        &self.0
    }

    /// Whether any entry has this reason code (`SSL_R_*`, `X509_R_*`, …).
    pub fn has_reason(&self, reason: i32) -> bool {
        self.0.iter().any(|e| e.reason_code() == reason)
    }

    /// The fatal alert the peer sent, when an entry reports one: OpenSSL records a received
    /// alert as an SSL error with reason `SSL_AD_REASON_OFFSET + alert`.
    pub(crate) fn peer_alert(&self) -> Option<u8> {
        let offset = openssl_sys::SSL_AD_REASON_OFFSET;
        self.0.iter().find_map(|e| {
            let alert = e.reason_code() - offset;
            (e.library_code() == crate::ffi::openssl::ERR_LIB_SSL && (0..=255).contains(&alert))
                .then_some(alert as u8)
        })
    }

    /// An operating-system error OpenSSL recorded (library `ERR_LIB_SYS`), as an `io::Error`.
    pub(crate) fn system_error(&self) -> Option<io::Error> {
        const ERR_LIB_SYS: i32 = 2;
        self.0
            .iter()
            .find(|e| e.library_code() == ERR_LIB_SYS && e.reason_code() != 0)
            .map(|e| io::Error::from_raw_os_error(e.reason_code()))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ErrorStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no details in the OpenSSL error queue");
        }
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ErrorStack {}

fn fallback(s: String, default: &str) -> String {
    if s.is_empty() {
        default.to_string()
    } else {
        s
    }
}

thread_local! {
    /// How many sslbridge call sequences are in progress on this thread: more than one means
    /// we run inside another's OpenSSL call (a verify callback, or TLS inside TLS, where one
    /// stream is the transport of another).
    static QUEUE_SCOPES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The start of an sslbridge call sequence that reads the error queue afterwards (an `SSL_*`
/// call and `SSL_get_error`, a decode that reports OpenSSL's reasons).
///
/// At top level it discards what unrelated code left behind, so stale entries neither fail a
/// good call (`SSL_get_error` looks at the oldest entry) nor show up in our errors. Nested
/// inside another sslbridge call on this thread, it sets that caller's entries aside and puts
/// them back when it ends, so neither side sees or loses the other's errors.
pub(crate) struct QueueScope {
    saved: Option<Vec<OpenSslError>>,
}

impl QueueScope {
    pub(crate) fn enter() -> QueueScope {
        let nested = QUEUE_SCOPES.with(|n| {
            let depth = n.get();
            n.set(depth + 1);
            depth > 0
        });
        // SAFETY: only reads this thread's queue.
        let saved = if nested && unsafe { crate::ffi::openssl::ERR_peek_error() } != 0 {
            Some(ErrorStack::drain().0)
        } else {
            ErrorStack::clear();
            None
        };
        QueueScope { saved }
    }
}

impl Drop for QueueScope {
    fn drop(&mut self) {
        QUEUE_SCOPES.with(|n| n.set(n.get().saturating_sub(1)));
        if let Some(saved) = self.saved.take() {
            // What this sequence left is its own business; the caller gets its entries back.
            ErrorStack::clear();
            saved.iter().for_each(OpenSslError::raise);
        }
    }
}

impl OpenSslError {
    /// Puts this entry (back) on the thread's queue: library, reason, function and data.
    fn raise(&self) {
        let function = std::ffi::CString::new(self.function.as_str()).unwrap_or_default();
        let data = std::ffi::CString::new(self.data.as_str()).unwrap_or_default();
        // SAFETY: plain calls on this thread's queue; the strings outlive the calls and the
        // format is "%s" with one string argument.
        unsafe {
            openssl_sys::ERR_new();
            openssl_sys::ERR_set_debug(std::ptr::null(), 0, function.as_ptr());
            if self.data.is_empty() {
                openssl_sys::ERR_set_error(
                    self.library_code(),
                    self.reason_code(),
                    std::ptr::null(),
                );
            } else {
                openssl_sys::ERR_set_error(
                    self.library_code(),
                    self.reason_code(),
                    c"%s".as_ptr(),
                    data.as_ptr(),
                );
            }
        }
    }
}

/// A mark on this thread's error queue for code that may run while OpenSSL is filling the
/// queue itself: the x509 helpers run inside the verify callback, in the middle of a
/// handshake. Dropping the mark removes exactly the entries added since it was set
/// (`ERR_set_mark` / `ERR_pop_to_mark`), leaving older ones to whoever owns them.
pub(crate) struct ErrorMark {
    newest_before: std::os::raw::c_ulong,
}

impl ErrorMark {
    pub(crate) fn set() -> ErrorMark {
        // SAFETY: both only touch this thread's queue; the mark is removed by Drop, so marks
        // stay balanced (OpenSSL uses them internally too).
        unsafe {
            let newest_before = openssl_sys::ERR_peek_last_error();
            crate::ffi::openssl::ERR_set_mark();
            ErrorMark { newest_before }
        }
    }

    /// The newest entry added since the mark, as a stack with `hint` after it. Only the newest
    /// can be read without disturbing the entries below it.
    pub(crate) fn error(&self, hint: String) -> Error {
        // SAFETY: only reads this thread's queue; the strings are static.
        let newest = unsafe { openssl_sys::ERR_peek_last_error() };
        let mut stack = if newest != 0 && newest != self.newest_before {
            // SAFETY: lib/reason strings are static NUL-terminated strings or null.
            let (library, reason) = unsafe {
                (
                    c_string(openssl_sys::ERR_lib_error_string(newest)),
                    c_string(openssl_sys::ERR_reason_error_string(newest)),
                )
            };
            ErrorStack(vec![OpenSslError {
                code: newest as u64,
                library: fallback(library, "unknown library"),
                reason: fallback(reason, &format!("error code {newest:#x}")),
                function: String::new(),
                data: String::new(),
            }])
        } else {
            ErrorStack::default()
        };
        stack.push_hint(hint);
        Error::Ssl(stack)
    }
}

impl Drop for ErrorMark {
    fn drop(&mut self) {
        // SAFETY: pops this thread's entries above the mark set in `set`, and the mark.
        unsafe { crate::ffi::openssl::ERR_pop_to_mark() };
    }
}

/// Turns an OpenSSL "1 on success" return code into a `Result`.
pub(crate) fn cvt(r: c_int) -> Result<c_int, Error> {
    if r <= 0 {
        Err(Error::Ssl(ErrorStack::drain()))
    } else {
        Ok(r)
    }
}

/// Turns a "positive on success" `long` return code into a `Result`.
pub(crate) fn cvt_long(r: std::os::raw::c_long) -> Result<std::os::raw::c_long, Error> {
    if r <= 0 {
        Err(Error::Ssl(ErrorStack::drain()))
    } else {
        Ok(r)
    }
}

/// Turns a "null on failure" pointer into a `Result`.
pub(crate) fn cvt_p<T>(p: *mut T) -> Result<*mut T, Error> {
    if p.is_null() {
        Err(Error::Ssl(ErrorStack::drain()))
    } else {
        Ok(p)
    }
}

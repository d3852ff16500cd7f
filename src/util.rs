//! Small helpers shared by several modules: C strings for OpenSSL, files, PEM sniffing, and
//! parking a panic caught inside a callback. (Copying C strings out of OpenSSL is
//! `ffi::openssl::c_string`.)

use crate::error::Error;
use std::any::Any;
use std::ffi::CString;
use std::path::Path;

/// A C string for OpenSSL, or an error naming `what` when `s` holds a NUL byte.
pub(crate) fn c_str(s: &str, what: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::InvalidArgument(format!("the {what} contains a NUL byte")))
}

/// Reads a file, naming it in the error.
pub(crate) fn read_file(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path)
        .map_err(|e| Error::InvalidArgument(format!("cannot read {what} {}: {e}", path.display())))
}

/// Whether the bytes look like PEM (a `-----BEGIN` line) rather than DER.
pub(crate) fn looks_like_pem(data: &[u8]) -> bool {
    data.windows(10).take(4096).any(|w| w == b"-----BEGIN")
}

/// A panic caught inside a callback, kept to resume once OpenSSL has returned. One pointer
/// wide (the payload is boxed once more when parked): every connection carries a slot, and
/// hardly any ever fills it.
#[derive(Default)]
pub(crate) struct PanicSlot(Option<Box<Box<dyn Any + Send>>>);

impl PanicSlot {
    /// Whether a panic is parked.
    #[inline]
    pub(crate) fn is_some(&self) -> bool {
        self.0.is_some()
    }

    /// The parked panic, if any, to resume.
    pub(crate) fn take(&mut self) -> Option<Box<dyn Any + Send>> {
        self.0.take().map(|payload| *payload)
    }
}

/// Keeps the first panic caught inside a callback, to resume once OpenSSL has returned. A
/// later one is forgotten, not dropped: we are inside C, and dropping a payload can run more
/// user code.
pub(crate) fn park_panic(slot: &mut PanicSlot, payload: Box<dyn Any + Send>) {
    if slot.0.is_none() {
        slot.0 = Some(Box::new(payload));
    } else {
        std::mem::forget(payload);
    }
}

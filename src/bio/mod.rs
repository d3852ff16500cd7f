//! Everything between OpenSSL and the transport: the static `BIO_METHOD` whose callbacks call
//! the transport ([`method`]), the per-connection state behind it ([`state`]), and the
//! construction of a BIO for a stream.

mod fd;
mod method;
mod record;
mod state;

pub(crate) use fd::attach_descriptor_bios;

pub use state::TransportStats;
pub(crate) use state::{BioState, DEFAULT_READ_AHEAD};

use crate::error::{cvt_p, Error};
use openssl_sys::BIO;

/// A new BIO of our method reading and writing through `state`.
///
/// # Safety
/// `state` must stay at the same address and outlive the BIO (the stream frees the `SSL`,
/// which owns the BIO, before the state).
pub(crate) unsafe fn new_transport_bio(state: *mut BioState) -> Result<*mut BIO, Error> {
    // SAFETY: the method is a valid, immortal BIO_METHOD.
    let bio = cvt_p(unsafe { openssl_sys::BIO_new(method::transport_method()) })?;
    // SAFETY: bio is fresh; the data pointer's validity is the caller's contract.
    unsafe {
        openssl_sys::BIO_set_data(bio, state.cast());
        openssl_sys::BIO_set_init(bio, 1);
    }
    Ok(bio)
}

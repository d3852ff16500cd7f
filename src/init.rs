//! Library initialisation, seeding and randomness.

use crate::error::{cvt, Error};
use std::ffi::CStr;
use std::os::raw::c_int;
use std::sync::Once;

static INIT: Once = Once::new();

/// Initialises OpenSSL once per process; every entry point calls it, so calling it yourself is
/// only needed before using OpenSSL directly. Idempotent and thread-safe.
///
/// ```
/// sslbridge::ensure_initialized();
/// sslbridge::ensure_initialized(); // a second call does nothing
/// ```
#[doc(alias = "OPENSSL_init_ssl")]
#[doc(alias = "ensure-initialized")]
pub fn ensure_initialized() {
    INIT.call_once(|| {
        openssl_sys::init();
        #[cfg(all(feature = "fuzzing", fuzzing))]
        crate::fuzzing_rand::install();
    });
}

/// Initialises OpenSSL and mixes `seed` into its random generator (`RAND_seed`), like cl+ssl's
/// `ensure-initialized :rand-seed`. OpenSSL seeds itself from the operating system; extra seed
/// material only adds entropy. Fewer than 16 bytes is rejected as
/// [`Error::InvalidArgument`], since such a seed suggests a mistake.
///
/// ```
/// sslbridge::ensure_initialized_with_seed(&[7u8; 32])?;
/// assert!(sslbridge::ensure_initialized_with_seed(b"short").is_err());
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[doc(alias = "RAND_seed")]
pub fn ensure_initialized_with_seed(seed: &[u8]) -> Result<(), Error> {
    if seed.len() < 16 {
        return Err(Error::InvalidArgument(format!(
            "a random seed needs at least 16 bytes, got {}",
            seed.len()
        )));
    }
    ensure_initialized();
    let len = c_int::try_from(seed.len())
        .map_err(|_| Error::InvalidArgument("the seed is larger than 2 GiB".into()))?;
    // SAFETY: the pointer and length describe the `seed` slice, which outlives the call.
    unsafe { crate::ffi::openssl::RAND_seed(seed.as_ptr().cast(), len) };
    // SAFETY: RAND_status only reads the generator's state.
    if unsafe { openssl_sys::RAND_status() } != 1 {
        return Err(Error::Initialize(
            "OpenSSL's random generator is not seeded after RAND_seed".into(),
        ));
    }
    Ok(())
}

/// `n` cryptographically strong random bytes from OpenSSL (`RAND_bytes`).
///
/// ```
/// let key = sslbridge::random_bytes(32)?;
/// assert_eq!(key.len(), 32);
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[doc(alias = "RAND_bytes")]
#[doc(alias = "random-bytes")]
pub fn random_bytes(n: usize) -> Result<Vec<u8>, Error> {
    ensure_initialized();
    let mut out = vec![0u8; n];
    for chunk in out.chunks_mut(1 << 30) {
        // SAFETY: the chunk is a valid, initialised, writable buffer of the given length.
        cvt(unsafe { openssl_sys::RAND_bytes(chunk.as_mut_ptr(), chunk.len() as c_int) })?;
    }
    Ok(out)
}

/// The version string of the OpenSSL library linked at run time, e.g. "OpenSSL 3.0.19 27 Jan 2026".
///
/// ```
/// assert!(sslbridge::openssl_version().starts_with("OpenSSL"));
/// ```
#[doc(alias = "OpenSSL_version")]
pub fn openssl_version() -> &'static str {
    ensure_initialized();
    // SAFETY: OpenSSL_version returns a static NUL-terminated string.
    unsafe { CStr::from_ptr(openssl_sys::OpenSSL_version(openssl_sys::OPENSSL_VERSION)) }
        .to_str()
        .unwrap_or("OpenSSL (unknown version)")
}

/// With the `fuzzing` feature, seeding resets the generator (see `fuzzing_rand`).
#[cfg(all(test, feature = "fuzzing", fuzzing))]
mod fuzzing_tests {
    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn reseeding_replays_the_same_bytes() {
        super::ensure_initialized_with_seed(b"sixteen byte seed!").unwrap();
        let a = super::random_bytes(100).unwrap();
        super::ensure_initialized_with_seed(b"sixteen byte seed!").unwrap();
        let b = super::random_bytes(100).unwrap();
        assert_eq!(a, b);
        super::ensure_initialized_with_seed(b"another sixteen bytes").unwrap();
        assert_ne!(super::random_bytes(100).unwrap(), a);
    }
}

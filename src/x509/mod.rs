//! `Certificate` (an owned `X509`): decoding, encoding, inspection, and hostname checking.
//!
//! - this file: the type, decoding (PEM, DER, files) and encoding;
//! - [`names`]: subject, issuer, common names and subjectAltNames;
//! - [`details`]: validity dates, fingerprints and the serial number;
//! - [`hostname`]: [`verify_hostname`] and its matching rules.

mod details;
mod hostname;
mod names;

// Reached as `sslbridge::Digest` once lib.rs re-exports it; until then nothing names it.
#[allow(unused_imports)]
pub use details::Digest;
// Kept at this path for callers that match names without a certificate.
#[allow(unused_imports)]
pub(crate) use hostname::dns_name_matches;
pub use hostname::verify_hostname;

use crate::error::{cvt_p, Error, ErrorMark, ErrorStack, QueueScope};
use crate::util::looks_like_pem;
use foreign_types::{ForeignType, ForeignTypeRef};
use openssl_sys::X509;
use std::fmt;
use std::os::raw::{c_int, c_long};
use std::path::Path;

foreign_types::foreign_type! {
    /// An X.509 certificate: an owned OpenSSL `X509` (reference counted, so `clone` is cheap).
    ///
    /// Decode one with [`from_pem`](Certificate::from_pem), [`from_der`](Certificate::from_der)
    /// or [`from_file`](Certificate::from_file); inspect it through the methods of
    /// [`CertificateRef`], which a `Certificate` dereferences to.
    ///
    /// ```
    /// use sslbridge::Certificate;
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let leaf = pki.server(&["localhost"])?;
    /// let cert = Certificate::from_pem(&leaf.cert_pem)?;
    /// assert!(cert.subject_name().contains("localhost"));
    /// assert_eq!(cert.dns_names(), ["localhost"]);
    /// assert_eq!(Certificate::from_der(&cert.to_der()?)?.to_der()?, cert.to_der()?);
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    pub unsafe type Certificate: Send + Sync {
        type CType = X509;
        fn drop = openssl_sys::X509_free;
        fn clone = x509_up_ref;
    }
}

unsafe fn x509_up_ref(x: *mut X509) -> *mut X509 {
    // SAFETY: the caller (foreign_types' Clone) passes a live X509.
    unsafe { openssl_sys::X509_up_ref(x) };
    x
}

/// A memory BIO we own.
pub(crate) struct MemBio(pub(crate) *mut openssl_sys::BIO);

impl MemBio {
    pub(crate) fn new() -> Result<MemBio, Error> {
        // SAFETY: BIO_s_mem is a static method table.
        Ok(MemBio(cvt_p(unsafe {
            openssl_sys::BIO_new(openssl_sys::BIO_s_mem())
        })?))
    }

    pub(crate) fn contents(&self) -> Vec<u8> {
        let mut ptr = std::ptr::null_mut();
        // SAFETY: self.0 is a live memory BIO; BIO_get_mem_data points `ptr` at its buffer.
        let len = unsafe { openssl_sys::BIO_get_mem_data(self.0, &mut ptr) };
        if ptr.is_null() || len <= 0 {
            return Vec::new();
        }
        // SAFETY: the BIO's buffer holds `len` initialised bytes at `ptr`.
        unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len as usize) }.to_vec()
    }
}

impl Drop for MemBio {
    fn drop(&mut self) {
        // SAFETY: we own the only reference.
        unsafe { openssl_sys::BIO_free_all(self.0) };
    }
}

fn too_large() -> Error {
    Error::InvalidArgument("certificate or key data larger than 2 GiB".into())
}

fn empty_input(what: &str) -> Error {
    Error::InvalidArgument(format!("no {what} certificate data: the input is empty"))
}

fn decode_error(what: &str) -> Error {
    let mut stack = ErrorStack::drain();
    stack.push_hint(format!("the input is not a valid {what} certificate"));
    Error::Ssl(stack)
}

/// Whether the error queue says only "no more PEM blocks": how `PEM_read_bio_X509` reports the
/// end of its input. Anything else (bad base64, a corrupt certificate) is a real error.
fn only_end_of_pem(stack: &ErrorStack) -> bool {
    stack.errors().iter().all(|e| {
        e.library_code() == openssl_sys::ERR_LIB_PEM
            && e.reason_code() == openssl_sys::PEM_R_NO_START_LINE
    })
}

/// A read-only memory BIO over `data`, which must outlive it (certificates, keys).
pub(crate) fn read_bio(data: &[u8]) -> Result<MemBio, Error> {
    let len = c_int::try_from(data.len()).map_err(|_| too_large())?;
    // SAFETY: the BIO reads `len` bytes of `data`; every caller drops it before `data`.
    Ok(MemBio(cvt_p(unsafe {
        openssl_sys::BIO_new_mem_buf(data.as_ptr().cast(), len)
    })?))
}

/// Declines every password OpenSSL asks for while decoding certificates. Without a callback,
/// OpenSSL's default one prompts on the terminal when a PEM block carries an encryption
/// header: a library must never read `/dev/tty`, and a certificate has no password.
unsafe extern "C" fn no_password(
    _buf: *mut std::os::raw::c_char,
    _size: c_int,
    _rwflag: c_int,
    _user: *mut std::os::raw::c_void,
) -> c_int {
    -1
}

/// The next certificate of a PEM BIO, or `None` with OpenSSL's reason on the error queue.
fn next_pem_certificate(bio: &MemBio) -> Option<Certificate> {
    // SAFETY: bio is a live memory BIO; the callback writes nothing and takes no user data.
    let x = unsafe {
        openssl_sys::PEM_read_bio_X509(
            bio.0,
            std::ptr::null_mut(),
            Some(no_password),
            std::ptr::null_mut(),
        )
    };
    // SAFETY: a non-null result is a fresh X509 that we now own.
    (!x.is_null()).then(|| unsafe { Certificate::from_ptr(x) })
}

impl Certificate {
    /// Decodes the first certificate of PEM text (`PEM_read_bio_X509`).
    ///
    /// Other PEM blocks before it (a private key, say) are skipped; text after it is ignored.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for empty input; [`Error::Ssl`] when the text holds no
    /// `CERTIFICATE` block or the block is corrupt (bad base64, invalid DER).
    #[doc(alias = "PEM_read_bio_X509")]
    #[doc(alias = "decode-certificate")]
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, Error> {
        crate::init::ensure_initialized();
        if pem.is_empty() {
            return Err(empty_input("PEM"));
        }
        let _queue = QueueScope::enter();
        let bio = read_bio(pem)?;
        next_pem_certificate(&bio).ok_or_else(|| decode_error("PEM"))
    }

    /// Decodes a DER certificate (`d2i_X509`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for empty input or bytes after the certificate;
    /// [`Error::Ssl`] when the bytes are not a DER certificate.
    #[doc(alias = "d2i_X509")]
    #[doc(alias = "decode-certificate")]
    pub fn from_der(der: &[u8]) -> Result<Certificate, Error> {
        crate::init::ensure_initialized();
        if der.is_empty() {
            return Err(empty_input("DER"));
        }
        let _queue = QueueScope::enter();
        let len = c_long::try_from(der.len()).map_err(|_| too_large())?;
        let mut p = der.as_ptr();
        // SAFETY: `p` points to `len` readable bytes; d2i advances our local copy only.
        let x = unsafe { openssl_sys::d2i_X509(std::ptr::null_mut(), &mut p, len) };
        if x.is_null() {
            return Err(decode_error("DER"));
        }
        // SAFETY: x is a fresh owned X509.
        let cert = unsafe { Certificate::from_ptr(x) };
        let used = p as usize - der.as_ptr() as usize;
        if used != der.len() {
            return Err(Error::InvalidArgument(format!(
                "{} bytes follow the DER certificate",
                der.len() - used
            )));
        }
        Ok(cert)
    }

    /// Reads a certificate file, PEM or DER, told apart by the content (a PEM file holds a
    /// `-----BEGIN` line), so the file name does not matter. For PEM, the first certificate.
    ///
    /// ```
    /// # let pki = sslbridge::testing::TestPki::new()?;
    /// # let pem = pki.server(&["localhost"])?.cert_pem;
    /// let path = std::env::temp_dir().join(format!("sslbridge-doc-{}.crt", std::process::id()));
    /// std::fs::write(&path, &pem).unwrap();
    /// let cert = sslbridge::Certificate::from_file(&path)?;
    /// # std::fs::remove_file(&path).unwrap();
    /// assert_eq!(cert.to_pem()?, pem);
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when the file cannot be read; otherwise as
    /// [`from_pem`](Certificate::from_pem) or [`from_der`](Certificate::from_der), with the
    /// path added to the message.
    #[doc(alias = "decode-certificate-from-file")]
    pub fn from_file(path: impl AsRef<Path>) -> Result<Certificate, Error> {
        let path = path.as_ref();
        let data = crate::util::read_file(path, "certificate file")?;
        let decoded = if looks_like_pem(&data) {
            Certificate::from_pem(&data)
        } else {
            Certificate::from_der(&data)
        };
        decoded.map_err(|e| match e {
            Error::Ssl(mut stack) => {
                stack.push_hint(format!("while reading {}", path.display()));
                Error::Ssl(stack)
            }
            Error::InvalidArgument(msg) => {
                Error::InvalidArgument(format!("{}: {msg}", path.display()))
            }
            other => other,
        })
    }

    /// Every certificate in PEM text, in order (a chain file). Other PEM blocks (keys,
    /// parameters) are skipped.
    ///
    /// # Errors
    ///
    /// When there is no certificate, or any `CERTIFICATE` block is corrupt: a chain with a
    /// damaged member is refused rather than silently cut short.
    #[doc(alias = "PEM_X509_INFO_read_bio")]
    pub fn stack_from_pem(pem: &[u8]) -> Result<Vec<Certificate>, Error> {
        crate::init::ensure_initialized();
        if pem.is_empty() {
            return Err(empty_input("PEM"));
        }
        let _queue = QueueScope::enter();
        let bio = read_bio(pem)?;
        let mut certs = Vec::new();
        while let Some(cert) = next_pem_certificate(&bio) {
            certs.push(cert);
        }
        let stack = ErrorStack::drain();
        if certs.is_empty() || !only_end_of_pem(&stack) {
            let mut stack = stack;
            stack.push_hint(format!(
                "the input is not valid PEM certificate text (certificate {} is unreadable)",
                certs.len() + 1
            ));
            return Err(Error::Ssl(stack));
        }
        Ok(certs)
    }
}

impl CertificateRef {
    /// The certificate in DER form (`i2d_X509`).
    #[doc(alias = "i2d_X509")]
    pub fn to_der(&self) -> Result<Vec<u8>, Error> {
        // Usable inside the verify callback: only our own entries leave the queue.
        let mark = ErrorMark::set();
        let failed = || mark.error("cannot encode the certificate as DER".into());
        // SAFETY: a null output pointer asks i2d for the length only.
        let len = unsafe { openssl_sys::i2d_X509(self.as_ptr(), std::ptr::null_mut()) };
        if len <= 0 {
            return Err(failed());
        }
        let mut out = vec![0u8; len as usize];
        let mut p = out.as_mut_ptr();
        // SAFETY: `out` has exactly the room i2d said it needs.
        let written = unsafe { openssl_sys::i2d_X509(self.as_ptr(), &mut p) };
        if written <= 0 {
            return Err(failed());
        }
        out.truncate(written as usize);
        Ok(out)
    }

    /// The certificate in PEM form (`PEM_write_bio_X509`).
    #[doc(alias = "PEM_write_bio_X509")]
    pub fn to_pem(&self) -> Result<Vec<u8>, Error> {
        let mark = ErrorMark::set();
        let failed = || mark.error("cannot encode the certificate as PEM".into());
        let bio = MemBio::new().map_err(|_| failed())?;
        // SAFETY: both pointers are live.
        if unsafe { openssl_sys::PEM_write_bio_X509(bio.0, self.as_ptr()) } <= 0 {
            return Err(failed());
        }
        Ok(bio.contents())
    }
}

impl fmt::Debug for CertificateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let serial: String = self
            .serial_number()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        f.debug_struct("Certificate")
            .field("subject", &self.subject_name())
            .field("issuer", &self.issuer_name())
            .field("serial", &serial)
            .finish()
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Certificate {
        let pki = crate::testing::TestPki::new().unwrap();
        Certificate::from_pem(&pki.server(&["localhost"]).unwrap().cert_pem).unwrap()
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn malformed_input_is_an_error() {
        assert!(matches!(
            Certificate::from_der(b""),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            Certificate::from_pem(b""),
            Err(Error::InvalidArgument(_))
        ));
        let der = sample().to_der().unwrap();
        for cut in [1, 2, 10, der.len() / 2, der.len() - 1] {
            assert!(Certificate::from_der(&der[..cut]).is_err(), "cut at {cut}");
        }
        let mut trailing = der.clone();
        trailing.push(0);
        assert!(matches!(
            Certificate::from_der(&trailing),
            Err(Error::InvalidArgument(_))
        ));
        assert!(Certificate::from_pem(
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
        )
        .is_err());
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn chain_with_a_corrupt_member_is_refused() {
        let pem = sample().to_pem().unwrap();
        let mut chain = pem.clone();
        chain.extend_from_slice(&pem);
        assert_eq!(Certificate::stack_from_pem(&chain).unwrap().len(), 2);
        chain.extend_from_slice(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        assert!(Certificate::stack_from_pem(&chain).is_err());
        // The queue is left clean for the next OpenSSL call.
        assert!(ErrorStack::drain().is_empty());
    }
}

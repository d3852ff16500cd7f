//! Building and signing X.509 v3 certificates with OpenSSL's C API, and the certificate
//! authorities that sign them.
//!
//! [`issue`] turns a [`CertSpec`] into a signed [`Certificate`] (the crate's own owned `X509`);
//! [`CertificateAuthority`] is a CA held as bytes, parsed again with
//! [`Certificate::from_der`] and [`load_private_key`] whenever it signs.

use std::ffi::{c_int, CStr, CString};
use std::ptr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use foreign_types::{ForeignType, ForeignTypeRef};
use openssl_sys as ffi;

use super::keys::{generate_key, pkcs8_pem, KeyType};
use crate::credentials::{load_private_key, PrivateKey, PrivateKeyRef};
use crate::error::{cvt, cvt_p, Error};
use crate::x509::{Certificate, CertificateRef};

pub(super) const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const ORGANIZATION: &str = "sslbridge test";
/// How long the CA certificates are valid, counted from one day in the past.
const CA_VALIDITY: Duration = Duration::from_secs(3650 * 24 * 60 * 60);

foreign_types::foreign_type! {
    /// An owned `BIGNUM`.
    unsafe type BigNum {
        type CType = ffi::BIGNUM;
        fn drop = ffi::BN_free;
    }

    /// An owned `X509_EXTENSION`.
    unsafe type Extension {
        type CType = ffi::X509_EXTENSION;
        fn drop = ffi::X509_EXTENSION_free;
    }
}

/// A random serial number that is never zero (RFC 5280 wants positive serials).
pub(super) fn random_serial() -> Result<u64, Error> {
    loop {
        let bytes = crate::init::random_bytes(8)?;
        let serial = u64::from_be_bytes(bytes.try_into().expect("asked for 8 bytes"));
        if serial != 0 {
            return Ok(serial);
        }
    }
}

/// Seconds since the Unix epoch, for `ASN1_TIME_set`.
fn unix_seconds(t: SystemTime) -> Result<i64, Error> {
    let since = t.duration_since(UNIX_EPOCH).map_err(|_| {
        Error::InvalidArgument("certificate dates before 1970 are not supported".into())
    })?;
    i64::try_from(since.as_secs())
        .map_err(|_| Error::InvalidArgument("certificate date too far in the future".into()))
}

/// Converts to the platform's `time_t`, whatever its width, without naming the type.
fn to_time_t<T: TryFrom<i64>>(secs: i64) -> Result<T, Error> {
    T::try_from(secs).map_err(|_| {
        Error::InvalidArgument(format!(
            "certificate date ({secs} s after 1970) does not fit this platform's time_t"
        ))
    })
}

/// Everything needed to issue one certificate.
pub(super) struct CertSpec<'a> {
    pub(super) common_name: &'a str,
    pub(super) serial: u64,
    pub(super) not_before: SystemTime,
    pub(super) not_after: SystemTime,
    /// X509v3 extensions in config syntax (`"critical,CA:FALSE"`), added in this order.
    pub(super) extensions: Vec<(c_int, String)>,
}

/// The parsed certificate and key of an issuing CA.
pub(super) struct Signer {
    cert: Certificate,
    key: PrivateKey,
}

/// Sets one validity date in place.
fn set_time(
    cert: &CertificateRef,
    t: SystemTime,
    field: unsafe extern "C" fn(*const ffi::X509) -> *mut ffi::ASN1_TIME,
) -> Result<(), Error> {
    let secs = to_time_t(unix_seconds(t)?)?;
    // SAFETY: `field` is X509_getm_notBefore/After on a live certificate: it returns the
    // certificate's own, always-allocated ASN1_TIME (or null, caught by `cvt_p`).
    let time = cvt_p(unsafe { field(cert.as_ptr()) })?;
    // SAFETY: `time` is that live ASN1_TIME; ASN1_TIME_set rewrites it in place, returning it
    // or null: UTCTime before 2050, GeneralizedTime from 2050 on, as RFC 5280 requires.
    cvt_p(unsafe { ffi::ASN1_TIME_set(time, secs) })?;
    Ok(())
}

/// Appends `field=value` to the certificate's subject name.
fn add_name_entry(cert: &CertificateRef, field: &CStr, value: &str) -> Result<(), Error> {
    let len =
        c_int::try_from(value.len()).map_err(|_| Error::InvalidArgument("name too long".into()))?;
    // X509_get_subject_name returns the live certificate's own name (never null for a
    // certificate from X509_new), which X509_NAME_add_entry_by_txt extends in place.
    // SAFETY: `field` is NUL-terminated, `value` valid for `len` bytes of UTF-8 (an explicit
    // length, so no NUL is needed); OpenSSL copies the bytes; the name is live (above).
    cvt(unsafe {
        ffi::X509_NAME_add_entry_by_txt(
            cvt_p(ffi::X509_get_subject_name(cert.as_ptr()))?,
            field.as_ptr(),
            ffi::MBSTRING_UTF8,
            value.as_ptr(),
            len,
            -1,
            0,
        )
    })?;
    Ok(())
}

/// Builds and signs a certificate for `subject_key`; `issuer: None` means self-signed.
pub(super) fn issue(
    spec: &CertSpec<'_>,
    subject_key: &PrivateKeyRef,
    issuer: Option<&Signer>,
) -> Result<Certificate, Error> {
    // SAFETY: X509_new returns a new, empty certificate that we own, or null, which `cvt_p`
    // turns into an error before `from_ptr` takes ownership.
    let cert = unsafe { Certificate::from_ptr(cvt_p(ffi::X509_new())?) };
    // SAFETY: `cert` is live; 2 is the encoding of X.509 v3.
    cvt(unsafe { ffi::X509_set_version(cert.as_ptr(), 2) })?;

    let serial_bytes = spec.serial.to_be_bytes();
    // SAFETY: `serial_bytes` is 8 readable bytes; a null `ret` makes BN_bin2bn allocate a new
    // BIGNUM, owned by `serial` once `cvt_p` has ruled out null.
    let serial = unsafe {
        BigNum::from_ptr(cvt_p(ffi::BN_bin2bn(
            serial_bytes.as_ptr(),
            8,
            ptr::null_mut(),
        ))?)
    };
    // SAFETY: X509_get_serialNumber returns the certificate's own ASN1_INTEGER, which
    // BN_to_ASN1_INTEGER overwrites in place (it returns that pointer, or null on failure).
    cvt_p(unsafe {
        ffi::BN_to_ASN1_INTEGER(serial.as_ptr(), ffi::X509_get_serialNumber(cert.as_ptr()))
    })?;

    set_time(&cert, spec.not_before, ffi::X509_getm_notBefore)?;
    set_time(&cert, spec.not_after, ffi::X509_getm_notAfter)?;

    add_name_entry(&cert, c"O", ORGANIZATION)?;
    add_name_entry(&cert, c"CN", spec.common_name)?;
    let issuer_cert = issuer.map_or(&*cert, |signer| &*signer.cert);
    // SAFETY: both certificates are live; the issuer's subject name is borrowed from it and
    // only read, as X509_set_issuer_name copies it (for a self-signed certificate, from its
    // own subject into its separate issuer field).
    cvt(unsafe {
        ffi::X509_set_issuer_name(
            cert.as_ptr(),
            cvt_p(ffi::X509_get_subject_name(issuer_cert.as_ptr()))?,
        )
    })?;
    // SAFETY: both are live; X509_set_pubkey takes its own reference to the key.
    cvt(unsafe { ffi::X509_set_pubkey(cert.as_ptr(), subject_key.as_ptr()) })?;

    // SAFETY: X509V3_CTX is a plain C struct of an int and raw pointers, for which all-zero
    // bytes are a valid (empty) value; X509V3_set_ctx then fills it in.
    let mut ctx: ffi::X509V3_CTX = unsafe { std::mem::MaybeUninit::zeroed().assume_init() };
    // SAFETY: `ctx` is a valid local; the issuer and subject certificates outlive every use
    // of `ctx` (it is only used in the loop below, while `cert` and `issuer` are alive).
    unsafe {
        ffi::X509V3_set_ctx(
            &mut ctx,
            issuer_cert.as_ptr(),
            cert.as_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
            0,
        )
    };
    for (nid, value) in &spec.extensions {
        let value = CString::new(value.as_str()).map_err(|_| {
            Error::InvalidArgument(format!("extension value {value:?} contains a NUL byte"))
        })?;
        // SAFETY: `ctx` was set up above with live certificates; a null CONF is allowed when
        // the value references no config sections (ours never do); `value` is NUL-terminated.
        // The result is a new extension, owned by `ext` once `cvt_p` has ruled out null.
        let ext = unsafe {
            Extension::from_ptr(cvt_p(ffi::X509V3_EXT_nconf_nid(
                ptr::null_mut(),
                &mut ctx,
                *nid,
                value.as_ptr(),
            ))?)
        };
        // SAFETY: both are live; X509_add_ext appends a copy of the extension.
        cvt(unsafe { ffi::X509_add_ext(cert.as_ptr(), ext.as_ptr(), -1) })?;
    }

    let signing_key = issuer.map_or(subject_key, |signer| &*signer.key);
    // SAFETY: `cert` and `signing_key` are live; EVP_sha256 returns a static digest.
    cvt(unsafe { ffi::X509_sign(cert.as_ptr(), signing_key.as_ptr(), ffi::EVP_sha256()) })?;
    Ok(cert)
}

/// A CA certificate and its key, held as bytes (parsed again whenever it signs), so it is
/// `Send + Sync` without sharing OpenSSL objects across threads.
#[derive(Clone)]
pub(super) struct CertificateAuthority {
    pub(super) cert_pem: Vec<u8>,
    pub(super) cert_der: Vec<u8>,
    key_pem: Vec<u8>,
}

impl CertificateAuthority {
    /// A new CA: self-signed root when `issuer` is `None`, else an intermediate with
    /// `pathlen:0`.
    pub(super) fn new(
        common_name: &str,
        issuer: Option<&CertificateAuthority>,
    ) -> Result<CertificateAuthority, Error> {
        let key = generate_key(KeyType::EcdsaP256)?;
        let not_before = SystemTime::now() - DAY;
        let mut extensions = vec![
            (
                ffi::NID_basic_constraints,
                if issuer.is_some() {
                    "critical,CA:TRUE,pathlen:0"
                } else {
                    "critical,CA:TRUE"
                }
                .to_owned(),
            ),
            (
                ffi::NID_key_usage,
                "critical,keyCertSign,cRLSign".to_owned(),
            ),
            (ffi::NID_subject_key_identifier, "hash".to_owned()),
        ];
        if issuer.is_some() {
            extensions.push((ffi::NID_authority_key_identifier, "keyid:always".to_owned()));
        }
        let spec = CertSpec {
            common_name,
            serial: random_serial()?,
            not_before,
            not_after: not_before + CA_VALIDITY,
            extensions,
        };
        let signer = issuer.map(CertificateAuthority::signer).transpose()?;
        let cert = issue(&spec, &key, signer.as_ref())?;
        Ok(CertificateAuthority {
            cert_pem: cert.to_pem()?,
            cert_der: cert.to_der()?,
            key_pem: pkcs8_pem(&key)?,
        })
    }

    /// The CA parsed again, ready to sign.
    pub(super) fn signer(&self) -> Result<Signer, Error> {
        Ok(Signer {
            cert: Certificate::from_der(&self.cert_der)?,
            key: load_private_key(&self.key_pem, None)?,
        })
    }
}

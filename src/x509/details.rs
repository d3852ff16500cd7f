//! Validity dates, fingerprints and the serial number.

use super::CertificateRef;
use crate::error::{Error, ErrorMark};
use foreign_types::ForeignTypeRef;
use openssl_sys::ASN1_TIME;
use std::fmt;
use std::os::raw::{c_int, c_uint};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A hash function for [`CertificateRef::fingerprint`].
///
/// Parses from the names `openssl x509 -fingerprint` takes, with or without the leading dash
/// or a hyphen (`"sha256"`, `"-sha256"`, `"SHA-256"`).
///
/// ```
/// use sslbridge::Digest;
/// assert_eq!("SHA-256".parse::<Digest>()?, Digest::Sha256);
/// assert_eq!(Digest::Sha1.name(), "sha1");
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Digest {
    /// SHA-1 (20 bytes): what older tools show; do not rely on it for security.
    Sha1,
    /// SHA-256 (32 bytes): the usual certificate fingerprint.
    Sha256,
    /// SHA-384 (48 bytes).
    Sha384,
    /// SHA-512 (64 bytes).
    Sha512,
    /// MD5 (16 bytes): legacy only; broken, and absent under a FIPS-only provider.
    Md5,
}

impl Digest {
    /// The lower-case name OpenSSL uses, e.g. `"sha256"`.
    pub fn name(self) -> &'static str {
        match self {
            Digest::Sha1 => "sha1",
            Digest::Sha256 => "sha256",
            Digest::Sha384 => "sha384",
            Digest::Sha512 => "sha512",
            Digest::Md5 => "md5",
        }
    }

    fn md(self) -> *const openssl_sys::EVP_MD {
        // SAFETY: these return pointers to static method tables (no arguments, no state).
        unsafe {
            match self {
                Digest::Sha1 => openssl_sys::EVP_sha1(),
                Digest::Sha256 => openssl_sys::EVP_sha256(),
                Digest::Sha384 => openssl_sys::EVP_sha384(),
                Digest::Sha512 => openssl_sys::EVP_sha512(),
                Digest::Md5 => openssl_sys::EVP_md5(),
            }
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Digest, Error> {
        let key: String = s
            .trim_start_matches('-')
            .chars()
            .filter(|&c| c != '-')
            .collect::<String>()
            .to_ascii_lowercase();
        Ok(match key.as_str() {
            "sha1" => Digest::Sha1,
            "sha256" => Digest::Sha256,
            "sha384" => Digest::Sha384,
            "sha512" => Digest::Sha512,
            "md5" => Digest::Md5,
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "unknown digest {s:?}; use sha1, sha256, sha384, sha512 or md5"
                )))
            }
        })
    }
}

/// An `ASN1_TIME` we own.
struct OwnedTime(*mut ASN1_TIME);

impl Drop for OwnedTime {
    fn drop(&mut self) {
        // SAFETY: we own the only reference.
        unsafe { openssl_sys::ASN1_TIME_free(self.0) }
    }
}

/// Converts a certificate time (UTCTime or GeneralizedTime) by measuring it from the epoch
/// with `ASN1_TIME_diff`, which needs neither `struct tm` nor the C library's time zone.
fn to_system_time(t: *const ASN1_TIME) -> Option<SystemTime> {
    if t.is_null() {
        return None;
    }
    // Runs inside the verify callback too: leave the queue as OpenSSL filled it.
    let _mark = ErrorMark::set();
    // SAFETY: a null first argument asks for a new ASN1_TIME, owned by the guard.
    let epoch = OwnedTime(unsafe { openssl_sys::ASN1_TIME_set(std::ptr::null_mut(), 0) });
    if epoch.0.is_null() {
        return None;
    }
    let (mut days, mut secs): (c_int, c_int) = (0, 0);
    // SAFETY: both times are live; the out-pointers are locals.
    let ok = unsafe { openssl_sys::ASN1_TIME_diff(&mut days, &mut secs, epoch.0, t) };
    if ok != 1 {
        return None;
    }
    // days and secs share a sign; together they fit an i64 comfortably.
    let total = i64::from(days) * 86_400 + i64::from(secs);
    let magnitude = Duration::from_secs(total.unsigned_abs());
    if total >= 0 {
        UNIX_EPOCH.checked_add(magnitude)
    } else {
        UNIX_EPOCH.checked_sub(magnitude)
    }
}

impl CertificateRef {
    /// The start of the validity period (`X509_getm_notBefore`), UTCTime or GeneralizedTime.
    ///
    /// A time OpenSSL cannot parse reads as the Unix epoch; chain verification rejects such
    /// a certificate anyway (`X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD`).
    #[doc(alias = "X509_get0_notBefore")]
    #[doc(alias = "certificate-not-before-time")]
    pub fn not_before(&self) -> SystemTime {
        // SAFETY: the time belongs to the live certificate.
        to_system_time(unsafe { openssl_sys::X509_getm_notBefore(self.as_ptr()) })
            .unwrap_or(UNIX_EPOCH)
    }

    /// The end of the validity period (`X509_getm_notAfter`), UTCTime or GeneralizedTime,
    /// so dates from 2050 on are exact.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let cert = sslbridge::Certificate::from_pem(&pki.server(&["localhost"])?.cert_pem)?;
    /// let now = SystemTime::now();
    /// assert!(cert.not_before() <= now && now < cert.not_after());
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    ///
    /// A time OpenSSL cannot parse reads as the Unix epoch (already expired); chain
    /// verification rejects such a certificate anyway.
    #[doc(alias = "X509_get0_notAfter")]
    #[doc(alias = "certificate-not-after-time")]
    pub fn not_after(&self) -> SystemTime {
        // SAFETY: the time belongs to the live certificate.
        to_system_time(unsafe { openssl_sys::X509_getm_notAfter(self.as_ptr()) })
            .unwrap_or(UNIX_EPOCH)
    }

    /// The hash of the DER certificate (`X509_digest`): the bytes `openssl x509 -fingerprint`
    /// prints in hex.
    ///
    /// ```
    /// use sslbridge::Digest;
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let cert = sslbridge::Certificate::from_pem(&pki.server(&["localhost"])?.cert_pem)?;
    /// let hex: Vec<String> = cert.fingerprint(Digest::Sha256).iter().map(|b| format!("{b:02X}")).collect();
    /// assert_eq!(hex.len(), 32);
    /// println!("SHA-256 fingerprint {}", hex.join(":"));
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    ///
    /// Returns an empty vector only when OpenSSL cannot compute the digest, e.g. MD5 under
    /// a FIPS-only provider configuration.
    #[doc(alias = "X509_digest")]
    #[doc(alias = "certificate-fingerprint")]
    pub fn fingerprint(&self, digest: Digest) -> Vec<u8> {
        let _mark = ErrorMark::set();
        let mut buf = [0u8; openssl_sys::EVP_MAX_MD_SIZE as usize];
        let mut len: c_uint = 0;
        // SAFETY: `buf` has room for any digest (EVP_MAX_MD_SIZE); the certificate is live.
        let ok = unsafe {
            openssl_sys::X509_digest(self.as_ptr(), digest.md(), buf.as_mut_ptr(), &mut len)
        };
        if ok != 1 {
            return Vec::new();
        }
        buf[..(len as usize).min(buf.len())].to_vec()
    }

    /// The serial number as big-endian bytes of its magnitude, without leading zeros (a zero
    /// serial is `[0]`): the hex `openssl x509 -serial` prints. RFC 5280 serials are positive;
    /// the sign of a (non-conforming) negative one is dropped.
    ///
    /// ```
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let leaf = pki.leaf("serial").serial(0x0102_0304).build()?;
    /// let cert = sslbridge::Certificate::from_pem(&leaf.cert_pem)?;
    /// assert_eq!(cert.serial_number(), [1, 2, 3, 4]);
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    #[doc(alias = "X509_get_serialNumber")]
    pub fn serial_number(&self) -> Vec<u8> {
        let _mark = ErrorMark::set();
        // SAFETY: the serial belongs to the live certificate; ASN1_INTEGER_to_BN returns a
        // new BIGNUM (or null) that we free once below.
        let bn = unsafe {
            openssl_sys::ASN1_INTEGER_to_BN(
                openssl_sys::X509_get_serialNumber(self.as_ptr()),
                std::ptr::null_mut(),
            )
        };
        if bn.is_null() {
            return Vec::new();
        }
        // SAFETY: bn is live; BN_bn2bin writes exactly BN_num_bytes = ceil(bits / 8) bytes.
        let mut out = unsafe {
            let bits = openssl_sys::BN_num_bits(bn).max(0) as usize;
            let mut out = vec![0u8; bits.div_ceil(8)];
            let written = openssl_sys::BN_bn2bin(bn, out.as_mut_ptr());
            openssl_sys::BN_free(bn);
            out.truncate(written.max(0) as usize);
            out
        };
        if out.is_empty() {
            out.push(0);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::Certificate;

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn digest_names_round_trip() {
        for d in [
            Digest::Sha1,
            Digest::Sha256,
            Digest::Sha384,
            Digest::Sha512,
            Digest::Md5,
        ] {
            assert_eq!(d.name().parse::<Digest>().unwrap(), d);
            assert_eq!(format!("-{d}").parse::<Digest>().unwrap(), d);
        }
        assert!("sha3".parse::<Digest>().is_err());
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn dates_after_2050_use_generalized_time() {
        let pki = crate::testing::TestPki::new().unwrap();
        // 2060-01-01T00:00:00Z and 2049-12-31T23:59:59Z (the last UTCTime second).
        let after = UNIX_EPOCH + Duration::from_secs(2_840_140_800);
        let before = UNIX_EPOCH + Duration::from_secs(2_524_607_999);
        let leaf = pki.leaf("far").validity(before, after).build().unwrap();
        let cert = Certificate::from_pem(&leaf.cert_pem).unwrap();
        assert_eq!(cert.not_before(), before);
        assert_eq!(cert.not_after(), after);
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn digest_lengths() {
        let pki = crate::testing::TestPki::new().unwrap();
        let cert = Certificate::from_pem(&pki.server(&["x.test"]).unwrap().cert_pem).unwrap();
        for (d, n) in [
            (Digest::Sha1, 20),
            (Digest::Sha256, 32),
            (Digest::Sha384, 48),
            (Digest::Sha512, 64),
            (Digest::Md5, 16),
        ] {
            assert_eq!(cert.fingerprint(d).len(), n, "{d}");
        }
    }
}

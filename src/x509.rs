//! `Certificate` (an owned `X509`) and hostname checking.

use crate::credentials::looks_like_pem;
use crate::error::{cvt, cvt_p, Error, ErrorStack};
use crate::ffi;
use foreign_types::{ForeignType, ForeignTypeRef};
use openssl_sys::{X509, X509_NAME};
use std::net::IpAddr;
use std::os::raw::{c_int, c_long, c_void};
use std::path::Path;

foreign_types::foreign_type! {
    /// An X.509 certificate: an owned OpenSSL `X509` (reference counted, so `clone` is cheap).
    ///
    /// ```
    /// use sslbridge::Certificate;
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let leaf = pki.server(&["localhost"])?;
    /// let cert = Certificate::from_pem(&leaf.cert_pem)?;
    /// assert!(cert.subject_name().contains("localhost"));
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
    // SAFETY: x is a live X509.
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
    Error::InvalidArgument("certificate data larger than 2 GiB".into())
}

fn decode_error(what: &str) -> Error {
    let mut stack = ErrorStack::drain();
    stack.push_hint(format!("the input is not a valid {what} certificate"));
    Error::Ssl(stack)
}

impl Certificate {
    /// Decodes the first certificate of PEM text.
    pub fn from_pem(pem: &[u8]) -> Result<Certificate, Error> {
        Certificate::stack_from_pem(pem)?
            .into_iter()
            .next()
            .ok_or_else(|| decode_error("PEM"))
    }

    /// Decodes a DER certificate; trailing bytes are an error.
    pub fn from_der(der: &[u8]) -> Result<Certificate, Error> {
        crate::ensure_initialized();
        ErrorStack::clear();
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

    /// Reads a certificate file, PEM or DER (sniffed from the content).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Certificate, Error> {
        let data = crate::credentials::read_file(path.as_ref(), "certificate file")?;
        if looks_like_pem(&data) {
            Certificate::from_pem(&data)
        } else {
            Certificate::from_der(&data)
        }
    }

    /// Every certificate in PEM text, in order (a chain file). Fails if there is none.
    pub fn stack_from_pem(pem: &[u8]) -> Result<Vec<Certificate>, Error> {
        crate::ensure_initialized();
        ErrorStack::clear();
        let len = c_int::try_from(pem.len()).map_err(|_| too_large())?;
        // SAFETY: the BIO reads `len` bytes of `pem`, which outlive it (freed below).
        let bio = MemBio(cvt_p(unsafe {
            openssl_sys::BIO_new_mem_buf(pem.as_ptr().cast(), len)
        })?);
        let mut certs = Vec::new();
        loop {
            // SAFETY: bio is a live memory BIO; no password callback is needed for
            // certificates.
            let x = unsafe {
                openssl_sys::PEM_read_bio_X509(
                    bio.0,
                    std::ptr::null_mut(),
                    None,
                    std::ptr::null_mut(),
                )
            };
            if x.is_null() {
                break;
            }
            // SAFETY: x is a fresh owned X509.
            certs.push(unsafe { Certificate::from_ptr(x) });
        }
        if certs.is_empty() {
            return Err(decode_error("PEM"));
        }
        // Reaching the end of the input leaves a "no start line" entry; that is not an error.
        ErrorStack::clear();
        Ok(certs)
    }
}

impl CertificateRef {
    /// The certificate in DER form.
    pub fn to_der(&self) -> Result<Vec<u8>, Error> {
        // SAFETY: a null output pointer asks i2d for the length only.
        let len = cvt(unsafe { openssl_sys::i2d_X509(self.as_ptr(), std::ptr::null_mut()) })?;
        let mut out = vec![0u8; len as usize];
        let mut p = out.as_mut_ptr();
        // SAFETY: `out` has exactly the room i2d said it needs.
        cvt(unsafe { openssl_sys::i2d_X509(self.as_ptr(), &mut p) })?;
        Ok(out)
    }

    /// The certificate in PEM form.
    pub fn to_pem(&self) -> Result<Vec<u8>, Error> {
        let bio = MemBio::new()?;
        // SAFETY: both pointers are live.
        cvt(unsafe { openssl_sys::PEM_write_bio_X509(bio.0, self.as_ptr()) })?;
        Ok(bio.contents())
    }

    /// The subject as one line, e.g. `"CN = localhost, O = Example"`.
    pub fn subject_name(&self) -> String {
        // SAFETY: the name belongs to the live certificate.
        name_one_line(unsafe { openssl_sys::X509_get_subject_name(self.as_ptr()) })
    }

    /// The issuer as one line.
    pub fn issuer_name(&self) -> String {
        // SAFETY: the name belongs to the live certificate.
        name_one_line(unsafe { openssl_sys::X509_get_issuer_name(self.as_ptr()) })
    }

    /// The subject's common names, decoded to UTF-8 from whatever string type they use
    /// (UTF8String, BMPString, PrintableString, UniversalString, T61/TeletexString).
    pub fn subject_common_names(&self) -> Result<Vec<String>, Error> {
        // SAFETY: the name belongs to the live certificate.
        let name = unsafe { openssl_sys::X509_get_subject_name(self.as_ptr()) };
        let mut out = Vec::new();
        let mut pos: c_int = -1;
        loop {
            // SAFETY: name is live; pos is the last index returned (or -1).
            pos = unsafe {
                openssl_sys::X509_NAME_get_index_by_NID(name, openssl_sys::NID_commonName, pos)
            };
            if pos < 0 {
                break;
            }
            // SAFETY: pos is a valid entry index; the entry and its data belong to `name`.
            let data = unsafe {
                openssl_sys::X509_NAME_ENTRY_get_data(openssl_sys::X509_NAME_get_entry(name, pos))
            };
            let mut utf8: *mut u8 = std::ptr::null_mut();
            // SAFETY: data is a live ASN1_STRING; on success utf8 is an OPENSSL_malloc'd buffer.
            let len = unsafe { openssl_sys::ASN1_STRING_to_UTF8(&mut utf8, data) };
            if len < 0 || utf8.is_null() {
                let mut stack = ErrorStack::drain();
                stack.push_hint("a subject common name cannot be decoded to UTF-8".into());
                return Err(Error::Ssl(stack));
            }
            // SAFETY: utf8 holds `len` bytes; we copy then free it with OpenSSL's allocator.
            let text = unsafe {
                let bytes = std::slice::from_raw_parts(utf8, len as usize).to_vec();
                openssl_sys::OPENSSL_free(utf8.cast::<c_void>());
                bytes
            };
            out.push(String::from_utf8_lossy(&text).into_owned());
        }
        Ok(out)
    }

    /// The DNS names of the subjectAltName extension.
    pub fn dns_names(&self) -> Vec<String> {
        self.alt_names()
            .into_iter()
            .filter_map(|n| match n {
                AltName::Dns(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    /// The IP addresses of the subjectAltName extension (v4 and v6).
    pub fn ip_addresses(&self) -> Vec<IpAddr> {
        self.alt_names()
            .into_iter()
            .filter_map(|n| match n {
                AltName::Ip(ip) => Some(ip),
                _ => None,
            })
            .collect()
    }

    fn alt_names(&self) -> Vec<AltName> {
        let mut out = Vec::new();
        // SAFETY: X509_get_ext_d2i returns a new GENERAL_NAMES stack (or null) that we own
        // and free below with GENERAL_NAME_free on each element.
        unsafe {
            let names = openssl_sys::X509_get_ext_d2i(
                self.as_ptr(),
                openssl_sys::NID_subject_alt_name,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            ) as *mut openssl_sys::OPENSSL_STACK;
            if names.is_null() {
                ErrorStack::clear();
                return out;
            }
            for i in 0..openssl_sys::OPENSSL_sk_num(names) {
                let gn =
                    openssl_sys::OPENSSL_sk_value(names, i) as *const openssl_sys::GENERAL_NAME;
                if gn.is_null() {
                    continue;
                }
                let bytes = |s: *const c_void| -> Vec<u8> {
                    let s = s as *const openssl_sys::ASN1_STRING;
                    let p = openssl_sys::ASN1_STRING_get0_data(s);
                    let len = openssl_sys::ASN1_STRING_length(s);
                    if p.is_null() || len <= 0 {
                        Vec::new()
                    } else {
                        std::slice::from_raw_parts(p, len as usize).to_vec()
                    }
                };
                match (*gn).type_ {
                    openssl_sys::GEN_DNS => {
                        out.push(AltName::Dns(
                            String::from_utf8_lossy(&bytes((*gn).d)).into_owned(),
                        ));
                    }
                    openssl_sys::GEN_IPADD => {
                        let b = bytes((*gn).d);
                        if let Ok(v4) = <[u8; 4]>::try_from(b.as_slice()) {
                            out.push(AltName::Ip(IpAddr::from(v4)));
                        } else if let Ok(v6) = <[u8; 16]>::try_from(b.as_slice()) {
                            out.push(AltName::Ip(IpAddr::from(v6)));
                        }
                    }
                    _ => {}
                }
            }
            openssl_sys::OPENSSL_sk_pop_free(names, Some(free_general_name));
        }
        out
    }
}

unsafe extern "C" fn free_general_name(p: *mut c_void) {
    // SAFETY: every element of a GENERAL_NAMES stack is a GENERAL_NAME we own.
    unsafe { openssl_sys::GENERAL_NAME_free(p.cast()) }
}

enum AltName {
    Dns(String),
    Ip(IpAddr),
}

fn name_one_line(name: *mut X509_NAME) -> String {
    let Ok(bio) = MemBio::new() else {
        return String::new();
    };
    // SAFETY: the BIO and the name are live for the call.
    unsafe { ffi::X509_NAME_print_ex(bio.0, name, 0, ffi::XN_FLAG_ONELINE_UTF8) };
    String::from_utf8_lossy(&bio.contents()).into_owned()
}

/// Checks that `cert` is valid for `host` (a DNS name or an IP address), the check
/// `Verify::Required` clients run after chain verification.
///
/// Rules: IP addresses (v4 and v6) match only IP subjectAltNames. DNS names match the DNS
/// subjectAltNames; the subject CN is consulted only when the certificate has no DNS SAN.
/// Comparison is case-insensitive and ignores one trailing dot. A wildcard is honoured only as
/// the whole left-most label (`*.example.com`), with at least two labels after it, and never
/// matches an empty label or an IDNA (`xn--`) label. Partial wildcards such as
/// `f*.example.com` never match: stricter than cl+ssl, as RFC 6125 §6.4.3 recommends, because
/// they let a certificate cover names its owner never meant to.
///
/// ```
/// let pki = sslbridge::testing::TestPki::new()?;
/// let cert = sslbridge::Certificate::from_pem(&pki.server(&["*.example.com"])?.cert_pem)?;
/// assert!(sslbridge::verify_hostname(&cert, "www.example.com").is_ok());
/// assert!(sslbridge::verify_hostname(&cert, "example.com").is_err());
/// # Ok::<(), sslbridge::Error>(())
/// ```
pub fn verify_hostname(cert: &CertificateRef, host: &str) -> Result<(), Error> {
    let mismatch = |presented: Vec<String>| Error::Hostname {
        hostname: host.to_string(),
        presented: if presented.is_empty() {
            "no names".to_string()
        } else {
            presented.join(", ")
        },
    };
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        let ips = cert.ip_addresses();
        if ips.contains(&ip) {
            return Ok(());
        }
        return Err(mismatch(ips.iter().map(|i| format!("IP:{i}")).collect()));
    }
    let dns = cert.dns_names();
    let candidates: Vec<String> = if dns.is_empty() {
        cert.subject_common_names().unwrap_or_default()
    } else {
        dns
    };
    if candidates.iter().any(|p| dns_name_matches(p, host)) {
        Ok(())
    } else {
        let ip_list = cert.ip_addresses();
        let ips = ip_list.iter().map(|i| format!("IP:{i}"));
        Err(mismatch(
            candidates
                .iter()
                .map(|n| format!("DNS:{n}"))
                .chain(ips)
                .collect(),
        ))
    }
}

/// Whether a certificate name `pattern` covers `host` (see [`verify_hostname`]).
pub(crate) fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let host = host.strip_suffix('.').unwrap_or(host);
    if pattern.is_empty() || host.is_empty() || host.split('.').any(str::is_empty) {
        return false;
    }
    match pattern.strip_prefix("*.") {
        None => !pattern.contains('*') && pattern.eq_ignore_ascii_case(host),
        Some(rest) => {
            let rest_labels: Vec<&str> = rest.split('.').collect();
            if rest_labels.len() < 2 || rest_labels.iter().any(|l| l.is_empty() || l.contains('*'))
            {
                return false;
            }
            let Some((first, host_rest)) = host.split_once('.') else {
                return false;
            };
            let idna = first.len() >= 4 && first[..4].eq_ignore_ascii_case("xn--");
            !first.is_empty() && !idna && host_rest.eq_ignore_ascii_case(rest)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::dns_name_matches as m;

    #[test]
    fn wildcard_rules() {
        assert!(m("*.example.com", "www.example.com"));
        assert!(!m("*.example.com", "example.com"));
        assert!(!m("*.example.com", "a.b.example.com"));
        assert!(!m("*.com", "www.com"));
        assert!(!m("foo.*.example.com", "foo.www.example.com"));
        assert!(!m("*.www.example.com", "www.example.com"));
        assert!(!m("f*.example.com", "foo.example.com"));
        assert!(!m("*.example.com", "xn--bcher-kva.example.com"));
        assert!(m("www.example.com", "WWW.Example.COM."));
        assert!(!m("*.example.com", ".example.com"));
        assert!(!m("www.example.com", "www..example.com"));
    }
}

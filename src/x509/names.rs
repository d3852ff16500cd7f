//! Subject, issuer, common names and subjectAltNames.

use super::{CertificateRef, MemBio};
use crate::error::{Error, ErrorMark};
use crate::ffi::openssl as ffi;
use foreign_types::ForeignTypeRef;
use openssl_sys::X509_NAME;
use std::net::IpAddr;
use std::os::raw::{c_int, c_void};

/// One decoded subjectAltName entry that we use.
pub(super) enum AltName {
    Dns(String),
    Ip(IpAddr),
}

/// The subjectAltName extension as [`verify_hostname`](super::verify_hostname) needs to see it.
pub(super) enum AltNames {
    /// The certificate has no subjectAltName extension.
    Absent,
    /// The extension is present but undecodable, or present more than once (RFC 5280
    /// forbids that); a hostname check must fail rather than fall back to the CN.
    Invalid,
    /// The DNS and IP entries, in order.
    Names(Vec<AltName>),
}

impl CertificateRef {
    /// The subject as one line (`X509_NAME_print_ex`, the format of
    /// `openssl x509 -noout -subject`), e.g. `"CN = localhost, O = Example"`.
    #[doc(alias = "X509_get_subject_name")]
    pub fn subject_name(&self) -> String {
        // SAFETY: the name belongs to the live certificate.
        name_one_line(unsafe { openssl_sys::X509_get_subject_name(self.as_ptr()) })
    }

    /// The issuer as one line, in the format of [`subject_name`](Self::subject_name).
    #[doc(alias = "X509_get_issuer_name")]
    pub fn issuer_name(&self) -> String {
        // SAFETY: the name belongs to the live certificate.
        name_one_line(unsafe { openssl_sys::X509_get_issuer_name(self.as_ptr()) })
    }

    /// The subject's common names in order, decoded to UTF-8 from whatever string type they
    /// use (UTF8String, BMPString, PrintableString, UniversalString, T61String/TeletexString,
    /// IA5String) by `ASN1_STRING_to_UTF8`. TeletexString is read as Latin-1, as OpenSSL does.
    ///
    /// ```
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let cert = sslbridge::Certificate::from_pem(&pki.client("alice")?.cert_pem)?;
    /// assert_eq!(cert.subject_common_names()?, ["alice"]);
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Ssl`] when a common name is not valid in its declared type (a BMPString of
    /// odd length, say) or not valid UTF-8 once converted.
    #[doc(alias = "X509_NAME_get_index_by_NID")]
    #[doc(alias = "certificate-subject-common-names")]
    pub fn subject_common_names(&self) -> Result<Vec<String>, Error> {
        // Runs inside the verify callback too: only our own entries leave the queue.
        let mark = ErrorMark::set();
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
            let undecodable =
                |why: &str| mark.error(format!("subject common name {} {why}", out.len() + 1));
            let mut utf8: *mut u8 = std::ptr::null_mut();
            // SAFETY: data is a live ASN1_STRING; on success utf8 is an OPENSSL_malloc'd buffer.
            let len = unsafe { openssl_sys::ASN1_STRING_to_UTF8(&mut utf8, data) };
            if len < 0 || utf8.is_null() {
                return Err(undecodable("cannot be decoded to UTF-8"));
            }
            // SAFETY: utf8 holds `len` bytes; we copy them, then free the buffer with
            // OpenSSL's allocator exactly once.
            let bytes = unsafe {
                let bytes = std::slice::from_raw_parts(utf8, len as usize).to_vec();
                openssl_sys::OPENSSL_free(utf8.cast::<c_void>());
                bytes
            };
            match String::from_utf8(bytes) {
                Ok(text) => out.push(text),
                Err(_) => return Err(undecodable("is a UTF8String holding invalid UTF-8")),
            }
        }
        Ok(out)
    }

    /// The DNS names of the subjectAltName extension, in order. Bytes that are not UTF-8
    /// (never valid in a DNS name) show as U+FFFD and never match a hostname.
    #[doc(alias = "X509_get_ext_d2i")]
    #[doc(alias = "certificate-dns-alt-names")]
    pub fn dns_names(&self) -> Vec<String> {
        self.alt_name_list()
            .into_iter()
            .filter_map(|n| match n {
                AltName::Dns(s) => Some(s),
                AltName::Ip(_) => None,
            })
            .collect()
    }

    /// The IP addresses (v4 and v6) of the subjectAltName extension, in order.
    ///
    /// ```
    /// use std::net::IpAddr;
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let cert = sslbridge::Certificate::from_pem(&pki.server(&["localhost", "::1"])?.cert_pem)?;
    /// assert_eq!(cert.ip_addresses(), ["::1".parse::<IpAddr>().unwrap()]);
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    #[doc(alias = "certificate-ip-addresses")]
    pub fn ip_addresses(&self) -> Vec<IpAddr> {
        self.alt_name_list()
            .into_iter()
            .filter_map(|n| match n {
                AltName::Ip(ip) => Some(ip),
                AltName::Dns(_) => None,
            })
            .collect()
    }

    fn alt_name_list(&self) -> Vec<AltName> {
        match self.alt_names() {
            AltNames::Names(names) => names,
            AltNames::Absent | AltNames::Invalid => Vec::new(),
        }
    }

    /// Decodes the subjectAltName extension (`X509_get_ext_d2i`).
    pub(super) fn alt_names(&self) -> AltNames {
        // Runs inside the verify callback too: leave the queue as OpenSSL filled it.
        let _mark = ErrorMark::set();
        let mut crit: c_int = 0;
        // SAFETY: X509_get_ext_d2i returns a new GENERAL_NAMES stack (or null) that we own;
        // `crit` tells absent (-1) and duplicated (-2) from undecodable (null with >= 0).
        let names = unsafe {
            openssl_sys::X509_get_ext_d2i(
                self.as_ptr(),
                openssl_sys::NID_subject_alt_name,
                &mut crit,
                std::ptr::null_mut(),
            )
        } as *mut openssl_sys::OPENSSL_STACK;
        if names.is_null() {
            return if crit == -1 {
                AltNames::Absent
            } else {
                AltNames::Invalid
            };
        }
        let mut out = Vec::new();
        // SAFETY: `names` is a live stack of GENERAL_NAME, read here and freed once below.
        let count = unsafe { openssl_sys::OPENSSL_sk_num(names) };
        for i in 0..count {
            // SAFETY: i is in bounds; the element stays owned by the stack.
            let gn = unsafe { openssl_sys::OPENSSL_sk_value(names, i) }
                as *const openssl_sys::GENERAL_NAME;
            if gn.is_null() {
                continue;
            }
            // SAFETY: gn is a live GENERAL_NAME; for GEN_DNS and GEN_IPADD its `d` is an
            // ASN1_STRING (IA5String, OCTET STRING) owned by it.
            unsafe {
                match (*gn).type_ {
                    openssl_sys::GEN_DNS => out.push(AltName::Dns(
                        String::from_utf8_lossy(&string_bytes((*gn).d)).into_owned(),
                    )),
                    openssl_sys::GEN_IPADD => {
                        let b = string_bytes((*gn).d);
                        if let Ok(v4) = <[u8; 4]>::try_from(b.as_slice()) {
                            out.push(AltName::Ip(IpAddr::from(v4)));
                        } else if let Ok(v6) = <[u8; 16]>::try_from(b.as_slice()) {
                            out.push(AltName::Ip(IpAddr::from(v6)));
                        }
                    }
                    _ => {}
                }
            }
        }
        // SAFETY: we own the stack and each GENERAL_NAME in it; freed exactly once.
        unsafe { openssl_sys::OPENSSL_sk_pop_free(names, Some(free_general_name)) };
        AltNames::Names(out)
    }
}

/// Copies the bytes of an `ASN1_STRING`.
///
/// # Safety
/// `s` is null or a live `ASN1_STRING`.
unsafe fn string_bytes(s: *const c_void) -> Vec<u8> {
    if s.is_null() {
        return Vec::new();
    }
    let s = s as *const openssl_sys::ASN1_STRING;
    // SAFETY: s is a live ASN1_STRING (caller's guarantee); its data holds `len` bytes.
    unsafe {
        let p = openssl_sys::ASN1_STRING_get0_data(s);
        let len = openssl_sys::ASN1_STRING_length(s);
        if p.is_null() || len <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts(p, len as usize).to_vec()
        }
    }
}

unsafe extern "C" fn free_general_name(p: *mut c_void) {
    // SAFETY: every element of a GENERAL_NAMES stack is a GENERAL_NAME we own.
    unsafe { openssl_sys::GENERAL_NAME_free(p.cast()) }
}

fn name_one_line(name: *mut X509_NAME) -> String {
    let _mark = ErrorMark::set();
    let Ok(bio) = MemBio::new() else {
        return String::new();
    };
    // SAFETY: the BIO and the name are live for the call.
    unsafe { ffi::X509_NAME_print_ex(bio.0, name, 0, ffi::XN_FLAG_ONELINE_UTF8) };
    String::from_utf8_lossy(&bio.contents()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::Certificate;
    use foreign_types::ForeignType;
    use std::os::raw::c_int;

    /// A bare certificate whose subject has one CN of ASN.1 type `ty` holding `bytes` as is.
    /// The entry goes straight into the certificate's own name: `X509_set_subject_name` would
    /// copy it through DER and refuse the malformed strings we want to test.
    fn with_common_name(ty: c_int, bytes: &[u8]) -> Certificate {
        // SAFETY: X509_new's result is checked and handed to Certificate, which frees it; the
        // subject name belongs to it; add_entry copies `bytes`.
        unsafe {
            let x = openssl_sys::X509_new();
            assert!(!x.is_null());
            let cert = Certificate::from_ptr(x);
            let ok = openssl_sys::X509_NAME_add_entry_by_NID(
                openssl_sys::X509_get_subject_name(x),
                openssl_sys::NID_commonName,
                ty,
                bytes.as_ptr() as *mut _,
                bytes.len() as c_int,
                -1,
                0,
            );
            assert_eq!(ok, 1, "{:?}", crate::error::ErrorStack::drain());
            cert
        }
    }

    fn ucs2(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    fn ucs4(s: &str) -> Vec<u8> {
        s.chars().flat_map(|c| (c as u32).to_be_bytes()).collect()
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn common_names_decode_every_string_type() {
        let cases: [(c_int, Vec<u8>, &str); 5] = [
            (
                openssl_sys::V_ASN1_UTF8STRING,
                "Zoë 日本 𝄞".into(),
                "Zoë 日本 𝄞",
            ),
            (
                openssl_sys::V_ASN1_PRINTABLESTRING,
                b"Plain Name".to_vec(),
                "Plain Name",
            ),
            (openssl_sys::V_ASN1_T61STRING, b"Zo\xeb".to_vec(), "Zoë"),
            (openssl_sys::V_ASN1_BMPSTRING, ucs2("日本 Zoë"), "日本 Zoë"),
            (
                openssl_sys::V_ASN1_UNIVERSALSTRING,
                ucs4("𝄞 日本"),
                "𝄞 日本",
            ),
        ];
        for (ty, bytes, expected) in cases {
            let cert = with_common_name(ty, &bytes);
            assert_eq!(
                cert.subject_common_names().unwrap(),
                [expected],
                "type {ty}"
            );
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn malformed_common_names_are_errors() {
        // OpenSSL's DER parser already refuses a BMPString of odd length; the content of a
        // UniversalString or UTF8String is only checked on conversion.
        let surrogate = with_common_name(openssl_sys::V_ASN1_UNIVERSALSTRING, b"\0\0\xd8\x00");
        assert!(surrogate.subject_common_names().is_err());
        let bad_utf8 = with_common_name(openssl_sys::V_ASN1_UTF8STRING, b"\xff\xfe");
        assert!(bad_utf8.subject_common_names().is_err());
    }
}

//! Hostname checking: does a certificate name the host we meant to reach?

use super::names::AltNames;
use super::CertificateRef;
use crate::error::Error;
use std::net::IpAddr;

/// Checks that `cert` is valid for `host` (a DNS name or an IP address): the check
/// `Verify::Required` and `Verify::Optional` clients run after chain verification.
///
/// Rules (RFC 6125 as updated by RFC 9525):
///
/// - An IP address, v4 or v6 (optionally in brackets, `[::1]`), matches only the IP
///   addresses of the subjectAltName, never a DNS name or the CN.
/// - A DNS name matches the DNS names of the subjectAltName. The subject CN is consulted only
///   when the certificate has no DNS subjectAltName at all.
/// - Comparison is ASCII case-insensitive and ignores one trailing dot on either side
///   (`WWW.Example.COM.` matches `www.example.com`). Names must be ASCII: pass
///   internationalised names in their `xn--` (A-label) form. A host with an empty label
///   (`a..b`), a `*` or a NUL, or whose last label is numeric (`888.0.0.8`, not an IP address
///   and not a DNS name) matches nothing.
/// - A wildcard counts only as the whole left-most label, followed by at least two labels:
///   `*.example.com` matches `www.example.com`, but not `example.com`, `a.b.example.com` or
///   an `xn--` label; `*.com`, `foo.*.example.com` and `*.www.example.com` (for
///   `www.example.com`) match nothing. There is no Public Suffix List: `*.co.uk` would match
///   `foo.co.uk` (public CAs do not issue such certificates).
/// - A wildcard covers only letters, digits and hyphens (`*.example.com` does not match
///   `a_b.example.com`), and counts only when the labels after it are letters, digits and
///   inner hyphens (`*.-x.example.com` matches nothing), as in OpenSSL's `X509_check_host`.
/// - When the CN is consulted, a CN that does not decode (see
///   [`subject_common_names`](CertificateRef::subject_common_names)) makes every CN match
///   nothing.
///
/// **Stricter than cl+ssl:** cl+ssl also accepts a wildcard *inside* the left-most label
/// (`f*.example.com`, `*oo.example.com`, `b*z.example.com`), as RFC 6125 §6.4.3 permitted.
/// sslbridge never matches such partial wildcards: RFC 9525 (which obsoletes RFC 6125)
/// forbids them, the CA/Browser Forum Baseline Requirements do not let public CAs issue them,
/// and browsers reject them. They only widen what a certificate covers in ways that are hard
/// to audit (`w*.example.com` covers `www`, `webmail` and `wpad` alike), so accepting them
/// would add risk for no certificate anyone can legitimately obtain.
///
/// An undecodable or duplicated subjectAltName extension fails the check rather than
/// falling back to the CN.
///
/// ```
/// let pki = sslbridge::testing::TestPki::new()?;
/// let cert = sslbridge::Certificate::from_pem(&pki.server(&["*.example.com"])?.cert_pem)?;
/// assert!(sslbridge::verify_hostname(&cert, "www.example.com").is_ok());
/// assert!(sslbridge::verify_hostname(&cert, "WWW.Example.COM.").is_ok());
/// assert!(sslbridge::verify_hostname(&cert, "example.com").is_err());
/// assert!(sslbridge::verify_hostname(&cert, "a.b.example.com").is_err());
/// # Ok::<(), sslbridge::Error>(())
/// ```
///
/// # Errors
///
/// [`Error::Hostname`] with the host and the names the certificate presents.
#[doc(alias = "X509_check_host")]
#[doc(alias = "verify-hostname")]
pub fn verify_hostname(cert: &CertificateRef, host: &str) -> Result<(), Error> {
    let mismatch = |presented: Vec<String>| Error::Hostname {
        hostname: host.to_string(),
        presented: if presented.is_empty() {
            "no names".to_string()
        } else {
            presented.join(", ")
        },
    };
    let names = match cert.alt_names() {
        AltNames::Absent => Vec::new(),
        AltNames::Names(names) => names,
        AltNames::Invalid => {
            return Err(mismatch(vec![
                "an invalid or duplicated subjectAltName extension".to_string(),
            ]))
        }
    };
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    for name in names {
        match name {
            super::names::AltName::Dns(d) => dns.push(d),
            super::names::AltName::Ip(ip) => ips.push(ip),
        }
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        if ips.contains(&ip) {
            return Ok(());
        }
        return Err(mismatch(ips.iter().map(|i| format!("IP:{i}")).collect()));
    }
    let (candidates, label) = if dns.is_empty() {
        (cert.subject_common_names().unwrap_or_default(), "CN")
    } else {
        (dns, "DNS")
    };
    if candidates.iter().any(|p| dns_name_matches(p, host)) {
        return Ok(());
    }
    Err(mismatch(
        candidates
            .iter()
            .map(|n| format!("{label}:{n}"))
            .chain(ips.iter().map(|i| format!("IP:{i}")))
            .collect(),
    ))
}

/// Whether a certificate name `pattern` covers the DNS name `host` (see [`verify_hostname`]).
pub(crate) fn dns_name_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.strip_suffix('.').unwrap_or(pattern);
    let host = host.strip_suffix('.').unwrap_or(host);
    if !is_dns_name(host) || !pattern.is_ascii() || pattern.is_empty() {
        return false;
    }
    match pattern.strip_prefix("*.") {
        None => !pattern.contains('*') && pattern.eq_ignore_ascii_case(host),
        Some(rest) => {
            let rest_labels: Vec<&str> = rest.split('.').collect();
            if rest_labels.len() < 2 || !rest_labels.iter().all(|l| is_ldh_label(l)) {
                return false;
            }
            let Some((first, host_rest)) = host.split_once('.') else {
                return false;
            };
            let idna = first.len() >= 4 && first[..4].eq_ignore_ascii_case("xn--");
            let ldh = first
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
            !idna && ldh && host_rest.eq_ignore_ascii_case(rest)
        }
    }
}

/// A label a wildcard may be followed by: letters, digits and hyphens, not at either end.
fn is_ldh_label(label: &str) -> bool {
    !label.is_empty()
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A host we are willing to match: ASCII, no empty label, no `*` or NUL, and a last label
/// that is not all digits (`888.0.0.8` is a failed IP address, not a name).
fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.is_ascii()
        && !host.contains(['*', '\0'])
        && host.split('.').all(|l| !l.is_empty())
        && !host
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::dns_name_matches as m;

    #[test]
    fn wildcard_rules() {
        assert!(m("*.example.com", "www.example.com"));
        assert!(m("*.example.com.", "www.example.com"));
        assert!(!m("*.example.com", "example.com"));
        assert!(!m("*.example.com", "a.b.example.com"));
        assert!(!m("*.com", "www.com"));
        assert!(!m("*", "www"));
        assert!(!m("foo.*.example.com", "foo.www.example.com"));
        assert!(!m("*.www.example.com", "www.example.com"));
        assert!(!m("f*.example.com", "foo.example.com"));
        assert!(!m("*oo.example.com", "foo.example.com"));
        assert!(!m("*.*.com", "a.b.com"));
        assert!(!m("*.example.com", "xn--bcher-kva.example.com"));
        assert!(!m("*.example.com", "XN--bcher-kva.example.com"));
        assert!(m("www.example.com", "WWW.Example.COM."));
        assert!(!m("*.example.com", ".example.com"));
        assert!(!m("www.example.com", "www..example.com"));
        assert!(!m("www.example.com", "www.example.com.."));
        assert!(!m("*.example.com", "*.example.com"));
        assert!(!m("888.0.0.8", "888.0.0.8"));
        assert!(!m("\u{fffd}.example.com", "\u{fffd}.example.com"));
        assert!(!m("", ""));
    }

    /// Found by the `hostname` fuzz target (OpenSSL's `X509_check_host` disagreed): a
    /// wildcard covered any characters and followed any labels, and a host with a NUL could
    /// match. Inputs: fuzz/regressions/hostname/h3-*, h4-*.
    #[test]
    fn wildcards_cover_letters_digits_and_hyphens_only() {
        assert!(m("*.example.com", "a-b.example.com"));
        assert!(m("*.ex-ample.com", "www.ex-ample.com"));
        assert!(!m("*.example.com", "a_b.example.com"));
        assert!(!m("*.example.com", "a b.example.com"));
        assert!(!m("*.-x.example.com", "x.-x.example.com"));
        assert!(!m("*.x-.example.com", "x.x-.example.com"));
        assert!(!m("*._tcp.example.com", "x._tcp.example.com"));
        assert!(!m("a\0.example.com", "a\0.example.com"));
        assert!(!m("*.example.com", "a\0.example.com"));
    }
}

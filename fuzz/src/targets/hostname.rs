//! `hostname`: a differential oracle. The input describes a certificate (subjectAltName DNS,
//! IP and other entries, subject CNs in any string type, duplicated or undecodable
//! extensions) and host names; for every host, `sslbridge::verify_hostname` must agree with
//! OpenSSL's `X509_check_host` / `X509_check_ip_asc` under the flags that match sslbridge's
//! documented rules, or differ only as one of those rules says. Any other disagreement is a
//! crash.
//!
//! Input: lines (`\n`). The first line is a host; every other line is one byte saying what
//! it is, then its value (any bytes but `\n`):
//!
//! | byte | value |
//! | --- | --- |
//! | `h` | another host to check |
//! | `d` | a dNSName in the current subjectAltName extension |
//! | `i` | an iPAddress: text that parses as an IP address is written as its 4 or 16 bytes, anything else as is |
//! | `e`, `u` | an rfc822Name, a URI (neither may match a host) |
//! | `n` | starts another subjectAltName extension (a duplicate: RFC 5280 allows one) |
//! | `x` | another subjectAltName extension whose value is these raw bytes |
//! | `!` | the subjectAltName extensions are critical |
//! | `c`, `p`, `a`, `t`, `b`, `U` | a subject CN as UTF8String, PrintableString, IA5String, T61String, BMPString, UniversalString |
//! | `r` | a subject CN whose first value byte is its ASN.1 tag, whatever that is |
//! | `o` | a subject organizationName (never a host name) |
//!
//! Besides the hosts given, each run checks variations of them and of the names the
//! certificate presents (case, trailing dots, the wildcard label replaced), up to
//! [`MAX_CHECKS`] hosts.

use super::der::{self, tag, CertificateSpec, GeneralName, SanExtension};
use sslbridge::{verify_hostname, Certificate, Error};
use std::ffi::CString;
use std::net::IpAddr;
use std::os::raw::{c_char, c_int, c_long};

/// How many hosts one input checks at most.
pub const MAX_CHECKS: usize = 32;

/// The `X509_check_host` flags that match sslbridge's documented rules: full-label wildcards
/// only ("never matches partial wildcards"); a wildcard covers one label (no
/// `MULTI_LABEL_WILDCARDS`); the subject CN only when there is no DNS subjectAltName (neither
/// `ALWAYS_CHECK_SUBJECT` nor `NEVER_CHECK_SUBJECT`).
const FLAGS: u32 = openssl_sys::X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;

/// One subject attribute as the input gives it: (attribute OID, tag, text).
type Attribute = (&'static [u8], u8, Vec<u8>);

/// The certificate an input describes, before encoding.
#[derive(Debug, Default)]
struct Description {
    subject: Vec<Attribute>,
    sans: Vec<SanExtension>,
    critical: bool,
    hosts: Vec<String>,
}

fn parse(data: &[u8]) -> Description {
    let mut lines = data.split(|&b| b == b'\n');
    let mut d = Description {
        hosts: vec![String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned()],
        ..Description::default()
    };
    let mut names: Option<Vec<GeneralName>> = None;
    for line in lines {
        let Some((&kind, value)) = line.split_first() else {
            continue;
        };
        let value = value.to_vec();
        let mut cn = |t: u8, text: Vec<u8>| d.subject.push((der::OID_COMMON_NAME, t, text));
        match kind {
            b'h' => d.hosts.push(String::from_utf8_lossy(&value).into_owned()),
            b'd' => names
                .get_or_insert_with(Vec::new)
                .push(GeneralName::Dns(value)),
            b'i' => names
                .get_or_insert_with(Vec::new)
                .push(GeneralName::Ip(ip_bytes(value))),
            b'e' => names
                .get_or_insert_with(Vec::new)
                .push(GeneralName::Email(value)),
            b'u' => names
                .get_or_insert_with(Vec::new)
                .push(GeneralName::Uri(value)),
            b'n' => d
                .sans
                .push(SanExtension::Names(names.take().unwrap_or_default())),
            b'x' => d.sans.push(SanExtension::Raw(value)),
            b'!' => d.critical = true,
            b'c' => cn(tag::UTF8, value),
            b'p' => cn(tag::PRINTABLE, value),
            b'a' => cn(tag::IA5, value),
            b't' => cn(tag::T61, value),
            b'b' => cn(tag::BMP, value),
            b'U' => cn(tag::UNIVERSAL, value),
            b'r' => {
                if let Some((&t, text)) = value.split_first() {
                    cn(t, text.to_vec());
                }
            }
            b'o' => d.subject.push((der::OID_ORGANIZATION, tag::UTF8, value)),
            _ => {}
        }
    }
    if let Some(names) = names {
        d.sans.push(SanExtension::Names(names));
    }
    d
}

fn ip_bytes(text: Vec<u8>) -> Vec<u8> {
    match std::str::from_utf8(&text)
        .ok()
        .and_then(|t| t.parse::<IpAddr>().ok())
    {
        Some(IpAddr::V4(ip)) => ip.octets().to_vec(),
        Some(IpAddr::V6(ip)) => ip.octets().to_vec(),
        None => text,
    }
}

/// Rule "ignores one trailing dot on either side": OpenSSL does not, so it sees every name
/// with one trailing dot removed (and each host likewise, in [`openssl_check`]).
fn strip_dot(name: &[u8]) -> Vec<u8> {
    name.strip_suffix(b".").unwrap_or(name).to_vec()
}

impl Description {
    /// The certificate; with `normalized`, each DNS name and CN loses one trailing dot.
    fn spec(&self, normalized: bool) -> CertificateSpec {
        let name = |v: &Vec<u8>| if normalized { strip_dot(v) } else { v.clone() };
        CertificateSpec {
            subject: self
                .subject
                .iter()
                .map(|(oid, t, text)| {
                    let text = if *oid == der::OID_COMMON_NAME {
                        name(text)
                    } else {
                        text.clone()
                    };
                    (*oid, *t, der::string_content(*t, &text))
                })
                .collect(),
            sans: self
                .sans
                .iter()
                .map(|san| match san {
                    SanExtension::Names(names) => SanExtension::Names(
                        names
                            .iter()
                            .map(|n| match n {
                                GeneralName::Dns(v) => GeneralName::Dns(name(v)),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    raw => raw.clone(),
                })
                .collect(),
            critical: self.critical,
        }
    }

    /// The given hosts, then variations of them and of the names presented.
    fn hosts(&self) -> Vec<String> {
        let mut names: Vec<String> = self.hosts.clone();
        for san in &self.sans {
            if let SanExtension::Names(list) = san {
                for n in list {
                    match n {
                        GeneralName::Dns(v) => names.push(String::from_utf8_lossy(v).into()),
                        GeneralName::Ip(v) => match v.len() {
                            4 => names.push(
                                IpAddr::from(<[u8; 4]>::try_from(&v[..]).unwrap()).to_string(),
                            ),
                            16 => names.push(format!(
                                "[{}]",
                                IpAddr::from(<[u8; 16]>::try_from(&v[..]).unwrap())
                            )),
                            _ => {}
                        },
                        _ => {}
                    }
                }
            }
        }
        for (oid, _, text) in &self.subject {
            if *oid == der::OID_COMMON_NAME {
                names.push(String::from_utf8_lossy(text).into());
            }
        }
        let mut hosts = Vec::new();
        for n in &names {
            hosts.push(n.clone());
            hosts.push(n.to_ascii_uppercase());
            hosts.push(format!("{n}."));
            if let Some(rest) = n.strip_prefix("*.") {
                hosts.push(format!("www.{rest}"));
                hosts.push(format!("xn--www.{rest}"));
                hosts.push(rest.to_string());
            } else {
                hosts.push(format!("a.{n}"));
            }
        }
        hosts.truncate(MAX_CHECKS);
        hosts
    }
}

/// An `X509` parsed by OpenSSL itself, freed on drop.
struct RawX509(*mut openssl_sys::X509);

impl RawX509 {
    /// The `X509` behind a certificate sslbridge parsed (one more reference to it).
    fn of(cert: &Certificate) -> RawX509 {
        use sslbridge::foreign_types::ForeignTypeRef;
        let x = cert.as_ptr();
        // SAFETY: `x` is the live X509 of `cert`; the reference we take is freed on drop.
        unsafe { openssl_sys::X509_up_ref(x) };
        RawX509(x)
    }

    fn from_der(der: &[u8]) -> Option<RawX509> {
        let mut p = der.as_ptr();
        // SAFETY: `p` points to `der.len()` readable bytes; d2i_X509 returns a new X509 that
        // we own, or null.
        let x = unsafe { openssl_sys::d2i_X509(std::ptr::null_mut(), &mut p, der.len() as c_long) };
        (!x.is_null()).then_some(RawX509(x))
    }

    /// Whether the subjectAltName extension is present but undecodable or duplicated
    /// (`X509_get_ext_d2i` returns null with a critical flag other than -1, "absent").
    fn san_invalid(&self) -> bool {
        let mut crit: c_int = 0;
        // SAFETY: the X509 is live; the returned GENERAL_NAMES, if any, is ours and freed.
        unsafe {
            let names = openssl_sys::X509_get_ext_d2i(
                self.0,
                openssl_sys::NID_subject_alt_name,
                &mut crit,
                std::ptr::null_mut(),
            );
            if names.is_null() {
                openssl_sys::ERR_clear_error();
                return crit != -1;
            }
            openssl_sys::OPENSSL_sk_pop_free(names.cast(), Some(free_general_name));
            false
        }
    }
}

unsafe extern "C" fn free_general_name(p: *mut std::ffi::c_void) {
    // SAFETY: every element of a GENERAL_NAMES stack is a GENERAL_NAME we own.
    unsafe { openssl_sys::GENERAL_NAME_free(p.cast()) }
}

impl Drop for RawX509 {
    fn drop(&mut self) {
        // SAFETY: we own the X509 and free it once.
        unsafe { openssl_sys::X509_free(self.0) }
    }
}

/// What OpenSSL said about a host.
#[derive(Debug)]
enum Verdict {
    /// A match; for a DNS host, the name that matched.
    Match(Option<String>),
    NoMatch,
    /// An error return (-1 internal or malformed, -2 invalid input).
    Error(c_int),
}

/// Rule "an IP address, v4 or v6, optionally in brackets": the address inside the brackets.
fn bracketless(host: &str) -> &str {
    host.strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host)
}

/// Whether sslbridge takes `host` for an IP address (its documented rule; Rust's parser).
fn is_ip(host: &str) -> bool {
    bracketless(host).parse::<IpAddr>().is_ok()
}

fn openssl_check(x: &RawX509, host: &str) -> Verdict {
    let rv = if is_ip(host) {
        // Rule "an IP address matches only the IP addresses of the subjectAltName":
        // X509_check_ip_asc compares only iPAddress entries, never a DNS name or the CN.
        let text = CString::new(bracketless(host)).expect("an IP address has no NUL");
        // SAFETY: the X509 is live and `text` NUL-terminated.
        let rv = unsafe { openssl_sys::X509_check_ip_asc(x.0, text.as_ptr(), FLAGS) };
        if rv == 1 {
            return Verdict::Match(None);
        }
        rv
    } else {
        // Rule "ignores one trailing dot": one removed here, as from every name (`strip_dot`).
        let name = host.strip_suffix('.').unwrap_or(host);
        // NUL-terminated, because X509_check_host takes a length of 0 to mean "use strlen".
        let mut buf = name.as_bytes().to_vec();
        buf.push(0);
        let mut peer: *mut c_char = std::ptr::null_mut();
        // SAFETY: `buf` holds `name.len()` bytes and a NUL; `peer` receives an
        // OPENSSL_malloc'd copy of the matching name, which we free.
        let rv = unsafe {
            openssl_sys::X509_check_host(x.0, buf.as_ptr().cast(), name.len(), FLAGS, &mut peer)
        };
        if rv == 1 {
            let matched = (!peer.is_null()).then(|| {
                // SAFETY: OpenSSL set `peer` to a NUL-terminated string we own.
                unsafe {
                    let s = std::ffi::CStr::from_ptr(peer)
                        .to_string_lossy()
                        .into_owned();
                    openssl_sys::OPENSSL_free(peer.cast());
                    s
                }
            });
            return Verdict::Match(matched);
        }
        rv
    };
    // SAFETY: clears this thread's OpenSSL error queue.
    unsafe { openssl_sys::ERR_clear_error() };
    if rv == 0 {
        Verdict::NoMatch
    } else {
        Verdict::Error(rv)
    }
}

/// Rules "a host with an empty label, a `*` or a NUL, or whose last label is numeric matches
/// nothing" and "names must be ASCII", for a host that is not an IP address (one trailing
/// dot ignored). OpenSSL lets a `*` in the host match a literal `*` (or a wildcard) in the
/// certificate; it refuses a NUL itself.
fn matches_nothing_by_rule(host: &str) -> bool {
    let h = host.strip_suffix('.').unwrap_or(host);
    !h.is_ascii()
        || h.contains(['*', '\0'])
        || h.split('.').any(str::is_empty)
        || h.rsplit('.')
            .next()
            .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
}

/// Rule "a wildcard ... never matching an `xn--` label".
fn idna_under_wildcard(host: &str, matched: Option<&str>) -> bool {
    let first = host.split('.').next().unwrap_or("");
    matched.is_some_and(|m| m.starts_with("*."))
        && first.len() >= 4
        && first[..4].eq_ignore_ascii_case("xn--")
}

/// When sslbridge refuses a host OpenSSL accepts: the documented rule that says it must.
fn stricter_by_rule(
    ours: &Certificate,
    raw: &RawX509,
    host: &str,
    theirs: &Verdict,
) -> Option<&'static str> {
    let matched = match theirs {
        Verdict::Match(m) => m.as_deref(),
        _ => None,
    };
    if raw.san_invalid() {
        return Some("an undecodable or duplicated subjectAltName extension fails the check");
    }
    if !is_ip(host) && matches_nothing_by_rule(host) {
        return Some(
            "a host with an empty label, a `*` or a NUL, a numeric last label or non-ASCII \
             matches nothing",
        );
    }
    if idna_under_wildcard(host, matched) {
        return Some("a wildcard never matches an xn-- label");
    }
    // OpenSSL tries the CNs one by one and skips one it cannot decode.
    if !is_ip(host) && ours.dns_names().is_empty() && ours.subject_common_names().is_err() {
        return Some("a CN that does not decode makes every CN match nothing");
    }
    None
}

/// With `SSLBRIDGE_FUZZ_HOSTNAME_EXPLAIN` set, every disagreement a rule explains is printed
/// with the rule (to see which rules a corpus exercises).
fn explain() -> bool {
    static EXPLAIN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *EXPLAIN.get_or_init(|| std::env::var_os("SSLBRIDGE_FUZZ_HOSTNAME_EXPLAIN").is_some())
}

/// Checks one host against the two parsed certificates: returns the rule that explains a
/// disagreement, if there was one, and panics at a disagreement no rule explains.
fn check(
    ours: &Certificate,
    raw: &RawX509,
    normalized: &RawX509,
    host: &str,
) -> Option<&'static str> {
    let result = verify_hostname(ours, host);
    if let Err(e) = &result {
        assert!(
            matches!(e, Error::Hostname { .. }),
            "verify_hostname({host:?}) failed with {e:?}, not Error::Hostname"
        );
    }
    let theirs = openssl_check(normalized, host);
    let agree = result.is_ok() == matches!(theirs, Verdict::Match(_));
    if agree {
        return None;
    }
    // Only where sslbridge is stricter: a documented rule may refuse what OpenSSL accepts,
    // but nothing may be accepted that OpenSSL refuses.
    let rule = if result.is_err() {
        stricter_by_rule(ours, raw, host, &theirs)
    } else {
        None
    };
    if let Some(rule) = rule {
        if explain() {
            eprintln!("hostname: {host:?}: sslbridge {result:?}, OpenSSL {theirs:?}: {rule}");
        }
        return Some(rule);
    }
    panic!(
        "hostname disagreement for {host:?}: sslbridge {}, OpenSSL {theirs:?}; certificate \
         DNS {:?}, IP {:?}, CN {:?}",
        match &result {
            Ok(()) => "accepts".to_string(),
            Err(e) => format!("refuses ({e})"),
        },
        ours.dns_names(),
        ours.ip_addresses(),
        ours.subject_common_names(),
    );
}

/// The certificate an input describes, DER (for tests and the seed generator).
pub fn certificate_der(data: &[u8]) -> Vec<u8> {
    parse(data).spec(false).to_der()
}

/// Fuzz target `hostname`.
pub fn hostname(data: &[u8]) {
    explained_differences(data);
}

/// Runs the `hostname` target on `data` and returns the rules that explained a disagreement
/// between sslbridge and OpenSSL (the regression tests check that each known difference still
/// shows, so the exception goes once the library changes).
pub fn explained_differences(data: &[u8]) -> Vec<&'static str> {
    let mut rules = Vec::new();
    let description = parse(data);
    let der = description.spec(false).to_der();
    let Ok(ours) = Certificate::from_der(&der) else {
        return rules;
    };
    let raw = RawX509::of(&ours);
    // OpenSSL's view, with one trailing dot removed from every name; the same certificate
    // when no name has one.
    let normalized_der = description.spec(true).to_der();
    let normalized = if normalized_der == der {
        RawX509::of(&ours)
    } else {
        match RawX509::from_der(&normalized_der) {
            Some(x) => x,
            None => return rules,
        }
    };
    // The decoded names are the ones written, when they were written as names and the
    // extension is valid.
    let raw_extension = description
        .sans
        .iter()
        .any(|san| matches!(san, SanExtension::Raw(_)));
    if !raw_extension && !raw.san_invalid() {
        let written: Vec<&GeneralName> = description
            .sans
            .iter()
            .flat_map(|san| match san {
                SanExtension::Names(names) => names.iter().collect(),
                SanExtension::Raw(_) => Vec::new(),
            })
            .collect();
        let dns: Vec<String> = written
            .iter()
            .filter_map(|n| match n {
                GeneralName::Dns(v) => Some(String::from_utf8_lossy(v).into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(ours.dns_names(), dns, "dNSName entries");
        let ips: Vec<IpAddr> = written
            .iter()
            .filter_map(|n| match n {
                GeneralName::Ip(v) if v.len() == 4 => {
                    Some(IpAddr::from(<[u8; 4]>::try_from(&v[..]).unwrap()))
                }
                GeneralName::Ip(v) if v.len() == 16 => {
                    Some(IpAddr::from(<[u8; 16]>::try_from(&v[..]).unwrap()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(ours.ip_addresses(), ips, "iPAddress entries");
    }
    for host in description.hosts() {
        rules.extend(check(&ours, &raw, &normalized, &host));
    }
    rules.sort_unstable();
    rules.dedup();
    rules
}

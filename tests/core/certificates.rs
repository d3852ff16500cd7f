//! Certificate decoding and inspection, checked against the `openssl` binary on certificates
//! it made itself, and hostname matching over the cases of the certificates issue (cl+ssl's
//! table and then some).

use crate::common::tool_output;
use sslbridge::testing::TestPki;
use sslbridge::{verify_hostname, Certificate, Error};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------------------------------------
// Hostname matching
// ---------------------------------------------------------------------------------------------

/// A leaf: its CN, its subjectAltNames (IP if it parses, else DNS), then `(host, matches)`.
type Case = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, bool)],
);

const HOSTNAME_CASES: &[Case] = &[
    (
        "wildcard",
        &["*.example.com"],
        &[
            ("www.example.com", true),
            ("WWW.Example.COM.", true),
            ("example.com", false),
            ("a.b.example.com", false),
            ("xn--bcher-kva.example.com", false),
            (".example.com", false),
            ("www..example.com", false),
            ("www.example.org", false),
        ],
    ),
    (
        "tld wildcard",
        &["*.com"],
        &[("www.example.com", false), ("example.com", false)],
    ),
    (
        "wildcard in the middle",
        &["foo.*.example.com"],
        &[("www.example.com", false), ("foo.www.example.com", false)],
    ),
    (
        "wildcard too deep",
        &["*.www.example.com"],
        &[("www.example.com", false), ("a.www.example.com", true)],
    ),
    (
        "partial wildcards (cl+ssl accepts these; we do not)",
        &["f*.example.com", "*oo.example.com", "b*z.example.com"],
        &[("foo.example.com", false), ("baz.example.com", false)],
    ),
    (
        "exact",
        &["www.example.com"],
        &[
            ("www.example.com", true),
            ("WWW.Example.COM.", true),
            ("www.example.com..", false),
            ("example.com", false),
            ("", false),
            (".", false),
        ],
    ),
    (
        "idna",
        &["xn--bcher-kva.example.com"],
        &[
            ("xn--bcher-kva.example.com", true),
            ("XN--BCHER-KVA.example.com", true),
        ],
    ),
    (
        "localhost",
        &["127.0.0.1", "::1"],
        &[
            ("127.0.0.1", true),
            ("::1", true),
            ("[::1]", true),
            ("0:0:0:0:0:0:0:1", true),
            ("888.0.0.8", false),
            ("127.0.0.2", false),
            ("::2", false),
            // No DNS SAN, so the CN is consulted for DNS names.
            ("localhost", true),
        ],
    ),
    (
        "cn.example.com",
        &["san.example.com"],
        &[
            // A DNS SAN exists, so the CN is ignored.
            ("cn.example.com", false),
            ("san.example.com", true),
        ],
    ),
    (
        "cn-only.example.com",
        &[],
        &[("cn-only.example.com", true), ("other.example.com", false)],
    ),
    (
        "IP addresses match only IP SANs",
        &["10.0.0.1", "dns.example.com"],
        &[
            ("10.0.0.1", true),
            ("10.0.0.2", false),
            ("dns.example.com", true),
        ],
    ),
    ("10.0.0.9", &[], &[("10.0.0.9", false)]),
];

fn leaf(pki: &TestPki, cn: &str, names: &[&str]) -> Certificate {
    let builder = names
        .iter()
        .fold(pki.leaf(cn), |b, name| match name.parse::<IpAddr>() {
            Ok(ip) => b.ip_address(ip),
            Err(_) => b.dns_name(name),
        });
    let leaf = builder
        .build()
        .unwrap_or_else(|e| panic!("building {cn:?}: {e}"));
    Certificate::from_pem(&leaf.cert_pem).unwrap()
}

#[test]
fn hostname_table() {
    let pki = TestPki::new().unwrap();
    let mut failures = Vec::new();
    for (cn, names, hosts) in HOSTNAME_CASES {
        let cert = leaf(&pki, cn, names);
        for &(host, expected) in hosts.iter() {
            let got = verify_hostname(&cert, host);
            if got.is_ok() != expected {
                failures.push(format!(
                    "{cn} {names:?} vs {host:?}: expected {expected}, got {got:?}"
                ));
            }
            if let Err(e) = got {
                assert!(matches!(e, Error::Hostname { .. }), "{host:?}: {e:?}");
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_dns_san_that_looks_like_an_ip_does_not_match_the_ip() {
    let pki = TestPki::new().unwrap();
    // `dns_name` puts the text in a DNS entry even though it reads as an address.
    let leaf = pki.leaf("127.0.0.1").dns_name("127.0.0.1").build().unwrap();
    let cert = Certificate::from_pem(&leaf.cert_pem).unwrap();
    assert_eq!(cert.dns_names(), ["127.0.0.1"]);
    assert!(cert.ip_addresses().is_empty());
    assert!(verify_hostname(&cert, "127.0.0.1").is_err());
}

#[test]
fn hostname_error_lists_the_presented_names() {
    let pki = TestPki::new().unwrap();
    let cert = leaf(&pki, "cn.example.com", &["a.example.com", "10.1.2.3"]);
    match verify_hostname(&cert, "b.example.com") {
        Err(Error::Hostname {
            hostname,
            presented,
        }) => {
            assert_eq!(hostname, "b.example.com");
            assert!(presented.contains("DNS:a.example.com"), "{presented}");
            assert!(presented.contains("IP:10.1.2.3"), "{presented}");
        }
        other => panic!("expected Error::Hostname, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Inspection against the openssl binary
// ---------------------------------------------------------------------------------------------

/// A scratch directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!(
            "sslbridge-certificates-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(args: &[&str]) -> String {
    let out = tool_output(Command::new("openssl").args(args));
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of `key=value` in `openssl x509 -noout` output.
fn field(output: &str, key: &str) -> String {
    output
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in {output:?}"))
        .trim()
        .to_string()
}

/// `openssl req -x509` with a fresh P-256 key, into `dir/name.pem`.
fn make_cert(dir: &TempDir, name: &str, subject: &str, extra: &[&str]) -> PathBuf {
    let cert = dir.path(&format!("{name}.pem"));
    let key = dir.path(&format!("{name}.key"));
    let mut args = vec![
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-utf8",
        "-subj",
        subject,
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    openssl(&args);
    cert
}

fn x509(cert: &Path, args: &[&str]) -> String {
    let mut all = vec!["x509", "-in", cert.to_str().unwrap(), "-noout"];
    all.extend_from_slice(args);
    openssl(&all)
}

/// Parses `Nov 26 20:09:47 2026 GMT` (what `openssl x509 -dates` prints).
fn parse_openssl_date(s: &str) -> SystemTime {
    let parts: Vec<&str> = s.split_whitespace().collect();
    assert_eq!(parts.len(), 5, "{s:?}");
    assert_eq!(parts[4], "GMT");
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == parts[0]).unwrap() as i64 + 1;
    let day: i64 = parts[1].parse().unwrap();
    let year: i64 = parts[3].parse().unwrap();
    let hms: Vec<i64> = parts[2].split(':').map(|x| x.parse().unwrap()).collect();
    let secs = days_from_civil(year, month, day) * 86_400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn hex_colon(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Every digest, by the flag `openssl x509 -fingerprint` takes (and `Digest` parses).
const DIGESTS: [&str; 5] = ["sha1", "sha256", "sha384", "sha512", "md5"];

/// Compares everything `Certificate` reports with what `openssl x509` says.
fn check_against_openssl(path: &Path) -> Certificate {
    let cert = Certificate::from_file(path).unwrap();

    let names = x509(
        path,
        &["-subject", "-issuer", "-nameopt", "oneline,-esc_msb"],
    );
    assert_eq!(cert.subject_name(), field(&names, "subject"));
    assert_eq!(cert.issuer_name(), field(&names, "issuer"));

    let dates = x509(path, &["-dates"]);
    assert_eq!(
        cert.not_before(),
        parse_openssl_date(&field(&dates, "notBefore"))
    );
    assert_eq!(
        cert.not_after(),
        parse_openssl_date(&field(&dates, "notAfter"))
    );

    for name in DIGESTS {
        let out = x509(path, &["-fingerprint", &format!("-{name}")]);
        let expected = field(&out, &format!("{name} Fingerprint"));
        let got = cert.fingerprint(name.parse().unwrap());
        assert_eq!(hex_colon(&got), expected, "{name}");
    }

    let serial = field(&x509(path, &["-serial"]), "serial");
    let got: String = cert
        .serial_number()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    assert_eq!(got, serial);
    cert
}

/// The subjectAltName entries `openssl x509 -ext subjectAltName` prints.
fn openssl_sans(path: &Path) -> (Vec<String>, Vec<IpAddr>) {
    let out = x509(path, &["-ext", "subjectAltName"]);
    let (mut dns, mut ips) = (Vec::new(), Vec::new());
    for entry in out.lines().skip(1).flat_map(|l| l.split(',')) {
        let entry = entry.trim();
        if let Some(d) = entry.strip_prefix("DNS:") {
            dns.push(d.to_string());
        } else if let Some(ip) = entry.strip_prefix("IP Address:") {
            ips.push(ip.parse().unwrap());
        }
    }
    (dns, ips)
}

#[test]
fn inspection_matches_openssl() {
    let dir = TempDir::new();
    let path = make_cert(
        &dir,
        "server",
        "/CN=www.example.com/O=Example Org/C=US",
        &[
            "-days",
            "30",
            "-addext",
            "subjectAltName=DNS:www.example.com,DNS:*.example.org,IP:127.0.0.1,IP:::1,IP:2001:db8::7",
        ],
    );
    let cert = check_against_openssl(&path);
    assert_eq!(cert.subject_common_names().unwrap(), ["www.example.com"]);
    assert_eq!(
        cert.subject_name(),
        "CN = www.example.com, O = Example Org, C = US"
    );

    let (dns, ips) = openssl_sans(&path);
    assert_eq!(dns, ["www.example.com", "*.example.org"]);
    assert_eq!(cert.dns_names(), dns);
    assert_eq!(cert.ip_addresses(), ips);
    assert_eq!(ips.len(), 3);
    assert!(verify_hostname(&cert, "2001:db8::7").is_ok());
    assert!(verify_hostname(&cert, "a.example.org").is_ok());

    let now = SystemTime::now();
    assert!(cert.not_before() <= now + Duration::from_secs(5));
    let thirty_days = cert.not_after().duration_since(cert.not_before()).unwrap();
    assert_eq!(thirty_days, Duration::from_secs(30 * 86_400));
}

#[test]
fn issuer_differs_from_subject_for_a_signed_leaf() {
    let dir = TempDir::new();
    let ca = make_cert(&dir, "ca", "/CN=Test CA/O=sslbridge", &["-days", "10"]);
    let csr = dir.path("leaf.csr");
    let key = dir.path("leaf.key");
    openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=leaf.example.com",
        "-keyout",
        key.to_str().unwrap(),
        "-out",
        csr.to_str().unwrap(),
    ]);
    let leaf = dir.path("leaf.pem");
    openssl(&[
        "x509",
        "-req",
        "-in",
        csr.to_str().unwrap(),
        "-CA",
        ca.to_str().unwrap(),
        "-CAkey",
        dir.path("ca.key").to_str().unwrap(),
        "-set_serial",
        "0x00ff00112233445566778899aabbccddeeff",
        "-days",
        "5",
        "-out",
        leaf.to_str().unwrap(),
    ]);
    let cert = check_against_openssl(&leaf);
    assert_eq!(cert.issuer_name(), "CN = Test CA, O = sslbridge");
    assert_eq!(cert.subject_name(), "CN = leaf.example.com");
    assert_eq!(cert.serial_number()[0], 0xff);
    assert!(cert.dns_names().is_empty() && cert.ip_addresses().is_empty());
}

#[test]
fn valid_until_2060_uses_generalized_time() {
    let dir = TempDir::new();
    // Enough days from now to end in 2060, whatever today is.
    let end_2060 = UNIX_EPOCH + Duration::from_secs(days_from_civil(2060, 6, 1) as u64 * 86_400);
    let days = end_2060
        .duration_since(SystemTime::now())
        .unwrap()
        .as_secs()
        / 86_400;
    let path = make_cert(
        &dir,
        "far",
        "/CN=far.example.com",
        &["-days", &days.to_string()],
    );
    let der = openssl(&["asn1parse", "-in", path.to_str().unwrap()]);
    assert!(der.contains("GENERALIZEDTIME"), "{der}");
    let cert = check_against_openssl(&path);
    let year_2060 = UNIX_EPOCH + Duration::from_secs(days_from_civil(2060, 1, 1) as u64 * 86_400);
    assert!(cert.not_after() > year_2060);
    assert!(cert.not_after() < end_2060 + Duration::from_secs(86_400));
}

#[test]
fn common_names_in_every_string_type_made_by_openssl() {
    let dir = TempDir::new();
    // string_mask picks the ASN.1 type `openssl req` encodes the CN in. UniversalString is
    // outside what OpenSSL allows for a CN, so the unit tests cover it with a crafted name.
    let cases = [
        ("utf8only", "UTF8STRING", "Zoë 日本 𝄞"),
        ("MASK:0x2", "PRINTABLESTRING", "Plain Name"),
        ("MASK:0x4", "T61STRING", "Zoë"),
        ("MASK:0x800", "BMPSTRING", "日本 Zoë"),
    ];
    for (i, (mask, asn1_type, cn)) in cases.iter().enumerate() {
        let config = dir.path(&format!("req{i}.cnf"));
        std::fs::write(
            &config,
            format!("[req]\ndistinguished_name = dn\nstring_mask = {mask}\n[dn]\n"),
        )
        .unwrap();
        let path = make_cert(
            &dir,
            &format!("cn{i}"),
            &format!("/CN={cn}"),
            &["-config", config.to_str().unwrap(), "-days", "1"],
        );
        let parsed = openssl(&["asn1parse", "-in", path.to_str().unwrap()]);
        let cn_line = parsed
            .lines()
            .skip_while(|l| !l.contains(":commonName"))
            .nth(1)
            .unwrap();
        assert!(cn_line.contains(asn1_type), "{mask}: {cn_line}");
        let cert = Certificate::from_file(&path).unwrap();
        assert_eq!(cert.subject_common_names().unwrap(), [*cn], "{asn1_type}");
        assert_eq!(cert.subject_name(), format!("CN = {cn}"), "{asn1_type}");
    }
}

#[test]
fn from_file_reads_pem_and_der() {
    let dir = TempDir::new();
    let pem_path = make_cert(&dir, "c", "/CN=files.example.com", &["-days", "2"]);
    let der_path = dir.path("c.der");
    openssl(&[
        "x509",
        "-in",
        pem_path.to_str().unwrap(),
        "-outform",
        "DER",
        "-out",
        der_path.to_str().unwrap(),
    ]);
    let from_pem = Certificate::from_file(&pem_path).unwrap();
    let from_der = Certificate::from_file(&der_path).unwrap();
    let der = std::fs::read(&der_path).unwrap();
    assert_eq!(from_pem.to_der().unwrap(), der);
    assert_eq!(from_der.to_der().unwrap(), der);
    assert_eq!(
        from_der.to_pem().unwrap(),
        std::fs::read(&pem_path).unwrap()
    );
    // The extension does not matter; the content decides.
    let misnamed = dir.path("really-der.pem");
    std::fs::write(&misnamed, &der).unwrap();
    assert_eq!(
        Certificate::from_file(&misnamed).unwrap().to_der().unwrap(),
        der
    );
    // A key file before the certificate in one PEM file is skipped.
    let mut key_then_cert = std::fs::read(dir.path("c.key")).unwrap();
    key_then_cert.extend_from_slice(&std::fs::read(&pem_path).unwrap());
    let combined = dir.path("combined.pem");
    std::fs::write(&combined, key_then_cert).unwrap();
    assert_eq!(
        Certificate::from_file(&combined).unwrap().to_der().unwrap(),
        der
    );

    assert!(matches!(
        Certificate::from_file(dir.path("missing.pem")),
        Err(Error::InvalidArgument(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Malformed input
// ---------------------------------------------------------------------------------------------

/// A deterministic xorshift stream, so a failure reproduces.
fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let pki = TestPki::new().unwrap();
    let leaf = pki.server(&["localhost"]).unwrap();
    let der = leaf.cert_der();

    assert!(Certificate::from_pem(b"").is_err());
    assert!(Certificate::from_der(b"").is_err());
    for cut in [1, 4, der.len() / 3, der.len() - 1] {
        assert!(
            Certificate::from_der(&der[..cut]).is_err(),
            "truncated at {cut}"
        );
    }
    let mut trailing = der.clone();
    trailing.extend_from_slice(b"garbage");
    assert!(matches!(
        Certificate::from_der(&trailing),
        Err(Error::InvalidArgument(_))
    ));
    for seed in 1..200u64 {
        let bytes = pseudo_random(seed, (seed as usize * 7) % 2000);
        assert!(Certificate::from_der(&bytes).is_err(), "seed {seed}");
        assert!(Certificate::from_pem(&bytes).is_err(), "seed {seed}");
    }
    // A DER certificate with flipped bytes either fails or decodes; never panics.
    for i in (0..der.len()).step_by(7) {
        let mut bent = der.clone();
        bent[i] ^= 0x5a;
        if let Ok(cert) = Certificate::from_der(&bent) {
            let _ = (cert.subject_name(), cert.dns_names(), cert.not_after());
            let _ = (cert.subject_common_names(), cert.serial_number());
        }
    }

    let garbage_pem =
        b"-----BEGIN CERTIFICATE-----\nThis is *not* base64 @@@@\n-----END CERTIFICATE-----\n";
    assert!(Certificate::from_pem(garbage_pem).is_err());
    let truncated_pem = &leaf.cert_pem[..leaf.cert_pem.len() / 2];
    assert!(Certificate::from_pem(truncated_pem).is_err());
    let wrong_body = b"-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
    assert!(Certificate::from_pem(wrong_body).is_err());

    let key = Certificate::from_pem(&leaf.key_pem);
    match key {
        Err(Error::Ssl(stack)) => {
            assert!(
                stack.to_string().contains("not a valid PEM certificate"),
                "{stack}"
            )
        }
        other => panic!("a private key decoded as a certificate: {other:?}"),
    }
    assert!(Certificate::stack_from_pem(&leaf.key_pem).is_err());
    assert!(Certificate::from_der(&leaf.key_der()).is_err());
}

#[test]
fn malformed_files_are_errors() {
    let dir = TempDir::new();
    let pki = TestPki::new().unwrap();
    let leaf = pki.server(&["localhost"]).unwrap();
    let cases: [(&str, &[u8]); 4] = [
        ("empty.pem", b""),
        ("key.pem", &leaf.key_pem),
        ("truncated.der", &leaf.cert_der()[..100]),
        ("random.bin", &pseudo_random(42, 512)),
    ];
    for (name, bytes) in cases {
        let path = dir.path(name);
        std::fs::write(&path, bytes).unwrap();
        let err = Certificate::from_file(&path).unwrap_err();
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
}

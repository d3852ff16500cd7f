//! Unit tests of the test PKI. Most check the certificates and keys with the `openssl`
//! command-line tool (which must be installed), so they test the output, not the code path.

use super::*;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, UNIX_EPOCH};

/// A file under the temp dir with a unique name, deleted on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(label: &str, contents: &[u8]) -> TempFile {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let path = std::env::temp_dir().join(format!(
            "sslbridge-pki-{}-{n}-{nanos}-{label}",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }

    /// The path as a command-line argument (the temp dir is UTF-8 here).
    fn arg(&self) -> &str {
        self.0.to_str().expect("non-UTF-8 temp dir")
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Runs the `openssl` binary; returns whether it succeeded and its stdout + stderr.
fn openssl(args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("the openssl command-line tool must be installed to run these tests");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// `openssl verify -CAfile root -untrusted intermediate [extra..] leaf`.
fn verify(pki: &TestPki, leaf: &CertifiedKey, extra: &[&str]) -> (bool, String) {
    let root = TempFile::new("root.pem", &pki.root_pem());
    let inter = TempFile::new("inter.pem", &pki.intermediate_pem());
    let cert = TempFile::new("leaf.pem", &leaf.cert_pem);
    let mut args = vec!["verify", "-CAfile", root.arg(), "-untrusted", inter.arg()];
    args.extend_from_slice(extra);
    args.push(cert.arg());
    openssl(&args)
}

/// `openssl x509 -noout <args> -in cert`.
fn x509_text(pem: &[u8], args: &[&str]) -> String {
    let cert = TempFile::new("x509.pem", pem);
    let mut all = vec!["x509", "-noout"];
    all.extend_from_slice(args);
    all.extend(["-in", cert.arg()]);
    let (ok, text) = openssl(&all);
    assert!(ok, "openssl x509 failed: {text}");
    text
}

fn pem_count(pem: &[u8]) -> usize {
    String::from_utf8_lossy(pem)
        .matches("-----BEGIN CERTIFICATE-----")
        .count()
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn test_pki_is_send_sync() {
    fn check<T: Send + Sync + 'static>() {}
    check::<TestPki>();
    check::<CertifiedKey>();
    check::<LeafBuilder<'static>>();
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn server_certificate_verifies_with_chain_purpose_and_names() {
    let pki = TestPki::new().unwrap();
    let server = pki.server(&["localhost", "127.0.0.1", "::1"]).unwrap();
    let (ok, text) = verify(&pki, &server, &[]);
    assert!(ok && text.contains(": OK"), "{text}");
    let (ok, text) = verify(
        &pki,
        &server,
        &["-purpose", "sslserver", "-verify_hostname", "localhost"],
    );
    assert!(ok, "{text}");
    let (ok, text) = verify(&pki, &server, &["-verify_ip", "::1"]);
    assert!(ok, "{text}");
    let (ok, text) = verify(&pki, &server, &["-verify_hostname", "example.com"]);
    assert!(!ok && text.contains("hostname mismatch"), "{text}");

    assert!(server.cert_pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
    assert!(server.chain_pem.starts_with(&server.cert_pem));
    assert!(server.chain_pem.ends_with(&pki.intermediate_pem()));
    assert_eq!(pem_count(&server.chain_pem), 2);
    assert!(server.key_pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));

    let text = x509_text(&server.cert_pem, &["-subject", "-issuer", "-text"]);
    assert!(text.contains("CN = localhost"), "{text}");
    assert!(text.contains("O = sslbridge test"), "{text}");
    assert!(
        text.contains("CN = sslbridge test intermediate CA"),
        "{text}"
    );
    assert!(text.contains("Version: 3 (0x2)"), "{text}");
    assert!(text.contains("ecdsa-with-SHA256"), "{text}");
    assert!(text.contains("prime256v1"), "{text}");
    assert!(text.contains("CA:FALSE"), "{text}");
    assert!(text.contains("Digital Signature"), "{text}");
    assert!(!text.contains("Key Encipherment"), "{text}");
    assert!(
        text.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
        "{text}"
    );
    assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
    assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn subject_alt_names_hold_dns_and_ip_entries() {
    let pki = TestPki::new().unwrap();
    let server = pki
        .server(&["localhost", "127.0.0.1", "::1", "*.example.com"])
        .unwrap();
    let text = x509_text(&server.cert_pem, &["-ext", "subjectAltName"]);
    assert!(text.contains("DNS:localhost"), "{text}");
    assert!(text.contains("IP Address:127.0.0.1"), "{text}");
    assert!(text.contains("IP Address:0:0:0:0:0:0:0:1"), "{text}");
    assert!(text.contains("DNS:*.example.com"), "{text}");
    assert!(!text.contains("DNS:127.0.0.1"), "{text}");

    let built = pki
        .leaf("x")
        .ip_address("fe80::1:2".parse().unwrap())
        .dns_name("a.example")
        .build()
        .unwrap();
    let text = x509_text(&built.cert_pem, &["-ext", "subjectAltName"]);
    assert!(text.contains("IP Address:FE80:0:0:0:0:0:1:2"), "{text}");
    assert!(text.contains("DNS:a.example"), "{text}");
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn expired_and_not_yet_valid_fail_verification() {
    let pki = TestPki::new().unwrap();
    let (ok, text) = verify(&pki, &pki.expired(&["localhost"]).unwrap(), &[]);
    assert!(!ok && text.contains("certificate has expired"), "{text}");
    let (ok, text) = verify(&pki, &pki.not_yet_valid(&["localhost"]).unwrap(), &[]);
    assert!(
        !ok && text.contains("certificate is not yet valid"),
        "{text}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn untrusted_and_self_signed_fail_verification() {
    let pki = TestPki::new().unwrap();
    let untrusted = pki.untrusted(&["localhost"]).unwrap();
    assert_eq!(untrusted.chain_pem, untrusted.cert_pem);
    let (ok, text) = verify(&pki, &untrusted, &[]);
    assert!(!ok, "{text}");
    let text = x509_text(&untrusted.cert_pem, &["-issuer"]);
    assert!(text.contains("sslbridge untrusted root CA"), "{text}");
    // It does verify against its own root.
    let other = TestPki {
        root: pki.untrusted_root.clone(),
        ..pki.clone()
    };
    assert_eq!(other.root_pem(), pki.untrusted_root_pem());
    let (ok, text) = verify(&other, &untrusted, &[]);
    assert!(ok, "{text}");

    let self_signed = pki.self_signed(&["localhost"]).unwrap();
    assert_eq!(self_signed.chain_pem, self_signed.cert_pem);
    let (ok, text) = verify(&pki, &self_signed, &[]);
    assert!(!ok, "{text}");
    let text = x509_text(&self_signed.cert_pem, &["-subject", "-issuer", "-text"]);
    let subject = text.lines().find(|l| l.starts_with("subject=")).unwrap();
    let issuer = text.lines().find(|l| l.starts_with("issuer=")).unwrap();
    assert_eq!(subject["subject=".len()..], issuer["issuer=".len()..]);
    assert!(text.contains("CA:FALSE"), "{text}");
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn issued_by_root_verifies_and_sends_no_intermediate() {
    let pki = TestPki::new().unwrap();
    let leaf = pki.leaf("direct").issued_by_root().build().unwrap();
    assert_eq!(leaf.chain_pem, leaf.cert_pem);
    let (ok, text) = verify(&pki, &leaf, &[]);
    assert!(ok, "{text}");
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn client_and_without_server_auth_have_client_eku_only() {
    let pki = TestPki::new().unwrap();
    let client = pki.client("alice").unwrap();
    let text = x509_text(&client.cert_pem, &["-text"]);
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert!(!text.contains("TLS Web Server Authentication"), "{text}");
    assert!(!text.contains("Subject Alternative Name"), "{text}");
    assert!(verify(&pki, &client, &["-purpose", "sslclient"]).0);
    let (ok, text) = verify(&pki, &client, &["-purpose", "sslserver"]);
    assert!(
        !ok && text.contains("unsuitable certificate purpose"),
        "{text}"
    );

    let no_server = pki.without_server_auth(&["localhost"]).unwrap();
    let (ok, text) = verify(&pki, &no_server, &["-purpose", "sslserver"]);
    assert!(
        !ok && text.contains("unsuitable certificate purpose"),
        "{text}"
    );
    let text = x509_text(&no_server.cert_pem, &["-ext", "subjectAltName"]);
    assert!(text.contains("DNS:localhost"), "{text}");

    let any = pki.leaf("any").extended_key_usage(&[]).build().unwrap();
    let text = x509_text(&any.cert_pem, &["-text"]);
    assert!(!text.contains("Extended Key Usage"), "{text}");
    assert!(verify(&pki, &any, &["-purpose", "sslserver"]).0);
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn cn_only_has_no_subject_alt_name() {
    let pki = TestPki::new().unwrap();
    let leaf = pki.cn_only("legacy.example").unwrap();
    let text = x509_text(&leaf.cert_pem, &["-subject", "-text"]);
    assert!(text.contains("CN = legacy.example"), "{text}");
    assert!(!text.contains("Subject Alternative Name"), "{text}");
    assert!(verify(&pki, &leaf, &[]).0);
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn encrypted_key_decrypts_with_its_password_only() {
    let pki = TestPki::new().unwrap();
    let server = pki.server(&["localhost"]).unwrap();
    let encrypted = server.encrypted_key_pem("s3cret pass").unwrap();
    assert!(encrypted.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let file = TempFile::new("enc.pem", &encrypted);
    let path = file.arg();
    let (ok, text) = openssl(&["pkey", "-in", path, "-passin", "pass:s3cret pass"]);
    assert!(ok, "{text}");
    assert!(text.contains("-----BEGIN PRIVATE KEY-----"), "{text}");
    let (ok, _) = openssl(&["pkey", "-in", path, "-passin", "pass:wrong"]);
    assert!(!ok);
    let (ok, text) = openssl(&["asn1parse", "-in", path]);
    assert!(ok && text.contains("aes-256-cbc"), "{text}");

    // And in-process, through the crate's own key loader (PEM_read_bio_PrivateKey with a
    // password callback); without the password, or with another one, it fails.
    let password = |_writing: bool| b"s3cret pass".to_vec();
    let key = load_private_key(&encrypted, Some(&password)).unwrap();
    assert_eq!(keys::pkcs8_pem(&key).unwrap(), server.key_pem);
    assert!(load_private_key(&encrypted, None).is_err());
    let wrong = |_writing: bool| b"wrong".to_vec();
    assert!(load_private_key(&encrypted, Some(&wrong)).is_err());

    assert!(matches!(
        server.encrypted_key_pem(""),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn validity_after_2050_uses_generalized_time() {
    let pki = TestPki::new().unwrap();
    // 2051-06-01T00:00:00Z.
    let end = UNIX_EPOCH + Duration::from_secs(2_569_190_400);
    let leaf = pki
        .leaf("future")
        .validity(SystemTime::now() - DAY, end)
        .build()
        .unwrap();
    let text = x509_text(&leaf.cert_pem, &["-enddate"]);
    assert!(text.contains("notAfter=Jun  1 00:00:00 2051 GMT"), "{text}");
    let file = TempFile::new("future.pem", &leaf.cert_pem);
    let (ok, text) = openssl(&["asn1parse", "-in", file.arg()]);
    assert!(ok, "{text}");
    assert!(text.contains("GENERALIZEDTIME"), "{text}");
    assert!(text.contains("UTCTIME"), "{text}");
    assert!(verify(&pki, &leaf, &[]).0);
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn rsa_leaves_work() {
    let pki = TestPki::new().unwrap();
    let leaf = pki
        .leaf("rsa.example")
        .dns_name("rsa.example")
        .key_type(KeyType::Rsa2048)
        .build()
        .unwrap();
    let (ok, text) = verify(&pki, &leaf, &["-verify_hostname", "rsa.example"]);
    assert!(ok, "{text}");
    let text = x509_text(&leaf.cert_pem, &["-text"]);
    assert!(text.contains("rsaEncryption"), "{text}");
    assert!(text.contains("(2048 bit)"), "{text}");
    assert!(
        text.contains("Digital Signature, Key Encipherment"),
        "{text}"
    );
    assert!(text.contains("ecdsa-with-SHA256"), "{text}");
    assert!(leaf.key_pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));
    let key = TempFile::new("rsa-key.pem", &leaf.key_pem);
    let (ok, text) = openssl(&["pkey", "-in", key.arg(), "-noout", "-text"]);
    assert!(ok && text.contains("Private-Key: (2048 bit"), "{text}");
    let encrypted = leaf.encrypted_key_pem("pw").unwrap();
    let file = TempFile::new("rsa-enc.pem", &encrypted);
    let (ok, text) = openssl(&["pkey", "-in", file.arg(), "-passin", "pass:pw", "-noout"]);
    assert!(ok, "{text}");
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn ca_certificates_have_the_documented_shape() {
    let pki = TestPki::new().unwrap();
    let root = x509_text(&pki.root_pem(), &["-subject", "-issuer", "-text"]);
    assert!(
        root.contains("subject=O = sslbridge test, CN = sslbridge test root CA"),
        "{root}"
    );
    assert!(
        root.contains("issuer=O = sslbridge test, CN = sslbridge test root CA"),
        "{root}"
    );
    assert!(
        root.contains("critical\n                CA:TRUE\n"),
        "{root}"
    );
    assert!(root.contains("Certificate Sign, CRL Sign"), "{root}");
    assert!(root.contains("X509v3 Subject Key Identifier"), "{root}");

    let inter = x509_text(&pki.intermediate_pem(), &["-subject", "-issuer", "-text"]);
    assert!(
        inter.contains("CN = sslbridge test intermediate CA"),
        "{inter}"
    );
    assert!(
        inter.contains("issuer=O = sslbridge test, CN = sslbridge test root CA"),
        "{inter}"
    );
    assert!(inter.contains("CA:TRUE, pathlen:0"), "{inter}");
    assert!(inter.contains("X509v3 Authority Key Identifier"), "{inter}");

    let untrusted = x509_text(&pki.untrusted_root_pem(), &["-subject"]);
    assert!(
        untrusted.contains("CN = sslbridge untrusted root CA"),
        "{untrusted}"
    );

    let dates = x509_text(&pki.root_pem(), &["-startdate", "-enddate"]);
    let year = |prefix: &str| -> u32 {
        let line = dates.lines().find(|l| l.starts_with(prefix)).unwrap();
        line.split_whitespace()
            .rev()
            .nth(1)
            .unwrap()
            .parse()
            .unwrap()
    };
    assert!(year("notAfter=") - year("notBefore=") >= 9, "{dates}");

    // The intermediate verifies against the root; the DER form matches the PEM.
    let root_file = TempFile::new("root.pem", &pki.root_pem());
    let inter_file = TempFile::new("inter.pem", &pki.intermediate_pem());
    let (ok, text) = openssl(&["verify", "-CAfile", root_file.arg(), inter_file.arg()]);
    assert!(ok, "{text}");
    let der = Certificate::from_pem(&pki.root_pem())
        .unwrap()
        .to_der()
        .unwrap();
    assert_eq!(der, pki.root_der());
    assert_eq!(der[0], 0x30);
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn every_test_pki_is_fresh() {
    let a = TestPki::new().unwrap();
    let b = TestPki::new().unwrap();
    assert_ne!(a.root_der(), b.root_der());
    let leaf = b.server(&["localhost"]).unwrap();
    let (ok, text) = verify(&a, &leaf, &[]);
    assert!(!ok, "{text}");
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn serial_and_der_forms() {
    let pki = TestPki::new().unwrap();
    let leaf = pki
        .leaf("serial")
        .serial(0x1234_5678_9abc_def0)
        .build()
        .unwrap();
    let text = x509_text(&leaf.cert_pem, &["-serial"]);
    assert!(text.contains("serial=123456789ABCDEF0"), "{text}");
    let high = pki.leaf("high").serial(u64::MAX).build().unwrap();
    let text = x509_text(&high.cert_pem, &["-serial"]);
    assert!(text.contains("serial=FFFFFFFFFFFFFFFF"), "{text}");

    let cert_der = TempFile::new("cert.der", &leaf.cert_der());
    let (ok, text) = openssl(&[
        "x509",
        "-inform",
        "DER",
        "-noout",
        "-subject",
        "-in",
        cert_der.arg(),
    ]);
    assert!(ok && text.contains("CN = serial"), "{text}");
    let key_der = TempFile::new("key.der", &leaf.key_der());
    let (ok, text) = openssl(&["pkey", "-inform", "DER", "-in", key_der.arg()]);
    assert!(ok && text.contains("-----BEGIN PRIVATE KEY-----"), "{text}");
    // PKCS#8: SEQUENCE { INTEGER 0, AlgorithmIdentifier { id-ecPublicKey ... } ... }.
    let key_der = leaf.key_der();
    assert_eq!(key_der[0], 0x30);
    let ec_oid = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    assert!(key_der.windows(ec_oid.len()).any(|w| w == ec_oid));
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn invalid_arguments_are_rejected() {
    let pki = TestPki::new().unwrap();
    let invalid = |r: Result<CertifiedKey, Error>| matches!(r, Err(Error::InvalidArgument(_)));
    assert!(invalid(pki.server(&[])));
    assert!(invalid(pki.expired(&[])));
    assert!(invalid(
        pki.leaf("x").dns_name("a,DNS:evil.example").build()
    ));
    assert!(invalid(pki.leaf("x").dns_name("").build()));
    assert!(invalid(pki.leaf("x").dns_name("has space").build()));
    assert!(invalid(pki.leaf("x").serial(0).build()));
    let now = SystemTime::now();
    assert!(invalid(pki.leaf("x").validity(now, now - DAY).build()));
    assert!(invalid(
        pki.leaf("x").validity(UNIX_EPOCH - DAY, now).build()
    ));
    // Too long for a CN (ub-common-name is 64): OpenSSL's own error comes through.
    let long = "a".repeat(65);
    assert!(matches!(pki.server(&[&long]), Err(Error::Ssl(_))));
}

#[test]
#[cfg_attr(miri, ignore = "calls into OpenSSL")]
fn usable_from_many_threads() {
    let pki = std::sync::Arc::new(TestPki::new().unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let pki = pki.clone();
            std::thread::spawn(move || pki.server(&[&format!("host{i}.example")]).unwrap())
        })
        .collect();
    for handle in handles {
        let leaf = handle.join().unwrap();
        assert!(verify(&pki, &leaf, &[]).0);
    }
}

//! `certificate`: parsing (DER, PEM, PEM stacks), every inspector, DER/PEM round trips and
//! hostname checks on whatever the input decodes to.

use sslbridge::{Certificate, Digest};

/// Fuzz target `certificate`: parsing (DER, PEM, PEM stacks) and every inspector.
pub fn certificate(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let certs = match selector % 3 {
        0 => Certificate::from_der(bytes).into_iter().collect(),
        1 => Certificate::from_pem(bytes).into_iter().collect(),
        _ => Certificate::stack_from_pem(bytes).unwrap_or_default(),
    };
    for cert in certs {
        inspect_certificate(&cert, selector);
    }
}

fn inspect_certificate(cert: &Certificate, selector: u8) {
    let subject = cert.subject_name();
    let _ = cert.issuer_name();
    let common_names = cert.subject_common_names().unwrap_or_default();
    let dns = cert.dns_names();
    let ips = cert.ip_addresses();
    let _ = (cert.not_before(), cert.not_after());
    for digest in [
        Digest::Sha1,
        Digest::Sha256,
        Digest::Sha384,
        Digest::Sha512,
        Digest::Md5,
    ] {
        let _ = cert.fingerprint(digest);
    }
    let _ = cert.serial_number();

    // Serialising what was parsed must parse back to the same certificate.
    let der = cert
        .to_der()
        .expect("a parsed certificate serialises to DER");
    let again = Certificate::from_der(&der).expect("to_der output parses");
    assert_eq!(again.to_der().expect("to_der"), der, "DER round trip");
    let pem = cert
        .to_pem()
        .expect("a parsed certificate serialises to PEM");
    let from_pem = Certificate::from_pem(&pem).expect("to_pem output parses");
    assert_eq!(from_pem.to_der().expect("to_der"), der, "PEM round trip");
    assert_eq!(from_pem.subject_name(), subject);

    // Hostname checks against names the certificate presents, and variations of them.
    let mut hosts: Vec<String> = dns.iter().chain(common_names.iter()).cloned().collect();
    hosts.extend(ips.iter().map(|ip| ip.to_string()));
    let derived: Vec<String> = hosts
        .iter()
        .flat_map(|h| {
            [
                format!("x.{h}"),
                h.trim_start_matches("*.").to_string(),
                h.replace('*', "a"),
                h.to_uppercase(),
                format!("{h}."),
            ]
        })
        .collect();
    hosts.extend(derived);
    hosts.extend(["localhost", "127.0.0.1", "::1", "", "*", "a..b", "[::1]"].map(String::from));
    hosts.push(String::from_utf8_lossy(&[selector, b'.', b'c', b'o', b'm']).into_owned());
    for host in hosts.iter().take(64) {
        let _ = sslbridge::verify_hostname(cert, host);
    }
}

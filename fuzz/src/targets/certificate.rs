//! `certificate`: parsing (DER, PEM, PEM stacks), every inspector, DER/PEM round trips and
//! hostname checks on whatever the input decodes to; and the same bytes as a connection's
//! certificate chain and private key.

use super::keys;
use super::records::Replay;
use sslbridge::{
    Certificate, ClientOptions, Context, Digest, ServerOptions, SessionCacheMode, SslOptions,
    Verify,
};
use std::sync::OnceLock;

/// Fuzz target `certificate`. The first byte (modulo 5) says what the rest is: a DER
/// certificate, PEM text with a certificate, a PEM chain, a connection's certificate chain
/// and private key (PEM or DER, as a user passes a key file), or a private key alone.
pub fn certificate(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    super::prompts::refuse_password_prompts();
    let prompts = super::prompts::password_prompts();
    let certs = match selector % 5 {
        0 => Certificate::from_der(bytes).into_iter().collect(),
        1 => Certificate::from_pem(bytes).into_iter().collect(),
        2 => Certificate::stack_from_pem(bytes).unwrap_or_default(),
        3 => credentials(bytes, true),
        _ => credentials(bytes, false),
    };
    // Decoding certificates, or a key without a password, must never ask for a pass phrase
    // (OpenSSL's default asks on the terminal, and waits). Found by this target: PEM
    // certificates with a `Proc-Type: 4,ENCRYPTED` header did, until sslbridge passed a
    // callback that declines (`next_pem_certificate`, src/x509/mod.rs); the input is
    // fuzz/regressions/certificate/pem-certificate-with-encryption-header.
    assert_eq!(
        super::prompts::password_prompts(),
        prompts,
        "decoding asked for a pass phrase (OpenSSL's default prompts on the terminal)"
    );
    for cert in certs {
        inspect_certificate(&cert, selector);
    }
}

/// Loads `bytes` as a connection's private key, after loading them as its certificate chain
/// when `chain` is set: the key decoders (PEM in every form, PKCS#8 and traditional DER) and
/// the key-matches-certificate check, on a connection set up but never started. No password
/// is given, so an encrypted key is refused before decryption: its iteration count comes from
/// the input and could make one run take minutes. A chain and key that load are then a
/// server's, in a handshake with a client that verifies them (see [`handshake`]).
fn credentials(bytes: &[u8], chain: bool) -> Vec<Certificate> {
    let (client, _) = contexts();
    let mut options = ClientOptions::new()
        .context(client.clone())
        .verify(Verify::None)
        .private_key_pem(bytes);
    if chain {
        options = options.certificate_chain_pem(bytes);
    }
    if let Ok(tls) = options.start(Replay::new(Vec::new(), 1)) {
        assert!(tls.is_client());
        if chain {
            handshake(bytes);
        }
    }
    Vec::new()
}

/// The client context (its verify callback accepts every certificate, so OpenSSL's chain
/// verification runs every check on a chain instead of stopping at the first failure) and
/// the server context (no certificate of its own; no session cache, no tickets: nothing
/// carries over from one run to the next).
fn contexts() -> &'static (Context, Context) {
    static CONTEXTS: OnceLock<(Context, Context)> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        let client = Context::builder()
            .ca_certificates_pem(keys::CA)
            .verify_callback(|_, _, _, _| true)
            .build()
            .expect("the client context");
        let server = Context::builder()
            .ca_certificates_pem(keys::CA)
            .session_cache_mode(SessionCacheMode::OFF)
            .options(SslOptions::ALL | SslOptions::NO_TICKET)
            .build()
            .expect("the server context");
        (client, server)
    })
}

/// A handshake in which the server presents the chain in `bytes` (with the key in them) to a
/// client that verifies it (`Verify::Optional`) for `localhost`: chain building, extension
/// and purpose checks, signatures, name constraints and policies on the input's chain, and
/// sslbridge's verify and hostname callbacks. One thread, both sides non-blocking, with
/// deterministic randomness reset for the run.
fn handshake(bytes: &[u8]) {
    let (client_context, server_context) = contexts();
    let (mut client_end, mut server_end) = sslbridge::duplex(1 << 16);
    client_end.set_nonblocking(true);
    server_end.set_nonblocking(true);
    sslbridge::ensure_initialized_with_seed(super::CLIENT_SEED).expect("a seed");
    let client = ClientOptions::new()
        .context(client_context.clone())
        .verify(Verify::Optional)
        .hostname("localhost")
        .start(client_end);
    let server = ServerOptions::new()
        .context(server_context.clone())
        .certificate_chain_pem(bytes)
        .private_key_pem(bytes)
        .start(server_end);
    let (Ok(mut client), Ok(mut server)) = (client, server) else {
        return;
    };
    let (mut client_done, mut server_done) = (false, false);
    for _ in 0..64 {
        for (tls, done) in [
            (&mut client as &mut dyn Handshake, &mut client_done),
            (&mut server, &mut server_done),
        ] {
            if !*done {
                match tls.step() {
                    Ok(()) => *done = true,
                    Err(e) if e.is_would_block() => {}
                    Err(_) => return,
                }
            }
        }
        if client_done && server_done {
            return;
        }
    }
}

/// One handshake step of either side.
trait Handshake {
    fn step(&mut self) -> Result<(), sslbridge::Error>;
}

impl<T: sslbridge::Transport> Handshake for sslbridge::SslStream<T> {
    fn step(&mut self) -> Result<(), sslbridge::Error> {
        self.handshake()
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

//! SNI: two names, two certificates. Our server picks b.example's context in its SNI
//! callback; our client sees which certificate it got; both sides report the server name.
//! Also against `openssl s_server -servername -cert2` and `openssl s_client -servername`.

use crate::common::*;
use sslbridge::testing::{CertifiedKey, TestPki};
use sslbridge::{ClientOptions, Context, ServerOptions, VerifyMode};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Leaves issued directly by the root, so `s_server -cert2` (which has no chain option for
/// the second certificate) can serve a complete chain too.
fn leaf(pki: &TestPki, name: &str) -> CertifiedKey {
    pki.leaf(name)
        .dns_name(name)
        .issued_by_root()
        .build()
        .unwrap()
}

fn sni_server(a: &CertifiedKey, b: &CertifiedKey, asked: Arc<Mutex<Vec<String>>>) -> ServerOptions {
    let ctx_b = server_context(&b.chain_pem, &b.key_pem, None);
    ServerOptions::new()
        .context(server_context(&a.chain_pem, &a.key_pem, None))
        .sni_callback(move |name| {
            asked.lock().unwrap().push(name.to_string());
            (name == "b.example").then(|| ctx_b.clone())
        })
}

#[test]
fn sni_callback_picks_the_certificate_by_name() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let (a, b) = (leaf(&pki, "a.example"), leaf(&pki, "b.example"));
        let asked = Arc::new(Mutex::new(Vec::new()));
        for name in ["a.example", "b.example"] {
            let (c, s) = pipe();
            let server = serve_line(sni_server(&a, &b, asked.clone()), s);
            let mut tls = ClientOptions::new()
                .hostname(name)
                .context(client_context(&pki, None))
                .connect(c)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let subject = tls.peer_certificate().unwrap().subject_name();
            assert!(subject.contains(name), "{name} got {subject}");
            assert_eq!(tls.server_name().as_deref(), Some(name));
            assert_eq!(exchange_line(&mut tls, name), format!("reply: {name}"));
            tls.close().expect("client close");
            let served = join(server).unwrap();
            assert_eq!(served.server_name.as_deref(), Some(name));
        }
        assert_eq!(*asked.lock().unwrap(), vec!["a.example", "b.example"]);
    });
}

#[test]
fn no_sni_gets_the_default_certificate() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let (a, b) = (leaf(&pki, "a.example"), leaf(&pki, "b.example"));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let (c, s) = pipe();
        let server = serve_line(sni_server(&a, &b, asked.clone()), s);
        // No hostname: no SNI; the name check is switched off explicitly (chain verified).
        let mut tls = ClientOptions::new()
            .verify_hostname(false)
            .context(client_context(&pki, None))
            .connect(c)
            .unwrap();
        assert!(tls
            .peer_certificate()
            .unwrap()
            .subject_name()
            .contains("a.example"));
        assert_eq!(tls.server_name(), None);
        exchange_line(&mut tls, "x");
        tls.close().expect("client close");
        assert_eq!(join(server).unwrap().server_name, None);
        assert!(asked.lock().unwrap().is_empty(), "no name, no callback");
    });
}

#[test]
fn sni_switched_context_brings_its_verify_mode() {
    // The context chosen by SNI brings its own verify mode: b.example requires a client
    // certificate, a.example does not.
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let (a, b) = (leaf(&pki, "a.example"), leaf(&pki, "b.example"));
        let ctx_b = Context::builder()
            .certificate_chain_pem(&b.chain_pem)
            .private_key_pem(&b.key_pem)
            .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
            .ca_certificates_pem(&pki.root_pem())
            .build()
            .unwrap();
        let (c, s) = pipe();
        let server = serve_line(
            ServerOptions::new()
                .context(server_context(&a.chain_pem, &a.key_pem, None))
                .sni_callback(move |name| (name == "b.example").then(|| ctx_b.clone())),
            s,
        );
        let r = ClientOptions::new()
            .hostname("b.example")
            .context(client_context(&pki, None))
            .connect(c)
            .map(|mut tls| {
                let mut buf = [0u8; 8];
                let _ = std::io::Write::write_all(&mut tls, b"x\n");
                std::io::Read::read(&mut tls, &mut buf)
            });
        let served = join(server);
        // ServerOptions::sni_callback promises the chosen context's "certificate, key,
        // settings". OpenSSL's SSL_set_SSL_CTX switches the certificate and session ID
        // context but leaves the connection's verify mode as the first context set it, so
        // b.example's client-certificate requirement is silently not enforced.
        assert!(
            served.is_err(),
            "b.example's context requires a client certificate, yet the server accepted a \
             client without one (verify mode not taken from the SNI context): {served:?}"
        );
        assert!(
            r.is_err() || matches!(r, Ok(Err(_)) | Ok(Ok(0))),
            "client: {r:?}"
        );
    });
}

#[test]
fn our_client_against_s_server_cert2() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let (a, b) = (leaf(&pki, "a.example"), leaf(&pki, "b.example"));
        let files = TempFiles::new();
        let (ac, _, ak) = write_key(&files, "a", &a);
        let (bc, _, bk) = write_key(&files, "b", &b);
        let server = SServer::start(
            &files,
            &[
                "-cert",
                p(&ac),
                "-key",
                p(&ak),
                "-servername",
                "b.example",
                "-cert2",
                p(&bc),
                "-key2",
                p(&bk),
                "-rev",
            ],
        );
        for name in ["a.example", "b.example"] {
            let mut tls = ClientOptions::new()
                .hostname(name)
                .context(client_context(&pki, None))
                .connect(server.connect())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let subject = tls.peer_certificate().unwrap().subject_name();
            assert!(subject.contains(name), "{name} got {subject}");
            assert_eq!(tls.server_name().as_deref(), Some(name));
            assert_eq!(exchange_line(&mut tls, "abc"), "cba");
        }
    });
}

#[test]
fn s_client_servername_against_our_sni_server() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let (a, b) = (leaf(&pki, "a.example"), leaf(&pki, "b.example"));
        let files = TempFiles::new();
        let root = files.write("root.pem", &pki.root_pem());
        for name in ["a.example", "b.example"] {
            let (listener, port) = listen();
            let mut sc = s_client(
                &files,
                port,
                &[
                    "-servername",
                    name,
                    "-CAfile",
                    p(&root),
                    "-verify_return_error",
                ],
                name,
            );
            sc.feed(b"hi\n");
            let tcp =
                accept_within(&listener, Duration::from_secs(10)).expect("no connection to accept");
            let served = serve_line_on(sni_server(&a, &b, Arc::default()), tcp).unwrap();
            assert_eq!(served.server_name.as_deref(), Some(name));
            sc.close_stdin();
            sc.wait_exit(Duration::from_secs(10));
            let out = sc.output();
            let subject = out
                .lines()
                .find(|l| l.starts_with("subject="))
                .unwrap_or_else(|| panic!("{name}: no subject line:\n{out}"));
            assert!(
                subject.ends_with(&format!("CN = {name}")),
                "{name}: {subject}"
            );
            assert!(out.contains("Verify return code: 0 (ok)"), "{name}:\n{out}");
        }
    });
}

#[test]
fn a_panicking_sni_callback_is_resumed_in_the_server_caller() {
    within(TLS_LIMIT, || {
        let message = crate::alpn::panic_in_server_callback(
            ServerOptions::new().sni_callback(|_| panic!("sni callback boom")),
            &[],
        );
        assert_eq!(message, "sni callback boom");
    });
}

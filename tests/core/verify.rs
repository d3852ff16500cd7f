//! Certificate verification: `Verify::Required` / `Optional` / `None` against broken
//! certificates, verify callbacks, IP-address host names and client certificates.

use crate::common::*;
use sslbridge::testing::CertifiedKey;
use sslbridge::{ClientOptions, Context, Error, Protocol, ServerOptions, Verify, VerifyMode};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::thread;

/// A client context that trusts the test root only.
fn trusting(fx: &Fixture) -> Context {
    fx.client_context(None)
}

fn client(fx: &Fixture, verify: Verify, host: &str) -> ClientOptions {
    ClientOptions::new()
        .hostname(host)
        .verify(verify)
        .context(trusting(fx))
}

fn expect_verify_error(fx: &Fixture, verify: Verify, cert: &CertifiedKey, codes: &[i32]) -> Error {
    let (client, server) = try_connect(client(fx, verify, "localhost"), cert);
    let err = client.expect_err("verification must fail");
    match &err {
        Error::Verify { code, text, .. } => {
            assert!(
                codes.contains(code),
                "code {code} ({text}), wanted {codes:?}"
            );
            assert!(!text.is_empty());
        }
        other => panic!("wanted Error::Verify {codes:?}, got {other:?}"),
    }
    assert!(server.is_err(), "the server sees the client's alert");
    err
}

#[test]
fn required_rejects_self_signed() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let pki = &fx.pki;
        let cert = pki.self_signed(&["localhost"]).unwrap();
        // 18: self-signed leaf; 19: self-signed certificate in chain.
        expect_verify_error(&fx, Verify::Required, &cert, &[18, 19]);
    });
}

#[test]
fn required_rejects_expired_with_code_10() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let pki = &fx.pki;
        let cert = pki.expired(&["localhost"]).unwrap();
        let err = expect_verify_error(&fx, Verify::Required, &cert, &[10]);
        if let Error::Verify { depth, subject, .. } = &err {
            assert_eq!(*depth, 0);
            assert!(subject.contains("localhost"), "{subject}");
        }
        assert!(err.to_string().contains("expired"), "{err}");
    });
}

#[test]
fn required_rejects_not_yet_valid_with_code_9() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let pki = &fx.pki;
        let cert = pki.not_yet_valid(&["localhost"]).unwrap();
        expect_verify_error(&fx, Verify::Required, &cert, &[9]);
    });
}

#[test]
fn required_rejects_untrusted_root_with_code_20() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let pki = &fx.pki;
        let cert = pki.untrusted(&["localhost"]).unwrap();
        expect_verify_error(&fx, Verify::Required, &cert, &[20]);
    });
}

#[test]
fn required_rejects_wrong_host() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let cert = fx.pki.server(&["example.com"]).unwrap();
        let (client, _server) = try_connect(client(&fx, Verify::Required, "localhost"), &cert);
        match client.expect_err("wrong host") {
            Error::Hostname {
                hostname,
                presented,
            } => {
                assert_eq!(hostname, "localhost");
                assert!(presented.contains("example.com"), "{presented}");
            }
            other => panic!("wanted Error::Hostname, got {other:?}"),
        }
    });
}

#[test]
fn optional_rejects_presented_bad_certificates() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let pki = &fx.pki;
        expect_verify_error(
            &fx,
            Verify::Optional,
            &pki.self_signed(&["localhost"]).unwrap(),
            &[18, 19],
        );
        expect_verify_error(
            &fx,
            Verify::Optional,
            &pki.expired(&["localhost"]).unwrap(),
            &[10],
        );
        expect_verify_error(
            &fx,
            Verify::Optional,
            &pki.untrusted(&["localhost"]).unwrap(),
            &[20],
        );
        let wrong = fx.pki.server(&["example.com"]).unwrap();
        let (client, _) = try_connect(client(&fx, Verify::Optional, "localhost"), &wrong);
        assert!(matches!(client, Err(Error::Hostname { .. })), "{client:?}");
    });
}

#[test]
fn optional_accepts_a_good_certificate() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (client, server) = try_connect(client(&fx, Verify::Optional, "localhost"), &fx.server);
        client.expect("valid certificate");
        server.expect("server side");
    });
}

#[test]
fn none_accepts_every_bad_certificate_and_data_flows() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let certs = [
            fx.pki.self_signed(&["localhost"]).unwrap(),
            fx.pki.expired(&["localhost"]).unwrap(),
            fx.pki.untrusted(&["localhost"]).unwrap(),
            fx.pki.server(&["example.com"]).unwrap(),
        ];
        for cert in &certs {
            // Even a context whose verify mode is PEER: Verify::None decides.
            let peer_ctx = Context::builder()
                .ca_certificates_pem(&fx.pki.root_pem())
                .verify_mode(VerifyMode::PEER)
                .build()
                .unwrap();
            assert!(peer_ctx.verify_mode().contains(VerifyMode::PEER));
            let options = client(&fx, Verify::None, "localhost").context(peer_ctx);
            let (client, server) = try_connect(options, cert);
            let mut client = client.expect("Verify::None connects");
            let mut server = server.expect("server side");
            let t = thread::spawn(move || {
                let mut buf = [0u8; 4];
                server.read_exact(&mut buf).unwrap();
                server.write_all(&buf).unwrap();
                server.close().unwrap();
            });
            client.write_all(b"data").unwrap();
            let mut echo = Vec::new();
            client.read_to_end(&mut echo).unwrap();
            assert_eq!(echo, b"data");
            join(t);
        }
    });
}

#[test]
fn anonymous_server_is_missing_certificate_for_required_only() {
    within(LIMIT, || {
        // An anonymous (aNULL) TLS 1.2 suite: the server sends no certificate at all.
        let fx = Fixture::new();
        let anon_client = |verify| {
            ClientOptions::new()
                .hostname("localhost")
                .verify(verify)
                .context(
                    Context::builder()
                        .ca_certificates_pem(&fx.pki.root_pem())
                        .max_protocol_version(Protocol::Tls1_2)
                        .cipher_list("aNULL:@SECLEVEL=0")
                        .build()
                        .unwrap(),
                )
        };
        let run = |verify| {
            let (c, s) = sslbridge::duplex(64 * 1024);
            let ctx = Context::builder()
                .verify_mode(VerifyMode::NONE)
                .max_protocol_version(Protocol::Tls1_2)
                .cipher_list("aNULL:@SECLEVEL=0")
                .certificate_chain_pem(&fx.server.chain_pem)
                .private_key_pem(&fx.server.key_pem)
                .build()
                .unwrap();
            let server = thread::spawn(move || ServerOptions::new().context(ctx).accept(s));
            let client = anon_client(verify).connect(c);
            let server = join(server);
            (client, server)
        };
        let (client, _server) = run(Verify::Required);
        assert!(
            matches!(client, Err(Error::ServerCertificateMissing)),
            "{client:?}"
        );
        let (client, server) = run(Verify::Optional);
        let client = client.expect("Optional accepts a server without certificate");
        assert!(client.peer_certificate().is_none());
        assert!(
            client.cipher_name().unwrap().contains("ADH")
                || client.cipher_name().unwrap().contains("AECDH")
        );
        server.unwrap();
    });
}

#[test]
fn verify_callback_that_rejects_fails_the_handshake() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let ctx = Context::builder()
            .ca_certificates_pem(&fx.pki.root_pem())
            .verify_callback(|_ok, _code, depth, _cert| depth != 0)
            .build()
            .unwrap();
        let options = ClientOptions::new()
            .hostname("localhost")
            .verify(Verify::Required)
            .context(ctx);
        let (client, server) = try_connect(options, &fx.server);
        match client.expect_err("the callback said no") {
            Error::Verify { depth, .. } => assert_eq!(depth, 0),
            other => panic!("wanted Error::Verify, got {other:?}"),
        }
        assert!(server.is_err());
    });
}

#[test]
fn verify_callback_sees_the_chain_and_can_accept_an_expired_certificate() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let expired = fx.pki.expired(&["localhost"]).unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let ctx = Context::builder()
            .ca_certificates_pem(&fx.pki.root_pem())
            .verify_callback(move |ok, code, depth, cert| {
                log.lock()
                    .unwrap()
                    .push((ok, code, depth, cert.subject_name()));
                ok || code == 10
            })
            .build()
            .unwrap();
        let options = ClientOptions::new()
            .hostname("localhost")
            .verify(Verify::Required)
            .context(ctx);
        let (client, server) = try_connect(options, &expired);
        client.expect("the callback accepted the expired certificate");
        server.unwrap();
        let seen = seen.lock().unwrap();
        assert!(
            seen.iter()
                .any(|(ok, code, depth, _)| !ok && *code == 10 && *depth == 0),
            "{seen:?}"
        );
        assert!(
            seen.iter()
                .any(|(_, _, depth, s)| *depth == 2 && s.contains("root")),
            "{seen:?}"
        );
    });
}

#[test]
fn accepting_callback_does_not_skip_the_hostname_check() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let ctx = Context::builder()
            .ca_certificates_pem(&fx.pki.root_pem())
            .verify_callback(|_, _, _, _| true)
            .build()
            .unwrap();
        let wrong = fx.pki.server(&["example.com"]).unwrap();
        let options = ClientOptions::new()
            .hostname("localhost")
            .verify(Verify::Required)
            .context(ctx);
        let (client, _) = try_connect(options, &wrong);
        assert!(matches!(client, Err(Error::Hostname { .. })), "{client:?}");
    });
}

#[test]
fn panic_in_verify_callback_resumes_in_the_caller() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let ctx = Context::builder()
            .ca_certificates_pem(&fx.pki.root_pem())
            .verify_callback(|_, _, _, _| panic!("verify callback blew up"))
            .build()
            .unwrap();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server_ctx = fx.server_context(None);
        let server = thread::spawn(move || ServerOptions::new().context(server_ctx).accept(s));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ClientOptions::new()
                .hostname("localhost")
                .context(ctx)
                .connect(c)
        }));
        let payload = result.expect_err("the panic comes back to the caller");
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert_eq!(message, "verify callback blew up");
        // The client's stream was freed during the unwind; the server sees an error.
        assert!(join(server).is_err());
    });
}

#[test]
fn ip_address_host_names_match_ip_subject_alt_names() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let cert = fx.pki.server(&["127.0.0.1"]).unwrap();
        let (client, _) = try_connect(client(&fx, Verify::Required, "127.0.0.1"), &cert);
        let client = client.expect("SAN IP 127.0.0.1 matches");
        assert_eq!(
            client.peer_certificate().unwrap().ip_addresses(),
            vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
        );
        let (client, _) = try_connect(client_for_ip(&fx, "127.0.0.2"), &cert);
        match client.expect_err("127.0.0.2 is not in the certificate") {
            Error::Hostname { hostname, .. } => assert_eq!(hostname, "127.0.0.2"),
            other => panic!("wanted Error::Hostname, got {other:?}"),
        }
        // A DNS name in the certificate does not match an IP address.
        let dns = fx.pki.server(&["localhost"]).unwrap();
        let (client, _) = try_connect(client_for_ip(&fx, "127.0.0.1"), &dns);
        assert!(matches!(client, Err(Error::Hostname { .. })), "{client:?}");
    });
}

fn client_for_ip(fx: &Fixture, ip: &str) -> ClientOptions {
    client(fx, Verify::Required, ip)
}

#[test]
fn server_verifies_client_certificates() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let client_cert = fx.pki.client("alice").unwrap();
        let server_ctx = || {
            Context::builder()
                .ca_certificates_pem(&fx.pki.root_pem())
                .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
                .certificate_chain_pem(&fx.server.chain_pem)
                .private_key_pem(&fx.server.key_pem)
                .build()
                .unwrap()
        };
        // With a client certificate.
        let (c, s) = sslbridge::duplex(64 * 1024);
        let ctx = server_ctx();
        let server = thread::spawn(move || {
            let mut tls = ServerOptions::new().context(ctx).accept(s)?;
            tls.write_all(b"hi")?;
            tls.flush()?;
            Ok::<_, Error>(tls)
        });
        let mut client = ClientOptions::new()
            .hostname("localhost")
            .context(trusting(&fx))
            .certificate_chain_pem(&client_cert.chain_pem)
            .private_key_pem(&client_cert.key_pem)
            .connect(c)
            .unwrap();
        let mut hi = [0u8; 2];
        client.read_exact(&mut hi).unwrap();
        let server = join(server).expect("client certificate accepted");
        let peer = server.peer_certificate().expect("the client's certificate");
        assert!(
            peer.subject_name().contains("alice"),
            "{}",
            peer.subject_name()
        );

        // Without one: the server refuses.
        let (c, s) = sslbridge::duplex(64 * 1024);
        let ctx = server_ctx();
        let server = thread::spawn(move || ServerOptions::new().context(ctx).accept(s));
        let client = ClientOptions::new()
            .hostname("localhost")
            .context(trusting(&fx))
            .connect(c)
            .and_then(|mut t| {
                let mut b = [0u8; 1];
                t.read(&mut b).map_err(Error::from)
            });
        assert!(
            join(server).is_err(),
            "no client certificate, no connection"
        );
        assert!(client.is_err());
    });
}

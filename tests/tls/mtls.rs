//! Mutual TLS: a server that requires a client certificate rejects a client without one and
//! accepts one with a certificate from files, from PEM, or with an encrypted key; against our
//! own server, `openssl s_server -Verify 1` and `openssl s_client -cert`.

use crate::common::*;
use sslbridge::testing::TestPki;
use sslbridge::{ClientOptions, Context, Error, ServerOptions, VerifyLocation, VerifyMode};
use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

const CLIENT_CN: &str = "mtls-client";

/// A server context that demands a client certificate issued under the test root.
fn requiring_context(pki: &TestPki, files: Option<&TempFiles>) -> Context {
    let server = pki.server(&["localhost"]).unwrap();
    let b = Context::builder()
        .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
        .certificate_chain_pem(&server.chain_pem)
        .private_key_pem(&server.key_pem);
    let b = match files {
        Some(f) => b.verify_location(VerifyLocation::File(f.write("root.pem", &pki.root_pem()))),
        None => b.ca_certificates_pem(&pki.root_pem()),
    };
    b.build().unwrap()
}

fn client_base(pki: &TestPki) -> ClientOptions {
    ClientOptions::new()
        .hostname("localhost")
        .context(client_context(pki, None))
}

#[test]
fn client_without_certificate_is_rejected() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        for files in [None, Some(TempFiles::new())] {
            let (c, s) = pipe();
            let server = serve_line(
                ServerOptions::new().context(requiring_context(&pki, files.as_ref())),
                s,
            );
            // TLS 1.3: the client's handshake is over before the server judges its (empty)
            // Certificate, so the client may only see the alert on its first read.
            let client_result = client_base(&pki).connect(c).and_then(|mut tls| {
                let _ = tls.write_all(b"hello\n");
                let mut line = String::new();
                let mut r = BufReader::new(tls);
                r.read_line(&mut line).map_err(Error::Io)?;
                Ok(line)
            });
            let server_result = join(server);
            assert!(
                server_result.is_err(),
                "the server must refuse a client without a certificate: {server_result:?}"
            );
            assert!(
                client_result.is_err(),
                "the client must see the refusal by its first read: {client_result:?}"
            );
        }
    });
}

fn check_accepted(pki: &TestPki, client: ClientOptions, files: Option<&TempFiles>) {
    let (c, s) = pipe();
    let server = serve_line(
        ServerOptions::new().context(requiring_context(pki, files)),
        s,
    );
    let mut tls = client.connect(c).expect("client with certificate connects");
    assert_eq!(exchange_line(&mut tls, "with cert"), "reply: with cert");
    tls.close().expect("client close");
    let served = join(server).expect("server accepts the client certificate");
    assert_eq!(served.peer_subjects.len(), 2, "{:?}", served.peer_subjects);
    assert!(
        served.peer_subjects[0].contains(CLIENT_CN),
        "{:?}",
        served.peer_subjects
    );
    assert!(
        served.peer_subjects[1].contains("intermediate"),
        "{:?}",
        served.peer_subjects
    );
}

#[test]
fn client_certificate_from_pem_is_accepted_and_read_by_the_server() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let client = pki.client(CLIENT_CN).unwrap();
        check_accepted(
            &pki,
            client_base(&pki)
                .certificate_chain_pem(&client.chain_pem)
                .private_key_pem(&client.key_pem),
            None,
        );
    });
}

#[test]
fn client_certificate_from_files_is_accepted_by_a_file_trusting_server() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let client = pki.client(CLIENT_CN).unwrap();
        let files = TempFiles::new();
        let (_, chain, key) = write_key(&files, "client", &client);
        check_accepted(
            &pki,
            client_base(&pki)
                .certificate_file(chain)
                .private_key_file(key),
            Some(&files),
        );
    });
}

#[test]
fn client_certificate_with_encrypted_key_and_password() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let client = pki.client(CLIENT_CN).unwrap();
        let encrypted = client.encrypted_key_pem("s3cret").unwrap();
        check_accepted(
            &pki,
            client_base(&pki)
                .certificate_chain_pem(&client.chain_pem)
                .private_key_pem(&encrypted)
                .password("s3cret"),
            None,
        );
        let files = TempFiles::new();
        let key = files.write("enc.key", &encrypted);
        let chain = files.write("chain.pem", &client.chain_pem);
        check_accepted(
            &pki,
            client_base(&pki)
                .certificate_file(chain)
                .private_key_file(key)
                .password("s3cret"),
            None,
        );
        // A wrong password fails before any I/O.
        let (c, _s) = pipe();
        let r = client_base(&pki)
            .certificate_chain_pem(&client.chain_pem)
            .private_key_pem(&encrypted)
            .password("wrong")
            .start(c);
        assert!(r.is_err(), "a wrong key password must fail: {r:?}");
    });
}

#[test]
fn our_client_certificate_accepted_by_s_server_verify() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let files = TempFiles::new();
        let server = pki.server(&["localhost"]).unwrap();
        let (cert, _, key) = write_key(&files, "server", &server);
        let inter = files.write("inter.pem", &pki.intermediate_pem());
        let root = files.write("root.pem", &pki.root_pem());
        let s = SServer::start(
            &files,
            &[
                "-cert",
                p(&cert),
                "-key",
                p(&key),
                "-cert_chain",
                p(&inter),
                "-Verify",
                "2",
                "-CAfile",
                p(&root),
                "-verify_return_error",
                "-rev",
            ],
        );
        let client = pki.client(CLIENT_CN).unwrap();
        let mut tls = client_base(&pki)
            .certificate_chain_pem(&client.chain_pem)
            .private_key_pem(&client.key_pem)
            .connect(s.connect())
            .expect("s_server accepts our client certificate");
        assert_eq!(exchange_line(&mut tls, "abc"), "cba");
        drop(tls);
        // Without a certificate s_server refuses (seen by the first read in TLS 1.3).
        let r = client_base(&pki).connect(s.connect()).and_then(|mut tls| {
            let _ = tls.write_all(b"abc\n");
            let mut line = String::new();
            BufReader::new(tls)
                .read_line(&mut line)
                .map_err(Error::Io)?;
            Ok(line)
        });
        assert!(
            r.is_err(),
            "s_server -Verify must refuse a client without certificate: {r:?}"
        );
        let out = s.output_after(Duration::from_millis(200));
        assert!(
            out.contains(CLIENT_CN),
            "s_server printed the client subject:\n{out}"
        );
    });
}

#[test]
fn s_client_certificate_accepted_by_our_requiring_server() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let files = TempFiles::new();
        let client = pki.client(CLIENT_CN).unwrap();
        let (cert, _, key) = write_key(&files, "client", &client);
        let inter = files.write("inter.pem", &pki.intermediate_pem());
        let root = files.write("root.pem", &pki.root_pem());
        for with_cert in [true, false] {
            let (listener, port) = listen();
            let mut args = vec!["-CAfile", p(&root), "-servername", "localhost"];
            if with_cert {
                args.extend_from_slice(&[
                    "-cert",
                    p(&cert),
                    "-key",
                    p(&key),
                    "-cert_chain",
                    p(&inter),
                ]);
            }
            let mut sc = s_client(&files, port, &args, &format!("mtls-{with_cert}"));
            sc.feed(b"from s_client\n");
            let tcp =
                accept_within(&listener, Duration::from_secs(10)).expect("no connection to accept");
            let served = serve_line_on(
                ServerOptions::new().context(requiring_context(&pki, None)),
                tcp,
            );
            if with_cert {
                let served = served.expect("our server accepts s_client's certificate");
                assert_eq!(served.line, "from s_client");
                assert!(served.peer_subjects[0].contains(CLIENT_CN), "{served:?}");
                sc.close_stdin();
                sc.wait_exit(Duration::from_secs(10));
                assert!(
                    sc.output().contains("reply: from s_client"),
                    "{}",
                    sc.output()
                );
            } else {
                assert!(
                    served.is_err(),
                    "no certificate must be refused: {served:?}"
                );
            }
        }
    });
}

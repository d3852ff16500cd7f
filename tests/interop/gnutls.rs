//! Interop with GnuTLS (`gnutls-serv` / `gnutls-cli` from Debian gnutls-bin), both ways, on the
//! fd path and the custom BIO, in TLS 1.2 and 1.3: data both ways, close_notify, client
//! certificates, ALPN, SNI and resumption.
//!
//! `gnutls-serv` has no option to choose its listening address: it binds the wildcard address
//! on the (ephemeral) port we give it. We only ever connect to 127.0.0.1.

use crate::common::*;
use sslbridge::{ClientOptions, Protocol, ServerOptions, Verify};
use std::io::{Read, Write};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

fn gnutls_serv(pki: &Fixture, version: Protocol, tag: &str) -> (ChildGuard, u16) {
    start_server("gnutls-serv", pki.dir.path(), tag, |port| {
        vec![
            "--echo".into(),
            format!("--port={port}"),
            gnutls_priority(version),
            format!("--x509certfile={}", pki.path("server-chain.pem")),
            format!("--x509keyfile={}", pki.path("server.key")),
            format!("--x509cafile={}", pki.path("root.pem")),
            "--require-client-cert".into(),
            "--verify-client-cert".into(),
            "--alpn=http/1.1".into(),
            "--alpn-fatal".into(),
            "--sni-hostname=localhost".into(),
            "--sni-hostname-fatal".into(),
        ]
    })
}

fn our_client(pki: &Fixture, mode: Mode, version: Protocol) -> ClientOptions {
    mode.client(
        ClientOptions::new()
            .hostname("localhost")
            .verify(Verify::Required)
            .context(pki.client_context(version))
            .certificate_chain_pem(&pki.client.chain_pem)
            .private_key_pem(&pki.client.key_pem)
            .alpn_protocols(&["http/1.1"]),
    )
}

/// Sends the lines of `seed` one by one and reads each echo back byte for byte (gnutls-serv
/// echoes once it has a whole line).
fn echo<T: sslbridge::Transport>(tls: &mut sslbridge::SslStream<T>, seed: u64) -> usize {
    let mut bytes = 0;
    for mut line in lines(seed) {
        line.push(b'\n');
        tls.write_all(&line).unwrap();
        let mut back = vec![0u8; line.len()];
        tls.read_exact(&mut back).unwrap();
        assert!(back == line, "the echo matches");
        bytes += line.len();
    }
    bytes
}

#[test]
fn sslbridge_client_to_gnutls_serv() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for (mode, version) in cells() {
            let tag = format!("gnutls-serv-{mode:?}-{version:?}");
            let (server, port) = gnutls_serv(pki, version, &tag);

            // 1. mTLS, ALPN, SNI, lines echoed; we close and the server answers close_notify.
            let mut tls = our_client(pki, mode, version)
                .connect(connect(port))
                .unwrap_or_else(|e| panic!("{tag}: {e}\n{}", server.output()));
            assert_eq!(tls.uses_fd_fast_path(), mode == Mode::FdPath);
            assert_eq!(tls.protocol_version(), Some(version));
            assert_eq!(tls.selected_alpn_protocol(), Some("http/1.1"));
            echo(&mut tls, 1);
            tls.shutdown().unwrap();
            let rest = read_to_close(&mut tls)
                .unwrap_or_else(|(e, _)| panic!("{tag}: clean end expected: {e}"));
            assert!(rest.is_empty());
            let session = tls.session().expect("a resumable session");
            tls.close().unwrap();

            // 2. Resumption.
            let mut tls = our_client(pki, mode, version)
                .session(session)
                .connect(connect(port))
                .unwrap();
            assert!(tls.session_reused(), "{tag}: resumed\n{}", server.output());
            echo(&mut tls, 2);
            tls.close().unwrap();

            // 3. Negative checks that prove the server enforced SNI, ALPN and mTLS.
            let wrong_sni = mode
                .client(
                    ClientOptions::new()
                        .hostname("sni.example")
                        .verify(Verify::None)
                        .certificate_chain_pem(&pki.client.chain_pem)
                        .private_key_pem(&pki.client.key_pem)
                        .alpn_protocols(&["http/1.1"])
                        .context(pki.client_context(version)),
                )
                .connect(connect(port));
            assert!(
                wrong_sni.is_err(),
                "{tag}: gnutls-serv refuses another name"
            );
            let wrong_alpn = our_client(pki, mode, version)
                .alpn_protocols(&["h2"])
                .connect(connect(port));
            assert!(wrong_alpn.is_err(), "{tag}: gnutls-serv refuses ALPN h2");
            let no_cert = mode
                .client(
                    ClientOptions::new()
                        .hostname("localhost")
                        .alpn_protocols(&["http/1.1"])
                        .context(pki.client_context(version)),
                )
                .connect(connect(port))
                .and_then(|mut tls| {
                    tls.write_all(b"x")?;
                    let mut b = [0u8; 1];
                    tls.read_exact(&mut b)?;
                    Ok(())
                });
            assert!(
                no_cert.is_err(),
                "{tag}: gnutls-serv requires a certificate"
            );
            eprintln!("{tag}: ok");
        }
    })
}

#[test]
fn gnutls_cli_to_sslbridge_server() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for (mode, version) in cells() {
            let tag = format!("gnutls-cli-{mode:?}-{version:?}");
            let context = pki.mtls_server_context(version);
            let (listener, port) = listen();
            let args: Vec<String> = vec![
                "127.0.0.1".into(),
                format!("--port={port}"),
                gnutls_priority(version),
                format!("--x509cafile={}", pki.path("root.pem")),
                format!("--x509certfile={}", pki.path("client-chain.pem")),
                format!("--x509keyfile={}", pki.path("client.key")),
                "--sni-hostname=localhost".into(),
                "--verify-hostname=localhost".into(),
                "--alpn=http/1.1".into(),
                "--resume".into(),
                "--waitresumption".into(),
            ];
            let out = pki.dir.path().join(format!("{tag}.out"));
            let mut client = ChildGuard::spawn_logged("gnutls-cli", &args, out);
            // --resume: a first connection (handshake, tickets, close_notify), then a resumed
            // one that carries the data.
            let mut served = Vec::new();
            for _ in 0..2 {
                let tcp = accept_within(&listener, Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("{tag}: {e}\n{}", client.output()));
                let options = mode.server(
                    ServerOptions::new()
                        .context(context.clone())
                        .alpn_protocols(&["h2", "http/1.1"]),
                );
                let server = std::thread::spawn(move || serve_reversed(options, tcp));
                if served.len() == 1 {
                    let sent = lines(20);
                    for line in &sent {
                        client.feed(line);
                        client.feed(b"\n");
                    }
                    let last = String::from_utf8(reversed(sent.last().unwrap())).unwrap();
                    assert!(
                        client.wait_output(&last, Duration::from_secs(10)),
                        "{tag}: gnutls-cli printed the answers:\n{}",
                        client.output()
                    );
                    client.close_stdin(); // gnutls-cli sends close_notify
                }
                let s = join_within(server, Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("{tag}: {e}\n{}", client.output()));
                served.push(s);
            }
            assert!(client.wait_exit(Duration::from_secs(10)), "{tag}: exits");
            let output = client.output();
            assert!(served[0].lines.is_empty());
            assert_eq!(served[1].lines, lines(20), "{tag}: every byte arrived");
            for (i, s) in served.iter().enumerate() {
                assert!(s.clean_end, "{tag} #{i}: close_notify read as Ok(0)");
                assert_eq!(s.fd_path, mode == Mode::FdPath);
                assert_eq!(s.protocol, Some(version));
                assert_eq!(s.alpn.as_deref(), Some("http/1.1"), "{tag} #{i}");
                assert!(s.peer.as_deref().unwrap_or("").contains("alice"), "{tag}");
                assert_eq!(s.reused, i == 1, "{tag} #{i}: {output}");
            }
            assert_eq!(served[0].server_name.as_deref(), Some("localhost"));
            if version == Protocol::Tls1_3 {
                assert_eq!(served[1].server_name.as_deref(), Some("localhost"));
            }
            assert!(output.contains("This is a resumed session"), "{output}");
            for line in lines(20) {
                let answer = String::from_utf8(reversed(&line)).unwrap();
                assert!(output.contains(&answer), "{tag}: answer printed");
            }
            eprintln!("{tag}: ok");
        }
    })
}

#[test]
fn sslbridge_server_refuses_gnutls_cli_without_certificate() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for (mode, version) in cells() {
            let (listener, port) = listen();
            let args: Vec<String> = vec![
                "127.0.0.1".into(),
                format!("--port={port}"),
                gnutls_priority(version),
                format!("--x509cafile={}", pki.path("root.pem")),
                "--sni-hostname=localhost".into(),
                "--verify-hostname=localhost".into(),
            ];
            let out = pki
                .dir
                .path()
                .join(format!("nocert-{mode:?}-{version:?}.out"));
            let mut client = ChildGuard::spawn_logged("gnutls-cli", &args, out);
            let tcp = accept_within(&listener, Duration::from_secs(10)).unwrap();
            let options =
                mode.server(ServerOptions::new().context(pki.mtls_server_context(version)));
            let err = options.accept(tcp).expect_err("no client certificate");
            assert!(err.to_string().contains("certificate"), "{err}");
            client.close_stdin();
            assert!(client.wait_exit(Duration::from_secs(10)));
            let output = client.output();
            assert!(
                output.contains("rror"),
                "gnutls-cli reports the alert: {output}"
            );
        }
    })
}

//! Interop with the `openssl` command-line peers, both ways, on the fd path and the custom BIO,
//! in TLS 1.2 and 1.3: data both ways, close_notify from either side, client certificates,
//! ALPN, SNI and resumption.
//!
//! `openssl s_server -rev` answers every line reversed, ends the connection with close_notify on
//! a `CLOSE` line, and answers our close_notify with its own. `openssl s_client` sends its
//! stdin, prints what it receives and sends close_notify when its stdin ends.

use crate::common::*;
use sslbridge::{ClientOptions, Protocol, ServerOptions, Session, Transport, Verify};
use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Our client against s_server -rev: sends the lines, checks each answer byte for byte.
fn exchange_reversed<T: Transport + Send + 'static>(
    tls: &mut sslbridge::SslStream<T>,
    seed: u64,
) -> usize {
    let mut reader_buf = Vec::new();
    let mut bytes = 0;
    for line in lines(seed) {
        tls.write_all(&line).unwrap();
        tls.write_all(b"\n").unwrap();
        reader_buf.clear();
        // Read the answer line byte-exactly through BufRead.
        let mut r = BufReader::with_capacity(1, &mut *tls);
        r.read_until(b'\n', &mut reader_buf).unwrap();
        assert_eq!(reader_buf.pop(), Some(b'\n'), "answer line is terminated");
        assert_eq!(reader_buf, reversed(&line), "s_server's answer");
        bytes += 2 * (line.len() + 1);
    }
    bytes
}

fn our_client(pki: &Fixture, mode: Mode, version: Protocol, host: &str) -> ClientOptions {
    mode.client(
        ClientOptions::new()
            .hostname(host)
            .verify(Verify::Required)
            .context(pki.client_context(version))
            .certificate_chain_pem(&pki.client.chain_pem)
            .private_key_pem(&pki.client.key_pem),
    )
}

fn s_server(pki: &Fixture, version: Protocol, tag: &str) -> (ChildGuard, u16) {
    start_server("openssl", pki.dir.path(), tag, |port| {
        [
            "s_server",
            "-accept",
            &format!("127.0.0.1:{port}"),
            "-rev",
            openssl_flag(version),
            "-cert",
            &pki.path("server.pem"),
            "-cert_chain",
            &pki.path("intermediate.pem"),
            "-key",
            &pki.path("server.key"),
            "-servername",
            "sni.example",
            "-cert2",
            &pki.path("other-chain.pem"),
            "-key2",
            &pki.path("other.key"),
            "-Verify",
            "1",
            "-CAfile",
            &pki.path("root.pem"),
            "-alpn",
            "h2,http/1.1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    })
}

#[test]
fn sslbridge_client_to_openssl_s_server() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for (mode, version) in cells() {
            let tag = format!("s_server-{mode:?}-{version:?}");
            let (mut server, port) = s_server(pki, version, &tag);

            // 1. mTLS + ALPN + SNI(localhost) + data both ways; the server ends (CLOSE line).
            let mut tls = our_client(pki, mode, version, "localhost")
                .alpn_protocols(&["http/1.1"])
                .connect(connect(port))
                .unwrap_or_else(|e| panic!("{tag}: {e}\n{}", server.output()));
            assert_eq!(tls.uses_fd_fast_path(), mode == Mode::FdPath);
            assert_eq!(tls.protocol_version(), Some(version), "{tag}");
            assert_eq!(tls.selected_alpn_protocol(), Some("http/1.1"), "{tag}");
            let cert = tls.peer_certificate().unwrap();
            assert!(cert.dns_names().contains(&"localhost".to_string()));
            exchange_reversed(&mut tls, 1);
            tls.write_all(b"CLOSE\n").unwrap();
            let rest = read_to_close(&mut tls).unwrap_or_else(|(e, _)| panic!("{tag}: {e}"));
            assert!(rest.is_empty(), "{tag}: nothing after the answers");
            let session: Session = tls.session().expect("resumable session");
            tls.close().unwrap();
            assert!(
                server.wait_output("CN = alice", Duration::from_secs(5)),
                "{tag}"
            );

            // 2. Resumption; we end with close_notify and s_server answers with its own.
            let mut tls = our_client(pki, mode, version, "localhost")
                .session(session)
                .connect(connect(port))
                .unwrap();
            assert!(tls.session_reused(), "{tag}: resumed");
            exchange_reversed(&mut tls, 2);
            tls.shutdown().unwrap();
            let rest = read_to_close(&mut tls).unwrap_or_else(|(e, _)| panic!("{tag}: {e}"));
            assert!(rest.is_empty());
            tls.close().unwrap();

            // 3. SNI: s_server serves its second certificate for sni.example; a full
            //    verification (chain and hostname) proves it did.
            let mut tls = our_client(pki, mode, version, "sni.example")
                .connect(connect(port))
                .unwrap_or_else(|e| panic!("{tag} SNI: {e}"));
            let names = tls.peer_certificate().unwrap().dns_names();
            assert_eq!(names, vec!["sni.example".to_string()], "{tag}");
            assert_eq!(tls.selected_alpn_protocol(), None);
            exchange_reversed(&mut tls, 3);
            tls.write_all(b"CLOSE\n").unwrap();
            assert!(read_to_close(&mut tls).is_ok());
            tls.close().unwrap();

            let out = server.output();
            assert_eq!(
                out.matches("CONNECTION CLOSED").count(),
                3,
                "{tag}: s_server saw three clean ends:\n{out}"
            );
            eprintln!("{tag}: ok");
        }
    })
}

#[test]
fn s_server_refuses_a_client_without_certificate() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for (mode, version) in cells() {
            let (mut server, port) = s_server(pki, version, "s_server-nocert");
            let outcome = mode
                .client(
                    ClientOptions::new()
                        .hostname("localhost")
                        .context(pki.client_context(version)),
                )
                .connect(connect(port))
                .and_then(|mut tls| {
                    // In TLS 1.3 the server's verdict arrives after our handshake completes.
                    tls.write_all(b"x\n")?;
                    let mut buf = [0u8; 16];
                    let n = tls.read(&mut buf)?;
                    Ok(n)
                });
            let err = outcome.expect_err("the server requires a client certificate");
            let text = err.to_string();
            assert!(
                text.contains("certificate") || text.contains("handshake failure"),
                "{mode:?} {version:?}: {text}"
            );
            let _ = server.wait_output("ERROR", Duration::from_secs(2));
        }
    })
}

// ---------------------------------------------------------------------------------------------
// openssl s_client against our server
// ---------------------------------------------------------------------------------------------

#[test]
fn openssl_s_client_to_sslbridge_server() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for (mode, version) in cells() {
            let tag = format!("s_client-{mode:?}-{version:?}");
            let context = pki.mtls_server_context(version);
            let (listener, port) = listen();
            let sess = pki.path(&format!("{tag}.sess"));
            let mut seen = Vec::new();
            for (round, resume) in [(0u64, false), (1, true)] {
                let sess_flag = if resume { "-sess_in" } else { "-sess_out" };
                let args: Vec<String> = [
                    "s_client",
                    "-connect",
                    &format!("127.0.0.1:{port}"),
                    openssl_flag(version),
                    "-servername",
                    "localhost",
                    "-verify_hostname",
                    "localhost",
                    "-verify_return_error",
                    "-CAfile",
                    &pki.path("root.pem"),
                    "-cert",
                    &pki.path("client.pem"),
                    "-cert_chain",
                    &pki.path("intermediate.pem"),
                    "-key",
                    &pki.path("client.key"),
                    "-alpn",
                    "http/1.1",
                    sess_flag,
                    &sess,
                ]
                .iter()
                .map(|s| s.to_string())
                .collect();
                let out = pki.dir.path().join(format!("{tag}-{round}.out"));
                let mut client = ChildGuard::spawn_logged("openssl", &args, out);
                let tcp = accept_within(&listener, Duration::from_secs(10)).unwrap();
                let options = mode.server(
                    ServerOptions::new()
                        .context(context.clone())
                        .alpn_protocols(&["h2", "http/1.1"]),
                );
                let server = std::thread::spawn(move || serve_reversed(options, tcp));
                let sent = lines(10 + round);
                for line in &sent {
                    client.feed(line);
                    client.feed(b"\n");
                }
                let last = String::from_utf8(reversed(sent.last().unwrap())).unwrap();
                assert!(
                    client.wait_output(&last, Duration::from_secs(10)),
                    "{tag}: s_client printed the answers:\n{}",
                    client.output()
                );
                client.close_stdin(); // s_client sends close_notify and exits
                let served = join_within(server, Duration::from_secs(10))
                    .unwrap_or_else(|e| panic!("{tag}: {e}\n{}", client.output()));
                assert!(client.wait_exit(Duration::from_secs(10)), "{tag} exits");
                let output = client.output();
                assert_eq!(served.lines, sent, "{tag}: every byte arrived");
                for line in &sent {
                    let answer = String::from_utf8(reversed(line)).unwrap();
                    assert!(output.contains(&answer), "{tag}: answer printed");
                }
                assert!(
                    served.clean_end,
                    "{tag}: s_client's close_notify read as Ok(0)"
                );
                assert_eq!(served.fd_path, mode == Mode::FdPath);
                assert_eq!(served.protocol, Some(version));
                if resume && version == Protocol::Tls1_2 {
                    // OpenSSL keeps the name in a TLS 1.2 session only if the servername
                    // callback acknowledged it; sslbridge's answers NOACK without an SNI
                    // callback, so a resumed TLS 1.2 connection reports no name (see report).
                    assert!(
                        matches!(served.server_name.as_deref(), None | Some("localhost")),
                        "{tag}: {:?}",
                        served.server_name
                    );
                } else {
                    assert_eq!(
                        served.server_name.as_deref(),
                        Some("localhost"),
                        "{tag} round {round}"
                    );
                }
                assert_eq!(served.alpn.as_deref(), Some("http/1.1"));
                assert!(output.contains("ALPN protocol: http/1.1"), "{output}");
                assert!(served.peer.as_deref().unwrap_or("").contains("alice"));
                assert!(output.contains("Verify return code: 0 (ok)"), "{output}");
                assert_eq!(served.reused, resume, "{tag} round {round}: {output}");
                if resume {
                    assert!(output.contains("Reused,"), "{tag}: {output}");
                }
                seen.push(served);
            }
            eprintln!("{tag}: ok");
        }
    })
}

#[test]
fn sslbridge_server_refuses_s_client_without_certificate() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for (mode, version) in cells() {
            let (listener, port) = listen();
            let args: Vec<String> = [
                "s_client",
                "-connect",
                &format!("127.0.0.1:{port}"),
                openssl_flag(version),
                "-CAfile",
                &pki.path("root.pem"),
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            let out = pki
                .dir
                .path()
                .join(format!("nocert-{mode:?}-{version:?}.out"));
            let mut client = ChildGuard::spawn_logged("openssl", &args, out);
            let tcp = accept_within(&listener, Duration::from_secs(10)).unwrap();
            let options =
                mode.server(ServerOptions::new().context(pki.mtls_server_context(version)));
            let err = options.accept(tcp).expect_err("no client certificate");
            assert!(err.to_string().contains("certificate"), "{err}");
            client.close_stdin();
            client.wait_exit(Duration::from_secs(5));
            let output = client.output();
            assert!(
                output.contains("alert") || output.contains("errno") || output.contains("error"),
                "{output}"
            );
        }
    })
}

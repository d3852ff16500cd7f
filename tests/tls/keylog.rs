//! Key logging: NSS key log lines from `keylog_callback` and `keylog_file`, in the format
//! `openssl s_client/s_server -keylogfile` writes, and identical to the lines the OpenSSL
//! peer wrote for the same connection.

use crate::common::*;
use sslbridge::testing::TestPki;
use sslbridge::{ClientOptions, Context, Protocol, ServerOptions, VerifyMode};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TLS13_LABELS: [&str; 5] = [
    "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
    "CLIENT_TRAFFIC_SECRET_0",
    "EXPORTER_SECRET",
    "SERVER_HANDSHAKE_TRAFFIC_SECRET",
    "SERVER_TRAFFIC_SECRET_0",
];

fn is_hex(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Checks every line's shape and returns the set of labels. `secret_hex` is the expected
/// length of the secret in hex digits.
fn check_lines(lines: &[String], secret_hex: usize) -> BTreeSet<String> {
    assert!(!lines.is_empty(), "no key log lines");
    let mut labels = BTreeSet::new();
    for line in lines {
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 3, "three fields: {line:?}");
        assert_eq!(parts[1].len(), 64, "64-hex client random: {line:?}");
        assert!(
            is_hex(parts[1]) && is_hex(parts[2]),
            "lowercase hex: {line:?}"
        );
        assert_eq!(parts[2].len(), secret_hex, "secret length: {line:?}");
        labels.insert(parts[0].to_string());
    }
    let randoms: BTreeSet<&str> = lines.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(
        randoms.len(),
        1,
        "one connection, one client random: {lines:?}"
    );
    labels
}

fn expected_labels(version: Protocol) -> BTreeSet<String> {
    match version {
        Protocol::Tls1_3 => TLS13_LABELS.iter().map(|s| s.to_string()).collect(),
        _ => ["CLIENT_RANDOM".to_string()].into(),
    }
}

/// Secret length in hex: TLS 1.2 master secret 48 bytes; TLS 1.3 the suite's hash length.
fn secret_hex(version: Protocol, cipher: &str) -> usize {
    match version {
        Protocol::Tls1_3 if cipher.ends_with("SHA384") => 96,
        Protocol::Tls1_3 => 64,
        _ => 96,
    }
}

type Lines = Arc<Mutex<Vec<String>>>;

fn collecting(builder: sslbridge::ContextBuilder) -> (Context, Lines) {
    let lines: Lines = Arc::default();
    let sink = lines.clone();
    let ctx = builder
        .keylog_callback(move |line| sink.lock().unwrap().push(line.to_string()))
        .build()
        .unwrap();
    (ctx, lines)
}

#[test]
fn callback_lines_match_on_both_sides() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let key = pki.server(&["localhost"]).unwrap();
        for version in [Protocol::Tls1_2, Protocol::Tls1_3] {
            let (server_ctx, server_lines) = collecting(
                Context::builder()
                    .verify_mode(VerifyMode::NONE)
                    .max_protocol_version(version)
                    .certificate_chain_pem(&key.chain_pem)
                    .private_key_pem(&key.key_pem),
            );
            let (client_ctx, client_lines) =
                collecting(Context::builder().ca_certificates_pem(&pki.root_pem()));
            let (c, s) = pipe();
            let server = serve_line(ServerOptions::new().context(server_ctx), s);
            let mut tls = ClientOptions::new()
                .hostname("localhost")
                .context(client_ctx)
                .connect(c)
                .unwrap();
            assert_eq!(tls.protocol_version(), Some(version));
            let cipher = tls.cipher_name().unwrap().to_string();
            exchange_line(&mut tls, "x");
            tls.close().unwrap();
            join(server).unwrap();
            let client_lines = client_lines.lock().unwrap().clone();
            let server_lines = server_lines.lock().unwrap().clone();
            let labels = check_lines(&client_lines, secret_hex(version, &cipher));
            assert_eq!(
                labels,
                expected_labels(version),
                "{version}: {client_lines:?}"
            );
            assert_eq!(
                client_lines.iter().collect::<BTreeSet<_>>(),
                server_lines.iter().collect::<BTreeSet<_>>(),
                "{version}: both sides log the same secrets"
            );
            assert_eq!(client_lines.len(), labels.len(), "each secret once");
        }
    });
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Waits until `path` holds at least `n` key log lines (OpenSSL's apps flush per line).
fn wait_lines(path: &Path, n: usize) -> Vec<String> {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let lines = read_lines(path);
        if lines.len() >= n || Instant::now() > end {
            return lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn keylog_file_matches_s_server_keylogfile() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let files = TempFiles::new();
        let key = pki.server(&["localhost"]).unwrap();
        let (cert, _, k) = write_key(&files, "server", &key);
        let inter = files.write("inter.pem", &pki.intermediate_pem());
        for (flag, version) in [("-tls1_2", Protocol::Tls1_2), ("-tls1_3", Protocol::Tls1_3)] {
            let theirs = files.file(&format!("s_server{flag}.keys"));
            let ours = files.file(&format!("ours{flag}.keys"));
            let server = SServer::start(
                &files,
                &[
                    "-cert",
                    p(&cert),
                    "-key",
                    p(&k),
                    "-cert_chain",
                    p(&inter),
                    "-rev",
                    flag,
                    "-keylogfile",
                    p(&theirs),
                ],
            );
            let ctx = Context::builder()
                .ca_certificates_pem(&pki.root_pem())
                .keylog_file(&ours)
                .unwrap()
                .build()
                .unwrap();
            let mut tls = ClientOptions::new()
                .hostname("localhost")
                .context(ctx)
                .connect(server.connect())
                .unwrap();
            let cipher = tls.cipher_name().unwrap().to_string();
            assert_eq!(exchange_line(&mut tls, "abc"), "cba");
            tls.close().unwrap();
            let ours = read_lines(&ours);
            let labels = check_lines(&ours, secret_hex(version, &cipher));
            assert_eq!(labels, expected_labels(version));
            let theirs = wait_lines(&theirs, ours.len());
            let theirs_labels = check_lines(&theirs, secret_hex(version, &cipher));
            assert_eq!(labels, theirs_labels, "{version}: same labels as s_server");
            assert_eq!(
                ours.iter().collect::<BTreeSet<_>>(),
                theirs.iter().collect::<BTreeSet<_>>(),
                "{version}: our client and s_server logged identical lines"
            );
        }
    });
}

#[test]
fn keylog_file_matches_s_client_keylogfile() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let files = TempFiles::new();
        let root = files.write("root.pem", &pki.root_pem());
        let key = pki.server(&["localhost"]).unwrap();
        for (flag, version) in [("-tls1_2", Protocol::Tls1_2), ("-tls1_3", Protocol::Tls1_3)] {
            let theirs = files.file(&format!("s_client{flag}.keys"));
            let ours = files.file(&format!("server{flag}.keys"));
            let (listener, port) = listen();
            let mut sc = s_client(
                &files,
                port,
                &[
                    "-CAfile",
                    p(&root),
                    "-servername",
                    "localhost",
                    flag,
                    "-keylogfile",
                    p(&theirs),
                ],
                &format!("keylog{flag}"),
            );
            sc.feed(b"hello\n");
            let tcp =
                accept_within(&listener, Duration::from_secs(10)).expect("no connection to accept");
            let ctx = Context::builder()
                .verify_mode(VerifyMode::NONE)
                .certificate_chain_pem(&key.chain_pem)
                .private_key_pem(&key.key_pem)
                .keylog_file(&ours)
                .unwrap()
                .build()
                .unwrap();
            let served = serve_line_on(ServerOptions::new().context(ctx), tcp).unwrap();
            assert_eq!(served.protocol, Some(version));
            sc.close_stdin();
            sc.wait_exit(Duration::from_secs(10));
            let ours = read_lines(&ours);
            let theirs = wait_lines(&theirs, ours.len());
            assert_eq!(ours.len(), expected_labels(version).len(), "{ours:?}");
            let secret_len = ours[0].split(' ').nth(2).unwrap().len();
            assert_eq!(check_lines(&ours, secret_len), expected_labels(version));
            assert_eq!(check_lines(&theirs, secret_len), expected_labels(version));
            assert_eq!(
                ours.iter().collect::<BTreeSet<_>>(),
                theirs.iter().collect::<BTreeSet<_>>(),
                "{version}: our server and s_client logged identical lines"
            );
        }
    });
}

#[test]
fn keylog_file_appends_one_line_per_secret_per_connection() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let key = pki.server(&["localhost"]).unwrap();
        let files = TempFiles::new();
        let path = files.file("client.keys");
        let ctx = Context::builder()
            .ca_certificates_pem(&pki.root_pem())
            .keylog_file(&path)
            .unwrap()
            .build()
            .unwrap();
        for _ in 0..3 {
            let (c, s) = pipe();
            let server = serve_line(
                ServerOptions::new().context(server_context(&key.chain_pem, &key.key_pem, None)),
                s,
            );
            let mut tls = ClientOptions::new()
                .hostname("localhost")
                .context(ctx.clone())
                .connect(c)
                .unwrap();
            exchange_line(&mut tls, "x");
            tls.close().unwrap();
            join(server).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'), "lines end with a newline");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3 * TLS13_LABELS.len(), "{text}");
        let randoms: BTreeSet<&str> = lines.iter().map(|l| l.split(' ').nth(1).unwrap()).collect();
        assert_eq!(randoms.len(), 3, "three connections");
    });
}

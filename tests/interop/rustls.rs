//! Interop with rustls (in-process), both ways, in TLS 1.2 and 1.3, over three transports:
//! `sslbridge::duplex()` (the custom BIO over an in-memory pipe) and loopback TCP on the fd
//! path and on the custom BIO. rustls runs `rustls::StreamOwned` on its end. Covers data both
//! ways, close_notify from either side, client certificates, ALPN, SNI and resumption (rustls'
//! in-memory client session cache and server session storage, OpenSSL's on our side).

use crate::common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConnection, HandshakeKind, ServerConnection, StreamOwned};
use sslbridge::{ClientOptions, Protocol, ServerOptions, Session, Transport, Verify};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Duplex,
    Tcp(Mode),
}

const WIRES: [Wire; 3] = [
    Wire::Duplex,
    Wire::Tcp(Mode::FdPath),
    Wire::Tcp(Mode::CustomBio),
];

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls dev-dependency is built without its `tls12` feature, so rustls speaks TLS 1.3
/// only. With `features = ["ring", "std", "tls12"]` in Cargo.toml, add `Protocol::Tls1_2`
/// here and map it to `rustls::version::TLS12` below.
const RUSTLS_VERSIONS: [Protocol; 2] = [Protocol::Tls1_2, Protocol::Tls1_3];

fn rustls_version(v: Protocol) -> &'static rustls::SupportedProtocolVersion {
    match v {
        Protocol::Tls1_2 => &rustls::version::TLS12,
        Protocol::Tls1_3 => &rustls::version::TLS13,
        other => panic!("rustls does not speak {other:?}"),
    }
}

fn certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<_, _>>()
        .expect("PEM certificates")
}

fn key(pem: &[u8]) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_slice(pem).expect("PEM key")
}

fn roots(pki: &Fixture) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for c in certs(&pki.pki.root_pem()) {
        roots.add(c).unwrap();
    }
    roots
}

/// A rustls client: trusts the root, presents alice's certificate, offers http/1.1; one
/// config per scenario so its session cache carries over to the second connection.
fn rustls_client_config(pki: &Fixture, version: Protocol) -> Arc<rustls::ClientConfig> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[rustls_version(version)])
        .unwrap()
        .with_root_certificates(roots(pki))
        .with_client_auth_cert(certs(&pki.client.chain_pem), key(&pki.client.key_pem))
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A rustls server requiring a client certificate from the root, offering http/1.1.
fn rustls_server_config(pki: &Fixture, version: Protocol) -> Arc<rustls::ServerConfig> {
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots(pki)),
        provider(),
    )
    .build()
    .unwrap();
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[rustls_version(version)])
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(&pki.server.chain_pem), key(&pki.server.key_pem))
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

fn mode_of(wire: Wire) -> Mode {
    match wire {
        Wire::Duplex => Mode::CustomBio,
        Wire::Tcp(m) => m,
    }
}

// ---------------------------------------------------------------------------------------------
// rustls client, sslbridge server
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ClientSaw {
    kind: Option<HandshakeKind>,
    alpn: Option<Vec<u8>>,
    version: Option<rustls::ProtocolVersion>,
}

/// The rustls client: sends the lines, checks the answers, sends close_notify, then expects
/// the server's close_notify (a clean `Ok(0)`).
fn rustls_client<S: Read + Write>(
    config: Arc<rustls::ClientConfig>,
    sock: S,
    seed: u64,
) -> io::Result<ClientSaw> {
    let conn = ClientConnection::new(config, ServerName::try_from("localhost").unwrap())
        .map_err(io::Error::other)?;
    let mut s = StreamOwned::new(conn, sock);
    for mut line in lines(seed) {
        line.push(b'\n');
        s.write_all(&line)?;
        let mut back = vec![0u8; line.len()];
        s.read_exact(&mut back)?;
        line.pop();
        let mut want = reversed(&line);
        want.push(b'\n');
        assert!(back == want, "sslbridge's answer, byte for byte");
    }
    let saw = ClientSaw {
        kind: s.conn.handshake_kind(),
        alpn: s.conn.alpn_protocol().map(<[u8]>::to_vec),
        version: s.conn.protocol_version(),
    };
    s.conn.send_close_notify();
    s.flush()?;
    let mut rest = Vec::new();
    s.read_to_end(&mut rest)?; // Err(UnexpectedEof) unless close_notify arrived
    assert!(rest.is_empty());
    Ok(saw)
}

/// One connection: a rustls client on `a`, our server thread on `b`.
fn from_rustls<A: Read + Write, B: Transport + Send + 'static>(
    mode: Mode,
    config: &Arc<rustls::ClientConfig>,
    context: &sslbridge::Context,
    a: A,
    b: B,
    seed: u64,
) -> (io::Result<ClientSaw>, Result<Served, sslbridge::Error>) {
    let options = mode.server(
        ServerOptions::new()
            .context(context.clone())
            .alpn_protocols(&["http/1.1"]),
    );
    let h = std::thread::spawn(move || serve_reversed(options, b));
    let saw = rustls_client(config.clone(), a, seed);
    (saw, join_within(h, Duration::from_secs(10)))
}

#[test]
fn rustls_client_to_sslbridge_server() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for wire in WIRES {
            for version in RUSTLS_VERSIONS {
                let tag = format!("rustls-client-{wire:?}-{version:?}");
                let mode = mode_of(wire);
                let config = rustls_client_config(pki, version);
                let context = pki.mtls_server_context(version);
                for round in 0..2u64 {
                    let (saw, served) = match wire {
                        Wire::Duplex => {
                            let (a, b) = sslbridge::duplex(64 * 1024);
                            from_rustls(mode, &config, &context, a, b, round)
                        }
                        Wire::Tcp(_) => {
                            let (a, b) = tcp_pair_with_timeouts();
                            from_rustls(mode, &config, &context, a, b, round)
                        }
                    };
                    let saw = saw.unwrap_or_else(|e| panic!("{tag}: rustls: {e}"));
                    let served = served.unwrap_or_else(|e| panic!("{tag}: sslbridge: {e}"));
                    assert_eq!(served.lines, lines(round), "{tag}: every byte arrived");
                    assert!(served.clean_end, "{tag}: rustls' close_notify is Ok(0)");
                    assert_eq!(served.fd_path, wire == Wire::Tcp(Mode::FdPath));
                    assert_eq!(served.protocol, Some(version));
                    assert_eq!(served.alpn.as_deref(), Some("http/1.1"));
                    assert_eq!(saw.alpn.as_deref(), Some(&b"http/1.1"[..]));
                    assert!(served.peer.as_deref().unwrap_or("").contains("alice"));
                    let want = if version == Protocol::Tls1_3 {
                        rustls::ProtocolVersion::TLSv1_3
                    } else {
                        rustls::ProtocolVersion::TLSv1_2
                    };
                    assert_eq!(saw.version, Some(want));
                    if round == 0 || version == Protocol::Tls1_3 {
                        assert_eq!(served.server_name.as_deref(), Some("localhost"), "{tag}");
                    }
                    let resumed = round == 1;
                    assert_eq!(served.reused, resumed, "{tag} round {round}");
                    let kind = if resumed {
                        HandshakeKind::Resumed
                    } else {
                        HandshakeKind::Full
                    };
                    assert_eq!(saw.kind, Some(kind), "{tag} round {round}");
                }
                eprintln!("{tag}: ok");
            }
        }
    })
}

// ---------------------------------------------------------------------------------------------
// sslbridge client, rustls server
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ServerSaw {
    lines: Vec<Vec<u8>>,
    clean_end: bool,
    sni: Option<String>,
    alpn: Option<Vec<u8>>,
    kind: Option<HandshakeKind>,
    client_certs: usize,
}

/// The rustls server: answers each line reversed until the client's close_notify, then sends
/// its own.
fn rustls_server<S: Read + Write>(
    config: Arc<rustls::ServerConfig>,
    sock: S,
) -> io::Result<ServerSaw> {
    let conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut s = StreamOwned::new(conn, sock);
    let (mut pending, mut lines_seen) = (Vec::new(), Vec::new());
    let mut buf = [0u8; 4096];
    loop {
        let n = s.read(&mut buf)?; // Err(UnexpectedEof) unless close_notify arrived
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).take(pos).collect();
            let mut answer = reversed(&line);
            answer.push(b'\n');
            s.write_all(&answer)?;
            lines_seen.push(line);
        }
    }
    let saw = ServerSaw {
        lines: lines_seen,
        clean_end: pending.is_empty(),
        sni: s.conn.server_name().map(str::to_string),
        alpn: s.conn.alpn_protocol().map(<[u8]>::to_vec),
        kind: s.conn.handshake_kind(),
        client_certs: s.conn.peer_certificates().map_or(0, <[_]>::len),
    };
    s.conn.send_close_notify();
    s.flush()?;
    Ok(saw)
}

/// Our client: sends the lines, checks the answers, sends close_notify, expects rustls'.
fn sslbridge_client<T: Transport + Send + 'static>(
    pki: &Fixture,
    version: Protocol,
    mode: Mode,
    session: Option<Session>,
    transport: T,
    seed: u64,
) -> Result<(bool, Option<Session>), sslbridge::Error> {
    let mut options = mode.client(
        ClientOptions::new()
            .hostname("localhost")
            .verify(Verify::Required)
            .context(pki.client_context(version))
            .certificate_chain_pem(&pki.client.chain_pem)
            .private_key_pem(&pki.client.key_pem)
            .alpn_protocols(&["h2", "http/1.1"]),
    );
    if let Some(s) = session {
        options = options.session(s);
    }
    let mut tls = options.connect(transport)?;
    assert_eq!(tls.uses_fd_fast_path(), mode == Mode::FdPath);
    assert_eq!(tls.protocol_version(), Some(version));
    assert_eq!(tls.selected_alpn_protocol(), Some("http/1.1"));
    for mut line in lines(seed) {
        line.push(b'\n');
        tls.write_all(&line)?;
        let mut back = vec![0u8; line.len()];
        tls.read_exact(&mut back)?;
        line.pop();
        let mut want = reversed(&line);
        want.push(b'\n');
        assert!(back == want, "rustls' answer, byte for byte");
    }
    tls.shutdown()?;
    let rest = read_to_close(&mut tls).map_err(|(e, _)| sslbridge::Error::Io(e))?;
    assert!(rest.is_empty());
    let reused = tls.session_reused();
    let session = tls.session();
    tls.close()?;
    Ok((reused, session))
}

/// Whether our client resumed, and the session it can offer next.
type ClientResult = Result<(bool, Option<Session>), sslbridge::Error>;

/// One connection: our client on `a`, a rustls server thread on `b`.
#[allow(clippy::too_many_arguments)]
fn to_rustls<A: Transport + Send + 'static, B: Read + Write + Send + 'static>(
    pki: &Fixture,
    version: Protocol,
    mode: Mode,
    config: &Arc<rustls::ServerConfig>,
    session: Option<Session>,
    a: A,
    b: B,
    seed: u64,
) -> (ClientResult, io::Result<ServerSaw>) {
    let config = config.clone();
    let h = std::thread::spawn(move || rustls_server(config, b));
    let mine = sslbridge_client(pki, version, mode, session, a, seed);
    (mine, join_within(h, Duration::from_secs(10)))
}

#[test]
fn sslbridge_client_to_rustls_server() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        for wire in WIRES {
            for version in RUSTLS_VERSIONS {
                let tag = format!("rustls-server-{wire:?}-{version:?}");
                let mode = mode_of(wire);
                let config = rustls_server_config(pki, version);
                let mut session = None;
                for round in 0..2u64 {
                    let s = session.take();
                    let (mine, saw) = match wire {
                        Wire::Duplex => {
                            let (a, b) = sslbridge::duplex(64 * 1024);
                            to_rustls(pki, version, mode, &config, s, a, b, round)
                        }
                        Wire::Tcp(_) => {
                            let (a, b) = tcp_pair_with_timeouts();
                            to_rustls(pki, version, mode, &config, s, a, b, round)
                        }
                    };
                    let (reused, next) = mine.unwrap_or_else(|e| panic!("{tag}: sslbridge: {e}"));
                    let saw = saw.unwrap_or_else(|e| panic!("{tag}: rustls: {e}"));
                    assert_eq!(saw.lines, lines(round), "{tag}: every byte arrived");
                    assert!(saw.clean_end);
                    assert_eq!(saw.sni.as_deref(), Some("localhost"), "{tag}");
                    assert_eq!(saw.alpn.as_deref(), Some(&b"http/1.1"[..]));
                    assert!(saw.client_certs >= 1, "{tag}: client certificate seen");
                    let resumed = round == 1;
                    assert_eq!(reused, resumed, "{tag} round {round}");
                    let kind = if resumed {
                        HandshakeKind::Resumed
                    } else {
                        HandshakeKind::Full
                    };
                    assert_eq!(saw.kind, Some(kind), "{tag} round {round}");
                    session = next;
                    assert!(session.is_some() || resumed, "{tag}: a session to resume");
                }
                eprintln!("{tag}: ok");
            }
        }
    })
}

//! Session resumption: TLS 1.2 session IDs, TLS 1.2 tickets and TLS 1.3 tickets, between our
//! own peers (including a DER round trip and a plain drop of the first stream), with the
//! server cache off, and against `openssl s_server` and `openssl s_client -sess_out/-sess_in`.

use crate::common::*;
use sslbridge::testing::TestPki;
use sslbridge::{
    ClientOptions, Context, Protocol, ServerOptions, Session, SessionCacheMode, SslOptions,
    VerifyMode,
};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Tls12SessionId,
    Tls12Ticket,
    Tls13Ticket,
}

impl Kind {
    fn version(self) -> Protocol {
        match self {
            Kind::Tls13Ticket => Protocol::Tls1_3,
            _ => Protocol::Tls1_2,
        }
    }
}

fn server_ctx(pki: &TestPki, kind: Kind, cache: SessionCacheMode) -> Context {
    let key = pki.server(&["localhost"]).unwrap();
    let mut options = SslOptions::ALL;
    if kind == Kind::Tls12SessionId {
        options = options | SslOptions::NO_TICKET;
    }
    Context::builder()
        .verify_mode(VerifyMode::NONE)
        .max_protocol_version(kind.version())
        .options(options)
        .session_cache_mode(cache)
        .certificate_chain_pem(&key.chain_pem)
        .private_key_pem(&key.key_pem)
        .build()
        .unwrap()
}

/// One connection to our server over memory: returns (client reused, server reused, session
/// taken after reading data). `close` chooses close() or a plain drop for the client.
fn connect_once(
    pki: &TestPki,
    server: &Context,
    version: Protocol,
    session: Option<Session>,
    close: bool,
) -> (bool, bool, Option<Session>) {
    let (c, s) = pipe();
    let handle = serve_line(ServerOptions::new().context(server.clone()), s);
    let mut options = ClientOptions::new()
        .hostname("localhost")
        .context(client_context(pki, Some(version)));
    if let Some(s) = session {
        options = options.session(s);
    }
    let mut tls = options.connect(c).expect("connect");
    assert_eq!(tls.protocol_version(), Some(version));
    assert_eq!(exchange_line(&mut tls, "data"), "reply: data");
    let reused = tls.session_reused();
    let taken = tls.session();
    if close {
        tls.close().expect("close");
    } else {
        drop(tls);
    }
    let served = join(handle).expect("server");
    (reused, served.reused, taken)
}

fn resumes(kind: Kind, close_first: bool) {
    let pki = TestPki::new().unwrap();
    let server = server_ctx(&pki, kind, SessionCacheMode::SERVER);
    let v = kind.version();
    let (c, s, session) = connect_once(&pki, &server, v, None, close_first);
    assert!(
        !c && !s,
        "{kind:?}: the first connection is a full handshake"
    );
    let session = session.unwrap_or_else(|| panic!("{kind:?}: no resumable session"));
    assert_eq!(session.protocol_version(), Some(v));
    match kind {
        Kind::Tls12SessionId => assert!(!session.id().is_empty(), "a session ID"),
        Kind::Tls12Ticket | Kind::Tls13Ticket => {}
    }
    let der = session.to_der();
    let (c, s, _) = connect_once(&pki, &server, v, Some(session), true);
    assert!(c, "{kind:?}: client resumed (close_first={close_first})");
    assert!(s, "{kind:?}: server resumed (close_first={close_first})");
    let restored = Session::from_der(&der).expect("DER round trip");
    let (c, s, _) = connect_once(&pki, &server, v, Some(restored), true);
    assert!(c && s, "{kind:?}: a session restored from DER resumes");
}

#[test]
fn tls12_session_id_resumes() {
    within(TLS_LIMIT, || resumes(Kind::Tls12SessionId, true));
}

#[test]
fn tls12_ticket_resumes() {
    within(TLS_LIMIT, || resumes(Kind::Tls12Ticket, true));
}

#[test]
fn tls13_ticket_resumes() {
    within(TLS_LIMIT, || resumes(Kind::Tls13Ticket, true));
}

#[test]
fn resumption_survives_a_plain_drop_of_the_first_stream() {
    within(TLS_LIMIT, || {
        for kind in [Kind::Tls12SessionId, Kind::Tls12Ticket, Kind::Tls13Ticket] {
            resumes(kind, false);
        }
    });
}

#[test]
fn cache_off_without_tickets_does_not_resume() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        for kind in [Kind::Tls12SessionId, Kind::Tls13Ticket] {
            let key = pki.server(&["localhost"]).unwrap();
            let server = Context::builder()
                .verify_mode(VerifyMode::NONE)
                .max_protocol_version(kind.version())
                .options(SslOptions::ALL | SslOptions::NO_TICKET)
                .session_cache_mode(SessionCacheMode::OFF)
                .certificate_chain_pem(&key.chain_pem)
                .private_key_pem(&key.key_pem)
                .build()
                .unwrap();
            let v = kind.version();
            let (_, _, session) = connect_once(&pki, &server, v, None, true);
            if let Some(session) = session {
                let (c, s, _) = connect_once(&pki, &server, v, Some(session), true);
                assert!(!c && !s, "{kind:?}: resumed although the cache is off");
            }
        }
    });
}

#[test]
fn a_session_from_another_server_context_is_not_resumed() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        for kind in [Kind::Tls12SessionId, Kind::Tls12Ticket, Kind::Tls13Ticket] {
            let one = server_ctx(&pki, kind, SessionCacheMode::SERVER);
            let other = server_ctx(&pki, kind, SessionCacheMode::SERVER);
            let (_, _, session) = connect_once(&pki, &one, kind.version(), None, true);
            let (c, s, _) = connect_once(&pki, &other, kind.version(), session, true);
            assert!(
                !c && !s,
                "{kind:?}: another context has other keys and cache"
            );
        }
    });
}

#[test]
fn a_session_does_not_resume_on_a_rebuilt_context() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        for kind in [Kind::Tls12SessionId, Kind::Tls12Ticket, Kind::Tls13Ticket] {
            let one = server_ctx(&pki, kind, SessionCacheMode::SERVER);
            let (_, _, session) = connect_once(&pki, &one, kind.version(), None, true);
            let session = session.expect("a session");
            // Same settings and certificate, new session cache and ticket keys.
            let rebuilt = one.to_builder().build().unwrap();
            let (c, s, _) =
                connect_once(&pki, &rebuilt, kind.version(), Some(session.clone()), true);
            assert!(
                !c && !s,
                "{kind:?}: a rebuilt context has its own cache and keys"
            );
            // The original context still resumes it.
            let (c, s, _) = connect_once(&pki, &one, kind.version(), Some(session), true);
            assert!(c && s, "{kind:?}: the original context resumes");
        }
    });
}

#[test]
fn our_client_resumes_with_s_server() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let files = TempFiles::new();
        let key = pki.server(&["localhost"]).unwrap();
        let (cert, _, k) = write_key(&files, "server", &key);
        let inter = files.write("inter.pem", &pki.intermediate_pem());
        for (flag, version) in [("-tls1_2", Protocol::Tls1_2), ("-tls1_3", Protocol::Tls1_3)] {
            for tickets in [true, false] {
                let mut args = vec![
                    "-cert",
                    p(&cert),
                    "-key",
                    p(&k),
                    "-cert_chain",
                    p(&inter),
                    "-rev",
                    flag,
                ];
                if !tickets {
                    args.push("-no_ticket");
                }
                let server = SServer::start(&files, &args);
                let client = || {
                    ClientOptions::new()
                        .hostname("localhost")
                        .context(client_context(&pki, None))
                };
                let mut tls = client().connect(server.connect()).unwrap();
                assert_eq!(tls.protocol_version(), Some(version));
                assert_eq!(exchange_line(&mut tls, "abc"), "cba");
                assert!(!tls.session_reused());
                let session = tls.session().expect("resumable session from s_server");
                tls.close().unwrap();
                let mut tls = client().session(session).connect(server.connect()).unwrap();
                assert_eq!(exchange_line(&mut tls, "abc"), "cba");
                assert!(
                    tls.session_reused(),
                    "{flag} tickets={tickets}: s_server resumed our session"
                );
            }
        }
    });
}

#[test]
fn s_client_resumes_with_our_server() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let files = TempFiles::new();
        let root = files.write("root.pem", &pki.root_pem());
        for kind in [Kind::Tls12SessionId, Kind::Tls12Ticket, Kind::Tls13Ticket] {
            let server = server_ctx(&pki, kind, SessionCacheMode::SERVER);
            let sess = files.file(&format!("{kind:?}.sess"));
            let mut outputs = Vec::new();
            for (i, sess_flag) in ["-sess_out", "-sess_in"].into_iter().enumerate() {
                let (listener, port) = listen();
                let mut sc = s_client(
                    &files,
                    port,
                    &[
                        "-CAfile",
                        p(&root),
                        "-servername",
                        "localhost",
                        sess_flag,
                        p(&sess),
                    ],
                    &format!("{kind:?}-{i}"),
                );
                sc.feed(b"hello\n");
                let tcp = accept_within(&listener, Duration::from_secs(10))
                    .expect("no connection to accept");
                let served = serve_line_on(ServerOptions::new().context(server.clone()), tcp)
                    .expect("our server");
                assert_eq!(served.protocol, Some(kind.version()));
                assert_eq!(
                    served.reused,
                    i == 1,
                    "{kind:?} connection {i}: server reused"
                );
                sc.close_stdin();
                sc.wait_exit(Duration::from_secs(10));
                outputs.push(sc.output());
            }
            assert!(outputs[0].contains("\nNew, "), "{kind:?}:\n{}", outputs[0]);
            assert!(
                outputs[1].contains("\nReused, "),
                "{kind:?}:\n{}",
                outputs[1]
            );
        }
    });
}

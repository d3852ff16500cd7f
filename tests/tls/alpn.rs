//! ALPN: the server's preference order wins, a callback can choose, no overlap means no
//! protocol (or a clean handshake failure with `alpn_required`); against `openssl s_server
//! -alpn` and `openssl s_client -alpn` too.

use crate::common::*;
use sslbridge::testing::TestPki;
use sslbridge::{ClientOptions, Error, ServerOptions};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Outcome {
    client: Result<Option<String>, Error>,
    server: Result<Served, Error>,
}

fn negotiate(pki: &TestPki, offer: &[&str], server: ServerOptions) -> Outcome {
    let key = pki.server(&["localhost"]).unwrap();
    let (c, s) = pipe();
    let handle = serve_line(
        server.context(server_context(&key.chain_pem, &key.key_pem, None)),
        s,
    );
    let client = ClientOptions::new()
        .hostname("localhost")
        .context(client_context(pki, None))
        .alpn_protocols(offer)
        .connect(c)
        .map(|mut tls| {
            let chosen = tls.selected_alpn_protocol().map(str::to_string);
            assert_eq!(exchange_line(&mut tls, "x"), "reply: x");
            chosen
        });
    Outcome {
        client,
        server: join(handle),
    }
}

#[test]
fn server_preference_wins() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let o = negotiate(
            &pki,
            &["h2", "http/1.1"],
            ServerOptions::new().alpn_protocols(&["http/1.1", "h2"]),
        );
        assert_eq!(o.client.unwrap().as_deref(), Some("http/1.1"));
        assert_eq!(o.server.unwrap().alpn.as_deref(), Some("http/1.1"));
    });
}

#[test]
fn callback_chooses_from_the_client_offer() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let o = negotiate(
            &pki,
            &["h2", "spdy/3", "http/1.1"],
            ServerOptions::new().alpn_select_callback(move |offer| {
                log.lock()
                    .unwrap()
                    .extend(offer.iter().map(|s| s.to_string()));
                Some("spdy/3".to_string())
            }),
        );
        assert_eq!(o.client.unwrap().as_deref(), Some("spdy/3"));
        assert_eq!(o.server.unwrap().alpn.as_deref(), Some("spdy/3"));
        assert_eq!(*seen.lock().unwrap(), vec!["h2", "spdy/3", "http/1.1"]);
    });
}

#[test]
fn callback_choosing_nothing_or_something_unoffered_selects_nothing() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let o = negotiate(
            &pki,
            &["h2"],
            ServerOptions::new().alpn_select_callback(|_| None),
        );
        assert_eq!(o.client.unwrap(), None);
        // A protocol the client did not offer must not be selected.
        let o = negotiate(
            &pki,
            &["h2"],
            ServerOptions::new().alpn_select_callback(|_| Some("imap".into())),
        );
        assert_eq!(o.client.unwrap(), None);
        assert_eq!(o.server.unwrap().alpn, None);
    });
}

#[test]
fn no_overlap_selects_no_protocol_by_default() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let o = negotiate(
            &pki,
            &["h2"],
            ServerOptions::new().alpn_protocols(&["http/1.1"]),
        );
        assert_eq!(o.client.unwrap(), None);
        assert_eq!(o.server.unwrap().alpn, None);
        // A client that offers nothing to a server with a list: no protocol either.
        let o = negotiate(
            &pki,
            &[],
            ServerOptions::new().alpn_protocols(&["http/1.1"]),
        );
        assert_eq!(o.client.unwrap(), None);
    });
}

#[test]
fn no_overlap_with_alpn_required_fails_both_sides_cleanly() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let o = negotiate(
            &pki,
            &["h2"],
            ServerOptions::new()
                .alpn_protocols(&["http/1.1"])
                .alpn_required(true),
        );
        assert!(
            o.client.is_err(),
            "client: {:?}",
            o.client.as_ref().map(|_| ())
        );
        assert!(
            o.server.is_err(),
            "server: {:?}",
            o.server.as_ref().map(|_| ())
        );
        let text = o.client.unwrap_err().to_string();
        assert!(
            text.contains("no application protocol") || text.contains("120"),
            "the client learns why: {text}"
        );
        // The same with a callback that declines.
        let o = negotiate(
            &pki,
            &["h2"],
            ServerOptions::new()
                .alpn_select_callback(|_| None)
                .alpn_required(true),
        );
        assert!(o.client.is_err() && o.server.is_err());
    });
}

#[test]
fn alpn_required_without_protocols_fails_an_offer_and_lets_no_offer_through() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        // Nothing can match a server that has no protocols: as with no overlap.
        let o = negotiate(&pki, &["h2"], ServerOptions::new().alpn_required(true));
        assert!(
            o.server.is_err(),
            "server accepted an offer it cannot match"
        );
        let text = o.client.map(|_| ()).unwrap_err().to_string();
        assert!(
            text.contains("no application protocol") || text.contains("120"),
            "the client learns why: {text}"
        );
        // A client that offers nothing is not refused.
        let o = negotiate(&pki, &[], ServerOptions::new().alpn_required(true));
        assert_eq!(o.client.unwrap(), None);
        assert_eq!(o.server.unwrap().alpn, None);
    });
}

#[test]
fn our_client_against_s_server_alpn() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let files = TempFiles::new();
        let key = pki
            .leaf("localhost")
            .dns_name("localhost")
            .issued_by_root()
            .build()
            .unwrap();
        let (cert, _, k) = write_key(&files, "server", &key);
        let server = SServer::start(
            &files,
            &["-cert", p(&cert), "-key", p(&k), "-alpn", "h2", "-rev"],
        );
        let mut tls = ClientOptions::new()
            .hostname("localhost")
            .context(client_context(&pki, None))
            .alpn_protocols(&["h2", "http/1.1"])
            .connect(server.connect())
            .unwrap();
        assert_eq!(tls.selected_alpn_protocol(), Some("h2"));
        assert_eq!(exchange_line(&mut tls, "abc"), "cba");
        // s_server serves one connection at a time: finish this one first.
        tls.close().unwrap();
        // s_server's own ALPN callback refuses a client whose offer does not overlap with a
        // fatal no_application_protocol alert: our client reports it cleanly.
        let r = ClientOptions::new()
            .hostname("localhost")
            .context(client_context(&pki, None))
            .alpn_protocols(&["http/1.1"])
            .connect(server.connect());
        assert!(
            matches!(
                r,
                Err(Error::PeerAlert {
                    alert: 120,
                    name: "no_application_protocol"
                })
            ),
            "{:?}",
            r.map(drop)
        );
    });
}

#[test]
fn s_client_alpn_against_our_server() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let files = TempFiles::new();
        let root = files.write("root.pem", &pki.root_pem());
        let key = pki.server(&["localhost"]).unwrap();
        let (listener, port) = listen();
        let mut sc = s_client(
            &files,
            port,
            &[
                "-alpn",
                "http/1.1",
                "-CAfile",
                p(&root),
                "-servername",
                "localhost",
            ],
            "alpn",
        );
        sc.feed(b"q\n");
        let tcp =
            accept_within(&listener, Duration::from_secs(10)).expect("no connection to accept");
        let served = serve_line_on(
            ServerOptions::new()
                .context(server_context(&key.chain_pem, &key.key_pem, None))
                .alpn_protocols(&["h2", "http/1.1"]),
            tcp,
        )
        .unwrap();
        assert_eq!(served.alpn.as_deref(), Some("http/1.1"));
        sc.close_stdin();
        sc.wait_exit(Duration::from_secs(10));
        let out = sc.output();
        assert!(out.contains("ALPN protocol: http/1.1"), "{out}");
    });
}

/// The panic of a server's handshake callback, caught inside OpenSSL, comes out of `accept`
/// in the server's thread, and the handshake fails for the client. Returns the panic's message.
pub(crate) fn panic_in_server_callback(server: ServerOptions, offer: &[&str]) -> String {
    let pki = TestPki::new().unwrap();
    let key = pki.server(&["localhost", "b.example"]).unwrap();
    let (c, s) = pipe();
    let server = server.context(server_context(&key.chain_pem, &key.key_pem, None));
    let handle = std::thread::spawn(move || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| server.accept(s).map(drop)))
    });
    let client = ClientOptions::new()
        .hostname("b.example")
        .context(client_context(&pki, None))
        .alpn_protocols(offer)
        .connect(c);
    assert!(client.is_err(), "the handshake completed despite the panic");
    let payload = match handle.join().expect("the thread catches the panic") {
        Err(payload) => payload,
        Ok(r) => panic!("the callback's panic was swallowed: {r:?}"),
    };
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .unwrap_or_default()
}

#[test]
fn a_panicking_select_callback_is_resumed_in_the_server_caller() {
    within(TLS_LIMIT, || {
        let message = panic_in_server_callback(
            ServerOptions::new().alpn_select_callback(|_| panic!("alpn callback boom")),
            &["h2"],
        );
        assert_eq!(message, "alpn callback boom");
    });
}

//! cl+ssl's "modal" tests: every socket scenario runs over TCP on 127.0.0.1 and over a
//! `UnixStream::pair()`, once on the fd fast path (the default) and once forced through the
//! custom BIO (`unwrap_fd(false)`), with the same expected results. Each run also checks
//! which path is live and that the fd path never calls the transport from Rust
//! (`transport_stats()` stays zero) while the custom BIO does.

use crate::common::*;
use sslbridge::{Error, Protocol, SslStream, Transport, Verify};
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Asserts the live path and the Rust-side transport call counts for `mode`.
fn assert_path<T: Transport + Send + 'static>(tls: &SslStream<T>, mode: Mode, side: &str) {
    assert_eq!(
        tls.uses_fd_fast_path(),
        mode.is_fd(),
        "{side}: uses_fd_fast_path in {mode:?}"
    );
    let stats = tls.transport_stats();
    if mode.is_fd() {
        assert_eq!(
            (stats.reads, stats.writes, stats.flushes),
            (0, 0, 0),
            "{side}: the fd path must not call the transport from Rust"
        );
    } else if tls.is_handshake_done() {
        assert!(
            stats.reads > 0 && stats.writes > 0,
            "{side}: the custom BIO must call the transport: {stats:?}"
        );
    }
}

fn handshake_version<T: Transport + Send + 'static>(
    mode: Mode,
    client: T,
    server: T,
    version: Protocol,
) {
    let pki = Fixture::shared();
    let server = thread::spawn(move || {
        let mut tls = pki
            .server_version(mode, version)
            .accept(server)
            .expect("accept");
        assert_path(&tls, mode, "server");
        assert_eq!(tls.protocol_version(), Some(version));
        let mut hello = [0u8; 5];
        tls.read_exact(&mut hello).expect("server read");
        assert_eq!(&hello, b"hello");
        tls.write_all(b"world").expect("server write");
        assert_path(&tls, mode, "server");
        tls.close().expect("server close");
    });
    let mut tls = pki.client(mode).connect(client).expect("connect");
    assert_path(&tls, mode, "client");
    assert_eq!(tls.protocol_version(), Some(version));
    assert!(tls.cipher_name().is_some());
    assert!(tls.peer_certificate().is_some());
    tls.write_all(b"hello").expect("client write");
    let mut reply = Vec::new();
    tls.read_to_end(&mut reply).expect("read to close_notify");
    assert_eq!(reply, b"world");
    assert_path(&tls, mode, "client");
    join(server);
    tls.close().expect("client close");
}

fn handshake_tls12<T: Transport + Send + 'static>(mode: Mode, client: T, server: T) {
    handshake_version(mode, client, server, Protocol::Tls1_2);
}

fn handshake_tls13<T: Transport + Send + 'static>(mode: Mode, client: T, server: T) {
    handshake_version(mode, client, server, Protocol::Tls1_3);
}

/// 16 MiB each way at the same time, byte-exact.
fn bulk_both_directions<T: Transport + Send + 'static>(mode: Mode, client: T, server: T) {
    const TOTAL: u64 = 16 * MIB as u64;
    let pki = Fixture::shared();
    let server = thread::spawn(move || {
        let mut tls = pki.server(mode).accept(server).expect("accept");
        exchange(&mut tls, 2, 1, TOTAL);
        assert_path(&tls, mode, "server");
        tls.close().expect("server close");
    });
    let mut tls = pki.client(mode).connect(client).expect("connect");
    exchange(&mut tls, 1, 2, TOTAL);
    assert_path(&tls, mode, "client");
    let mut rest = [0u8; 16];
    assert_eq!(tls.read(&mut rest).expect("read close_notify"), 0);
    join(server);
    tls.close().expect("client close");
}

/// A peer's close_notify is a clean end: `Ok(0)`, and again `Ok(0)`.
fn close_notify_is_eof<T: Transport + Send + 'static>(mode: Mode, client: T, server: T) {
    let pki = Fixture::shared();
    let server = thread::spawn(move || {
        let mut tls = pki.server(mode).accept(server).expect("accept");
        send_pattern(&mut tls, 7, 100_000, 10_000);
        tls.close().expect("server close");
    });
    let mut tls = pki.client(mode).connect(client).expect("connect");
    receive_pattern(&mut tls, 7, 100_000);
    let mut buf = [0u8; 64];
    assert_eq!(tls.read(&mut buf).expect("close_notify"), 0);
    assert_eq!(tls.read(&mut buf).expect("after close_notify"), 0);
    assert_path(&tls, mode, "client");
    join(server);
}

/// A transport EOF without close_notify is a truncation: `UnexpectedEof`.
fn drop_without_close_notify<T: Transport + Send + 'static>(mode: Mode, client: T, server: T) {
    let pki = Fixture::shared();
    let server = thread::spawn(move || {
        let mut tls = pki.server(mode).accept(server).expect("accept");
        send_pattern(&mut tls, 8, 50_000, 10_000);
        drop(tls); // no close_notify; the socket is closed with the stream
    });
    let mut tls = pki.client(mode).connect(client).expect("connect");
    receive_pattern(&mut tls, 8, 50_000);
    let mut buf = [0u8; 64];
    let err = tls
        .read(&mut buf)
        .expect_err("a truncated stream must not end cleanly");
    assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
    assert!(
        matches!(Error::from(err), Error::UnexpectedEof),
        "the io::Error carries Error::UnexpectedEof"
    );
    join(server);
}

/// With `ignore_unexpected_eof(true)` the same truncation is a clean `Ok(0)` on both paths.
fn drop_tolerated_with_ignore_unexpected_eof<T: Transport + Send + 'static>(
    mode: Mode,
    client: T,
    server: T,
) {
    let pki = Fixture::shared();
    let server = thread::spawn(move || {
        let mut tls = pki.server(mode).accept(server).expect("accept");
        send_pattern(&mut tls, 9, 50_000, 10_000);
        drop(tls);
    });
    let mut tls = pki
        .client(mode)
        .ignore_unexpected_eof(true)
        .connect(client)
        .expect("connect");
    receive_pattern(&mut tls, 9, 50_000);
    let mut buf = [0u8; 64];
    assert_eq!(tls.read(&mut buf).expect("tolerated EOF"), 0);
    join(server);
}

/// The peer's socket is closed with our TLS data unread in its receive queue, so the kernel
/// resets the connection (TCP sends RST; a Unix socket reports ECONNRESET): the read fails
/// with `ConnectionReset`, the transport's own error.
fn reset_by_peer<T: Transport + Send + 'static>(mode: Mode, client: T, server: T) {
    let pki = Fixture::shared();
    let (accepted_tx, accepted_rx) = mpsc::channel::<()>();
    let (sent_tx, sent_rx) = mpsc::channel::<()>();
    let (dropped_tx, dropped_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let tls = pki.server(mode).accept(server).expect("accept");
        // The handshake is over: nothing (not even OpenSSL's read-ahead) reads from now on.
        accepted_tx.send(()).unwrap();
        sent_rx.recv().expect("client wrote");
        thread::sleep(Duration::from_millis(50)); // let the bytes land in our receive queue
        drop(tls);
        dropped_tx.send(()).unwrap();
    });
    let mut tls = pki.client(mode).connect(client).expect("connect");
    accepted_rx.recv().expect("server accepted");
    tls.write_all(b"never read by the server").expect("write");
    sent_tx.send(()).unwrap();
    dropped_rx.recv().expect("server dropped");
    let mut buf = [0u8; 64];
    let err = tls.read(&mut buf).expect_err("a reset connection");
    assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err:?}");
    join(server);
}

/// Hostname mismatch fails verification with `Error::Hostname` on both paths.
fn wrong_hostname<T: Transport + Send + 'static>(mode: Mode, client: T, server: T) {
    let pki = Fixture::shared();
    let server = thread::spawn(move || {
        let _ = pki.server(mode).accept(server); // fails with the client's alert
    });
    let err = mode
        .client(
            sslbridge::ClientOptions::new()
                .hostname("wrong.example")
                .verify(Verify::Required)
                .context(pki.trust.clone()),
        )
        .connect(client)
        .expect_err("wrong host must fail");
    match err {
        Error::Hostname { hostname, .. } => assert_eq!(hostname, "wrong.example"),
        other => panic!("expected Error::Hostname, got {other:?}"),
    }
    join(server);
}

/// An untrusted chain fails verification with `Error::Verify` on both paths.
fn untrusted_chain<T: Transport + Send + 'static>(mode: Mode, client: T, server: T) {
    let pki = Fixture::shared();
    let stranger = pki.pki.untrusted(&["localhost"]).expect("untrusted cert");
    let server = thread::spawn(move || {
        let _ = mode
            .server(
                sslbridge::ServerOptions::new()
                    .certificate_chain_pem(&stranger.chain_pem)
                    .private_key_pem(&stranger.key_pem),
            )
            .accept(server);
    });
    let err = pki
        .client(mode)
        .connect(client)
        .expect_err("untrusted chain must fail");
    assert!(matches!(err, Error::Verify { .. }), "{err:?}");
    join(server);
}

macro_rules! modal_tests {
    ($($scenario:ident),* $(,)?) => {
        $(mod $scenario {
            use super::*;

            #[test]
            fn tcp_fd_path() {
                within(FD_LIMIT, || {
                    let (c, s) = tcp_pair();
                    super::$scenario(Mode::FdPath, c, s)
                })
            }

            #[test]
            fn tcp_custom_bio() {
                within(FD_LIMIT, || {
                    let (c, s) = tcp_pair();
                    super::$scenario(Mode::CustomBio, c, s)
                })
            }

            #[test]
            fn unix_fd_path() {
                within(FD_LIMIT, || {
                    let (c, s) = unix_pair();
                    super::$scenario(Mode::FdPath, c, s)
                })
            }

            #[test]
            fn unix_custom_bio() {
                within(FD_LIMIT, || {
                    let (c, s) = unix_pair();
                    super::$scenario(Mode::CustomBio, c, s)
                })
            }
        })*
    };
}

modal_tests!(
    handshake_tls12,
    handshake_tls13,
    bulk_both_directions,
    close_notify_is_eof,
    drop_without_close_notify,
    drop_tolerated_with_ignore_unexpected_eof,
    reset_by_peer,
    wrong_hostname,
    untrusted_chain,
);

/// `SO_LINGER {1, 0}` makes closing a TCP socket send RST at once: the peer's read fails with
/// `ConnectionReset` on both paths.
#[test]
fn tcp_linger_zero_reset_both_paths() {
    for mode in Mode::BOTH {
        within(FD_LIMIT, move || {
            let pki = Fixture::shared();
            let (c, s) = tcp_pair();
            let (tx, rx) = mpsc::channel::<()>();
            let server = thread::spawn(move || {
                let tls = pki.server(mode).accept(s).expect("accept");
                set_linger_zero(tls.get_ref().as_raw_fd());
                drop(tls);
                tx.send(()).unwrap();
            });
            let mut tls = pki.client(mode).connect(c).expect("connect");
            rx.recv().unwrap();
            join(server);
            let mut buf = [0u8; 16];
            let err = tls.read(&mut buf).expect_err("reset");
            assert_eq!(
                err.kind(),
                io::ErrorKind::ConnectionReset,
                "{mode:?}: {err:?}"
            );
        });
    }
}

/// The same scenario gives the same observable outcome on both paths: the negotiated
/// parameters match.
#[test]
fn both_paths_negotiate_the_same() {
    within(FD_LIMIT, || {
        let pki = Fixture::shared();
        let mut seen = Vec::new();
        for mode in Mode::BOTH {
            let (c, s) = tcp_pair();
            let server = thread::spawn(move || {
                let tls = pki
                    .server(mode)
                    .alpn_protocols(&["h2", "http/1.1"])
                    .accept(s)
                    .expect("accept");
                tls.close().expect("close");
            });
            let mut tls = pki
                .client(mode)
                .alpn_protocols(&["http/1.1"])
                .connect(c)
                .expect("connect");
            let mut buf = [0u8; 1];
            assert_eq!(tls.read(&mut buf).expect("close_notify"), 0);
            seen.push((
                tls.protocol_version(),
                tls.cipher_name(),
                tls.selected_alpn_protocol().map(str::to_string),
            ));
            join(server);
        }
        assert_eq!(seen[0], seen[1], "fd path vs custom BIO");
        assert_eq!(seen[0].2.as_deref(), Some("http/1.1"));
    })
}

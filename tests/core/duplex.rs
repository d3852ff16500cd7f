//! Client and server over the in-memory `duplex()` pipe on two threads: bulk transfer in both
//! directions, tiny and large writes, BufRead, honest end of stream, connection properties,
//! access to the transport and the close callback.

use crate::common::*;
use sslbridge::{
    ClientOptions, Error, MemoryPipe, Protocol, ServerOptions, SslStream, Transport, Verify,
};
use std::io::{self, BufRead, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;

/// Both sides write `total` bytes in `chunk`-sized writes while reading the peer's `total`
/// bytes: each round writes one chunk then reads one chunk, so both directions carry data at
/// the same time (the pipe holds a whole chunk, so neither side blocks the other).
fn bidirectional(version: Protocol, total: u64, chunk: usize) {
    let fx = Fixture::new();
    let (mut client, mut server) = connected_pair(&fx, Some(version), 2 * chunk + 64 * 1024);
    assert_eq!(client.protocol_version(), Some(version));
    assert_eq!(server.protocol_version(), Some(version));

    fn run(
        tls: &mut SslStream<MemoryPipe>,
        my_seed: u64,
        peer_seed: u64,
        total: u64,
        chunk: usize,
    ) {
        let mut out = vec![0u8; chunk];
        let mut input = vec![0u8; chunk];
        let mut checker = PatternChecker::new(peer_seed);
        let mut sent = 0u64;
        while sent < total || checker.offset < total {
            if sent < total {
                let n = chunk.min((total - sent) as usize);
                fill_pattern(my_seed, sent, &mut out[..n]);
                tls.write_all(&out[..n]).expect("write");
                sent += n as u64;
            }
            let target = sent.min(total);
            while checker.offset < target {
                let want = input.len().min((target - checker.offset) as usize);
                let n = tls.read(&mut input[..want]).expect("read");
                assert!(n > 0, "early EOF at {}", checker.offset);
                checker.check(&input[..n]);
            }
        }
    }

    let start = Instant::now();
    let server_thread = thread::spawn(move || {
        run(&mut server, 2, 1, total, chunk);
        server.close().expect("server close");
    });
    run(&mut client, 1, 2, total, chunk);
    let mut rest = Vec::new();
    client
        .read_to_end(&mut rest)
        .expect("clean end after close_notify");
    assert!(rest.is_empty());
    join(server_thread);
    eprintln!(
        "{version:?}: {} MiB each way in {:?}",
        total / MIB as u64,
        start.elapsed()
    );
}

#[test]
fn tls13_64_mib_both_ways_in_1_mib_writes() {
    within(LIMIT, || {
        bidirectional(Protocol::Tls1_3, 64 * MIB as u64, MIB)
    });
}

#[test]
fn tls12_64_mib_both_ways_in_1_mib_writes() {
    within(LIMIT, || {
        bidirectional(Protocol::Tls1_2, 64 * MIB as u64, MIB)
    });
}

fn one_byte_writes(version: Protocol) {
    const COUNT: u64 = 20_000;
    let fx = Fixture::new();
    let (mut client, mut server) = connected_pair(&fx, Some(version), 64 * 1024);
    let writer = thread::spawn(move || {
        let mut byte = [0u8; 1];
        for i in 0..COUNT {
            fill_pattern(7, i, &mut byte);
            assert_eq!(client.write(&byte).expect("1-byte write"), 1);
        }
        let stats = client.transport_stats();
        client.close().expect("close");
        stats
    });
    read_pattern(&mut server, 7, COUNT).expect("1-byte records arrive in order");
    let mut rest = Vec::new();
    server.read_to_end(&mut rest).expect("close_notify");
    assert!(rest.is_empty());
    let stats = join(writer);
    // One record per write: at least one transport write each.
    assert!(stats.writes >= COUNT, "{stats:?}");
}

#[test]
fn tls13_one_byte_writes() {
    within(LIMIT, || one_byte_writes(Protocol::Tls1_3));
}

#[test]
fn tls12_one_byte_writes() {
    within(LIMIT, || one_byte_writes(Protocol::Tls1_2));
}

#[test]
fn bufread_read_line_across_records() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (mut client, mut server) = connected_pair(&fx, None, 64 * 1024);
        let writer = thread::spawn(move || {
            // Lines split across records and records holding several lines.
            for piece in [
                &b"first li"[..],
                b"ne\nsecond line\nthi",
                b"rd\n",
                b"no newline",
            ] {
                server.write_all(piece).unwrap();
            }
            server.close().unwrap();
        });
        let mut line = String::new();
        let mut lines = Vec::new();
        while client.read_line(&mut line).expect("read_line") > 0 {
            lines.push(std::mem::take(&mut line));
        }
        assert_eq!(
            lines,
            ["first line\n", "second line\n", "third\n", "no newline"]
        );
        join(writer);
    });
}

#[test]
fn bufread_and_read_mix_without_losing_bytes() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (mut client, mut server) = connected_pair(&fx, None, 64 * 1024);
        let writer = thread::spawn(move || {
            server.write_all(b"header\nbody-bytes").unwrap();
            server.close().unwrap();
        });
        let mut line = String::new();
        client.read_line(&mut line).unwrap();
        assert_eq!(line, "header\n");
        // The rest sits in the BufRead buffer; Read must return it first.
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"body-bytes");
        join(writer);
    });
}

fn close_notify_is_ok_zero(version: Protocol) {
    let fx = Fixture::new();
    let (mut client, mut server) = connected_pair(&fx, Some(version), 64 * 1024);
    let writer = thread::spawn(move || {
        server.write_all(b"all of it").unwrap();
        server.close().unwrap();
    });
    let mut got = Vec::new();
    client
        .read_to_end(&mut got)
        .expect("close_notify ends the stream cleanly");
    assert_eq!(got, b"all of it");
    // And it stays at EOF.
    let mut buf = [0u8; 8];
    assert_eq!(client.read(&mut buf).unwrap(), 0);
    join(writer);
}

#[test]
fn tls13_close_notify_reads_as_ok_zero() {
    within(LIMIT, || close_notify_is_ok_zero(Protocol::Tls1_3));
}

#[test]
fn tls12_close_notify_reads_as_ok_zero() {
    within(LIMIT, || close_notify_is_ok_zero(Protocol::Tls1_2));
}

fn assert_unexpected_eof(e: io::Error) {
    assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{e:?}");
    let inner = e
        .get_ref()
        .and_then(|i| i.downcast_ref::<Error>())
        .unwrap_or_else(|| panic!("no sslbridge::Error inside {e:?}"));
    assert!(matches!(inner, Error::UnexpectedEof), "{inner:?}");
}

fn bare_eof_is_unexpected_eof(version: Protocol) {
    let fx = Fixture::new();
    let (mut client, mut server) = connected_pair(&fx, Some(version), 64 * 1024);
    let writer = thread::spawn(move || {
        server.write_all(b"partial").unwrap();
        // No close_notify: take the pipe back and drop it.
        drop(server.into_inner());
    });
    join(writer);
    let mut got = Vec::new();
    let err = client
        .read_to_end(&mut got)
        .expect_err("a transport EOF without close_notify is a truncation");
    assert_eq!(got, b"partial", "the data before the truncation arrives");
    assert_unexpected_eof(err);
}

#[test]
fn tls13_bare_transport_eof_is_unexpected_eof() {
    within(LIMIT, || bare_eof_is_unexpected_eof(Protocol::Tls1_3));
}

#[test]
fn tls12_bare_transport_eof_is_unexpected_eof() {
    within(LIMIT, || bare_eof_is_unexpected_eof(Protocol::Tls1_2));
}

#[test]
fn dropping_the_peer_stream_is_unexpected_eof_too() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (mut client, mut server) = connected_pair(&fx, None, 64 * 1024);
        server.write_all(b"x").unwrap();
        drop(server);
        let mut buf = [0u8; 1];
        client.read_exact(&mut buf).unwrap();
        assert_unexpected_eof(client.read(&mut buf).unwrap_err());
    });
}

#[test]
fn ignore_unexpected_eof_makes_a_bare_eof_clean() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            let mut tls = ServerOptions::new().context(ctx).accept(s).unwrap();
            tls.write_all(b"abc").unwrap();
            drop(tls.into_inner());
        });
        let mut client = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .ignore_unexpected_eof(true)
            .connect(c)
            .unwrap();
        join(server);
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"abc");
    });
}

fn properties(version: Protocol) {
    let fx = Fixture::new();
    let (c, s) = sslbridge::duplex(64 * 1024);
    let server_ctx = fx.server_context(Some(version));
    let server = thread::spawn(move || {
        ServerOptions::new()
            .context(server_ctx)
            .alpn_protocols(&["http/1.1"])
            .accept(s)
    });
    let client = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(fx.client_context(Some(version)))
        .alpn_protocols(&["h2", "http/1.1"])
        .connect(c)
        .unwrap();
    let server = join(server).unwrap();
    for tls in [&client, &server] {
        assert!(tls.is_handshake_done());
        assert_eq!(tls.protocol_version(), Some(version));
        assert_eq!(tls.selected_alpn_protocol(), Some("http/1.1"));
        assert_eq!(tls.selected_alpn_protocol_bytes(), Some(&b"http/1.1"[..]));
        assert!(!tls.session_reused());
    }
    let cipher = client.cipher_name().expect("a cipher");
    assert_eq!(Some(cipher), server.cipher_name());
    match version {
        Protocol::Tls1_3 => assert!(cipher.starts_with("TLS_"), "{cipher}"),
        _ => assert!(cipher.starts_with("ECDHE-"), "{cipher}"),
    }
    assert!(client.is_client());
    assert!(!server.is_client());
    let peer = client.peer_certificate().expect("the server's certificate");
    let subject = peer.subject_name();
    assert!(subject.contains("CN = localhost"), "{subject}");
    assert_eq!(peer.to_der().unwrap(), fx.server.cert_der());
    assert!(
        server.peer_certificate().is_none(),
        "the client sent no certificate"
    );
}

#[test]
fn tls13_properties_alpn_cipher_peer() {
    within(LIMIT, || properties(Protocol::Tls1_3));
}

#[test]
fn tls12_properties_alpn_cipher_peer() {
    within(LIMIT, || properties(Protocol::Tls1_2));
}

#[test]
fn no_common_alpn_protocol_selects_none() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            ServerOptions::new()
                .context(ctx)
                .alpn_protocols(&["http/1.1"])
                .accept(s)
        });
        let client = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .alpn_protocols(&["h2"])
            .connect(c)
            .unwrap();
        let server = join(server).unwrap();
        assert_eq!(client.selected_alpn_protocol(), None);
        assert_eq!(server.selected_alpn_protocol(), None);
    });
}

#[test]
fn get_ref_get_mut_into_inner() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (mut client, mut server) = connected_pair(&fx, None, 64 * 1024);
        assert!(!client.get_ref().is_nonblocking());
        client
            .get_mut()
            .set_read_timeout(Some(Duration::from_secs(20)));
        server.write_all(b"ping").unwrap();
        server.flush().unwrap();
        let mut buf = [0u8; 4];
        client.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");

        // Back to plain pipes: what one writes raw, the other reads raw.
        let mut client_pipe: MemoryPipe = client.into_inner();
        let mut server_pipe: MemoryPipe = server.into_inner();
        client_pipe.write_all(b"raw bytes").unwrap();
        let mut raw = [0u8; 9];
        server_pipe.read_exact(&mut raw).unwrap();
        assert_eq!(&raw, b"raw bytes");
    });
}

fn counting() -> (Arc<AtomicUsize>, impl FnOnce() + Send + 'static) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    (count, move || {
        c.fetch_add(1, Ordering::SeqCst);
    })
}

#[derive(Clone, Copy, Debug)]
enum End {
    Drop,
    Close,
    IntoInner,
    DropBeforeHandshake,
}

fn on_close_runs_once(end: End) {
    let fx = Fixture::new();
    let (c, s) = sslbridge::duplex(64 * 1024);
    let (client_count, client_cb) = counting();
    let (server_count, server_cb) = counting();
    let ctx = fx.server_context(None);
    if let End::DropBeforeHandshake = end {
        let server = ServerOptions::new()
            .context(ctx)
            .on_close(server_cb)
            .start(s)
            .unwrap();
        drop(server);
        assert_eq!(server_count.load(Ordering::SeqCst), 1);
        drop(c);
        return;
    }
    let server = thread::spawn(move || {
        let mut tls = ServerOptions::new()
            .context(ctx)
            .on_close(server_cb)
            .accept(s)
            .unwrap();
        tls.write_all(b"!").unwrap();
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest);
        tls
    });
    let mut client = ClientOptions::new()
        .hostname("localhost")
        .context(fx.client_context(None))
        .on_close(client_cb)
        .connect(c)
        .unwrap();
    // Wait until the server's handshake is over (TLS 1.3 servers send tickets after ours).
    let mut byte = [0u8; 1];
    client.read_exact(&mut byte).unwrap();
    assert_eq!(client_count.load(Ordering::SeqCst), 0);
    match end {
        End::Drop => drop(client),
        End::Close => client.close().unwrap(),
        End::IntoInner => drop(client.into_inner()),
        End::DropBeforeHandshake => unreachable!(),
    }
    assert_eq!(client_count.load(Ordering::SeqCst), 1, "{end:?}");
    let server = join(server);
    assert_eq!(server_count.load(Ordering::SeqCst), 0);
    drop(server);
    assert_eq!(server_count.load(Ordering::SeqCst), 1);
    assert_eq!(client_count.load(Ordering::SeqCst), 1, "{end:?}");
}

#[test]
fn on_close_runs_exactly_once_on_drop() {
    within(LIMIT, || on_close_runs_once(End::Drop));
}

#[test]
fn on_close_runs_exactly_once_on_close() {
    within(LIMIT, || on_close_runs_once(End::Close));
}

#[test]
fn on_close_runs_exactly_once_on_into_inner() {
    within(LIMIT, || on_close_runs_once(End::IntoInner));
}

#[test]
fn on_close_runs_for_a_stream_that_never_handshook() {
    within(LIMIT, || on_close_runs_once(End::DropBeforeHandshake));
}

#[test]
fn boxed_dyn_transport_works() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let c: Box<dyn Transport + Send> = Box::new(c);
        let s: Box<dyn Transport + Send> = Box::new(s);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            let mut tls = ServerOptions::new().context(ctx).accept(s).unwrap();
            let mut buf = [0u8; 5];
            tls.read_exact(&mut buf).unwrap();
            tls.write_all(&buf).unwrap();
            tls.close().unwrap();
        });
        let mut tls: SslStream<Box<dyn Transport + Send>> = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(c)
            .unwrap();
        tls.write_all(b"boxed").unwrap();
        let mut echo = Vec::new();
        tls.read_to_end(&mut echo).unwrap();
        assert_eq!(echo, b"boxed");
        join(server);
        // The box comes back, and it still holds the MemoryPipe: the server's end is gone,
        // so it reads EOF.
        let mut inner: Box<dyn Transport + Send> = tls.into_inner();
        assert_eq!(inner.read(&mut [0u8; 8]).unwrap(), 0);
    });
}

#[test]
fn std_tcp_stream_transport_works() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            let mut tls = ServerOptions::new().context(ctx).accept(tcp).unwrap();
            read_pattern(&mut tls, 3, 4 * MIB as u64).unwrap();
            tls.write_all(b"done").unwrap();
            tls.close().unwrap();
        });
        let tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut tls = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(tcp)
            .unwrap();
        write_pattern(&mut tls, 3, 4 * MIB as u64, 64 * 1024).unwrap();
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).unwrap();
        assert_eq!(reply, b"done");
        join(server);
    });
}

#[test]
fn stream_and_friends_are_send() {
    fn send<T: Send>() {}
    fn sync<T: Send + Sync>() {}
    send::<SslStream<MemoryPipe>>();
    send::<SslStream<Box<dyn Transport + Send>>>();
    send::<MemoryPipe>();
    send::<ClientOptions>();
    send::<ServerOptions>();
    sync::<sslbridge::Context>();
    sync::<Error>();
}

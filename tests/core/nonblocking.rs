//! Non-blocking transports: handshake, transfer, flush and shutdown resumed across
//! `WantRead` / `WantWrite` (`io::ErrorKind::WouldBlock` through `Read`/`Write`).

use crate::common::*;
use sslbridge::{ClientOptions, Error, MemoryPipe, ServerOptions, SslStream, Verify};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Non-blocking client and server over a small pipe, handshake driven by hand on one thread.
/// Returns the streams and how many WantRead / WantWrite results were seen.
fn nonblocking_pair(
    capacity: usize,
) -> (SslStream<MemoryPipe>, SslStream<MemoryPipe>, usize, usize) {
    let fx = Fixture::new();
    let (mut a, mut b) = sslbridge::duplex(capacity);
    a.set_nonblocking(true);
    b.set_nonblocking(true);
    let mut client = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(fx.client_context(None))
        .start(a)
        .unwrap();
    let mut server = ServerOptions::new()
        .context(fx.server_context(None))
        .start(b)
        .unwrap();
    assert!(!client.is_handshake_done());
    assert_eq!(client.protocol_version(), None);
    let (mut want_read, mut want_write) = (0, 0);
    let (mut client_done, mut server_done) = (false, false);
    for _ in 0..10_000 {
        if client_done && server_done {
            break;
        }
        for (done, stream) in [
            (&mut client_done, &mut client),
            (&mut server_done, &mut server),
        ] {
            if *done {
                // A TLS 1.3 server finishes by sending session tickets: the finished client
                // must keep reading for the server to get there, as a real event loop would.
                let mut byte = [0u8; 1];
                match stream.read(&mut byte) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    other => panic!("no application data expected yet: {other:?}"),
                }
                continue;
            }
            match stream.handshake() {
                Ok(()) => *done = true,
                Err(Error::WantRead) => want_read += 1,
                Err(Error::WantWrite) => want_write += 1,
                Err(e) => panic!("handshake failed: {e:?}"),
            }
        }
    }
    assert!(client_done && server_done, "handshake did not finish");
    assert!(client.is_handshake_done() && server.is_handshake_done());
    // Calling it again does nothing.
    client.handshake().unwrap();
    (client, server, want_read, want_write)
}

#[test]
fn handshake_resumes_across_want_read_and_want_write() {
    within(LIMIT, || {
        // 256 bytes per direction: the certificate flight cannot be written in one go.
        let (client, server, want_read, want_write) = nonblocking_pair(256);
        assert!(want_read > 0, "no WantRead seen");
        assert!(want_write > 0, "no WantWrite seen with a 256-byte pipe");
        assert!(client.peer_certificate().is_some());
        assert_eq!(client.protocol_version(), server.protocol_version());
    });
}

/// Moves `total` bytes each way on one thread, alternating sides whenever one would block.
#[test]
fn four_mib_each_way_on_one_thread_with_would_block() {
    within(LIMIT, || {
        const TOTAL: u64 = 4 * 1024 * 1024;
        const CHUNK: usize = 64 * 1024;
        let (mut client, mut server, _, _) = nonblocking_pair(32 * 1024);

        struct Side {
            sent: u64,
            out: Vec<u8>,
            checker: PatternChecker,
            input: Vec<u8>,
            would_block: usize,
        }
        let new_side = |peer_seed| Side {
            sent: 0,
            out: vec![0u8; CHUNK],
            checker: PatternChecker::new(peer_seed),
            input: vec![0u8; CHUNK],
            would_block: 0,
        };
        let mut sides = [new_side(2), new_side(1)];
        let seeds = [1u64, 2u64];

        let mut rounds = 0u64;
        while sides
            .iter()
            .any(|s| s.sent < TOTAL || s.checker.offset < TOTAL)
        {
            rounds += 1;
            assert!(rounds < 1_000_000, "no progress");
            for (i, tls) in [&mut client, &mut server].into_iter().enumerate() {
                let side = &mut sides[i];
                // Write until the transport is full.
                while side.sent < TOTAL {
                    // A retry after WouldBlock passes the same bytes again, as OpenSSL wants.
                    let n = CHUNK.min((TOTAL - side.sent) as usize);
                    fill_pattern(seeds[i], side.sent, &mut side.out[..n]);
                    match tls.write(&side.out[..n]) {
                        Ok(w) => {
                            assert!(w > 0 && w <= n);
                            side.sent += w as u64;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            side.would_block += 1;
                            break;
                        }
                        Err(e) => panic!("write: {e:?}"),
                    }
                }
                // Read until nothing is available.
                while side.checker.offset < TOTAL {
                    match tls.read(&mut side.input) {
                        Ok(0) => panic!("EOF at {}", side.checker.offset),
                        Ok(n) => side.checker.check(&side.input[..n]),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            side.would_block += 1;
                            break;
                        }
                        Err(e) => panic!("read: {e:?}"),
                    }
                }
            }
        }
        for side in &sides {
            assert_eq!(side.checker.offset, TOTAL);
            assert!(
                side.would_block > 0,
                "never blocked: the test proves nothing"
            );
        }
        // Orderly close on non-blocking streams.
        loop {
            match client.shutdown() {
                Ok(()) => break,
                Err(e) if e.is_would_block() => continue,
                Err(e) => panic!("shutdown: {e:?}"),
            }
        }
        let mut buf = [0u8; 16];
        loop {
            match server.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => panic!("{n} unexpected bytes"),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("close_notify not seen: {e:?}"),
            }
        }
    });
}

/// A client over a write-gated pipe, connected (gate open) to a server on its own thread that
/// reads everything until the end and returns it.
type Gated = (
    SslStream<GatedTransport<MemoryPipe>>,
    Arc<AtomicBool>,
    thread::JoinHandle<io::Result<Vec<u8>>>,
);

fn gated_client() -> Gated {
    let fx = Fixture::new();
    let (c, mut s) = sslbridge::duplex(64 * 1024);
    // Bounded: a missing close_notify makes the server time out instead of hanging.
    s.set_read_timeout(Some(Duration::from_secs(3)));
    let ctx = fx.server_context(None);
    let server = thread::spawn(move || {
        let mut tls = ServerOptions::new().context(ctx).accept(s).unwrap();
        tls.write_all(b"ready").unwrap();
        tls.flush().unwrap();
        let mut got = Vec::new();
        tls.read_to_end(&mut got).map(|_| got)
    });
    let blocked = Arc::new(AtomicBool::new(false));
    let mut client = ClientOptions::new()
        .hostname("localhost")
        .context(fx.client_context(None))
        .connect(GatedTransport {
            inner: c,
            blocked: blocked.clone(),
        })
        .unwrap();
    let mut ready = [0u8; 5];
    client.read_exact(&mut ready).unwrap();
    (client, blocked, server)
}

#[test]
fn write_and_flush_resume_after_would_block() {
    within(LIMIT, || {
        let (mut client, blocked, server) = gated_client();
        blocked.store(true, Ordering::SeqCst);
        let err = client.write(b"abc").expect_err("the transport is blocked");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        let err = client.flush().expect_err("flush blocks too");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
        blocked.store(false, Ordering::SeqCst);
        // Retry with the same bytes: sent exactly once.
        assert_eq!(client.write(b"abc").unwrap(), 3);
        client.flush().unwrap();
        client.write_all(b"def").unwrap();
        client.close().unwrap();
        assert_eq!(join(server).expect("clean end"), b"abcdef");
    });
}

#[test]
fn shutdown_resumes_after_want_write_and_sends_close_notify() {
    within(LIMIT, || {
        let (mut client, blocked, server) = gated_client();
        client.write_all(b"payload").unwrap();
        blocked.store(true, Ordering::SeqCst);
        let err = client
            .shutdown()
            .expect_err("close_notify cannot be written yet");
        assert!(matches!(err, Error::WantWrite), "{err:?}");
        blocked.store(false, Ordering::SeqCst);
        client.shutdown().expect("the retried shutdown completes");
        // The server must see close_notify (a clean end), not a timeout or truncation.
        let got = join(server);
        assert_eq!(
            got.as_deref().map_err(|e| e.kind()),
            Ok(&b"payload"[..]),
            "close_notify never reached the peer"
        );
    });
}

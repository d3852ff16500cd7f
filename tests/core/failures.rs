//! Transport failures: a transport error comes back with its own kind, a panicking transport
//! resumes its panic in the caller, and a failed stream refuses further I/O.

use crate::common::*;
use sslbridge::{ClientOptions, Error, MemoryPipe, ServerOptions};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

fn assert_reset(e: &Error) {
    match e {
        Error::Io(io) => assert_eq!(io.kind(), io::ErrorKind::ConnectionReset, "{io:?}"),
        other => panic!("wanted Error::Io(ConnectionReset), got {other:?}"),
    }
    assert_eq!(e.io_kind(), io::ErrorKind::ConnectionReset);
}

#[test]
fn reset_during_client_handshake_is_io_connection_reset() {
    within(LIMIT, || {
        let fx = Fixture::new();
        // 100 bytes: part of the ServerHello, never the whole handshake.
        for (label, budget) in [("read", 100usize), ("write", 10)] {
            let (c, s) = sslbridge::duplex(64 * 1024);
            let ctx = fx.server_context(None);
            let server = thread::spawn(move || ServerOptions::new().context(ctx).accept(s));
            let transport = if label == "read" {
                FailingTransport::after_reading(c, budget)
            } else {
                FailingTransport::after_writing(c, budget)
            };
            let err = ClientOptions::new()
                .hostname("localhost")
                .context(fx.client_context(None))
                .connect(transport)
                .expect_err("the transport resets");
            assert_reset(&err);
            assert!(join(server).is_err(), "the server sees the client vanish");
        }
    });
}

#[test]
fn reset_during_server_handshake_is_io_connection_reset() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            ServerOptions::new()
                .context(ctx)
                .accept(FailingTransport::after_writing(s, 50))
        });
        let client = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(c);
        let err = join(server).expect_err("the server's transport resets");
        assert_reset(&err);
        assert!(client.is_err());
    });
}

#[test]
fn reset_mid_transfer_through_read_and_write_keeps_the_kind() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(1024 * 1024);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            let mut tls = ServerOptions::new().context(ctx).accept(s).unwrap();
            // Feed the client plenty; ignore errors once it resets.
            let _ = write_pattern(&mut tls, 5, 512 * 1024, 16 * 1024);
            let mut sink = Vec::new();
            let _ = tls.read_to_end(&mut sink);
        });
        // The handshake reads a few KiB; fail after 100 KiB.
        let mut tls = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(FailingTransport::after_reading(c, 100 * 1024))
            .unwrap();
        let err = read_pattern(&mut tls, 5, 512 * 1024).expect_err("reset mid-stream");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err:?}");
        assert_eq!(err.to_string(), "injected connection reset");

        // The stream has failed: further I/O is refused, not undefined.
        let mut buf = [0u8; 16];
        let again = tls.read(&mut buf).expect_err("no reads after a failure");
        let inner = Error::from(again);
        assert!(matches!(inner, Error::StreamFailed { .. }), "{inner:?}");
        let again = tls.write(b"x").expect_err("no writes after a failure");
        assert!(matches!(Error::from(again), Error::StreamFailed { .. }));
        // Shutting a failed stream down sends nothing and reports the failure, kind kept.
        let err = tls
            .shutdown()
            .expect_err("a failed stream reports its failure");
        assert_eq!(err.io_kind(), io::ErrorKind::ConnectionReset, "{err}");
        drop(tls);
        join(server);
    });
}

#[test]
fn reset_while_writing_through_write_keeps_the_kind() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(4 * 1024 * 1024);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || -> Result<usize, Error> {
            // The client may vanish before a TLS 1.3 server has sent its tickets, so even
            // accept may fail here; either way the server must see an error.
            let mut tls = ServerOptions::new().context(ctx).accept(s)?;
            let mut sink = Vec::new();
            Ok(tls.read_to_end(&mut sink)?)
        });
        let mut tls = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(FailingTransport::after_writing(c, 64 * 1024))
            .unwrap();
        let err = write_pattern(&mut tls, 6, 1024 * 1024, 16 * 1024).expect_err("reset");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err:?}");
        let err = tls.write(b"more").expect_err("failed stream");
        assert!(matches!(Error::from(err), Error::StreamFailed { .. }));
        drop(tls);
        // The server got a truncated stream: an error, not a clean end.
        assert!(join(server).is_err());
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string payload>".into())
}

#[test]
fn panicking_transport_mid_handshake_resumes_in_the_caller() {
    within(LIMIT, || {
        let fx = Fixture::new();
        for reads_ok in [0usize, 1, 3, 8] {
            let (c, s) = sslbridge::duplex(64 * 1024);
            let ctx = fx.server_context(None);
            let server = thread::spawn(move || ServerOptions::new().context(ctx).accept(s));
            let dropped = Arc::new(AtomicBool::new(false));
            let transport = PanickingTransport {
                inner: c,
                reads_ok,
                dropped: dropped.clone(),
            };
            let client_ctx = fx.client_context(None);
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
                // Small read-ahead: the server's flight takes many transport reads, so
                // every panic point lies inside the handshake.
                ClientOptions::new()
                    .hostname("localhost")
                    .context(client_ctx)
                    .read_ahead_size(64)
                    .connect(transport)
            }));
            let payload = match result {
                Err(p) => p,
                Ok(r) => panic!("no panic after {reads_ok} reads: {:?}", r.map(|_| ())),
            };
            assert_eq!(panic_message(&*payload), PANIC_MESSAGE);
            // Freed exactly once during the unwind (a second drop would have panicked).
            assert!(
                dropped.load(Ordering::SeqCst),
                "the transport was not freed"
            );
            assert!(join(server).is_err(), "the peer sees an error");
        }
        // The process is fine: a fresh connection still works.
        let (mut client, mut server) = connected_pair(&fx, None, 64 * 1024);
        client.write_all(b"alive").unwrap();
        client.flush().unwrap();
        let mut buf = [0u8; 5];
        server.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"alive");
    });
}

/// Panics on the first write once armed.
struct PanicOnWrite {
    inner: MemoryPipe,
    armed: Arc<AtomicBool>,
}

impl Read for PanicOnWrite {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for PanicOnWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.armed.load(Ordering::SeqCst) {
            panic!("write exploded");
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn panicking_transport_mid_stream_then_stream_refuses_io() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || -> Result<usize, Error> {
            let mut tls = ServerOptions::new().context(ctx).accept(s)?;
            let mut sink = Vec::new();
            Ok(tls.read_to_end(&mut sink)?)
        });
        let armed = Arc::new(AtomicBool::new(false));
        let mut tls = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(PanicOnWrite {
                inner: c,
                armed: armed.clone(),
            })
            .unwrap();
        tls.write_all(b"before").unwrap();
        armed.store(true, Ordering::SeqCst);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = tls.write(b"boom");
        }));
        assert_eq!(panic_message(&*result.unwrap_err()), "write exploded");
        armed.store(false, Ordering::SeqCst);
        let err = tls.write(b"after").expect_err("refused after a panic");
        assert!(matches!(Error::from(err), Error::StreamFailed { .. }));
        drop(tls);
        assert!(join(server).is_err());
    });
}

#[test]
fn peer_vanishing_mid_handshake_is_an_error_not_a_hang() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        // A "server" that reads the ClientHello and hangs up.
        let server = thread::spawn(move || {
            let mut s = s;
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).unwrap();
            drop(s);
        });
        let err = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(c)
            .expect_err("no server");
        join(server);
        assert!(
            matches!(err, Error::UnexpectedEof | Error::Io(_)),
            "{err:?}"
        );
    });
}

#[test]
fn garbage_from_the_peer_is_an_ssl_error() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = thread::spawn(move || {
            let mut s = s;
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).unwrap();
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            s
        });
        let err = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(c)
            .expect_err("not TLS");
        drop(join(server));
        match &err {
            Error::PeerNotTls { received } => assert!(received.starts_with(b"HTTP/1.1 400")),
            other => panic!("wanted Error::PeerNotTls, got {other:?}"),
        }
    });
}

//! Deadlines: read, write and handshake timeouts on both paths over descriptors sslbridge
//! knows (enforced with `poll` on a descriptor it made non-blocking), the stream staying usable
//! after a read timeout, the descriptor handed back blocking, and a non-descriptor transport
//! whose own timeout governs.

use crate::common::*;
use sslbridge::{ClientOptions, Error, Transport, Verify};
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Generous bounds: the call must come back after roughly its timeout, never hang.
fn assert_took(start: Instant, min: Duration, max: Duration, what: &str) {
    let took = start.elapsed();
    assert!(
        took >= min && took <= max,
        "{what} took {took:?}, expected {min:?}..{max:?}"
    );
}

fn assert_timeout(err: io::Error, operation: &str) {
    assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err:?}");
    match Error::from(err) {
        Error::Timeout { operation: op } => assert_eq!(op.name(), operation),
        other => panic!("expected Error::Timeout {{ {operation} }}, got {other:?}"),
    }
}

/// A stalled server: a 200 ms read times out (twice), then the server resumes and the same
/// stream reads everything byte-exact, then close_notify.
fn stalled_server_read_timeout<T: Transport + AsFd + Send + 'static>(
    mode: Mode,
    via_options: bool,
    client: T,
    server: T,
) {
    let pki = Fixture::shared();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let mut tls = pki.server(mode).accept(server).expect("accept");
        go_rx.recv().expect("go");
        send_pattern(&mut tls, 3, MIB as u64, 32 * 1024);
        tls.close().expect("server close");
    });
    let fd = client.as_fd().as_raw_fd();
    let mut tls = if via_options {
        pki.client(mode)
            .timeout(Duration::from_millis(200))
            .connect(client)
    } else {
        pki.client(mode).connect(client)
    }
    .expect("connect");
    assert_eq!(tls.uses_fd_fast_path(), mode.is_fd());
    if !via_options {
        tls.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
    }
    assert_eq!(tls.read_timeout(), Some(Duration::from_millis(200)));
    let mut buf = [0u8; 1024];
    for _ in 0..2 {
        let start = Instant::now();
        let err = tls.read(&mut buf).expect_err("the server is stalled");
        assert_took(
            start,
            Duration::from_millis(150),
            Duration::from_millis(2000),
            "read timeout",
        );
        assert_timeout(err, "read");
    }
    // The user's blocking socket is non-blocking only while sslbridge enforces deadlines.
    assert!(is_nonblocking(fd));
    go_tx.send(()).unwrap();
    tls.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    receive_pattern(&mut tls, 3, MIB as u64);
    assert_eq!(tls.read(&mut buf).expect("close_notify"), 0);
    join(server);
    tls.close().expect("client close");
}

#[test]
fn read_timeout_tcp_fd_path() {
    within(FD_LIMIT, || {
        let (c, s) = tcp_pair();
        stalled_server_read_timeout(Mode::FdPath, false, c, s)
    })
}

#[test]
fn read_timeout_tcp_custom_bio() {
    within(FD_LIMIT, || {
        let (c, s) = tcp_pair();
        stalled_server_read_timeout(Mode::CustomBio, false, c, s)
    })
}

#[test]
fn read_timeout_from_options_tcp_fd_path() {
    within(FD_LIMIT, || {
        let (c, s) = tcp_pair();
        stalled_server_read_timeout(Mode::FdPath, true, c, s)
    })
}

#[test]
fn read_timeout_from_options_tcp_custom_bio() {
    within(FD_LIMIT, || {
        let (c, s) = tcp_pair();
        stalled_server_read_timeout(Mode::CustomBio, true, c, s)
    })
}

#[test]
fn read_timeout_unix_fd_path() {
    within(FD_LIMIT, || {
        let (c, s) = unix_pair();
        stalled_server_read_timeout(Mode::FdPath, false, c, s)
    })
}

#[test]
fn read_timeout_unix_custom_bio() {
    within(FD_LIMIT, || {
        let (c, s) = unix_pair();
        stalled_server_read_timeout(Mode::CustomBio, false, c, s)
    })
}

/// A handshake against a peer that accepts and never answers times out naming "handshake".
#[test]
fn client_handshake_against_silent_peer_times_out() {
    for mode in Mode::BOTH {
        within(FD_LIMIT, move || {
            let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
            let addr = listener.local_addr().unwrap();
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let silent = thread::spawn(move || {
                let (_socket, _) = listener.accept().unwrap();
                let _ = done_rx.recv_timeout(Duration::from_secs(20));
            });
            let tcp = TcpStream::connect(addr).unwrap();
            let start = Instant::now();
            let err = Fixture::shared()
                .client(mode)
                .timeout(Duration::from_millis(300))
                .connect(tcp)
                .expect_err("nobody answers");
            assert_took(
                start,
                Duration::from_millis(250),
                Duration::from_millis(3000),
                "handshake timeout",
            );
            assert!(
                matches!(
                    err,
                    Error::Timeout {
                        operation: sslbridge::Operation::Handshake
                    }
                ),
                "{mode:?}: {err:?}"
            );
            assert_eq!(err.io_kind(), io::ErrorKind::TimedOut);
            done_tx.send(()).unwrap();
            join(silent);
        });
    }
}

/// A server whose client connects and never sends a ClientHello times out too.
#[test]
fn server_handshake_against_silent_client_times_out() {
    for mode in Mode::BOTH {
        within(FD_LIMIT, move || {
            let (_client, server) = tcp_pair();
            let start = Instant::now();
            let err = Fixture::shared()
                .server(mode)
                .timeout(Duration::from_millis(300))
                .accept(server)
                .expect_err("the client never speaks");
            assert_took(
                start,
                Duration::from_millis(250),
                Duration::from_millis(3000),
                "handshake timeout",
            );
            assert!(
                matches!(
                    err,
                    Error::Timeout {
                        operation: sslbridge::Operation::Handshake
                    }
                ),
                "{mode:?}: {err:?}"
            );
        });
    }
}

/// A peer that stops reading makes writes time out (after the socket buffers fill).
#[test]
fn write_timeout_when_peer_stops_reading() {
    for mode in Mode::BOTH {
        within(FD_LIMIT, move || {
            let pki = Fixture::shared();
            let (c, s) = tcp_pair();
            let (done_tx, done_rx) = mpsc::channel::<()>();
            let server = thread::spawn(move || {
                let _tls = pki.server(mode).accept(s).expect("accept");
                let _ = done_rx.recv_timeout(Duration::from_secs(30));
            });
            let mut tls = pki.client(mode).connect(c).expect("connect");
            tls.set_write_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let chunk = vec![0x42u8; 64 * 1024];
            let start = Instant::now();
            let err = loop {
                match tls.write(&chunk) {
                    Ok(n) => assert!(
                        n > 0 && start.elapsed() < Duration::from_secs(20),
                        "writes never blocked"
                    ),
                    Err(e) => break e,
                }
            };
            assert_timeout(err, "write");
            done_tx.send(()).unwrap();
            join(server);
        });
    }
}

/// After a timeout, `into_inner()` hands back the socket blocking, as the user gave it: a
/// plain read with no timeout waits for the peer's late bytes instead of failing WouldBlock.
#[test]
fn into_inner_after_timeout_returns_blocking_socket() {
    for mode in Mode::BOTH {
        within(FD_LIMIT, move || {
            let pki = Fixture::shared();
            let (c, s) = tcp_pair();
            let (go_tx, go_rx) = mpsc::channel::<()>();
            let server = thread::spawn(move || {
                let tls = pki.server(mode).accept(s).expect("accept");
                let mut raw = tls.into_inner();
                go_rx.recv().unwrap();
                thread::sleep(Duration::from_millis(100));
                raw.write_all(b"plain").unwrap();
                raw
            });
            let mut tls = pki
                .client(mode)
                .timeout(Duration::from_millis(200))
                .connect(c)
                .expect("connect");
            let mut buf = [0u8; 16];
            let err = tls.read(&mut buf).expect_err("stalled");
            assert_timeout(err, "read");
            let mut tcp = tls.into_inner();
            assert!(
                !is_nonblocking(tcp.as_raw_fd()),
                "{mode:?}: O_NONBLOCK left set"
            );
            assert_eq!(tcp.read_timeout().unwrap(), None);
            go_tx.send(()).unwrap();
            let start = Instant::now();
            let mut plain = [0u8; 5];
            tcp.read_exact(&mut plain)
                .expect("a blocking read waits for the late bytes");
            assert_eq!(&plain, b"plain");
            assert!(start.elapsed() >= Duration::from_millis(50));
            drop(join(server));
        });
    }
}

/// Dropping a stream that enforced deadlines on a borrowed descriptor leaves it blocking.
#[test]
fn drop_restores_blocking_mode_of_borrowed_fd() {
    within(FD_LIMIT, || {
        let pki = Fixture::shared();
        let (c, s) = unix_pair();
        let server = thread::spawn(move || {
            let tls = pki.server(Mode::FdPath).accept(s).expect("accept");
            tls.close().expect("close");
        });
        let fd = c.as_raw_fd();
        // SAFETY: `c` outlives the stream made over it.
        let descriptor = unsafe { sslbridge::Descriptor::borrow_raw(fd) };
        let mut tls = pki
            .client(Mode::FdPath)
            .timeout(Duration::from_secs(5))
            .connect_fd(descriptor)
            .expect("connect");
        assert!(is_nonblocking(fd));
        let mut buf = [0u8; 1];
        assert_eq!(tls.read(&mut buf).unwrap(), 0);
        drop(tls);
        assert!(fd_flags(fd).is_ok(), "borrowed fd must stay open");
        assert!(!is_nonblocking(fd), "O_NONBLOCK left set on the user's fd");
        join(server);
    })
}

/// A transport without a descriptor governs its own timeouts: a `MemoryPipe` read timeout
/// surfaces as `Error::Timeout { "read" }`, and the stream is still usable afterwards.
#[test]
fn memory_pipe_own_timeout_surfaces_as_timeout() {
    within(FD_LIMIT, || {
        let pki = Fixture::shared();
        let (mut c, s) = sslbridge::duplex(256 * 1024);
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let server = thread::spawn(move || {
            let mut tls = pki.server(Mode::FdPath).accept(s).expect("accept");
            go_rx.recv().unwrap();
            tls.write_all(b"late").unwrap();
            tls.close().unwrap();
        });
        c.set_read_timeout(Some(Duration::from_millis(200)));
        let mut tls = ClientOptions::new()
            .hostname("localhost")
            .verify(Verify::Required)
            .context(pki.trust.clone())
            .connect(c)
            .expect("connect");
        assert!(!tls.uses_fd_fast_path());
        let mut buf = [0u8; 4];
        let start = Instant::now();
        let err = tls.read(&mut buf).expect_err("stalled");
        assert_took(
            start,
            Duration::from_millis(150),
            Duration::from_millis(2000),
            "transport timeout",
        );
        assert_timeout(err, "read");
        go_tx.send(()).unwrap();
        tls.get_mut()
            .set_read_timeout(Some(Duration::from_secs(10)));
        tls.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"late");
        join(server);
    })
}

/// A read that times out in the middle of a TLS record resumes correctly: a relay between
/// the peers forwards only the first 100 bytes of the server's next write, stalls past the
/// client's 200 ms timeout, then forwards the rest.
fn timeout_mid_record(mode: Mode) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    within(FD_LIMIT, move || {
        let pki = Fixture::shared();
        let (client_end, relay_client) = tcp_pair();
        let (server_end, relay_server) = unix_pair();
        let hold = Arc::new(AtomicBool::new(false));
        let (go_tx, go_rx) = mpsc::channel::<()>();
        // Client → server: a plain copy.
        let (mut from_client, mut to_server) = (
            relay_client.try_clone().unwrap(),
            relay_server.try_clone().unwrap(),
        );
        let upstream = thread::spawn(move || {
            let _ = io::copy(&mut from_client, &mut to_server);
            let _ = to_server.shutdown(std::net::Shutdown::Write);
        });
        // Server → client: split the first write after `hold` is armed.
        let (mut from_server, mut to_client) = (relay_server, relay_client);
        let held = hold.clone();
        let downstream = thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match from_server.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if n > 100 && held.swap(false, Ordering::SeqCst) {
                    to_client.write_all(&buf[..100]).unwrap();
                    go_rx.recv().unwrap();
                    to_client.write_all(&buf[100..n]).unwrap();
                } else if to_client.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to_client.shutdown(std::net::Shutdown::Write);
        });
        let (armed_tx, armed_rx) = mpsc::channel::<()>();
        let server = thread::spawn(move || {
            let mut tls = pki.server(mode).accept(server_end).expect("accept");
            armed_rx.recv().unwrap();
            tls.write_all(&[0x77u8; 1000]).expect("server write");
            tls.close().expect("server close");
        });
        let mut tls = pki.client(mode).connect(client_end).expect("connect");
        tls.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        hold.store(true, Ordering::SeqCst);
        armed_tx.send(()).unwrap();
        let mut buf = [0u8; 1000];
        let err = tls
            .read(&mut buf)
            .expect_err("only part of a record arrived");
        assert_timeout(err, "read");
        go_tx.send(()).unwrap();
        tls.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        tls.read_exact(&mut buf).expect("the rest of the record");
        assert!(buf.iter().all(|&b| b == 0x77));
        assert_eq!(tls.read(&mut buf).expect("close_notify"), 0);
        join(server);
        drop(tls);
        join(upstream);
        join(downstream);
    })
}

#[test]
fn read_timeout_mid_record_fd_path() {
    timeout_mid_record(Mode::FdPath);
}

#[test]
fn read_timeout_mid_record_custom_bio() {
    timeout_mid_record(Mode::CustomBio);
}

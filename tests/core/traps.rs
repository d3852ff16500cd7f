//! The silent traps of issue 12: deadlines that hold or are refused, buffering transports that
//! get flushed, servers that ask for no client certificate by default, a transport's own
//! timeout during a blocking handshake, peers that do not speak TLS, alerts in plain words,
//! and chaos a blocking peer absorbs.

use crate::common::*;
use sslbridge::testing::ChaosPlan;
use sslbridge::{
    ClientOptions, Context, Error, Operation, Pipes, Protocol, ServerOptions, Verify, VerifyMode,
};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

/// A TCP server that accepts and then says nothing until the test ends.
fn silent_server() -> (u16, thread::JoinHandle<()>) {
    let (listener, port) = listen();
    let server = thread::spawn(move || {
        if let Ok(peer) = accept_within(&listener, Duration::from_secs(10)) {
            let mut peer = peer;
            peer.set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            let mut sink = Vec::new();
            let _ = peer.read_to_end(&mut sink);
        }
    });
    (port, server)
}

/// Item 1: a deadline on a transport sslbridge cannot bound is refused before any I/O.
#[test]
fn deadline_on_an_opaque_transport_is_refused() {
    within(LIMIT, || {
        let (port, server) = silent_server();
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let wrapped = Pipes::new(BufReader::new(tcp.try_clone().unwrap()), tcp);
        let started = Instant::now();
        let err = ClientOptions::new()
            .hostname("localhost")
            .timeout(Duration::from_secs(1))
            .connect(wrapped)
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(3), "it waited");
        let Error::InvalidArgument(text) = &err else {
            panic!("expected InvalidArgument, got {err:?}");
        };
        assert!(
            text.contains("transport::pipes::Pipes"),
            "names the transport type: {text}"
        );
        assert!(text.contains("descriptor"), "says what to do: {text}");
        assert!(text.contains("set_read_timeout"), "says what to do: {text}");
        join(server);
    })
}

/// Item 1: `set_read_timeout` / `set_write_timeout` refuse the same way.
#[test]
fn setting_a_timeout_later_on_an_opaque_transport_is_refused() {
    let (a, _b) = unix_pair();
    let wrapped = Pipes::new(BufReader::new(a.try_clone().unwrap()), a);
    let mut tls = ClientOptions::new()
        .verify(Verify::None)
        .start(wrapped)
        .unwrap();
    for result in [
        tls.set_read_timeout(Some(Duration::from_secs(1))),
        tls.set_write_timeout(Some(Duration::from_secs(1))),
    ] {
        assert!(
            matches!(&result, Err(Error::InvalidArgument(text)) if text.contains("transport::pipes::Pipes")),
            "refused, naming the transport type: {result:?}"
        );
    }
    assert_eq!(tls.read_timeout(), None);
    tls.set_read_timeout(None).unwrap();
}

/// Item 1: a MemoryPipe is sslbridge's own, and enforces deadlines (a silent peer: a timeout
/// within a few seconds, not a hang).
#[test]
fn memory_pipe_enforces_deadlines() {
    within(LIMIT, || {
        let (c, _silent) = sslbridge::duplex(64 * 1024);
        let started = Instant::now();
        let err = ClientOptions::new()
            .verify(Verify::None)
            .timeout(Duration::from_secs(1))
            .connect(c)
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Timeout {
                    operation: Operation::Handshake
                }
            ),
            "{err:?}"
        );
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(900), "{took:?}");
        assert!(took < Duration::from_secs(4), "{took:?}");
    })
}

/// Item 1: the descriptor transports still enforce deadlines on both paths.
#[test]
fn descriptors_enforce_deadlines_on_both_paths() {
    for mode in Mode::BOTH {
        within(LIMIT, move || {
            let (port, server) = silent_server();
            let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let started = Instant::now();
            let err = mode
                .client(ClientOptions::new().verify(Verify::None))
                .timeout(Duration::from_millis(700))
                .connect(tcp)
                .unwrap_err();
            assert!(matches!(err, Error::Timeout { .. }), "{mode:?}: {err:?}");
            assert!(started.elapsed() < Duration::from_secs(4));
            join(server);
        })
    }
}

/// Item 2: records written on the custom BIO reach a buffering transport's peer without an
/// explicit flush.
#[test]
fn writes_are_flushed_through_a_buffering_transport() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        let (a, b) = unix_pair();
        let server = thread::spawn(move || {
            let mut tls = pki.server(Mode::FdPath).accept(b).unwrap();
            tls.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut got = [0u8; 4];
            tls.read_exact(&mut got).map(|()| got)
        });
        let transport = Pipes::new(a.try_clone().unwrap(), BufWriter::new(a));
        let mut tls = pki.client(Mode::CustomBio).connect(transport).unwrap();
        assert!(!tls.uses_fd_fast_path());
        assert_eq!(tls.write(b"ping").unwrap(), 4); // and no flush()
        assert_eq!(&join(server).expect("the write reached the peer"), b"ping");
        assert!(tls.transport_stats().flushes > 0);
    })
}

/// A transport whose flush would block `blocked_flushes` times, then flushes its buffer.
struct SlowFlush {
    inner: UnixStream,
    buffer: Vec<u8>,
    blocked_flushes: usize,
}

impl Read for SlowFlush {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for SlowFlush {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.blocked_flushes > 0 {
            self.blocked_flushes -= 1;
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.inner.write_all(&self.buffer)?;
        self.buffer.clear();
        Ok(())
    }
}

/// Item 2: a flush that would block does not make `write` fail (the plaintext is consumed):
/// the next call retries it.
#[test]
fn a_flush_that_would_block_is_retried_by_the_next_call() {
    within(LIMIT, || {
        let pki = Fixture::shared();
        let (a, b) = unix_pair();
        let server = thread::spawn(move || {
            let mut tls = pki.server(Mode::FdPath).accept(b).unwrap();
            let mut got = [0u8; 9];
            tls.read_exact(&mut got).unwrap();
            tls.write_all(b"ok").unwrap();
            got
        });
        let transport = SlowFlush {
            inner: a,
            buffer: Vec::new(),
            blocked_flushes: 0,
        };
        let mut tls = pki.client(Mode::CustomBio).connect(transport).unwrap();
        tls.get_mut().blocked_flushes = 1;
        assert_eq!(tls.write(b"first").unwrap(), 5, "the write succeeds");
        assert_eq!(tls.write(b"-two").unwrap(), 4, "and so does the next");
        let mut ok = [0u8; 2];
        tls.read_exact(&mut ok).unwrap();
        assert_eq!(&ok, b"ok");
        assert_eq!(&join(server), b"first-two");
    })
}

/// Item 3: a default server asks for no client certificate: a client offering one the server
/// does not trust connects, and the server sees no peer certificate.
#[test]
fn default_server_requests_no_client_certificate() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let untrusted_client = fx.pki.untrusted(&["client.example"]).unwrap();
        let server_ctx = Context::builder()
            .certificate_chain_pem(&fx.server.chain_pem)
            .private_key_pem(&fx.server.key_pem)
            .build()
            .unwrap();
        assert_eq!(server_ctx.verify_mode(), VerifyMode::NONE);
        for ctx in [Some(server_ctx), None] {
            let (c, s) = sslbridge::duplex(64 * 1024);
            let server_key = fx.server.clone();
            let server = thread::spawn(move || {
                let options = match ctx {
                    Some(ctx) => ServerOptions::new().context(ctx),
                    None => ServerOptions::new()
                        .context(Context::builder().build().unwrap())
                        .certificate_chain_pem(&server_key.chain_pem)
                        .private_key_pem(&server_key.key_pem),
                };
                let mut tls = options.accept(s).unwrap();
                tls.write_all(b"hi").unwrap();
                tls.peer_certificate().is_none()
            });
            let mut tls = ClientOptions::new()
                .hostname("localhost")
                .context(fx.client_context(None))
                .certificate_chain_pem(&untrusted_client.chain_pem)
                .private_key_pem(&untrusted_client.key_pem)
                .connect(c)
                .unwrap();
            let mut hi = [0u8; 2];
            tls.read_exact(&mut hi).unwrap();
            assert!(join(server), "the server saw a client certificate");
        }
    })
}

/// Item 3: asking per stream with `ServerOptions::verify_mode`.
#[test]
fn server_options_verify_mode_requires_a_client_certificate() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let client_key = fx.pki.client("alice").unwrap();
        for (offer, expect_ok) in [(true, true), (false, false)] {
            let (c, s) = sslbridge::duplex(64 * 1024);
            let server_key = fx.server.clone();
            let root = fx.pki.root_pem();
            let server = thread::spawn(move || {
                let ctx = Context::builder()
                    .ca_certificates_pem(&root)
                    .max_protocol_version(Protocol::Tls1_2)
                    .build()
                    .unwrap();
                ServerOptions::new()
                    .context(ctx)
                    .certificate_chain_pem(&server_key.chain_pem)
                    .private_key_pem(&server_key.key_pem)
                    .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
                    .accept(s)
                    .map(|tls| tls.peer_certificate().map(|c| c.subject_name()))
            });
            let mut options = ClientOptions::new()
                .hostname("localhost")
                .context(fx.client_context(None));
            if offer {
                options = options
                    .certificate_chain_pem(&client_key.chain_pem)
                    .private_key_pem(&client_key.key_pem);
            }
            let client = options.connect(c);
            let server = join(server);
            assert_eq!(client.is_ok(), expect_ok, "{:?}", client.err());
            match server {
                Ok(subject) => assert!(subject.unwrap().contains("alice")),
                Err(e) => assert!(!expect_ok, "{e}"),
            }
        }
    })
}

/// Item 3: a server that rejects a client certificate says what to change on the server.
#[test]
fn server_side_verify_error_names_the_server_setting() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let untrusted = fx.pki.untrusted(&["client.example"]).unwrap();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server_key = fx.server.clone();
        let root = fx.pki.root_pem();
        let server = thread::spawn(move || {
            ServerOptions::new()
                .context(
                    Context::builder()
                        .ca_certificates_pem(&root)
                        .build()
                        .unwrap(),
                )
                .certificate_chain_pem(&server_key.chain_pem)
                .private_key_pem(&server_key.key_pem)
                .verify_mode(VerifyMode::PEER)
                .accept(s)
                .map(|_| ())
        });
        let _ = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .certificate_chain_pem(&untrusted.chain_pem)
            .private_key_pem(&untrusted.key_pem)
            .connect(c)
            .and_then(|mut tls| tls.read(&mut [0u8; 1]).map_err(Error::from));
        let err = join(server).unwrap_err();
        let Error::Verify { verified_by, .. } = &err else {
            panic!("expected Error::Verify, got {err:?}");
        };
        assert_eq!(*verified_by, sslbridge::Side::Server);
        let text = err.to_string();
        assert!(text.contains("ServerOptions::verify_mode"), "{text}");
        assert!(!text.contains("Verify::None"), "a client setting: {text}");
    })
}

/// Item 4: a transport's own timeout during a blocking connect is a handshake timeout.
#[test]
fn transport_timeout_during_blocking_connect_is_a_timeout() {
    for wrapped in [false, true] {
        within(LIMIT, move || {
            let (port, server) = silent_server();
            let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
            tcp.set_read_timeout(Some(Duration::from_millis(500)))
                .unwrap();
            let options = ClientOptions::new().verify(Verify::None);
            let started = Instant::now();
            let err = if wrapped {
                // The custom BIO: the socket's own timeout surfaces as WouldBlock.
                let pipes = Pipes::new(BufReader::new(tcp.try_clone().unwrap()), tcp);
                options.connect(pipes).map(drop).unwrap_err()
            } else {
                options.connect(tcp).map(drop).unwrap_err()
            };
            assert!(
                matches!(
                    err,
                    Error::Timeout {
                        operation: Operation::Handshake
                    }
                ),
                "wrapped {wrapped}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.contains("transport's own timeout"), "{text}");
            assert!(text.contains("non-blocking"), "{text}");
            assert!(started.elapsed() < Duration::from_secs(4));
            join(server);
        })
    }
}

/// Item 4: `start` + `handshake` keep reporting WantRead on a non-blocking transport.
#[test]
fn start_and_handshake_still_want_read() {
    let (mut c, _s) = sslbridge::duplex(64 * 1024);
    c.set_nonblocking(true);
    let mut tls = ClientOptions::new().verify(Verify::None).start(c).unwrap();
    assert!(matches!(tls.handshake(), Err(Error::WantRead)));
    assert!(matches!(tls.handshake(), Err(Error::WantRead)));
}

/// A plaintext server: answers whatever arrives with an HTTP error and hangs up.
fn http_server() -> (u16, thread::JoinHandle<()>) {
    let (listener, port) = listen();
    let server = thread::spawn(move || {
        let Ok(mut peer) = accept_within(&listener, Duration::from_secs(10)) else {
            return;
        };
        let mut buf = [0u8; 512];
        let _ = peer.read(&mut buf);
        let _ = peer.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    (port, server)
}

/// Item 5: a peer that does not speak TLS, on both paths.
#[test]
fn plaintext_peer_is_peer_not_tls() {
    for mode in Mode::BOTH {
        within(LIMIT, move || {
            let (port, server) = http_server();
            let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let err = mode
                .client(ClientOptions::new().verify(Verify::None))
                .connect(tcp)
                .map(drop)
                .unwrap_err();
            join(server);
            let Error::PeerNotTls { received } = &err else {
                panic!("{mode:?}: expected PeerNotTls, got {err:?}");
            };
            assert!(received.starts_with(b"HTTP/"), "{mode:?}: {received:?}");
            let expected_len = if mode.is_fd() { 5 } else { 16 };
            assert_eq!(received.len(), expected_len, "{mode:?}");
            let text = err.to_string();
            assert!(text.contains("\"HTTP/"), "shows the bytes: {text}");
            assert!(
                text.contains("plaintext") && text.contains("STARTTLS"),
                "{text}"
            );
            assert_eq!(io::Error::from(err).kind(), io::ErrorKind::InvalidData);
        })
    }
}

/// Item 5: a server rejecting our certificate is a `PeerAlert` naming the alert, on connect in
/// TLS 1.2 and on the first read in TLS 1.3.
#[test]
fn untrusted_client_certificate_is_a_peer_alert() {
    for version in [Protocol::Tls1_2, Protocol::Tls1_3] {
        within(LIMIT, move || {
            let fx = Fixture::new();
            let untrusted = fx.pki.untrusted(&["client.example"]).unwrap();
            let (c, s) = sslbridge::duplex(64 * 1024);
            let server_key = fx.server.clone();
            let root = fx.pki.root_pem();
            let server = thread::spawn(move || {
                let ctx = Context::builder()
                    .ca_certificates_pem(&root)
                    .max_protocol_version(version)
                    .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
                    .build()
                    .unwrap();
                ServerOptions::new()
                    .context(ctx)
                    .certificate_chain_pem(&server_key.chain_pem)
                    .private_key_pem(&server_key.key_pem)
                    .accept(s)
                    .map(drop)
            });
            let client = ClientOptions::new()
                .hostname("localhost")
                .context(fx.client_context(None))
                .certificate_chain_pem(&untrusted.chain_pem)
                .private_key_pem(&untrusted.key_pem)
                .connect(c);
            let err = match (version, client) {
                (Protocol::Tls1_2, Err(e)) => e,
                (Protocol::Tls1_3, Ok(mut tls)) => {
                    Error::from(tls.read(&mut [0u8; 1]).unwrap_err())
                }
                (v, other) => panic!("{v}: {:?}", other.map(drop)),
            };
            assert!(join(server).is_err());
            let Error::PeerAlert { alert, name } = &err else {
                panic!("{version}: expected PeerAlert, got {err:?}");
            };
            assert!(matches!(alert, 42 | 48), "{version}: alert {alert}");
            assert!(matches!(*name, "bad_certificate" | "unknown_ca"), "{name}");
            let text = err.to_string();
            assert!(text.contains("rejected our certificate"), "{text}");
            assert!(text.contains(name), "{text}");
            assert_eq!(
                io::Error::from(err).kind(),
                io::ErrorKind::ConnectionAborted
            );
        })
    }
}

/// Item 6: every `random_blocking` plan lets a blocking handshake and echo complete.
#[test]
fn random_blocking_chaos_never_breaks_blocking_peers() {
    within(Duration::from_secs(120), || {
        let fx = Fixture::new();
        for seed in 0..30u64 {
            let (c, s) = sslbridge::duplex(64 * 1024);
            let ctx = fx.server_context(None);
            let server = thread::spawn(move || -> Result<(), Error> {
                let mut tls = ServerOptions::new()
                    .context(ctx)
                    .accept(ChaosPlan::random_blocking(seed).wrap(s))?;
                let mut buf = vec![0u8; 3000];
                tls.read_exact(&mut buf)?;
                tls.write_all(&buf)?;
                tls.close()
            });
            let mut tls = ClientOptions::new()
                .hostname("localhost")
                .context(fx.client_context(None))
                .connect(ChaosPlan::random_blocking(seed ^ 0x5eed).wrap(c))
                .unwrap_or_else(|e| panic!("seed {seed}: connect: {e}"));
            let data = payload(seed, 3000);
            tls.write_all(&data).unwrap();
            let mut echo = Vec::new();
            tls.read_to_end(&mut echo)
                .unwrap_or_else(|e| panic!("seed {seed}: read: {e}"));
            assert_eq!(echo, data, "seed {seed}");
            join(server).unwrap_or_else(|e| panic!("seed {seed}: server: {e}"));
        }
    })
}

//! Soundness regressions of issue 11 that need no process-wide state: a flush that times out,
//! the kind of a failed stream's later errors, OpenSSL's error queue, buffered output on drop,
//! and `Verify::Required` without a host name.

use crate::common::*;
use sslbridge::{ClientOptions, Error, MemoryPipe, ServerOptions, Verify};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread;

/// How a [`Rigged`] transport misbehaves; switched while the test runs.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Fault {
    None,
    /// `flush` fails with `TimedOut`.
    FlushTimesOut,
    /// Every read fails with `BrokenPipe`.
    ReadBrokenPipe,
    /// Every write panics.
    WritePanics,
}

/// A MemoryPipe that misbehaves on cue ([`Fault`]).
struct Rigged {
    inner: MemoryPipe,
    fault: Arc<AtomicU8>,
}

impl Rigged {
    /// The transport and the switch that rigs it.
    fn new(inner: MemoryPipe) -> (Rigged, Arc<AtomicU8>) {
        let fault = Arc::new(AtomicU8::new(Fault::None as u8));
        (
            Rigged {
                inner,
                fault: fault.clone(),
            },
            fault,
        )
    }

    fn is(&self, fault: Fault) -> bool {
        self.fault.load(Ordering::SeqCst) == fault as u8
    }
}

fn rig(switch: &AtomicU8, fault: Fault) {
    switch.store(fault as u8, Ordering::SeqCst);
}

impl Read for Rigged {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.is(Fault::ReadBrokenPipe) {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "injected broken pipe",
            ));
        }
        self.inner.read(buf)
    }
}

impl Write for Rigged {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.is(Fault::WritePanics) {
            panic!("exploding transport");
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.is(Fault::FlushTimesOut) {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "flush timed out"));
        }
        self.inner.flush()
    }
}

/// A server over `end` that completes the handshake, says "!" (so the client knows the server
/// is done with the handshake), then reads until EOF, returning what it received (or the
/// error that ended it).
fn echo_sink(fx: &Fixture, end: MemoryPipe) -> thread::JoinHandle<(Vec<u8>, Option<io::Error>)> {
    let ctx = fx.server_context(None);
    thread::spawn(move || {
        let mut tls = ServerOptions::new().context(ctx).accept(end).unwrap();
        tls.write_all(b"!").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match tls.read(&mut buf) {
                Ok(0) => return (got, None),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return (got, Some(e)),
            }
        }
    })
}

/// Reads the sink's "!".
fn sink_ready(tls: &mut impl Read) {
    let mut ready = [0u8; 1];
    tls.read_exact(&mut ready).unwrap();
    assert_eq!(&ready, b"!");
}

fn client(fx: &Fixture) -> ClientOptions {
    ClientOptions::new()
        .hostname("localhost")
        .context(fx.client_context(None))
}

/// Item 5: a flush that times out is a write timeout, and the flag does not outlive it.
#[test]
fn flush_timing_out_is_a_write_timeout() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = echo_sink(&fx, s);
        let (transport, fault) = Rigged::new(c);
        let mut tls = client(&fx).connect(transport).unwrap();
        sink_ready(&mut tls);
        tls.write_all(b"before").unwrap();
        rig(&fault, Fault::FlushTimesOut);
        let err = tls.flush().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        assert!(
            matches!(
                Error::from(err),
                Error::Timeout {
                    operation: sslbridge::Operation::Write
                }
            ),
            "a flush timeout is the write's timeout"
        );
        // Handled like a write timeout: the stream is failed, and says why, with the kind.
        rig(&fault, Fault::None);
        let again = tls.write(b"after").unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::TimedOut, "{again}");
        drop(tls);
        let (got, _) = join(server);
        assert_eq!(got, b"before");
    })
}

/// Item 5, second half: a read timeout from the transport is reported once; the next genuine
/// would-block of a non-blocking transport is a would-block again, not a stale timeout.
#[test]
fn transport_read_timeout_does_not_leak_into_later_calls() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (mut c, s) = sslbridge::duplex(64 * 1024);
        let server = thread::spawn({
            let ctx = fx.server_context(None);
            move || {
                let mut tls = ServerOptions::new().context(ctx).accept(s).unwrap();
                let mut buf = [0u8; 1];
                let _ = tls.read(&mut buf);
            }
        });
        c.set_read_timeout(Some(std::time::Duration::from_millis(50)));
        let mut tls = client(&fx).connect(c).unwrap();
        let mut buf = [0u8; 16];
        let err = tls.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut, "{err}");
        tls.get_mut().set_read_timeout(None);
        tls.get_mut().set_nonblocking(true);
        let err = tls.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        let err = tls.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        tls.write_all(b"x").unwrap();
        drop(tls);
        join(server);
    })
}

/// Item 6: every later call on a failed stream fails with the kind of the first failure, and
/// its message names it.
#[test]
fn failed_stream_keeps_the_kind_of_its_first_failure() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = echo_sink(&fx, s);
        let (transport, fault) = Rigged::new(c);
        let mut tls = client(&fx).connect(transport).unwrap();
        sink_ready(&mut tls);
        rig(&fault, Fault::ReadBrokenPipe);
        let mut buf = [0u8; 16];
        let first = tls.read(&mut buf).unwrap_err();
        assert_eq!(first.kind(), io::ErrorKind::BrokenPipe, "{first}");
        for later in [
            tls.write(b"x").unwrap_err(),
            tls.read(&mut buf).unwrap_err(),
            tls.flush().map(|_| 0).unwrap_err(),
        ] {
            assert_eq!(later.kind(), io::ErrorKind::BrokenPipe, "{later}");
            assert!(
                later.to_string().contains("injected broken pipe"),
                "the message names the first failure: {later}"
            );
            match Error::from(later) {
                Error::StreamFailed { kind, reason } => {
                    assert_eq!(kind, io::ErrorKind::BrokenPipe);
                    assert!(reason.contains("injected broken pipe"), "{reason}");
                }
                other => panic!("expected StreamFailed, got {other:?}"),
            }
        }
        let err = tls.handshake().unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::BrokenPipe, "{err}");
        drop(tls);
        join(server);
    })
}

/// What the stale entry says: no error of ours may contain it.
const STALE: &str = "stale entry left by unrelated code";

/// Puts an entry on this thread's OpenSSL error queue, as unrelated code that does not clear
/// up after itself would.
fn leave_stale_error() {
    sslbridge::ensure_initialized();
    // SAFETY: raising an error on this thread's queue; the format has no conversions.
    unsafe {
        openssl_sys::ERR_new();
        openssl_sys::ERR_set_debug(c"unrelated.c".as_ptr(), 1, c"unrelated".as_ptr());
        openssl_sys::ERR_set_error(
            128, // ERR_LIB_USER
            1,
            c"stale entry left by unrelated code".as_ptr(),
        );
    }
    assert!(stale_entry_queued(), "no stale entry");
}

/// Whether an entry is on this thread's queue.
fn stale_entry_queued() -> bool {
    // SAFETY: only reads this thread's queue.
    unsafe { openssl_sys::ERR_peek_last_error() != 0 }
}

/// Item 7: stale entries neither fail a good connection nor appear in our errors.
#[test]
fn stale_error_queue_entries_stay_out() {
    within(LIMIT, || {
        let fx = Fixture::new();
        // A good connection, set up and driven with stale entries on the queue.
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = echo_sink(&fx, s);
        leave_stale_error();
        let mut tls = client(&fx).start(c).unwrap();
        leave_stale_error();
        tls.handshake().unwrap();
        leave_stale_error();
        sink_ready(&mut tls);
        leave_stale_error();
        tls.write_all(b"fine").unwrap();
        tls.close().unwrap();
        assert_eq!(join(server).0, b"fine");

        // A failing set-up reports its own failure only.
        let (c, _s) = sslbridge::duplex(1024);
        leave_stale_error();
        let err = client(&fx)
            .cipher_list("NO-SUCH-CIPHER")
            .start(c)
            .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains(STALE), "stale entry in our error: {text}");
        assert!(text.contains("cipher"), "{text}");
        // A failing certificate parse too.
        leave_stale_error();
        let err = sslbridge::Certificate::from_pem(b"not a certificate").unwrap_err();
        assert!(
            !err.to_string().contains(STALE),
            "stale entry in our error: {err}"
        );
    })
}

/// Item 7: x509 helpers used inside the verify callback leave the queue alone.
#[test]
fn hostname_check_leaves_the_error_queue_alone() {
    let pki = sslbridge::testing::TestPki::new().unwrap();
    // A CN-only certificate: no subjectAltName, so the check looks for the extension and
    // falls back to the CN.
    let key = pki.cn_only("cn.example").unwrap();
    let cert = sslbridge::Certificate::from_pem(&key.cert_pem).unwrap();
    for host in ["cn.example", "other.example"] {
        leave_stale_error();
        let _ = sslbridge::verify_hostname(&cert, host);
        let _ = cert.dns_names();
        let _ = cert.subject_common_names();
        assert!(
            stale_entry_queued(),
            "verify_hostname({host}) cleared the error queue"
        );
        // SAFETY: clears this thread's queue.
        unsafe { openssl_sys::ERR_clear_error() };
    }
}

/// Item 10: bytes in the output buffer reach the peer when the stream is dropped.
#[test]
fn buffered_output_is_flushed_on_drop() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = echo_sink(&fx, s);
        let mut tls = client(&fx).output_buffer_size(4096).connect(c).unwrap();
        sink_ready(&mut tls);
        tls.write_all(b"buffered, never flushed").unwrap();
        drop(tls);
        let (got, err) = join(server);
        assert_eq!(got, b"buffered, never flushed");
        // Drop still sends no close_notify: the peer sees a truncation.
        assert_eq!(
            err.map(|e| e.kind()),
            Some(io::ErrorKind::UnexpectedEof),
            "no close_notify on drop"
        );
    })
}

/// Item 11: a verifying client without a host name is refused before any I/O.
#[test]
fn verifying_client_without_hostname_is_refused() {
    let fx = Fixture::new();
    for verify in [Verify::Required, Verify::Optional] {
        let (c, _s) = sslbridge::duplex(1024);
        let err = ClientOptions::new()
            .verify(verify)
            .context(fx.client_context(None))
            .start(c)
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(".hostname("), "{text}");
        assert!(text.contains("verify_hostname(false)"), "{text}");
    }
    // Verify::None needs no name.
    let (c, _s) = sslbridge::duplex(1024);
    ClientOptions::new().verify(Verify::None).start(c).unwrap();
}

/// Item 11: the explicit opt-out gives chain-only verification; with a host name as well, SNI
/// is still sent and the name is not checked.
#[test]
fn verify_hostname_false_checks_the_chain_only() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let chain_only = || {
            ClientOptions::new()
                .verify(Verify::Required)
                .verify_hostname(false)
                .context(fx.client_context(None))
        };
        // No name: connects to a "localhost" server.
        let (client, server) = try_connect(chain_only(), &fx.server);
        client.unwrap();
        server.unwrap();
        // A wrong name: still connects, and the server sees it as SNI.
        let (c, s) = sslbridge::duplex(64 * 1024);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            let tls = ServerOptions::new().context(ctx).accept(s).unwrap();
            tls.server_name()
        });
        let tls = chain_only().hostname("wrong.example").connect(c).unwrap();
        assert_eq!(join(server).as_deref(), Some("wrong.example"));
        drop(tls);
        // The chain is still checked: an untrusted server fails.
        let untrusted = fx.pki.untrusted(&["localhost"]).unwrap();
        let (client, _) = try_connect(chain_only(), &untrusted);
        assert!(
            matches!(client, Err(Error::Verify { .. })),
            "{:?}",
            client.err()
        );
    })
}

/// A client connection to a server presenting `key`, offering `session`; returns the result
/// and, on success, whether the session was reused and a session to resume later.
fn connect_with_session(
    key: &sslbridge::testing::CertifiedKey,
    server_ctx: &sslbridge::Context,
    options: ClientOptions,
) -> Result<(bool, Option<sslbridge::Session>), Error> {
    let _ = key;
    let (c, s) = sslbridge::duplex(64 * 1024);
    let ctx = server_ctx.clone();
    let server = thread::spawn(move || {
        let mut tls = ServerOptions::new().context(ctx).accept(s)?;
        tls.write_all(b"!")?;
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest);
        Ok::<_, Error>(())
    });
    let result = options.connect(c).and_then(|mut tls| {
        // TLS 1.3 tickets arrive after the handshake: read once before asking for the session.
        let mut bang = [0u8; 1];
        tls.read_exact(&mut bang)?;
        let reused = tls.session_reused();
        let session = tls.session();
        tls.close()?;
        Ok((reused, session))
    });
    let _ = join(server);
    result
}

/// Review finding: a resumed session must still match the host name and must have been
/// verified, or `Verify::Required` would accept a peer that never proved who it is.
#[test]
fn resumed_sessions_are_checked_like_full_handshakes() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let key = fx.pki.server(&["a.example"]).unwrap();
        let server_ctx = sslbridge::Context::builder()
            .certificate_chain_pem(&key.chain_pem)
            .private_key_pem(&key.key_pem)
            .build()
            .unwrap();
        let trust = fx.client_context(None);
        let client = |host: &str| ClientOptions::new().hostname(host).context(trust.clone());
        // A verified session for a.example...
        let (_, session) = connect_with_session(&key, &server_ctx, client("a.example")).unwrap();
        let session = session.expect("a resumable session");
        let (reused, _) = connect_with_session(
            &key,
            &server_ctx,
            client("a.example").session(session.clone()),
        )
        .unwrap();
        assert!(reused, "the control resumes");
        // ...does not make the certificate valid for b.example.
        let err = connect_with_session(&key, &server_ctx, client("b.example").session(session))
            .unwrap_err();
        assert!(matches!(err, Error::Hostname { .. }), "{err:?}");

        // A session from an unverified connection (an untrusted server) is refused by a
        // verifying client.
        let untrusted = fx.pki.untrusted(&["a.example"]).unwrap();
        let untrusted_ctx = sslbridge::Context::builder()
            .certificate_chain_pem(&untrusted.chain_pem)
            .private_key_pem(&untrusted.key_pem)
            .build()
            .unwrap();
        let (_, session) = connect_with_session(
            &untrusted,
            &untrusted_ctx,
            client("a.example").verify(Verify::None),
        )
        .unwrap();
        let err = connect_with_session(
            &untrusted,
            &untrusted_ctx,
            client("a.example").session(session.expect("a resumable session")),
        )
        .unwrap_err();
        assert!(matches!(err, Error::Verify { .. }), "{err:?}");
    })
}

/// Review finding: `close()` sends output buffered before the handshake, and reports the
/// failure of a failed stream instead of `Ok`.
#[test]
fn close_sends_buffered_output_and_reports_failures() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = echo_sink(&fx, s);
        let mut tls = client(&fx).output_buffer_size(1024).start(c).unwrap();
        tls.write_all(b"important").unwrap(); // buffered before any handshake
        sink_ready(&mut tls); // (the handshake; the server is done with it)
        tls.close().unwrap();
        let (got, err) = join(server);
        assert_eq!(got, b"important");
        assert!(err.is_none(), "close_notify arrived: {err:?}");

        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = echo_sink(&fx, s);
        let (transport, fault) = Rigged::new(c);
        let mut tls = client(&fx).connect(transport).unwrap();
        sink_ready(&mut tls);
        rig(&fault, Fault::ReadBrokenPipe);
        assert!(tls.read(&mut [0u8; 4]).is_err());
        let err = tls.close().unwrap_err();
        assert_eq!(err.io_kind(), io::ErrorKind::BrokenPipe, "{err}");
        join(server);
    })
}

/// Review finding: on a non-blocking transport, a write that would block has already been
/// made into a record by OpenSSL; a retry with other data must be refused, never silently
/// send the old bytes in its place. Retried with the same data, every byte arrives in order.
#[test]
fn would_block_writes_never_lose_or_reorder_bytes() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (mut c, mut s) = sslbridge::duplex(4096);
        c.set_nonblocking(true);
        s.set_nonblocking(true);
        let mut client = client(&fx).start(c).unwrap();
        let mut server = ServerOptions::new()
            .context(fx.server_context(None))
            .start(s)
            .unwrap();
        let (mut c_done, mut s_done) = (false, false);
        while !(c_done && s_done) {
            c_done = c_done || client.handshake().is_ok();
            s_done = s_done || server.handshake().is_ok();
        }
        let mut received = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut drain = |server: &mut sslbridge::SslStream<MemoryPipe>| loop {
            match server.read(&mut buf) {
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        };
        let block_a = vec![b'A'; 8000];
        let mut sent = Vec::new();
        let mut refused = 0;
        let mut rest: &[u8] = &block_a;
        while !rest.is_empty() {
            match client.write(rest) {
                Ok(n) => {
                    sent.extend_from_slice(&rest[..n]);
                    rest = &rest[n..];
                }
                Err(e) => {
                    assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "{e}");
                    // Other data is refused while the blocked record is pending...
                    let other = client.write(&[b'B'; 8000]).unwrap_err();
                    assert_eq!(other.kind(), io::ErrorKind::InvalidInput, "{other}");
                    refused += 1;
                    // ...and the same data goes through once the peer reads.
                    drain(&mut server);
                }
            }
        }
        assert!(refused > 0, "the transport never filled up");
        client.flush().unwrap();
        drain(&mut server);
        assert!(received == sent, "bytes lost, replaced or reordered");
        assert_eq!(received.len(), 8000);
    })
}

/// Review finding: a transport that panics in `Drop`'s flush still gets the stream torn down
/// (SSL freed, close callback run) before its panic goes on.
#[test]
fn a_panic_in_the_drop_flush_still_tears_down() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = echo_sink(&fx, s);
        let (transport, fault) = Rigged::new(c);
        let closed = Arc::new(AtomicBool::new(false));
        let mut tls = client(&fx)
            .output_buffer_size(1024)
            .on_close({
                let closed = closed.clone();
                move || closed.store(true, Ordering::SeqCst)
            })
            .connect(transport)
            .unwrap();
        sink_ready(&mut tls);
        tls.write_all(b"buffered").unwrap();
        rig(&fault, Fault::WritePanics);
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(tls)));
        let payload = dropped.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"exploding transport"));
        assert!(closed.load(Ordering::SeqCst), "the close callback ran");
        join(server);
    })
}

/// Review finding: a MemoryPipe handed back keeps no deadline of the stream's.
#[test]
fn a_memory_pipe_handed_back_keeps_no_stream_deadline() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            let tls = ServerOptions::new().context(ctx).accept(s).unwrap();
            let mut raw = tls.into_inner();
            thread::sleep(std::time::Duration::from_millis(500));
            raw.write_all(b"late").unwrap();
        });
        let tls = client(&fx)
            .timeout(std::time::Duration::from_millis(200))
            .connect(c)
            .unwrap();
        let mut raw = tls.into_inner();
        // (TLS 1.3 session tickets may come first; then the late bytes, then EOF.)
        let mut rest = Vec::new();
        raw.read_to_end(&mut rest)
            .expect("no stale deadline on the pipe");
        assert!(rest.ends_with(b"late"));
        join(server);
    })
}

/// Review finding: a timeout too large to add to the clock is no deadline, not a panic.
#[test]
fn huge_timeouts_do_not_overflow() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = echo_sink(&fx, s);
        let mut tls = client(&fx)
            .timeout(std::time::Duration::MAX)
            .connect(c)
            .unwrap();
        tls.set_read_timeout(Some(std::time::Duration::MAX))
            .unwrap();
        sink_ready(&mut tls);
        tls.write_all(b"ok").unwrap();
        tls.close().unwrap();
        assert_eq!(join(server).0, b"ok");
    })
}

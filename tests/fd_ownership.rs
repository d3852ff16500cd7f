//! The fd fast path works on descriptors the stream owns (issue 11, item 3): nothing done to
//! the transport through `get_mut()` can point OpenSSL at another file, and running out of
//! descriptors is a clear error.
//!
//! Its own test binary: the tests reuse descriptor numbers on purpose (`dup2`) and lower the
//! process's open-file limit, so they run one at a time and nothing else runs beside them.
#![cfg(unix)] // descriptors, Unix sockets, signals or rlimits: Unix only

mod common;

use common::*;
use sslbridge::{ClientOptions, Error, Verify};
use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::{mpsc, Mutex};
use std::thread;
use std::time::Duration;

/// The tests of this binary change process-wide descriptor state: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Makes `target` refer to `source`'s open file (`dup2`); the caller owns `target` afterwards.
fn dup2(source: RawFd, target: RawFd) -> OwnedFd {
    // SAFETY: both are open descriptors of this process; target's old file (if any) is
    // closed by dup2 atomically; we take ownership of the new `target`.
    unsafe {
        assert_eq!(libc::dup2(source, target), target, "dup2");
        OwnedFd::from_raw_fd(target)
    }
}

/// Replacing the transport of a stream on the fd path closes its descriptor; an unrelated
/// socket given the same number must receive nothing and keep its flags, and the TLS traffic
/// still goes to the original connection (through the stream's own duplicate).
#[test]
fn swapped_transport_cannot_redirect_the_stream() {
    let _serial = serial();
    within(FD_LIMIT, || {
        let (listener, port) = listen();
        let (decoy_listener, decoy_port) = listen();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let (accepted_tx, accepted) = mpsc::channel::<()>();
        // The real peer: reads the ClientHello, then waits for the end of the stream.
        let server = thread::spawn(move || {
            let (mut tcp, _) = listener.accept().unwrap();
            accepted_tx.send(()).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut hello = [0u8; 5];
            let got_hello = tcp.read_exact(&mut hello).is_ok() && hello[0] == 0x16;
            let _ = done_rx.recv();
            // Once the stream is gone, its duplicate is closed too: the connection ends.
            let mut rest = Vec::new();
            let ended = match tcp.read_to_end(&mut rest) {
                Ok(_) => true,
                Err(e) => e.kind() == io::ErrorKind::ConnectionReset,
            };
            (got_hello, ended)
        });
        let decoy_server = thread::spawn(move || decoy_listener.accept().map(|(s, _)| s));

        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let number = tcp.as_raw_fd();
        // A deadline makes sslbridge switch the descriptor to non-blocking and restore it at
        // teardown: that restore must not reach the unrelated socket either.
        let mut tls = ClientOptions::new()
            .verify(Verify::None)
            .timeout(Duration::from_millis(800))
            .start(tcp)
            .unwrap();
        assert!(tls.uses_fd_fast_path());

        // No other thread may open descriptors from here on (the number must stay free).
        accepted.recv().unwrap();
        let decoy = TcpStream::connect(("127.0.0.1", decoy_port)).unwrap();
        let _decoy_peer = join(decoy_server).unwrap();
        // Safe code replaces the transport: the original socket's number is closed...
        *tls.get_mut() = decoy;
        // ...and an unrelated socket takes that number, non-blocking by its owner's choice.
        // (The kernel usually hands out that lowest free number by itself; if not, dup2.)
        let (a, b) = UnixStream::pair().unwrap();
        let (victim, mut victim_peer) = if b.as_raw_fd() == number {
            (b, a)
        } else {
            (a, b)
        };
        let _victim_at_number =
            (victim.as_raw_fd() != number).then(|| dup2(victim.as_raw_fd(), number));
        victim.set_nonblocking(true).unwrap();

        // The handshake talks to the real peer (which never answers): a timeout.
        let err = tls.handshake().unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        drop(tls);

        victim_peer.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        match victim_peer.read(&mut buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            other => panic!("the unrelated socket received TLS traffic: {other:?}"),
        }
        assert!(
            is_nonblocking(number),
            "teardown changed the unrelated socket's flags"
        );
        done_tx.send(()).unwrap();
        let (got_hello, ended) = join(server);
        assert!(got_hello, "the ClientHello did not reach the real peer");
        assert!(ended, "the stream's duplicate was not closed on drop");
    })
}

/// `into_inner` closes the stream's duplicate too: the transport handed back is the only
/// descriptor left for the connection.
#[test]
fn into_inner_closes_the_duplicate() {
    let _serial = serial();
    within(FD_LIMIT, || {
        let (client, mut server) = tcp_pair();
        let tls = ClientOptions::new()
            .verify(Verify::None)
            .start(client)
            .unwrap();
        let client = tls.into_inner();
        drop(client);
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        assert!(
            server.read_to_end(&mut rest).is_ok(),
            "the connection stayed open"
        );
        assert!(rest.is_empty());
    })
}

/// Lowers the soft open-file limit for the life of the guard.
struct LowFileLimit {
    saved: libc::rlimit,
}

impl LowFileLimit {
    fn new(soft: libc::rlim_t) -> LowFileLimit {
        // SAFETY: plain get/setrlimit on valid structs.
        unsafe {
            let mut saved: libc::rlimit = std::mem::zeroed();
            assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut saved), 0);
            let low = libc::rlimit {
                rlim_cur: soft.min(saved.rlim_cur),
                rlim_max: saved.rlim_max,
            };
            assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &low), 0);
            LowFileLimit { saved }
        }
    }
}

impl Drop for LowFileLimit {
    fn drop(&mut self) {
        // SAFETY: restores the limit read in new().
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &self.saved) };
    }
}

/// Out of descriptors, the stream cannot make its duplicate: a clear error naming the limit.
#[test]
fn no_descriptor_left_is_a_clear_error() {
    let _serial = serial();
    within(FD_LIMIT, || {
        let (client, _server) = tcp_pair();
        let _limit = LowFileLimit::new(512);
        let mut fillers = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => fillers.push(f),
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(libc::EMFILE), "{e}");
                    break;
                }
            }
            assert!(fillers.len() < 4096, "the limit did not apply");
        }
        let result = ClientOptions::new().verify(Verify::None).start(client);
        drop(fillers);
        let err = result.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("limit"), "{text}");
        assert!(text.contains("open files"), "{text}");
    })
}

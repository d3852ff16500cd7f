//! Non-blocking descriptors under a `poll` loop: both peers in one thread on sockets the user
//! made non-blocking, on both paths. The handshake returns `WantRead`/`WantWrite` until done,
//! reads and writes return `WouldBlock` and resume, and 16 MiB cross each way byte-exact.

use crate::common::*;
use sslbridge::{Error, SslStream, Transport};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

const TOTAL: u64 = 16 * MIB as u64;
const CHUNK: usize = 64 * 1024;

/// One peer's side of the transfer.
struct Side<T: Transport + Send + 'static> {
    tls: SslStream<T>,
    fd: RawFd,
    seed: u64,
    pending: Vec<u8>,
    pos: usize,
    sent: u64,
    checker: PatternChecker,
    read_buf: Vec<u8>,
    write_blocks: u64,
    read_blocks: u64,
}

impl<T: Transport + Send + 'static> Side<T> {
    fn new(tls: SslStream<T>, fd: RawFd, seed: u64, peer_seed: u64) -> Side<T> {
        Side {
            tls,
            fd,
            seed,
            pending: Vec::new(),
            pos: 0,
            sent: 0,
            checker: PatternChecker::new(peer_seed),
            read_buf: vec![0u8; CHUNK],
            write_blocks: 0,
            read_blocks: 0,
        }
    }

    fn done(&self) -> bool {
        self.sent == TOTAL && self.pending.is_empty() && self.checker.offset == TOTAL
    }

    /// Writes until the transport would block; reads until it would block. Returns whether
    /// anything moved.
    fn pump(&mut self) -> bool {
        let mut progress = false;
        loop {
            if self.pending.is_empty() {
                let n = CHUNK.min((TOTAL - self.sent) as usize);
                if n == 0 {
                    break;
                }
                self.pending.resize(n, 0);
                fill_pattern(self.seed, self.sent, &mut self.pending);
                self.pos = 0;
            }
            // After WouldBlock the same bytes are offered again, as OpenSSL requires.
            match self.tls.write(&self.pending[self.pos..]) {
                Ok(n) => {
                    assert!(n > 0);
                    self.pos += n;
                    self.sent += n as u64;
                    progress = true;
                    if self.pos == self.pending.len() {
                        self.pending.clear();
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.write_blocks += 1;
                    break;
                }
                Err(e) => panic!("write at {}: {e:?}", self.sent),
            }
        }
        while self.checker.offset < TOTAL {
            match self.tls.read(&mut self.read_buf) {
                Ok(0) => panic!("early end of stream at {}", self.checker.offset),
                Ok(n) => {
                    self.checker.check(&self.read_buf[..n]);
                    progress = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.read_blocks += 1;
                    break;
                }
                Err(e) => panic!("read at {}: {e:?}", self.checker.offset),
            }
        }
        progress
    }
}

fn nonblocking_scenario<T: Transport + AsRawFd + Send + 'static>(mode: Mode, client: T, server: T) {
    let pki = Fixture::shared();
    let (cfd, sfd) = (client.as_raw_fd(), server.as_raw_fd());
    assert!(is_nonblocking(cfd) && is_nonblocking(sfd));
    let mut client = pki.client(mode).start(client).expect("client start");
    let mut server = pki.server(mode).start(server).expect("server start");
    assert_eq!(client.uses_fd_fast_path(), mode.is_fd());
    assert_eq!(server.uses_fd_fast_path(), mode.is_fd());

    let deadline = Instant::now() + Duration::from_secs(40);
    let (mut client_done, mut server_done) = (false, false);
    let mut wants = 0u32;
    while !(client_done && server_done) {
        for (done, tls) in [
            (&mut client_done, &mut client as &mut dyn Handshake),
            (&mut server_done, &mut server as &mut dyn Handshake),
        ] {
            if *done {
                continue;
            }
            match tls.step() {
                Ok(()) => *done = true,
                Err(Error::WantRead | Error::WantWrite) => wants += 1,
                Err(e) => panic!("{mode:?}: handshake failed: {e:?}"),
            }
        }
        assert!(Instant::now() < deadline, "handshake did not finish");
        if !(client_done && server_done) {
            poll_fds(&[(cfd, POLLIN), (sfd, POLLIN)], Duration::from_millis(10)).unwrap();
        }
    }
    assert!(
        wants > 0,
        "a non-blocking handshake must return WantRead/WantWrite"
    );
    // sslbridge leaves the user's non-blocking mode alone.
    assert!(is_nonblocking(cfd) && is_nonblocking(sfd));

    let mut a = Side::new(client, cfd, 1, 2);
    let mut b = Side::new(server, sfd, 2, 1);
    while !(a.done() && b.done()) {
        let moved = a.pump() | b.pump();
        assert!(
            Instant::now() < deadline,
            "transfer stalled: client sent {} got {}, server sent {} got {}",
            a.sent,
            a.checker.offset,
            b.sent,
            b.checker.offset
        );
        if !moved {
            poll_fds(&[(a.fd, POLLIN), (b.fd, POLLIN)], Duration::from_millis(5)).unwrap();
        }
    }
    assert!(
        a.read_blocks > 0 && b.read_blocks > 0,
        "reads must have returned WouldBlock"
    );
    assert!(
        a.write_blocks + b.write_blocks > 0,
        "writes must have returned WouldBlock"
    );
    let stats = a.tls.transport_stats();
    assert_eq!(stats.reads == 0, mode.is_fd(), "{mode:?}: {stats:?}");
}

/// The handshake of either stream type, as one object-safe call.
trait Handshake {
    fn step(&mut self) -> Result<(), Error>;
}

impl<T: Transport + Send + 'static> Handshake for SslStream<T> {
    fn step(&mut self) -> Result<(), Error> {
        self.handshake()
    }
}

#[test]
fn nonblocking_tcp_fd_path() {
    within(FD_LIMIT, || {
        let (c, s) = tcp_pair();
        c.set_nonblocking(true).unwrap();
        s.set_nonblocking(true).unwrap();
        nonblocking_scenario(Mode::FdPath, c, s);
    })
}

#[test]
fn nonblocking_tcp_custom_bio() {
    within(FD_LIMIT, || {
        let (c, s) = tcp_pair();
        c.set_nonblocking(true).unwrap();
        s.set_nonblocking(true).unwrap();
        nonblocking_scenario(Mode::CustomBio, c, s);
    })
}

#[test]
fn nonblocking_unix_fd_path() {
    within(FD_LIMIT, || {
        let (c, s) = unix_pair();
        c.set_nonblocking(true).unwrap();
        s.set_nonblocking(true).unwrap();
        nonblocking_scenario(Mode::FdPath, c, s);
    })
}

#[test]
fn nonblocking_unix_custom_bio() {
    within(FD_LIMIT, || {
        let (c, s) = unix_pair();
        c.set_nonblocking(true).unwrap();
        s.set_nonblocking(true).unwrap();
        nonblocking_scenario(Mode::CustomBio, c, s);
    })
}

/// A non-blocking socket with a timeout configured still never waits: the user owns the
/// waiting, so a read with nothing to read returns WouldBlock at once, not after the timeout.
#[test]
fn nonblocking_socket_ignores_timeout_and_never_waits() {
    for mode in Mode::BOTH {
        within(FD_LIMIT, move || {
            let pki = Fixture::shared();
            let (c, s) = tcp_pair();
            c.set_nonblocking(true).unwrap();
            let mut tls = pki
                .client(mode)
                .timeout(Duration::from_secs(5))
                .start(c)
                .unwrap();
            let start = Instant::now();
            let err = tls.handshake().expect_err("the server has not answered");
            assert!(matches!(err, Error::WantRead), "{mode:?}: {err:?}");
            assert!(start.elapsed() < Duration::from_secs(2));
            drop(s);
        });
    }
}

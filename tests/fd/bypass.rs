//! Proof that the fd fast path bypasses Rust: a user transport whose `Read` and `Write` panic
//! works on the fd path (OpenSSL never calls back), and panics (resumed in the caller) once
//! forced through the custom BIO. And a plain socket's `transport_stats()` stay zero on the fd
//! path while the custom BIO counts every call.

use crate::common::*;
use sslbridge::FdTransport;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::thread;

/// A socket whose Rust-side I/O must never run.
struct Tripwire(UnixStream);

impl Read for Tripwire {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        panic!("Tripwire::read was called");
    }
}

impl Write for Tripwire {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        panic!("Tripwire::write was called");
    }
    fn flush(&mut self) -> io::Result<()> {
        panic!("Tripwire::flush was called");
    }
}

impl AsFd for Tripwire {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[test]
fn fd_path_never_calls_the_transport() {
    within(FD_LIMIT, || {
        let (a, b) = unix_pair();
        let pki = Fixture::shared();
        let server = thread::spawn(move || {
            let mut tls = pki.server(Mode::FdPath).accept(b).unwrap();
            exchange(&mut tls, 2, 1, 4 * MIB as u64);
            tls.close().unwrap();
        });
        let transport = FdTransport::new(Tripwire(a));
        let mut tls = pki.client(Mode::FdPath).connect(transport).unwrap();
        assert!(tls.uses_fd_fast_path());
        exchange(&mut tls, 1, 2, 4 * MIB as u64);
        tls.flush().unwrap();
        let mut end = [0u8; 1];
        assert_eq!(tls.read(&mut end).unwrap(), 0);
        assert_eq!(tls.transport_stats(), sslbridge::TransportStats::default());
        tls.close().unwrap();
        join(server);
    })
}

#[test]
fn custom_bio_does_call_the_transport() {
    within(FD_LIMIT, || {
        let (a, b) = unix_pair();
        let pki = Fixture::shared();
        let server = thread::spawn(move || {
            let _ = pki.server(Mode::FdPath).accept(b); // the client panics mid-handshake
        });
        let transport = FdTransport::new(Tripwire(a));
        let client = thread::spawn(move || pki.client(Mode::CustomBio).connect(transport));
        let payload = client.join().expect_err("the custom BIO calls Tripwire");
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("");
        assert!(message.contains("Tripwire::"), "{message:?}");
        join(server);
    })
}

#[test]
fn transport_stats_stay_zero_on_fd_path() {
    for mode in Mode::BOTH {
        within(FD_LIMIT, move || {
            let (c, s) = tcp_pair();
            let pki = Fixture::shared();
            let server = thread::spawn(move || {
                let mut tls = pki.server(mode).accept(s).unwrap();
                exchange(&mut tls, 2, 1, 2 * MIB as u64);
                let stats = tls.transport_stats();
                tls.close().unwrap();
                stats
            });
            let mut tls = pki.client(mode).connect(c).unwrap();
            exchange(&mut tls, 1, 2, 2 * MIB as u64);
            tls.flush().unwrap();
            let mut end = [0u8; 1];
            assert_eq!(tls.read(&mut end).unwrap(), 0);
            let client_stats = tls.transport_stats();
            let server_stats = join(server);
            for stats in [client_stats, server_stats] {
                if mode.is_fd() {
                    assert_eq!(stats, sslbridge::TransportStats::default());
                } else {
                    // 2 MiB is at least 128 records each way.
                    assert!(stats.reads >= 64 && stats.writes >= 128, "{stats:?}");
                }
            }
        });
    }
}

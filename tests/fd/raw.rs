//! Raw descriptors: `connect_fd` / `accept_fd` with an `OwnedFd` (closed with the stream) and a
//! `BorrowedFd<'static>` or `Descriptor::borrow_raw` (left open), the close callback in every
//! case, `stream_fd`, and `SSL_get_fd` / `BIO_get_fd` answering with the descriptor.
//!
//! Tests that check whether a descriptor number is closed hold `FD_LOCK` and compare
//! `/proc/self/fd` targets, so a number reused by another thread is not mistaken for ours.

use crate::common::*;
use sslbridge::{stream_fd, Descriptor, FdTransport, SslStream};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::raw::{c_int, c_long, c_void};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

static FD_LOCK: Mutex<()> = Mutex::new(());

extern "C" {
    fn SSL_get_fd(ssl: *const openssl_sys::SSL) -> c_int;
    fn SSL_get_rbio(ssl: *const openssl_sys::SSL) -> *mut openssl_sys::BIO;
    fn BIO_ctrl(bio: *mut openssl_sys::BIO, cmd: c_int, larg: c_long, parg: *mut c_void) -> c_long;
}
const BIO_C_GET_FD: c_int = 105;

fn ssl_get_fd<T>(tls: &SslStream<T>) -> c_int {
    // SAFETY: the stream's SSL is live.
    unsafe { SSL_get_fd(tls.as_ptr()) }
}

fn bio_get_fd<T>(tls: &SslStream<T>) -> c_int {
    let mut fd: c_int = -1;
    // SAFETY: the stream's SSL and its read BIO are live; BIO_get_fd writes an int.
    unsafe {
        BIO_ctrl(
            SSL_get_rbio(tls.as_ptr()),
            BIO_C_GET_FD,
            0,
            (&mut fd as *mut c_int).cast(),
        );
    }
    fd
}

/// Whether `fd` (which pointed at `target` while open) has been closed.
fn is_closed(fd: RawFd, target: &std::path::Path) -> bool {
    match fd_flags(fd) {
        Err(e) => {
            assert_eq!(
                e.raw_os_error(),
                Some(9),
                "fcntl should fail with EBADF: {e}"
            );
            true
        }
        // The number is open: ours, unless another thread reused it for something else.
        Ok(_) => fd_target(fd).as_deref() != Some(target),
    }
}

/// A TLS server on `socket` that echoes one message and closes.
fn echo_server(socket: UnixStream) -> thread::JoinHandle<UnixStream> {
    let pki = Fixture::shared();
    thread::spawn(move || {
        let mut tls = pki.server(Mode::FdPath).accept(socket).expect("accept");
        let mut msg = [0u8; 4];
        tls.read_exact(&mut msg).expect("server read");
        tls.write_all(&msg).expect("server write");
        tls.shutdown().expect("close_notify");
        let mut end = [0u8; 1];
        assert_eq!(tls.read(&mut end).expect("client close_notify"), 0);
        tls.into_inner()
    })
}

fn ping<T: sslbridge::Transport>(tls: &mut SslStream<T>) {
    tls.write_all(b"ping").unwrap();
    let mut msg = [0u8; 4];
    tls.read_exact(&mut msg).unwrap();
    assert_eq!(&msg, b"ping");
    let mut end = [0u8; 1];
    assert_eq!(tls.read(&mut end).unwrap(), 0);
    tls.shutdown().unwrap();
}

fn counter() -> (Arc<AtomicUsize>, impl FnOnce() + Send + 'static) {
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    (count, move || {
        c.fetch_add(1, Ordering::SeqCst);
    })
}

#[test]
fn owned_fd_is_closed_with_the_stream() {
    let _lock = FD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    within(FD_LIMIT, || {
        let (a, b) = unix_pair();
        let server = echo_server(b);
        let fd = a.as_raw_fd();
        let target = fd_target(fd).expect("open fd");
        let (closes, on_close) = counter();
        let owned: OwnedFd = a.into();
        let mut tls = Fixture::shared()
            .client(Mode::FdPath)
            .on_close(on_close)
            .connect_fd(owned)
            .expect("connect_fd");
        assert!(tls.uses_fd_fast_path());
        assert!(tls.get_ref().is_owned());
        assert!(same_file(ssl_get_fd(&tls), fd));
        ping(&mut tls);
        assert!(!is_closed(fd, &target));
        drop(tls);
        assert!(
            is_closed(fd, &target),
            "an OwnedFd is closed with the stream"
        );
        assert_eq!(closes.load(Ordering::SeqCst), 1, "on_close fires once");
        join(server);
    })
}

#[test]
fn borrowed_fd_stays_open() {
    let _lock = FD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    within(FD_LIMIT, || {
        let (a, b) = unix_pair();
        let server = echo_server(b);
        // A BorrowedFd<'static> needs a socket that lives forever: leak it (one fd per run).
        let a: &'static UnixStream = Box::leak(Box::new(a));
        let fd = a.as_raw_fd();
        let target = fd_target(fd).unwrap();
        let (closes, on_close) = counter();
        let mut tls = Fixture::shared()
            .client(Mode::FdPath)
            .on_close(on_close)
            .connect_fd(a.as_fd())
            .expect("connect_fd");
        assert!(!tls.get_ref().is_owned());
        assert!(same_file(ssl_get_fd(&tls), fd));
        ping(&mut tls);
        drop(tls);
        assert!(!is_closed(fd, &target), "a BorrowedFd is not closed");
        assert_eq!(closes.load(Ordering::SeqCst), 1, "on_close fires once");
        // Still a working socket: the server took its end back and reads plain bytes.
        let mut server_socket = join(server);
        (&*a).write_all(b"after").unwrap();
        let mut plain = [0u8; 5];
        server_socket.read_exact(&mut plain).unwrap();
        assert_eq!(&plain, b"after");
    })
}

#[test]
fn borrow_raw_stays_open_and_accept_fd_works() {
    let _lock = FD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    within(FD_LIMIT, || {
        let (a, b) = unix_pair();
        let b_fd = b.as_raw_fd();
        let b_target = fd_target(b_fd).unwrap();
        let (server_closes, server_on_close) = counter();
        let pki = Fixture::shared();
        // Server over an OwnedFd through accept_fd.
        let server = thread::spawn(move || {
            let owned: OwnedFd = b.into();
            let mut tls = pki
                .server(Mode::FdPath)
                .on_close(server_on_close)
                .accept_fd(owned)
                .expect("accept_fd");
            assert!(tls.uses_fd_fast_path());
            assert!(same_file(ssl_get_fd(&tls), b_fd));
            let mut msg = [0u8; 4];
            tls.read_exact(&mut msg).unwrap();
            tls.write_all(&msg).unwrap();
            tls.close().unwrap();
        });
        let fd = a.as_raw_fd();
        let target = fd_target(fd).unwrap();
        let (closes, on_close) = counter();
        // SAFETY: `a` outlives the stream.
        let descriptor = unsafe { Descriptor::borrow_raw(fd) };
        let mut tls = pki
            .client(Mode::FdPath)
            .on_close(on_close)
            .connect_fd(descriptor)
            .unwrap();
        tls.write_all(b"ping").unwrap();
        let mut msg = [0u8; 4];
        tls.read_exact(&mut msg).unwrap();
        assert_eq!(&msg, b"ping");
        let mut end = [0u8; 1];
        assert_eq!(tls.read(&mut end).unwrap(), 0);
        tls.close().unwrap();
        assert_eq!(closes.load(Ordering::SeqCst), 1, "close() fires on_close");
        assert!(!is_closed(fd, &target), "borrow_raw leaves the fd open");
        join(server);
        assert!(is_closed(b_fd, &b_target), "accept_fd(OwnedFd) closed it");
        assert_eq!(server_closes.load(Ordering::SeqCst), 1);
        drop(a);
    })
}

/// On the custom BIO the descriptor is not used for I/O, and is still closed (or not) by the
/// same rules, since the transport owns it.
#[test]
fn owned_fd_on_custom_bio_is_closed_too() {
    let _lock = FD_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    within(FD_LIMIT, || {
        let (a, b) = unix_pair();
        let server = echo_server(b);
        let fd = a.as_raw_fd();
        let target = fd_target(fd).unwrap();
        let (closes, on_close) = counter();
        let mut tls = Fixture::shared()
            .client(Mode::CustomBio)
            .on_close(on_close)
            .connect_fd(OwnedFd::from(a))
            .unwrap();
        assert!(!tls.uses_fd_fast_path());
        assert!(
            same_file(bio_get_fd(&tls), fd),
            "BIO_get_fd on the custom BIO"
        );
        ping(&mut tls);
        drop(tls);
        assert!(is_closed(fd, &target));
        assert_eq!(closes.load(Ordering::SeqCst), 1);
        join(server);
    })
}

fn check_get_fd(mode: Mode, check_ssl_get_fd: bool) {
    within(FD_LIMIT, move || {
        let (c, s) = tcp_pair();
        let fd = c.as_raw_fd();
        let pki = Fixture::shared();
        let server = thread::spawn(move || {
            let tls = pki.server(mode).accept(s).unwrap();
            tls.close().unwrap();
        });
        let tls = pki.client(mode).connect(c).unwrap();
        assert!(same_file(bio_get_fd(&tls), fd), "{mode:?}: BIO_get_fd");
        if check_ssl_get_fd {
            assert!(same_file(ssl_get_fd(&tls), fd), "{mode:?}: SSL_get_fd");
        }
        join(server);
    });
}

#[test]
fn ssl_get_fd_and_bio_get_fd_on_fd_path() {
    check_get_fd(Mode::FdPath, true);
}

#[test]
fn bio_get_fd_on_custom_bio() {
    check_get_fd(Mode::CustomBio, false);
}

/// `SSL_get_fd` finds the descriptor BIO with `BIO_find_type(BIO_TYPE_DESCRIPTOR)`; the custom
/// BIO answers `BIO_C_GET_FD` but must carry that type flag for `SSL_get_fd` to ask it.
#[test]
fn ssl_get_fd_on_custom_bio() {
    check_get_fd(Mode::CustomBio, true);
}

#[test]
fn stream_fd_of_transports() {
    let (tcp, _peer) = tcp_pair();
    assert_eq!(stream_fd(&tcp), Some(tcp.as_raw_fd()));
    let (u, _v) = unix_pair();
    assert_eq!(stream_fd(&u), Some(u.as_raw_fd()));
    let (m, _n) = sslbridge::duplex(16);
    assert_eq!(stream_fd(&m), None);
    let cursor = std::io::Cursor::new(Vec::<u8>::new());
    assert_eq!(stream_fd(&cursor), None);
    let (u2, _v2) = unix_pair();
    let fd = u2.as_raw_fd();
    let d = Descriptor::from(OwnedFd::from(u2));
    assert_eq!(stream_fd(&d), Some(fd));
    let (u3, _v3) = unix_pair();
    let fd3 = u3.as_raw_fd();
    let t = FdTransport::new(u3);
    assert_eq!(stream_fd(&t), Some(fd3));
    let (r, w) = std::io::pipe().unwrap();
    let rfd = r.as_raw_fd();
    let pipes = sslbridge::Pipes::new(r, w);
    assert_eq!(stream_fd(&pipes), Some(rfd), "the read side of Pipes");
    let boxed: Box<dyn sslbridge::Transport> = Box::new(tcp.try_clone().unwrap());
    assert!(stream_fd(&boxed).is_some(), "a boxed TcpStream");
}

/// `FdTransport::get_ref`/`get_mut` hand back the wrapped value.
#[test]
fn fd_transport_get_ref_returns_the_wrapped_transport() {
    let (u, _v) = unix_pair();
    let fd = u.as_raw_fd();
    let mut t = FdTransport::new(u);
    assert_eq!(t.get_ref().as_raw_fd(), fd, "get_ref()");
    assert_eq!(t.get_mut().as_raw_fd(), fd, "get_mut()");
    assert_eq!(stream_fd(&t), Some(fd));
    // The descriptor is asked for when needed, never remembered: a replaced inner
    // transport is what counts (review finding: a cached number could name another file).
    let (other, _w) = unix_pair();
    let other_fd = other.as_raw_fd();
    *t.get_mut() = other;
    assert_eq!(stream_fd(&t), Some(other_fd));
    let inner: UnixStream = t.into_inner();
    assert_eq!(inner.as_raw_fd(), other_fd);
}

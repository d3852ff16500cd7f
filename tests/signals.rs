//! A signal delivered while a stream is blocked in a system call (issue 11, item 4).
//!
//! Its own test binary: it installs a process-wide `SIGUSR1` handler *without* `SA_RESTART`,
//! so `recv`/`read`/`poll` fail with `EINTR`, as they do under timers, profilers and runtimes.
//! The signal goes with `pthread_kill` to the thread blocked in the call, three times during a
//! blocking handshake and three times during a blocking read, on both paths, with and without a
//! deadline; every call must simply carry on.
#![cfg(unix)] // descriptors, Unix sockets, signals or rlimits: Unix only

mod common;

use common::*;
use sslbridge::{ClientOptions, Verify};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Once};
use std::thread;
use std::time::Duration;

static SIGNALS_HANDLED: AtomicUsize = AtomicUsize::new(0);

extern "C" fn count_signal(_: libc::c_int) {
    SIGNALS_HANDLED.fetch_add(1, Ordering::SeqCst);
}

/// Installs the handler once, deliberately without `SA_RESTART`.
fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value; the handler is an
        // async-signal-safe function (one atomic add) that lives for the whole process.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = 0;
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(
                libc::sigaction(libc::SIGUSR1, &action, std::ptr::null_mut()),
                0
            );
        }
    });
}

/// A thread id that can cross threads (`pthread_t` is an integer or a pointer).
struct ThreadId(libc::pthread_t);
// SAFETY: a pthread_t is only an identifier here, passed to pthread_kill.
unsafe impl Send for ThreadId {}

/// Sends SIGUSR1 to `thread` three times, 60 ms apart, once it is blocked (100 ms after it said
/// it was about to block).
fn interrupt_three_times(thread: &ThreadId) {
    thread::sleep(Duration::from_millis(100));
    for _ in 0..3 {
        // SAFETY: the thread is alive: it is blocked waiting for the peer, which waits for us.
        assert_eq!(unsafe { libc::pthread_kill(thread.0, libc::SIGUSR1) }, 0);
        thread::sleep(Duration::from_millis(60));
    }
}

fn handshake_and_read_survive_signals(mode: Mode, deadline: Option<Duration>) {
    install_handler();
    within(LIMIT, move || {
        let pki = Fixture::shared();
        let (listener, port) = listen();
        let (go_handshake, handshake_gate) = mpsc::channel::<()>();
        let (go_write, write_gate) = mpsc::channel::<()>();
        let server = thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            handshake_gate.recv().unwrap();
            let mut tls = pki.server(mode).accept(tcp).unwrap();
            write_gate.recv().unwrap();
            tls.write_all(b"after the signals").unwrap();
            tls.close().unwrap();
        });

        let (tell, about_to_block) = mpsc::channel::<ThreadId>();
        let client = thread::spawn(move || {
            let mut options = mode.client(ClientOptions::new().verify(Verify::None));
            if let Some(d) = deadline {
                options = options.timeout(d);
            }
            let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
            // SAFETY: pthread_self has no preconditions.
            tell.send(ThreadId(unsafe { libc::pthread_self() }))
                .unwrap();
            let mut tls = options
                .connect(tcp)
                .expect("handshake interrupted by signals");
            tell.send(ThreadId(unsafe { libc::pthread_self() }))
                .unwrap();
            let mut buf = [0u8; 64];
            let n = tls.read(&mut buf).expect("read interrupted by signals");
            let got = buf[..n].to_vec();
            let mut rest = Vec::new();
            tls.read_to_end(&mut rest).unwrap();
            (got, rest)
        });

        let before = SIGNALS_HANDLED.load(Ordering::SeqCst);
        interrupt_three_times(&about_to_block.recv().unwrap());
        go_handshake.send(()).unwrap();
        interrupt_three_times(&about_to_block.recv().unwrap());
        go_write.send(()).unwrap();
        let (first, rest) = join(client);
        join(server);
        assert_eq!([first, rest].concat(), b"after the signals");
        assert!(
            SIGNALS_HANDLED.load(Ordering::SeqCst) - before >= 6,
            "the signals were not delivered"
        );
    })
}

#[test]
fn signals_during_blocking_calls_on_the_fd_path() {
    handshake_and_read_survive_signals(Mode::FdPath, None);
}

#[test]
fn signals_during_blocking_calls_on_the_custom_bio() {
    handshake_and_read_survive_signals(Mode::CustomBio, None);
}

#[test]
fn signals_during_calls_with_a_deadline_on_the_fd_path() {
    handshake_and_read_survive_signals(Mode::FdPath, Some(Duration::from_secs(20)));
}

#[test]
fn signals_during_calls_with_a_deadline_on_the_custom_bio() {
    handshake_and_read_survive_signals(Mode::CustomBio, Some(Duration::from_secs(20)));
}

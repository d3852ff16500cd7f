//! Time limits for test bodies and threads.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The usual limit for one test (`core`).
pub const LIMIT: Duration = Duration::from_secs(45);

/// The limit for one fd fast path test body (`fd`).
pub const FD_LIMIT: Duration = Duration::from_secs(60);

/// The limit for one `tls` test body.
pub const TLS_LIMIT: Duration = Duration::from_secs(30);

/// Runs `f` on its own thread and fails the test if it takes longer than `limit` (a hung
/// thread is left behind; the test binary exits when the harness does). A panic in `f` is
/// resumed here, with its payload.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn the test body");
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the body sent nothing and did not panic"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the test did not finish within {limit:?} (deadlock or hang)")
        }
    }
}

/// Joins a thread, resuming its panic here.
pub fn join<T>(h: thread::JoinHandle<T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Joins a thread within `limit`, resuming its panic.
pub fn join_within<T>(h: thread::JoinHandle<T>, limit: Duration) -> T {
    let end = Instant::now() + limit;
    while !h.is_finished() {
        assert!(
            Instant::now() < end,
            "thread did not finish within {limit:?}"
        );
        thread::sleep(Duration::from_millis(5));
    }
    join(h)
}

/// Polls `done` every `interval` until it returns true (then true) or `limit` passes (then
/// false).
pub fn poll_until(limit: Duration, interval: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if done() {
            return true;
        }
        thread::sleep(interval);
    }
    false
}

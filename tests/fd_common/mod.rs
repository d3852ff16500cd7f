//! Helpers for the fd fast path tests (`tests/fd_*.rs`): the two modes every socket scenario
//! runs in, a PKI fixture, a fast deterministic byte pattern, time limits, child processes
//! killed by PID, and the few POSIX calls the tests need (`poll`, `fcntl`, `setsockopt`).
#![allow(dead_code)]

use sslbridge::testing::{CertifiedKey, TestPki};
use sslbridge::{ClientOptions, Context, Protocol, ServerOptions, Verify};
use std::io;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::RawFd;
use std::os::raw::{c_int, c_short, c_uint, c_ulong, c_void};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

pub const MIB: usize = 1024 * 1024;

/// Which BIO a stream should run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The default: OpenSSL does the I/O on the descriptor.
    FdPath,
    /// `unwrap_fd(false)`: the custom BIO calls the transport's `Read`/`Write`.
    CustomBio,
}

impl Mode {
    pub const BOTH: [Mode; 2] = [Mode::FdPath, Mode::CustomBio];

    pub fn is_fd(self) -> bool {
        self == Mode::FdPath
    }

    /// Client options in this mode (the fd path is the default, so it sets nothing).
    pub fn client(self, options: ClientOptions) -> ClientOptions {
        match self {
            Mode::FdPath => options,
            Mode::CustomBio => options.unwrap_fd(false),
        }
    }

    pub fn server(self, options: ServerOptions) -> ServerOptions {
        match self {
            Mode::FdPath => options,
            Mode::CustomBio => options.unwrap_fd(false),
        }
    }
}

/// A PKI, a server certificate for localhost/127.0.0.1 and a context trusting its root.
pub struct Pki {
    pub pki: TestPki,
    pub server: CertifiedKey,
    pub trust: Context,
}

impl Pki {
    pub fn new() -> Pki {
        let pki = TestPki::new().expect("test PKI");
        let server = pki
            .server(&["localhost", "127.0.0.1"])
            .expect("server certificate");
        let trust = Context::builder()
            .ca_certificates_pem(&pki.root_pem())
            .build()
            .expect("client context");
        Pki { pki, server, trust }
    }

    /// The shared fixture (generating keys is the slow part of a debug build).
    pub fn shared() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Pki::new)
    }

    /// A verifying client for `localhost` in `mode`.
    pub fn client(&self, mode: Mode) -> ClientOptions {
        mode.client(
            ClientOptions::new()
                .hostname("localhost")
                .verify(Verify::Required)
                .context(self.trust.clone()),
        )
    }

    /// A server with the localhost certificate in `mode`.
    pub fn server(&self, mode: Mode) -> ServerOptions {
        mode.server(
            ServerOptions::new()
                .certificate_chain_pem(&self.server.chain_pem)
                .private_key_pem(&self.server.key_pem),
        )
    }

    /// A server limited to one protocol version.
    pub fn server_version(&self, mode: Mode, version: Protocol) -> ServerOptions {
        let context = Context::builder()
            .min_protocol_version(version)
            .max_protocol_version(version)
            .build()
            .expect("server context");
        self.server(mode).context(context)
    }
}

/// A connected TCP pair on 127.0.0.1: (client end, server end).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    (client, server)
}

pub fn unix_pair() -> (UnixStream, UnixStream) {
    UnixStream::pair().expect("socketpair")
}

// ---------------------------------------------------------------------------------------
// A deterministic byte pattern that is cheap to make and check in a debug build: byte `i` of
// stream `seed` is `table[(i + seed * 7919) % PERIOD]`, so filling and checking are slice
// copies and comparisons (memcpy/memcmp) rather than per-byte arithmetic.

const PERIOD: usize = 65_521; // prime, so record boundaries never line up with it

/// The pattern's period, twice over, so any window of up to `PERIOD` bytes is one slice.
fn doubled() -> &'static [u8] {
    static DOUBLED: OnceLock<Vec<u8>> = OnceLock::new();
    DOUBLED.get_or_init(|| {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut v: Vec<u8> = (0..PERIOD)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        v.extend_from_within(..);
        v
    })
}

/// Writes the pattern of stream `seed` starting at `offset` into `out`.
pub fn fill_pattern(seed: u64, offset: u64, out: &mut [u8]) {
    let d = doubled();
    let mut pos = ((offset + seed * 7919) % PERIOD as u64) as usize;
    let mut done = 0;
    while done < out.len() {
        let n = (out.len() - done).min(PERIOD);
        out[done..done + n].copy_from_slice(&d[pos..pos + n]);
        done += n;
        pos = (pos + n) % PERIOD;
    }
}

/// Checks a received stream against the pattern, chunk by chunk.
pub struct PatternChecker {
    seed: u64,
    pub offset: u64,
    scratch: Vec<u8>,
}

impl PatternChecker {
    pub fn new(seed: u64) -> PatternChecker {
        PatternChecker {
            seed,
            offset: 0,
            scratch: Vec::new(),
        }
    }

    pub fn check(&mut self, data: &[u8]) {
        self.scratch.resize(data.len(), 0);
        fill_pattern(self.seed, self.offset, &mut self.scratch);
        if self.scratch[..] != *data {
            let at = data
                .iter()
                .zip(&self.scratch)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "stream {} differs from the pattern at byte {}",
                self.seed,
                self.offset + at as u64
            );
        }
        self.offset += data.len() as u64;
    }
}

/// Writes `total` pattern bytes of stream `seed` to `w` in `chunk`-sized writes.
pub fn send_pattern(w: &mut impl io::Write, seed: u64, total: u64, chunk: usize) {
    let mut buf = vec![0u8; chunk];
    let mut sent = 0u64;
    while sent < total {
        let n = chunk.min((total - sent) as usize);
        fill_pattern(seed, sent, &mut buf[..n]);
        w.write_all(&buf[..n])
            .unwrap_or_else(|e| panic!("write at {sent}: {e}"));
        sent += n as u64;
    }
}

/// Reads exactly `total` pattern bytes of stream `seed` from `r` and checks them.
pub fn receive_pattern(r: &mut impl io::Read, seed: u64, total: u64) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut checker = PatternChecker::new(seed);
    while checker.offset < total {
        let want = buf.len().min((total - checker.offset) as usize);
        let n = r
            .read(&mut buf[..want])
            .unwrap_or_else(|e| panic!("read at {}: {e}", checker.offset));
        assert!(n > 0, "early end of stream at byte {}", checker.offset);
        checker.check(&buf[..n]);
    }
}

/// Both directions at once over one stream: each round writes one chunk of stream `mine`, then
/// reads the peer's chunk of stream `theirs`. Both peers run this, so neither side's writes can
/// pile up more than one chunk ahead of the other's reads.
pub fn exchange(tls: &mut (impl io::Read + io::Write), mine: u64, theirs: u64, total: u64) {
    const CHUNK: usize = 16 * 1024;
    let mut out = vec![0u8; CHUNK];
    let mut input = vec![0u8; CHUNK];
    let mut checker = PatternChecker::new(theirs);
    let mut sent = 0u64;
    while sent < total || checker.offset < total {
        if sent < total {
            let n = CHUNK.min((total - sent) as usize);
            fill_pattern(mine, sent, &mut out[..n]);
            tls.write_all(&out[..n])
                .unwrap_or_else(|e| panic!("write at {sent}: {e}"));
            sent += n as u64;
        }
        while checker.offset < sent.min(total) {
            let want = input.len().min((sent.min(total) - checker.offset) as usize);
            let n = tls
                .read(&mut input[..want])
                .unwrap_or_else(|e| panic!("read at {}: {e}", checker.offset));
            assert!(n > 0, "early end of stream at byte {}", checker.offset);
            checker.check(&input[..n]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Time limits and processes.

/// Runs `f` on its own thread and fails the test if it takes longer than `limit` (a hung
/// thread is left behind; the test binary exits when the harness does). Panics in `f` are
/// resumed here.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = thread::Builder::new()
        .name("fd-test-body".into())
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

/// The limit for one test body.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Joins a thread, resuming its panic here.
pub fn join<T>(h: thread::JoinHandle<T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// A child process killed by PID (`Child::kill`) and reaped when dropped.
pub struct ChildGuard {
    pub child: Child,
    pub name: String,
}

impl ChildGuard {
    pub fn spawn(mut command: Command, name: &str) -> ChildGuard {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        ChildGuard {
            child,
            name: name.to_string(),
        }
    }

    /// Waits for the child to exit, killing it at the deadline. `None` if it had to be killed.
    pub fn wait_until(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Files in a temporary directory, removed on drop.
pub struct TempFiles {
    pub dir: tempfile::TempDir,
}

impl TempFiles {
    pub fn new() -> TempFiles {
        TempFiles {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, data).expect("write a temporary file");
        path
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Whether the `openssl` command-line tool is available.
pub fn have_openssl_cli() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------
// POSIX calls (no libc dependency in this crate). Linux values.

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

#[repr(C)]
struct Linger {
    l_onoff: c_int,
    l_linger: c_int,
}

extern "C" {
    fn poll(fds: *mut PollFd, nfds: c_ulong, timeout: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn setsockopt(fd: c_int, level: c_int, name: c_int, value: *const c_void, len: c_uint)
        -> c_int;
}

pub const POLLIN: c_short = 0x1;
pub const POLLOUT: c_short = 0x4;
const F_GETFD: c_int = 1;
const F_GETFL: c_int = 3;
#[cfg(any(target_os = "linux", target_os = "android"))]
const O_NONBLOCK: c_int = 0o4000;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const O_NONBLOCK: c_int = 0x4;
#[cfg(any(target_os = "linux", target_os = "android"))]
const SOL_SOCKET: c_int = 1;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SOL_SOCKET: c_int = 0xffff;
#[cfg(any(target_os = "linux", target_os = "android"))]
const SO_LINGER: c_int = 13;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SO_LINGER: c_int = 0x80;

/// Waits (up to `timeout`) until any of `fds` is ready for its events; returns how many are.
pub fn poll_fds(fds: &[(RawFd, c_short)], timeout: Duration) -> io::Result<usize> {
    let mut pfds: Vec<PollFd> = fds
        .iter()
        .map(|&(fd, events)| PollFd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    let ms = timeout.as_millis().min(i32::MAX as u128) as c_int;
    // SAFETY: pfds is a valid array of pollfd structures of the given length.
    let r = unsafe { poll(pfds.as_mut_ptr(), pfds.len() as c_ulong, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(e);
    }
    Ok(r as usize)
}

/// `fcntl(fd, F_GETFD)`: `Ok(flags)` for an open descriptor, the OS error (EBADF) otherwise.
pub fn fd_flags(fd: RawFd) -> io::Result<c_int> {
    // SAFETY: F_GETFD takes no argument and only reads the descriptor table.
    let r = unsafe { fcntl(fd, F_GETFD) };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// Whether `fd` has `O_NONBLOCK` set.
pub fn is_nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's flags.
    let r = unsafe { fcntl(fd, F_GETFL) };
    assert!(r >= 0, "fcntl(F_GETFL): {}", io::Error::last_os_error());
    r & O_NONBLOCK != 0
}

/// Sets `SO_LINGER` to {on, 0}: closing the socket then sends a RST instead of a FIN.
pub fn set_linger_zero(fd: RawFd) {
    let linger = Linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid struct linger of the size we pass.
    let r = unsafe {
        setsockopt(
            fd,
            SOL_SOCKET,
            SO_LINGER,
            (&linger as *const Linger).cast(),
            std::mem::size_of::<Linger>() as c_uint,
        )
    };
    assert_eq!(
        r,
        0,
        "setsockopt(SO_LINGER): {}",
        io::Error::last_os_error()
    );
}

/// What `/proc/self/fd/<fd>` points at (e.g. `socket:[1234]`), to tell a closed descriptor
/// from one whose number was reused by another thread.
pub fn fd_target(fd: RawFd) -> Option<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{fd}")).ok()
}

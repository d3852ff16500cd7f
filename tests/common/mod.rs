//! Shared helpers for the integration tests: time limits, child processes killed by PID, free
//! ports, PEM files in a temporary directory, a deterministic byte pattern, and transports
//! that fail or panic on cue.
#![allow(dead_code)]

use sslbridge::{
    ClientOptions, Context, Error, MemoryPipe, Protocol, ServerOptions, SslStream, Verify,
};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Runs `f` on its own thread and fails the test if it takes longer than `limit`. A panic in
/// `f` is resumed here, with its payload.
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

/// The usual limit for one test.
pub const LIMIT: Duration = Duration::from_secs(45);

/// Joins a thread, resuming its panic here.
pub fn join<T>(h: thread::JoinHandle<T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// A child process killed (by PID, through `Child::kill`) and reaped when dropped.
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

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the process to exit, killing it at the deadline. Returns whether it exited
    /// by itself.
    pub fn wait_until(&mut self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
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

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Waits until something accepts connections on 127.0.0.1:`port`; false at the deadline or
/// if `alive` says the server died.
pub fn wait_for_port(port: u16, limit: Duration, mut alive: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < end {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if !alive() {
            return false;
        }
        thread::sleep(Duration::from_millis(25));
    }
    false
}

/// PEM (or DER) files in a temporary directory, removed on drop.
pub struct PemDir {
    pub dir: tempfile::TempDir,
}

impl PemDir {
    pub fn new() -> PemDir {
        PemDir {
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

impl Default for PemDir {
    fn default() -> Self {
        PemDir::new()
    }
}

/// The byte at `offset` of an endless deterministic, non-periodic pattern (splitmix64 of the
/// 8-byte block index), seeded so both directions of a test carry different data.
pub fn pattern_byte(seed: u64, offset: u64) -> u8 {
    let block = splitmix64(seed ^ (offset / 8));
    block.to_le_bytes()[(offset % 8) as usize]
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Fills `buf` with the pattern from `offset`.
pub fn fill_pattern(seed: u64, offset: u64, buf: &mut [u8]) {
    let mut i = 0usize;
    // Head up to an 8-byte boundary, then whole blocks, then the tail.
    while i < buf.len() && (offset + i as u64) & 7 != 0 {
        buf[i] = pattern_byte(seed, offset + i as u64);
        i += 1;
    }
    while i + 8 <= buf.len() {
        let block = splitmix64(seed ^ ((offset + i as u64) / 8)).to_le_bytes();
        buf[i..i + 8].copy_from_slice(&block);
        i += 8;
    }
    while i < buf.len() {
        buf[i] = pattern_byte(seed, offset + i as u64);
        i += 1;
    }
}

/// Checks incoming bytes against the pattern, chunk by chunk, without keeping them.
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

    /// Panics at the first byte that differs.
    pub fn check(&mut self, data: &[u8]) {
        self.scratch.resize(data.len(), 0);
        fill_pattern(self.seed, self.offset, &mut self.scratch);
        if self.scratch[..] != *data {
            let i = data
                .iter()
                .zip(&self.scratch)
                .position(|(a, b)| a != b)
                .unwrap();
            panic!(
                "byte {} differs: got {:#04x}, expected {:#04x}",
                self.offset + i as u64,
                data[i],
                self.scratch[i]
            );
        }
        self.offset += data.len() as u64;
    }
}

/// Writes `total` pattern bytes in `write` calls of at most `chunk` bytes each.
pub fn write_pattern(w: &mut impl Write, seed: u64, total: u64, chunk: usize) -> io::Result<()> {
    let mut buf = vec![0u8; chunk.min(total as usize).max(1)];
    let mut offset = 0u64;
    while offset < total {
        let n = buf.len().min((total - offset) as usize);
        fill_pattern(seed, offset, &mut buf[..n]);
        w.write_all(&buf[..n])?;
        offset += n as u64;
    }
    w.flush()
}

/// Reads exactly `total` bytes and checks them against the pattern.
pub fn read_pattern(r: &mut impl Read, seed: u64, total: u64) -> io::Result<()> {
    let mut checker = PatternChecker::new(seed);
    let mut buf = vec![0u8; 256 * 1024];
    while checker.offset < total {
        let want = buf.len().min((total - checker.offset) as usize);
        let n = r.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("EOF after {} of {total} bytes", checker.offset),
            ));
        }
        checker.check(&buf[..n]);
    }
    Ok(())
}

/// A transport that fails with `ConnectionReset` once `read_budget` bytes were read or
/// `write_budget` bytes were written (`None`: never).
pub struct FailingTransport<T> {
    pub inner: T,
    pub read_budget: Option<usize>,
    pub write_budget: Option<usize>,
    pub read_so_far: usize,
    pub written_so_far: usize,
}

impl<T> FailingTransport<T> {
    pub fn after_reading(inner: T, n: usize) -> Self {
        FailingTransport {
            inner,
            read_budget: Some(n),
            write_budget: None,
            read_so_far: 0,
            written_so_far: 0,
        }
    }

    pub fn after_writing(inner: T, n: usize) -> Self {
        FailingTransport {
            inner,
            read_budget: None,
            write_budget: Some(n),
            read_so_far: 0,
            written_so_far: 0,
        }
    }
}

fn reset() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "injected connection reset")
}

impl<T: Read> Read for FailingTransport<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = match self.read_budget {
            Some(b) if self.read_so_far >= b => return Err(reset()),
            Some(b) => (b - self.read_so_far).min(buf.len()),
            None => buf.len(),
        };
        let n = self.inner.read(&mut buf[..room])?;
        self.read_so_far += n;
        Ok(n)
    }
}

impl<T: Write> Write for FailingTransport<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = match self.write_budget {
            Some(b) if self.written_so_far >= b => return Err(reset()),
            Some(b) => (b - self.written_so_far).min(buf.len()),
            None => buf.len(),
        };
        let n = self.inner.write(&buf[..room])?;
        self.written_so_far += n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The payload a [`PanickingTransport`] panics with.
pub const PANIC_MESSAGE: &str = "the test transport exploded";

/// A transport that panics (with [`PANIC_MESSAGE`]) on the read call after `reads_ok`
/// successful reads.
pub struct PanickingTransport<T> {
    pub inner: T,
    pub reads_ok: usize,
    pub dropped: Arc<AtomicBool>,
}

impl<T: Read> Read for PanickingTransport<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.reads_ok == 0 {
            panic!("{}", PANIC_MESSAGE);
        }
        self.reads_ok -= 1;
        self.inner.read(buf)
    }
}

impl<T: Write> Write for PanickingTransport<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T> Drop for PanickingTransport<T> {
    fn drop(&mut self) {
        // Dropped exactly once: a second drop would be a double free inside the library.
        assert!(
            !self.dropped.swap(true, Ordering::SeqCst),
            "transport dropped twice"
        );
    }
}

/// A transport that returns `WouldBlock` from writes (and flushes) while `blocked` is set.
pub struct GatedTransport<T> {
    pub inner: T,
    pub blocked: Arc<AtomicBool>,
}

impl<T: Read> Read for GatedTransport<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<T: Write> Write for GatedTransport<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.blocked.load(Ordering::SeqCst) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.blocked.load(Ordering::SeqCst) {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.inner.flush()
    }
}

/// A test PKI with a "localhost" server certificate and a client context trusting its root.
pub struct Fixture {
    pub pki: sslbridge::testing::TestPki,
    pub server: sslbridge::testing::CertifiedKey,
}

impl Fixture {
    pub fn new() -> Fixture {
        let pki = sslbridge::testing::TestPki::new().expect("test PKI");
        let server = pki.server(&["localhost"]).expect("server certificate");
        Fixture { pki, server }
    }

    /// A client context trusting the test root, limited to `version` when given.
    pub fn client_context(&self, version: Option<Protocol>) -> Context {
        let mut b = Context::builder().ca_certificates_pem(&self.pki.root_pem());
        if let Some(v) = version {
            b = b.min_protocol_version(v).max_protocol_version(v);
        }
        b.build().expect("client context")
    }

    /// A server context with the "localhost" certificate that does not ask for client
    /// certificates, limited to `version` when given.
    pub fn server_context(&self, version: Option<Protocol>) -> Context {
        let mut b = Context::builder()
            .verify_mode(sslbridge::VerifyMode::NONE)
            .certificate_chain_pem(&self.server.chain_pem)
            .private_key_pem(&self.server.key_pem);
        if let Some(v) = version {
            b = b.min_protocol_version(v).max_protocol_version(v);
        }
        b.build().expect("server context")
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

/// Runs a verified client ("localhost", Verify::Required) and a server over a duplex pipe and
/// returns both connected streams.
pub fn connected_pair(
    fx: &Fixture,
    version: Option<Protocol>,
    capacity: usize,
) -> (SslStream<MemoryPipe>, SslStream<MemoryPipe>) {
    let (c, s) = sslbridge::duplex(capacity);
    let server_ctx = fx.server_context(version);
    let server = thread::spawn(move || ServerOptions::new().context(server_ctx).accept(s));
    let client = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(fx.client_context(version))
        .connect(c)
        .expect("client handshake");
    let server = join(server).expect("server handshake");
    (client, server)
}

/// Connects a client with `options` to a server presenting `cert` over a duplex pipe; returns
/// the client's result and the server's.
pub fn try_connect(
    options: ClientOptions,
    cert: &sslbridge::testing::CertifiedKey,
) -> (
    Result<SslStream<MemoryPipe>, Error>,
    Result<SslStream<MemoryPipe>, Error>,
) {
    let (c, s) = sslbridge::duplex(64 * 1024);
    let ctx = Context::builder()
        .verify_mode(sslbridge::VerifyMode::NONE)
        .certificate_chain_pem(&cert.chain_pem)
        .private_key_pem(&cert.key_pem)
        .build()
        .expect("server context");
    let server = thread::spawn(move || ServerOptions::new().context(ctx).accept(s));
    // A failed client drops its pipe end, so the server's handshake ends too.
    let client = options.connect(c);
    let server = join(server);
    (client, server)
}

/// Reads lines from a child's output into a shared string, on a thread.
pub fn collect_output(
    r: impl Read + Send + 'static,
) -> (Arc<Mutex<String>>, thread::JoinHandle<()>) {
    let out = Arc::new(Mutex::new(String::new()));
    let sink = out.clone();
    let h = thread::spawn(move || {
        let mut reader = BufReader::new(r);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => sink.lock().unwrap().push_str(&line),
            }
        }
    });
    (out, h)
}

/// Whether the `openssl` command-line tool can be run.
pub fn have_openssl_cli() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

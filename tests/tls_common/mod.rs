//! Helpers shared by the `tls_*` integration tests: time limits, an in-memory server thread,
//! PEM files in a temporary directory, and `openssl s_server` / `s_client` processes that are
//! killed by PID when dropped.
#![allow(dead_code)]

use sslbridge::testing::{CertifiedKey, TestPki};
use sslbridge::{Context, Error, MemoryPipe, Protocol, ServerOptions, SslStream, VerifyMode};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The limit for one test body.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Runs `f` on its own thread; fails the test if it takes longer than `limit`, and resumes a
/// panic of `f` here.
pub fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the body neither returned nor panicked"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
    }
}

/// Joins a thread, resuming its panic.
pub fn join<T>(h: thread::JoinHandle<T>) -> T {
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
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
        std::fs::write(&path, data).expect("write temporary file");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A client context that trusts the test root.
pub fn client_context(pki: &TestPki, max: Option<Protocol>) -> Context {
    let mut b = Context::builder().ca_certificates_pem(&pki.root_pem());
    if let Some(v) = max {
        b = b.max_protocol_version(v);
    }
    b.build().expect("client context")
}

/// A server context serving `chain` (PEM, leaf first) with `key`; no client certificates.
pub fn server_context(chain: &[u8], key: &[u8], max: Option<Protocol>) -> Context {
    let mut b = Context::builder()
        .verify_mode(VerifyMode::NONE)
        .certificate_chain_pem(chain)
        .private_key_pem(key);
    if let Some(v) = max {
        b = b.max_protocol_version(v);
    }
    b.build().expect("server context")
}

/// What a server thread saw.
#[derive(Debug)]
pub struct Served {
    pub line: String,
    pub server_name: Option<String>,
    pub alpn: Option<String>,
    pub reused: bool,
    pub peer_subjects: Vec<String>,
    pub protocol: Option<Protocol>,
}

/// Accepts with `options` on `end`, reads one line, answers `reply: <line>` and closes.
pub fn serve_line(
    options: ServerOptions,
    end: MemoryPipe,
) -> thread::JoinHandle<Result<Served, Error>> {
    thread::spawn(move || serve_line_on(options, end))
}

/// The body of [`serve_line`], for any transport.
pub fn serve_line_on<T: sslbridge::Transport>(
    options: ServerOptions,
    end: T,
) -> Result<Served, Error> {
    let tls = options.accept(end)?;
    let mut reader = BufReader::new(tls);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(Error::Io)?;
    let mut tls = reader.into_inner();
    tls.write_all(format!("reply: {line}").as_bytes())
        .map_err(Error::Io)?;
    let served = Served {
        line: line.trim_end().to_string(),
        server_name: tls.server_name(),
        alpn: tls.selected_alpn_protocol().map(str::to_string),
        reused: tls.session_reused(),
        peer_subjects: tls
            .peer_certificate_chain()
            .iter()
            .map(|c| c.subject_name())
            .collect(),
        protocol: tls.protocol_version(),
    };
    // Close politely: send close_notify, then wait for the client's (or its EOF) before
    // dropping the transport, so the client's own close finds the pipe still open. The
    // client's way of ending is not what these tests check.
    if tls.shutdown().is_ok() {
        let mut buf = [0u8; 256];
        while matches!(tls.read(&mut buf), Ok(n) if n > 0) {}
    }
    Ok(served)
}

/// Sends one line on an established client stream and reads the reply line.
pub fn exchange_line<T: sslbridge::Transport>(tls: &mut SslStream<T>, line: &str) -> String {
    tls.write_all(format!("{line}\n").as_bytes())
        .expect("write line");
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match tls.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => {
                reply.push(byte[0]);
                if byte[0] == b'\n' {
                    break;
                }
            }
            Err(e) => panic!("read reply: {e}"),
        }
    }
    String::from_utf8_lossy(&reply).trim_end().to_string()
}

/// An in-memory transport pair.
pub fn pipe() -> (MemoryPipe, MemoryPipe) {
    sslbridge::duplex(64 * 1024)
}

// ---------------------------------------------------------------------------------------------
// openssl processes
// ---------------------------------------------------------------------------------------------

/// Whether the `openssl` command is available.
pub fn have_openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A child process, killed by PID (through `Child::kill`) and reaped on drop.
pub struct Process {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub output: PathBuf,
}

impl Process {
    /// Everything the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for exit up to `limit`, then kills; true if it exited by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if !self.alive() {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }

    /// Closes its stdin.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

fn spawn_openssl(args: &[&str], output: PathBuf, keep_stdin: bool) -> Process {
    let out = std::fs::File::create(&output).expect("create output file");
    let err = out.try_clone().expect("clone output file");
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(if keep_stdin {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("start openssl");
    let stdin = child.stdin.take();
    Process {
        child,
        stdin,
        output,
    }
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A running `openssl s_server`.
pub struct SServer {
    pub process: Process,
    pub port: u16,
}

impl SServer {
    /// Starts `openssl s_server -accept 127.0.0.1:PORT <args>` (stdin kept open) and waits
    /// until it accepts connections.
    pub fn start(files: &TempFiles, args: &[&str]) -> SServer {
        for attempt in 0..3 {
            let port = free_port();
            let accept = format!("127.0.0.1:{port}");
            let mut all = vec!["s_server", "-accept", &accept];
            all.extend_from_slice(args);
            let mut process = spawn_openssl(
                &all,
                files.path(&format!("s_server-{port}-{attempt}.out")),
                true,
            );
            if wait_for_port(port, Duration::from_secs(10), || process.alive()) {
                return SServer { process, port };
            }
            drop(process);
        }
        panic!("openssl s_server did not start")
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).expect("connect s_server");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// s_server's output so far, after giving it a moment to flush.
    pub fn output_after(&self, pause: Duration) -> String {
        thread::sleep(pause);
        self.process.output()
    }
}

/// Waits until 127.0.0.1:`port` accepts; false at the deadline or when `alive` turns false.
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

/// A TCP listener on 127.0.0.1 for our own server, with the port to give `s_client`.
pub fn listen() -> (TcpListener, u16) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// Accepts one TCP connection within `limit` (the listener is made non-blocking meanwhile).
pub fn accept_within(listener: &TcpListener, limit: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let end = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
                return s;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < end => {
                thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("no connection to accept: {e}"),
        }
    }
}

/// Starts `openssl s_client -connect 127.0.0.1:PORT <args>`, stdin kept open (so it does not
/// quit at stdin EOF before the server's data has arrived).
pub fn s_client(files: &TempFiles, port: u16, args: &[&str], tag: &str) -> Process {
    let connect = format!("127.0.0.1:{port}");
    let mut all = vec!["s_client", "-connect", &connect];
    all.extend_from_slice(args);
    spawn_openssl(&all, files.path(&format!("s_client-{tag}.out")), true)
}

/// Writes `data` to the process's stdin.
pub fn feed(p: &mut Process, data: &[u8]) {
    let stdin = p.stdin.as_mut().expect("stdin open");
    stdin.write_all(data).expect("write to openssl stdin");
    stdin.flush().unwrap();
}

/// Writes the PEM files of `key` (cert, chain, key) into `files` under `name`.
pub fn write_key(files: &TempFiles, name: &str, key: &CertifiedKey) -> (PathBuf, PathBuf, PathBuf) {
    (
        files.write(&format!("{name}.pem"), &key.cert_pem),
        files.write(&format!("{name}-chain.pem"), &key.chain_pem),
        files.write(&format!("{name}.key"), &key.key_pem),
    )
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// Reads everything until EOF or error, for draining a peer in failure tests.
pub fn read_some<T: Read>(r: &mut T) -> std::io::Result<usize> {
    let mut buf = [0u8; 256];
    r.read(&mut buf)
}

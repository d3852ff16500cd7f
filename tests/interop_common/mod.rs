//! Helpers shared by the `interop_*`, `faults_*` and `load_*` integration tests: time limits,
//! a PKI written to a temporary directory, peer processes killed by PID on drop, the two BIO
//! modes and the two protocol versions every interop scenario runs in.
#![allow(dead_code)]

use sslbridge::testing::{CertifiedKey, KeyType, TestPki};
use sslbridge::{ClientOptions, Context, Protocol, ServerOptions, VerifyMode};
use std::io::{self, Read};
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

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
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Which BIO our side runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The default on sockets: OpenSSL does the I/O on the descriptor.
    Fd,
    /// `unwrap_fd(false)`: the custom BIO calls the transport's `Read`/`Write`.
    Bio,
}

impl Mode {
    pub const BOTH: [Mode; 2] = [Mode::Fd, Mode::Bio];

    pub fn client(self, o: ClientOptions) -> ClientOptions {
        o.unwrap_fd(self == Mode::Fd)
    }

    pub fn server(self, o: ServerOptions) -> ServerOptions {
        o.unwrap_fd(self == Mode::Fd)
    }
}

/// The protocol versions every scenario runs in.
pub const VERSIONS: [Protocol; 2] = [Protocol::Tls1_2, Protocol::Tls1_3];

/// Every (mode, version) cell of the matrix.
pub fn cells() -> Vec<(Mode, Protocol)> {
    let mut v = Vec::new();
    for mode in Mode::BOTH {
        for version in VERSIONS {
            v.push((mode, version));
        }
    }
    v
}

/// `openssl` command-line flag for a version.
pub fn openssl_flag(v: Protocol) -> &'static str {
    match v {
        Protocol::Tls1_3 => "-tls1_3",
        _ => "-tls1_2",
    }
}

/// GnuTLS priority string forcing a version.
pub fn gnutls_priority(v: Protocol) -> String {
    match v {
        Protocol::Tls1_3 => "--priority=NORMAL:-VERS-ALL:+VERS-TLS1.3".into(),
        _ => "--priority=NORMAL:-VERS-ALL:+VERS-TLS1.2".into(),
    }
}

/// A PKI with its PEM files in a temporary directory.
pub struct Pki {
    pub pki: TestPki,
    /// For `localhost` and `127.0.0.1`.
    pub server: CertifiedKey,
    /// For `sni.example` only (SNI tests).
    pub other: CertifiedKey,
    /// A client certificate, CN `alice`.
    pub client: CertifiedKey,
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let pki = TestPki::new().expect("test PKI");
        let server = pki
            .server(&["localhost", "127.0.0.1"])
            .expect("server certificate");
        // Issued by the root itself: `s_server -cert2` has no chain option.
        let other = pki
            .leaf("sni.example")
            .dns_name("sni.example")
            .issued_by_root()
            .build()
            .expect("second certificate");
        let client = pki.client("alice").expect("client certificate");
        let dir = tempfile::tempdir().expect("temporary directory");
        let me = Pki {
            pki,
            server,
            other,
            client,
            dir,
        };
        me.write("root.pem", &me.pki.root_pem());
        me.write("intermediate.pem", &me.pki.intermediate_pem());
        me.write("server.pem", &me.server.cert_pem);
        me.write("client.pem", &me.client.cert_pem);
        for (name, key) in [
            ("server", &me.server),
            ("other", &me.other),
            ("client", &me.client),
        ] {
            me.write(&format!("{name}-chain.pem"), &key.chain_pem);
            me.write(&format!("{name}.key"), &key.key_pem);
        }
        me
    }

    /// One fixture per test binary (generating keys is slow in a debug build).
    pub fn shared() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Pki::new)
    }

    pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, data).expect("write temporary file");
        path
    }

    /// The path of a file in the directory, as a string for command lines.
    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// A client context trusting the root, limited to `version`.
    pub fn client_context(&self, version: Protocol) -> Context {
        Context::builder()
            .ca_certificates_pem(&self.pki.root_pem())
            .min_protocol_version(version)
            .max_protocol_version(version)
            .build()
            .expect("client context")
    }

    /// A server context with the localhost certificate, limited to `version`; `mtls` requires
    /// a client certificate issued by the root.
    pub fn server_context(&self, version: Protocol, mtls: bool) -> Context {
        let mut b = Context::builder()
            .certificate_chain_pem(&self.server.chain_pem)
            .private_key_pem(&self.server.key_pem)
            .min_protocol_version(version)
            .max_protocol_version(version);
        b = if mtls {
            b.ca_certificates_pem(&self.pki.root_pem())
                .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
        } else {
            b.verify_mode(VerifyMode::NONE)
        };
        b.build().expect("server context")
    }
}

/// An RSA server certificate: its signatures have a fixed length, so a connection's records
/// have the same sizes every time (the fault tests aim at exact record boundaries).
pub fn rsa_server(pki: &TestPki) -> CertifiedKey {
    pki.leaf("localhost")
        .dns_name("localhost")
        .key_type(KeyType::Rsa2048)
        .build()
        .expect("RSA server certificate")
}

// ---------------------------------------------------------------------------------------------
// peer processes
// ---------------------------------------------------------------------------------------------

/// Whether `program` can be run (`args` must make it exit at once).
pub fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A child process with stdin piped and stdout+stderr in a file; killed by PID and reaped on
/// drop.
pub struct Process {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub output: PathBuf,
}

impl Process {
    pub fn spawn(program: &str, args: &[String], output: PathBuf) -> Process {
        let out = std::fs::File::create(&output).expect("create output file");
        let err = out.try_clone().expect("clone output file");
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        let stdin = child.stdin.take();
        Process {
            child,
            stdin,
            output,
        }
    }

    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until the output contains `needle`; false at the deadline.
    pub fn wait_output(&mut self, needle: &str, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.output().contains(needle) {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Waits for exit up to `limit`, then kills; true if it exited by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if !self.alive() {
                return true;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }

    pub fn feed(&mut self, data: &[u8]) {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(data).expect("write to the peer's stdin");
        stdin.flush().unwrap();
    }

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

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Waits until 127.0.0.1:`port` accepts; false at the deadline or when `alive` turns false.
pub fn wait_for_port(port: u16, limit: Duration, mut alive: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < end {
        if let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            drop(s);
            return true;
        }
        if !alive() {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Starts a server process (`args_for(port)`) on a free port and waits until it accepts.
pub fn start_server(
    program: &str,
    dir: &Path,
    tag: &str,
    args_for: impl Fn(u16) -> Vec<String>,
) -> (Process, u16) {
    for attempt in 0..3 {
        let port = free_port();
        let out = dir.join(format!("{tag}-{port}-{attempt}.out"));
        let mut process = Process::spawn(program, &args_for(port), out);
        if wait_for_port(port, Duration::from_secs(10), || process.alive()) {
            return (process, port);
        }
        eprintln!("{program} did not start: {}", process.output());
    }
    panic!("{program} did not start")
}

/// Connects to 127.0.0.1:`port` with 10 s socket timeouts (a stuck peer fails the test).
pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// A listener on 127.0.0.1 and its port.
pub fn listen() -> (TcpListener, u16) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// Accepts one connection within `limit`, with 10 s socket timeouts.
pub fn accept_within(listener: &TcpListener, limit: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let end = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                s.set_read_timeout(Some(Duration::from_secs(10)))?;
                s.set_write_timeout(Some(Duration::from_secs(10)))?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < end => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(e) => return Err(e),
        }
    }
}

/// A connected TCP pair on 127.0.0.1: (client end, server end).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let (listener, port) = listen();
    let client = connect(port);
    let server = accept_within(&listener, Duration::from_secs(5)).expect("accept");
    (client, server)
}

/// `n` deterministic bytes of stream `seed` (never a newline, so line protocols can carry
/// them).
pub fn payload(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b'!' + (x % 90) as u8
        })
        .collect()
}

/// Reads until `Ok(0)`: `Ok(data)` after a clean end, or the error with what came before.
pub fn read_to_close(r: &mut impl Read) -> Result<Vec<u8>, (io::Error, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((e, out)),
        }
    }
}

/// The `sslbridge::Error` inside an `io::Error` from `Read`/`Write`, if there is one.
pub fn inner_error(e: &io::Error) -> Option<&sslbridge::Error> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<sslbridge::Error>())
}

// ---------------------------------------------------------------------------------------------
// the line-reversing protocol (as `openssl s_server -rev`)
// ---------------------------------------------------------------------------------------------

pub fn reversed(line: &[u8]) -> Vec<u8> {
    line.iter().rev().copied().collect()
}

/// Test lines for one connection: 12 lines of 1 to 1,500 bytes.
pub fn lines(seed: u64) -> Vec<Vec<u8>> {
    (0..12u64)
        .map(|i| payload(seed * 100 + i, 1 + ((seed * 31 + i * 397) % 1500) as usize))
        .collect()
}

#[derive(Debug, Default)]
pub struct Served {
    pub lines: Vec<Vec<u8>>,
    pub clean_end: bool,
    pub server_name: Option<String>,
    pub alpn: Option<String>,
    pub reused: bool,
    pub peer: Option<String>,
    pub protocol: Option<Protocol>,
    pub fd_path: bool,
}

/// Accepts, answers every line reversed until the client's close_notify, then closes.
pub fn serve_reversed<T: sslbridge::Transport>(
    options: ServerOptions,
    transport: T,
) -> Result<Served, sslbridge::Error> {
    let tls = options.accept(transport)?;
    let mut reader = BufReader::new(tls);
    let mut served = Served::default();
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => {
                served.clean_end = true;
                break;
            }
            Ok(_) => {
                assert_eq!(line.pop(), Some(b'\n'), "a whole line");
                let mut answer = reversed(&line);
                answer.push(b'\n');
                reader
                    .get_mut()
                    .write_all(&answer)
                    .map_err(sslbridge::Error::Io)?;
                served.lines.push(line);
            }
            Err(e) => return Err(sslbridge::Error::Io(e)),
        }
    }
    let tls = reader.into_inner();
    served.server_name = tls.server_name();
    served.alpn = tls.selected_alpn_protocol().map(str::to_string);
    served.reused = tls.session_reused();
    served.peer = tls.peer_certificate().map(|c| c.subject_name());
    served.protocol = tls.protocol_version();
    served.fd_path = tls.uses_fd_fast_path();
    tls.close()?;
    Ok(served)
}

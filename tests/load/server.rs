//! Load: the example server (`examples/server.rs`) on loopback holds 500 concurrent sslbridge
//! clients for 10 seconds and answers every request, while misbehaving clients (garbage,
//! connect-and-close, stalls, a half handshake) come and go.

use crate::common::*;
use sslbridge::{ClientOptions, Context, Verify};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const CLIENTS: usize = 500;
const HOLD: Duration = Duration::from_secs(10);

/// Raises the soft descriptor limit to at least `want` (within the hard limit); the server
/// process inherits it. Returns the soft limit now in force.
fn raise_fd_limit(want: u64) -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `r` is a valid, writable rlimit struct.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
    if r.rlim_cur < want {
        let new = libc::rlimit {
            rlim_cur: want.min(r.rlim_max),
            rlim_max: r.rlim_max,
        };
        // SAFETY: `new` is a valid rlimit struct.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &new) }, 0);
        r.rlim_cur = new.rlim_cur;
    }
    r.rlim_cur
}

/// `target/debug/examples/server`, built if needed.
///
/// With the features this test was built with, so the library built for the tests is reused,
/// and without the variables cargo set for this test process: build scripts (ring's) rerun
/// when one they read differs from the outer cargo's environment, and the next `cargo test`
/// would rebuild them and relink every test binary.
fn server_binary() -> PathBuf {
    let features: Vec<&str> = [
        ("tokio", cfg!(feature = "tokio")),
        ("vendored", cfg!(feature = "vendored")),
        ("external-peers", cfg!(feature = "external-peers")),
    ]
    .iter()
    .filter(|(_, on)| *on)
    .map(|(name, _)| *name)
    .collect();
    let mut command = Command::new(env!("CARGO"));
    command
        .args(["build", "--quiet", "--example", "server"])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if !features.is_empty() {
        command.arg("--features").arg(features.join(","));
    }
    for (name, _) in std::env::vars_os() {
        let set_by_cargo_test = name.to_str().is_some_and(|n| {
            n == "OUT_DIR"
                || n.starts_with("CARGO_PKG_")
                || n.starts_with("CARGO_MANIFEST_")
                || n.starts_with("CARGO_BIN_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                ]
                .contains(&n)
        });
        if set_by_cargo_test {
            command.env_remove(&name);
        }
    }
    let status = command.status().expect("run cargo build");
    assert!(status.success(), "cargo build --example server");
    // The test binary is target/<profile>/deps/load-HASH.
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("examples").join("server");
    assert!(bin.exists(), "{} exists", bin.display());
    bin
}

/// The running example server, killed by PID on drop.
struct Server {
    process: ChildGuard,
    addr: SocketAddr,
}

fn start_example_server(pki: &Fixture) -> Server {
    let bin = server_binary();
    let log = pki.dir.path().join("server.log");
    let mut command = Command::new(&bin);
    command
        .args([
            "--port",
            "0",
            "--cert",
            &pki.path("server-chain.pem"),
            "--key",
            &pki.path("server.key"),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap());
    let mut process = ChildGuard::spawn(command, "the example server");
    process.output = Some(log);
    let stdout = process.child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the server prints its address");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .parse()
        .unwrap();
    Server { process, addr }
}

fn tcp(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(10))?;
    s.set_read_timeout(Some(Duration::from_secs(20)))?;
    s.set_write_timeout(Some(Duration::from_secs(20)))?;
    Ok(s)
}

/// Sends the request on an established stream and checks the answer names the negotiated
/// protocol and cipher.
fn request(tls: &mut sslbridge::SslStream<TcpStream>) -> Result<usize, String> {
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    tls.read_to_end(&mut answer)
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    let protocol = tls.protocol_version().map(|p| p.to_string()).unwrap();
    let cipher = tls.cipher_name().unwrap();
    if !text.starts_with("HTTP/1.0 200 OK\r\n")
        || !text.contains(&format!("<p>Protocol: {protocol}</p>"))
        || !text.contains(&format!("<p>Cipher: {cipher}</p>"))
    {
        return Err(format!("unexpected answer: {text}"));
    }
    Ok(answer.len())
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    bytes: AtomicU64,
    failures: AtomicU64,
    misbehaviours: AtomicU64,
}

/// Connections that misbehave, in rotation, until `stop`; each is checked not to disturb the
/// server.
fn misbehave(addr: SocketAddr, stop: &AtomicBool, counters: &Counters) {
    let mut stalled = Vec::new();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        match i % 4 {
            // Garbage instead of a ClientHello: the server answers with an alert or closes.
            0 => {
                if let Ok(mut s) = tcp(addr) {
                    let _ = s.write_all(&payload(i, 3000));
                    let _ = s.shutdown(std::net::Shutdown::Write);
                    let mut sink = Vec::new();
                    let _ = s.read_to_end(&mut sink);
                }
            }
            // Connect and close at once.
            1 => drop(tcp(addr)),
            // Connect and say nothing (held until the end of the test).
            2 => {
                if let Ok(s) = tcp(addr) {
                    stalled.push(s);
                }
            }
            // Half a ClientHello, then silence.
            _ => {
                if let Ok(mut s) = tcp(addr) {
                    let _ = s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]);
                    stalled.push(s);
                }
            }
        }
        counters.misbehaviours.fetch_add(1, Ordering::Relaxed);
        i += 1;
        std::thread::sleep(Duration::from_millis(20));
        if stalled.len() > 40 {
            stalled.drain(..20);
        }
    }
}

#[test]
fn example_server_holds_500_clients_for_10_seconds() {
    let _serial = crate::SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let limit = raise_fd_limit(4096);
    assert!(
        limit >= 2 * CLIENTS as u64 + 200,
        "RLIMIT_NOFILE {limit} is too low for {CLIENTS} clients and their server sockets"
    );
    let pki = Fixture::shared();
    let mut server = start_example_server(pki);
    let addr = server.addr;
    let context = Context::builder()
        .ca_certificates_pem(&pki.pki.root_pem())
        .build()
        .unwrap();
    let counters = Arc::new(Counters::default());
    let stop = Arc::new(AtomicBool::new(false));
    let barrier = Arc::new(Barrier::new(CLIENTS + 1));
    let started = Instant::now();

    let mut clients = Vec::new();
    for id in 0..CLIENTS {
        let (context, counters, barrier, stop) = (
            context.clone(),
            counters.clone(),
            barrier.clone(),
            stop.clone(),
        );
        let spawned = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let connect = || {
                    let s = tcp(addr).map_err(|e| format!("connect: {e}"))?;
                    ClientOptions::new()
                        .hostname("localhost")
                        .verify(Verify::Required)
                        .context(context.clone())
                        .connect(s)
                        .map_err(|e| format!("handshake: {e}"))
                };
                let fail = |e: String| {
                    if counters.failures.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("client {id}: {e}");
                    }
                };
                // First round: every client is connected before anyone sends its request.
                let first = connect();
                barrier.wait();
                let mut next = Some(first);
                while !stop.load(Ordering::Relaxed) {
                    let tls = next.take().unwrap_or_else(connect);
                    match tls.and_then(|mut tls| {
                        let n = request(&mut tls)?;
                        tls.close().map_err(|e| format!("close: {e}"))?;
                        Ok(n)
                    }) {
                        Ok(n) => {
                            counters.requests.fetch_add(1, Ordering::Relaxed);
                            counters.bytes.fetch_add(n as u64, Ordering::Relaxed);
                        }
                        Err(e) => fail(e),
                    }
                }
            })
            .expect("spawn a client thread");
        clients.push(spawned);
    }
    // Everyone has handshaken: 500 TLS connections are open at once.
    barrier.wait();
    let all_connected = started.elapsed();
    assert!(server.process.alive(), "the server is up");
    let held_from = Instant::now();
    let troublemaker = {
        let (stop, counters) = (stop.clone(), counters.clone());
        std::thread::spawn(move || misbehave(addr, &stop, &counters))
    };
    std::thread::sleep(HOLD);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        join_within(c, Duration::from_secs(60));
    }
    join_within(troublemaker, Duration::from_secs(30));
    let held = held_from.elapsed();
    assert!(server.process.alive(), "the server survived");

    // After all that, a fresh client is still served.
    let mut tls = ClientOptions::new()
        .hostname("localhost")
        .context(context)
        .connect(tcp(addr).unwrap())
        .unwrap();
    request(&mut tls).unwrap();

    let requests = counters.requests.load(Ordering::Relaxed);
    let failures = counters.failures.load(Ordering::Relaxed);
    println!(
        "load: {CLIENTS} concurrent clients connected in {all_connected:.1?}, held {held:.1?}: \
         {requests} requests answered ({:.0}/s), {} response bytes, {failures} failures, \
         {} misbehaving connections; RLIMIT_NOFILE {limit}",
        requests as f64 / held.as_secs_f64(),
        counters.bytes.load(Ordering::Relaxed),
        counters.misbehaviours.load(Ordering::Relaxed),
    );
    assert_eq!(failures, 0, "every request was answered");
    assert!(
        requests >= CLIENTS as u64,
        "each client was answered at least once"
    );
    drop(server);
}

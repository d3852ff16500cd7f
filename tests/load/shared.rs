//! Concurrency and memory: one `Context` shared by 16 threads running 1,000 connections, memory
//! that stays flat over repeated rounds of connections, and the `Send`/`Sync` bounds of the
//! public types checked at compile time.

use crate::common::*;
use sslbridge::testing::TestPki;
use sslbridge::{ClientOptions, Context, Error, MemoryPipe, ServerOptions, SslStream, Verify};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// The tests of this binary run one at a time: the memory test reads the process's RSS.
use crate::SERIAL;

struct Shared {
    client: Context,
    server: Context,
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let pki = TestPki::new().unwrap();
        let key = pki.server(&["localhost"]).unwrap();
        Shared {
            client: Context::builder()
                .ca_certificates_pem(&pki.root_pem())
                .build()
                .unwrap(),
            server: Context::builder()
                .certificate_chain_pem(&key.chain_pem)
                .private_key_pem(&key.key_pem)
                .build()
                .unwrap(),
        }
    })
}

/// One connection over `duplex()` with both shared contexts: the client sends `n` bytes, the
/// server echoes them, both close. Returns the bytes moved.
fn one_connection(seed: u64, n: usize) -> u64 {
    let s = shared();
    let (c, e) = sslbridge::duplex(64 * 1024);
    let server_ctx = s.server.clone();
    let server = std::thread::spawn(move || -> Result<(), Error> {
        let mut tls = ServerOptions::new().context(server_ctx).accept(e)?;
        let mut buf = vec![0u8; n];
        tls.read_exact(&mut buf).map_err(Error::Io)?;
        tls.write_all(&buf).map_err(Error::Io)?;
        tls.close()
    });
    let data = payload(seed, n);
    let mut tls = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(s.client.clone())
        .connect(c)
        .unwrap_or_else(|e| panic!("connection {seed}: {e}"));
    tls.write_all(&data).unwrap();
    let back = read_to_close(&mut tls).unwrap_or_else(|(e, _)| panic!("{seed}: {e}"));
    assert!(back == data, "connection {seed}: echo differs");
    tls.close().unwrap();
    join_within(server, Duration::from_secs(10)).unwrap();
    2 * n as u64
}

/// Runs `total` connections on `threads` threads sharing the contexts.
fn run_connections(threads: u64, total: u64, first_seed: u64) -> u64 {
    let bytes = AtomicU64::new(0);
    let next = AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let n = 1 + ((first_seed + i) * 7919 % 8192) as usize;
                bytes.fetch_add(one_connection(first_seed + i, n), Ordering::Relaxed);
            });
        }
    });
    bytes.into_inner()
}

#[test]
fn one_context_16_threads_1000_connections() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (bytes, took) = within(Duration::from_secs(120), || {
        let start = Instant::now();
        (run_connections(16, 1000, 0), start.elapsed())
    });
    println!("concurrency: 1000 connections on 16 threads sharing one Context each side, {bytes} bytes echoed, {took:.1?}");
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

#[test]
fn memory_stays_flat_across_rounds() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let rss = within(Duration::from_secs(120), || {
        let mut rss = Vec::new();
        for round in 0..5u64 {
            run_connections(8, 200, 10_000 + round * 200);
            rss.push(rss_kib());
        }
        rss
    });
    println!("memory: VmRSS after each round of 200 connections (KiB): {rss:?}");
    let base = rss[1];
    for (i, &r) in rss.iter().enumerate().skip(2) {
        assert!(
            r.saturating_sub(base) < 5 * 1024,
            "round {}: RSS grew {} KiB over round 2 ({rss:?})",
            i + 1,
            r - base
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Send / Sync, checked at compile time
// ---------------------------------------------------------------------------------------------

fn is_send<T: Send>() {}
fn is_sync<T: Sync>() {}
fn is_error<T: std::error::Error + Send + Sync + 'static>() {}

/// `<T as NotSync<_>>::check()` compiles only if `T` is *not* `Sync` (two impls match a `Sync`
/// type and the call becomes ambiguous), the trick of `static_assertions::assert_not_impl_any`.
trait NotSync<A> {
    fn check() {}
}
impl<T: ?Sized> NotSync<()> for T {}
impl<T: ?Sized + Sync> NotSync<u8> for T {}

trait NotSend<A> {
    fn check() {}
}
impl<T: ?Sized> NotSend<()> for T {}
impl<T: ?Sized + Send> NotSend<u8> for T {}

/// A transport that is `Send` but not `Sync`.
struct CellTransport(std::cell::Cell<u8>);

impl Read for CellTransport {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Ok(0)
    }
}

impl Write for CellTransport {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.set(b.len() as u8);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn send_and_sync_bounds() {
    is_send::<SslStream<TcpStream>>();
    is_sync::<SslStream<TcpStream>>();
    is_send::<SslStream<MemoryPipe>>();
    is_sync::<SslStream<MemoryPipe>>();
    is_send::<SslStream<CellTransport>>();
    <SslStream<CellTransport> as NotSync<_>>::check();
    <SslStream<std::rc::Rc<u8>> as NotSend<_>>::check();
    <SslStream<std::rc::Rc<u8>> as NotSync<_>>::check();
    is_send::<Context>();
    is_sync::<Context>();
    is_send::<ClientOptions>();
    is_send::<ServerOptions>();
    is_send::<sslbridge::Session>();
    is_error::<Error>();
    // And a stream really moves to another thread and works there.
    let (c, s) = sslbridge::duplex(64 * 1024);
    let server = std::thread::spawn(move || {
        ServerOptions::new()
            .context(shared().server.clone())
            .start(s)
            .unwrap()
    });
    let client = std::thread::spawn(move || {
        ClientOptions::new()
            .hostname("localhost")
            .context(shared().client.clone())
            .start(c)
            .unwrap()
    });
    let (mut server, mut client) = (server.join().unwrap(), client.join().unwrap());
    let h = std::thread::spawn(move || {
        server.handshake().unwrap();
        server
    });
    client.handshake().unwrap();
    let server = h.join().unwrap();
    assert!(server.is_handshake_done() && client.is_handshake_done());
}

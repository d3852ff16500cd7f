//! Benign transport chaos through the public `ChaosTransport`: one-byte reads and writes,
//! random splits, storms of `Interrupted` and `WouldBlock`, on both ends of a connection at
//! once. Every run must transfer its data byte for byte and end cleanly; `WouldBlock` must
//! surface as `WantRead`/`WantWrite` (or io `WouldBlock`) and be resumable, `Interrupted` must
//! never surface (the BIO retries it), and nothing may hang (every wait is bounded).

use crate::common::*;
use sslbridge::testing::{ChaosPlan, ChaosStats, ChaosTransport, Direction, Fault, TestPki};
use sslbridge::{ClientOptions, ServerOptions, SslStream, Verify};
use std::io::{self, ErrorKind, Read, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);
/// One connection must finish within this (a hang fails the test, it does not block CI).
const CONNECTION_LIMIT: Duration = Duration::from_secs(20);

type Chaos = ChaosTransport<sslbridge::MemoryPipe>;

fn fixture() -> &'static VersionContexts {
    static F: OnceLock<VersionContexts> = OnceLock::new();
    F.get_or_init(|| {
        let pki = TestPki::new().unwrap();
        let key = pki.server(&["localhost"]).unwrap();
        VersionContexts::new(&pki, &key)
    })
}

/// Counts for the closing report.
#[derive(Debug, Default, Clone)]
struct Tally {
    connections: u64,
    app_bytes: u64,
    transport_bytes: u64,
    interrupted: u64,
    would_block_injected: u64,
    would_block_seen: u64,
}

impl Tally {
    fn add(&mut self, s: &ChaosStats) {
        self.transport_bytes += s.bytes_read + s.bytes_written;
        self.interrupted += s.interrupted;
        self.would_block_injected += s.would_block;
        assert!(s.errors.is_empty() && s.eofs == [0, 0] && s.panics == 0);
    }
}

/// Runs `op` until it stops reporting "would block"; counts the retries. `Interrupted` must
/// never reach the caller, and the connection's deadline bounds the loop.
fn retry<R>(
    deadline: Instant,
    seen: &mut u64,
    mut op: impl FnMut() -> io::Result<R>,
) -> io::Result<R> {
    loop {
        match op() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                *seen += 1;
                assert!(Instant::now() < deadline, "no progress: a hang");
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {
                panic!("Interrupted reached the caller: {e}")
            }
            other => return other,
        }
    }
}

fn handshake(tls: &mut SslStream<Chaos>, deadline: Instant, seen: &mut u64) -> io::Result<()> {
    retry(deadline, seen, || match tls.handshake() {
        Err(e @ (sslbridge::Error::WantRead | sslbridge::Error::WantWrite)) => {
            Err(io::Error::new(ErrorKind::WouldBlock, e))
        }
        Err(e) => {
            assert!(!e.is_would_block(), "{e:?}");
            Err(e.into())
        }
        Ok(()) => Ok(()),
    })
}

fn write_all(
    tls: &mut SslStream<Chaos>,
    data: &[u8],
    chunk: usize,
    deadline: Instant,
    seen: &mut u64,
) -> io::Result<()> {
    let mut off = 0;
    while off < data.len() {
        let end = (off + chunk).min(data.len());
        // After WouldBlock, OpenSSL wants the same buffer again: retry the same slice.
        let n = retry(deadline, seen, || tls.write(&data[off..end]))?;
        assert!(n > 0, "write returned 0");
        off += n;
    }
    Ok(())
}

fn read_exact(
    tls: &mut SslStream<Chaos>,
    n: usize,
    deadline: Instant,
    seen: &mut u64,
) -> io::Result<Vec<u8>> {
    let mut out = vec![0u8; n];
    let mut off = 0;
    while off < n {
        let got = retry(deadline, seen, || tls.read(&mut out[off..]))?;
        if got == 0 {
            return Err(io::Error::new(ErrorKind::UnexpectedEof, "short read"));
        }
        off += got;
    }
    Ok(out)
}

fn read_end(tls: &mut SslStream<Chaos>, deadline: Instant, seen: &mut u64) -> io::Result<()> {
    let mut b = [0u8; 64];
    let n = retry(deadline, seen, || tls.read(&mut b))?;
    assert_eq!(n, 0, "nothing after the data but close_notify");
    Ok(())
}

fn shutdown(tls: &mut SslStream<Chaos>, deadline: Instant, seen: &mut u64) -> io::Result<()> {
    retry(deadline, seen, || tls.shutdown().map_err(io::Error::from))
}

/// One connection: the client sends `len` bytes in `chunk`-sized writes, the server echoes
/// them, both end with close_notify. Both transports follow their plans.
fn echo_run(
    client_plan: ChaosPlan,
    server_plan: ChaosPlan,
    version: usize,
    len: usize,
    chunk: usize,
    seed: u64,
    tally: &mut Tally,
) {
    let f = fixture();
    let (c, s) = sslbridge::duplex(64 * 1024);
    let deadline = Instant::now() + CONNECTION_LIMIT;
    let server_ctx = f.server[version].clone();
    let server = std::thread::spawn(move || -> io::Result<(ChaosStats, u64)> {
        let mut seen = 0;
        let mut tls = ServerOptions::new()
            .context(server_ctx)
            .start(server_plan.wrap(s))
            .map_err(io::Error::from)?;
        handshake(&mut tls, deadline, &mut seen)?;
        let data = read_exact(&mut tls, len, deadline, &mut seen)?;
        write_all(&mut tls, &data, 16 * 1024, deadline, &mut seen)?;
        shutdown(&mut tls, deadline, &mut seen)?;
        read_end(&mut tls, deadline, &mut seen)?;
        Ok((tls.get_ref().stats().clone(), seen))
    });
    let data = payload(seed, len);
    let mut seen = 0;
    let mut tls = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(f.client[version].clone())
        .start(client_plan.wrap(c))
        .unwrap();
    let run = (|| -> io::Result<()> {
        handshake(&mut tls, deadline, &mut seen)?;
        write_all(&mut tls, &data, chunk, deadline, &mut seen)?;
        let back = read_exact(&mut tls, len, deadline, &mut seen)?;
        assert!(back == data, "seed {seed}: the echo differs");
        read_end(&mut tls, deadline, &mut seen)?;
        shutdown(&mut tls, deadline, &mut seen)
    })();
    run.unwrap_or_else(|e| panic!("seed {seed}: client failed: {e}"));
    let client_stats = tls.get_ref().stats().clone();
    drop(tls);
    let (server_stats, server_seen) = join_within(server, CONNECTION_LIMIT)
        .unwrap_or_else(|e| panic!("seed {seed}: server failed: {e}"));
    tally.connections += 1;
    tally.app_bytes += 2 * len as u64;
    tally.add(&client_stats);
    tally.add(&server_stats);
    tally.would_block_seen += seen + server_seen;
}

fn report(name: &str, t: &Tally) {
    println!(
        "{name}: {} connections, {} application bytes, {} transport bytes, {} Interrupted and \
         {} WouldBlock injected, {} WouldBlock seen by the caller, 0 errors",
        t.connections,
        t.app_bytes,
        t.transport_bytes,
        t.interrupted,
        t.would_block_injected,
        t.would_block_seen
    );
}

#[test]
fn random_plans_transfer_byte_exact() {
    let t = within(LIMIT, || {
        let mut tally = Tally::default();
        for seed in 0..200u64 {
            let len = 1 + (seed as usize * 7919) % 40_000;
            let chunk = 1 + (seed as usize * 104_729) % 9_000;
            echo_run(
                ChaosPlan::random(seed * 2),
                ChaosPlan::random(seed * 2 + 1),
                (seed % 2) as usize,
                len,
                chunk,
                seed,
                &mut tally,
            );
        }
        tally
    });
    report("random plans", &t);
    assert_eq!(t.connections, 200);
    assert!(t.interrupted > 0 && t.would_block_injected > 0);
    // Each injected WouldBlock reached the caller exactly once, as a retry.
    assert_eq!(t.would_block_seen, t.would_block_injected);
}

#[test]
fn one_byte_reads_and_writes() {
    let t = within(LIMIT, || {
        let mut tally = Tally::default();
        let one = || {
            ChaosPlan::new()
                .max_chunk(Direction::Read, 1)
                .max_chunk(Direction::Write, 1)
        };
        for seed in 0..8u64 {
            echo_run(
                one(),
                one(),
                (seed % 2) as usize,
                20_000,
                5_000,
                seed,
                &mut tally,
            );
        }
        tally
    });
    report("one-byte transport calls", &t);
    // Every transport byte moved in its own call, and it all arrived.
    assert_eq!(t.connections, 8);
    assert!(t.transport_bytes > 8 * 2 * 20_000);
}

#[test]
fn storms_of_interrupted_and_would_block() {
    let t = within(LIMIT, || {
        let mut tally = Tally::default();
        for seed in 0..60u64 {
            let storm = |s: u64| {
                let p = 0.2 + (s % 7) as f64 / 10.0; // 0.2 ..= 0.8
                ChaosPlan::new()
                    .seed(s)
                    .random_chunks(Direction::Read, true)
                    .random_chunks(Direction::Write, true)
                    .probability(Direction::Read, Fault::Interrupted, p / 2.0)
                    .probability(Direction::Read, Fault::WouldBlock, p)
                    .probability(Direction::Write, Fault::Interrupted, p / 2.0)
                    .probability(Direction::Write, Fault::WouldBlock, p)
                    .fault_at_call(Direction::Write, 0, Fault::WouldBlock)
                    .fault_at_call(Direction::Read, 0, Fault::WouldBlock)
            };
            echo_run(
                storm(seed * 2),
                storm(seed * 2 + 1),
                (seed % 2) as usize,
                1 + (seed as usize * 3001) % 30_000,
                4096,
                seed,
                &mut tally,
            );
        }
        tally
    });
    report("Interrupted/WouldBlock storms", &t);
    assert!(t.would_block_injected > 1000 && t.interrupted > 500);
    assert_eq!(t.would_block_seen, t.would_block_injected);
}

//! Faults at exact byte offsets through the public `ChaosTransport`: an end of stream, an
//! `io::Error` and a panic at byte N of what the client reads (the server's records) or
//! writes (its own), with N aimed inside a record header, inside a record body and between
//! records. The offsets come from a clean reference run whose bytes are parsed into TLS
//! records (an RSA server key makes every run's records the same size; the test checks that).
//!
//! Each run must end in a byte-exact transfer (N at or past the end) or in exactly the
//! injected failure: `Error::UnexpectedEof` for a read EOF, `WriteZero` for a write EOF, the
//! injected `io::Error` kind, or the panic payload resumed in the caller. Data delivered before
//! the failure must be a prefix of what was sent (no wrong byte, no silent short read), and the
//! stream must refuse further I/O with `Error::StreamFailed`.

use crate::common::*;
use sslbridge::testing::{ChaosPlan, ChaosTransport, Direction, Fault, InjectedPanic, TestPki};
use sslbridge::{ClientOptions, Error, MemoryPipe, ServerOptions, SslStream};
use std::collections::BTreeMap;
use std::io::{self, ErrorKind, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(90);
const REQUEST_LEN: usize = 100;
const RESPONSE_RECORDS: usize = 3;
const RECORD: usize = 1000;

fn fixture() -> &'static VersionContexts {
    static F: OnceLock<VersionContexts> = OnceLock::new();
    F.get_or_init(|| {
        let pki = TestPki::new().unwrap();
        let key = rsa_server(&pki);
        VersionContexts::new(&pki, &key)
    })
}

fn request() -> Vec<u8> {
    payload(1, REQUEST_LEN)
}

fn response() -> Vec<u8> {
    payload(2, RESPONSE_RECORDS * RECORD)
}

/// Keeps injected panics out of the test output; real panics still print.
fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<InjectedPanic>().is_none() {
                default(info);
            }
        }));
    });
}

/// The server: reads the request, answers in three records, sends close_notify and waits for
/// the client's (or its EOF) so the pipe stays open while the client finishes.
fn serve(version: usize, end: MemoryPipe) -> std::thread::JoinHandle<()> {
    let ctx = fixture().server[version].clone();
    std::thread::spawn(move || {
        let run = || -> Result<(), Error> {
            let mut tls = ServerOptions::new().context(ctx).accept(end)?;
            let mut req = vec![0u8; REQUEST_LEN];
            tls.read_exact(&mut req).map_err(Error::Io)?;
            assert_eq!(req, request(), "the server never sees a wrong byte");
            for chunk in response().chunks(RECORD) {
                tls.write_all(chunk).map_err(Error::Io)?;
            }
            tls.shutdown()?;
            let mut b = [0u8; 64];
            while matches!(tls.read(&mut b), Ok(n) if n > 0) {}
            Ok(())
        };
        let _ = run(); // the client's failures make the server fail too; not checked here
    })
}

/// A transport that records what passes, for the reference run.
struct Tap {
    inner: MemoryPipe,
    read: Arc<Mutex<Vec<u8>>>,
    written: Arc<Mutex<Vec<u8>>>,
}

impl Read for Tap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// How one client run ended.
#[derive(Debug)]
enum Outcome {
    Done,
    Failed(Error),
    Io(io::Error),
    Panicked(InjectedPanic),
}

fn guarded<R>(f: impl FnOnce() -> R) -> Result<R, Outcome> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| match p.downcast_ref::<InjectedPanic>() {
        Some(i) => Outcome::Panicked(*i),
        None => std::panic::resume_unwind(p),
    })
}

/// The client: handshake, request, read to the server's close_notify, send ours.
fn client_flow<T: sslbridge::Transport>(
    tls: &mut SslStream<T>,
    got: &mut Vec<u8>,
    stage: &mut &'static str,
) -> Outcome {
    let mut run = || -> Result<(), Outcome> {
        guarded(|| tls.handshake())?.map_err(Outcome::Failed)?;
        guarded(|| tls.write_all(&request()))?.map_err(Outcome::Io)?;
        let mut buf = [0u8; 4096];
        loop {
            match guarded(|| tls.read(&mut buf))? {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => return Err(Outcome::Io(e)),
            }
        }
        *stage = "shutdown";
        guarded(|| tls.shutdown())?.map_err(Outcome::Failed)?;
        Ok(())
    };
    match run() {
        Ok(()) => Outcome::Done,
        Err(o) => o,
    }
}

fn client(version: usize) -> ClientOptions {
    ClientOptions::new()
        .hostname("localhost")
        .context(fixture().client[version].clone())
}

/// Record boundaries: `(offset, length including the 5-byte header)`.
fn records(bytes: &[u8]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 5 <= bytes.len() {
        assert!((20..=23).contains(&bytes[i]), "a TLS record type at {i}");
        let len = u16::from_be_bytes([bytes[i + 3], bytes[i + 4]]) as usize;
        out.push((i as u64, (5 + len) as u64));
        i += 5 + len;
    }
    assert_eq!(i, bytes.len(), "the stream is whole records");
    out
}

/// The records the server sends and the client sends, from a clean run.
fn reference(version: usize) -> [Vec<(u64, u64)>; 2] {
    let (c, s) = sslbridge::duplex(64 * 1024);
    let server = serve(version, s);
    let (read, written) = Default::default();
    let tap = Tap {
        inner: c,
        read: Arc::clone(&read),
        written: Arc::clone(&written),
    };
    let mut tls = client(version).start(tap).unwrap();
    let mut got = Vec::new();
    assert!(matches!(
        client_flow(&mut tls, &mut got, &mut "exchange"),
        Outcome::Done
    ));
    assert_eq!(got, response());
    drop(tls);
    join_within(server, Duration::from_secs(10));
    let read = read.lock().unwrap();
    let written = written.lock().unwrap();
    [records(&read), records(&written)]
}

/// Offsets to aim at, with what they hit: inside each record's header, inside its body, at
/// its start (between records), and the very end; then random offsets up to `count`.
fn aims(records: &[(u64, u64)], count: usize, seed: u64) -> Vec<(u64, &'static str)> {
    let mut v = Vec::new();
    for (i, &(off, len)) in records.iter().enumerate() {
        v.push((off, "between records"));
        v.push((off + 1 + (i as u64 % 4), "record header"));
        v.push((off + 5, "header/body boundary"));
        v.push((
            off + 6 + (seed + i as u64 * 37) % (len - 6).max(1),
            "record body",
        ));
    }
    let total = records.last().map_or(0, |&(o, l)| o + l);
    v.push((total, "end of stream"));
    let mut x = seed | 1;
    while v.len() < count {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = x % (total + 1);
        let what = match records.iter().find(|&&(o, l)| n >= o && n < o + l) {
            None => "end of stream",
            Some(&(o, _)) if n == o => "between records",
            Some(&(o, _)) if n < o + 5 => "record header",
            _ => "record body",
        };
        v.push((n, what));
    }
    v
}

#[derive(Default)]
struct Tally {
    connections: u64,
    bytes: u64,
    injected: u64,
    completed: u64,
    errors: BTreeMap<String, u64>,
    aimed: BTreeMap<&'static str, u64>,
}

impl Tally {
    fn print(&self, name: &str) {
        println!(
            "{name}: {} connections, {} bytes delivered, {} faults injected, {} completed, \
             errors seen {:?}, offsets by kind {:?}",
            self.connections, self.bytes, self.injected, self.completed, self.errors, self.aimed
        );
    }
}

/// After a failure the stream refuses reads, writes and the handshake with `StreamFailed`.
/// A failure while sending our close_notify comes after the peer's: reads may then keep
/// answering `Ok(0)`, the honest end of what the peer sent.
fn assert_refuses<T: sslbridge::Transport>(tls: &mut SslStream<T>, context: &str, closed: bool) {
    let mut b = [0u8; 8];
    let read = tls.read(&mut b);
    if closed && matches!(read, Ok(0)) {
        // accepted
    } else {
        let e = read.expect_err("read after failure");
        assert!(
            matches!(inner_error(&e), Some(Error::StreamFailed { .. })),
            "{context}: read after failure: {e:?}"
        );
    }
    let e = tls.write(b"x").expect_err("write after failure");
    assert!(
        matches!(inner_error(&e), Some(Error::StreamFailed { .. })),
        "{context}: write after failure: {e:?}"
    );
    if !tls.is_handshake_done() {
        assert!(matches!(tls.handshake(), Err(Error::StreamFailed { .. })));
    }
}

/// Runs every aimed offset with `fault` in `direction`, both TLS versions, checking each
/// outcome with `expect`.
fn campaign(
    name: &str,
    direction: Direction,
    per_version: usize,
    fault_for: impl Fn(u64) -> Fault,
) -> Tally {
    quiet_injected_panics();
    let mut t = Tally::default();
    for version in 0..2 {
        let reference = reference(version);
        assert_eq!(
            reference,
            self::reference(version),
            "record sizes are stable"
        );
        let dir = if direction == Direction::Read { 0 } else { 1 };
        let recs = &reference[dir];
        let total = recs.last().map_or(0, |&(o, l)| o + l);
        for (i, (n, what)) in aims(recs, per_version, 7 + version as u64)
            .into_iter()
            .enumerate()
        {
            let fault = fault_for(i as u64);
            let context = format!("{name} v{version} {direction} byte {n} ({what}) {fault:?}");
            let plan = ChaosPlan::new()
                .seed(i as u64)
                .random_chunks(direction, i % 2 == 1)
                .fault_at_byte(direction, n, fault);
            let (c, s) = sslbridge::duplex(64 * 1024);
            let server = serve(version, s);
            let mut tls: SslStream<ChaosTransport<MemoryPipe>> =
                client(version).start(plan.wrap(c)).unwrap();
            let mut got = Vec::new();
            let mut stage = "exchange";
            let outcome = client_flow(&mut tls, &mut got, &mut stage);
            let stats = tls.get_ref().stats().clone();
            let injected = stats.errors.len() as u64 + stats.eofs[dir] + stats.panics;
            t.connections += 1;
            t.injected += injected;
            t.bytes += got.len() as u64;
            *t.aimed.entry(what).or_default() += 1;
            assert!(
                response().starts_with(&got),
                "{context}: a wrong byte was delivered"
            );
            if n >= total {
                assert!(matches!(outcome, Outcome::Done), "{context}: {outcome:?}");
                assert_eq!(got, response(), "{context}");
                assert_eq!(injected, 0, "{context}");
                t.completed += 1;
            } else {
                assert_eq!(injected, 1, "{context}: the fault fired once: {outcome:?}");
                let seen = match (&outcome, fault) {
                    (Outcome::Done, _) => panic!("{context}: completed despite the fault"),
                    (Outcome::Panicked(p), Fault::Panic) => {
                        assert_eq!((p.direction, p.byte), (direction, n), "{context}");
                        "panic resumed".to_string()
                    }
                    (Outcome::Failed(Error::UnexpectedEof), Fault::Eof)
                        if direction == Direction::Read =>
                    {
                        "UnexpectedEof".into()
                    }
                    (Outcome::Io(e), Fault::Eof)
                        if direction == Direction::Read
                            && matches!(inner_error(e), Some(Error::UnexpectedEof)) =>
                    {
                        "UnexpectedEof".into()
                    }
                    (Outcome::Failed(Error::Io(e)), Fault::Error(kind))
                    | (Outcome::Io(e), Fault::Error(kind))
                        if e.kind() == kind && e.to_string().contains("injected") =>
                    {
                        format!("{kind:?}")
                    }
                    (Outcome::Failed(Error::Io(e)), Fault::Eof) | (Outcome::Io(e), Fault::Eof)
                        if direction == Direction::Write && e.kind() == ErrorKind::WriteZero =>
                    {
                        "WriteZero".into()
                    }
                    _ => panic!("{context}: not the injected failure: {outcome:?}"),
                };
                *t.errors.entry(seen).or_default() += 1;
                assert_refuses(&mut tls, &context, stage == "shutdown");
            }
            drop(tls);
            join_within(server, Duration::from_secs(10));
        }
    }
    t
}

const KINDS: [ErrorKind; 5] = [
    ErrorKind::ConnectionReset,
    ErrorKind::PermissionDenied,
    ErrorKind::InvalidData,
    ErrorKind::ConnectionAborted,
    ErrorKind::Other,
];

#[test]
fn eof_at_byte_n_of_the_servers_records() {
    let t = within(LIMIT, || {
        campaign("read EOF", Direction::Read, 100, |_| Fault::Eof)
    });
    t.print("EOF at read byte N");
}

#[test]
fn io_error_at_byte_n_of_the_servers_records() {
    let t = within(LIMIT, || {
        campaign("read error", Direction::Read, 100, |i| {
            Fault::Error(KINDS[i as usize % KINDS.len()])
        })
    });
    t.print("io::Error at read byte N");
}

#[test]
fn panic_at_byte_n_of_the_servers_records() {
    let t = within(LIMIT, || {
        campaign("read panic", Direction::Read, 100, |_| Fault::Panic)
    });
    t.print("panic at read byte N");
}

#[test]
fn faults_at_byte_n_of_the_clients_records() {
    let t = within(LIMIT, || {
        let mut all = campaign("write EOF", Direction::Write, 40, |_| Fault::Eof);
        for (name, fault) in [
            ("write error", Fault::Error(ErrorKind::PermissionDenied)),
            ("write panic", Fault::Panic),
        ] {
            let t = campaign(name, Direction::Write, 40, |_| fault);
            all.connections += t.connections;
            all.bytes += t.bytes;
            all.injected += t.injected;
            all.completed += t.completed;
            for (k, v) in t.errors {
                *all.errors.entry(k).or_default() += v;
            }
            for (k, v) in t.aimed {
                *all.aimed.entry(k).or_default() += v;
            }
        }
        all
    });
    t.print("EOF / io::Error / panic at write byte N");
}

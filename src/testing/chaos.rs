//! [`ChaosTransport`]: a fault-injecting wrapper around any transport.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};

/// Which way bytes move through a [`ChaosTransport`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `Read::read` calls.
    Read,
    /// `Write::write` calls.
    Write,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Read => "read",
            Direction::Write => "write",
        })
    }
}

/// What a [`ChaosTransport`] does instead of a normal call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// Fail this one call with `ErrorKind::Interrupted` (a signal; callers retry at once).
    Interrupted,
    /// Fail this one call with `ErrorKind::WouldBlock` (a non-blocking transport not ready).
    WouldBlock,
    /// Fail this one call with an `io::Error` of this kind; later calls work again.
    Error(ErrorKind),
    /// End of stream from here on: reads return `Ok(0)`, writes accept nothing (`Ok(0)`).
    Eof,
    /// Panic inside the call, with an [`InjectedPanic`] payload.
    Panic,
}

/// The payload of a panic injected with [`Fault::Panic`], so a test can tell it from a real
/// bug (`payload.downcast_ref::<InjectedPanic>()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct InjectedPanic {
    /// The direction of the call that panicked.
    pub direction: Direction,
    /// How many bytes had passed in that direction.
    pub byte: u64,
}

/// Counts of what a [`ChaosTransport`] saw and injected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChaosStats {
    /// `read` calls, injected faults included.
    pub reads: u64,
    /// `write` calls, injected faults included.
    pub writes: u64,
    /// `flush` calls (never faulted).
    pub flushes: u64,
    /// Bytes that passed through `read`.
    pub bytes_read: u64,
    /// Bytes that passed through `write`.
    pub bytes_written: u64,
    /// Injected `Interrupted` errors.
    pub interrupted: u64,
    /// Injected `WouldBlock` errors.
    pub would_block: u64,
    /// Injected [`Fault::Error`]s, in order, with their direction.
    pub errors: Vec<(Direction, ErrorKind)>,
    /// Calls answered with an injected end of stream, per direction `[read, write]`.
    pub eofs: [u64; 2],
    /// Injected panics.
    pub panics: u64,
}

impl ChaosStats {
    /// Whether an injected fault could explain `kind` as the error a caller saw from a call
    /// in `direction` or from its own retries: an injected [`Fault::Error`] of that kind, or
    /// `WriteZero` after an injected write EOF.
    pub fn explains(&self, kind: ErrorKind) -> bool {
        self.errors.iter().any(|(_, k)| *k == kind)
            || (kind == ErrorKind::WriteZero && self.eofs[1] > 0)
    }

    /// Whether an end of stream was injected on the read side.
    pub fn injected_read_eof(&self) -> bool {
        self.eofs[0] > 0
    }
}

/// The plan for one direction.
#[derive(Debug, Clone, Default)]
struct SidePlan {
    /// At most this many bytes per call (`None`: whatever the caller asks).
    max_chunk: Option<usize>,
    /// Each call moves a random number of bytes in `1..=limit`.
    random_chunks: bool,
    /// Per-call probabilities, in 1/65536ths, of a spontaneous fault.
    storms: Vec<(u32, Fault)>,
    /// Faults at a call number (0-based, counting every call in this direction).
    at_call: Vec<(u64, Fault)>,
    /// Faults once this many bytes have passed in this direction.
    at_byte: Vec<(u64, Fault)>,
}

/// A recipe of faults for a [`ChaosTransport`], built step by step; cheap to clone, so one
/// plan can drive many transports.
///
/// Everything random (chunk sizes, storms) comes from a generator seeded with
/// [`seed`](ChaosPlan::seed), so a plan plus a seed replays exactly.
///
/// ```
/// use sslbridge::testing::{ChaosPlan, Direction, Fault};
/// use std::io::ErrorKind;
/// let plan = ChaosPlan::new()
///     .seed(42)
///     .max_chunk(Direction::Read, 1)             // one byte per read
///     .random_chunks(Direction::Write, true)     // writes split at random
///     .probability(Direction::Read, Fault::Interrupted, 0.1)
///     .probability(Direction::Write, Fault::WouldBlock, 0.2)
///     .fault_at_call(Direction::Write, 0, Fault::WouldBlock)
///     .fault_at_byte(Direction::Read, 300, Fault::Error(ErrorKind::ConnectionReset));
/// # drop(plan);
/// ```
#[derive(Debug, Clone)]
pub struct ChaosPlan {
    seed: u64,
    read: SidePlan,
    write: SidePlan,
    max_consecutive_faults: u32,
}

impl Default for ChaosPlan {
    fn default() -> Self {
        ChaosPlan::new()
    }
}

/// Error kinds [`ChaosPlan::from_bytes`] chooses from: none of them is one the TLS layer
/// treats as a retry (`Interrupted`, `WouldBlock`, `TimedOut`).
const SCRIPT_ERROR_KINDS: [ErrorKind; 8] = [
    ErrorKind::ConnectionReset,
    ErrorKind::BrokenPipe,
    ErrorKind::ConnectionAborted,
    ErrorKind::NotConnected,
    ErrorKind::PermissionDenied,
    ErrorKind::InvalidData,
    ErrorKind::UnexpectedEof,
    ErrorKind::Other,
];

impl ChaosPlan {
    /// A plan that injects nothing: the wrapped transport behaves as itself.
    pub fn new() -> ChaosPlan {
        ChaosPlan {
            seed: 0,
            read: SidePlan::default(),
            write: SidePlan::default(),
            max_consecutive_faults: 8,
        }
    }

    /// Needs non-blocking code: it injects `WouldBlock`, which a blocking `connect` or `read`
    /// reports as a timeout or `WantRead`; for blocking code use
    /// [`random_blocking`](ChaosPlan::random_blocking).
    ///
    /// Benign chaos drawn from `seed`: random splits of reads and writes (sometimes down to
    /// one byte) and storms of `Interrupted` and `WouldBlock`, but no errors, EOFs or panics.
    /// A correct non-blocking user survives every such plan with its data intact.
    ///
    /// ```
    /// use sslbridge::testing::ChaosPlan;
    /// let plans: Vec<ChaosPlan> = (0..100).map(ChaosPlan::random).collect();
    /// # drop(plans);
    /// ```
    pub fn random(seed: u64) -> ChaosPlan {
        ChaosPlan::random_with(seed, true)
    }

    /// The same randomness as [`random`](ChaosPlan::random) (same seed, same chunk sizes and
    /// `Interrupted` storms), restricted to faults a correct *blocking* peer absorbs: short
    /// reads and writes and `Interrupted`, never `WouldBlock`. Every handshake and transfer
    /// over it completes, so it is the plan for blocking code (`connect`, `accept`,
    /// `read_exact`, `write_all`).
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// use sslbridge::testing::{ChaosPlan, TestPki};
    /// use sslbridge::{ClientOptions, ServerOptions, Verify};
    ///
    /// let pki = TestPki::new()?;
    /// let key = pki.server(&["localhost"])?;
    /// let (a, b) = sslbridge::duplex(64 * 1024);
    /// let server = std::thread::spawn(move || -> Result<(), sslbridge::Error> {
    ///     let mut tls = ServerOptions::new()
    ///         .certificate_chain_pem(&key.chain_pem)
    ///         .private_key_pem(&key.key_pem)
    ///         .accept(ChaosPlan::random_blocking(7).wrap(b))?;
    ///     let mut buf = [0u8; 5];
    ///     tls.read_exact(&mut buf)?;
    ///     tls.write_all(&buf)?;
    ///     Ok(())
    /// });
    /// let mut tls = ClientOptions::new()
    ///     .verify(Verify::None)
    ///     .connect(ChaosPlan::random_blocking(8).wrap(a))?;
    /// tls.write_all(b"hello")?;
    /// let mut echo = [0u8; 5];
    /// tls.read_exact(&mut echo)?;
    /// assert_eq!(&echo, b"hello");
    /// server.join().unwrap()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn random_blocking(seed: u64) -> ChaosPlan {
        ChaosPlan::random_with(seed, false)
    }

    fn random_with(seed: u64, would_block: bool) -> ChaosPlan {
        let mut rng = Rng(seed);
        let mut plan = ChaosPlan::new().seed(seed);
        for direction in [Direction::Read, Direction::Write] {
            let cap = match rng.below(4) {
                0 => None,
                1 => Some(1),
                _ => Some(1 + rng.below(600) as usize),
            };
            plan.side_mut(direction).max_chunk = cap;
            plan = plan.random_chunks(direction, rng.below(2) == 1);
            plan = plan.probability(direction, Fault::Interrupted, rng.below(30) as f64 / 100.0);
            // Drawn either way, so both plans of a seed share the rest of their randomness.
            let would_block_chance = rng.below(30) as f64 / 100.0;
            if would_block {
                plan = plan.probability(direction, Fault::WouldBlock, would_block_chance);
            }
        }
        plan
    }

    /// A plan read from arbitrary bytes, for fuzzers: every byte string is a valid plan, and
    /// small changes to the bytes make small changes to the plan. Never injects panics (most
    /// fuzzing harnesses abort on any panic, caught or not) nor retry-like error kinds.
    ///
    /// Layout (missing bytes read as zero):
    ///
    /// | bytes | meaning |
    /// | --- | --- |
    /// | 0, 1 | reads, writes: bit 7 = random chunks; bits 0–6 = largest chunk (0: no limit) |
    /// | 2, 3 | reads: chance of `Interrupted`, `WouldBlock`, in 1/512ths (at most ½) |
    /// | 4, 5 | writes: the same |
    /// | 6..14 | the seed, little-endian |
    /// | then, 3 bytes each, at most 16 | a scheduled fault: `[what, position (u16 LE)]` |
    ///
    /// In `what`, bit 0 is the direction (0 read, 1 write), bit 1 the trigger (0 call number,
    /// 1 byte offset), bits 2–3 the fault (`Interrupted`, `WouldBlock`, `Error`, `Eof`) and
    /// bits 4–6 the error kind (one of eight non-retry kinds).
    pub fn from_bytes(script: &[u8]) -> ChaosPlan {
        let at = |i: usize| script.get(i).copied().unwrap_or(0);
        let mut plan = ChaosPlan::new();
        for (i, direction) in [Direction::Read, Direction::Write].into_iter().enumerate() {
            let b = at(i);
            let side = plan.side_mut(direction);
            side.random_chunks = b & 0x80 != 0;
            side.max_chunk = match b & 0x7f {
                0 => None,
                n => Some(n as usize),
            };
            let interrupt = u32::from(at(2 + 2 * i)) * 128;
            let would_block = u32::from(at(3 + 2 * i)) * 128;
            if interrupt > 0 {
                side.storms.push((interrupt, Fault::Interrupted));
            }
            if would_block > 0 {
                side.storms.push((would_block, Fault::WouldBlock));
            }
        }
        let mut seed = [0u8; 8];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = at(6 + i);
        }
        plan.seed = u64::from_le_bytes(seed);
        for entry in script.get(14..).unwrap_or(&[]).chunks_exact(3).take(16) {
            let what = entry[0];
            let direction = if what & 1 == 0 {
                Direction::Read
            } else {
                Direction::Write
            };
            let position = u64::from(u16::from_le_bytes([entry[1], entry[2]]));
            let fault = match (what >> 2) & 3 {
                0 => Fault::Interrupted,
                1 => Fault::WouldBlock,
                2 => Fault::Error(SCRIPT_ERROR_KINDS[usize::from((what >> 4) & 7)]),
                _ => Fault::Eof,
            };
            plan = if what & 2 == 0 {
                plan.fault_at_call(direction, position, fault)
            } else {
                plan.fault_at_byte(direction, position, fault)
            };
        }
        plan
    }

    fn side_mut(&mut self, direction: Direction) -> &mut SidePlan {
        match direction {
            Direction::Read => &mut self.read,
            Direction::Write => &mut self.write,
        }
    }

    /// Seeds the generator behind random chunk sizes and fault storms (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Moves at most `max` bytes per call in `direction` (at least 1).
    pub fn max_chunk(mut self, direction: Direction, max: usize) -> Self {
        self.side_mut(direction).max_chunk = Some(max.max(1));
        self
    }

    /// When on, each call in `direction` moves a random number of bytes between 1 and what
    /// the caller asked for (and the [`max_chunk`](ChaosPlan::max_chunk)).
    pub fn random_chunks(mut self, direction: Direction, on: bool) -> Self {
        self.side_mut(direction).random_chunks = on;
        self
    }

    /// Each call in `direction` fails with `fault` with this probability (clamped to
    /// `0.0..=1.0`), before touching the inner transport. Storms of transient faults are
    /// bounded by [`max_consecutive_faults`](ChaosPlan::max_consecutive_faults), so even a
    /// probability of 1 makes progress.
    pub fn probability(mut self, direction: Direction, fault: Fault, probability: f64) -> Self {
        let p = (probability.clamp(0.0, 1.0) * 65536.0) as u32;
        if p > 0 {
            self.side_mut(direction).storms.push((p, fault));
        }
        self
    }

    /// The call number `call` (0-based, every call in `direction` counts, faulted or not)
    /// fails with `fault`.
    pub fn fault_at_call(mut self, direction: Direction, call: u64, fault: Fault) -> Self {
        self.side_mut(direction).at_call.push((call, fault));
        self
    }

    /// Once exactly `byte` bytes have passed in `direction`, the next call fails with
    /// `fault`: calls are shortened so that they stop at that offset. A transient fault or
    /// an error fires once; [`Fault::Eof`] holds from there on.
    pub fn fault_at_byte(mut self, direction: Direction, byte: u64, fault: Fault) -> Self {
        let side = self.side_mut(direction);
        side.at_byte.push((byte, fault));
        side.at_byte.sort_by_key(|(b, _)| *b);
        self
    }

    /// After this many consecutive injected `Interrupted`/`WouldBlock` faults (from storms)
    /// the next call goes through (default 8).
    pub fn max_consecutive_faults(mut self, n: u32) -> Self {
        self.max_consecutive_faults = n;
        self
    }

    /// Wraps `inner` in a transport that follows this plan.
    pub fn wrap<T>(self, inner: T) -> ChaosTransport<T> {
        ChaosTransport::new(inner, self)
    }
}

/// SplitMix64: small, fast, and good enough to pick chunk sizes.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`), close enough for testing.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Per-direction progress.
#[derive(Debug, Clone, Default)]
struct Progress {
    calls: u64,
    bytes: u64,
    eof: bool,
}

/// A transport that wraps another and misbehaves on purpose, following a [`ChaosPlan`]:
/// reads and writes split into small or random pieces, `Interrupted` and `WouldBlock` at
/// chosen calls or in random storms, an `io::Error` of any kind, an end of stream, or a panic
/// at an exact byte offset. It counts what it did in [`ChaosStats`]. Everything is
/// deterministic for a given plan, seed and sequence of calls.
///
/// It is a `Read + Write` like any other, so it can sit between an [`SslStream`] and its real
/// transport — see [the module documentation](crate::testing) for fuzzing a protocol over TLS
/// with it. `flush` is passed through untouched.
///
/// ```
/// use std::io::{ErrorKind, Read};
/// use sslbridge::testing::{ChaosPlan, Direction, Fault};
///
/// let inner = std::io::Cursor::new(b"hello world".to_vec());
/// let mut chaos = ChaosPlan::new()
///     .max_chunk(Direction::Read, 4)
///     .fault_at_call(Direction::Read, 1, Fault::WouldBlock)
///     .fault_at_byte(Direction::Read, 6, Fault::Eof)
///     .wrap(inner);
/// let mut buf = [0u8; 64];
/// assert_eq!(chaos.read(&mut buf)?, 4);                                   // "hell"
/// assert_eq!(chaos.read(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);
/// assert_eq!(chaos.read(&mut buf)?, 2);                                   // "o ", stops at 6
/// assert_eq!(chaos.read(&mut buf)?, 0);                                   // injected EOF
/// assert_eq!(chaos.stats().would_block, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// [`SslStream`]: crate::SslStream
#[derive(Debug)]
pub struct ChaosTransport<T> {
    inner: T,
    plan: ChaosPlan,
    rng: Rng,
    read: Progress,
    write: Progress,
    consecutive: u32,
    stats: ChaosStats,
}

impl<T> ChaosTransport<T> {
    /// Wraps `inner`, following `plan`.
    pub fn new(inner: T, plan: ChaosPlan) -> ChaosTransport<T> {
        ChaosTransport {
            inner,
            rng: Rng(plan.seed ^ 0x6368_616f_735f_7470),
            plan,
            read: Progress::default(),
            write: Progress::default(),
            consecutive: 0,
            stats: ChaosStats::default(),
        }
    }

    /// Wraps `inner` with the plan [`ChaosPlan::from_bytes`] reads from `script`: the
    /// constructor for fuzzers.
    pub fn from_bytes(inner: T, script: &[u8]) -> ChaosTransport<T> {
        ChaosTransport::new(inner, ChaosPlan::from_bytes(script))
    }

    /// What was seen and injected so far.
    pub fn stats(&self) -> &ChaosStats {
        &self.stats
    }

    /// The plan being followed.
    pub fn plan(&self) -> &ChaosPlan {
        &self.plan
    }

    /// The wrapped transport.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped transport, mutably; using it directly bypasses the plan.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the transport.
    pub fn into_inner(self) -> T {
        self.inner
    }

    /// Decides how one call in `direction` that may move up to `want` bytes goes: an
    /// injected outcome, or the number of bytes to let through.
    fn plan_call(&mut self, direction: Direction, want: usize) -> Result<usize, Injected> {
        let (side, progress) = match direction {
            Direction::Read => (&mut self.plan.read, &mut self.read),
            Direction::Write => (&mut self.plan.write, &mut self.write),
        };
        let call = progress.calls;
        progress.calls += 1;
        match direction {
            Direction::Read => self.stats.reads += 1,
            Direction::Write => self.stats.writes += 1,
        }
        if want == 0 {
            return Ok(0);
        }
        if progress.eof {
            return Err(Injected(Fault::Eof, progress.bytes));
        }
        if let Some(i) = side.at_call.iter().position(|(c, _)| *c == call) {
            let (_, fault) = side.at_call.remove(i);
            return Err(Injected(fault, progress.bytes));
        }
        // Byte-triggered faults: fire the one due now, or stop short of the next.
        let mut limit = want;
        if let Some(&(byte, fault)) = side.at_byte.first() {
            if byte <= progress.bytes {
                side.at_byte.remove(0);
                return Err(Injected(fault, progress.bytes));
            }
            limit = limit.min(usize::try_from(byte - progress.bytes).unwrap_or(usize::MAX));
        }
        if self.consecutive < self.plan.max_consecutive_faults {
            for &(p, fault) in &side.storms {
                if (self.rng.next() & 0xffff) < u64::from(p) {
                    self.consecutive += 1;
                    return Err(Injected(fault, progress.bytes));
                }
            }
        }
        self.consecutive = 0;
        if let Some(max) = side.max_chunk {
            limit = limit.min(max);
        }
        if side.random_chunks && limit > 1 {
            limit = 1 + self.rng.below(limit as u64) as usize;
        }
        Ok(limit)
    }

    /// Turns an injected fault into the call's result, counting it.
    fn inject(
        &mut self,
        direction: Direction,
        Injected(fault, byte): Injected,
    ) -> io::Result<usize> {
        match fault {
            Fault::Interrupted => {
                self.stats.interrupted += 1;
                Err(io::Error::new(
                    ErrorKind::Interrupted,
                    "ChaosTransport: injected Interrupted",
                ))
            }
            Fault::WouldBlock => {
                self.stats.would_block += 1;
                Err(io::Error::new(
                    ErrorKind::WouldBlock,
                    "ChaosTransport: injected WouldBlock",
                ))
            }
            Fault::Error(kind) => {
                self.stats.errors.push((direction, kind));
                Err(io::Error::new(
                    kind,
                    format!("ChaosTransport: injected {kind:?} at {direction} byte {byte}"),
                ))
            }
            Fault::Eof => {
                let progress = match direction {
                    Direction::Read => &mut self.read,
                    Direction::Write => &mut self.write,
                };
                progress.eof = true;
                self.stats.eofs[(direction == Direction::Write) as usize] += 1;
                Ok(0)
            }
            Fault::Panic => {
                self.stats.panics += 1;
                std::panic::panic_any(InjectedPanic { direction, byte })
            }
        }
    }
}

/// A fault chosen for a call, with the byte offset it happened at.
struct Injected(Fault, u64);

impl<T: Read> Read for ChaosTransport<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.plan_call(Direction::Read, buf.len()) {
            Ok(n) => n,
            Err(injected) => return self.inject(Direction::Read, injected),
        };
        let got = self.inner.read(&mut buf[..n])?;
        let got = got.min(n);
        self.read.bytes += got as u64;
        self.stats.bytes_read += got as u64;
        Ok(got)
    }
}

impl<T: Write> Write for ChaosTransport<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match self.plan_call(Direction::Write, buf.len()) {
            Ok(n) => n,
            Err(injected) => return self.inject(Direction::Write, injected),
        };
        let put = self.inner.write(&buf[..n])?;
        let put = put.min(n);
        self.write.bytes += put as u64;
        self.stats.bytes_written += put as u64;
        Ok(put)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stats.flushes += 1;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn transparent_plan_passes_everything() {
        let mut t = ChaosPlan::new().wrap(Cursor::new(vec![1u8; 1000]));
        let mut out = Vec::new();
        t.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 1000);
        assert_eq!(t.stats().interrupted + t.stats().would_block, 0);
    }

    #[test]
    fn byte_faults_fire_at_exact_offsets() {
        let plan = ChaosPlan::new()
            .fault_at_byte(Direction::Write, 5, Fault::Error(ErrorKind::BrokenPipe))
            .fault_at_byte(Direction::Write, 7, Fault::Eof);
        let mut t = plan.wrap(Vec::new());
        assert_eq!(t.write(b"0123456789").unwrap(), 5);
        assert_eq!(t.write(b"56789").unwrap_err().kind(), ErrorKind::BrokenPipe);
        assert_eq!(t.write(b"56789").unwrap(), 2);
        assert_eq!(t.write(b"789").unwrap(), 0);
        assert_eq!(t.write(b"789").unwrap(), 0);
        assert_eq!(t.get_ref(), b"0123456");
        assert!(t.stats().explains(ErrorKind::BrokenPipe));
        assert!(t.stats().explains(ErrorKind::WriteZero));
    }

    #[test]
    fn storms_are_bounded_and_deterministic() {
        let run = |seed| {
            let plan = ChaosPlan::new()
                .seed(seed)
                .random_chunks(Direction::Read, true)
                .probability(Direction::Read, Fault::WouldBlock, 1.0);
            let mut t = plan.wrap(Cursor::new((0..=255u8).collect::<Vec<_>>()));
            let (mut out, mut buf) = (Vec::new(), [0u8; 64]);
            loop {
                match t.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                    Err(e) => assert_eq!(e.kind(), ErrorKind::WouldBlock),
                }
            }
            assert_eq!(out, (0..=255u8).collect::<Vec<_>>());
            t.stats().clone()
        };
        assert_eq!(run(7), run(7));
        assert!(run(7).would_block >= 8);
    }

    #[test]
    fn injected_panic_carries_its_payload() {
        let mut t = ChaosPlan::new()
            .fault_at_byte(Direction::Read, 3, Fault::Panic)
            .wrap(Cursor::new(vec![0u8; 10]));
        let mut buf = [0u8; 10];
        assert_eq!(t.read(&mut buf).unwrap(), 3);
        let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.read(&mut buf)))
            .unwrap_err();
        let injected = payload.downcast_ref::<InjectedPanic>().unwrap();
        assert_eq!(injected.byte, 3);
        assert_eq!(t.stats().panics, 1);
    }

    #[test]
    fn every_byte_string_is_a_plan() {
        for len in 0..64 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 11) as u8).collect();
            let plan = ChaosPlan::from_bytes(&bytes);
            let mut t = plan.wrap(Cursor::new(vec![9u8; 100]));
            let mut buf = [0u8; 16];
            for _ in 0..100 {
                let _ = t.read(&mut buf);
                let _ = t.write(&buf);
            }
            assert_eq!(t.stats().panics, 0);
        }
    }
}

//! Deterministic byte patterns.
//!
//! The main pattern is cheap to make and check in a debug build: byte `i` of stream `seed` is
//! `table[(i + seed * 7919) % PERIOD]`, so filling and checking are slice copies and
//! comparisons (memcpy/memcmp) rather than per-byte arithmetic.

use std::io::{self, Read, Write};
use std::sync::OnceLock;

pub const MIB: usize = 1024 * 1024;

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

/// The byte at `offset` of stream `seed`.
pub fn pattern_byte(seed: u64, offset: u64) -> u8 {
    let mut b = [0u8];
    fill_pattern(seed, offset, &mut b);
    b[0]
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
                .unwrap_or(0);
            panic!(
                "stream {}: byte {} differs from the pattern: got {:#04x}, expected {:#04x}",
                self.seed,
                self.offset + i as u64,
                data[i],
                self.scratch[i]
            );
        }
        self.offset += data.len() as u64;
    }
}

/// Writes `total` pattern bytes in `write_all` calls of at most `chunk` bytes each.
fn write_chunks(w: &mut impl Write, seed: u64, total: u64, chunk: usize) -> io::Result<()> {
    let mut buf = vec![0u8; chunk.min(total as usize).max(1)];
    let mut offset = 0u64;
    while offset < total {
        let n = buf.len().min((total - offset) as usize);
        fill_pattern(seed, offset, &mut buf[..n]);
        w.write_all(&buf[..n])?;
        offset += n as u64;
    }
    Ok(())
}

/// Reads exactly `total` bytes (in reads of at most `buf_len`) and checks them.
fn read_checked(r: &mut impl Read, seed: u64, total: u64, buf_len: usize) -> io::Result<()> {
    let mut checker = PatternChecker::new(seed);
    let mut buf = vec![0u8; buf_len];
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

/// Writes `total` pattern bytes in `write` calls of at most `chunk` bytes each, then flushes.
pub fn write_pattern(w: &mut impl Write, seed: u64, total: u64, chunk: usize) -> io::Result<()> {
    write_chunks(w, seed, total, chunk)?;
    w.flush()
}

/// Reads exactly `total` bytes and checks them against the pattern.
pub fn read_pattern(r: &mut impl Read, seed: u64, total: u64) -> io::Result<()> {
    read_checked(r, seed, total, 256 * 1024)
}

/// Writes `total` pattern bytes of stream `seed` to `w` in `chunk`-sized writes (no flush);
/// panics on an error.
pub fn send_pattern(w: &mut impl Write, seed: u64, total: u64, chunk: usize) {
    write_chunks(w, seed, total, chunk).unwrap_or_else(|e| panic!("send stream {seed}: {e}"));
}

/// Reads exactly `total` pattern bytes of stream `seed` from `r` and checks them; panics on an
/// error or an early end of stream.
pub fn receive_pattern(r: &mut impl Read, seed: u64, total: u64) {
    read_checked(r, seed, total, 64 * 1024)
        .unwrap_or_else(|e| panic!("receive stream {seed}: {e}"));
}

/// Both directions at once over one stream: each round writes one chunk of stream `mine`, then
/// reads the peer's chunk of stream `theirs`. Both peers run this, so neither side's writes can
/// pile up more than one chunk ahead of the other's reads.
pub fn exchange(tls: &mut (impl Read + Write), mine: u64, theirs: u64, total: u64) {
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

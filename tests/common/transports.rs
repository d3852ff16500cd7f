//! Transports that fail, panic or block on cue.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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

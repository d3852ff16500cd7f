//! Per-connection state behind the custom BIO: the transport, the read-ahead buffer, and
//! whatever the last callback could not return through OpenSSL (an `io::Error`, a panic).

use super::first_bytes::FirstBytes;
use super::record::{self, RecordCursor};
use crate::transport::{MemoryPipe, ReadUninitFn, Transport};
use crate::util::PanicSlot;
use std::io::{self, ErrorKind};

/// Default read-ahead capacity: a whole maximal TLS record (16 KiB of plaintext plus header and
/// expansion) fits with room for the next header, so one transport read serves a record.
pub(crate) const DEFAULT_READ_AHEAD: usize = 34 * 1024;

/// Counts of the calls the transport saw, the cost the library controls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TransportStats {
    /// `Read::read` calls that returned data, EOF or an error (not `Interrupted`).
    pub reads: u64,
    /// `Write::write` calls.
    pub writes: u64,
    /// `Write::flush` calls.
    pub flushes: u64,
}

pub(crate) struct BioState {
    /// `None` only while the stream is being torn down. The stream made it from a `Box<T>`
    /// (its transport type) and erased the lifetime; only the stream turns it back into `T`.
    pub(crate) transport: Option<Box<dyn Transport>>,
    /// The transport is a `MemoryPipe` (asked once, when the state is made).
    is_memory_pipe: bool,
    /// The read-ahead buffer: `read_ahead[pos..end]` is data not yet given to OpenSSL, and
    /// every byte below `read_ahead.len()` is initialised (a generic transport's `read` only
    /// ever sees initialised memory).
    read_ahead: Vec<u8>,
    /// The sizes below are `u32`s, not `usize`s: every connection carries them, and a
    /// read-ahead buffer is at most `read_ahead_capacity` (clamped to [`MAX_READ_AHEAD`]).
    read_ahead_capacity: u32,
    /// How much a fill may read: it starts small and doubles each time a read fills it, up to
    /// the capacity. So a connection that only exchanges small messages holds a small buffer,
    /// and a streaming one reads whole records (or several) at once.
    window: u32,
    /// The most one fill brought since the buffer was last released: the next buffer is
    /// sized by it, so a connection that is idle between small messages does not allocate
    /// (and zero) a large window each time.
    largest_fill: u32,
    pos: u32,
    end: u32,
    /// The transport returned EOF and nothing buffered remains.
    pub(crate) eof: bool,
    /// The transport's last error, kept for the stream to return with its own kind.
    pub(crate) error: Option<io::Error>,
    /// A panic caught inside a callback (the BIO's or any other of the connection's),
    /// resumed by the stream after the `SSL_*` call: the first of a call, the cause of any
    /// later one (which is forgotten, see `park_panic`).
    pub(crate) panic: PanicSlot,
    pub(crate) stats: TransportStats,
    /// The transport reported `TimedOut`; the stream turns the retry into a timeout error.
    pub(crate) timed_out: bool,
    /// The transport's descriptor, when known, answered to `BIO_C_GET_FD` (-1 when not: a
    /// plain `c_int`, half the size of an `Option`).
    pub(crate) fd: std::os::raw::c_int,
    /// Record boundaries of what was handed to OpenSSL: the in-memory pipe's direct hand-off
    /// stops at them, and only from one can waiting records be counted.
    record: RecordCursor,
    /// The first bytes the transport delivered (up to
    /// [`FIRST_BYTES`](super::first_bytes::FIRST_BYTES)), to explain a peer that does not
    /// speak TLS. On the fd path, where no bytes pass through here, the message callback puts
    /// the first record header OpenSSL saw here instead.
    pub(crate) first_bytes: FirstBytes,
    /// Reads must not wait (the stream reading beyond the bytes it already has): with nothing
    /// buffered they call the transport only when that cannot wait (see
    /// [`can_read_without_waiting`](Self::can_read_without_waiting)), and otherwise report
    /// "would block".
    no_wait: bool,
    /// The transport never waits: it says "would block" instead (the async adapter, whose
    /// `Pending` is that). Set by the stream, which knows the transport's type.
    pub(crate) never_waits: bool,
    /// The transport reads with one `read(2)` of `fd` (a type sslbridge knows), so once `poll`
    /// says `fd` has something, a read cannot wait. Set with `fd`, on the custom BIO.
    pub(crate) poll_then_read: bool,
    /// The transport can read into uninitialised memory (set by the stream, which knows the
    /// transport's type): fills then skip zeroing a fresh read-ahead buffer.
    pub(crate) read_uninit: Option<ReadUninitFn>,
}

/// The smallest read window: a handshake flight or a small record in one read.
const MIN_WINDOW: u32 = 4096;

/// The largest read-ahead buffer: larger capacities are clamped to it (the sizes are `u32`).
pub(crate) const MAX_READ_AHEAD: usize = 1 << 30;

impl BioState {
    pub(crate) fn new(transport: Box<dyn Transport>, read_ahead_capacity: usize) -> BioState {
        let capacity = read_ahead_capacity.clamp(1, MAX_READ_AHEAD) as u32;
        BioState {
            is_memory_pipe: transport.capabilities().memory_pipe,
            transport: Some(transport),
            read_ahead: Vec::new(),
            read_ahead_capacity: capacity,
            window: MIN_WINDOW.min(capacity),
            largest_fill: 0,
            pos: 0,
            end: 0,
            eof: false,
            error: None,
            panic: PanicSlot::default(),
            stats: TransportStats::default(),
            timed_out: false,
            fd: -1,
            record: RecordCursor::default(),
            first_bytes: FirstBytes::default(),
            no_wait: false,
            never_waits: false,
            poll_then_read: false,
            read_uninit: None,
        }
    }

    fn transport(&mut self) -> io::Result<&mut dyn Transport> {
        match self.transport.as_deref_mut() {
            Some(t) => Ok(t),
            None => Err(io::Error::new(
                ErrorKind::NotConnected,
                "the transport was taken from the stream",
            )),
        }
    }

    /// The transport, when it is sslbridge's own `MemoryPipe`.
    pub(crate) fn memory_pipe(&mut self) -> Option<&mut MemoryPipe> {
        if !self.is_memory_pipe {
            return None;
        }
        self.transport
            .as_deref_mut()
            .and_then(Transport::memory_pipe)
    }

    /// Completes the first bytes kept for diagnosis (up to
    /// [`FIRST_BYTES`](super::first_bytes::FIRST_BYTES)) with bytes already received but not
    /// yet handed to OpenSSL, without consuming them: OpenSSL may have asked only for a record
    /// header before giving up on a peer that does not speak TLS.
    pub(crate) fn top_up_first_bytes(&mut self) {
        let missing = self.first_bytes.missing();
        if missing == 0 || self.first_bytes.is_empty() {
            return;
        }
        let more = match self.memory_pipe() {
            Some(pipe) => pipe.peek_bytes(missing),
            None => {
                let pos = self.pos as usize;
                let end = (self.end as usize).min(pos + missing);
                self.read_ahead[pos..end].to_vec()
            }
        };
        self.first_bytes.keep(&more);
    }

    /// Makes reads report "would block" rather than wait for the transport (`true`), or wait
    /// as usual again (`false`). Meanwhile a `MemoryPipe` is read without waiting, and other
    /// transports only when that cannot wait (see
    /// [`can_read_without_waiting`](Self::can_read_without_waiting)).
    pub(crate) fn set_no_wait(&mut self, no_wait: bool) {
        self.no_wait = no_wait;
    }

    /// How many whole TLS records wait to be handed to OpenSSL, counting stops at `max`:
    /// reading that many cannot block. In the read-ahead buffer, or in the `MemoryPipe`
    /// (none when the hand-off stopped inside a record, whose rest cannot be told from a
    /// record of its own).
    pub(crate) fn complete_records(&mut self, max: usize) -> usize {
        if !self.record.at_boundary() {
            return 0;
        }
        if self.is_memory_pipe {
            return self
                .memory_pipe()
                .map_or(0, |pipe| pipe.complete_records(max));
        }
        record::count_complete(&self.read_ahead[self.pos as usize..self.end as usize], max)
    }

    /// Whether a transport read now cannot wait: the transport never waits, or it reads its
    /// descriptor with one `read(2)` and the descriptor has something to read (data, EOF or
    /// an error: `poll` with no timeout). Of any other transport nothing can be told: its
    /// `Read` might wait (even one over a known descriptor, such as an `FdTransport`, may
    /// want more than has arrived).
    fn can_read_without_waiting(&self) -> bool {
        if self.never_waits {
            return true;
        }
        #[cfg(unix)]
        if self.poll_then_read && self.fd >= 0 {
            return crate::ffi::posix::readable_now(self.fd);
        }
        false
    }

    /// Bytes read from the transport but not yet given to OpenSSL.
    pub(crate) fn buffered(&self) -> usize {
        (self.end - self.pos) as usize
    }

    /// Frees the read-ahead buffer if it holds nothing (the connection is idle). The next one
    /// is sized for the largest read since the last release.
    pub(crate) fn release_if_empty(&mut self) {
        if self.buffered() == 0 && self.read_ahead.capacity() > 0 {
            self.read_ahead = Vec::new();
            self.pos = 0;
            self.end = 0;
            let fitted = self.largest_fill.max(1).next_power_of_two().max(MIN_WINDOW);
            self.window = fitted.min(self.read_ahead_capacity);
            self.largest_fill = 0;
        }
    }

    /// Whether the transport reported EOF and nothing is buffered.
    pub(crate) fn at_eof(&self) -> bool {
        self.eof && self.buffered() == 0
    }

    /// Fills `out` (up to `len` bytes at `out`) from the read-ahead buffer, reading the
    /// transport once when the buffer is empty. Returns 0 at EOF.
    ///
    /// # Safety
    /// `out` is valid for writes of `len` bytes. It may be uninitialised: it is only written
    /// through raw copies, and only its initialised prefix is ever viewed as a slice.
    pub(crate) unsafe fn read_into(&mut self, out: *mut u8, len: usize) -> io::Result<usize> {
        if len == 0 {
            return Ok(0);
        }
        if self.buffered() == 0 {
            if let Some(pipe) = self
                .is_memory_pipe
                .then(|| {
                    self.transport
                        .as_deref_mut()
                        .and_then(Transport::memory_pipe)
                })
                .flatten()
            {
                // Zero-copy hand-off: the pipe copies straight into OpenSSL's buffer, one
                // record at most (see `record`).
                let cursor = &mut self.record;
                let no_wait = self.no_wait;
                // SAFETY: `out` is valid for `len` bytes (this function's contract).
                let result =
                    unsafe { pipe.read_raw_limited(out, len, no_wait, |peek| cursor.limit(peek)) };
                self.stats.reads += 1;
                if let Ok(n) = result {
                    // SAFETY: read_raw_limited initialised `out[..n]`.
                    let delivered = unsafe { std::slice::from_raw_parts(out, n) };
                    cursor.consume(delivered);
                    self.first_bytes.keep(delivered);
                }
                self.eof = matches!(result, Ok(0));
                return result;
            }
            if self.no_wait && !self.can_read_without_waiting() {
                return Err(ErrorKind::WouldBlock.into());
            }
            self.fill()?;
            if self.buffered() == 0 {
                return Ok(0);
            }
        }
        let n = len.min(self.buffered());
        let pos = self.pos as usize;
        // SAFETY: `pos..pos + n` lies inside the initialised part of the buffer, `out` is
        // valid for `len >= n` bytes (caller's contract), and the two cannot overlap (ours is
        // a private heap allocation).
        unsafe { std::ptr::copy_nonoverlapping(self.read_ahead.as_ptr().add(pos), out, n) };
        self.record.consume(&self.read_ahead[pos..pos + n]);
        // n ≤ buffered(), so pos + n ≤ end, a u32.
        self.pos += n as u32;
        Ok(n)
    }

    /// One transport read into the empty read-ahead buffer (retrying `Interrupted`).
    fn fill(&mut self) -> io::Result<()> {
        let want = self.window as usize;
        if self.read_ahead.capacity() < want {
            // The buffer is empty here, so growing copies nothing.
            self.read_ahead = Vec::with_capacity(want);
        }
        self.pos = 0;
        self.end = 0;
        loop {
            let transport = match self.transport.as_deref_mut() {
                Some(t) => t,
                None => return Err(io::Error::new(ErrorKind::NotConnected, "no transport")),
            };
            let result = match self.read_uninit {
                Some(read_uninit) => {
                    // Into the spare capacity: nothing to zero, and the length then covers
                    // exactly what the transport initialised.
                    self.read_ahead.clear();
                    let spare = &mut self.read_ahead.spare_capacity_mut()[..want];
                    // SAFETY: the stream set `read_uninit` for its own transport's type, and
                    // this is that transport.
                    let result = unsafe { read_uninit(transport, spare) };
                    if let Ok(n) = result {
                        // SAFETY: ReadUninit's contract: the first n (<= want <= capacity)
                        // bytes are initialised now.
                        unsafe { self.read_ahead.set_len(n.min(want)) };
                    }
                    result
                }
                None => {
                    if self.read_ahead.len() < want {
                        self.read_ahead.resize(want, 0);
                    }
                    transport.read(&mut self.read_ahead[..want])
                }
            };
            match result {
                Ok(0) => {
                    self.stats.reads += 1;
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.stats.reads += 1;
                    // A transport claiming more than it was given is broken; never trust it
                    // with an out-of-bounds index.
                    let end = n.min(want).min(self.read_ahead.len());
                    // end ≤ want = window ≤ read_ahead_capacity, a u32.
                    self.end = end as u32;
                    self.largest_fill = self.largest_fill.max(self.end);
                    self.first_bytes.keep(&self.read_ahead[..end]);
                    if end == want {
                        self.window = self.window.saturating_mul(2).min(self.read_ahead_capacity);
                    }
                    self.eof = false;
                    return Ok(());
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.stats.reads += 1;
                    return Err(e);
                }
            }
        }
    }

    /// Writes some of `data` to the transport (retrying `Interrupted`).
    pub(crate) fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        loop {
            let transport = self.transport()?;
            match transport.write(data) {
                Ok(0) if !data.is_empty() => {
                    self.stats.writes += 1;
                    return Err(io::Error::new(
                        ErrorKind::WriteZero,
                        "the transport accepted no bytes",
                    ));
                }
                Ok(n) => {
                    self.stats.writes += 1;
                    return Ok(n.min(data.len()));
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.stats.writes += 1;
                    return Err(e);
                }
            }
        }
    }

    /// Flushes the transport (retrying `Interrupted`).
    pub(crate) fn flush(&mut self) -> io::Result<()> {
        loop {
            let transport = self.transport()?;
            match transport.flush() {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                result => {
                    self.stats.flushes += 1;
                    return result;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Pure Rust: run under Miri too (`cargo +nightly miri test --lib`), which checks the raw
    //! copies into uninitialised memory and the pointer discipline shared with OpenSSL.

    use super::*;
    use crate::bio::method::guarded;
    use crate::stream::SharedWithOpenSsl;
    use std::collections::VecDeque;
    use std::io::{Read, Write};
    use std::mem::MaybeUninit;

    /// A transport that replays scripted reads: data, errors, or a panic.
    enum Step {
        Data(Vec<u8>),
        Fail(ErrorKind),
        Panic,
    }

    struct Scripted {
        steps: VecDeque<Step>,
        written: Vec<u8>,
    }

    impl Read for Scripted {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.steps.pop_front() {
                None => Ok(0),
                Some(Step::Data(mut data)) => {
                    let n = data.len().min(buf.len());
                    buf[..n].copy_from_slice(&data[..n]);
                    if n < data.len() {
                        self.steps.push_front(Step::Data(data.split_off(n)));
                    }
                    Ok(n)
                }
                Some(Step::Fail(kind)) => Err(kind.into()),
                Some(Step::Panic) => panic!("scripted transport panic"),
            }
        }
    }

    impl Write for Scripted {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn scripted(steps: Vec<Step>) -> Box<dyn Transport> {
        Box::new(Scripted {
            steps: steps.into(),
            written: Vec::new(),
        })
    }

    /// What OpenSSL's read callback does: ask for up to `len` bytes into its own
    /// (uninitialised) buffer through the pointer it was given.
    fn c_reads(state: *mut BioState, len: usize) -> Result<Vec<u8>, Option<ErrorKind>> {
        let mut buf: Vec<MaybeUninit<u8>> = Vec::with_capacity(len);
        // SAFETY: `state` is live and no Rust reference to it is live (the test's contract);
        // `buf` has room for `len` bytes and is only written through raw copies.
        let result = unsafe {
            guarded(state, Err(None), |s| {
                s.read_into(buf.as_mut_ptr().cast::<u8>(), len)
                    .map_err(|e| Some(e.kind()))
            })
        };
        result.map(|n| {
            // SAFETY: read_into initialised the first n bytes.
            unsafe { buf.set_len(n) };
            buf.into_iter()
                // SAFETY: every element below n was initialised.
                .map(|b| unsafe { b.assume_init() })
                .collect()
        })
    }

    #[test]
    fn read_ahead_serves_small_reads_from_one_transport_read() {
        let shared = SharedWithOpenSsl::new(BioState::new(
            scripted(vec![Step::Data(b"hello, record layer".to_vec())]),
            1024,
        ));
        let held_by_c = shared.as_ptr();
        let mut got = Vec::new();
        for _ in 0..4 {
            got.extend(c_reads(held_by_c, 5).unwrap());
        }
        assert_eq!(got, b"hello, record layer");
        assert_eq!(
            shared.get().stats.reads,
            1,
            "one transport read for all four"
        );
        assert_eq!(c_reads(held_by_c, 5).unwrap(), b"");
        assert!(shared.get().at_eof());
    }

    #[test]
    fn stream_writes_between_callbacks_keep_the_c_pointer_valid() {
        let mut shared = SharedWithOpenSsl::new(BioState::new(
            scripted(vec![
                Step::Data(b"abc".to_vec()),
                Step::Fail(ErrorKind::ConnectionReset),
                Step::Data(b"def".to_vec()),
            ]),
            16,
        ));
        let held_by_c = shared.as_ptr();
        assert_eq!(c_reads(held_by_c, 8).unwrap(), b"abc");
        // The stream's own accesses between SSL_* calls, as after every call.
        shared.get_mut().timed_out = false;
        shared.get_mut().release_if_empty();
        assert_eq!(
            c_reads(held_by_c, 8).unwrap_err(),
            Some(ErrorKind::ConnectionReset)
        );
        assert!(
            shared.get_mut().error.take().is_none(),
            "guarded leaves errors to fail()"
        );
        assert_eq!(c_reads(held_by_c, 8).unwrap(), b"def");
        // Moving the owner (returning a stream) keeps C's pointer valid.
        let moved = shared;
        assert_eq!(c_reads(held_by_c, 8).unwrap(), b"");
        assert_eq!(moved.get().stats.reads, 4);
    }

    /// A scripted transport that reads into uninitialised memory, as the async adapter does.
    /// Each read writes only the bytes it returns, so Miri flags any use of the rest.
    // SAFETY: read_uninit returns n <= buf.len() after initialising buf[..n].
    unsafe impl crate::transport::ReadUninit for Scripted {
        fn read_uninit(&mut self, buf: &mut [MaybeUninit<u8>]) -> io::Result<usize> {
            let mut bytes = vec![0u8; buf.len()];
            let n = self.read(&mut bytes)?;
            for (slot, byte) in buf.iter_mut().zip(&bytes[..n]) {
                slot.write(*byte);
            }
            Ok(n)
        }
    }

    #[test]
    fn fills_through_read_uninit_use_only_what_the_transport_wrote() {
        let shared = SharedWithOpenSsl::new(BioState::new(
            scripted(vec![
                Step::Data(b"first fill".to_vec()),
                Step::Data(b"second".to_vec()),
            ]),
            64,
        ));
        let held_by_c = shared.as_ptr();
        // SAFETY: no reference to the state is live; the transport is a Scripted.
        unsafe {
            (*held_by_c).read_uninit = Some(crate::transport::read_uninit_as::<Scripted>);
        }
        assert_eq!(c_reads(held_by_c, 5).unwrap(), b"first");
        assert_eq!(c_reads(held_by_c, 64).unwrap(), b" fill");
        // Idle: the buffer is freed, and the next fill takes a fresh, never-zeroed one.
        // SAFETY: as above; the callback has returned.
        unsafe { (*held_by_c).release_if_empty() };
        assert_eq!(c_reads(held_by_c, 64).unwrap(), b"second");
        assert_eq!(c_reads(held_by_c, 64).unwrap(), b"");
        assert_eq!(shared.get().stats.reads, 3);
        assert!(shared.get().at_eof());
    }

    #[test]
    fn a_panicking_transport_is_parked_not_unwound_into_c() {
        let mut shared = SharedWithOpenSsl::new(BioState::new(scripted(vec![Step::Panic]), 64));
        let held_by_c = shared.as_ptr();
        assert_eq!(
            c_reads(held_by_c, 8).unwrap_err(),
            None,
            "on_panic returned"
        );
        let payload = shared.get_mut().panic.take().expect("the panic is parked");
        assert_eq!(
            payload.downcast_ref::<&str>().copied(),
            Some("scripted transport panic")
        );
    }

    #[test]
    fn memory_pipe_hands_over_one_record_per_read() {
        let (mut peer, ours) = crate::transport::duplex(4096);
        // Two records (3- and 2-byte bodies) and the start of a third, in one write.
        peer.write_all(&[
            23, 3, 3, 0, 3, b'a', b'b', b'c', 23, 3, 3, 0, 2, b'x', b'y', 23, 3,
        ])
        .unwrap();
        let shared = SharedWithOpenSsl::new(BioState::new(Box::new(ours), 64));
        let held_by_c = shared.as_ptr();
        assert_eq!(
            c_reads(held_by_c, 100).unwrap(),
            [23, 3, 3, 0, 3, b'a', b'b', b'c']
        );
        assert_eq!(
            c_reads(held_by_c, 100).unwrap(),
            [23, 3, 3, 0, 2, b'x', b'y']
        );
        assert_eq!(c_reads(held_by_c, 100).unwrap(), [23, 3]);
        drop(peer);
        assert_eq!(c_reads(held_by_c, 100).unwrap(), b"");
        assert_eq!(shared.get().stats.reads, 4);
    }
}

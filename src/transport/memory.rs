//! [`MemoryPipe`]: sslbridge's own in-memory transport, and [`duplex`], which makes a
//! connected pair.

use bytes::BytesMut;
use std::io::{self, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A ring buffer on a `BytesMut`: bytes never move once written, so a busy pipe copies each
/// byte exactly twice (in, out) however full it runs. It grows by doubling up to the pipe's
/// capacity, so an idle pipe holds little.
#[derive(Default)]
struct Ring {
    storage: BytesMut,
    head: usize,
    len: usize,
}

impl Ring {
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The i-th unread byte, if there is one.
    fn peek(&self, i: usize) -> Option<u8> {
        (i < self.len).then(|| self.storage[(self.head + i) % self.storage.len()])
    }

    /// The unread bytes as two slices, in order (the second is empty unless they wrap).
    fn as_slices(&self) -> (&[u8], &[u8]) {
        if self.len == 0 {
            return (&[], &[]);
        }
        let cap = self.storage.len();
        let first = self.len.min(cap - self.head);
        (
            &self.storage[self.head..self.head + first],
            &self.storage[..self.len - first],
        )
    }

    /// Appends `data`; the caller guarantees `len + data.len() <= limit`.
    fn push(&mut self, data: &[u8], limit: usize) {
        let needed = self.len + data.len();
        if needed > self.storage.len() {
            let ceiling = limit.max(needed);
            self.grow(needed.next_power_of_two().max(4096).min(ceiling));
        }
        let cap = self.storage.len();
        let tail = (self.head + self.len) % cap;
        let first = data.len().min(cap - tail);
        self.storage[tail..tail + first].copy_from_slice(&data[..first]);
        self.storage[..data.len() - first].copy_from_slice(&data[first..]);
        self.len += data.len();
    }

    /// Copies up to `max` bytes out to `dst` and removes them.
    ///
    /// # Safety
    /// `dst` is valid for writes of `max` bytes and does not overlap the ring.
    unsafe fn pop_into(&mut self, dst: *mut u8, max: usize) -> usize {
        let n = max.min(self.len);
        if n == 0 {
            return 0;
        }
        let cap = self.storage.len();
        let first = n.min(cap - self.head);
        // SAFETY: both source ranges lie inside the initialised storage; `dst` holds `max >= n`
        // bytes (caller's contract).
        unsafe {
            std::ptr::copy_nonoverlapping(self.storage.as_ptr().add(self.head), dst, first);
            std::ptr::copy_nonoverlapping(self.storage.as_ptr(), dst.add(first), n - first);
        }
        self.head = (self.head + n) % cap;
        self.len -= n;
        if self.len == 0 {
            self.head = 0;
        }
        n
    }

    /// Re-lays the ring out in a larger zeroed storage.
    fn grow(&mut self, new_cap: usize) {
        let mut storage = BytesMut::zeroed(new_cap);
        let cap = self.storage.len();
        if self.len > 0 {
            let first = self.len.min(cap - self.head);
            storage[..first].copy_from_slice(&self.storage[self.head..self.head + first]);
            storage[first..self.len].copy_from_slice(&self.storage[..self.len - first]);
        }
        self.storage = storage;
        self.head = 0;
    }
}

/// One direction of a [`duplex`] pipe.
struct Channel {
    data: Ring,
    capacity: usize,
    writer_closed: bool,
    reader_closed: bool,
    /// Someone sleeps on `changed`: only then is a wake-up (a futex system call) needed.
    waiters: usize,
}

struct Shared {
    channel: Mutex<Channel>,
    changed: Condvar,
}

impl Shared {
    fn new(capacity: usize) -> Arc<Shared> {
        Arc::new(Shared {
            channel: Mutex::new(Channel {
                data: Ring::default(),
                capacity,
                writer_closed: false,
                reader_closed: false,
                waiters: 0,
            }),
            changed: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Channel> {
        // A panic while holding the lock leaves the byte buffer consistent (every update is a
        // single call), so a poisoned lock is still usable.
        self.channel.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a change, honouring an optional deadline; `Err` means the deadline passed.
    fn wait<'a>(
        &self,
        mut guard: MutexGuard<'a, Channel>,
        deadline: Option<Instant>,
    ) -> Result<MutexGuard<'a, Channel>, MutexGuard<'a, Channel>> {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            return Err(guard);
        }
        guard.waiters += 1;
        let mut guard = match deadline {
            None => self.changed.wait(guard).unwrap_or_else(|p| p.into_inner()),
            Some(deadline) => {
                self.changed
                    .wait_timeout(guard, deadline - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0
            }
        };
        guard.waiters -= 1;
        Ok(guard)
    }

    /// Wakes sleepers after a change, skipping the system call when nobody sleeps.
    fn notify(&self, guard: MutexGuard<'_, Channel>) {
        let sleeping = guard.waiters > 0;
        drop(guard);
        if sleeping {
            self.changed.notify_all();
        }
    }
}

/// One end of an in-memory, bidirectional byte pipe made by [`duplex`].
///
/// Blocking by default, like a socket: a read waits for data, a write waits for room.
/// [`set_nonblocking(true)`](MemoryPipe::set_nonblocking) makes both return
/// `WouldBlock` instead. Dropping an end gives the other end EOF on read and `BrokenPipe` on
/// write.
pub struct MemoryPipe {
    incoming: Arc<Shared>,
    outgoing: Arc<Shared>,
    nonblocking: bool,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// The deadline of the TLS operation in progress, set by the stream that owns this end;
    /// blocking waits end there too (with `TimedOut`).
    stream_deadline: Option<Instant>,
}

/// Two connected [`MemoryPipe`] ends; each direction buffers up to `capacity` bytes (at least 1).
///
/// ```
/// use std::io::{Read, Write};
/// let (mut a, mut b) = sslbridge::duplex(64 * 1024);
/// a.write_all(b"ping")?;
/// let mut buf = [0u8; 4];
/// b.read_exact(&mut buf)?;
/// assert_eq!(&buf, b"ping");
/// drop(a);
/// assert_eq!(b.read(&mut buf)?, 0); // the other end is gone: EOF
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn duplex(capacity: usize) -> (MemoryPipe, MemoryPipe) {
    let capacity = capacity.max(1);
    let a_to_b = Shared::new(capacity);
    let b_to_a = Shared::new(capacity);
    let a = MemoryPipe::new(b_to_a.clone(), a_to_b.clone());
    let b = MemoryPipe::new(a_to_b, b_to_a);
    (a, b)
}

impl MemoryPipe {
    fn new(incoming: Arc<Shared>, outgoing: Arc<Shared>) -> MemoryPipe {
        MemoryPipe {
            incoming,
            outgoing,
            nonblocking: false,
            read_timeout: None,
            write_timeout: None,
            stream_deadline: None,
        }
    }

    /// Bounds blocking waits by the deadline of the stream's operation in progress.
    pub(crate) fn set_stream_deadline(&mut self, deadline: Option<Instant>) {
        self.stream_deadline = deadline;
    }

    /// In non-blocking mode reads and writes that cannot proceed return `WouldBlock`.
    pub fn set_nonblocking(&mut self, nonblocking: bool) {
        self.nonblocking = nonblocking;
    }

    /// Whether the end is in non-blocking mode.
    pub fn is_nonblocking(&self) -> bool {
        self.nonblocking
    }

    /// A blocking read waits at most this long, then fails with `TimedOut`.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) {
        self.read_timeout = timeout;
    }

    /// A blocking write waits at most this long for room, then fails with `TimedOut`.
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) {
        self.write_timeout = timeout;
    }

    /// Closes the writing direction: the other end reads EOF once it has drained what was
    /// written, while this end can still read.
    pub fn shutdown_write(&mut self) {
        self.outgoing.lock().writer_closed = true;
        self.outgoing.changed.notify_all();
    }

    /// Up to `n` of the bytes waiting to be read, without consuming them.
    pub(crate) fn peek_bytes(&self, n: usize) -> Vec<u8> {
        let channel = self.incoming.lock();
        (0..n).map_while(|i| channel.data.peek(i)).collect()
    }

    /// How many whole TLS records (5-byte header and the body it announces) wait to be read,
    /// counting stops at `max`, given that the unread bytes start with a record: reading that
    /// many cannot block.
    pub(crate) fn complete_records(&self, max: usize) -> usize {
        let channel = self.incoming.lock();
        let ring = &channel.data;
        // Headers are looked up by offset: through the two slices, without a division per byte.
        let (a, b) = ring.as_slices();
        let peek = |i: usize| match a.get(i) {
            Some(&byte) => Some(byte),
            None => b.get(i - a.len()).copied(),
        };
        crate::bio::count_complete_records(peek, ring.len(), max)
    }

    /// Bytes written by the other end and not yet read by this one.
    pub fn available(&self) -> usize {
        self.incoming.lock().data.len()
    }

    /// The end of a blocking wait: this end's own timeout or the stream's deadline, whichever
    /// comes first.
    fn deadline(&self, timeout: Option<Duration>) -> Option<Instant> {
        let own = timeout.and_then(|t| Instant::now().checked_add(t));
        match (own, self.stream_deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl MemoryPipe {
    /// Reads up to `len` bytes into `dst`, which may be uninitialised: the bytes are copied
    /// with a raw copy, never through a `&mut [u8]`. This is how the BIO hands data straight
    /// into OpenSSL's record buffer without an intermediate copy.
    ///
    /// # Safety
    /// `dst` is valid for writes of `len` bytes and does not overlap the pipe's buffer.
    pub(crate) unsafe fn read_raw(&mut self, dst: *mut u8, len: usize) -> io::Result<usize> {
        // SAFETY: forwarded contract.
        unsafe { self.read_raw_limited(dst, len, false, |_| usize::MAX) }
    }

    /// Like [`read_raw`](MemoryPipe::read_raw), but copies at most `limit(peek)` bytes, where
    /// `peek(i)` is the i-th available byte (`None` past the end). This lets the BIO stop at
    /// a TLS record boundary without a second copy. With `no_wait`, an empty pipe is
    /// `WouldBlock` even in blocking mode.
    ///
    /// # Safety
    /// As for `read_raw`.
    pub(crate) unsafe fn read_raw_limited(
        &mut self,
        dst: *mut u8,
        len: usize,
        no_wait: bool,
        limit: impl FnOnce(&dyn Fn(usize) -> Option<u8>) -> usize,
    ) -> io::Result<usize> {
        if len == 0 {
            return Ok(0);
        }
        let deadline = self.deadline(self.read_timeout);
        let shared = &*self.incoming;
        let mut channel = shared.lock();
        while channel.data.is_empty() {
            if channel.writer_closed {
                return Ok(0);
            }
            if self.nonblocking || no_wait {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            channel = shared.wait(channel, deadline).map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, "MemoryPipe read timed out")
            })?;
        }
        let ring = &channel.data;
        let max = limit(&|i| ring.peek(i)).max(1);
        // SAFETY: `dst` is valid for `len` bytes (caller's contract) and is not our buffer.
        let n = unsafe { channel.data.pop_into(dst, len.min(max)) };
        shared.notify(channel);
        Ok(n)
    }
}

impl Read for MemoryPipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is a valid, exclusive, writable slice of its length.
        unsafe { self.read_raw(buf.as_mut_ptr(), buf.len()) }
    }
}

impl Write for MemoryPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = self.deadline(self.write_timeout);
        let shared = &*self.outgoing;
        let mut channel = shared.lock();
        loop {
            if channel.reader_closed || channel.writer_closed {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the other end of the MemoryPipe is closed",
                ));
            }
            if channel.data.len() < channel.capacity {
                break;
            }
            if self.nonblocking {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            channel = shared.wait(channel, deadline).map_err(|_| {
                io::Error::new(io::ErrorKind::TimedOut, "MemoryPipe write timed out")
            })?;
        }
        let n = buf.len().min(channel.capacity - channel.data.len());
        let limit = channel.capacity;
        channel.data.push(&buf[..n], limit);
        shared.notify(channel);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for MemoryPipe {
    fn drop(&mut self) {
        self.outgoing.lock().writer_closed = true;
        self.outgoing.changed.notify_all();
        self.incoming.lock().reader_closed = true;
        self.incoming.changed.notify_all();
    }
}

impl std::fmt::Debug for MemoryPipe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryPipe")
            .field("nonblocking", &self.nonblocking)
            .field("available", &self.available())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_of_a_wrapped_ring_are_its_bytes_in_order() {
        let mut ring = Ring::default();
        assert_eq!(ring.as_slices(), (&[][..], &[][..]));
        let first: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
        ring.push(&first, 4096);
        let mut out = vec![0u8; 3000];
        // SAFETY: `out` holds 3000 writable bytes of its own.
        assert_eq!(unsafe { ring.pop_into(out.as_mut_ptr(), 3000) }, 3000);
        // 1,000 left at the end of the 4,096-byte storage; 2,000 more wrap to the front.
        let second: Vec<u8> = (0..2000u32).map(|i| (i * 7) as u8).collect();
        ring.push(&second, 4096);
        let (a, b) = ring.as_slices();
        assert!(!b.is_empty(), "the bytes wrap");
        let joined = [a, b].concat();
        assert_eq!(joined, [&first[3000..], &second[..]].concat());
        assert!((0..ring.len()).all(|i| ring.peek(i) == Some(joined[i])));
    }

    #[test]
    fn whole_records_are_counted_across_the_wrap() {
        let record = |body: usize| {
            let mut r = vec![23, 3, 3];
            r.extend_from_slice(&(body as u16).to_be_bytes());
            r.resize(5 + body, 0xab);
            r
        };
        let (mut a, mut b) = duplex(4096);
        // 2,990 filler bytes read away, so the ring's unread bytes start with the first record
        // near the end of its 4,096-byte storage, and the next records wrap to the front.
        a.write_all(&[0u8; 2990]).unwrap();
        a.write_all(&record(1000)).unwrap();
        b.read_exact(&mut [0u8; 2990]).unwrap();
        let rest = [record(900), record(10)].concat();
        a.write_all(&rest[..rest.len() - 1]).unwrap(); // the last record lacks a byte
        let channel = b.incoming.lock();
        assert!(!channel.data.as_slices().1.is_empty(), "the bytes wrap");
        drop(channel);
        assert_eq!(b.complete_records(8), 2);
        assert_eq!(b.complete_records(1), 1);
        a.write_all(&rest[rest.len() - 1..]).unwrap();
        assert_eq!(b.complete_records(8), 3);
    }

    #[test]
    fn nonblocking_end_reports_would_block_both_ways() {
        let (mut a, mut b) = duplex(4);
        a.set_nonblocking(true);
        b.set_nonblocking(true);
        let mut buf = [0u8; 8];
        assert_eq!(
            b.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        assert_eq!(a.write(b"abcdef").unwrap(), 4);
        assert_eq!(a.write(b"x").unwrap_err().kind(), io::ErrorKind::WouldBlock);
        assert_eq!(b.read(&mut buf).unwrap(), 4);
        assert_eq!(&buf[..4], b"abcd");
    }

    #[test]
    fn write_to_a_dropped_end_is_broken_pipe() {
        let (mut a, b) = duplex(16);
        drop(b);
        assert_eq!(a.write(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn read_timeout_expires() {
        let (mut a, _b) = duplex(16);
        a.set_read_timeout(Some(Duration::from_millis(20)));
        let mut buf = [0u8; 1];
        assert_eq!(
            a.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::TimedOut
        );
    }

    /// The ring wraps around its storage while bytes go out through the raw hand-off into
    /// uninitialised memory (the path into OpenSSL's buffer); Miri checks every copy.
    #[test]
    fn ring_wraps_around_through_the_raw_hand_off() {
        let (mut a, mut b) = duplex(8);
        let mut next = 0u8;
        let mut expected = 0u8;
        for _ in 0..20 {
            let chunk: Vec<u8> = (0..5)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            assert_eq!(a.write(&chunk).unwrap(), 5);
            for want in [3usize, 2] {
                let mut out = [std::mem::MaybeUninit::<u8>::uninit(); 4];
                // SAFETY: `out` is a private buffer with room for 4 bytes.
                let n = unsafe { b.read_raw(out.as_mut_ptr().cast::<u8>(), want) }.unwrap();
                assert_eq!(n, want);
                for byte in &out[..n] {
                    expected = expected.wrapping_add(1);
                    // SAFETY: read_raw initialised the first n bytes.
                    assert_eq!(unsafe { byte.assume_init() }, expected);
                }
            }
        }
        assert_eq!(b.available(), 0);
    }

    #[test]
    fn blocking_transfer_across_threads_is_byte_exact() {
        let (mut a, mut b) = duplex(1000);
        // Smaller under Miri, which interprets every step.
        let total = if cfg!(miri) { 5_000u32 } else { 200_000 };
        let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let writer = std::thread::spawn(move || a.write_all(&data));
        let mut got = Vec::new();
        b.read_to_end(&mut got).unwrap();
        writer.join().unwrap().unwrap();
        assert_eq!(got, expected);
    }
}

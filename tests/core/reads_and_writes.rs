//! Reads that fill the caller's buffer from many records while more can be had
//! without waiting (and report a close_notify, an error or a would-block met after bytes on
//! the next call), and vectored writes gathered into one record. Over `duplex()` and a Unix
//! socket on both paths.

use crate::common::*;
use sslbridge::{MemoryPipe, SslStream, Transport};
use std::io::{self, BufRead, IoSlice, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const KIB: usize = 1024;

/// A handshaken client and server over `c` and `s` in `mode` (the server on a thread).
fn pair<T: Transport + Send + 'static>(mode: Mode, c: T, s: T) -> (SslStream<T>, SslStream<T>) {
    let fx = Fixture::shared();
    let server = thread::spawn(move || fx.server(mode).accept(s).expect("server handshake"));
    let client = fx.client(mode).connect(c).expect("client handshake");
    (client, join(server))
}

fn duplex_pair() -> (SslStream<MemoryPipe>, SslStream<MemoryPipe>) {
    let (c, s) = sslbridge::duplex(256 * KIB);
    pair(Mode::CustomBio, c, s)
}

fn unix_stream_pair(mode: Mode) -> (SslStream<UnixStream>, SslStream<UnixStream>) {
    let (c, s) = unix_pair();
    let pair = pair(mode, c, s);
    assert_eq!(pair.0.uses_fd_fast_path(), mode.is_fd());
    pair
}

/// Runs `$run(name, client, server)`, a generic fn, on a handshaken pair over `duplex()` and
/// over a Unix socket on both paths.
macro_rules! on_every_path {
    ($run:ident) => {
        within(FD_LIMIT, || {
            let (c, s) = duplex_pair();
            $run("duplex", c, s);
            for mode in Mode::BOTH {
                let (c, s) = unix_stream_pair(mode);
                $run(&format!("unix, {mode:?}"), c, s);
            }
        })
    };
}

/// Writes `records` records of `size` pattern bytes of stream `seed`, one `write_all` (one
/// record) each.
fn write_records(tls: &mut impl Write, seed: u64, records: usize, size: usize) {
    let mut chunk = vec![0u8; size];
    for i in 0..records {
        fill_pattern(seed, (i * size) as u64, &mut chunk);
        tls.write_all(&chunk).expect("write a record");
    }
    tls.flush().expect("flush");
}

/// Reads `total` bytes with a `buf_len` buffer, checks them against stream `seed`, and
/// returns how many read calls it took.
fn read_counting(tls: &mut impl Read, seed: u64, total: usize, buf_len: usize) -> usize {
    let mut buf = vec![0u8; buf_len];
    let mut checker = PatternChecker::new(seed);
    let mut reads = 0;
    while (checker.offset as usize) < total {
        let n = tls.read(&mut buf).expect("read");
        assert!(n > 0, "early end of stream at {}", checker.offset);
        checker.check(&buf[..n]);
        reads += 1;
    }
    assert_eq!(
        checker.offset as usize, total,
        "more bytes than were written"
    );
    reads
}

const RECORDS: usize = 64;

/// The server writes [`RECORDS`] records of 1 KiB (stream `seed`), all of which are then at
/// the client's end (in the pipe, or in the client's socket buffer: a write to a Unix socket
/// returns once its bytes are in the peer's receive queue), before the client reads them with
/// 64 KiB reads; checks the bytes and returns how many reads it took.
fn reads_for_all_records(client: &mut impl Read, server: &mut impl Write, seed: u64) -> usize {
    write_records(server, seed, RECORDS, KIB);
    read_counting(client, seed, RECORDS * KIB, 64 * KIB)
}

/// All 64 records of 1 KiB are in the pipe before the client reads: one 64 KiB read takes
/// them all (the zero-copy hand-off counts whole records in the pipe).
#[test]
fn a_large_buffer_takes_many_small_records_per_read_over_duplex() {
    within(LIMIT, || {
        let (mut client, mut server) = duplex_pair();
        let reads = reads_for_all_records(&mut client, &mut server, 7);
        assert_eq!(reads, 1, "{reads} reads for {RECORDS} records");
    })
}

/// The same over a blocking Unix socket through the custom BIO: one read takes every record,
/// though the BIO's first fill after the handshake reads only 4 KiB. With its whole records
/// taken, the BIO asks `poll` whether the descriptor has more, and reads it only then, so
/// the read takes everything that has arrived and never waits.
#[test]
fn a_large_buffer_takes_many_small_records_per_read_over_a_socket_custom_bio() {
    within(LIMIT, || {
        let (mut client, mut server) = unix_stream_pair(Mode::CustomBio);
        let reads = reads_for_all_records(&mut client, &mut server, 8);
        assert_eq!(reads, 1, "{reads} reads for {RECORDS} records");
    })
}

/// The same over a Unix socket on the fd path, where OpenSSL reads the descriptor itself: on
/// a blocking descriptor a read goes on past OpenSSL's read-ahead buffer (about 17 KB) into
/// the kernel, each system call guarded by `poll`, and on a non-blocking one (here because a
/// timeout is set: sslbridge then waits with `poll`) it reads on until "would block". Either
/// way one read takes all 64 records.
#[test]
fn a_large_buffer_takes_many_small_records_per_read_over_a_socket_fd_path() {
    within(FD_LIMIT, || {
        let (mut client, mut server) = unix_stream_pair(Mode::FdPath);
        let reads = reads_for_all_records(&mut client, &mut server, 10);
        assert_eq!(reads, 1, "blocking: {reads} reads for {RECORDS} records");

        let (mut client, mut server) = unix_stream_pair(Mode::FdPath);
        client.set_read_timeout(Some(LIMIT)).unwrap();
        let reads = reads_for_all_records(&mut client, &mut server, 9);
        assert_eq!(
            reads, 1,
            "non-blocking: {reads} reads for {RECORDS} records"
        );
    })
}

/// The same over a non-blocking Unix socket through the custom BIO (the user's mode: reads
/// that find nothing say "would block"): one read takes every record that has arrived.
#[test]
fn a_large_buffer_takes_many_small_records_per_read_over_a_nonblocking_socket_custom_bio() {
    within(LIMIT, || {
        let (c, s) = unix_pair();
        c.set_nonblocking(true).unwrap();
        let fx = Fixture::shared();
        let server = thread::spawn(move || {
            fx.server(Mode::CustomBio)
                .accept(s)
                .expect("server handshake")
        });
        let mut client = fx.client(Mode::CustomBio).start(c).expect("client");
        assert!(!client.uses_fd_fast_path());
        loop {
            match client.handshake() {
                Ok(()) => break,
                Err(sslbridge::Error::WantRead | sslbridge::Error::WantWrite) => {
                    thread::sleep(Duration::from_millis(1))
                }
                Err(e) => panic!("client handshake: {e}"),
            }
        }
        let mut server = join(server);
        write_records(&mut server, 11, RECORDS, KIB);
        let mut buf = vec![0u8; 64 * KIB];
        let n = client.read(&mut buf).expect("read");
        assert_eq!(n, RECORDS * KIB, "one read for {RECORDS} records");
        PatternChecker::new(11).check(&buf[..n]);
        let e = client.read(&mut buf).expect_err("nothing more has come");
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    })
}

/// `fd_read_ahead(false)`: OpenSSL reads each record by itself on the fd path, and a read
/// over a blocking descriptor takes one record, however many wait in the socket (the
/// option's point is to leave them to the next read); the bytes are the same. The custom BIO
/// is not affected: one read takes all 64.
#[test]
fn without_fd_read_ahead_a_read_takes_one_record_on_the_fd_path() {
    fn connect(mode: Mode) -> (SslStream<UnixStream>, SslStream<UnixStream>) {
        let fx = Fixture::shared();
        let (c, s) = unix_pair();
        let server = thread::spawn(move || fx.server(mode).accept(s).expect("server handshake"));
        let client = fx
            .client(mode)
            .fd_read_ahead(false)
            .connect(c)
            .expect("client handshake");
        assert_eq!(client.uses_fd_fast_path(), mode.is_fd());
        (client, join(server))
    }
    within(FD_LIMIT, || {
        let (mut client, mut server) = connect(Mode::FdPath);
        let reads = reads_for_all_records(&mut client, &mut server, 20);
        assert_eq!(reads, RECORDS, "one record per read");

        let (mut client, mut server) = connect(Mode::CustomBio);
        let reads = reads_for_all_records(&mut client, &mut server, 21);
        assert_eq!(reads, 1, "custom BIO: {reads} reads for {RECORDS} records");
    })
}

/// A server transport whose armed write sends the first `part` bytes, says so, and sends the
/// rest only when told: the client then has a record and part of the next.
struct SplitWrite {
    inner: UnixStream,
    split: Option<(usize, mpsc::Sender<()>, mpsc::Receiver<()>)>,
}

impl Read for SplitWrite {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for SplitWrite {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some((part, sent, go_on)) = self.split.take() {
            self.inner.write_all(&buf[..part])?;
            sent.send(()).unwrap();
            go_on.recv().unwrap();
            self.inner.write_all(&buf[part..])?;
            return Ok(buf.len());
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A server on `s` whose transport can split a write (see [`SplitWrite`]).
fn split_write_server(s: UnixStream) -> thread::JoinHandle<SslStream<SplitWrite>> {
    let fx = Fixture::shared();
    thread::spawn(move || {
        let transport = SplitWrite {
            inner: s,
            split: None,
        };
        fx.server(Mode::CustomBio)
            .accept(transport)
            .expect("server handshake")
    })
}

/// The server sends a record and the first 500 bytes of the next; the client's read returns
/// the whole first record without waiting for the rest, which the next read brings.
fn a_partial_record_is_left_for_the_next_read(
    client: &mut SslStream<UnixStream>,
    mut server: SslStream<SplitWrite>,
) {
    let (sent_tx, sent_rx) = mpsc::channel();
    let (go_on_tx, go_on_rx) = mpsc::channel();
    let writer = thread::spawn(move || {
        write_records(&mut server, 13, 1, KIB);
        // The next record leaves in two parts: 500 bytes, then the rest when told.
        server.get_mut().split = Some((500, sent_tx, go_on_rx));
        write_records(&mut server, 13 + 1, 1, KIB);
        server
    });
    // Both the first record and the start of the second are in the socket: the client's
    // first `recv` takes them together.
    sent_rx.recv().unwrap();
    let mut buf = vec![0u8; 64 * KIB];
    let n = client.read(&mut buf).expect("read");
    assert_eq!(
        n, KIB,
        "the whole first record, and nothing of the partial one"
    );
    PatternChecker::new(13).check(&buf[..n]);
    go_on_tx.send(()).unwrap();
    let n = client.read(&mut buf).expect("read the second record");
    assert_eq!(n, KIB);
    PatternChecker::new(14).check(&buf[..n]);
    let server = join(writer);
    server.close().expect("close");
    assert_eq!(client.read(&mut buf).unwrap(), 0, "close_notify");
}

/// On the fd path with a blocking descriptor, a read that has a record and then finds only
/// part of the next in OpenSSL's read-ahead buffer returns the record: it does not wait in
/// `recv` for the rest. The rest comes with the next read.
#[test]
fn a_partial_record_after_the_bytes_does_not_wait_on_the_fd_path() {
    within(FD_LIMIT, || {
        let (c, s) = unix_pair();
        let server = split_write_server(s);
        let mut client = Fixture::shared()
            .client(Mode::FdPath)
            .connect(c)
            .expect("client handshake");
        assert!(client.uses_fd_fast_path());
        a_partial_record_is_left_for_the_next_read(&mut client, join(server));
    })
}

/// The same when the descriptor was non-blocking when the stream was made and the user made
/// it blocking again through the transport (`get_mut`): the stream does not rely on the mode
/// it saw at setup to decide that a read beyond the bytes in hand cannot wait.
#[test]
fn a_partial_record_does_not_wait_after_the_user_makes_the_descriptor_blocking() {
    within(FD_LIMIT, || {
        let (c, s) = unix_pair();
        let server = split_write_server(s);
        c.set_nonblocking(true).unwrap();
        let mut client = Fixture::shared()
            .client(Mode::FdPath)
            .start(c)
            .expect("client setup");
        loop {
            match client.handshake() {
                Ok(()) => break,
                Err(e) if e.is_would_block() => thread::sleep(Duration::from_millis(1)),
                Err(e) => panic!("client handshake: {e}"),
            }
        }
        assert!(client.uses_fd_fast_path());
        client.get_mut().set_nonblocking(false).unwrap();
        a_partial_record_is_left_for_the_next_read(&mut client, join(server));
    })
}

/// Many records in both directions at once, with reads of every size from 1 byte to 64 KiB
/// and records of every size from 1 byte to 16 KiB: byte-exact on every transport and path.
#[test]
fn mixed_record_and_read_sizes_are_byte_exact_on_every_path() {
    fn run<T: Transport + Send + 'static>(
        name: &str,
        mut client: SslStream<T>,
        server: SslStream<T>,
    ) {
        const TOTAL: usize = 3 * 1024 * 1024;
        let writer = thread::spawn(move || {
            let mut server = server;
            let mut sent = 0usize;
            let mut size = 1usize;
            let mut chunk = vec![0u8; 16 * KIB];
            while sent < TOTAL {
                let n = size.min(TOTAL - sent);
                fill_pattern(11, sent as u64, &mut chunk[..n]);
                server.write_all(&chunk[..n]).expect("write");
                sent += n;
                size = size * 7 % (16 * KIB) + 1;
            }
            server.close().expect("close");
        });
        let mut checker = PatternChecker::new(11);
        let mut buf = vec![0u8; 64 * KIB];
        let mut want = 1usize;
        loop {
            let n = client.read(&mut buf[..want]).expect("read");
            if n == 0 {
                break;
            }
            checker.check(&buf[..n]);
            want = want * 13 % (64 * KIB) + 1;
        }
        assert_eq!(checker.offset as usize, TOTAL, "{name}");
        join(writer);
    }
    on_every_path!(run);
}

/// The writer sends five records and then waits: a 64 KiB read returns those 5 KiB at once
/// instead of waiting for more, on every path.
#[test]
fn a_read_returns_what_is_there_without_waiting_for_more() {
    fn run<T: Transport + Send + 'static>(
        client: SslStream<T>,
        server: SslStream<T>,
        max_reads: usize,
    ) {
        let (written_tx, written_rx) = mpsc::channel();
        let (go_on_tx, go_on_rx) = mpsc::channel::<()>();
        let writer = thread::spawn(move || {
            let mut server = server;
            write_records(&mut server, 12, FIVE, KIB);
            written_tx.send(()).unwrap();
            // Nothing more until the reader has its bytes.
            go_on_rx.recv().unwrap();
            server.close().expect("close");
        });
        let mut client = client;
        written_rx.recv().unwrap();
        let mut buf = vec![0u8; 64 * KIB];
        let mut checker = PatternChecker::new(12);
        let mut reads = 0;
        while checker.offset < (FIVE * KIB) as u64 {
            let n = client.read(&mut buf).expect("read");
            assert!(n > 0);
            checker.check(&buf[..n]);
            reads += 1;
        }
        assert!(reads <= max_reads, "{reads} reads for {FIVE} records");
        go_on_tx.send(()).unwrap();
        assert_eq!(client.read(&mut buf).unwrap(), 0, "close_notify");
        join(writer);
    }
    // More than the custom BIO's first 4 KiB fill holds: the read must go back to the
    // transport for the rest (after `poll` says it has some), not stop at the buffer's end.
    const FIVE: usize = 5;
    within(LIMIT, || {
        // The pipe's whole records are counted: one read.
        let (c, s) = duplex_pair();
        run(c, s, 1);
        // The BIO's read-ahead buffer takes the first four KiB, then `poll` finds the rest.
        let (c, s) = unix_stream_pair(Mode::CustomBio);
        run(c, s, 1);
        // A blocking descriptor on the fd path: OpenSSL's read-ahead buffer, then the kernel,
        // each `recv` guarded by `poll`.
        let (c, s) = unix_stream_pair(Mode::FdPath);
        run(c, s, 1);
    })
}

/// The peer's close_notify right after three records: the read returns the records, the next
/// one the end of the stream. Over `duplex()` and a Unix socket on both paths.
#[test]
fn close_notify_after_the_bytes_is_the_next_read() {
    fn run<T: Transport + Send + 'static>(
        name: &str,
        mut client: SslStream<T>,
        server: SslStream<T>,
    ) {
        let mut server = server;
        write_records(&mut server, 13, 3, KIB);
        server.close().unwrap();
        let mut buf = vec![0u8; 64 * KIB];
        assert_eq!(client.read(&mut buf).unwrap(), 3 * KIB, "{name}");
        let mut checker = PatternChecker::new(13);
        checker.check(&buf[..3 * KIB]);
        assert_eq!(client.read(&mut buf).unwrap(), 0, "{name}");
        assert_eq!(client.read(&mut buf).unwrap(), 0, "{name}");
    }
    on_every_path!(run);
}

/// The transport ends without close_notify right after three records (a truncation): the
/// read returns the records, the next one reports the truncation. Over `duplex()` and a Unix
/// socket on both paths.
#[test]
fn a_truncation_after_the_bytes_is_the_next_read() {
    fn run<T: Transport + Send + 'static>(
        name: &str,
        mut client: SslStream<T>,
        server: SslStream<T>,
    ) {
        let mut server = server;
        write_records(&mut server, 14, 3, KIB);
        drop(server.into_inner()); // EOF, no close_notify
        let mut buf = vec![0u8; 64 * KIB];
        assert_eq!(client.read(&mut buf).unwrap(), 3 * KIB, "{name}");
        let mut checker = PatternChecker::new(14);
        checker.check(&buf[..3 * KIB]);
        let err = client.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{name}: {err}");
    }
    on_every_path!(run);
}

/// A non-blocking transport runs dry right after three records: the read returns them, the
/// next one says "would block", and the stream goes on when more comes.
#[test]
fn a_would_block_after_the_bytes_is_the_next_read() {
    within(LIMIT, || {
        let (mut client, mut server) = duplex_pair();
        client.get_mut().set_nonblocking(true);
        write_records(&mut server, 15, 3, KIB);
        let mut buf = vec![0u8; 64 * KIB];
        assert_eq!(client.read(&mut buf).unwrap(), 3 * KIB);
        let err = client.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock, "{err}");
        write_records(&mut server, 16, 1, KIB);
        assert_eq!(client.read(&mut buf).unwrap(), KIB);
        let mut checker = PatternChecker::new(16);
        checker.check(&buf[..KIB]);
    })
}

/// `BufRead::fill_buf` fills its buffer from many records too.
#[test]
fn fill_buf_takes_many_records() {
    within(LIMIT, || {
        let (mut client, mut server) = duplex_pair();
        write_records(&mut server, 17, 8, KIB);
        let got = client.fill_buf().unwrap().len();
        assert_eq!(got, 8 * KIB, "one fill_buf for the eight records");
        let mut checker = PatternChecker::new(17);
        checker.check(client.fill_buf().unwrap());
        client.consume(got);
    })
}

/// A 200-byte header and a 1 KiB body in one `write_vectored`: one `SSL_write`, so one
/// record and one transport write, which the peer reads in one piece.
#[test]
fn write_vectored_sends_a_header_and_a_body_as_one_record() {
    within(LIMIT, || {
        let (mut client, mut server) = duplex_pair();
        let header = vec![b'h'; 200];
        let body = vec![b'b'; KIB];
        let before = client.transport_stats();
        let n = client
            .write_vectored(&[
                IoSlice::new(&header),
                IoSlice::new(&[]),
                IoSlice::new(&body),
            ])
            .unwrap();
        assert_eq!(n, 200 + KIB);
        assert_eq!(client.transport_stats().writes, before.writes + 1);
        let mut buf = vec![0u8; 64 * KIB];
        let reads_before = server.transport_stats().reads;
        assert_eq!(server.read(&mut buf).unwrap(), 200 + KIB, "one piece");
        assert_eq!(&buf[..200], &header[..]);
        assert_eq!(&buf[200..200 + KIB], &body[..]);
        // One record: the zero-copy hand-off reads it in one transport read.
        assert_eq!(server.transport_stats().reads, reads_before + 1);
    })
}

/// The same over a Unix socket through the custom BIO, where the transport write is a system
/// call.
#[test]
fn write_vectored_is_one_transport_write_over_a_socket() {
    within(LIMIT, || {
        let (mut client, mut server) = unix_stream_pair(Mode::CustomBio);
        let before = client.transport_stats();
        let n = client
            .write_vectored(&[IoSlice::new(&[1u8; 200]), IoSlice::new(&[2u8; KIB])])
            .unwrap();
        assert_eq!(n, 200 + KIB);
        assert_eq!(client.transport_stats().writes, before.writes + 1);
        let mut buf = vec![0u8; 64 * KIB];
        assert_eq!(server.read(&mut buf).unwrap(), 200 + KIB);
        assert!(buf[..200].iter().all(|&b| b == 1) && buf[200..200 + KIB].iter().all(|&b| b == 2));
    })
}

/// Gathering stops at one maximal record (16 KiB), as a plain write does; an empty list or
/// empty slices write nothing; with an output buffer the slices are copied into it.
#[test]
fn write_vectored_takes_at_most_one_record() {
    within(LIMIT, || {
        let (mut client, mut server) = duplex_pair();
        let a = vec![3u8; 10 * KIB];
        let b = vec![4u8; 10 * KIB];
        let before = client.transport_stats().writes;
        let n = client
            .write_vectored(&[IoSlice::new(&a), IoSlice::new(&b)])
            .unwrap();
        assert_eq!(n, 16 * KIB);
        assert_eq!(client.transport_stats().writes, before + 1);
        assert_eq!(client.write_vectored(&[]).unwrap(), 0);
        assert_eq!(client.write_vectored(&[IoSlice::new(&[])]).unwrap(), 0);
        let mut got = vec![0u8; 16 * KIB];
        server.read_exact(&mut got).unwrap();
        assert_eq!(&got[..10 * KIB], &a[..]);
        assert_eq!(&got[10 * KIB..], &b[..6 * KIB]);

        let fx = Fixture::shared();
        let (c, s) = sslbridge::duplex(64 * KIB);
        let server = thread::spawn(move || fx.server(Mode::CustomBio).accept(s).unwrap());
        let mut client = fx
            .client(Mode::CustomBio)
            .output_buffer_size(1000)
            .connect(c)
            .unwrap();
        let mut server = join(server);
        let writes = client.transport_stats().writes;
        let n = client
            .write_vectored(&[IoSlice::new(&[5u8; 600]), IoSlice::new(&[6u8; 600])])
            .unwrap();
        assert_eq!(n, 1000, "as much as the output buffer holds");
        assert_eq!(
            client.transport_stats().writes,
            writes,
            "buffered, not written"
        );
        client.flush().unwrap();
        let mut got = vec![0u8; 1000];
        server.read_exact(&mut got).unwrap();
        assert!(got[..600].iter().all(|&b| b == 5) && got[600..].iter().all(|&b| b == 6));
    })
}

/// A stream that gathered slices behaves like one that wrote them one by one: many vectored
/// writes of several slices each arrive byte-exact.
#[test]
fn many_vectored_writes_are_byte_exact() {
    within(LIMIT, || {
        let (mut client, mut server) = duplex_pair();
        const TOTAL: usize = 2 * 1024 * 1024;
        let reader = thread::spawn(move || {
            read_counting(&mut server, 18, TOTAL, 64 * KIB);
            server
        });
        let mut data = vec![0u8; TOTAL];
        fill_pattern(18, 0, &mut data);
        let mut at = 0usize;
        let mut size = 1usize;
        while at < TOTAL {
            let end = (at + 3 * size).min(TOTAL);
            let third = (end - at) / 3;
            let slices = [
                IoSlice::new(&data[at..at + third]),
                IoSlice::new(&data[at + third..at + 2 * third]),
                IoSlice::new(&data[at + 2 * third..end]),
            ];
            let mut slices: &mut [IoSlice<'_>] = &mut slices.clone();
            while !slices.is_empty() {
                let n = client.write_vectored(slices).unwrap();
                assert!(n > 0);
                at += n;
                IoSlice::advance_slices(&mut slices, n);
            }
            size = size * 5 % (12 * KIB) + 1;
        }
        let mut server = join(reader);
        client.close().unwrap();
        assert_eq!(server.read(&mut [0u8; 16]).unwrap(), 0, "close_notify");
    })
}

/// Reads into a large buffer also work when the records arrive while the reader waits: the
/// first bytes always come back without waiting for the buffer to fill.
#[test]
fn a_large_buffer_never_waits_for_more_once_it_has_bytes() {
    within(LIMIT, || {
        let (mut client, mut server) = duplex_pair();
        let writer = thread::spawn(move || {
            for i in 0..20u64 {
                write_records(&mut server, 19 + i, 1, KIB);
                thread::sleep(Duration::from_millis(2));
            }
            server
        });
        let mut buf = vec![0u8; 64 * KIB];
        let mut total = 0;
        while total < 20 * KIB {
            let n = client.read(&mut buf).unwrap();
            assert!(n > 0 && n % KIB == 0, "{n}");
            total += n;
        }
        let server = join(writer);
        server.close().unwrap();
        assert_eq!(client.read(&mut buf).unwrap(), 0);
    })
}

/// A transport whose descriptor is not what its `read` reads: `as_fd` is a socket that always
/// has a byte waiting, `read` reads another. It stands for any `FdTransport` whose own `Read`
/// may want more than has arrived (a framing layer, a decoder): `poll` on its descriptor
/// cannot tell whether that `read` would wait.
struct ReadsElsewhere {
    data: UnixStream,
    always_readable: UnixStream,
    _writer: UnixStream,
}

impl Read for ReadsElsewhere {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.data.read(buf)
    }
}

impl Write for ReadsElsewhere {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.data.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.data.flush()
    }
}

impl std::os::fd::AsFd for ReadsElsewhere {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.always_readable.as_fd()
    }
}

/// Beyond the bytes in hand, the custom BIO asks a transport for more only when its `read` is
/// one `read(2)` of the descriptor it polled (the types sslbridge knows). An `FdTransport`'s
/// `read` is the user's: it is left alone, and the read returns the one record it has. (It
/// waited in the transport's `read` for the peer's next record before.)
#[test]
fn a_read_with_bytes_never_asks_a_transport_whose_read_might_wait() {
    within(LIMIT, || {
        let (c, s) = unix_pair();
        let (mut poke, always_readable) = UnixStream::pair().unwrap();
        poke.write_all(b"!").unwrap();
        let transport = sslbridge::FdTransport::new(ReadsElsewhere {
            data: c,
            always_readable,
            _writer: poke,
        });
        let fx = Fixture::shared();
        let (go_on_tx, go_on_rx) = mpsc::channel::<()>();
        let server = thread::spawn(move || {
            let mut tls = fx
                .server(Mode::CustomBio)
                .accept(s)
                .expect("server handshake");
            write_records(&mut tls, 13, 1, KIB);
            // Nothing more until the reader has its record.
            go_on_rx.recv().unwrap();
            tls.close().expect("close");
        });
        let mut client = fx
            .client(Mode::CustomBio)
            .connect(transport)
            .expect("client handshake");
        let mut buf = vec![0u8; 64 * KIB];
        let mut checker = PatternChecker::new(13);
        while checker.offset < KIB as u64 {
            let n = client.read(&mut buf).expect("read");
            assert!(n > 0);
            checker.check(&buf[..n]);
        }
        go_on_tx.send(()).unwrap();
        assert_eq!(client.read(&mut buf).unwrap(), 0, "close_notify");
        join(server);
    })
}

//! Over tokio: `poll_read` fills the caller's buffer from many records while more
//! can be had without waiting, and `poll_write_vectored` (`is_write_vectored() == true`)
//! gathers a header and a body into one record.

use crate::common::{fill_pattern, Fixture, PatternChecker};
use crate::tokio_common::*;
use sslbridge::tokio::SslStream;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::Poll;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::task::coop;

const KIB: usize = 1024;
const RECORDS: usize = 64;

/// All 64 records of 1 KiB are in the pipe before the client reads: one 64 KiB `read` takes
/// them all. The BIO's first fill after the handshake holds only 4 KiB; the adapter never
/// waits (tokio's `Pending` is "would block"), so the read asks it for more until it has
/// none or the buffer is full.
#[tokio::test]
async fn a_large_buffer_takes_many_small_records_per_read() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (mut client, mut server) = duplex_pair(&fx, 256 * KIB).await;
        let mut chunk = vec![0u8; KIB];
        for i in 0..RECORDS {
            fill_pattern(21, (i * KIB) as u64, &mut chunk);
            server.write_all(&chunk).await.unwrap();
        }
        server.flush().await.unwrap();
        let mut buf = vec![0u8; 64 * KIB];
        let mut checker = PatternChecker::new(21);
        let mut reads = 0;
        while (checker.offset as usize) < RECORDS * KIB {
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0);
            checker.check(&buf[..n]);
            reads += 1;
        }
        assert_eq!(reads, 1, "{reads} reads for {RECORDS} records");
        server.shutdown().await.unwrap();
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    })
    .await
}

/// Five records (more than the BIO's first 4 KiB fill), then nothing until the reader has
/// them: one 64 KiB read returns the five, without waiting for more; the next read then
/// waits for the close_notify.
#[tokio::test]
async fn a_read_returns_what_is_there_without_waiting_for_more() {
    const FIVE: usize = 5;
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (mut client, mut server) = duplex_pair(&fx, 64 * KIB).await;
        let (go_on, wait) = tokio::sync::oneshot::channel::<()>();
        let writer = tokio::spawn(async move {
            let mut chunk = vec![0u8; KIB];
            for i in 0..FIVE {
                fill_pattern(22, (i * KIB) as u64, &mut chunk);
                server.write_all(&chunk).await.unwrap();
            }
            server.flush().await.unwrap();
            wait.await.unwrap();
            server.shutdown().await.unwrap();
        });
        let mut buf = vec![0u8; 64 * KIB];
        let mut checker = PatternChecker::new(22);
        let mut reads = 0;
        while (checker.offset as usize) < FIVE * KIB {
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0);
            checker.check(&buf[..n]);
            reads += 1;
        }
        assert_eq!(reads, 1, "{reads} reads for {FIVE} records");
        go_on.send(()).unwrap();
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        writer.await.unwrap();
    })
    .await
}

/// 600 one-byte records wait in the pipe, and the client polls `read` again and again within
/// one turn of its task. Each read charges tokio's cooperative budget (128 units a turn) for
/// every record it takes, as if each had been a poll of its own: once the records taken use
/// the budget up, the next read yields (`Pending`, taking nothing) although records are
/// buffered, and the next turn goes on where it stopped. Every byte arrives once, in order.
/// (Without the charge, all 600 come in one turn: the reads call the transport only a few
/// times.)
#[tokio::test]
async fn a_read_of_many_records_charges_each_to_the_task_budget() {
    const TINY: usize = 600;
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (mut client, mut server) = duplex_pair(&fx, 64 * KIB).await;
        write_tiny_records(&mut server, 24, TINY).await;
        // A fresh budget for the turn below: the writes above used this one up.
        tokio::task::yield_now().await;
        let (first_turn, yielded) =
            std::future::poll_fn(|cx| Poll::Ready(read_in_one_turn(&mut client, cx, TINY))).await;
        assert!(
            yielded,
            "all {TINY} records in one turn: the reads did not charge the budget per record"
        );
        let mut checker = PatternChecker::new(24);
        checker.check(&first_turn);
        let mut buf = vec![0u8; 64 * KIB];
        while (checker.offset as usize) < TINY {
            let n = client.read(&mut buf).await.unwrap();
            assert!(n > 0);
            checker.check(&buf[..n]);
        }
        server.shutdown().await.unwrap();
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    })
    .await
}

/// Polls `read` within one turn, with buffers of 100 bytes (so each read takes at most 100
/// one-byte records: a larger one would take all the records there are at once), until
/// `total` bytes arrived or a read yielded: the bytes, and whether one yielded. A read that
/// yields must have taken nothing and found the task's budget used up.
fn read_in_one_turn(
    client: &mut SslStream<tokio::io::DuplexStream>,
    cx: &mut std::task::Context<'_>,
    total: usize,
) -> (Vec<u8>, bool) {
    let mut buf = vec![0u8; total];
    let mut taken = 0;
    while taken < total {
        let end = total.min(taken + 100);
        let mut read = ReadBuf::new(&mut buf[taken..end]);
        match Pin::new(&mut *client).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) if !read.filled().is_empty() => taken += read.filled().len(),
            Poll::Ready(other) => panic!("read: {other:?} after {taken} bytes"),
            Poll::Pending => {
                assert!(
                    read.filled().is_empty(),
                    "a read out of budget takes nothing"
                );
                assert!(!coop::has_budget_remaining(), "pending with budget left");
                buf.truncate(taken);
                return (buf, true);
            }
        }
    }
    (buf, false)
}

/// Writes `total` one-byte records of pattern `seed` and flushes.
async fn write_tiny_records(
    server: &mut SslStream<tokio::io::DuplexStream>,
    seed: u64,
    total: usize,
) {
    let mut sent = vec![0u8; total];
    fill_pattern(seed, 0, &mut sent);
    for byte in &sent {
        server.write_all(std::slice::from_ref(byte)).await.unwrap();
    }
    server.flush().await.unwrap();
}

/// Inside `tokio::task::coop::unconstrained` nothing is charged: 600 one-byte records are
/// read in one turn without a yield.
#[tokio::test]
async fn unconstrained_reads_are_not_charged() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (mut client, mut server) = duplex_pair(&fx, 64 * KIB).await;
        write_tiny_records(&mut server, 25, 600).await;
        let (got, yielded) = coop::unconstrained(std::future::poll_fn(|cx| {
            Poll::Ready(read_in_one_turn(&mut client, cx, 600))
        }))
        .await;
        assert!(!yielded, "an unconstrained read yielded");
        PatternChecker::new(25).check(&got);
    })
    .await
}

/// Outside a tokio runtime (the stream polled by hand) nothing is charged either.
#[test]
fn reads_outside_a_runtime_are_not_charged() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (mut client, _server) = rt.block_on(async {
        let fx = Fixture::new();
        let (client, mut server) = duplex_pair(&fx, 64 * KIB).await;
        write_tiny_records(&mut server, 26, 600).await;
        (client, server)
    });
    let waker = std::task::Waker::noop();
    let (got, yielded) =
        read_in_one_turn(&mut client, &mut std::task::Context::from_waker(waker), 600);
    assert!(!yielded, "a read outside a runtime yielded");
    PatternChecker::new(26).check(&got);
}

/// `write_vectored` of a 200-byte header and a 1 KiB body is one record: one transport write,
/// read by the peer in one piece.
#[tokio::test]
async fn write_vectored_sends_a_header_and_a_body_as_one_record() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (mut client, mut server) = duplex_pair(&fx, 64 * KIB).await;
        assert!(client.is_write_vectored());
        let header = vec![b'h'; 200];
        let body = vec![b'b'; KIB];
        let writes = client.ssl().transport_stats().writes;
        let n = client
            .write_vectored(&[IoSlice::new(&header), IoSlice::new(&body)])
            .await
            .unwrap();
        assert_eq!(n, 200 + KIB);
        assert_eq!(client.ssl().transport_stats().writes, writes + 1);
        let mut buf = vec![0u8; 64 * KIB];
        assert_eq!(server.read(&mut buf).await.unwrap(), 200 + KIB, "one piece");
        assert_eq!(&buf[..200], &header[..]);
        assert_eq!(&buf[200..200 + KIB], &body[..]);
    })
    .await
}

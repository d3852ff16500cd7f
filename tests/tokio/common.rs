//! Helpers for the async tests: time limits, a pair of connected streams, the byte pattern
//! over `AsyncRead`/`AsyncWrite`, and a transport wrapper that counts its drops.
#![allow(dead_code)]

use crate::common::{fill_pattern, Fixture, PatternChecker};
use sslbridge::tokio::SslStream;
use sslbridge::{ClientOptions, ServerOptions};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};

/// The usual limit for one async test.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Awaits `f`, failing the test if it takes longer than `limit`.
pub async fn bounded<T>(limit: Duration, f: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or_else(|_| panic!("the test did not finish within {limit:?} (deadlock or hang)"))
}

/// Client options trusting the fixture's root, for "localhost".
pub fn client_options(fx: &Fixture) -> ClientOptions {
    ClientOptions::new()
        .hostname("localhost")
        .context(fx.client_context(None))
}

/// Server options with the fixture's "localhost" certificate.
pub fn server_options(fx: &Fixture) -> ServerOptions {
    ServerOptions::new().context(fx.server_context(None))
}

/// Handshakes a client and a server over `tokio::io::duplex`.
pub async fn duplex_pair(
    fx: &Fixture,
    capacity: usize,
) -> (SslStream<DuplexStream>, SslStream<DuplexStream>) {
    let (a, b) = tokio::io::duplex(capacity);
    let (client, server) = tokio::join!(
        client_options(fx).connect_async(a),
        server_options(fx).accept_async(b)
    );
    (
        client.expect("client handshake"),
        server.expect("server handshake"),
    )
}

/// Writes `total` pattern bytes in writes of at most `chunk` bytes, then flushes.
pub async fn write_pattern<W: AsyncWrite + Unpin>(
    w: &mut W,
    seed: u64,
    total: u64,
    chunk: usize,
) -> io::Result<()> {
    let mut buf = vec![0u8; chunk.min(total as usize).max(1)];
    let mut offset = 0u64;
    while offset < total {
        let n = buf.len().min((total - offset) as usize);
        fill_pattern(seed, offset, &mut buf[..n]);
        w.write_all(&buf[..n]).await?;
        offset += n as u64;
    }
    w.flush().await
}

/// Reads exactly `total` bytes and checks them against the pattern.
pub async fn read_pattern<R: AsyncRead + Unpin>(
    r: &mut R,
    seed: u64,
    total: u64,
) -> io::Result<()> {
    let mut checker = PatternChecker::new(seed);
    let mut buf = vec![0u8; 64 * 1024];
    while checker.offset < total {
        let want = buf.len().min((total - checker.offset) as usize);
        let n = r.read(&mut buf[..want]).await?;
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

/// A transport that counts how often it is dropped (and how many are alive).
pub struct Counted<S> {
    pub inner: S,
    pub drops: Arc<AtomicUsize>,
}

impl<S> Counted<S> {
    pub fn new(inner: S) -> (Counted<S>, Arc<AtomicUsize>) {
        let drops = Arc::new(AtomicUsize::new(0));
        (
            Counted {
                inner,
                drops: drops.clone(),
            },
            drops,
        )
    }

    pub fn with_counter(inner: S, drops: &Arc<AtomicUsize>) -> Counted<S> {
        Counted {
            inner,
            drops: drops.clone(),
        }
    }
}

impl<S> Drop for Counted<S> {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

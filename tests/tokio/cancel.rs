#![cfg(feature = "tokio")]
//! Cancellation: dropping `connect_async`/`accept_async` mid-handshake, a read mid-way, or a
//! stream whose transport panicked, frees the transport exactly once and leaves the runtime
//! working.

use crate::common::Fixture;
use crate::tokio_common::*;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

/// A handshake still works on this runtime: nothing was left in a broken state.
async fn still_works(fx: &Fixture) {
    let (mut client, mut server) = duplex_pair(fx, 16 * 1024).await;
    client.write_all(b"ping").await.unwrap();
    let mut buf = [0u8; 4];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
}

#[tokio::test]
async fn cancelled_connect_against_a_silent_peer_frees_the_transport_once() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let drops = Arc::new(AtomicUsize::new(0));
        let closes = Arc::new(AtomicUsize::new(0));
        let mut silent_peers = Vec::new();
        let trust = fx.client_context(None);
        for _ in 0..100 {
            let (a, b) = tokio::io::duplex(16 * 1024);
            silent_peers.push(b); // alive, never answers
            let closes = closes.clone();
            let connect = sslbridge::ClientOptions::new()
                .hostname("localhost")
                .context(trust.clone())
                .on_close(move || {
                    closes.fetch_add(1, Ordering::SeqCst);
                })
                .connect_async(Counted::with_counter(a, &drops));
            let r = tokio::time::timeout(Duration::from_millis(5), connect).await;
            assert!(r.is_err(), "a silent peer cannot complete a handshake");
        }
        assert_eq!(
            drops.load(Ordering::SeqCst),
            100,
            "each transport dropped once"
        );
        assert_eq!(
            closes.load(Ordering::SeqCst),
            100,
            "each close callback ran once"
        );
        still_works(&fx).await;
    })
    .await
}

#[tokio::test]
async fn cancelled_accept_mid_handshake_frees_the_transport_once() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (a, b) = tokio::io::duplex(64 * 1024);
        let (b, drops) = Counted::new(b);
        // The client sends its ClientHello, then stops being polled.
        let mut client = client_options(&fx).start_async(a).unwrap();
        let first = futures_poll_once(client.handshake()).await;
        assert!(first.is_none(), "the handshake waits for the server");
        let accept = server_options(&fx).accept_async(b);
        let r = tokio::time::timeout(Duration::from_millis(50), accept).await;
        assert!(r.is_err(), "the server waits for the client's Finished");
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        // The client now finds its peer gone.
        assert!(client.handshake().await.is_err());
        drop(client);
        still_works(&fx).await;
    })
    .await
}

/// Polls `f` once; `Some` if it completed.
async fn futures_poll_once<F: std::future::Future>(f: F) -> Option<F::Output> {
    let mut f = std::pin::pin!(f);
    std::future::poll_fn(|cx| match f.as_mut().poll(cx) {
        Poll::Ready(v) => Poll::Ready(Some(v)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

#[tokio::test]
async fn a_handshake_resumes_after_its_future_was_dropped() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (a, b) = tokio::io::duplex(64 * 1024);
        let mut client = client_options(&fx).start_async(a).unwrap();
        let server_opts = server_options(&fx);
        let server = tokio::spawn(async move {
            // Answer only after the client's first attempt was cancelled.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut tls = server_opts.accept_async(b).await?;
            tls.write_all(b"ok").await.map_err(sslbridge::Error::from)?;
            Ok::<_, sslbridge::Error>(tls)
        });
        let r = tokio::time::timeout(Duration::from_millis(5), client.handshake()).await;
        assert!(r.is_err(), "cancelled before the server answered");
        client.handshake().await.expect("resumed handshake");
        let mut buf = [0u8; 2];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
        drop(server.await.unwrap().unwrap());
    })
    .await
}

#[tokio::test]
async fn cancelled_read_then_drop_frees_the_transport_once() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (a, b) = tokio::io::duplex(16 * 1024);
        let (a, drops) = Counted::new(a);
        let (client, server) = tokio::join!(
            client_options(&fx).connect_async(a),
            server_options(&fx).accept_async(b)
        );
        let (mut client, _server) = (client.unwrap(), server.unwrap());
        let mut buf = [0u8; 64];
        let r = tokio::time::timeout(Duration::from_millis(20), client.read(&mut buf)).await;
        assert!(r.is_err(), "nothing to read");
        drop(client);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        still_works(&fx).await;
    })
    .await
}

/// Panics in `poll_read` once the handshake is done and `armed` is set.
struct PanicOnRead<S> {
    inner: Counted<S>,
    armed: Arc<AtomicUsize>,
}

impl<S: AsyncRead + Unpin> AsyncRead for PanicOnRead<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.armed.load(Ordering::SeqCst) == 1 {
            panic!("transport panic on purpose");
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for PanicOnRead<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_transport_panic_reaches_the_task_and_frees_everything() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (a, b) = tokio::io::duplex(16 * 1024);
        let (a, drops) = Counted::new(a);
        let armed = Arc::new(AtomicUsize::new(0));
        let transport = PanicOnRead {
            inner: a,
            armed: armed.clone(),
        };
        let (client, server) = tokio::join!(
            client_options(&fx).connect_async(transport),
            server_options(&fx).accept_async(b)
        );
        let (mut client, _server) = (client.unwrap(), server.unwrap());
        armed.store(1, Ordering::SeqCst);
        let task = tokio::spawn(async move {
            let mut buf = [0u8; 16];
            let _ = client.read(&mut buf).await;
        });
        let err = task.await.expect_err("the panic resumes in the task");
        assert!(err.is_panic());
        let payload = err.into_panic();
        assert_eq!(
            payload.downcast_ref::<&str>().copied(),
            Some("transport panic on purpose")
        );
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        still_works(&fx).await;
    })
    .await
}

#![cfg(feature = "tokio")]
//! `sslbridge::tokio` over `tokio::io::duplex`: handshake and inspection, verification,
//! 64 MiB both ways through `tokio::io::split`, an echo through split halves, orderly close,
//! truncation, shutting down a failed handshake, cancel-safe reads, buffered writes.

use crate::common::{self, Fixture};
use crate::tokio_common::*;
use sslbridge::tokio::SslStream;
use sslbridge::{Error, Protocol, Verify};
use std::io;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync<T: Send + Sync>() {}

#[tokio::test]
async fn handshake_inspect_and_close() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (a, b) = tokio::io::duplex(16 * 1024);
        let client = client_options(&fx)
            .alpn_protocols(&["h2", "http/1.1"])
            .connect_async(a);
        let server = server_options(&fx)
            .alpn_protocols(&["http/1.1"])
            .accept_async(b);
        // The futures go to tokio::spawn: they must be Send.
        assert_send(&client);
        assert_send(&server);
        let server = tokio::spawn(async move {
            let mut tls = server.await?;
            assert!(tls.ssl().is_handshake_done());
            let mut request = Vec::new();
            tls.read_to_end(&mut request).await?; // ends at the client's close_notify
            tls.write_all(&request).await?;
            tls.shutdown().await?;
            // A second shutdown does nothing more.
            tls.shutdown().await?;
            io::Result::Ok(request)
        });
        let mut tls = tokio::spawn(client)
            .await
            .unwrap()
            .expect("client handshake");
        let ssl = tls.ssl();
        assert_eq!(ssl.protocol_version(), Some(Protocol::Tls1_3));
        assert!(ssl.cipher_name().is_some());
        assert_eq!(ssl.selected_alpn_protocol(), Some("http/1.1"));
        let peer = ssl.peer_certificate().expect("the server's certificate");
        assert!(peer.subject_name().contains("localhost"));
        assert!(ssl.transport_stats().reads > 0);
        assert!(!ssl.uses_fd_fast_path());

        tls.write_all(b"hello async").await.unwrap();
        tls.shutdown().await.unwrap();
        let mut echo = Vec::new();
        tls.read_to_end(&mut echo).await.unwrap();
        assert_eq!(echo, b"hello async");
        // After close_notify reads keep returning end of stream.
        assert_eq!(tls.read(&mut [0u8; 8]).await.unwrap(), 0);
        assert_eq!(server.await.unwrap().unwrap(), b"hello async");
    })
    .await
}

#[test]
fn streams_and_futures_are_send() {
    assert_send_sync::<SslStream<DuplexStream>>();
    assert_send_sync::<SslStream<tokio::net::TcpStream>>();
}

#[tokio::test]
async fn verification_is_the_same_as_blocking() {
    bounded(LIMIT, async {
        let fx = Fixture::new();

        // Wrong host name.
        let (a, b) = tokio::io::duplex(16 * 1024);
        let server = tokio::spawn(server_options(&fx).accept_async(b));
        let err = sslbridge::ClientOptions::new()
            .hostname("example.com")
            .context(fx.client_context(None))
            .connect_async(a)
            .await
            .expect_err("wrong host name must fail");
        assert!(matches!(err, Error::Hostname { .. }), "{err:?}");
        assert!(server.await.unwrap().is_err());

        // Untrusted root: the default verification is Required.
        let (a, b) = tokio::io::duplex(16 * 1024);
        let server = tokio::spawn(server_options(&fx).accept_async(b));
        let untrusted = sslbridge::Context::builder().build().unwrap();
        let err = sslbridge::ClientOptions::new()
            .hostname("localhost")
            .context(untrusted)
            .connect_async(a)
            .await
            .expect_err("an untrusted chain must fail");
        assert!(matches!(err, Error::Verify { .. }), "{err:?}");
        assert!(server.await.unwrap().is_err());

        // Verify::None accepts it.
        let (a, b) = tokio::io::duplex(16 * 1024);
        let server = tokio::spawn(server_options(&fx).accept_async(b));
        let tls = sslbridge::ClientOptions::new()
            .hostname("example.com")
            .verify(Verify::None)
            .context(sslbridge::Context::builder().build().unwrap())
            .connect_async(a)
            .await
            .expect("Verify::None accepts anything");
        assert!(tls.ssl().is_handshake_done());
        server.await.unwrap().unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_64_mib_both_ways_through_split() {
    bounded(LIMIT, async {
        const TOTAL: u64 = 64 << 20;
        let fx = Fixture::new();
        let (client, server) = duplex_pair(&fx, 64 * 1024).await;
        let (mut cr, mut cw) = tokio::io::split(client);
        let (mut sr, mut sw) = tokio::io::split(server);
        let tasks = [
            tokio::spawn(async move { write_pattern(&mut cw, 1, TOTAL, 100_000).await }),
            tokio::spawn(async move { write_pattern(&mut sw, 2, TOTAL, 16 * 1024).await }),
            tokio::spawn(async move { read_pattern(&mut sr, 1, TOTAL).await }),
            tokio::spawn(async move { read_pattern(&mut cr, 2, TOTAL).await }),
        ];
        for task in tasks {
            task.await.unwrap().expect("64 MiB byte-exact");
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_through_split_halves() {
    bounded(LIMIT, async {
        const TOTAL: u64 = 8 << 20;
        let fx = Fixture::new();
        let (client, server) = duplex_pair(&fx, 32 * 1024).await;
        // The server echoes with tokio::io::copy between its own halves until close_notify.
        let server = tokio::spawn(async move {
            let (mut r, mut w) = tokio::io::split(server);
            let n = tokio::io::copy(&mut r, &mut w).await?;
            w.shutdown().await?;
            io::Result::Ok(n)
        });
        let (mut r, mut w) = tokio::io::split(client);
        let writer = tokio::spawn(async move {
            write_pattern(&mut w, 7, TOTAL, 50_000).await?;
            w.shutdown().await?;
            io::Result::Ok(())
        });
        read_pattern(&mut r, 7, TOTAL).await.expect("the echo");
        assert_eq!(r.read(&mut [0u8; 16]).await.unwrap(), 0, "close_notify");
        writer.await.unwrap().unwrap();
        assert_eq!(server.await.unwrap().unwrap(), TOTAL);
    })
    .await
}

#[tokio::test]
async fn transport_eof_without_close_notify_is_unexpected_eof() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (mut client, mut server) = duplex_pair(&fx, 64 * 1024).await;
        server.write_all(b"partial").await.unwrap();
        server.flush().await.unwrap();
        // The server's transport goes away without close_notify.
        drop(server.into_inner());
        let mut buf = [0u8; 7];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"partial");
        let err = client.read(&mut buf).await.expect_err("truncation");
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err:?}");
        assert!(matches!(Error::from(err), Error::UnexpectedEof));
    })
    .await
}

#[tokio::test]
async fn transport_eof_mid_handshake_is_an_error() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (a, b) = tokio::io::duplex(64 * 1024);
        drop(b);
        let err = client_options(&fx)
            .connect_async(a)
            .await
            .expect_err("no peer");
        // Writing the ClientHello into a closed duplex fails with BrokenPipe.
        assert!(
            matches!(&err, Error::UnexpectedEof)
                || matches!(&err, Error::Io(e) if e.kind() == io::ErrorKind::BrokenPipe),
            "{err:?}"
        );
    })
    .await
}

#[tokio::test]
async fn a_failed_handshake_can_be_shut_down() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let (a, b) = tokio::io::duplex(64 * 1024);
        let mut client = sslbridge::ClientOptions::new()
            .hostname("wrong.example")
            .context(fx.client_context(None))
            .start_async(a)
            .unwrap();
        let mut server = server_options(&fx).start_async(b).unwrap();
        let (c, s) = tokio::join!(client.handshake(), server.handshake());
        assert!(matches!(c, Err(Error::Hostname { .. })), "{c:?}");
        assert!(s.is_err(), "the server sees the client's alert");
        // No "shutdown while in init": there is no session to close; the transport is shut
        // down and the failure reported, as by every later call.
        let err = client
            .shutdown()
            .await
            .expect_err("the failure is reported");
        assert!(
            matches!(Error::from(err), Error::StreamFailed { .. }),
            "client shutdown after a failed handshake"
        );
        let _ = server.shutdown().await;
        // The failed stream refuses I/O.
        let err = client.write_all(b"x").await.expect_err("failed stream");
        assert!(matches!(Error::from(err), Error::StreamFailed { .. }));
        // Shutting down a stream that never started is fine too.
        let (a, _b) = tokio::io::duplex(1024);
        let mut idle = client_options(&fx).start_async(a).unwrap();
        idle.shutdown()
            .await
            .expect("shutdown before any handshake");
    })
    .await
}

#[tokio::test]
async fn the_blocking_timeout_option_is_refused() {
    let fx = Fixture::new();
    let (a, b) = tokio::io::duplex(1024);
    let err = client_options(&fx)
        .timeout(Duration::from_secs(1))
        .start_async(a)
        .expect_err("timeout() is for blocking streams");
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
    let err = server_options(&fx)
        .timeout(Duration::from_secs(1))
        .accept_async(b)
        .await
        .expect_err("timeout() is for blocking streams");
    assert!(matches!(err, Error::InvalidArgument(_)), "{err:?}");
}

#[tokio::test]
async fn reads_are_cancel_safe() {
    bounded(LIMIT, async {
        const TOTAL: u64 = 1 << 20;
        let fx = Fixture::new();
        let (mut client, mut server) = duplex_pair(&fx, 8 * 1024).await;
        let writer = tokio::spawn(async move {
            let mut buf = vec![0u8; 3000];
            let mut offset = 0u64;
            while offset < TOTAL {
                let n = buf.len().min((TOTAL - offset) as usize);
                common::fill_pattern(3, offset, &mut buf[..n]);
                server.write_all(&buf[..n]).await?;
                offset += n as u64;
                if offset.is_multiple_of(30_000) {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            server.shutdown().await
        });
        // Every read races a very short timer; cancelled reads must lose nothing.
        let mut checker = common::PatternChecker::new(3);
        let mut buf = vec![0u8; 5000];
        let mut cancelled = 0u32;
        loop {
            tokio::select! {
                r = client.read(&mut buf) => {
                    let n = r.expect("read");
                    if n == 0 { break; }
                    checker.check(&buf[..n]);
                }
                _ = tokio::time::sleep(Duration::from_micros(50)) => cancelled += 1,
            }
        }
        assert_eq!(checker.offset, TOTAL);
        writer.await.unwrap().unwrap();
        eprintln!("{cancelled} reads were cancelled");
    })
    .await
}

#[tokio::test]
async fn buffered_writes_are_cancel_safe() {
    bounded(LIMIT, async {
        const TOTAL: u64 = 1 << 20;
        let fx = Fixture::new();
        let (a, b) = tokio::io::duplex(4 * 1024);
        let (client, server) = tokio::join!(
            client_options(&fx)
                .output_buffer_size(8 * 1024)
                .connect_async(a),
            server_options(&fx).accept_async(b)
        );
        let (mut client, mut server) = (client.unwrap(), server.unwrap());
        let reader = tokio::spawn(async move {
            let mut checker = common::PatternChecker::new(4);
            let mut buf = vec![0u8; 4096];
            loop {
                let n = server.read(&mut buf).await?;
                if n == 0 {
                    return io::Result::Ok(checker.offset);
                }
                checker.check(&buf[..n]);
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        });
        // Writes race a short timer; after a cancelled write, offer a different length.
        let mut data = vec![0u8; 20_000];
        let mut offset = 0u64;
        let mut lens = [20_000usize, 7, 13_000, 1].into_iter().cycle();
        let mut len = lens.next().unwrap();
        let mut cancelled = 0u32;
        while offset < TOTAL {
            let n = len.min((TOTAL - offset) as usize);
            common::fill_pattern(4, offset, &mut data[..n]);
            match tokio::time::timeout(Duration::from_micros(100), client.write(&data[..n])).await {
                Ok(r) => offset += r.expect("write") as u64,
                Err(_) => {
                    cancelled += 1;
                    len = lens.next().unwrap();
                }
            }
        }
        client.shutdown().await.unwrap();
        assert_eq!(reader.await.unwrap().unwrap(), TOTAL);
        eprintln!("{cancelled} writes were cancelled");
    })
    .await
}

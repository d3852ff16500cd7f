#![cfg(feature = "tokio")]
//! `sslbridge::tokio` over loopback `tokio::net::TcpStream`: handshake and 64 MiB both ways,
//! the async client against the blocking sslbridge server and against `openssl s_server`, and
//! the async server against the blocking client. Only 127.0.0.1; `openssl` processes are
//! killed by PID when the test ends.

use crate::common::{self, join, require_openssl_cli, ChildGuard, Fixture, TempFiles};
use crate::tokio_common::*;
use sslbridge::{Context, Protocol, Verify, VerifyLocation};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    (client.unwrap(), accepted.unwrap().0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_handshake_and_64_mib_both_ways() {
    bounded(LIMIT, async {
        const TOTAL: u64 = 64 << 20;
        let fx = Fixture::new();
        let (a, b) = tcp_pair().await;
        let (client, server) = tokio::join!(
            client_options(&fx).connect_async(a),
            server_options(&fx).accept_async(b)
        );
        let (client, server) = (client.unwrap(), server.unwrap());
        assert_eq!(client.ssl().protocol_version(), Some(Protocol::Tls1_3));
        assert!(client.get_ref().peer_addr().unwrap().ip().is_loopback());
        let (mut cr, mut cw) = tokio::io::split(client);
        let (mut sr, mut sw) = tokio::io::split(server);
        let tasks = [
            tokio::spawn(async move {
                write_pattern(&mut cw, 11, TOTAL, 64 * 1024).await?;
                cw.shutdown().await
            }),
            tokio::spawn(async move {
                write_pattern(&mut sw, 12, TOTAL, 16 * 1024).await?;
                sw.shutdown().await
            }),
            tokio::spawn(async move {
                read_pattern(&mut sr, 11, TOTAL).await?;
                assert_eq!(sr.read(&mut [0u8; 1]).await?, 0, "close_notify");
                Ok(())
            }),
            tokio::spawn(async move {
                read_pattern(&mut cr, 12, TOTAL).await?;
                assert_eq!(cr.read(&mut [0u8; 1]).await?, 0, "close_notify");
                Ok(())
            }),
        ];
        for task in tasks {
            task.await.unwrap().expect("64 MiB byte-exact");
        }
    })
    .await
}

#[tokio::test]
async fn async_client_against_the_blocking_server() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server_ctx = fx.server_context(None);
        let server = std::thread::spawn(move || -> Result<Vec<u8>, sslbridge::Error> {
            let (tcp, _) = listener.accept()?;
            tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
            let mut tls = sslbridge::ServerOptions::new()
                .context(server_ctx)
                .accept(tcp)?;
            let mut request = Vec::new();
            tls.read_to_end(&mut request)?;
            tls.write_all(b"blocking says hi")?;
            tls.close()?;
            Ok(request)
        });
        let tcp = TcpStream::connect(addr).await.unwrap();
        let mut tls = client_options(&fx).connect_async(tcp).await.unwrap();
        tls.write_all(b"async says hi").await.unwrap();
        tls.shutdown().await.unwrap();
        let mut reply = Vec::new();
        tls.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"blocking says hi");
        let request = tokio::task::spawn_blocking(move || join(server))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(request, b"async says hi");
    })
    .await
}

#[tokio::test]
async fn async_server_against_the_blocking_client() {
    bounded(LIMIT, async {
        let fx = Fixture::new();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client_ctx = fx.client_context(None);
        let client = std::thread::spawn(move || -> Result<Vec<u8>, sslbridge::Error> {
            let tcp = std::net::TcpStream::connect(addr)?;
            tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
            let mut tls = sslbridge::ClientOptions::new()
                .hostname("localhost")
                .context(client_ctx)
                .connect(tcp)?;
            tls.write_all(b"ping")?;
            let mut reply = Vec::new();
            tls.read_to_end(&mut reply)?;
            tls.close()?;
            Ok(reply)
        });
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = server_options(&fx).accept_async(tcp).await.unwrap();
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");
        tls.write_all(b"pong").await.unwrap();
        tls.shutdown().await.unwrap();
        let reply = tokio::task::spawn_blocking(move || join(client))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reply, b"pong");
    })
    .await
}

fn version_flag(version: Protocol) -> &'static str {
    match version {
        Protocol::Tls1_3 => "-tls1_3",
        _ => "-tls1_2",
    }
}

/// Starts `openssl s_server -rev` (echoes each line reversed) on a free port of 127.0.0.1.
async fn start_s_server(dir: &TempFiles, version: Protocol) -> (ChildGuard, u16) {
    for _ in 0..5 {
        let port = common::free_port();
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(dir.path().join("leaf.pem"))
            .arg("-cert_chain")
            .arg(dir.path().join("intermediate.pem"))
            .arg("-key")
            .arg(dir.path().join("key.pem"))
            .args(["-rev", version_flag(version)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut server = ChildGuard::spawn(cmd, "openssl s_server");
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return (server, port);
            }
            if !matches!(server.child.try_wait(), Ok(None)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
    panic!("openssl s_server did not start listening");
}

async fn async_client_against_s_server(version: Protocol) {
    let fx = Fixture::new();
    let dir = TempFiles::new();
    let root = fx.write_pems(&dir);
    let (server, port) = start_s_server(&dir, version).await;

    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let ctx = Context::builder()
        .verify_location(VerifyLocation::File(root))
        .build()
        .unwrap();
    let tls = sslbridge::ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(ctx)
        .connect_async(tcp)
        .await
        .expect("handshake with openssl s_server, verified");
    assert_eq!(tls.ssl().protocol_version(), Some(version));
    let peer = tls
        .ssl()
        .peer_certificate()
        .expect("s_server's certificate");
    assert!(peer.subject_name().contains("localhost"));

    // s_server -rev reverses what one read returns (16 KiB at most): keep lines shorter.
    let long: String = (0..4_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let mut reader = BufReader::new(tls);
    for line in ["hello s_server", "second line", long.as_str()] {
        let tls = reader.get_mut();
        tls.write_all(format!("{line}\n").as_bytes()).await.unwrap();
        tls.flush().await.unwrap();
        let mut reply = String::new();
        reader
            .read_line(&mut reply)
            .await
            .expect("s_server's reply");
        let expected: String = line.chars().rev().collect();
        assert!(
            reply.trim_end_matches(['\r', '\n']) == expected,
            "s_server answered {} bytes, not the {} reversed",
            reply.len(),
            line.len()
        );
    }
    let mut tls = reader.into_inner();
    tls.shutdown().await.expect("close_notify to s_server");
    drop(server);
}

#[tokio::test]
async fn tls13_async_client_against_openssl_s_server() {
    require_openssl_cli();
    bounded(LIMIT, async_client_against_s_server(Protocol::Tls1_3)).await
}

#[tokio::test]
async fn tls12_async_client_against_openssl_s_server() {
    require_openssl_cli();
    bounded(LIMIT, async_client_against_s_server(Protocol::Tls1_2)).await
}

//! Against real peers: our client with `openssl s_server`, our server with `openssl s_client`,
//! over TCP on 127.0.0.1, TLS 1.2 and TLS 1.3. The openssl processes are spawned by the test
//! and killed by PID when the test ends, whatever happens.

use crate::common::*;
use sslbridge::{ClientOptions, Context, Protocol, ServerOptions, Verify};
use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

fn version_flag(version: Protocol) -> &'static str {
    match version {
        Protocol::Tls1_3 => "-tls1_3",
        _ => "-tls1_2",
    }
}

/// Starts `openssl s_server -rev` (echoes each line reversed) on a free port.
fn start_s_server(dir: &TempFiles, version: Protocol) -> (ChildGuard, u16) {
    let fx_files = (
        dir.path().join("leaf.pem"),
        dir.path().join("intermediate.pem"),
        dir.path().join("key.pem"),
        dir.path().join("root.pem"),
    );
    // Another process may grab the port between our probe and s_server's bind: retry.
    for _ in 0..5 {
        let port = free_port();
        let mut cmd = Command::new("openssl");
        cmd.args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&fx_files.0)
            .arg("-cert_chain")
            .arg(&fx_files.1)
            .arg("-key")
            .arg(&fx_files.2)
            .arg("-CAfile")
            .arg(&fx_files.3)
            .args(["-rev", version_flag(version)])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut server = ChildGuard::spawn(cmd, "openssl s_server");
        let up = wait_for_port(port, Duration::from_secs(10), || {
            matches!(server.child.try_wait(), Ok(None))
        });
        if up {
            return (server, port);
        }
    }
    panic!("openssl s_server did not start listening");
}

fn client_against_s_server(version: Protocol) {
    let fx = Fixture::new();
    let dir = TempFiles::new();
    let root = fx.write_pems(&dir);
    let (server, port) = start_s_server(&dir, version);

    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let ctx = Context::builder()
        .verify_location(sslbridge::VerifyLocation::File(root))
        .build()
        .unwrap();
    let tls = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(ctx)
        .connect(tcp)
        .expect("handshake with openssl s_server, verified");
    assert_eq!(tls.protocol_version(), Some(version));
    let peer = tls.peer_certificate().expect("s_server's certificate");
    assert!(peer.subject_name().contains("localhost"));

    // s_server -rev reverses what one read returns (16 KiB at most): keep lines shorter.
    let long: String = (0..4_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let lines = ["hello s_server", "second line", long.as_str()];
    let mut reader = std::io::BufReader::new(tls);
    for line in lines {
        reader
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())
            .unwrap();
        let mut reply = String::new();
        reader.read_line(&mut reply).expect("s_server's reply");
        let expected: String = line.chars().rev().collect();
        assert!(
            reply.trim_end_matches(['\r', '\n']) == expected,
            "s_server answered {} bytes, not the {} reversed",
            reply.len(),
            line.len()
        );
    }
    let tls = reader.into_inner();
    tls.close().expect("close_notify to s_server");
    drop(server);
}

#[test]
fn tls13_client_against_openssl_s_server() {
    require_openssl_cli();
    within(LIMIT, || client_against_s_server(Protocol::Tls1_3));
}

#[test]
fn tls12_client_against_openssl_s_server() {
    require_openssl_cli();
    within(LIMIT, || client_against_s_server(Protocol::Tls1_2));
}

#[test]
fn client_rejects_openssl_s_server_with_untrusted_certificate() {
    require_openssl_cli();
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        fx.write_pems(&dir);
        let (server, port) = start_s_server(&dir, Protocol::Tls1_3);
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        // Trust only the unrelated root.
        let ctx = Context::builder()
            .ca_certificates_pem(&fx.pki.untrusted_root_pem())
            .build()
            .unwrap();
        let err = ClientOptions::new()
            .hostname("localhost")
            .context(ctx)
            .connect(tcp)
            .expect_err("the chain does not lead to a trusted root");
        assert!(
            matches!(err, sslbridge::Error::Verify { code: 20, .. }),
            "{err:?}"
        );
        drop(server);
    });
}

fn server_against_s_client(version: Protocol) {
    let fx = Fixture::new();
    let dir = TempFiles::new();
    let root = dir.write("root.pem", &fx.pki.root_pem());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(&root)
        .args([
            "-verify_return_error",
            "-servername",
            "localhost",
            "-verify_hostname",
            "localhost",
            version_flag(version),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut client = ChildGuard::spawn(cmd, "openssl s_client");
    let mut stdin = client.child.stdin.take().unwrap();
    let (stdout, stdout_reader) = collect_output(client.child.stdout.take().unwrap());
    let (stderr, stderr_reader) = collect_output(client.child.stderr.take().unwrap());

    let (tcp, _) = listener.accept().expect("s_client connects");
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let ctx = fx.server_context(Some(version));
    let mut tls = ServerOptions::new()
        .context(ctx)
        .accept(tcp)
        .expect("handshake with openssl s_client");
    assert_eq!(tls.protocol_version(), Some(version));

    stdin.write_all(b"hello from s_client\n").unwrap();
    stdin.flush().unwrap();
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\n") {
        let n = tls.read(&mut byte).expect("read what s_client sent");
        assert!(n > 0, "EOF before the line; got {got:?}");
        got.push(byte[0]);
    }
    assert_eq!(got, b"hello from s_client\n");
    tls.write_all(b"hello from sslbridge\n").unwrap();
    tls.flush().unwrap();
    tls.close().expect("close_notify to s_client");
    // s_client leaves on the server's close_notify (or at stdin EOF).
    thread::sleep(Duration::from_millis(200));
    drop(stdin);
    assert!(
        client.wait_exit(Duration::from_secs(10)),
        "s_client did not exit"
    );
    join(stdout_reader);
    join(stderr_reader);
    let out = stdout.lock().unwrap().clone();
    let err = stderr.lock().unwrap().clone();
    assert!(
        out.contains("Verify return code: 0 (ok)"),
        "stdout:\n{out}\nstderr:\n{err}"
    );
    assert!(
        out.contains("hello from sslbridge"),
        "stdout:\n{out}\nstderr:\n{err}"
    );
    let protocol = match version {
        Protocol::Tls1_3 => "TLSv1.3",
        _ => "TLSv1.2",
    };
    assert!(
        out.contains(&format!("Protocol  : {protocol}"))
            || out.contains(&format!("New, {protocol}")),
        "stdout:\n{out}"
    );
}

#[test]
fn tls13_server_against_openssl_s_client() {
    require_openssl_cli();
    within(LIMIT, || server_against_s_client(Protocol::Tls1_3));
}

#[test]
fn tls12_server_against_openssl_s_client() {
    require_openssl_cli();
    within(LIMIT, || server_against_s_client(Protocol::Tls1_2));
}

#[test]
fn bulk_transfer_to_openssl_s_server() {
    require_openssl_cli();
    within(LIMIT, || {
        // 2 MiB through s_server -rev as 512 lines of 4 KiB, all reversed back.
        let fx = Fixture::new();
        let dir = TempFiles::new();
        fx.write_pems(&dir);
        let (server, port) = start_s_server(&dir, Protocol::Tls1_3);
        let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        tcp.set_nodelay(true).unwrap();
        let tls = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(tcp)
            .unwrap();
        let mut reader = std::io::BufReader::new(tls);
        let mut line = vec![0u8; 4096];
        let mut reply = Vec::new();
        for i in 0..512u64 {
            fill_pattern(9, i * 4096, &mut line);
            for b in line.iter_mut() {
                *b = b'a' + *b % 26;
            }
            let mut message = line.clone();
            message.push(b'\n');
            // One record per line: no Nagle/delayed-ACK stall between two small writes.
            reader.get_mut().write_all(&message).unwrap();
            reply.clear();
            reader.read_until(b'\n', &mut reply).unwrap();
            let body = reply.strip_suffix(b"\n").unwrap_or(&reply);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            let mut expected = line.clone();
            expected.reverse();
            assert!(body == &expected[..], "line {i} came back wrong");
        }
        let mut tls = reader.into_inner();
        tls.shutdown().unwrap();
        let mut rest = Vec::new();
        let _ = tls.read_to_end(&mut rest);
        drop(server);
    });
}

//! Against real OpenSSL peers on 127.0.0.1: our fd-path server with `openssl s_client`, and our
//! fd-path client with `openssl s_server`, TLS 1.2 and 1.3, 1 MiB byte-exact each way (the
//! tools' stdin/stdout carry the plaintext). The tools are killed by PID when a test ends.
//! A missing `openssl` command fails the tests, naming the Debian package.

use crate::common::*;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const TOTAL: u64 = MIB as u64;

/// The PKI's files for the command-line tools.
struct Files {
    _dir: TempFiles,
    root: String,
    leaf: String,
    intermediate: String,
    key: String,
}

fn files() -> Files {
    let pki = Fixture::shared();
    let dir = TempFiles::new();
    let path = |name: &str, data: &[u8]| dir.write(name, data).display().to_string();
    Files {
        root: path("root.pem", &pki.pki.root_pem()),
        leaf: path("leaf.pem", &pki.server.cert_pem),
        intermediate: path("intermediate.pem", &pki.pki.intermediate_pem()),
        key: path("key.pem", &pki.server.key_pem),
        _dir: dir,
    }
}

fn version_flag(version: sslbridge::Protocol) -> &'static str {
    match version {
        sslbridge::Protocol::Tls1_2 => "-tls1_2",
        _ => "-tls1_3",
    }
}

fn our_server_with_s_client(version: sslbridge::Protocol) {
    require_openssl_cli();
    within(FD_LIMIT, move || {
        let f = files();
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut command = Command::new("openssl");
        command
            .args(["s_client", "-connect", &format!("127.0.0.1:{port}")])
            .args(["-servername", "localhost", "-verify_hostname", "localhost"])
            .args(["-CAfile", &f.root, "-verify_return_error", "-quiet"])
            .arg(version_flag(version))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut client = ChildGuard::spawn(command, "openssl s_client");
        let mut stdin = client.child.stdin.take().unwrap();
        let mut stdout = client.child.stdout.take().unwrap();
        let mut stderr = client.child.stderr.take().unwrap();
        let errors = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });

        let (tcp, _) = listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut tls = Fixture::shared()
            .server(Mode::FdPath)
            .accept(tcp)
            .expect("accept s_client");
        assert!(tls.uses_fd_fast_path());
        assert_eq!(tls.protocol_version(), Some(version));

        let feeder = thread::spawn(move || {
            send_pattern(&mut stdin, 11, TOTAL, 16 * 1024);
            stdin // keep it open until s_client is done
        });
        let drain = thread::spawn(move || {
            receive_pattern(&mut stdout, 12, TOTAL);
            stdout
        });
        receive_pattern(&mut tls, 11, TOTAL);
        send_pattern(&mut tls, 12, TOTAL, 16 * 1024);
        let _stdout = join(drain);
        assert_eq!(tls.transport_stats(), sslbridge::TransportStats::default());
        tls.close().expect("close");
        let _stdin = join(feeder);
        let status = client.wait_until(Duration::from_secs(10));
        let errors = join(errors);
        assert!(
            status.is_some_and(|s| s.success()),
            "s_client: {status:?}\n{errors}"
        );
    })
}

fn our_client_with_s_server(version: sslbridge::Protocol) {
    require_openssl_cli();
    within(FD_LIMIT, move || {
        let f = files();
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new("openssl");
        command
            .args(["s_server", "-accept", &format!("127.0.0.1:{port}")])
            .args(["-cert", &f.leaf, "-cert_chain", &f.intermediate])
            .args(["-key", &f.key, "-quiet", "-naccept", "1"])
            .arg(version_flag(version))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut server = ChildGuard::spawn(command, "openssl s_server");
        let mut stdin = server.child.stdin.take().unwrap();
        let mut stdout = server.child.stdout.take().unwrap();
        let mut stderr = server.child.stderr.take().unwrap();
        let errors = thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });

        // Refused connections never reach s_server, so retrying is safe until it listens.
        let deadline = Instant::now() + Duration::from_secs(15);
        let tcp = loop {
            match TcpStream::connect((Ipv4Addr::LOCALHOST, port)) {
                Ok(tcp) => break tcp,
                Err(e) => {
                    if let Ok(Some(status)) = server.child.try_wait() {
                        panic!("s_server exited with {status}: {}", join(errors));
                    }
                    assert!(Instant::now() < deadline, "s_server never listened: {e}");
                    thread::sleep(Duration::from_millis(20));
                }
            }
        };
        let mut tls = Fixture::shared()
            .client(Mode::FdPath)
            .timeout(Duration::from_secs(20))
            .connect(tcp)
            .expect("connect to s_server");
        assert!(tls.uses_fd_fast_path());
        assert_eq!(tls.protocol_version(), Some(version));

        let drain = thread::spawn(move || {
            receive_pattern(&mut stdout, 21, TOTAL);
            stdout
        });
        send_pattern(&mut tls, 21, TOTAL, 16 * 1024);
        let _stdout = join(drain);
        let feeder = thread::spawn(move || {
            send_pattern(&mut stdin, 22, TOTAL, 16 * 1024);
            stdin
        });
        receive_pattern(&mut tls, 22, TOTAL);
        let _stdin = join(feeder);
        assert_eq!(tls.transport_stats(), sslbridge::TransportStats::default());
        tls.close().expect("close");
        server.wait_until(Duration::from_secs(10));
        drop(errors);
    })
}

#[test]
fn fd_server_with_openssl_s_client_tls12() {
    our_server_with_s_client(sslbridge::Protocol::Tls1_2);
}

#[test]
fn fd_server_with_openssl_s_client_tls13() {
    our_server_with_s_client(sslbridge::Protocol::Tls1_3);
}

#[test]
fn fd_client_with_openssl_s_server_tls12() {
    our_client_with_s_server(sslbridge::Protocol::Tls1_2);
}

#[test]
fn fd_client_with_openssl_s_server_tls13() {
    our_client_with_s_server(sslbridge::Protocol::Tls1_3);
}

//! TLS over pipes: a child process's stdin/stdout (the test binary re-executes itself as a TLS
//! server on its own stdio), in-process `std::io::pipe()` pairs, and `Pipes` whose halves are
//! not descriptors (which must fall back to the custom BIO).

use crate::common::*;
use sslbridge::{Pipes, ServerOptions, SslStream};
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::thread;
use std::time::Duration;

/// Set in the child's environment to the mode it should serve in.
const CHILD_ENV: &str = "SSLBRIDGE_FD_TEST_CHILD";
/// The child writes this to its stdout right before TLS starts, so the parent can skip
/// whatever the test harness printed first ("running 1 test").
const MARKER: &[u8] = b"\n<<sslbridge-fd-child-tls-starts>>\n";
const CHILD_TEST: &str = "child_tls_server_on_stdio";

/// Not a test on its own: when the parent runs this binary with `CHILD_ENV` set, this entry is
/// the child, a TLS server on stdin/stdout that exchanges `bytes` each way and exits.
#[test]
fn child_tls_server_on_stdio() {
    let Ok(mode) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mode = if mode == "fd" {
        Mode::FdPath
    } else {
        Mode::CustomBio
    };
    let chain = std::env::var("SSLBRIDGE_FD_TEST_CHAIN").unwrap();
    let key = std::env::var("SSLBRIDGE_FD_TEST_KEY").unwrap();
    let total: u64 = std::env::var("SSLBRIDGE_FD_TEST_BYTES")
        .unwrap()
        .parse()
        .unwrap();
    // Own copies of descriptors 0 and 1 (Rust's Stdin/Stdout buffer internally).
    let stdin = File::from(std::io::stdin().as_fd().try_clone_to_owned().unwrap());
    let mut stdout = File::from(std::io::stdout().as_fd().try_clone_to_owned().unwrap());
    stdout.write_all(MARKER).unwrap();
    let code = match std::panic::catch_unwind(move || {
        let mut tls = mode
            .server(
                ServerOptions::new()
                    .certificate_chain_pem(chain.as_bytes())
                    .private_key_pem(key.as_bytes()),
            )
            .accept(Pipes::new(stdin, stdout))
            .expect("child accept");
        assert_eq!(tls.uses_fd_fast_path(), mode.is_fd(), "child path");
        exchange(&mut tls, 2, 1, total);
        let stats = tls.transport_stats();
        if mode.is_fd() {
            assert_eq!((stats.reads, stats.writes), (0, 0), "child: fd path stats");
        }
        tls.close().expect("child close");
    }) {
        Ok(()) => 0,
        Err(_) => 1,
    };
    // Exit before the harness prints its summary into the (closed) pipe.
    std::process::exit(code);
}

/// Spawns the child server and returns it with its stdout positioned after the marker.
fn spawn_child(mode: Mode, total: u64) -> (ChildGuard, ChildStdout, ChildStdin) {
    let pki = Fixture::shared();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        // A name filter, not `--exact`: the test's full name starts with its module's path.
        .args([CHILD_TEST, "--test-threads=1", "--quiet"])
        .env(CHILD_ENV, if mode.is_fd() { "fd" } else { "custom" })
        .env(
            "SSLBRIDGE_FD_TEST_CHAIN",
            String::from_utf8(pki.server.chain_pem.clone()).unwrap(),
        )
        .env(
            "SSLBRIDGE_FD_TEST_KEY",
            String::from_utf8(pki.server.key_pem.clone()).unwrap(),
        )
        .env("SSLBRIDGE_FD_TEST_BYTES", total.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut guard = ChildGuard::spawn(command, "test child");
    let mut stdout = guard.child.stdout.take().unwrap();
    let stdin = guard.child.stdin.take().unwrap();
    // Skip the harness's chatter, one byte at a time so nothing after the marker is consumed.
    let mut seen = Vec::new();
    while !seen.ends_with(MARKER) {
        let mut byte = [0u8; 1];
        let n = stdout.read(&mut byte).expect("read child stdout");
        assert!(
            n == 1 && seen.len() < 4096,
            "child never started TLS: {:?}",
            String::from_utf8_lossy(&seen)
        );
        seen.push(byte[0]);
    }
    (guard, stdout, stdin)
}

fn child_pipes_64mib(mode: Mode) {
    const TOTAL: u64 = 64 * MIB as u64;
    within(FD_LIMIT, move || {
        let (mut child, stdout, stdin) = spawn_child(mode, TOTAL);
        let pipes = Pipes::new(stdout, stdin);
        let (r, w) = pipes.descriptors().expect("child pipes are descriptors");
        assert_ne!(r, w, "one descriptor per direction");
        let mut tls = Fixture::shared()
            .client(mode)
            .connect(pipes)
            .expect("connect");
        assert_eq!(tls.uses_fd_fast_path(), mode.is_fd());
        if mode.is_fd() {
            // One fd BIO per direction: OpenSSL reports both descriptors.
            let (sr, sw) = ssl_fds(&tls);
            assert!(same_file(sr, r) && same_file(sw, w), "SSL_get_rfd/wfd");
        }
        let start = std::time::Instant::now();
        exchange(&mut tls, 1, 2, TOTAL);
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "{mode:?}: 64 MiB each way over a child's pipes in {secs:.2} s ({:.0} MB/s)",
            2.0 * TOTAL as f64 / secs / 1e6
        );
        let stats = tls.transport_stats();
        if mode.is_fd() {
            assert_eq!((stats.reads, stats.writes), (0, 0));
        } else {
            assert!(stats.reads > 0 && stats.writes > 0);
        }
        let mut end = [0u8; 1];
        assert_eq!(tls.read(&mut end).expect("child's close_notify"), 0);
        tls.close().expect("close");
        let status = child
            .wait_until(Duration::from_secs(20))
            .expect("child exits");
        assert!(status.success(), "child failed: {status}");
    })
}

extern "C" {
    fn SSL_get_rfd(ssl: *const openssl_sys::SSL) -> std::os::raw::c_int;
    fn SSL_get_wfd(ssl: *const openssl_sys::SSL) -> std::os::raw::c_int;
}

fn ssl_fds<T>(tls: &SslStream<T>) -> (i32, i32) {
    // SAFETY: the stream's SSL is live; both calls only read its BIOs.
    unsafe { (SSL_get_rfd(tls.as_ptr()), SSL_get_wfd(tls.as_ptr())) }
}

#[test]
fn child_pipes_64mib_fd_path() {
    child_pipes_64mib(Mode::FdPath);
}

#[test]
fn child_pipes_64mib_custom_bio() {
    child_pipes_64mib(Mode::CustomBio);
}

/// A `Pipes` whose reader is a `BufReader` is not a pair of descriptors: it must run (and
/// work) on the custom BIO even with the default options.
#[test]
fn pipes_of_non_descriptors_fall_back_to_custom_bio() {
    const TOTAL: u64 = 4 * MIB as u64;
    within(FD_LIMIT, || {
        let (mut child, stdout, stdin) = spawn_child(Mode::FdPath, TOTAL);
        let pipes = Pipes::new(BufReader::new(stdout), stdin);
        assert_eq!(pipes.descriptors(), None);
        assert_eq!(sslbridge::stream_fd(&pipes), None);
        let mut tls = Fixture::shared()
            .client(Mode::FdPath)
            .connect(pipes)
            .unwrap();
        assert!(!tls.uses_fd_fast_path());
        exchange(&mut tls, 1, 2, TOTAL);
        assert!(tls.transport_stats().reads > 0);
        let mut end = [0u8; 1];
        assert_eq!(tls.read(&mut end).unwrap(), 0);
        tls.close().unwrap();
        let status = child.wait_until(Duration::from_secs(20)).unwrap();
        assert!(status.success(), "child failed: {status}");
    })
}

/// Two in-process `std::io::pipe()`s, client and server on two threads, both paths: pipes get
/// fd BIOs (`send` on a pipe would fail with ENOTSOCK), 16 MiB each way.
#[test]
fn in_process_pipes_both_paths() {
    for mode in Mode::BOTH {
        within(FD_LIMIT, move || {
            let (r1, w1) = std::io::pipe().unwrap();
            let (r2, w2) = std::io::pipe().unwrap();
            let client_pipes = Pipes::new(r2, w1);
            let server_pipes = Pipes::new(r1, w2);
            assert!(client_pipes.descriptors().is_some());
            let pki = Fixture::shared();
            let server = thread::spawn(move || {
                let mut tls = pki.server(mode).accept(server_pipes).expect("accept");
                assert_eq!(tls.uses_fd_fast_path(), mode.is_fd());
                exchange(&mut tls, 2, 1, 16 * MIB as u64);
                tls.close().expect("server close");
            });
            let (r, w) = client_pipes.descriptors().unwrap();
            assert_eq!(sslbridge::stream_fd(&client_pipes), Some(r));
            let mut tls = pki.client(mode).connect(client_pipes).expect("connect");
            assert_eq!(tls.uses_fd_fast_path(), mode.is_fd());
            if mode.is_fd() {
                let (sr, sw) = ssl_fds(&tls);
                assert!(same_file(sr, r) && same_file(sw, w), "SSL_get_rfd/wfd");
            }
            exchange(&mut tls, 1, 2, 16 * MIB as u64);
            let mut end = [0u8; 1];
            assert_eq!(tls.read(&mut end).unwrap(), 0);
            join(server);
            let stats = tls.transport_stats();
            assert_eq!(stats.reads == 0, mode.is_fd(), "{mode:?}: {stats:?}");
            tls.close().expect("client close");
        });
    }
}

/// Over a pair of blocking pipes on the fd path (one fd BIO per direction), a 64 KiB read takes
/// every whole record OpenSSL's read-ahead brought in from the read pipe, not one per call.
#[test]
fn a_large_buffer_takes_many_records_over_pipes_on_the_fd_path() {
    // 48 records of 1 KiB: with their headers and tags they fit in a 64 KiB pipe, so the
    // server can write them all before the client reads.
    const RECORDS: usize = 48;
    within(FD_LIMIT, || {
        let (r1, w1) = std::io::pipe().unwrap();
        let (r2, w2) = std::io::pipe().unwrap();
        let pki = Fixture::shared();
        let server = thread::spawn(move || {
            let mut tls = pki
                .server(Mode::FdPath)
                .accept(Pipes::new(r1, w2))
                .expect("accept");
            let mut record = [0u8; 1024];
            for i in 0..RECORDS {
                fill_pattern(3, (i * record.len()) as u64, &mut record);
                tls.write_all(&record).expect("write a record");
            }
            tls
        });
        let mut tls = pki
            .client(Mode::FdPath)
            .connect(Pipes::new(r2, w1))
            .expect("connect");
        assert!(tls.uses_fd_fast_path());
        let server = join(server);
        let mut buf = vec![0u8; 64 * 1024];
        let mut checker = PatternChecker::new(3);
        let mut reads = 0;
        while (checker.offset as usize) < RECORDS * 1024 {
            let n = tls.read(&mut buf).expect("read");
            assert!(n > 0);
            checker.check(&buf[..n]);
            reads += 1;
        }
        assert!(reads < RECORDS / 4, "{reads} reads for {RECORDS} records");
        drop(server);
    });
}

/// A user's own descriptor types opt in with `Pipes::from_fds` (anything `AsFd`).
#[test]
fn pipes_from_fds_opts_user_types_in() {
    struct MyReader(std::io::PipeReader);
    impl Read for MyReader {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            panic!("the fd path must not call the user's Read");
        }
    }
    impl AsFd for MyReader {
        fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
            self.0.as_fd()
        }
    }
    within(FD_LIMIT, || {
        let (r1, w1) = std::io::pipe().unwrap();
        let (r2, w2) = std::io::pipe().unwrap();
        let reader_fd = r2.as_raw_fd();
        let client_pipes = Pipes::from_fds(MyReader(r2), w1);
        assert_eq!(sslbridge::stream_fd(&client_pipes), Some(reader_fd));
        let pki = Fixture::shared();
        let server = thread::spawn(move || {
            let mut tls = pki.server(Mode::FdPath).accept(Pipes::new(r1, w2)).unwrap();
            exchange(&mut tls, 2, 1, MIB as u64);
            tls.close().unwrap();
        });
        let mut tls = pki.client(Mode::FdPath).connect(client_pipes).unwrap();
        assert!(tls.uses_fd_fast_path());
        exchange(&mut tls, 1, 2, MIB as u64);
        let mut end = [0u8; 1];
        assert_eq!(tls.read(&mut end).unwrap(), 0);
        join(server);
    })
}

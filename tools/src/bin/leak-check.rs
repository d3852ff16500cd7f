//! Runs many TLS connections mixing successes and every failure kind, so a leak checker can
//! prove that no path leaks. CI runs it under valgrind with `scripts/valgrind-leaks.sh`; by
//! hand:
//!
//! ```text
//! cargo build -p sslbridge-tools --bin leak-check
//! valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
//!     target/debug/leak-check 2000
//! ```
//! Prints a summary line per outcome. Exits non-zero if an outcome differs from the expected one.
use sslbridge::testing::TestPki;
use sslbridge::{
    ClientOptions, Context, Error, MemoryPipe, Protocol, ServerOptions, SslStream, Verify,
};
use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// Every kind of connection the program runs, in rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Case {
    Success,
    Resumed,
    ExpiredCertificate,
    WrongHost,
    UntrustedRoot,
    TruncatedByPeer,
    TransportReset,
    TransportPanic,
    ReadTimeout,
    HandshakeTimeout,
    ServerRejectsClient,
}

const CASES: [Case; 11] = [
    Case::Success,
    Case::Resumed,
    Case::ExpiredCertificate,
    Case::WrongHost,
    Case::UntrustedRoot,
    Case::TruncatedByPeer,
    Case::TransportReset,
    Case::TransportPanic,
    Case::ReadTimeout,
    Case::HandshakeTimeout,
    Case::ServerRejectsClient,
];

struct Fixture {
    good: Context,
    expired: Context,
    untrusted: Context,
    mtls_server: Context,
    client: Context,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let count: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(10_000);
    let pki = TestPki::new()?;
    let server_ctx = |leaf: sslbridge::testing::CertifiedKey| {
        Context::builder()
            .verify_mode(sslbridge::VerifyMode::NONE)
            .certificate_chain_pem(&leaf.chain_pem)
            .private_key_pem(&leaf.key_pem)
            .build()
    };
    let fixture = Fixture {
        good: server_ctx(pki.server(&["localhost"])?)?,
        expired: server_ctx(pki.expired(&["localhost"])?)?,
        untrusted: server_ctx(pki.untrusted(&["localhost"])?)?,
        mtls_server: {
            let leaf = pki.server(&["localhost"])?;
            Context::builder()
                .verify_mode(
                    sslbridge::VerifyMode::PEER | sslbridge::VerifyMode::FAIL_IF_NO_PEER_CERT,
                )
                .ca_certificates_pem(&pki.root_pem())
                .certificate_chain_pem(&leaf.chain_pem)
                .private_key_pem(&leaf.key_pem)
                .build()?
        },
        client: Context::builder()
            .ca_certificates_pem(&pki.root_pem())
            .max_protocol_version(Protocol::Tls1_3)
            .build()?,
    };
    // The panics below are expected; keep the output readable.
    std::panic::set_hook(Box::new(|_| {}));

    let mut outcomes: BTreeMap<(Case, String), usize> = BTreeMap::new();
    let mut unexpected = 0;
    for i in 0..count {
        let case = CASES[i % CASES.len()];
        let outcome = run(case, &fixture).unwrap_or_else(|e| format!("harness error: {e}"));
        if !expected(case, &outcome) {
            unexpected += 1;
        }
        *outcomes.entry((case, outcome)).or_default() += 1;
    }
    for ((case, outcome), n) in &outcomes {
        println!("{n:6} {case:?}: {outcome}");
    }
    println!("{count} connections, {unexpected} with an unexpected outcome");
    if unexpected > 0 {
        std::process::exit(1);
    }
    Ok(())
}

fn expected(case: Case, outcome: &str) -> bool {
    let want = match case {
        Case::Success => "ok",
        Case::Resumed => "ok resumed",
        Case::ExpiredCertificate => "verify error 10",
        Case::WrongHost => "hostname error",
        Case::UntrustedRoot => "verify error 20",
        Case::TruncatedByPeer => "unexpected eof",
        Case::TransportReset => "io error ConnectionReset",
        Case::TransportPanic => "panic resumed",
        Case::ReadTimeout => "read timeout, then ok",
        Case::HandshakeTimeout => "handshake timeout",
        Case::ServerRejectsClient => "server refused the client",
    };
    outcome == want
}

fn describe(e: &Error) -> String {
    match e {
        Error::Verify { code, .. } => format!("verify error {code}"),
        Error::Hostname { .. } => "hostname error".into(),
        Error::UnexpectedEof => "unexpected eof".into(),
        Error::Io(io) => format!("io error {:?}", io.kind()),
        Error::Timeout { operation } => format!("{operation} timeout"),
        other => format!("other: {other}"),
    }
}

/// A server on its own thread over one end of a pipe.
fn spawn_server<F>(
    ctx: &Context,
    end: MemoryPipe,
    then: F,
) -> std::thread::JoinHandle<Result<(), Error>>
where
    F: FnOnce(SslStream<MemoryPipe>) -> Result<(), Error> + Send + 'static,
{
    let ctx = ctx.clone();
    std::thread::spawn(move || {
        let tls = ServerOptions::new().context(ctx).accept(end)?;
        then(tls)
    })
}

fn echo_and_close(mut tls: SslStream<MemoryPipe>) -> Result<(), Error> {
    let mut buf = [0u8; 64];
    let n = tls.read(&mut buf)?;
    tls.write_all(&buf[..n])?;
    let mut rest = Vec::new();
    tls.read_to_end(&mut rest)?;
    tls.close()
}

fn run(case: Case, f: &Fixture) -> Result<String, Box<dyn std::error::Error>> {
    let client = || {
        ClientOptions::new()
            .hostname("localhost")
            .verify(Verify::Required)
            .context(f.client.clone())
    };
    match case {
        Case::Success | Case::Resumed => {
            let mut session = None;
            let rounds = if case == Case::Resumed { 2 } else { 1 };
            let mut reused = false;
            for _ in 0..rounds {
                let (a, b) = sslbridge::duplex(32 * 1024);
                let server = spawn_server(&f.good, b, echo_and_close);
                let mut options = client();
                if let Some(s) = session.take() {
                    options = options.session(s);
                }
                let mut tls = options.connect(a)?;
                tls.write_all(b"ping")?;
                let mut buf = [0u8; 4];
                tls.read_exact(&mut buf)?;
                reused = tls.session_reused();
                session = tls.session();
                tls.close()?;
                server.join().expect("server thread")?;
            }
            Ok(if reused { "ok resumed" } else { "ok" }.into())
        }
        Case::ExpiredCertificate | Case::WrongHost | Case::UntrustedRoot => {
            let ctx = match case {
                Case::ExpiredCertificate => &f.expired,
                Case::UntrustedRoot => &f.untrusted,
                _ => &f.good,
            };
            let host = if case == Case::WrongHost {
                "other.example"
            } else {
                "localhost"
            };
            let (a, b) = sslbridge::duplex(32 * 1024);
            let server = spawn_server(ctx, b, echo_and_close);
            let result = client().hostname(host).connect(a);
            let _ = server.join();
            Ok(match result {
                Ok(_) => "connected".into(),
                Err(e) => describe(&e),
            })
        }
        Case::TruncatedByPeer => {
            let (a, b) = sslbridge::duplex(32 * 1024);
            let server = spawn_server(&f.good, b, |mut tls| {
                tls.write_all(b"partial")?;
                drop(tls.into_inner()); // gone without close_notify
                Ok(())
            });
            let mut tls = client().connect(a)?;
            let mut all = Vec::new();
            let result = tls.read_to_end(&mut all).map_err(Error::from);
            server.join().expect("server thread")?;
            Ok(match result {
                Ok(_) => "clean end".into(),
                Err(e) => describe(&e),
            })
        }
        Case::TransportReset | Case::TransportPanic => {
            let (a, b) = sslbridge::duplex(32 * 1024);
            let server = spawn_server(&f.good, b, echo_and_close);
            // The ClientHello goes out; the client's second flight fails.
            let failing = FailAfter {
                inner: a,
                writes_left: 1,
                panic: case == Case::TransportPanic,
            };
            let result = catch_unwind(AssertUnwindSafe(|| client().connect(failing)));
            let outcome = match &result {
                Err(_) => "panic resumed".to_string(),
                Ok(Ok(_)) => "connected".into(),
                Ok(Err(e)) => describe(e),
            };
            drop(result); // the server sees EOF once the client's transport is gone
            let _ = server.join();
            Ok(outcome)
        }
        Case::ReadTimeout => {
            let (a, b) = UnixStream::pair()?;
            let good = f.good.clone();
            let server = std::thread::spawn(move || -> Result<(), Error> {
                let mut tls = ServerOptions::new().context(good).accept(b)?;
                std::thread::sleep(Duration::from_millis(60));
                tls.write_all(b"late")?;
                tls.close()
            });
            let mut tls = client().connect(a)?;
            tls.set_read_timeout(Some(Duration::from_millis(20)))?;
            let mut buf = [0u8; 4];
            let first = tls.read(&mut buf).map_err(Error::from);
            tls.set_read_timeout(Some(Duration::from_secs(5)))?;
            tls.read_exact(&mut buf)?;
            server.join().expect("server thread")?;
            Ok(match first {
                Err(Error::Timeout {
                    operation: sslbridge::Operation::Read,
                }) => "read timeout, then ok".into(),
                Err(e) => describe(&e),
                Ok(_) => "no timeout".into(),
            })
        }
        Case::HandshakeTimeout => {
            let (a, silent) = UnixStream::pair()?;
            let result = client().timeout(Duration::from_millis(10)).connect(a);
            drop(silent);
            Ok(match result {
                Ok(_) => "connected".into(),
                Err(e) => describe(&e),
            })
        }
        Case::ServerRejectsClient => {
            let (a, b) = sslbridge::duplex(32 * 1024);
            let server = spawn_server(&f.mtls_server, b, echo_and_close);
            let client_result = client().connect(a).and_then(|mut tls| {
                tls.write_all(b"hi")?;
                let mut buf = [0u8; 2];
                tls.read_exact(&mut buf)?;
                Ok(())
            });
            let server_result = server.join().expect("server thread");
            Ok(match (client_result, server_result) {
                (Err(_), Err(_)) => "server refused the client".into(),
                other => format!("unexpected: {other:?}"),
            })
        }
    }
}

/// A transport whose writes work `writes_left` times, then fail with ConnectionReset or
/// panic.
struct FailAfter {
    inner: MemoryPipe,
    writes_left: usize,
    panic: bool,
}

impl FailAfter {
    fn spend(&mut self) -> io::Result<()> {
        if self.writes_left == 0 {
            if self.panic {
                panic!("transport panic injected by leak-check");
            }
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        self.writes_left -= 1;
        Ok(())
    }
}

impl Read for FailAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for FailAfter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.spend()?;
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

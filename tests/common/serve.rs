//! In-memory server threads and the line protocols the tests speak.

use sslbridge::testing::TestPki;
use sslbridge::{Context, Error, MemoryPipe, Protocol, ServerOptions, SslStream, VerifyMode};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::thread;

use super::pattern::payload;

/// An in-memory transport pair.
pub fn pipe() -> (MemoryPipe, MemoryPipe) {
    sslbridge::duplex(64 * 1024)
}

/// A client context that trusts the test root, capped at `max` when given.
pub fn client_context(pki: &TestPki, max: Option<Protocol>) -> Context {
    let mut b = Context::builder().ca_certificates_pem(&pki.root_pem());
    if let Some(v) = max {
        b = b.max_protocol_version(v);
    }
    b.build().expect("client context")
}

/// A server context serving `chain` (PEM, leaf first) with `key`; no client certificates.
pub fn server_context(chain: &[u8], key: &[u8], max: Option<Protocol>) -> Context {
    let mut b = Context::builder()
        .verify_mode(VerifyMode::NONE)
        .certificate_chain_pem(chain)
        .private_key_pem(key);
    if let Some(v) = max {
        b = b.max_protocol_version(v);
    }
    b.build().expect("server context")
}

/// What a server thread saw ([`serve_line_on`] fills `line` and `peer_subjects`,
/// [`serve_reversed`] fills `lines`, `clean_end`, `peer` and `fd_path`).
#[derive(Debug, Default)]
pub struct Served {
    pub line: String,
    pub lines: Vec<Vec<u8>>,
    pub clean_end: bool,
    pub server_name: Option<String>,
    pub alpn: Option<String>,
    pub reused: bool,
    pub peer: Option<String>,
    pub peer_subjects: Vec<String>,
    pub protocol: Option<Protocol>,
    pub fd_path: bool,
}

/// Accepts with `options` on `end`, reads one line, answers `reply: <line>` and closes.
pub fn serve_line(
    options: ServerOptions,
    end: MemoryPipe,
) -> thread::JoinHandle<Result<Served, Error>> {
    thread::spawn(move || serve_line_on(options, end))
}

/// The body of [`serve_line`], for any transport.
pub fn serve_line_on<T: sslbridge::Transport>(
    options: ServerOptions,
    end: T,
) -> Result<Served, Error> {
    let tls = options.accept(end)?;
    let mut reader = BufReader::new(tls);
    let mut line = String::new();
    reader.read_line(&mut line).map_err(Error::Io)?;
    let mut tls = reader.into_inner();
    tls.write_all(format!("reply: {line}").as_bytes())
        .map_err(Error::Io)?;
    let served = Served {
        line: line.trim_end().to_string(),
        server_name: tls.server_name(),
        alpn: tls.selected_alpn_protocol().map(str::to_string),
        reused: tls.session_reused(),
        peer_subjects: tls
            .peer_certificate_chain()
            .iter()
            .map(|c| c.subject_name())
            .collect(),
        protocol: tls.protocol_version(),
        ..Served::default()
    };
    // Close politely: send close_notify, then wait for the client's (or its EOF) before
    // dropping the transport, so the client's own close finds the pipe still open. The
    // client's way of ending is not what these tests check.
    if tls.shutdown().is_ok() {
        let mut buf = [0u8; 256];
        while matches!(tls.read(&mut buf), Ok(n) if n > 0) {}
    }
    Ok(served)
}

/// Sends one line on an established client stream and reads the reply line.
pub fn exchange_line<T: sslbridge::Transport>(tls: &mut SslStream<T>, line: &str) -> String {
    tls.write_all(format!("{line}\n").as_bytes())
        .expect("write line");
    let mut reply = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match tls.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => {
                reply.push(byte[0]);
                if byte[0] == b'\n' {
                    break;
                }
            }
            Err(e) => panic!("read reply: {e}"),
        }
    }
    String::from_utf8_lossy(&reply).trim_end().to_string()
}

pub fn reversed(line: &[u8]) -> Vec<u8> {
    line.iter().rev().copied().collect()
}

/// Test lines for one connection: 12 lines of 1 to 1,500 bytes.
pub fn lines(seed: u64) -> Vec<Vec<u8>> {
    (0..12u64)
        .map(|i| payload(seed * 100 + i, 1 + ((seed * 31 + i * 397) % 1500) as usize))
        .collect()
}

/// Accepts, answers every line reversed (as `openssl s_server -rev`) until the client's
/// close_notify, then closes.
pub fn serve_reversed<T: sslbridge::Transport>(
    options: ServerOptions,
    transport: T,
) -> Result<Served, Error> {
    let tls = options.accept(transport)?;
    let mut reader = BufReader::new(tls);
    let mut served = Served::default();
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => {
                served.clean_end = true;
                break;
            }
            Ok(_) => {
                assert_eq!(line.pop(), Some(b'\n'), "a whole line");
                let mut answer = reversed(&line);
                answer.push(b'\n');
                reader.get_mut().write_all(&answer).map_err(Error::Io)?;
                served.lines.push(line);
            }
            Err(e) => return Err(Error::Io(e)),
        }
    }
    let tls = reader.into_inner();
    served.server_name = tls.server_name();
    served.alpn = tls.selected_alpn_protocol().map(str::to_string);
    served.reused = tls.session_reused();
    served.peer = tls.peer_certificate().map(|c| c.subject_name());
    served.protocol = tls.protocol_version();
    served.fd_path = tls.uses_fd_fast_path();
    tls.close()?;
    Ok(served)
}

/// Reads until `Ok(0)`: `Ok(data)` after a clean end, or the error with what came before.
pub fn read_to_close(r: &mut impl Read) -> Result<Vec<u8>, (io::Error, Vec<u8>)> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err((e, out)),
        }
    }
}

/// One read of up to 256 bytes, for draining a peer in failure tests.
pub fn read_some<T: Read>(r: &mut T) -> io::Result<usize> {
    let mut buf = [0u8; 256];
    r.read(&mut buf)
}

/// The `sslbridge::Error` inside an `io::Error` from `Read`/`Write`, if there is one.
pub fn inner_error(e: &io::Error) -> Option<&Error> {
    e.get_ref().and_then(|i| i.downcast_ref::<Error>())
}

/// Reads lines from a child's output into a shared string, on a thread.
pub fn collect_output(
    r: impl Read + Send + 'static,
) -> (Arc<Mutex<String>>, thread::JoinHandle<()>) {
    let out = Arc::new(Mutex::new(String::new()));
    let sink = out.clone();
    let h = thread::spawn(move || {
        let mut reader = BufReader::new(r);
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => sink.lock().unwrap().push_str(&line),
            }
        }
    });
    (out, h)
}

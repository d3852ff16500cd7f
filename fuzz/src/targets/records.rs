//! `client_records` and `server_records`: recorded peer flights replayed into a client or a
//! server, and the recorded seeds' exact-replay check.

use super::scenarios::{client_context, parse_input, server_context, Scenario, SCENARIOS};
use super::{reseed, CLIENT_SEED, SERVER_SEED};
use sslbridge::{ClientOptions, Error, ServerOptions, SslStream, Transport, Verify};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// What the client sends once connected.
pub const REQUEST: &[u8] = b"GET /fuzz HTTP/1.1\r\nHost: localhost\r\n\r\n";
/// The server's answer, written in two records.
pub const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\nhello from the sslbridge fuzz!\n";
/// Reads and writes in one connection stop after this many calls: bounds every run.
const MAX_CALLS: usize = 64;

/// A transport that plays back recorded bytes (at most `chunk` per read), then EOF, and
/// swallows everything written to it.
pub struct Replay {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
}

impl Replay {
    /// Plays back `data`.
    pub fn new(data: Vec<u8>, chunk: usize) -> Replay {
        Replay {
            data,
            pos: 0,
            chunk: chunk.max(1),
        }
    }
}

impl Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.chunk).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Replay {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What a client run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClientOutcome {
    /// Handshakes completed.
    pub handshakes: u32,
    /// Whether a later connection resumed an earlier session.
    pub resumed: bool,
    /// Application data received, all connections.
    pub received: Vec<u8>,
    /// Negotiated ALPN of the last handshake.
    pub alpn: Option<String>,
    /// The first error, as text.
    pub error: Option<String>,
}

/// What a server run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ServerOutcome {
    /// Handshakes completed.
    pub handshakes: u32,
    /// Whether a later connection resumed an earlier session.
    pub resumed: bool,
    /// Application data received, all connections.
    pub received: Vec<u8>,
    /// Whether a client certificate was seen.
    pub client_certificate: bool,
    /// The first error, as text.
    pub error: Option<String>,
}

/// Reads until close_notify, an error, `limit` bytes or [`MAX_CALLS`] reads.
fn read_some<T: Transport>(
    tls: &mut SslStream<T>,
    out: &mut Vec<u8>,
    limit: usize,
) -> Result<(), Error> {
    let mut buf = [0u8; 4096];
    for _ in 0..MAX_CALLS {
        if out.len() >= limit {
            break;
        }
        match tls.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Touches every property a connected stream reports.
fn inspect<T>(tls: &SslStream<T>) {
    let _ = tls.protocol_version();
    let _ = tls.cipher_name();
    let _ = tls.server_name();
    let _ = tls.selected_alpn_protocol_bytes();
    for cert in tls.peer_certificate_chain() {
        let _ = cert.subject_name();
    }
    let _ = tls.transport_stats();
}

/// The client's side of a scenario: connect, send [`REQUEST`], read the answer to the end,
/// close; twice for resumption. `transport(i)` gives connection `i`'s transport.
pub fn run_client<T: Transport>(
    s: &Scenario,
    mut transport: impl FnMut(usize) -> T,
) -> ClientOutcome {
    let mut outcome = ClientOutcome::default();
    let ctx = client_context(s);
    reseed(CLIENT_SEED);
    let ctx = match ctx {
        Ok(c) => c,
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    };
    let mut session = None;
    for i in 0..(1 + usize::from(s.resume)) {
        let mut options = ClientOptions::new()
            .context(ctx.clone())
            .alpn_protocols(s.client_alpn);
        options = match s.verify_hostname {
            Some(host) => options.verify(Verify::Required).hostname(host),
            None => options.verify(Verify::None),
        };
        if let (Some(sni), None) = (s.sni, s.verify_hostname) {
            options = options.hostname(sni);
        }
        if let Some(session) = session.take() {
            options = options.session(session);
        }
        let result = (|| -> Result<(), Error> {
            let mut tls = options.connect(transport(i))?;
            outcome.handshakes += 1;
            outcome.resumed |= tls.session_reused();
            outcome.alpn = tls.selected_alpn_protocol().map(str::to_string);
            inspect(&tls);
            tls.write_all(REQUEST).map_err(Error::from)?;
            let read = read_some(&mut tls, &mut outcome.received, usize::MAX);
            session = tls.session();
            read?;
            tls.close()
        })();
        if let Err(e) = result {
            outcome.error = Some(e.to_string());
            break;
        }
    }
    outcome
}

/// The server's side of a scenario: accept, read [`REQUEST`], answer with [`RESPONSE`] in two
/// records, send close_notify and wait for the client's (or drop the connection, for the
/// truncation scenario); twice for resumption.
pub fn run_server<T: Transport>(
    s: &Scenario,
    mut transport: impl FnMut(usize) -> T,
) -> ServerOutcome {
    let mut outcome = ServerOutcome::default();
    reseed(SERVER_SEED);
    // After the reseed: a context made per run draws its ticket keys from the seeded state.
    let ctx = match server_context(s) {
        Ok(c) => c,
        Err(e) => {
            outcome.error = Some(e);
            return outcome;
        }
    };
    for i in 0..(1 + usize::from(s.resume)) {
        let options = ServerOptions::new()
            .context(ctx.clone())
            .alpn_protocols(s.server_alpn)
            .alpn_required(s.alpn_required);
        let result = (|| -> Result<(), Error> {
            let mut tls = options.accept(transport(i))?;
            outcome.handshakes += 1;
            outcome.resumed |= tls.session_reused();
            outcome.client_certificate |= tls.peer_certificate().is_some();
            inspect(&tls);
            let start = outcome.received.len();
            read_some(&mut tls, &mut outcome.received, start + REQUEST.len())?;
            let (a, b) = RESPONSE.split_at(RESPONSE.len() / 2);
            tls.write_all(a).map_err(Error::from)?;
            tls.write_all(b).map_err(Error::from)?;
            if s.truncate {
                return Ok(()); // dropped: no close_notify
            }
            tls.shutdown()?;
            let mut rest = Vec::new();
            read_some(&mut tls, &mut rest, usize::MAX)?;
            outcome.received.extend_from_slice(&rest);
            Ok(())
        })();
        if let Err(e) = result {
            outcome.error = Some(e.to_string());
            break;
        }
    }
    outcome
}

/// `client_records`, returning what happened (the replay test checks it).
pub fn client_records_outcome(data: &[u8]) -> Option<ClientOutcome> {
    let (scenario, chunk, flights) = parse_input(data)?;
    let mut flights = flights.into_iter();
    Some(run_client(scenario, |_| {
        Replay::new(flights.next().unwrap_or_default(), chunk)
    }))
}

/// `server_records`, returning what happened.
pub fn server_records_outcome(data: &[u8]) -> Option<ServerOutcome> {
    let (scenario, chunk, flights) = parse_input(data)?;
    let mut flights = flights.into_iter();
    Some(run_server(scenario, |_| {
        Replay::new(flights.next().unwrap_or_default(), chunk)
    }))
}

/// Fuzz target `client_records`: the input is a scenario byte and the server's records; the
/// client's own output is discarded.
pub fn client_records(data: &[u8]) {
    let _ = client_records_outcome(data);
}

/// Fuzz target `server_records`: the input is a scenario byte and the client's records.
pub fn server_records(data: &[u8]) {
    let _ = server_records_outcome(data);
}

/// The name of the OpenSSL build linked at run time as the recorded seeds' directories name
/// it: `openssl-<major>.<minor>` (`openssl-3.0` for the system's 3.0.x, `openssl-3.6` for the
/// vendored build the fuzzer links). A recording replays exactly only on the build it was
/// made with: another version sends a different ClientHello.
pub fn openssl_build() -> String {
    let version = sslbridge::openssl_version();
    let number = version.split_whitespace().nth(1).unwrap_or("unknown");
    let minor: Vec<&str> = number.split('.').take(2).collect();
    format!("openssl-{}", minor.join("."))
}

/// `fuzz/seeds/<target>/<build>/`: the recorded seeds of the linked OpenSSL build.
pub fn recorded_seed_dir(seeds: &Path, target: &str) -> PathBuf {
    seeds.join(target).join(openssl_build())
}

/// Checks that the recorded seeds of the linked OpenSSL build (`seeds/<target>/<build>/`)
/// replay exactly: every scenario's flights complete their handshakes and deliver the
/// application data, or fail the way the scenario means to. Returns a description of every
/// scenario that does not.
pub fn check_recorded_seeds(seeds: &Path) -> Result<(), Vec<String>> {
    let mut failures = Vec::new();
    for s in SCENARIOS {
        if let Err(e) = check_scenario(seeds, s) {
            failures.push(format!("{}: {e}", s.name));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures)
    }
}

fn check_scenario(seeds: &Path, s: &Scenario) -> Result<(), String> {
    let read = |target: &str| {
        let path = recorded_seed_dir(seeds, target).join(s.name);
        std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let client = client_records_outcome(&read("client_records")?).ok_or("empty input")?;
    let server = server_records_outcome(&read("server_records")?).ok_or("empty input")?;
    let ensure = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("{what}; client {client:?}; server {server:?}"))
        }
    };
    if s.alpn_required || s.verify_hostname.is_some() {
        ensure(client.handshakes == 0, "the client completed a handshake")?;
        ensure(client.error.is_some(), "the client saw no error")?;
        return ensure(server.handshakes == 0, "the server completed a handshake");
    }
    let conns = 1 + u32::from(s.resume);
    ensure(client.handshakes == conns, "client handshakes")?;
    ensure(
        client.received == RESPONSE.repeat(conns as usize),
        "client data",
    )?;
    ensure(client.resumed == s.resume, "client resumption")?;
    ensure(server.handshakes == conns, "server handshakes")?;
    ensure(
        server.received == REQUEST.repeat(conns as usize),
        "server data",
    )?;
    ensure(server.resumed == s.resume, "server resumption")?;
    ensure(
        server.client_certificate == s.client_cert,
        "client certificate",
    )?;
    if s.truncate {
        let truncated = client
            .error
            .as_deref()
            .is_some_and(|e| e.contains("close_notify"));
        ensure(truncated, "the client did not report the truncation")?;
    } else {
        ensure(client.error.is_none() && server.error.is_none(), "an error")?;
    }
    if !s.client_alpn.is_empty() {
        ensure(client.alpn.as_deref() == Some("http/1.1"), "ALPN")?;
    }
    Ok(())
}

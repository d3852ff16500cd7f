//! The bodies of sslbridge's fuzz targets, in one plain file that depends only on `sslbridge`
//! so that three programs share it: the cargo-fuzz crate (`fuzz/`, through its library), the
//! corpus replay test (`tests/fuzz_corpus.rs`, with `#[path]`) and the corpus generator
//! (`examples/make-fuzz-corpus.rs`, with `#[path]`).
//!
//! Record replay is exact only with sslbridge's `fuzzing` feature (deterministic randomness):
//! the client (or server) then draws the same key shares and randoms it drew while the flight
//! was recorded, so a recorded server flight completes the handshake and the fuzzer mutates
//! real handshakes. Without the feature — `cargo test` on stable — the same inputs still run
//! every parser they reach and must not panic or hang, but a handshake stops at the first
//! message that depends on randomness.
#![allow(dead_code)]

use sslbridge::testing::{ChaosPlan, ChaosStats, ChaosTransport};
use sslbridge::{
    Certificate, ClientOptions, Context, Digest, Error, MemoryPipe, Protocol, ServerOptions,
    SslOptions, SslStream, Transport, Verify, VerifyLocation, VerifyMode,
};
use std::io::{self, Read, Write};
use std::sync::Once;

/// The seed every client-side run starts from (reset per run and per thread).
pub const CLIENT_SEED: &[u8] = b"sslbridge fuzz: client side seed";
/// The seed every server-side run starts from.
pub const SERVER_SEED: &[u8] = b"sslbridge fuzz: server side seed";

/// Long-lived (100-year) test keys, made once by `make-fuzz-corpus --new-keys`. Recorded
/// flights contain these certificates and signatures made with these keys, so replacing them
/// means recording the corpora again.
pub mod keys {
    /// The root CA that issued everything below.
    pub const CA: &[u8] = include_bytes!("../keys/ca.pem");
    /// An ECDSA P-256 server certificate for `localhost` and `fuzz.example`, with its chain.
    pub const SERVER_ECDSA_CHAIN: &[u8] = include_bytes!("../keys/server-ecdsa.pem");
    /// Its key.
    pub const SERVER_ECDSA_KEY: &[u8] = include_bytes!("../keys/server-ecdsa.key");
    /// An RSA 2048 server certificate for the same names, with its chain.
    pub const SERVER_RSA_CHAIN: &[u8] = include_bytes!("../keys/server-rsa.pem");
    /// Its key.
    pub const SERVER_RSA_KEY: &[u8] = include_bytes!("../keys/server-rsa.key");
    /// A client certificate ("fuzz client"), with its chain.
    pub const CLIENT_CHAIN: &[u8] = include_bytes!("../keys/client.pem");
    /// Its key.
    pub const CLIENT_KEY: &[u8] = include_bytes!("../keys/client.key");
}

/// What the client sends once connected.
pub const REQUEST: &[u8] = b"GET /fuzz HTTP/1.1\r\nHost: localhost\r\n\r\n";
/// The server's answer, written in two records.
pub const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\nhello from the sslbridge fuzz!\n";
/// Reads and writes in one connection stop after this many calls: bounds every run.
const MAX_CALLS: usize = 64;

/// Which server key a scenario uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKey {
    /// ECDSA P-256.
    Ecdsa,
    /// RSA 2048.
    Rsa,
}

/// One recorded connection setup. The first byte of a `client_records` or `server_records`
/// input picks the scenario (its low six bits, modulo the count) and how the replayed bytes
/// are chunked (its top two bits).
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The corpus file name of the recording.
    pub name: &'static str,
    /// The only protocol version both sides allow.
    pub version: Protocol,
    /// TLS 1.2 cipher list, both sides.
    pub ciphers: Option<&'static str>,
    /// TLS 1.3 suites, both sides.
    pub suites: Option<&'static str>,
    /// Client groups (the first gets a key share).
    pub client_groups: Option<&'static str>,
    /// Server groups (a mismatch with the client's first makes a HelloRetryRequest).
    pub server_groups: Option<&'static str>,
    /// The server's key type.
    pub key: ServerKey,
    /// SNI the client sends.
    pub sni: Option<&'static str>,
    /// ALPN offered by the client.
    pub client_alpn: &'static [&'static str],
    /// ALPN accepted by the server.
    pub server_alpn: &'static [&'static str],
    /// The server refuses a client whose ALPN offer it cannot meet (alert).
    pub alpn_required: bool,
    /// The server requires a client certificate, and the client has one.
    pub client_cert: bool,
    /// Two connections, the second resuming the first's session.
    pub resume: bool,
    /// The client verifies the server against the fixed CA and this hostname.
    pub verify_hostname: Option<&'static str>,
    /// The server drops the connection without close_notify.
    pub truncate: bool,
}

const BASE: Scenario = Scenario {
    name: "",
    version: Protocol::Tls1_3,
    ciphers: None,
    suites: None,
    client_groups: None,
    server_groups: None,
    key: ServerKey::Ecdsa,
    sni: Some("localhost"),
    client_alpn: &[],
    server_alpn: &[],
    alpn_required: false,
    client_cert: false,
    resume: false,
    verify_hostname: None,
    truncate: false,
};

/// Every recorded scenario; an input's first byte indexes it.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "tls13-aes128gcm",
        suites: Some("TLS_AES_128_GCM_SHA256"),
        ..BASE
    },
    Scenario {
        name: "tls13-aes256gcm-alpn-sni",
        suites: Some("TLS_AES_256_GCM_SHA384"),
        sni: Some("fuzz.example"),
        client_alpn: &["h2", "http/1.1"],
        server_alpn: &["http/1.1"],
        ..BASE
    },
    Scenario {
        name: "tls13-chacha20-rsa",
        suites: Some("TLS_CHACHA20_POLY1305_SHA256"),
        key: ServerKey::Rsa,
        sni: None,
        ..BASE
    },
    Scenario {
        name: "tls13-hello-retry",
        client_groups: Some("X25519:P-256"),
        server_groups: Some("P-256"),
        ..BASE
    },
    Scenario {
        name: "tls13-client-cert",
        client_cert: true,
        ..BASE
    },
    Scenario {
        name: "tls13-resumption",
        resume: true,
        ..BASE
    },
    Scenario {
        name: "tls13-alert-no-alpn",
        client_alpn: &["h2"],
        server_alpn: &["http/1.1"],
        alpn_required: true,
        ..BASE
    },
    Scenario {
        name: "tls13-truncated",
        truncate: true,
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-ecdsa-aes128gcm",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-AES128-GCM-SHA256"),
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-ecdsa-chacha20-alpn",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-CHACHA20-POLY1305"),
        sni: Some("fuzz.example"),
        client_alpn: &["http/1.1"],
        server_alpn: &["http/1.1"],
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-rsa-aes256cbc-sha384",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-RSA-AES256-SHA384"),
        key: ServerKey::Rsa,
        ..BASE
    },
    Scenario {
        name: "tls12-rsa-aes128cbc-sha",
        version: Protocol::Tls1_2,
        ciphers: Some("AES128-SHA"),
        key: ServerKey::Rsa,
        ..BASE
    },
    Scenario {
        name: "tls12-client-cert",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-AES256-GCM-SHA384"),
        client_cert: true,
        ..BASE
    },
    Scenario {
        name: "tls12-resumption",
        version: Protocol::Tls1_2,
        resume: true,
        ..BASE
    },
    Scenario {
        name: "tls12-alert-bad-hostname",
        version: Protocol::Tls1_2,
        verify_hostname: Some("wrong.example"),
        ..BASE
    },
];

/// Splits a recorded input into (scenario, chunk limit, one flight per connection).
/// Layout: `[selector] ([u16 LE length] [flight])* [last flight]`.
pub fn parse_input(data: &[u8]) -> Option<(&'static Scenario, usize, Vec<Vec<u8>>)> {
    let (&selector, mut rest) = data.split_first()?;
    let scenario = &SCENARIOS[usize::from(selector & 0x3f) % SCENARIOS.len()];
    let chunk = [usize::MAX, 1, 5, 300][usize::from(selector >> 6)];
    let connections = if scenario.resume { 2 } else { 1 };
    let mut flights = Vec::new();
    for _ in 1..connections {
        let len = match rest {
            [a, b, tail @ ..] => {
                rest = tail;
                usize::from(u16::from_le_bytes([*a, *b])).min(rest.len())
            }
            _ => 0,
        };
        flights.push(rest[..len].to_vec());
        rest = &rest[len..];
    }
    flights.push(rest.to_vec());
    Some((scenario, chunk, flights))
}

/// The inverse of [`parse_input`], for the generator.
pub fn encode_input(scenario_index: usize, flights: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![scenario_index as u8];
    for (i, flight) in flights.iter().enumerate() {
        if i + 1 < flights.len() {
            let len = u16::try_from(flight.len()).expect("a flight fits in 64 KiB");
            out.extend_from_slice(&len.to_le_bytes());
        }
        out.extend_from_slice(flight);
    }
    out
}

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

/// A context that never reads the system's CA store: every run builds its own, and loading
/// hundreds of CA certificates each time would dominate the fuzzer's time.
fn context_builder(s: &Scenario) -> sslbridge::ContextBuilder {
    let mut b = Context::builder()
        .verify_location(VerifyLocation::Dir(std::env::temp_dir()))
        .min_protocol_version(s.version)
        .max_protocol_version(s.version);
    if let Some(c) = s.ciphers {
        b = b.cipher_list(c);
    }
    if let Some(c) = s.suites {
        b = b.ciphersuites(c);
    }
    b
}

/// The client's context for `s`.
pub fn client_context(s: &Scenario) -> Result<Context, Error> {
    let mut b = context_builder(s);
    if let Some(g) = s.client_groups {
        b = b.groups(g);
    }
    if s.verify_hostname.is_some() {
        b = b.ca_certificates_pem(keys::CA);
    }
    b.build()
}

/// The server's context for `s`. Sessions are cached by the server (stateful resumption, no
/// tickets holding a timestamp), so a recorded resumption replays at any date.
pub fn server_context(s: &Scenario) -> Result<Context, Error> {
    let (chain, key) = match s.key {
        ServerKey::Ecdsa => (keys::SERVER_ECDSA_CHAIN, keys::SERVER_ECDSA_KEY),
        ServerKey::Rsa => (keys::SERVER_RSA_CHAIN, keys::SERVER_RSA_KEY),
    };
    let mut b = context_builder(s)
        .certificate_chain_pem(chain)
        .private_key_pem(key)
        .options(SslOptions::ALL | SslOptions::NO_TICKET);
    if let Some(g) = s.server_groups {
        b = b.groups(g);
    }
    b = if s.client_cert {
        // Accept the client's certificate whatever the date: validity would make replays
        // time-dependent.
        b.verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
            .verify_callback(|_, _, _, _| true)
    } else {
        b.verify_mode(VerifyMode::NONE)
    };
    b.build()
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

/// Does the lazy, process-wide set-up (providers, method tables, the BIO method) before any
/// run, so the first run draws the same random bytes as every later one.
fn warm_up() {
    static WARM: Once = Once::new();
    WARM.call_once(|| {
        sslbridge::ensure_initialized();
        for s in SCENARIOS {
            if let (Ok(c), Ok(sv)) = (client_context(s), server_context(s)) {
                let _ = ClientOptions::new()
                    .context(c)
                    .verify(Verify::None)
                    .connect(Replay::new(Vec::new(), 1));
                let _ = ServerOptions::new()
                    .context(sv)
                    .accept(Replay::new(Vec::new(), 1));
            }
        }
    });
}

/// Resets this thread's random generator (exactly, with the `fuzzing` feature).
pub fn reseed(seed: &[u8]) {
    warm_up();
    sslbridge::ensure_initialized_with_seed(seed).expect("a 32-byte seed is accepted");
}

/// The client's side of a scenario: connect, send [`REQUEST`], read the answer to the end,
/// close; twice for resumption. `transport(i)` gives connection `i`'s transport.
pub fn run_client<T: Transport>(
    s: &Scenario,
    mut transport: impl FnMut(usize) -> T,
) -> ClientOutcome {
    reseed(CLIENT_SEED);
    let mut outcome = ClientOutcome::default();
    let ctx = match client_context(s) {
        Ok(c) => c,
        Err(e) => {
            outcome.error = Some(e.to_string());
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
        if s.client_cert {
            options = options
                .certificate_chain_pem(keys::CLIENT_CHAIN)
                .private_key_pem(keys::CLIENT_KEY);
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
    reseed(SERVER_SEED);
    let mut outcome = ServerOutcome::default();
    let ctx = match server_context(s) {
        Ok(c) => c,
        Err(e) => {
            outcome.error = Some(e.to_string());
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

/// Fuzz target `certificate`: parsing (DER, PEM, PEM stacks) and every inspector.
pub fn certificate(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let certs = match selector % 3 {
        0 => Certificate::from_der(bytes).into_iter().collect(),
        1 => Certificate::from_pem(bytes).into_iter().collect(),
        _ => Certificate::stack_from_pem(bytes).unwrap_or_default(),
    };
    for cert in certs {
        inspect_certificate(&cert, selector);
    }
}

fn inspect_certificate(cert: &Certificate, selector: u8) {
    let subject = cert.subject_name();
    let _ = cert.issuer_name();
    let common_names = cert.subject_common_names().unwrap_or_default();
    let dns = cert.dns_names();
    let ips = cert.ip_addresses();
    let _ = (cert.not_before(), cert.not_after());
    for digest in [
        Digest::Sha1,
        Digest::Sha256,
        Digest::Sha384,
        Digest::Sha512,
        Digest::Md5,
    ] {
        let _ = cert.fingerprint(digest);
    }
    let _ = cert.serial_number();

    // Serialising what was parsed must parse back to the same certificate.
    let der = cert
        .to_der()
        .expect("a parsed certificate serialises to DER");
    let again = Certificate::from_der(&der).expect("to_der output parses");
    assert_eq!(again.to_der().expect("to_der"), der, "DER round trip");
    let pem = cert
        .to_pem()
        .expect("a parsed certificate serialises to PEM");
    let from_pem = Certificate::from_pem(&pem).expect("to_pem output parses");
    assert_eq!(from_pem.to_der().expect("to_der"), der, "PEM round trip");
    assert_eq!(from_pem.subject_name(), subject);

    // Hostname checks against names the certificate presents, and variations of them.
    let mut hosts: Vec<String> = dns.iter().chain(common_names.iter()).cloned().collect();
    hosts.extend(ips.iter().map(|ip| ip.to_string()));
    let derived: Vec<String> = hosts
        .iter()
        .flat_map(|h| {
            [
                format!("x.{h}"),
                h.trim_start_matches("*.").to_string(),
                h.replace('*', "a"),
                h.to_uppercase(),
                format!("{h}."),
            ]
        })
        .collect();
    hosts.extend(derived);
    hosts.extend(["localhost", "127.0.0.1", "::1", "", "*", "a..b", "[::1]"].map(String::from));
    hosts.push(String::from_utf8_lossy(&[selector, b'.', b'c', b'o', b'm']).into_owned());
    for host in hosts.iter().take(64) {
        let _ = sslbridge::verify_hostname(cert, host);
    }
}

/// TLS configurations `transport_chaos` picks from.
const CHAOS_SCENARIOS: [usize; 4] = [0, 2, 8, 10];
/// The largest payload `transport_chaos` sends.
const CHAOS_MAX_PAYLOAD: usize = 8 * 1024;
/// Rounds without any progress before `transport_chaos` calls it a hang.
const STALL_LIMIT: u32 = 2000;

/// One side of `transport_chaos`, as a state machine driven one call at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Handshake,
    Write(usize),
    Shutdown,
    Read,
    Done,
}

type ChaosStream = SslStream<ChaosTransport<MemoryPipe>>;

struct Side {
    name: &'static str,
    tls: ChaosStream,
    phase: Phase,
    /// The client writes first and reads the echo; the server reads, then echoes.
    writes_first: bool,
    received: Vec<u8>,
}

/// What one call did.
enum Step {
    Progress,
    Blocked,
    Failed(Error),
}

impl Side {
    fn stats(&self) -> &ChaosStats {
        self.tls.get_ref().stats()
    }

    fn step(&mut self, payload: &[u8]) -> Step {
        let mut buf = [0u8; 2048];
        let result: Result<(), Error> = match self.phase {
            Phase::Done => return Step::Blocked,
            Phase::Handshake => self.tls.handshake().map(|()| {
                self.phase = if self.writes_first {
                    Phase::Write(0)
                } else {
                    Phase::Read
                };
            }),
            Phase::Write(off) if off == payload.len() => {
                self.phase = Phase::Shutdown;
                Ok(())
            }
            Phase::Write(off) => self
                .tls
                .write(&payload[off..])
                .map_err(Error::from)
                .map(|n| {
                    self.phase = Phase::Write(off + n);
                }),
            Phase::Shutdown => self.tls.shutdown().map(|()| {
                self.phase = if self.writes_first {
                    Phase::Read
                } else {
                    Phase::Done
                };
            }),
            Phase::Read => self.tls.read(&mut buf).map_err(Error::from).map(|n| {
                if n == 0 {
                    self.phase = if self.writes_first {
                        Phase::Done
                    } else {
                        Phase::Write(0)
                    };
                } else {
                    self.received.extend_from_slice(&buf[..n]);
                }
            }),
        };
        match result {
            Ok(()) => Step::Progress,
            Err(e) if e.is_would_block() => Step::Blocked,
            Err(e) => Step::Failed(e),
        }
    }

    /// Panics unless an injected fault explains `error`.
    fn check_explained(&self, error: &Error) {
        let stats = self.stats();
        let explained = match error {
            Error::Io(e) => stats.explains(e.kind()),
            Error::UnexpectedEof => stats.injected_read_eof(),
            _ => false,
        };
        assert!(
            explained,
            "{} failed with an error no fault explains: {error:?} (phase {:?}, injected {stats:?})",
            self.name, self.phase
        );
    }
}

/// Fuzz target `transport_chaos`: a real client and server, one thread, over in-memory pipes
/// each wrapped in a [`ChaosTransport`] scripted by the input. Layout: `[config] [client
/// script length] [server script length] [client script] [server script] [payload]`.
///
/// Asserts that the payload reaches the server once and in order and comes back the same
/// way, and that any failure is an error a script injected (with that `io::ErrorKind`, or an
/// unexpected EOF after an injected EOF); a run that stops making progress is a hang.
pub fn transport_chaos(data: &[u8]) {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let config = &SCENARIOS[CHAOS_SCENARIOS[usize::from(at(0)) % CHAOS_SCENARIOS.len()]];
    let (client_len, server_len) = (usize::from(at(1) % 64), usize::from(at(2) % 64));
    let rest = data.get(3..).unwrap_or(&[]);
    let (client_script, rest) = rest.split_at(client_len.min(rest.len()));
    let (server_script, payload) = rest.split_at(server_len.min(rest.len()));
    let payload = &payload[..payload.len().min(CHAOS_MAX_PAYLOAD)];

    reseed(CLIENT_SEED);
    let (Ok(client_ctx), Ok(server_ctx)) = (client_context(config), server_context(config)) else {
        panic!("the chaos contexts build");
    };
    let (mut client_end, mut server_end) = sslbridge::duplex(1 << 20);
    client_end.set_nonblocking(true);
    server_end.set_nonblocking(true);
    let client = ClientOptions::new()
        .context(client_ctx)
        .verify(Verify::None)
        .start(ChaosPlan::from_bytes(client_script).wrap(client_end))
        .expect("client set-up");
    let server = ServerOptions::new()
        .context(server_ctx)
        .start(ChaosTransport::from_bytes(server_end, server_script))
        .expect("server set-up");
    let mut sides = [
        Side {
            name: "client",
            tls: client,
            phase: Phase::Handshake,
            writes_first: true,
            received: Vec::new(),
        },
        Side {
            name: "server",
            tls: server,
            phase: Phase::Handshake,
            writes_first: false,
            received: Vec::new(),
        },
    ];

    let mut stalled = 0u32;
    while sides.iter().any(|s| s.phase != Phase::Done) {
        let moved_before: u64 = sides
            .iter()
            .map(|s| s.stats().bytes_read + s.stats().bytes_written)
            .sum();
        let mut progressed = false;
        for side in &mut sides {
            match side.step(payload) {
                Step::Progress => progressed = true,
                Step::Blocked => {}
                Step::Failed(e) => {
                    side.check_explained(&e);
                    return;
                }
            }
        }
        let moved_after: u64 = sides
            .iter()
            .map(|s| s.stats().bytes_read + s.stats().bytes_written)
            .sum();
        if progressed || moved_after != moved_before {
            stalled = 0;
        } else {
            stalled += 1;
            assert!(
                stalled < STALL_LIMIT,
                "hang: no progress (client {:?}, server {:?}; client chaos {:?}; server chaos {:?})",
                sides[0].phase,
                sides[1].phase,
                sides[0].stats(),
                sides[1].stats()
            );
        }
    }
    assert_eq!(
        sides[1].received, payload,
        "the server got the payload once, in order"
    );
    assert_eq!(
        sides[0].received, payload,
        "the client got the echo once, in order"
    );
}

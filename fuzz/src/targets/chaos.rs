//! `transport_chaos`: a real client and server over two [`ChaosTransport`]s scripted by the
//! input.

use super::reseed;
use super::scenarios::{
    build_server_context, build_server_context_with, client_context, server_context, Scenario,
    ServerKey, SCENARIOS,
};
use super::CLIENT_SEED;
use sslbridge::testing::{ChaosPlan, ChaosStats, ChaosTransport};
use sslbridge::{
    ClientOptions, Context, Error, MemoryPipe, Protocol, ServerOptions, Session, SslStream, Verify,
};
use std::ffi::CStr;
use std::io::{BufRead, Read, Write};
use std::os::raw::{c_int, c_long};
use std::ptr::null_mut;
use std::sync::OnceLock;

/// The scenarios (indices into [`SCENARIOS`]) whose configuration `transport_chaos` uses:
/// every one with a single connection that is meant to succeed (TLS 1.3 and 1.2, each key,
/// suite and group set-up, client certificates). The first four were the only ones once;
/// they keep their places so older inputs keep their meaning.
const CHAOS_SCENARIOS: [usize; 11] = [0, 2, 8, 10, 1, 3, 4, 7, 9, 11, 12];
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
    /// Asks the peer for a TLS 1.3 KeyUpdate once the handshake is done (sent with the next
    /// record this side writes; the peer answers with its own). Only with a payload to write:
    /// `SSL_key_update` puts the connection back "in init" until the message is out, and
    /// OpenSSL refuses `SSL_shutdown` in that state ("shutdown while in init").
    key_update: bool,
    /// The KeyUpdate asks the peer to update its keys too (bit 7 of the second payload byte
    /// clear), or not.
    key_update_requested: bool,
    /// Reads with `BufRead` (`fill_buf`, `consume`) instead of `Read`.
    buf_read: bool,
    received: Vec<u8>,
}

// libssl's `SSL_key_update` (TLS 1.3; not in openssl-sys).
extern "C" {
    fn SSL_key_update(ssl: *mut openssl_sys::SSL, update_type: c_int) -> c_int;
}
/// `SSL_KEY_UPDATE_REQUESTED`: the peer must update its keys too.
const SSL_KEY_UPDATE_REQUESTED: c_int = 1;
/// `SSL_KEY_UPDATE_NOT_REQUESTED`: only this side updates its sending keys.
const SSL_KEY_UPDATE_NOT_REQUESTED: c_int = 0;

// libssl's record-layer settings, per connection (functions, or `SSL_ctrl` macros, that
// openssl-sys does not declare).
extern "C" {
    fn SSL_set_options(ssl: *mut openssl_sys::SSL, options: u64) -> u64;
    fn SSL_clear_options(ssl: *mut openssl_sys::SSL, options: u64) -> u64;
    fn SSL_set_block_padding(ssl: *mut openssl_sys::SSL, block_size: usize) -> c_int;
    fn SSL_set_tlsext_max_fragment_length(ssl: *mut openssl_sys::SSL, mode: u8) -> c_int;
}
/// `SSL_CTRL_SET_MAX_SEND_FRAGMENT` (the `SSL_set_max_send_fragment` macro).
const SSL_CTRL_SET_MAX_SEND_FRAGMENT: c_int = 52;
/// `SSL_CTRL_SET_SIGALGS_LIST` (the `SSL_set1_sigalgs_list` macro).
const SSL_CTRL_SET_SIGALGS_LIST: c_int = 98;
/// `SSL_OP_NO_ENCRYPT_THEN_MAC`: TLS 1.2 CBC suites MAC, then encrypt (RFC 7366 off).
const SSL_OP_NO_ENCRYPT_THEN_MAC: u64 = 1 << 19;
/// `TLSEXT_max_fragment_length_1024`.
const MAX_FRAGMENT_LENGTH_1024: u8 = 2;

/// Record-layer settings of one run, from the first payload byte (the byte is still sent).
/// Each bit turns one on, for both sides unless said otherwise.
mod record_options {
    /// `SSL_set_read_ahead`: read as much as the transport gives, not record by record.
    pub const READ_AHEAD: u8 = 1;
    /// `SSL_MODE_RELEASE_BUFFERS`: free the record buffers whenever they are empty.
    pub const RELEASE_BUFFERS: u8 = 1 << 1;
    /// `SSL_set_max_send_fragment(512)`: records of at most 512 bytes of data.
    pub const SMALL_RECORDS: u8 = 1 << 2;
    /// TLS 1.3: records padded to a multiple of 256 bytes; TLS 1.2: the client refuses
    /// encrypt-then-MAC, so CBC suites MAC, then encrypt.
    pub const PADDING_OR_MAC_THEN_ENCRYPT: u8 = 1 << 3;
    /// The client asks for a maximum fragment length of 1024 (RFC 6066).
    pub const MAX_FRAGMENT_LENGTH: u8 = 1 << 4;
    /// TLS 1.3 without middlebox compatibility mode (no fake session ID or
    /// ChangeCipherSpec).
    pub const NO_MIDDLEBOX_COMPAT: u8 = 1 << 5;
}

/// What a side's transport has done: a blocked call that changed none of it moved no byte
/// and met no injected fault, so it blocked on an empty pipe.
#[derive(PartialEq, Eq)]
struct Quiet {
    bytes: (u64, u64),
    transient: (u64, u64),
    faults: (usize, [u64; 2]),
}

impl Quiet {
    fn of(side: &Side) -> Quiet {
        let s = side.stats();
        Quiet {
            bytes: (s.bytes_read, s.bytes_written),
            transient: (s.interrupted, s.would_block),
            faults: (s.errors.len(), s.eofs),
        }
    }
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
                if self.key_update && self.tls.protocol_version() == Some(Protocol::Tls1_3) {
                    // SAFETY: the stream's SSL is live and its handshake is done.
                    let kind = if self.key_update_requested {
                        SSL_KEY_UPDATE_REQUESTED
                    } else {
                        SSL_KEY_UPDATE_NOT_REQUESTED
                    };
                    let ok = unsafe { SSL_key_update(self.tls.as_ptr(), kind) };
                    assert_eq!(ok, 1, "SSL_key_update after the handshake");
                }
                self.phase = if self.writes_first {
                    Phase::Write(0)
                } else {
                    Phase::Read
                };
            }),
            // Buffered writes (`output_buffer_size`) leave the stream once flushed.
            Phase::Write(off) if off == payload.len() => {
                self.tls.flush().map_err(Error::from).map(|()| {
                    self.phase = Phase::Shutdown;
                })
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
            // Through the stream's own buffer (`BufRead`), or straight into `buf`.
            Phase::Read if self.buf_read => match self.tls.fill_buf() {
                Ok(data) => {
                    let n = data.len();
                    self.received.extend_from_slice(data);
                    self.tls.consume(n);
                    if n == 0 {
                        self.phase = if self.writes_first {
                            Phase::Done
                        } else {
                            Phase::Write(0)
                        };
                    }
                    Ok(())
                }
                Err(e) => Err(Error::from(e)),
            },
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

    /// Panics unless an injected fault explains `error`, or it is the failure the run was
    /// set up for: the client refusing the server's name, the server refusing a client
    /// without a certificate.
    fn check_explained(&self, error: &Error, meant: Option<MeantFailure>) {
        let stats = self.stats();
        let explained = match error {
            Error::Io(e) => stats.explains(e.kind()),
            Error::UnexpectedEof => stats.injected_read_eof(),
            Error::Hostname { hostname, .. } => {
                meant == Some(MeantFailure::WrongHost)
                    && self.name == "client"
                    && hostname == WRONG_HOST
            }
            // The server refuses a client without a certificate, or one without a version it
            // allows (an OpenSSL error, and an alert to the client).
            Error::Ssl(stack) => {
                self.name == "server"
                    && match meant {
                        Some(MeantFailure::NoClientCertificate) => stack
                            .errors()
                            .iter()
                            .any(|e| e.reason == "peer did not return a certificate"),
                        Some(MeantFailure::NoCommonVersion | MeantFailure::NoAlpn) => true,
                        _ => false,
                    }
            }
            Error::PeerAlert { .. } => {
                matches!(
                    meant,
                    Some(MeantFailure::NoCommonVersion | MeantFailure::NoAlpn)
                ) && self.name == "client"
            }
            _ => false,
        };
        assert!(
            explained,
            "{} failed with an error no fault explains: {error:?} (phase {:?}, injected {stats:?})",
            self.name, self.phase
        );
    }
}

/// A failure a run is set up for (bits 6 and 7 of the first payload byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MeantFailure {
    /// The client verifies the server's certificate against [`WRONG_HOST`], which it does
    /// not name: the client must refuse it ([`Error::Hostname`]).
    WrongHost,
    /// The server requires a client certificate, and the client has none: the server must
    /// refuse the handshake.
    NoClientCertificate,
    /// The client allows only the other protocol version (TLS 1.2 against a TLS 1.3 server,
    /// TLS 1.3 against a TLS 1.2 one): the server must refuse it.
    NoCommonVersion,
    /// The client offers only `h2`, the server accepts only `http/1.1` and requires a match
    /// (bit 6 of the second payload byte, when the first byte means no other failure): the
    /// server must refuse the handshake.
    NoAlpn,
}

/// The name a [`MeantFailure::WrongHost`] client asks for.
const WRONG_HOST: &str = "wrong.example";

/// The groups a client of `transport_chaos` offers unless the input asks for the hybrid key
/// share (configurations without groups of their own), by the configuration byte divided by
/// the number of configurations, modulo 6. The first is OpenSSL 3.6's default list without
/// `X25519MLKEM768`, so a TLS 1.3 client sends one X25519 key share instead of two (ML-KEM
/// plus X25519): ML-KEM's instrumented C code took about a third of a TLS 1.3 run, and it runs
/// the same way every time in this target (no handshake byte is mutated here). The others put
/// another group first: its key share in TLS 1.3, its ECDHE in TLS 1.2; each keeps P-256, which
/// a TLS 1.2 server's ECDSA certificate needs.
const GROUP_CHOICES: [&CStr; 6] = [
    c"X25519:secp256r1:X448:secp384r1:secp521r1:ffdhe2048:ffdhe3072",
    c"secp256r1:X25519",
    c"secp384r1:secp256r1",
    c"X448:secp256r1",
    c"ffdhe2048:secp256r1",
    c"secp521r1:secp256r1",
];

/// Cipher choices that replace a configuration's own, by the configuration byte divided by
/// the number of configurations, divided by 6, modulo 4 (`None`: the configuration's own):
/// TLS 1.3 suites, TLS 1.2 with the ECDSA key, TLS 1.2 with the RSA key. Both sides allow
/// only the one chosen.
const CIPHER_CHOICES: [[Option<&CStr>; 4]; 3] = [
    [
        None,
        Some(c"TLS_AES_128_CCM_SHA256"),
        Some(c"TLS_CHACHA20_POLY1305_SHA256"),
        Some(c"TLS_AES_256_GCM_SHA384"),
    ],
    [
        None,
        Some(c"ECDHE-ECDSA-AES128-CCM"),
        Some(c"ECDHE-ECDSA-AES256-SHA384"),
        Some(c"ECDHE-ECDSA-AES256-CCM"),
    ],
    [
        None,
        Some(c"AES128-CCM"),
        Some(c"AES256-GCM-SHA384"),
        Some(c"ECDHE-RSA-CHACHA20-POLY1305"),
    ],
];

/// Signature algorithms both sides prefer (bits 3 to 5 of the second payload byte; `None`:
/// their defaults): other digests, and RSA PKCS#1 v1.5 in TLS 1.2. Each list ends with the
/// defaults each key can use, so every configuration still finds one.
const SIGALG_CHOICES: [Option<&CStr>; 8] = [
    None,
    Some(c"rsa_pss_rsae_sha512:ECDSA+SHA512:ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256"),
    Some(c"rsa_pss_rsae_sha384:ECDSA+SHA384:ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256"),
    Some(c"RSA+SHA256:ECDSA+SHA256:rsa_pss_rsae_sha256"),
    Some(c"RSA+SHA512:ECDSA+SHA224:ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256"),
    Some(c"RSA+SHA384:ECDSA+SHA1:RSA+SHA1:ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256"),
    Some(c"RSA+SHA224:ecdsa_secp256r1_sha256:rsa_pss_rsae_sha384"),
    None,
];

/// The contexts of one configuration of `transport_chaos`, made once per process.
struct ChaosContexts {
    client: Context,
    /// The server, without session tickets.
    server: Context,
    /// The server with stateless session tickets (runs that resume).
    server_tickets: Context,
}

/// The contexts of every configuration in [`CHAOS_SCENARIOS`], made once per process (before
/// a run reseeds: making a context draws random bytes).
fn chaos_contexts() -> &'static [ChaosContexts] {
    static CONTEXTS: OnceLock<Vec<ChaosContexts>> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        CHAOS_SCENARIOS
            .iter()
            .map(|&i| {
                let config = &SCENARIOS[i];
                ChaosContexts {
                    client: client_context(config).expect("the chaos client context"),
                    server: server_context(config).expect("the chaos server context"),
                    server_tickets: build_server_context_with(config, true)
                        .expect("the chaos server context (tickets)"),
                }
            })
            .collect()
    })
}

/// What [`transport_chaos`] runs, read from its input.
struct Run<'a> {
    config: &'static Scenario,
    client_script: &'a [u8],
    server_script: &'a [u8],
    payload: &'a [u8],
    client_key_update: bool,
    server_key_update: bool,
    /// The client's groups, instead of its context's.
    groups: Option<&'static CStr>,
    /// The cipher (TLS 1.2) or suite (TLS 1.3) both sides allow, instead of their contexts'.
    cipher: Option<&'static CStr>,
    /// [`record_options`] bits.
    options: u8,
    /// The failure the run is set up for, if any.
    meant_failure: Option<MeantFailure>,
    /// The streams' own buffers (second payload byte): bit 0, writes buffered up to 4 KiB
    /// (`output_buffer_size`) and flushed before the close; bit 1, reads through `BufRead`,
    /// with bit 2 a 1 KiB input buffer instead of the default 16 KiB; bits 3 to 5 pick the
    /// signature algorithms ([`SIGALG_CHOICES`]); bit 6 is [`MeantFailure::NoAlpn`]; bit 7
    /// makes KeyUpdates not ask the peer for its own and, in a run that resumes, gives the
    /// server a session cache instead of tickets (a server context made for the run).
    buffers: u8,
}

/// Fuzz target `transport_chaos`: a real client and server, one thread, over in-memory pipes
/// each wrapped in a [`ChaosTransport`] scripted by the input. Layout: `[config] [client
/// script length] [server script length] [client script] [server script] [payload]`. A
/// length is at most 63: bit 6 of each length byte makes the client or the server request a
/// TLS 1.3 KeyUpdate after the handshake; bit 7 of the client's makes a TLS 1.3 client offer
/// OpenSSL's default groups, with the hybrid `X25519MLKEM768` key share (otherwise it offers
/// X25519 first, one key share); bit 7 of the server's gives the server session tickets (or
/// a session cache, see [`Run::buffers`]) and runs a second connection, over fresh pipes
/// under the same scripts, that resumes the first's session. The configuration byte divided
/// by the number of configurations picks the client's groups ([`GROUP_CHOICES`]) and a cipher
/// ([`CIPHER_CHOICES`]). The payload is sent whole, and its first two bytes choose more:
/// [`record_options`] and a [`MeantFailure`] (top two bits), then the streams' buffers, the
/// signature algorithms ([`SIGALG_CHOICES`]) and more (see [`Run::buffers`]).
///
/// Asserts that the payload reaches the server once and in order and comes back the same
/// way, that any failure is an error a script injected (with that `io::ErrorKind`, or an
/// unexpected EOF after an injected EOF) or the one the run was set up for, that a run set up
/// to fail does not succeed, and that a session the first connection made resumable is
/// resumed; a run that stops making progress is a hang.
pub fn transport_chaos(data: &[u8]) {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let index = usize::from(at(0)) % CHAOS_SCENARIOS.len();
    let (client_len, server_len) = (usize::from(at(1) % 64), usize::from(at(2) % 64));
    let rest = data.get(3..).unwrap_or(&[]);
    let (client_script, rest) = rest.split_at(client_len.min(rest.len()));
    let (server_script, payload) = rest.split_at(server_len.min(rest.len()));
    let payload = &payload[..payload.len().min(CHAOS_MAX_PAYLOAD)];
    let config = &SCENARIOS[CHAOS_SCENARIOS[index]];
    let variant = usize::from(at(0)) / CHAOS_SCENARIOS.len();
    let (hybrid, resume) = (at(1) & 0x80 != 0, at(2) & 0x80 != 0);
    let ciphers = match (config.version, config.key) {
        (Protocol::Tls1_3, _) => &CIPHER_CHOICES[0],
        (_, ServerKey::Rsa | ServerKey::RsaPss) => &CIPHER_CHOICES[2],
        (_, _) => &CIPHER_CHOICES[1],
    };
    let run = Run {
        config,
        groups: (!hybrid && config.client_groups.is_none())
            .then_some(GROUP_CHOICES[variant % GROUP_CHOICES.len()]),
        cipher: ciphers[variant / GROUP_CHOICES.len() % ciphers.len()],
        client_script,
        server_script,
        payload,
        client_key_update: at(1) & 0x40 != 0 && !payload.is_empty(),
        server_key_update: at(2) & 0x40 != 0 && !payload.is_empty(),
        options: payload.first().copied().unwrap_or(0),
        buffers: payload.get(1).copied().unwrap_or(0),
        meant_failure: match payload.first().copied().unwrap_or(0) >> 6 {
            1 => Some(MeantFailure::WrongHost),
            2 if !config.client_cert => Some(MeantFailure::NoClientCertificate),
            3 => Some(MeantFailure::NoCommonVersion),
            _ if payload.get(1).is_some_and(|b| b & 0x40 != 0) => Some(MeantFailure::NoAlpn),
            _ => None,
        },
    };

    let contexts = &chaos_contexts()[index];
    // A server that resumes from its session cache (no tickets) holds state: it is made for
    // this run alone, before the reseed (making a context draws random bytes).
    let stateful = (resume && run.buffers & 0x80 != 0).then(|| {
        build_server_context(&Scenario {
            resume: true,
            ..*config
        })
        .expect("the chaos server context (session cache)")
    });
    reseed(CLIENT_SEED);
    let client_ctx = &contexts.client;
    let server_ctx = match &stateful {
        Some(ctx) => ctx,
        None if resume => &contexts.server_tickets,
        None => &contexts.server,
    };
    let Some(client) = connection(&run, client_ctx, server_ctx, None) else {
        return;
    };
    if !resume {
        return;
    }
    let Some(session) = client.session().filter(|s| s.is_resumable()) else {
        return;
    };
    drop(client);
    if let Some(client) = connection(&run, client_ctx, server_ctx, Some(session)) {
        assert!(
            client.session_reused(),
            "the second connection resumed the first's session"
        );
    }
}

/// One connection of [`transport_chaos`]: returns the client once the payload went there and
/// back and both sides closed, or `None` after a failure an injected fault explains.
fn connection(
    run: &Run<'_>,
    client_ctx: &Context,
    server_ctx: &Context,
    session: Option<Session>,
) -> Option<ChaosStream> {
    let (config, payload) = (run.config, run.payload);
    let (mut client_end, mut server_end) = sslbridge::duplex(1 << 20);
    client_end.set_nonblocking(true);
    server_end.set_nonblocking(true);
    // The client verifies the server's chain and name (both valid), sends SNI and offers the
    // configuration's ALPN protocols: no fault may turn any of that into a failure either.
    let mut client = ClientOptions::new()
        .context(client_ctx.clone())
        .verify(Verify::Required)
        .hostname(if run.meant_failure == Some(MeantFailure::WrongHost) {
            WRONG_HOST
        } else {
            config.sni.unwrap_or("localhost")
        })
        .alpn_protocols(if run.meant_failure == Some(MeantFailure::NoAlpn) {
            &["h2"]
        } else {
            config.client_alpn
        });
    if let Some(session) = session {
        client = client.session(session);
    }
    let (buffered_writes, buf_read) = (run.buffers & 1 != 0, run.buffers & 2 != 0);
    let input_buffer = if run.buffers & 4 != 0 {
        1024
    } else {
        16 * 1024
    };
    let output_buffer = if buffered_writes { 4096 } else { 0 };
    client = client
        .input_buffer_size(input_buffer)
        .output_buffer_size(output_buffer);
    let client = client
        .start(ChaosPlan::from_bytes(run.client_script).wrap(client_end))
        .expect("client set-up");
    let server = ServerOptions::new()
        .context(server_ctx.clone())
        .alpn_protocols(if run.meant_failure == Some(MeantFailure::NoAlpn) {
            &["http/1.1"]
        } else {
            config.server_alpn
        })
        .alpn_required(run.meant_failure == Some(MeantFailure::NoAlpn))
        .input_buffer_size(input_buffer)
        .output_buffer_size(output_buffer)
        .start(ChaosTransport::from_bytes(server_end, run.server_script))
        .expect("server set-up");
    let tls13 = config.version == Protocol::Tls1_3;
    // SAFETY (each call): the streams' SSLs are live and not yet started; the strings are
    // NUL-terminated constants, which OpenSSL copies.
    unsafe {
        if let Some(groups) = run.groups {
            let ok = openssl_sys::SSL_set1_groups_list(client.as_ptr(), groups.as_ptr());
            assert_eq!(ok, 1, "the client's groups {groups:?}");
        }
        if let Some(cipher) = run.cipher {
            for ssl in [client.as_ptr(), server.as_ptr()] {
                let ok = if tls13 {
                    openssl_sys::SSL_set_ciphersuites(ssl, cipher.as_ptr())
                } else {
                    openssl_sys::SSL_set_cipher_list(ssl, cipher.as_ptr())
                };
                assert_eq!(ok, 1, "the cipher {cipher:?}");
            }
        }
        let on = |bit: u8| run.options & bit != 0;
        for ssl in [client.as_ptr(), server.as_ptr()] {
            if on(record_options::READ_AHEAD) {
                openssl_sys::SSL_ctrl(ssl, openssl_sys::SSL_CTRL_SET_READ_AHEAD, 1, null_mut());
            }
            if on(record_options::RELEASE_BUFFERS) {
                let mode = openssl_sys::SSL_MODE_RELEASE_BUFFERS;
                openssl_sys::SSL_ctrl(ssl, openssl_sys::SSL_CTRL_MODE, mode, null_mut());
            }
            if on(record_options::SMALL_RECORDS) {
                let ok =
                    openssl_sys::SSL_ctrl(ssl, SSL_CTRL_SET_MAX_SEND_FRAGMENT, 512, null_mut());
                assert_eq!(ok, 1, "SSL_set_max_send_fragment");
            }
            if on(record_options::PADDING_OR_MAC_THEN_ENCRYPT) && tls13 {
                assert_eq!(SSL_set_block_padding(ssl, 256), 1, "SSL_set_block_padding");
            }
            if on(record_options::NO_MIDDLEBOX_COMPAT) {
                SSL_clear_options(ssl, openssl_sys::SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
            }
        }
        if on(record_options::PADDING_OR_MAC_THEN_ENCRYPT) && !tls13 {
            SSL_set_options(client.as_ptr(), SSL_OP_NO_ENCRYPT_THEN_MAC);
        }
        if let Some(sigalgs) = SIGALG_CHOICES[usize::from(run.buffers >> 3) & 7] {
            for ssl in [client.as_ptr(), server.as_ptr()] {
                let list = sigalgs.as_ptr().cast_mut().cast();
                let ok = openssl_sys::SSL_ctrl(ssl, SSL_CTRL_SET_SIGALGS_LIST, 0, list);
                assert_eq!(ok, 1, "the signature algorithms {sigalgs:?}");
            }
        }
        if run.meant_failure == Some(MeantFailure::NoClientCertificate) {
            let mode = openssl_sys::SSL_VERIFY_PEER | openssl_sys::SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
            openssl_sys::SSL_set_verify(server.as_ptr(), mode, None);
        }
        if run.meant_failure == Some(MeantFailure::NoCommonVersion) {
            let ssl = client.as_ptr();
            let (version, ctrl) = if tls13 {
                (
                    openssl_sys::TLS1_2_VERSION,
                    openssl_sys::SSL_CTRL_SET_MAX_PROTO_VERSION,
                )
            } else {
                (
                    openssl_sys::TLS1_3_VERSION,
                    openssl_sys::SSL_CTRL_SET_MIN_PROTO_VERSION,
                )
            };
            let ok = openssl_sys::SSL_ctrl(ssl, ctrl, c_long::from(version), null_mut());
            assert_eq!(ok, 1, "the client's protocol version");
            // Its context allows only the configuration's version: open the other end too.
            let other = if tls13 {
                openssl_sys::SSL_CTRL_SET_MIN_PROTO_VERSION
            } else {
                openssl_sys::SSL_CTRL_SET_MAX_PROTO_VERSION
            };
            let ok = openssl_sys::SSL_ctrl(ssl, other, c_long::from(version), null_mut());
            assert_eq!(ok, 1, "the client's protocol version");
        }
        if on(record_options::MAX_FRAGMENT_LENGTH) {
            let ok = SSL_set_tlsext_max_fragment_length(client.as_ptr(), MAX_FRAGMENT_LENGTH_1024);
            assert_eq!(ok, 1, "SSL_set_tlsext_max_fragment_length");
        }
    }
    let mut sides = [
        Side {
            name: "client",
            tls: client,
            phase: Phase::Handshake,
            writes_first: true,
            key_update: run.client_key_update,
            key_update_requested: run.buffers & 0x80 == 0,
            buf_read,
            received: Vec::new(),
        },
        Side {
            name: "server",
            tls: server,
            phase: Phase::Handshake,
            writes_first: false,
            key_update: run.server_key_update,
            key_update_requested: run.buffers & 0x80 == 0,
            buf_read,
            received: Vec::new(),
        },
    ];

    let mut stalled = 0u32;
    // Per side: set when its last call blocked on an empty pipe without any fault injected
    // or byte moved, to the bytes its peer had written by then. Calling it again before the
    // peer writes more could only block again (or take a storm fault), so it waits.
    let mut idle_since: [Option<u64>; 2] = [None, None];
    while sides.iter().any(|s| s.phase != Phase::Done) {
        let moved_before: u64 = sides
            .iter()
            .map(|s| s.stats().bytes_read + s.stats().bytes_written)
            .sum();
        let mut progressed = false;
        for i in 0..2 {
            let peer_written = sides[1 - i].stats().bytes_written;
            if idle_since[i] == Some(peer_written) {
                continue;
            }
            let side = &mut sides[i];
            let before = Quiet::of(side);
            match side.step(payload) {
                Step::Progress => {
                    progressed = true;
                    idle_since[i] = None;
                }
                Step::Blocked => {
                    idle_since[i] = (Quiet::of(side) == before).then_some(peer_written);
                }
                Step::Failed(e) => {
                    side.check_explained(&e, run.meant_failure);
                    return None;
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
    assert!(
        run.meant_failure.is_none(),
        "the connection succeeded although it was set up to fail: {:?}",
        run.meant_failure
    );
    assert_eq!(
        sides[1].received, payload,
        "the server got the payload once, in order"
    );
    assert_eq!(
        sides[0].received, payload,
        "the client got the echo once, in order"
    );
    let [client, _server] = sides;
    Some(client.tls)
}

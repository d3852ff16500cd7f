//! The recorded connection set-ups (`SCENARIOS`), their contexts, made once per process, and
//! the layout of a `client_records` / `server_records` input.

use super::keys;
use sslbridge::{
    ClientOptions, Context, Error, Protocol, ServerOptions, SessionCacheMode, SslOptions, Verify,
    VerifyMode,
};
use std::sync::OnceLock;

/// Which server key a scenario uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKey {
    /// ECDSA P-256.
    Ecdsa,
    /// RSA 2048.
    Rsa,
    /// Ed25519 (self-signed).
    Ed25519,
    /// Ed448 (self-signed).
    Ed448,
    /// RSA-PSS 2048, a key that signs only with PSS (self-signed).
    RsaPss,
    /// ECDSA P-384 (self-signed).
    EcdsaP384,
}

/// `SSL_OP_NO_EXTENDED_MASTER_SECRET` (OpenSSL 3.0+), for [`Scenario::client_options`]: not
/// among sslbridge's named [`SslOptions`].
pub const NO_EXTENDED_MASTER_SECRET: u64 = 1;
/// `SSL_OP_NO_ENCRYPT_THEN_MAC`: TLS 1.2 CBC suites fall back to MAC-then-encrypt.
pub const NO_ENCRYPT_THEN_MAC: u64 = 1 << 19;

/// One recorded connection setup. The first byte of a `client_records` or `server_records`
/// input picks the scenario (its low six bits, modulo the count) and how the replayed bytes
/// are chunked (its top two bits).
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The seed file name of the recording.
    pub name: &'static str,
    /// The only protocol version both sides allow.
    pub version: Protocol,
    /// TLS 1.2 cipher list, both sides.
    pub ciphers: Option<&'static str>,
    /// TLS 1.3 suites, both sides.
    pub suites: Option<&'static str>,
    /// Client groups (the first gets a key share). In TLS 1.2 they also limit the curves of
    /// ECDSA certificates the client accepts, so they include the server certificate's.
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
    /// The client's certificate is the RSA one (`server-rsa`) instead of the ECDSA `client`.
    pub client_cert_rsa: bool,
    /// Raw `SSL_OP_*` bits the client sets besides [`SslOptions::ALL`].
    pub client_options: u64,
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
    client_cert_rsa: false,
    client_options: 0,
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
    // Added to reach further into OpenSSL's key exchanges, ciphers and signatures; appended,
    // since `transport_chaos` and the corpora address scenarios by index.
    Scenario {
        name: "tls13-x448",
        client_groups: Some("X448"),
        server_groups: Some("X448"),
        ..BASE
    },
    Scenario {
        name: "tls13-ffdhe2048",
        client_groups: Some("ffdhe2048"),
        server_groups: Some("ffdhe2048"),
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-ecdsa-aes256gcm-p384",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-AES256-GCM-SHA384"),
        client_groups: Some("P-384:P-256"),
        server_groups: Some("P-384"),
        ..BASE
    },
    Scenario {
        name: "tls13-p521",
        client_groups: Some("P-521"),
        server_groups: Some("P-521"),
        ..BASE
    },
    Scenario {
        name: "tls13-aes128ccm",
        suites: Some("TLS_AES_128_CCM_SHA256"),
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-ecdsa-aes128cbc-sha",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-AES128-SHA"),
        ..BASE
    },
    Scenario {
        name: "tls12-rsa-aes128cbc-sha-mac-then-encrypt-no-ems",
        version: Protocol::Tls1_2,
        ciphers: Some("AES128-SHA"),
        key: ServerKey::Rsa,
        client_options: NO_EXTENDED_MASTER_SECRET | NO_ENCRYPT_THEN_MAC,
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-ecdsa-aes256cbc-sha384-mac-then-encrypt",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-AES256-SHA384"),
        client_options: NO_ENCRYPT_THEN_MAC,
        ..BASE
    },
    Scenario {
        name: "tls13-client-cert-rsa",
        client_cert: true,
        client_cert_rsa: true,
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-rsa-chacha20-client-cert-rsa",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-RSA-CHACHA20-POLY1305"),
        key: ServerKey::Rsa,
        client_cert: true,
        client_cert_rsa: true,
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-ecdsa-aes128gcm-sect571r1",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-AES128-GCM-SHA256"),
        client_groups: Some("sect571r1:P-256"),
        server_groups: Some("sect571r1"),
        ..BASE
    },
    Scenario {
        name: "tls13-ed25519",
        key: ServerKey::Ed25519,
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-ed448-aes256gcm",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-AES256-GCM-SHA384"),
        key: ServerKey::Ed448,
        ..BASE
    },
    Scenario {
        name: "tls13-rsa-pss-key",
        key: ServerKey::RsaPss,
        ..BASE
    },
    Scenario {
        name: "tls12-ecdhe-ecdsa-p384-brainpool",
        version: Protocol::Tls1_2,
        ciphers: Some("ECDHE-ECDSA-AES256-GCM-SHA384"),
        key: ServerKey::EcdsaP384,
        client_groups: Some("brainpoolP512r1:P-384"),
        server_groups: Some("brainpoolP512r1"),
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

/// Trust is the fixed CA, in memory: never OpenSSL's default paths or a directory, which
/// would be searched (a file system lookup) during every handshake's chain verification and
/// make a run depend on what the machine has installed.
fn context_builder(s: &Scenario) -> sslbridge::ContextBuilder {
    let mut b = Context::builder()
        .ca_certificates_pem(keys::CA)
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

/// Builds the client's context for `s`: the client certificate is in the context, so each
/// run does not parse its key again.
pub fn build_client_context(s: &Scenario) -> Result<Context, Error> {
    let mut b =
        context_builder(s).options(SslOptions::ALL | SslOptions::from_bits(s.client_options));
    if let Some(g) = s.client_groups {
        b = b.groups(g);
    }
    if s.client_cert {
        let (chain, key) = if s.client_cert_rsa {
            (keys::SERVER_RSA_CHAIN, keys::SERVER_RSA_KEY)
        } else {
            (keys::CLIENT_CHAIN, keys::CLIENT_KEY)
        };
        b = b.certificate_chain_pem(chain).private_key_pem(key);
    }
    b.build()
}

/// Builds the server's context for `s`. Sessions are cached by the server only when the
/// scenario resumes (stateful resumption, no tickets holding a timestamp, so a recorded
/// resumption replays at any date); such a context holds state from the runs that used it,
/// so it is made afresh for every run (see [`server_context`]).
pub fn build_server_context(s: &Scenario) -> Result<Context, Error> {
    build_server_context_with(s, false)
}

/// [`build_server_context`], with stateless session tickets when `tickets` is set (for
/// `transport_chaos`, whose runs may resume; never for the recorded scenarios, whose
/// recordings would depend on the ticket keys and the date).
pub fn build_server_context_with(s: &Scenario, tickets: bool) -> Result<Context, Error> {
    let (chain, key) = match s.key {
        ServerKey::Ecdsa => (keys::SERVER_ECDSA_CHAIN, keys::SERVER_ECDSA_KEY),
        ServerKey::Rsa => (keys::SERVER_RSA_CHAIN, keys::SERVER_RSA_KEY),
        ServerKey::Ed25519 => (keys::SERVER_ED25519_CHAIN, keys::SERVER_ED25519_KEY),
        ServerKey::Ed448 => (keys::SERVER_ED448_CHAIN, keys::SERVER_ED448_KEY),
        ServerKey::RsaPss => (keys::SERVER_RSA_PSS_CHAIN, keys::SERVER_RSA_PSS_KEY),
        ServerKey::EcdsaP384 => (keys::SERVER_ECDSA_P384_CHAIN, keys::SERVER_ECDSA_P384_KEY),
    };
    let mut b = context_builder(s)
        .certificate_chain_pem(chain)
        .private_key_pem(key)
        .options(if tickets {
            SslOptions::ALL
        } else {
            SslOptions::ALL | SslOptions::NO_TICKET
        })
        .session_cache_mode(if s.resume {
            SessionCacheMode::SERVER
        } else {
            SessionCacheMode::OFF
        });
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

/// The contexts of every scenario, made once per process.
struct Prepared {
    client: Result<Context, String>,
    /// `None` for a scenario whose server context is made per run.
    server: Option<Result<Context, String>>,
}

/// Makes every context once and runs each scenario once against an empty peer, so the lazy,
/// process-wide set-up (providers, method tables, the BIO method, cipher and group tables)
/// is done before any run: the first run then draws the same random bytes as every later
/// one. Making a context draws random bytes (its session ticket keys), so a run must reseed
/// after this, never before ([`super::reseed`] does both in that order).
fn prepared() -> &'static [Prepared] {
    static PREPARED: OnceLock<Vec<Prepared>> = OnceLock::new();
    PREPARED.get_or_init(|| {
        sslbridge::ensure_initialized();
        SCENARIOS
            .iter()
            .map(|s| {
                let client = build_client_context(s).map_err(|e| e.to_string());
                let server = build_server_context(s).map_err(|e| e.to_string());
                if let (Ok(c), Ok(sv)) = (&client, &server) {
                    let _ = ClientOptions::new()
                        .context(c.clone())
                        .verify(Verify::None)
                        .connect(super::records::Replay::new(Vec::new(), 1));
                    let _ = ServerOptions::new()
                        .context(sv.clone())
                        .accept(super::records::Replay::new(Vec::new(), 1));
                }
                Prepared {
                    client,
                    server: (!s.resume).then_some(server),
                }
            })
            .collect()
    })
}

fn index_of(s: &Scenario) -> usize {
    SCENARIOS
        .iter()
        .position(|x| x.name == s.name)
        .expect("a scenario of SCENARIOS")
}

/// Makes the contexts (once per process); see [`prepared`].
pub fn prepare() {
    prepared();
}

/// The client context of `s`, made once per process.
pub fn client_context(s: &Scenario) -> Result<Context, String> {
    prepared()[index_of(s)].client.clone()
}

/// The server context of `s`: made once per process, or made now when the scenario caches
/// sessions.
pub fn server_context(s: &Scenario) -> Result<Context, String> {
    match &prepared()[index_of(s)].server {
        Some(ctx) => ctx.clone(),
        None => build_server_context(s).map_err(|e| e.to_string()),
    }
}

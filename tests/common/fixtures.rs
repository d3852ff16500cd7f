//! The test fixture (one PKI with its PEM files) and connected in-memory pairs.

use super::files::{p, TempFiles};
use super::modes::Mode;
use super::timing::join;
use sslbridge::testing::{CertifiedKey, KeyType, TestPki};
use sslbridge::{
    ClientOptions, Context, Error, MemoryPipe, Protocol, ServerOptions, SslStream, Verify,
    VerifyMode,
};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::thread;

/// A test PKI, its certificates, and their PEM files in a temporary directory.
///
/// `dir` holds `root.pem`, `intermediate.pem`, `server.pem`, `client.pem`, and `NAME-chain.pem`
/// / `NAME.key` for `server`, `other` and `client`. [`Fixture::new`] makes a fresh one (keys of
/// its own for the test); [`Fixture::shared`] is one per test binary (generating keys is slow
/// in a debug build).
pub struct Fixture {
    pub pki: TestPki,
    /// For `localhost` and `127.0.0.1`, issued by the intermediate.
    pub server: CertifiedKey,
    /// For `sni.example` only (SNI tests), issued by the root itself: `s_server -cert2` has no
    /// chain option.
    pub other: CertifiedKey,
    /// A client certificate, CN `alice`.
    pub client: CertifiedKey,
    /// A client context trusting the root.
    pub trust: Context,
    pub dir: TempFiles,
}

impl Fixture {
    pub fn new() -> Fixture {
        let pki = TestPki::new().expect("test PKI");
        let server = pki
            .server(&["localhost", "127.0.0.1"])
            .expect("server certificate");
        let other = pki
            .leaf("sni.example")
            .dns_name("sni.example")
            .issued_by_root()
            .build()
            .expect("second certificate");
        let client = pki.client("alice").expect("client certificate");
        let trust = Context::builder()
            .ca_certificates_pem(&pki.root_pem())
            .build()
            .expect("client context");
        let dir = TempFiles::new();
        dir.write("root.pem", &pki.root_pem());
        dir.write("intermediate.pem", &pki.intermediate_pem());
        dir.write("server.pem", &server.cert_pem);
        dir.write("client.pem", &client.cert_pem);
        for (name, key) in [("server", &server), ("other", &other), ("client", &client)] {
            dir.write(&format!("{name}-chain.pem"), &key.chain_pem);
            dir.write(&format!("{name}.key"), &key.key_pem);
        }
        Fixture {
            pki,
            server,
            other,
            client,
            trust,
            dir,
        }
    }

    /// One fixture per test binary.
    pub fn shared() -> &'static Fixture {
        static FIXTURE: OnceLock<Fixture> = OnceLock::new();
        FIXTURE.get_or_init(Fixture::new)
    }

    /// Writes `data` to file `name` of the fixture's directory.
    pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        self.dir.write(name, data)
    }

    /// The path of a file in the directory, as a string for command lines.
    pub fn path(&self, name: &str) -> String {
        p(&self.dir.file(name)).to_string()
    }

    /// Writes `leaf.pem`, `intermediate.pem`, `key.pem` (the server's) and `root.pem` into
    /// `dir`; returns the path of `root.pem`.
    pub fn write_pems(&self, dir: &TempFiles) -> PathBuf {
        dir.write("leaf.pem", &self.server.cert_pem);
        dir.write("intermediate.pem", &self.pki.intermediate_pem());
        dir.write("key.pem", &self.server.key_pem);
        dir.write("root.pem", &self.pki.root_pem())
    }

    /// A verifying client for `localhost` in `mode`.
    pub fn client(&self, mode: Mode) -> ClientOptions {
        mode.client(
            ClientOptions::new()
                .hostname("localhost")
                .verify(Verify::Required)
                .context(self.trust.clone()),
        )
    }

    /// A server with the localhost certificate in `mode`.
    pub fn server(&self, mode: Mode) -> ServerOptions {
        mode.server(
            ServerOptions::new()
                .certificate_chain_pem(&self.server.chain_pem)
                .private_key_pem(&self.server.key_pem),
        )
    }

    /// A server limited to one protocol version.
    pub fn server_version(&self, mode: Mode, version: Protocol) -> ServerOptions {
        let context = Context::builder()
            .min_protocol_version(version)
            .max_protocol_version(version)
            .build()
            .expect("server context");
        self.server(mode).context(context)
    }

    /// A client context trusting the root, limited to `version` when given (a `Protocol` or
    /// an `Option<Protocol>`).
    pub fn client_context(&self, version: impl Into<Option<Protocol>>) -> Context {
        let mut b = Context::builder().ca_certificates_pem(&self.pki.root_pem());
        if let Some(v) = version.into() {
            b = b.min_protocol_version(v).max_protocol_version(v);
        }
        b.build().expect("client context")
    }

    /// A server context with the localhost certificate that does not ask for client
    /// certificates, limited to `version` when given.
    pub fn server_context(&self, version: impl Into<Option<Protocol>>) -> Context {
        let mut b = Context::builder()
            .verify_mode(VerifyMode::NONE)
            .certificate_chain_pem(&self.server.chain_pem)
            .private_key_pem(&self.server.key_pem);
        if let Some(v) = version.into() {
            b = b.min_protocol_version(v).max_protocol_version(v);
        }
        b.build().expect("server context")
    }

    /// A server context with the localhost certificate, limited to `version`, that requires a
    /// client certificate issued by the root.
    pub fn mtls_server_context(&self, version: Protocol) -> Context {
        Context::builder()
            .certificate_chain_pem(&self.server.chain_pem)
            .private_key_pem(&self.server.key_pem)
            .min_protocol_version(version)
            .max_protocol_version(version)
            .ca_certificates_pem(&self.pki.root_pem())
            .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
            .build()
            .expect("server context")
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

/// Runs a verified client ("localhost", Verify::Required) and a server over a duplex pipe and
/// returns both connected streams.
pub fn connected_pair(
    fx: &Fixture,
    version: Option<Protocol>,
    capacity: usize,
) -> (SslStream<MemoryPipe>, SslStream<MemoryPipe>) {
    let (c, s) = sslbridge::duplex(capacity);
    let server_ctx = fx.server_context(version);
    let server = thread::spawn(move || ServerOptions::new().context(server_ctx).accept(s));
    let client = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(fx.client_context(version))
        .connect(c)
        .expect("client handshake");
    let server = join(server).expect("server handshake");
    (client, server)
}

/// Connects a client with `options` to a server presenting `cert` over a duplex pipe; returns
/// the client's result and the server's.
pub fn try_connect(
    options: ClientOptions,
    cert: &CertifiedKey,
) -> (
    Result<SslStream<MemoryPipe>, Error>,
    Result<SslStream<MemoryPipe>, Error>,
) {
    let (c, s) = sslbridge::duplex(64 * 1024);
    let ctx = Context::builder()
        .verify_mode(sslbridge::VerifyMode::NONE)
        .certificate_chain_pem(&cert.chain_pem)
        .private_key_pem(&cert.key_pem)
        .build()
        .expect("server context");
    let server = thread::spawn(move || ServerOptions::new().context(ctx).accept(s));
    // A failed client drops its pipe end, so the server's handshake ends too.
    let client = options.connect(c);
    let server = join(server);
    (client, server)
}

/// An RSA server certificate: its signatures have a fixed length, so a connection's records
/// have the same sizes every time (the fault tests aim at exact record boundaries).
pub fn rsa_server(pki: &TestPki) -> CertifiedKey {
    pki.leaf("localhost")
        .dns_name("localhost")
        .key_type(KeyType::Rsa2048)
        .build()
        .expect("RSA server certificate")
}

/// Client and server contexts limited to TLS 1.2 (index 0) and TLS 1.3 (index 1); the servers
/// present `key` and ask for no client certificate, the clients trust the root of `pki`.
pub struct VersionContexts {
    pub client: [Context; 2],
    pub server: [Context; 2],
}

impl VersionContexts {
    pub fn new(pki: &TestPki, key: &CertifiedKey) -> VersionContexts {
        let ctx = |v: Protocol, server: bool| {
            let b = Context::builder()
                .min_protocol_version(v)
                .max_protocol_version(v);
            if server {
                b.certificate_chain_pem(&key.chain_pem)
                    .private_key_pem(&key.key_pem)
            } else {
                b.ca_certificates_pem(&pki.root_pem())
            }
            .build()
            .unwrap()
        };
        VersionContexts {
            client: [ctx(Protocol::Tls1_2, false), ctx(Protocol::Tls1_3, false)],
            server: [ctx(Protocol::Tls1_2, true), ctx(Protocol::Tls1_3, true)],
        }
    }
}

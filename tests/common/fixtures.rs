//! PKI fixtures and connected in-memory pairs.

use super::files::TempFiles;
use super::timing::join;
use sslbridge::testing::{CertifiedKey, KeyType, TestPki};
use sslbridge::{
    ClientOptions, Context, Error, MemoryPipe, Protocol, ServerOptions, SslStream, Verify,
};
use std::thread;

/// A test PKI with a "localhost" server certificate and a client context trusting its root.
pub struct Fixture {
    pub pki: TestPki,
    pub server: CertifiedKey,
}

impl Fixture {
    pub fn new() -> Fixture {
        let pki = TestPki::new().expect("test PKI");
        let server = pki.server(&["localhost"]).expect("server certificate");
        Fixture { pki, server }
    }

    /// Writes `leaf.pem`, `intermediate.pem`, `key.pem` (the server's) and `root.pem` into
    /// `dir`; returns the path of `root.pem`.
    pub fn write_pems(&self, dir: &TempFiles) -> std::path::PathBuf {
        dir.write("leaf.pem", &self.server.cert_pem);
        dir.write("intermediate.pem", &self.pki.intermediate_pem());
        dir.write("key.pem", &self.server.key_pem);
        dir.write("root.pem", &self.pki.root_pem())
    }

    /// A client context trusting the test root, limited to `version` when given.
    pub fn client_context(&self, version: Option<Protocol>) -> Context {
        let mut b = Context::builder().ca_certificates_pem(&self.pki.root_pem());
        if let Some(v) = version {
            b = b.min_protocol_version(v).max_protocol_version(v);
        }
        b.build().expect("client context")
    }

    /// A server context with the "localhost" certificate that does not ask for client
    /// certificates, limited to `version` when given.
    pub fn server_context(&self, version: Option<Protocol>) -> Context {
        let mut b = Context::builder()
            .verify_mode(sslbridge::VerifyMode::NONE)
            .certificate_chain_pem(&self.server.chain_pem)
            .private_key_pem(&self.server.key_pem);
        if let Some(v) = version {
            b = b.min_protocol_version(v).max_protocol_version(v);
        }
        b.build().expect("server context")
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

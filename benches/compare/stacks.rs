//! The three TLS stacks set up identically (TLS 1.3 only, TLS_AES_128_GCM_SHA256, ECDSA P-256
//! certificates from `TestPki`, one key-exchange group) behind one small trait, so every
//! measurement drives them with the same code.

use openssl::pkey::PKey;
use openssl::ssl::{
    ShutdownState, Ssl, SslContext, SslContextBuilder, SslMethod, SslMode, SslSession,
    SslVerifyMode, SslVersion,
};
use openssl::x509::X509;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use sslbridge::{
    ClientOptions, Context, Protocol, ServerOptions, Transport, Verify, VerifyLocation, VerifyMode,
};
use std::error::Error as StdError;
use std::ffi::CStr;
use std::io::{self, Read, Write};
use std::os::raw::{c_char, c_int};
use std::sync::Arc;

pub type BoxError = Box<dyn StdError + Send + Sync>;

pub const SUITE: &str = "TLS_AES_128_GCM_SHA256";
const HOST: &str = "localhost";

/// Which implementation drives a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// sslbridge with its defaults: the fd fast path when the transport is a descriptor.
    Sslbridge,
    /// sslbridge forced through the custom BIO (`unwrap_fd(false)`).
    SslbridgeBio,
    /// sslbridge on the fd fast path without OpenSSL's read-ahead (`fd_read_ahead(false)`).
    SslbridgeNoReadAhead,
    /// rust-openssl's `SslStream`.
    OpenSsl,
    /// rustls's `StreamOwned` with the ring provider.
    Rustls,
}

impl Stack {
    pub fn name(self) -> &'static str {
        match self {
            Stack::Sslbridge => "sslbridge",
            Stack::SslbridgeBio => "sslbridge-bio",
            Stack::SslbridgeNoReadAhead => "sslbridge-no-read-ahead",
            Stack::OpenSsl => "rust-openssl",
            Stack::Rustls => "rustls",
        }
    }

    pub fn parse(s: &str) -> Option<Stack> {
        [
            Stack::Sslbridge,
            Stack::SslbridgeBio,
            Stack::SslbridgeNoReadAhead,
            Stack::OpenSsl,
            Stack::Rustls,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// The key-exchange groups a configuration offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Groups {
    /// X25519 only, for all three stacks.
    X25519,
    /// Whatever the linked OpenSSL offers by default (X25519MLKEM768 first on 3.5+); the
    /// OpenSSL stacks only, since ring has no post-quantum group.
    OpenSslDefault,
}

/// A resumable session taken from a finished client connection.
pub enum Ticket {
    Sslbridge(sslbridge::Session),
    OpenSsl(SslSession),
    /// rustls keeps tickets in the client configuration's resumption store.
    Rustls,
}

/// What the benchmark needs from a connection of any stack.
pub trait Conn: Read + Write + Send {
    /// Sends close_notify; the caller drops the connection once the peer is done, so a
    /// socket is never closed with unread data in it (which resets the connection).
    fn close_notify(&mut self) -> io::Result<()>;
    fn resumed(&self) -> bool;
    /// Lets a plain drop keep the session resumable. OpenSSL marks the session of an `SSL`
    /// freed without shutdown state not resumable; sslbridge's `Drop` sets that state itself,
    /// a rust-openssl user has to (`SslStream::set_shutdown`).
    fn keep_session_on_drop(&mut self) {}
    /// The session to resume with, if the stack gave one.
    fn ticket(&self) -> Option<Ticket>;
    /// "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519": what was negotiated.
    fn negotiated(&self) -> String;
    /// sslbridge's own transport counters, for the stacks that have them.
    fn sslbridge_stats(&self) -> Option<sslbridge::TransportStats> {
        None
    }
    fn uses_fd_fast_path(&self) -> bool {
        false
    }
}

/// Server and client configurations of all three stacks, built once and shared.
pub struct Configs {
    sb_client: Context,
    sb_server: Context,
    ossl_client: SslContext,
    ossl_server: SslContext,
    rl_client_resume: Option<Arc<ClientConfig>>,
    rl_client_full: Option<Arc<ClientConfig>>,
    rl_server: Option<Arc<ServerConfig>>,
}

/// The PEM and DER material of one server certificate and its trust anchor.
pub struct Material {
    chain_pem: Vec<u8>,
    key_pem: Vec<u8>,
    root_pem: Vec<u8>,
    chain_der: Vec<Vec<u8>>,
    key_der: Vec<u8>,
    root_der: Vec<u8>,
}

impl Material {
    pub fn generate() -> Result<Material, BoxError> {
        let pki = sslbridge::testing::TestPki::new()?;
        // KeyType::EcdsaP256 is TestPki's default leaf key.
        let server = pki.server(&[HOST])?;
        let chain_der = X509::stack_from_pem(&server.chain_pem)?
            .iter()
            .map(|c| c.to_der())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Material {
            key_der: server.key_der(),
            chain_pem: server.chain_pem,
            key_pem: server.key_pem,
            root_pem: pki.root_pem(),
            root_der: pki.root_der(),
            chain_der,
        })
    }
}

impl Configs {
    pub fn new(m: &Material, groups: Groups) -> Result<Configs, BoxError> {
        // sslbridge: certificate and key live in the server context, as in rust-openssl and
        // rustls, so no stack parses PEM per connection.
        let sb = || {
            let b = Context::builder()
                .min_protocol_version(Protocol::Tls1_3)
                .max_protocol_version(Protocol::Tls1_3)
                .ciphersuites(SUITE);
            match groups {
                Groups::X25519 => b.groups("X25519"),
                Groups::OpenSslDefault => b,
            }
        };
        let sb_server = sb()
            .verify_mode(VerifyMode::NONE)
            .certificate_chain_pem(&m.chain_pem)
            .private_key_pem(&m.key_pem)
            .build()?;
        // The client trusts the test root and nothing else, like the other two stacks: a
        // file location, because without one the builder adds OpenSSL's default verify paths,
        // whose hashed-directory lookups cost every full handshake file-system calls.
        let root_file = tempfile::NamedTempFile::new()?;
        std::fs::write(root_file.path(), &m.root_pem)?;
        let sb_client = sb()
            .verify_location(VerifyLocation::File(root_file.path().to_path_buf()))
            .build()?;

        // rust-openssl as its own `SslConnector::builder` and `SslAcceptor` set contexts up:
        // their mode, including SSL_MODE_RELEASE_BUFFERS (record buffers freed whenever they
        // are empty), which is what a rust-openssl user gets.
        let ossl = || -> Result<SslContextBuilder, BoxError> {
            let mut b = SslContextBuilder::new(SslMethod::tls())?;
            b.set_mode(
                SslMode::AUTO_RETRY
                    | SslMode::ACCEPT_MOVING_WRITE_BUFFER
                    | SslMode::ENABLE_PARTIAL_WRITE
                    | SslMode::RELEASE_BUFFERS,
            );
            b.set_min_proto_version(Some(SslVersion::TLS1_3))?;
            b.set_max_proto_version(Some(SslVersion::TLS1_3))?;
            b.set_ciphersuites(SUITE)?;
            if groups == Groups::X25519 {
                b.set_groups_list("X25519")?;
            }
            Ok(b)
        };
        let mut server = ossl()?;
        let chain = X509::stack_from_pem(&m.chain_pem)?;
        let mut chain = chain.into_iter();
        let leaf = chain.next().ok_or("empty chain")?;
        server.set_certificate(&leaf)?;
        for extra in chain {
            server.add_extra_chain_cert(extra)?;
        }
        let key = PKey::private_key_from_pem(&m.key_pem)?;
        server.set_private_key(&key)?;
        server.check_private_key()?;
        server.set_verify(SslVerifyMode::NONE);
        let ossl_server = server.build();
        let mut client = ossl()?;
        client.set_verify(SslVerifyMode::PEER);
        client
            .cert_store_mut()
            .add_cert(X509::from_pem(&m.root_pem)?)?;
        let ossl_client = client.build();

        let (rl_client_resume, rl_client_full, rl_server) = match groups {
            Groups::X25519 => {
                let (cr, cf, s) = rustls_configs(m)?;
                (Some(cr), Some(cf), Some(s))
            }
            Groups::OpenSslDefault => (None, None, None),
        };
        Ok(Configs {
            sb_client,
            sb_server,
            ossl_client,
            ossl_server,
            rl_client_resume,
            rl_client_full,
            rl_server,
        })
    }

    /// sslbridge's server options (the blocking and the async rows share them).
    pub fn sb_server_options(&self) -> ServerOptions {
        ServerOptions::new().context(self.sb_server.clone())
    }

    /// sslbridge's client options, offering `session` when given.
    pub fn sb_client_options(&self, session: Option<&sslbridge::Session>) -> ClientOptions {
        let o = ClientOptions::new()
            .hostname(HOST)
            .verify(Verify::Required)
            .context(self.sb_client.clone());
        match session {
            Some(s) => o.session(s.clone()),
            None => o,
        }
    }

    /// A rust-openssl server `Ssl` (for `SslStream` and tokio-openssl alike).
    pub fn ossl_server_ssl(&self) -> Result<Ssl, BoxError> {
        Ok(Ssl::new(&self.ossl_server)?)
    }

    /// A rust-openssl client `Ssl` checking the host name, offering `session` when given.
    pub fn ossl_client_ssl(&self, session: Option<&SslSession>) -> Result<Ssl, BoxError> {
        let mut ssl = Ssl::new(&self.ossl_client)?;
        ssl.set_hostname(HOST)?;
        ssl.param_mut().set_host(HOST)?;
        if let Some(s) = session {
            // SAFETY: the session came from a connection made with this same client
            // context, which is what SSL_set_session requires.
            unsafe { ssl.set_session(s)? };
        }
        Ok(ssl)
    }

    /// Accepts on `transport` (handshake complete on return).
    pub fn accept<T: Transport + Send + 'static>(
        &self,
        stack: Stack,
        transport: T,
    ) -> Result<Box<dyn Conn>, BoxError> {
        Ok(match stack {
            Stack::Sslbridge | Stack::SslbridgeBio | Stack::SslbridgeNoReadAhead => Box::new(
                self.sb_server_options()
                    .unwrap_fd(stack != Stack::SslbridgeBio)
                    .fd_read_ahead(stack != Stack::SslbridgeNoReadAhead)
                    .accept(transport)?,
            ),
            Stack::OpenSsl => Box::new(
                self.ossl_server_ssl()?
                    .accept(transport)
                    .map_err(|e| handshake_error("accept", e))?,
            ),
            Stack::Rustls => {
                let config = self.rl_server.clone().ok_or("rustls has no such group")?;
                let mut s = rustls::StreamOwned::new(ServerConnection::new(config)?, transport);
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock)?;
                }
                Box::new(s)
            }
        })
    }

    /// Connects on `transport`, offering `ticket` (for rustls: `resume` picks the client
    /// configuration with the resumption store).
    pub fn connect<T: Transport + Send + 'static>(
        &self,
        stack: Stack,
        transport: T,
        ticket: Option<&Ticket>,
        resume: bool,
    ) -> Result<Box<dyn Conn>, BoxError> {
        Ok(match stack {
            Stack::Sslbridge | Stack::SslbridgeBio | Stack::SslbridgeNoReadAhead => {
                let session = match ticket {
                    Some(Ticket::Sslbridge(s)) => Some(s),
                    _ => None,
                };
                Box::new(
                    self.sb_client_options(session)
                        .unwrap_fd(stack != Stack::SslbridgeBio)
                        .fd_read_ahead(stack != Stack::SslbridgeNoReadAhead)
                        .connect(transport)?,
                )
            }
            Stack::OpenSsl => {
                let session = match ticket {
                    Some(Ticket::OpenSsl(s)) => Some(s),
                    _ => None,
                };
                Box::new(
                    self.ossl_client_ssl(session)?
                        .connect(transport)
                        .map_err(|e| handshake_error("connect", e))?,
                )
            }
            Stack::Rustls => {
                let config = if resume {
                    self.rl_client_resume.clone()
                } else {
                    self.rl_client_full.clone()
                }
                .ok_or("rustls has no such group")?;
                let name = ServerName::try_from(HOST)?.to_owned();
                let mut s =
                    rustls::StreamOwned::new(ClientConnection::new(config, name)?, transport);
                while s.conn.is_handshaking() {
                    s.conn.complete_io(&mut s.sock)?;
                }
                Box::new(s)
            }
        })
    }
}

fn handshake_error<T>(what: &str, e: openssl::ssl::HandshakeError<T>) -> String {
    use openssl::ssl::HandshakeError;
    match e {
        HandshakeError::SetupFailure(e) => format!("rust-openssl {what}: {e}"),
        HandshakeError::Failure(m) | HandshakeError::WouldBlock(m) => {
            format!("rust-openssl {what}: {}", m.error())
        }
    }
}

/// rustls client configurations with and without a resumption store, and the server's.
type RustlsConfigs = (Arc<ClientConfig>, Arc<ClientConfig>, Arc<ServerConfig>);

fn rustls_configs(m: &Material) -> Result<RustlsConfigs, BoxError> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256];
    provider.kx_groups = vec![rustls::crypto::ring::kx_group::X25519];
    let provider = Arc::new(provider);
    let versions = &[&rustls::version::TLS13];

    let chain: Vec<CertificateDer<'static>> = m
        .chain_der
        .iter()
        .map(|d| CertificateDer::from(d.clone()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(m.key_der.clone()));
    let mut server = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // Stateless tickets, like OpenSSL's TLS 1.3 default (two per handshake on both).
    server.ticketer = rustls::crypto::ring::Ticketer::new()?;

    let mut roots = RootCertStore::empty();
    roots.add(CertificateDer::from(m.root_der.clone()))?;
    let client = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut full = client.clone();
    full.resumption = rustls::client::Resumption::disabled();
    Ok((Arc::new(client), Arc::new(full), Arc::new(server)))
}

extern "C" {
    // OpenSSL 3.0+: the name of a group id as SSL_get_negotiated_group returns it.
    fn SSL_group_to_name(s: *mut openssl_sys::SSL, id: c_int) -> *const c_char;
}

/// `SSL_get_negotiated_group` is a macro over `SSL_ctrl`.
const SSL_CTRL_GET_NEGOTIATED_GROUP: c_int = 134;

pub fn ossl_negotiated(ssl: *mut openssl_sys::SSL) -> String {
    // SAFETY: `ssl` is a live SSL owned by a connection the caller borrows; the returned
    // strings are static tables or owned by the SSL, copied at once.
    unsafe {
        let version = CStr::from_ptr(openssl_sys::SSL_get_version(ssl)).to_string_lossy();
        let cipher = openssl_sys::SSL_get_current_cipher(ssl);
        let cipher = if cipher.is_null() {
            "?".into()
        } else {
            CStr::from_ptr(openssl_sys::SSL_CIPHER_get_name(cipher)).to_string_lossy()
        };
        let id = openssl_sys::SSL_ctrl(ssl, SSL_CTRL_GET_NEGOTIATED_GROUP, 0, std::ptr::null_mut());
        let group = SSL_group_to_name(ssl, id as c_int);
        let group = if group.is_null() {
            format!("group {id}").into()
        } else {
            CStr::from_ptr(group).to_string_lossy()
        };
        format!("{version} {cipher} {group}")
    }
}

impl<T: Transport + Send + 'static> Conn for sslbridge::SslStream<T> {
    fn close_notify(&mut self) -> io::Result<()> {
        self.shutdown().map_err(io::Error::other)
    }
    fn resumed(&self) -> bool {
        self.session_reused()
    }
    fn ticket(&self) -> Option<Ticket> {
        self.session().map(Ticket::Sslbridge)
    }
    fn negotiated(&self) -> String {
        ossl_negotiated(self.as_ptr())
    }
    fn sslbridge_stats(&self) -> Option<sslbridge::TransportStats> {
        Some(self.transport_stats())
    }
    fn uses_fd_fast_path(&self) -> bool {
        sslbridge::SslStream::uses_fd_fast_path(self)
    }
}

impl<T: Read + Write + Send> Conn for openssl::ssl::SslStream<T> {
    fn close_notify(&mut self) -> io::Result<()> {
        self.shutdown().map_err(io::Error::other)?;
        Ok(())
    }
    fn resumed(&self) -> bool {
        self.ssl().session_reused()
    }
    fn keep_session_on_drop(&mut self) {
        self.set_shutdown(ShutdownState::SENT | ShutdownState::RECEIVED);
    }
    fn ticket(&self) -> Option<Ticket> {
        self.ssl().session().map(|s| Ticket::OpenSsl(s.to_owned()))
    }
    fn negotiated(&self) -> String {
        use foreign_types_shared::ForeignTypeRef;
        ossl_negotiated(self.ssl().as_ptr())
    }
}

/// The same `Conn` for rustls's client and server streams.
macro_rules! rustls_conn {
    ($connection:ty) => {
        impl<T: Read + Write + Send> Conn for rustls::StreamOwned<$connection, T> {
            fn close_notify(&mut self) -> io::Result<()> {
                self.conn.send_close_notify();
                self.flush()
            }
            fn resumed(&self) -> bool {
                self.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
            }
            fn ticket(&self) -> Option<Ticket> {
                Some(Ticket::Rustls)
            }
            fn negotiated(&self) -> String {
                let suite = self
                    .conn
                    .negotiated_cipher_suite()
                    .map(|s| format!("{:?}", s.suite()))
                    .unwrap_or_default();
                let group = self
                    .conn
                    .negotiated_key_exchange_group()
                    .map(|g| format!("{:?}", g.name()))
                    .unwrap_or_default();
                let version = self
                    .conn
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default();
                format!("{version} {suite} {group}")
            }
        }
    };
}

rustls_conn!(ClientConnection);
rustls_conn!(ServerConnection);

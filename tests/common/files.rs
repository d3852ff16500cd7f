//! Files in a temporary directory, and PKIs whose PEM files are written there.

use super::modes::Mode;
use sslbridge::testing::{CertifiedKey, TestPki};
use sslbridge::{ClientOptions, Context, Protocol, ServerOptions, Verify, VerifyMode};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Files (PEM, DER, logs) in a temporary directory, removed on drop.
pub struct TempFiles {
    pub dir: tempfile::TempDir,
}

impl TempFiles {
    pub fn new() -> TempFiles {
        TempFiles {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        let path = self.file(name);
        std::fs::write(&path, data).expect("write a temporary file");
        path
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The path of file `name` in the directory (which need not exist yet).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Default for TempFiles {
    fn default() -> Self {
        TempFiles::new()
    }
}

/// Writes the PEM files of `key` (cert, chain, key) into `files` under `name`.
pub fn write_key(files: &TempFiles, name: &str, key: &CertifiedKey) -> (PathBuf, PathBuf, PathBuf) {
    (
        files.write(&format!("{name}.pem"), &key.cert_pem),
        files.write(&format!("{name}-chain.pem"), &key.chain_pem),
        files.write(&format!("{name}.key"), &key.key_pem),
    )
}

/// A path as a string, for command lines.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// A PKI with its PEM files in a temporary directory (`root.pem`, `intermediate.pem`,
/// `server.pem`, `client.pem`, and `NAME-chain.pem` / `NAME.key` for `server`, `other` and
/// `client`), and a context trusting its root.
pub struct Pki {
    pub pki: TestPki,
    /// For `localhost` and `127.0.0.1`.
    pub server: CertifiedKey,
    /// For `sni.example` only (SNI tests).
    pub other: CertifiedKey,
    /// A client certificate, CN `alice`.
    pub client: CertifiedKey,
    /// A client context trusting the root.
    pub trust: Context,
    pub dir: TempFiles,
}

impl Pki {
    pub fn new() -> Pki {
        let pki = TestPki::new().expect("test PKI");
        let server = pki
            .server(&["localhost", "127.0.0.1"])
            .expect("server certificate");
        // Issued by the root itself: `s_server -cert2` has no chain option.
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
        Pki {
            pki,
            server,
            other,
            client,
            trust,
            dir,
        }
    }

    /// One fixture per test binary (generating keys is slow in a debug build).
    pub fn shared() -> &'static Pki {
        static PKI: OnceLock<Pki> = OnceLock::new();
        PKI.get_or_init(Pki::new)
    }

    pub fn write(&self, name: &str, data: &[u8]) -> PathBuf {
        self.dir.write(name, data)
    }

    /// The path of a file in the directory, as a string for command lines.
    pub fn path(&self, name: &str) -> String {
        p(&self.dir.file(name)).to_string()
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

    /// A client context trusting the root, limited to `version`.
    pub fn client_context(&self, version: Protocol) -> Context {
        Context::builder()
            .ca_certificates_pem(&self.pki.root_pem())
            .min_protocol_version(version)
            .max_protocol_version(version)
            .build()
            .expect("client context")
    }

    /// A server context with the localhost certificate, limited to `version`; `mtls` requires
    /// a client certificate issued by the root.
    pub fn server_context(&self, version: Protocol, mtls: bool) -> Context {
        let mut b = Context::builder()
            .certificate_chain_pem(&self.server.chain_pem)
            .private_key_pem(&self.server.key_pem)
            .min_protocol_version(version)
            .max_protocol_version(version);
        b = if mtls {
            b.ca_certificates_pem(&self.pki.root_pem())
                .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
        } else {
            b.verify_mode(VerifyMode::NONE)
        };
        b.build().expect("server context")
    }
}

impl Default for Pki {
    fn default() -> Self {
        Pki::new()
    }
}

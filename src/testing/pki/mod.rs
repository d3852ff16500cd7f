//! An in-memory test PKI built with OpenSSL's C API: a trusted root, an intermediate signed
//! by it, an unrelated "untrusted" root, and leaf certificates issued on demand.
//!
//! - this file: [`TestPki`] (the three CAs and the leaf shortcuts) and [`CertifiedKey`];
//! - [`leaf`]: [`LeafBuilder`] and [`ExtendedKeyUsage`];
//! - [`issue`]: building and signing certificates, and the CAs that sign them;
//! - [`keys`]: [`KeyType`], key generation and the PKCS#8 encoders;
//! - `tests`: the unit tests, which check the results with the `openssl` command-line tool.
//!
//! OpenSSL objects are owned by the crate's own types ([`Certificate`], `PrivateKey`, `MemBio`)
//! or by private `foreign_types` in the files that need them, so nothing leaks on any error
//! path. The CAs are kept as PEM/DER bytes and parsed again for each leaf, which keeps
//! [`TestPki`] trivially `Send + Sync` without sharing OpenSSL objects between threads.

mod issue;
mod keys;
mod leaf;
#[cfg(test)]
mod tests;

pub use keys::KeyType;
pub use leaf::{ExtendedKeyUsage, LeafBuilder};

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use crate::credentials::load_private_key;
use crate::error::Error;
use crate::x509::Certificate;
use issue::{CertificateAuthority, DAY};

const ROOT_CN: &str = "sslbridge test root CA";
const INTERMEDIATE_CN: &str = "sslbridge test intermediate CA";
const UNTRUSTED_ROOT_CN: &str = "sslbridge untrusted root CA";

/// A throwaway certificate hierarchy, generated in memory: a trusted root CA, an intermediate
/// CA signed by it, and a second, unrelated root that nobody trusts.
///
/// Every call to [`TestPki::new`] makes fresh ECDSA P-256 keys, so two `TestPki`s never trust
/// each other's certificates. Trust [`root_pem`](TestPki::root_pem) on the verifying side and
/// hand out leaves made by [`leaf`](TestPki::leaf) or one of the shortcuts
/// ([`server`](TestPki::server), [`client`](TestPki::client), [`expired`](TestPki::expired),
/// …). For tests only: the keys are unprotected and nothing is ever revoked.
///
/// `TestPki` is `Send + Sync`; share one between threads with `Arc` or a `static`.
///
/// ```
/// let pki = sslbridge::testing::TestPki::new()?;
/// let server = pki.server(&["localhost", "127.0.0.1", "::1"])?;
/// let client = pki.client("alice")?;
/// assert!(server.key_pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));
/// assert!(client.chain_pem.len() > client.cert_pem.len());
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[derive(Clone)]
pub struct TestPki {
    root: CertificateAuthority,
    intermediate: CertificateAuthority,
    untrusted_root: CertificateAuthority,
}

impl fmt::Debug for TestPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestPki")
            .field("root", &ROOT_CN)
            .field("intermediate", &INTERMEDIATE_CN)
            .field("untrusted_root", &UNTRUSTED_ROOT_CN)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// Generates a new root CA ("sslbridge test root CA"), an intermediate CA signed by it
    /// ("sslbridge test intermediate CA", `pathlen:0`) and an unrelated root ("sslbridge
    /// untrusted root CA"), each with a fresh ECDSA P-256 key and ten years of validity
    /// starting yesterday.
    ///
    /// # Errors
    ///
    /// [`Error::Ssl`] if OpenSSL fails to generate a key or sign a certificate.
    pub fn new() -> Result<TestPki, Error> {
        crate::init::ensure_initialized();
        let root = CertificateAuthority::new(ROOT_CN, None)?;
        let intermediate = CertificateAuthority::new(INTERMEDIATE_CN, Some(&root))?;
        let untrusted_root = CertificateAuthority::new(UNTRUSTED_ROOT_CN, None)?;
        Ok(TestPki {
            root,
            intermediate,
            untrusted_root,
        })
    }

    /// The root CA certificate, PEM: the trust anchor to give the verifying side.
    pub fn root_pem(&self) -> Vec<u8> {
        self.root.cert_pem.clone()
    }

    /// The root CA certificate, DER.
    pub fn root_der(&self) -> Vec<u8> {
        self.root.cert_der.clone()
    }

    /// The intermediate CA certificate, PEM. It issues leaves by default and is already
    /// appended to their [`CertifiedKey::chain_pem`].
    pub fn intermediate_pem(&self) -> Vec<u8> {
        self.intermediate.cert_pem.clone()
    }

    /// The intermediate CA certificate, DER.
    pub fn intermediate_der(&self) -> Vec<u8> {
        self.intermediate.cert_der.clone()
    }

    /// The certificate of the unrelated root that issues [`untrusted`](TestPki::untrusted)
    /// leaves, PEM. Trust it to test a verifier configured with the wrong CA.
    pub fn untrusted_root_pem(&self) -> Vec<u8> {
        self.untrusted_root.cert_pem.clone()
    }

    /// The unrelated root's certificate, DER.
    pub fn untrusted_root_der(&self) -> Vec<u8> {
        self.untrusted_root.cert_der.clone()
    }

    /// Starts a leaf certificate with subject `CN=common_name, O=sslbridge test`.
    ///
    /// Defaults: no subjectAltName, issued by the intermediate, ECDSA P-256 key, valid from one
    /// day ago for 365 days, extendedKeyUsage serverAuth + clientAuth, critical
    /// basicConstraints `CA:FALSE`, critical keyUsage digitalSignature (plus keyEncipherment
    /// for RSA), subject and authority key identifiers, signed with SHA-256, random serial.
    pub fn leaf(&self, common_name: &str) -> LeafBuilder<'_> {
        LeafBuilder::new(self, common_name)
    }

    /// A default leaf whose CN is `names[0]` and whose subjectAltName lists every name: as an
    /// IP address if it parses as [`IpAddr`], else as a DNS name.
    fn named(&self, names: &[&str]) -> Result<LeafBuilder<'_>, Error> {
        let first = names.first().ok_or_else(|| {
            Error::InvalidArgument("a certificate needs at least one name".into())
        })?;
        Ok(names.iter().fold(self.leaf(first), |builder, name| {
            match name.parse::<IpAddr>() {
                Ok(ip) => builder.ip_address(ip),
                Err(_) => builder.dns_name(name),
            }
        }))
    }

    /// A valid server certificate for `names`: CN = `names[0]`, and every name in the
    /// subjectAltName (an IP address entry if it parses as [`IpAddr`], else a DNS entry).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if `names` is empty or a DNS name is not a plain ASCII name;
    /// [`Error::Ssl`] if OpenSSL fails (e.g. `names[0]` is longer than 64 bytes).
    pub fn server(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        self.named(names)?.build()
    }

    /// A client certificate: CN = `common_name`, extendedKeyUsage clientAuth only, no
    /// subjectAltName.
    ///
    /// # Errors
    ///
    /// [`Error::Ssl`] if OpenSSL fails.
    pub fn client(&self, common_name: &str) -> Result<CertifiedKey, Error> {
        self.leaf(common_name)
            .extended_key_usage(&[ExtendedKeyUsage::ClientAuth])
            .build()
    }

    /// Like [`server`](TestPki::server), but expired: valid from 30 days ago until yesterday.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn expired(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        let now = SystemTime::now();
        self.named(names)?
            .validity(now - 30 * DAY, now - DAY)
            .build()
    }

    /// Like [`server`](TestPki::server), but not valid yet: from tomorrow until 30 days from
    /// now.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn not_yet_valid(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        let now = SystemTime::now();
        self.named(names)?
            .validity(now + DAY, now + 30 * DAY)
            .build()
    }

    /// Like [`server`](TestPki::server), but self-signed (its own issuer, not a CA), so no
    /// trust store accepts it.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn self_signed(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        self.named(names)?.self_signed().build()
    }

    /// Like [`server`](TestPki::server), but issued directly by the untrusted root.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn untrusted(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        self.named(names)?.issued_by_untrusted_root().build()
    }

    /// Like [`server`](TestPki::server), but with extendedKeyUsage clientAuth only, so a
    /// client checking the server purpose rejects it.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn without_server_auth(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        self.named(names)?
            .extended_key_usage(&[ExtendedKeyUsage::ClientAuth])
            .build()
    }

    /// A server certificate with the name only in the subject CN and no subjectAltName at
    /// all (modern verifiers, including OpenSSL's host name check, ignore the CN when SANs
    /// exist, and some ignore it always).
    ///
    /// # Errors
    ///
    /// [`Error::Ssl`] if OpenSSL fails.
    pub fn cn_only(&self, common_name: &str) -> Result<CertifiedKey, Error> {
        self.leaf(common_name).build()
    }
}

/// A leaf certificate with its private key, as PEM, ready to load into a TLS context.
#[derive(Clone, PartialEq, Eq)]
pub struct CertifiedKey {
    /// The leaf certificate alone, PEM.
    pub cert_pem: Vec<u8>,
    /// The leaf followed by the intermediate CA when the intermediate issued it (never the
    /// root): the chain a server (or client) sends. Equal to `cert_pem` for leaves issued by
    /// a root or self-signed.
    pub chain_pem: Vec<u8>,
    /// The private key, unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("cert_pem", &String::from_utf8_lossy(&self.cert_pem))
            .field(
                "chain_pem",
                &format_args!("<{} bytes>", self.chain_pem.len()),
            )
            .field("key_pem", &format_args!("<redacted>"))
            .finish()
    }
}

impl CertifiedKey {
    /// The leaf certificate, DER.
    ///
    /// # Panics
    ///
    /// If `cert_pem` was replaced by something that is not a PEM certificate.
    pub fn cert_der(&self) -> Vec<u8> {
        Certificate::from_pem(&self.cert_pem)
            .and_then(|cert| cert.to_der())
            .unwrap_or_else(|e| panic!("CertifiedKey::cert_pem is not a PEM certificate: {e}"))
    }

    /// The private key, unencrypted PKCS#8 DER.
    ///
    /// # Panics
    ///
    /// If `key_pem` was replaced by something that is not an unencrypted PEM private key.
    pub fn key_der(&self) -> Vec<u8> {
        load_private_key(&self.key_pem, None)
            .and_then(|key| keys::pkcs8_der(&key))
            .unwrap_or_else(|e| panic!("CertifiedKey::key_pem is not a PEM private key: {e}"))
    }

    /// The private key as PKCS#8 encrypted with AES-256-CBC under `password` (PBES2/PBKDF2),
    /// PEM (`-----BEGIN ENCRYPTED PRIVATE KEY-----`); `PEM_read_bio_PrivateKey` with the same
    /// password, or `openssl pkey -passin pass:...`, decrypts it. A fresh salt and IV are
    /// drawn on each call, so the output differs every time.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if `password` is empty or contains a NUL byte (OpenSSL's
    /// default password handling could not read it back); [`Error::Ssl`] if OpenSSL fails.
    pub fn encrypted_key_pem(&self, password: &str) -> Result<Vec<u8>, Error> {
        if password.is_empty() || password.contains('\0') {
            return Err(Error::InvalidArgument(
                "the key password must be non-empty and contain no NUL byte".into(),
            ));
        }
        let key = load_private_key(&self.key_pem, None)?;
        keys::encrypted_pkcs8_pem(&key, password)
    }
}

//! A throwaway PKI generated in memory, so tests, examples and demos need no certificate files
//! and no `openssl` command-line tool.
//!
//! [`TestPki::new`] creates a root CA, an intermediate CA signed by it and a second, unrelated
//! "untrusted" root, each with a fresh ECDSA P-256 key. From it you issue leaf certificates:
//! valid servers and clients, plus deliberately broken ones (expired, not yet valid,
//! self-signed, from the untrusted root, without the serverAuth purpose, without any
//! subjectAltName) to exercise every verification failure. [`TestPki::leaf`] gives a
//! [`LeafBuilder`] for anything else: extra DNS or IP names, RSA keys, custom validity,
//! extended key usages, issuer and serial number.
//!
//! Every [`CertifiedKey`] holds PEM bytes: the leaf, the chain a peer sends (leaf plus
//! intermediate), and the unencrypted PKCS#8 private key. Trust [`TestPki::root_pem`] on the
//! verifying side.
//!
//! **These certificates are for tests only.** The CA keys exist only in memory, are never
//! protected, and nothing can be revoked; never use them to secure real traffic.
//!
//! ```
//! let pki = sslbridge::testing::TestPki::new()?;
//! let server = pki.server(&["localhost", "127.0.0.1"])?;
//! assert!(server.chain_pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
//! # Ok::<(), sslbridge::Error>(())
//! ```
//!
//! Broken certificates for negative tests come from the same PKI:
//!
//! ```
//! let pki = sslbridge::testing::TestPki::new()?;
//! let root = pki.root_pem(); // what the client trusts
//! let expired = pki.expired(&["localhost"])?; // fails with "certificate has expired"
//! let stranger = pki.untrusted(&["localhost"])?; // issued by a root the client doesn't trust
//! let encrypted_key = expired.encrypted_key_pem("password")?;
//! assert!(encrypted_key.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
//! # let _ = (root, stranger);
//! # Ok::<(), sslbridge::Error>(())
//! ```

mod pki;

pub use pki::{CertifiedKey, ExtendedKeyUsage, KeyType, LeafBuilder, TestPki};

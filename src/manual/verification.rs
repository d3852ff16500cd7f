//! # Verification and certificates
//!
//! ## How a client checks its server
//!
//! [`Verify`](crate::Verify) says what a client demands; the default is
//! [`Verify::Required`](crate::Verify::Required):
//!
//! | `Verify` | no certificate | bad chain | wrong host |
//! | --- | --- | --- | --- |
//! | `Required` (default) | [`Error::ServerCertificateMissing`](crate::Error::ServerCertificateMissing) | [`Error::Verify`](crate::Error::Verify) `{ code, text, depth, subject, .. }` | [`Error::Hostname`](crate::Error::Hostname) |
//! | `Optional` | accepted | `Error::Verify` | `Error::Hostname` |
//! | `None` | accepted | accepted | accepted |
//!
//! `Required` and `Optional` check the certificate against the
//! [`hostname`](crate::ClientOptions::hostname) the client connects to (a DNS name or an IP
//! address; DNS names are also sent as SNI). A verifying client without one fails at
//! `start`/`connect` with [`Error::InvalidArgument`](crate::Error::InvalidArgument): a chain
//! that verifies proves only that *some* trusted CA issued the certificate, to anyone.
//! [`verify_hostname(false)`](crate::ClientOptions::verify_hostname) is the explicit opt-out:
//! chain verification only, cl+ssl's behaviour when `:hostname` is nil. Use it only when the
//! trusted roots issue certificates to nobody but the peers you accept (a private CA per
//! service) or when the protocol above checks the peer's identity. With a hostname as well,
//! the name is still sent as SNI but not checked.
//!
//! The client's `Verify` decides, whatever the context's verify mode says: `Verify::None`
//! really connects to a self-signed server (in cl+ssl a context with verify-peer still aborted
//! the handshake). The process-wide default is [`client_verify_default`](crate::client_verify_default),
//! changed with [`set_client_verify_default`](crate::set_client_verify_default) (cl+ssl's
//! `*make-ssl-client-stream-verify-default*`); it applies to clients created afterwards that
//! do not say. A resumed session is checked too ([sessions](super::sessions)).
//!
//! ```
//! use std::io::Read;
//! use sslbridge::testing::{CertifiedKey, TestPki};
//! use sslbridge::{ClientOptions, Context, Error, ServerOptions};
//!
//! /// Connects to a server presenting `key`, as a client that trusts `pki`'s root.
//! fn connect_to(pki: &TestPki, key: CertifiedKey, host: &str) -> Result<(), Error> {
//!     let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//!     let server = std::thread::spawn(move || {
//!         // Fails too, when the client rejects the certificate; ignored here.
//!         let _ = ServerOptions::new()
//!             .certificate_chain_pem(&key.chain_pem)
//!             .private_key_pem(&key.key_pem)
//!             .accept(server_end)
//!             .map(|mut tls| tls.read(&mut [0u8; 1]));
//!     });
//!     let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//!     let outcome = ClientOptions::new().hostname(host).context(trust).connect(client_end);
//!     let outcome = outcome.map(drop); // a stream that connected is closed again
//!     server.join().unwrap();
//!     outcome
//! }
//!
//! let pki = TestPki::new()?;
//! // A certificate from a CA the client does not trust.
//! match connect_to(&pki, pki.untrusted(&["localhost"])?, "localhost") {
//!     Err(Error::Verify { text, depth, subject, .. }) => println!("{text} at depth {depth}: {subject}"),
//!     other => panic!("expected a verification failure, got {other:?}"),
//! }
//! // A valid certificate, for another name.
//! assert!(matches!(
//!     connect_to(&pki, pki.server(&["other.example"])?, "localhost"),
//!     Err(Error::Hostname { .. })
//! ));
//! // An expired one.
//! assert!(matches!(
//!     connect_to(&pki, pki.expired(&["localhost"])?, "localhost"),
//!     Err(Error::Verify { code: 10, .. }) // X509_V_ERR_CERT_HAS_EXPIRED
//! ));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Hostname rules
//!
//! [`verify_hostname`](crate::verify_hostname) applies them to any certificate, and the
//! handshake applies the same:
//!
//! - DNS subjectAltNames first; the subject CN only when there is no DNS subjectAltName;
//! - IP addresses (v4 and v6) only against IP subjectAltNames;
//! - case-insensitive, and a trailing dot is ignored; a host with an empty label, a `*` or a
//!   NUL, or a numeric last label, matches nothing;
//! - a wildcard only as the whole left-most label, with at least two labels of letters,
//!   digits and inner hyphens after it, covering only letters, digits and hyphens, never an
//!   `xn--` label or an empty label: `*.example.com` matches `www.example.com`, not
//!   `example.com`, `a.b.example.com` nor `a_b.example.com`;
//! - when the CN is consulted, one CN that does not decode makes every CN match nothing.
//!
//! **sslbridge is stricter than cl+ssl** on partial wildcards (`f*.example.com`,
//! `*foo.example.com`): cl+ssl accepts them, sslbridge never matches them, because RFC 9525
//! forbids them and they let a certificate cover names its owner did not mean to.
//!
//! ## Whom to trust
//!
//! A context trusts OpenSSL's default locations (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else the
//! paths compiled into OpenSSL) unless told otherwise. On a
//! [`ContextBuilder`](crate::ContextBuilder),
//! [`verify_location`](crate::ContextBuilder::verify_location) adds a
//! [`VerifyLocation`](crate::VerifyLocation) (a PEM file, a hashed directory made with
//! `openssl rehash`, or the defaults; calls add up), and
//! [`ca_certificates_pem`](crate::ContextBuilder::ca_certificates_pem) trusts certificates
//! given as PEM text; either replaces the defaults unless `VerifyLocation::Default` is added
//! too. A path that does not exist fails `build()` with
//! [`Error::VerifyLocationNotFound`](crate::Error::VerifyLocationNotFound). Files are read
//! once, when the context is built; a directory is consulted whenever a peer is verified, so
//! its current contents count. [`verify_depth`](crate::ContextBuilder::verify_depth) bounds
//! the chain length (default 100), and
//! [`verify_callback`](crate::ContextBuilder::verify_callback) sees OpenSSL's verdict for
//! every certificate of the chain and may overturn it. For the process-wide trust store, see
//! [contexts](super::contexts).
//!
//! ## Client certificates (mutual TLS)
//!
//! A server asks for no client certificate unless told to: its verify mode is OpenSSL's
//! [`VerifyMode::NONE`](crate::VerifyMode::NONE) by default (cl+ssl's `make-context`
//! defaulted to `PEER`, which made every server ask every client). Ask per stream with
//! [`ServerOptions::verify_mode`](crate::ServerOptions::verify_mode) or for a whole context
//! with [`ContextBuilder::verify_mode`](crate::ContextBuilder::verify_mode):
//! [`VerifyMode::PEER`](crate::VerifyMode::PEER) verifies a certificate when one is sent,
//! `PEER | FAIL_IF_NO_PEER_CERT` requires one. The server's context must trust the CA that
//! issued the clients' certificates. A client presents its certificate with
//! `.certificate_file(..).private_key_file(..)` (plus `.password(..)` for an encrypted key),
//! or `certificate_chain_pem`/`private_key_pem`, on its options or its context.
//!
//! ```
//! use std::io::{Read, Write};
//! use sslbridge::{ClientOptions, Context, ServerOptions, VerifyMode};
//!
//! let pki = sslbridge::testing::TestPki::new()?;
//! let server_key = pki.server(&["localhost"])?;
//! let alice = pki.client("alice")?;
//! let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let server_trust = trust.clone(); // both sides trust the same root here
//!
//! let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//! let server = std::thread::spawn(move || -> Result<Vec<String>, sslbridge::Error> {
//!     let mut tls = ServerOptions::new()
//!         .context(server_trust)
//!         .certificate_chain_pem(&server_key.chain_pem)
//!         .private_key_pem(&server_key.key_pem)
//!         .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
//!         .accept(server_end)?;
//!     let who = tls.peer_certificate().expect("required").subject_common_names()?;
//!     tls.write_all(b"welcome")?;
//!     tls.close()?;
//!     Ok(who)
//! });
//!
//! let mut tls = ClientOptions::new()
//!     .hostname("localhost")
//!     .context(trust)
//!     .certificate_chain_pem(&alice.chain_pem)
//!     .private_key_pem(&alice.key_pem)
//!     .connect(client_end)?;
//! let mut greeting = Vec::new();
//! tls.read_to_end(&mut greeting)?;
//! assert_eq!(greeting, b"welcome");
//! assert_eq!(server.join().unwrap()?, ["alice"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A server that rejects a client's certificate fails with
//! [`Error::Verify`](crate::Error::Verify) whose `verified_by` is
//! [`Side::Server`](crate::Side::Server); the client sees
//! [`Error::PeerAlert`](crate::Error::PeerAlert), whose message says that the peer rejected
//! *our* certificate (in TLS 1.3, on its first read: see [errors](super::errors)).
//!
//! ## Inspecting certificates
//!
//! [`Certificate`](crate::Certificate) reads PEM or DER
//! ([`from_pem`](crate::Certificate::from_pem), [`from_der`](crate::Certificate::from_der),
//! [`from_file`](crate::Certificate::from_file), which sniffs the format) and writes both
//! ([`to_pem`](crate::CertificateRef::to_pem), [`to_der`](crate::CertificateRef::to_der)). Its
//! inspectors: [`subject_name`](crate::CertificateRef::subject_name),
//! [`issuer_name`](crate::CertificateRef::issuer_name),
//! [`subject_common_names`](crate::CertificateRef::subject_common_names),
//! [`dns_names`](crate::CertificateRef::dns_names),
//! [`ip_addresses`](crate::CertificateRef::ip_addresses),
//! [`not_before`](crate::CertificateRef::not_before),
//! [`not_after`](crate::CertificateRef::not_after),
//! [`fingerprint`](crate::CertificateRef::fingerprint)`(`[`Digest::Sha256`](crate::Digest::Sha256)`)`,
//! [`serial_number`](crate::CertificateRef::serial_number). A stream gives the peer's
//! certificate with [`peer_certificate`](crate::SslStream::peer_certificate) and everything it
//! sent with [`peer_certificate_chain`](crate::SslStream::peer_certificate_chain).
//!
//! ## SNI and ALPN
//!
//! - **SNI.** A client sends its [`hostname`](crate::ClientOptions::hostname) when it is a
//!   DNS name. A server picks a context per name with
//!   [`ServerOptions::sni_callback`](crate::ServerOptions::sni_callback)`(|name| Some(ctx))`;
//!   the certificate, key, verify mode and verify depth then come from the chosen context,
//!   while the other settings (protocol versions, ciphers, options) stay those of the first
//!   context, as in OpenSSL. [`SslStream::server_name`](crate::SslStream::server_name) tells
//!   the name on either side.
//! - **ALPN.** [`alpn_protocols`](crate::ClientOptions::alpn_protocols)`(&[..])` on both sides;
//!   the server's order of preference wins.
//!   [`ServerOptions::alpn_select_callback`](crate::ServerOptions::alpn_select_callback)
//!   chooses with your own code. When nothing matches the handshake continues without a
//!   protocol, unless the server sets
//!   [`alpn_required(true)`](crate::ServerOptions::alpn_required) (a
//!   `no_application_protocol` alert). [`selected_alpn_protocol`](crate::SslStream::selected_alpn_protocol)
//!   tells the outcome.
//!
//! ```
//! use sslbridge::{ClientOptions, Context, ServerOptions};
//!
//! # let pki = sslbridge::testing::TestPki::new()?;
//! # let key = pki.server(&["api.example"])?;
//! # let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//! let server = std::thread::spawn(move || -> Result<_, sslbridge::Error> {
//!     let tls = ServerOptions::new()
//!         .certificate_chain_pem(&key.chain_pem)
//!         .private_key_pem(&key.key_pem)
//!         .alpn_protocols(&["http/1.1", "h2"]) // the server prefers http/1.1
//!         .accept(server_end)?;
//!     Ok((tls.server_name(), tls.selected_alpn_protocol().map(str::to_owned)))
//! });
//!
//! let tls = ClientOptions::new()
//!     .hostname("api.example")
//!     .context(trust)
//!     .alpn_protocols(&["h2", "http/1.1"])
//!     .connect(client_end)?;
//! assert_eq!(tls.selected_alpn_protocol(), Some("http/1.1"));
//! let (name, protocol) = server.join().unwrap()?;
//! assert_eq!(name.as_deref(), Some("api.example"));
//! assert_eq!(protocol.as_deref(), Some("http/1.1"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Testing verification
//!
//! [`TestPki`](../../testing/struct.TestPki.html) (the `testing` feature) makes a throwaway CA, an
//! intermediate and leaf certificates in memory: valid servers and clients, and deliberately
//! broken ones (expired, not yet valid, self-signed, from an untrusted root, without the
//! serverAuth purpose, with the name only in the CN), plus any other leaf through
//! [`TestPki::leaf`](../../testing/struct.TestPki.html#method.leaf) (IP addresses, RSA keys, validity,
//! key usages). The examples in this chapter use it; so can your tests of every failure above.
//!
//! ## Key logging
//!
//! To decrypt a capture in Wireshark, build the context with
//! [`keylog_file(path)`](crate::ContextBuilder::keylog_file) or
//! [`keylog_callback(f)`](crate::ContextBuilder::keylog_callback): every TLS secret of its
//! connections is written as an NSS key log line (the `SSLKEYLOGFILE` format). Anyone with
//! these lines can read the traffic: use it for debugging only.

//! [`ContextBuilder`]: every cl+ssl `make-context` keyword; `build()` (in `build.rs`) loads
//! and applies them in one go.

use super::trust::Trust;
use super::VerifyMode;
use super::{Method, Protocol, SessionCacheMode, SslOptions, VerifyCallback, VerifyLocation};
use crate::credentials::{PasswordCallback, PrivateKey};
use crate::error::Error;
use crate::x509::Certificate;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Builds a [`Context`](super::Context); every method chains by value and
/// [`build`](ContextBuilder::build) applies the settings in one go, reporting the first that
/// OpenSSL rejects.
///
/// A builder is `Clone`, and [`Context::to_builder`](super::Context::to_builder) gives back
/// the builder a context was made from, with everything it loaded: that is how a running
/// server changes its certificates (see [`Context`](super::Context)).
///
/// Key PEM text and a [`private_key_password`](ContextBuilder::private_key_password) are held
/// in memory that is wiped when the builder (and each clone of it) is dropped.
///
/// ```
/// use sslbridge::{Context, Protocol, VerifyMode};
/// let pki = sslbridge::testing::TestPki::new()?;
/// let server = pki.server(&["localhost"])?;
/// let ctx = Context::builder()
///     .min_protocol_version(Protocol::Tls1_2)
///     .ciphersuites("TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384")
///     .groups("X25519:P-256")
///     .verify_mode(VerifyMode::NONE)
///     .certificate_chain_pem(&server.chain_pem)
///     .private_key_pem(&server.key_pem)
///     .build()?;
/// # drop(ctx);
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until build() is called"]
pub struct ContextBuilder {
    pub(super) method: Method,
    pub(super) min_version: Option<Protocol>,
    pub(super) max_version: Option<Protocol>,
    pub(super) disabled: Vec<Protocol>,
    pub(super) options: SslOptions,
    pub(super) session_cache_mode: SessionCacheMode,
    pub(super) trust: Trust,
    pub(super) verify_depth: u32,
    pub(super) verify_mode: VerifyMode,
    pub(super) verify_callback: Option<Arc<VerifyCallback>>,
    pub(super) cipher_list: Option<String>,
    pub(super) ciphersuites: Option<String>,
    pub(super) groups: Option<String>,
    pub(super) password: Password,
    pub(super) chain: Option<ChainSource>,
    pub(super) key: Option<KeySource>,
    pub(super) keylog: Option<Arc<super::KeylogCallback>>,
}

/// Where the certificate chain comes from. `build()` turns every source into `Loaded`.
#[derive(Clone)]
pub(super) enum ChainSource {
    File(PathBuf),
    Pem(Vec<u8>),
    Loaded(Vec<Certificate>),
}

/// Where the private key comes from. `build()` turns every source into `Loaded`.
#[derive(Clone)]
pub(super) enum KeySource {
    File(PathBuf),
    /// Wiped on drop.
    Pem(Zeroizing<Vec<u8>>),
    Loaded(PrivateKey),
}

/// The password of encrypted private keys.
#[derive(Clone, Default)]
pub(super) enum Password {
    #[default]
    None,
    /// From `private_key_password`: wiped on drop, and never kept in a built context's
    /// recorded settings.
    Fixed(Zeroizing<Vec<u8>>),
    /// From `pem_password_callback`: a setting like any other callback, kept on rebuild.
    Callback(Arc<PasswordCallback>),
}

impl Password {
    /// The password as a callback, for decoding keys.
    pub(super) fn callback(&self) -> Option<Arc<PasswordCallback>> {
        match self {
            Password::None => None,
            Password::Fixed(password) => {
                let password = password.clone();
                // Each copy handed out goes to the password trampoline, which wipes it.
                Some(Arc::new(move |_| password.to_vec()))
            }
            Password::Callback(callback) => Some(callback.clone()),
        }
    }
}

impl Default for ContextBuilder {
    fn default() -> ContextBuilder {
        ContextBuilder {
            method: Method::Generic,
            min_version: Some(Protocol::Tls1_2),
            max_version: None,
            disabled: Vec::new(),
            options: SslOptions::ALL,
            session_cache_mode: SessionCacheMode::SERVER,
            trust: Trust::default(),
            verify_depth: 100,
            verify_mode: VerifyMode::NONE,
            verify_callback: None,
            cipher_list: None,
            ciphersuites: None,
            groups: None,
            password: Password::None,
            chain: None,
            key: None,
            keylog: None,
        }
    }
}

impl std::fmt::Debug for ContextBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key or the password.
        f.debug_struct("ContextBuilder")
            .field("method", &self.method)
            .field("min_version", &self.min_version)
            .field("max_version", &self.max_version)
            .field("verify_mode", &self.verify_mode)
            .field("verify_depth", &self.verify_depth)
            .finish_non_exhaustive()
    }
}

impl ContextBuilder {
    /// Which side(s) the context serves; default [`Method::Generic`].
    #[doc(alias = "SSL_CTX_new")]
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The lowest protocol version allowed; default TLS 1.2.
    #[doc(alias = "SSL_CTX_set_min_proto_version")]
    pub fn min_protocol_version(mut self, version: Protocol) -> Self {
        self.min_version = Some(version);
        self
    }

    /// The highest protocol version allowed; default: the highest OpenSSL supports.
    #[doc(alias = "SSL_CTX_set_max_proto_version")]
    pub fn max_protocol_version(mut self, version: Protocol) -> Self {
        self.max_version = Some(version);
        self
    }

    /// Protocol versions to switch off (`SSL_OP_NO_TLSv1_…`), cl+ssl's `:disabled-protocols`.
    #[doc(alias = "SSL_CTX_set_options")]
    pub fn disabled_protocols(mut self, protocols: &[Protocol]) -> Self {
        self.disabled = protocols.to_vec();
        self
    }

    /// Connection options; default [`SslOptions::ALL`].
    #[doc(alias = "SSL_CTX_set_options")]
    pub fn options(mut self, options: SslOptions) -> Self {
        self.options = options;
        self
    }

    /// Session cache mode; default [`SessionCacheMode::SERVER`].
    #[doc(alias = "SSL_CTX_set_session_cache_mode")]
    pub fn session_cache_mode(mut self, mode: SessionCacheMode) -> Self {
        self.session_cache_mode = mode;
        self
    }

    /// Adds a source of trusted CA certificates. Calls add up; without any call (and without
    /// [`ca_certificates_pem`](ContextBuilder::ca_certificates_pem)) the context uses
    /// [`VerifyLocation::Default`]. A path that does not exist fails `build()` with
    /// [`Error::VerifyLocationNotFound`].
    ///
    /// What is loaded is recorded, not where from: a file's certificates are read at
    /// `build()` and a context rebuilt from [`to_builder`](super::Context::to_builder) keeps
    /// them even if the file changes or goes away. `VerifyLocation::Default` is made explicit
    /// the same way (the default CA file's certificates, and the default directory).
    /// A directory ([`VerifyLocation::Dir`]) is different: OpenSSL looks certificates up in it
    /// when it verifies a peer, so its current contents count. On a builder from
    /// `to_builder`, the recorded trust is explicit: a location added there adds to it (the
    /// default paths stay if they were in effect).
    #[doc(alias = "SSL_CTX_load_verify_locations")]
    pub fn verify_location(mut self, location: VerifyLocation) -> Self {
        self.trust.add_location(location);
        self
    }

    /// Trusts the CA certificates in this PEM text (one or more), without any file. Like an
    /// explicit [`verify_location`](ContextBuilder::verify_location), this replaces OpenSSL's
    /// default paths unless `VerifyLocation::Default` is added too.
    #[doc(alias = "X509_STORE_add_cert")]
    pub fn ca_certificates_pem(mut self, pem: &[u8]) -> Self {
        self.trust.add_pem(pem);
        self
    }

    /// Maximum certificate chain depth; default 100.
    #[doc(alias = "SSL_CTX_set_verify_depth")]
    pub fn verify_depth(mut self, depth: u32) -> Self {
        self.verify_depth = depth;
        self
    }

    /// The verify mode servers made from this context use; default [`VerifyMode::NONE`]: no
    /// client certificate is requested (OpenSSL's default; cl+ssl's `make-context` defaults to
    /// `PEER`, which made every server ask every client, so browsers showed a certificate
    /// picker and clients offering an unrelated certificate were rejected). `PEER` asks clients
    /// for a certificate and verifies it when one is sent; `PEER | FAIL_IF_NO_PEER_CERT`
    /// requires one. [`ServerOptions::verify_mode`](crate::ServerOptions::verify_mode) decides
    /// per stream. For clients the stream's own [`Verify`](crate::Verify) setting decides.
    ///
    /// ```
    /// use sslbridge::{Context, VerifyMode};
    /// assert_eq!(Context::builder().build()?.verify_mode(), VerifyMode::NONE);
    /// let mtls = Context::builder()
    ///     .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT)
    ///     .build()?;
    /// assert!(mtls.verify_mode().contains(VerifyMode::FAIL_IF_NO_PEER_CERT));
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    #[doc(alias = "SSL_CTX_set_verify")]
    pub fn verify_mode(mut self, mode: VerifyMode) -> Self {
        self.verify_mode = mode;
        self
    }

    /// A closure consulted for every certificate of the peer's chain, with OpenSSL's verdict
    /// (`preverify_ok`), the X509 error code, the depth and the certificate; its answer
    /// replaces the verdict. A panic inside it fails the handshake and is resumed in the
    /// caller.
    #[doc(alias = "SSL_set_verify")]
    pub fn verify_callback(
        mut self,
        callback: impl Fn(bool, i32, u32, &Certificate) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.verify_callback = Some(Arc::new(callback));
        self
    }

    /// The TLS 1.2-and-below cipher list (`SSL_CTX_set_cipher_list`), e.g. `"ECDHE+AESGCM"`.
    #[doc(alias = "SSL_CTX_set_cipher_list")]
    pub fn cipher_list(mut self, ciphers: &str) -> Self {
        self.cipher_list = Some(ciphers.to_string());
        self
    }

    /// The TLS 1.3 ciphersuites (`SSL_CTX_set_ciphersuites`), e.g. `"TLS_AES_128_GCM_SHA256"`.
    #[doc(alias = "SSL_CTX_set_ciphersuites")]
    pub fn ciphersuites(mut self, suites: &str) -> Self {
        self.ciphersuites = Some(suites.to_string());
        self
    }

    /// The key-exchange groups in preference order (`SSL_CTX_set1_groups_list`), e.g.
    /// `"X25519:P-256"`.
    #[doc(alias = "SSL_CTX_set1_groups_list")]
    pub fn groups(mut self, groups: &str) -> Self {
        self.groups = Some(groups.to_string());
        self
    }

    /// A closure that supplies the password of encrypted private keys loaded by this context
    /// (and by streams using it). Its argument is OpenSSL's `rwflag` (`true` when encrypting).
    /// Replaces a [`private_key_password`](ContextBuilder::private_key_password); a context
    /// rebuilt from [`to_builder`](super::Context::to_builder) keeps the callback.
    #[doc(alias = "SSL_CTX_set_default_passwd_cb")]
    pub fn pem_password_callback<P: AsRef<[u8]>>(
        mut self,
        callback: impl Fn(bool) -> P + Send + Sync + 'static,
    ) -> Self {
        self.password = Password::Callback(Arc::new(move |w| callback(w).as_ref().to_vec()));
        self
    }

    /// The password of an encrypted private key (cl+ssl's `:private-key-password`). Replaces a
    /// [`pem_password_callback`](ContextBuilder::pem_password_callback).
    ///
    /// The builder keeps the password in memory that is wiped when it is dropped. The built
    /// context keeps it (wiped when the context is freed) only to decrypt keys that streams
    /// made from it load ([`ServerOptions`](crate::ServerOptions) and
    /// [`ClientOptions`](crate::ClientOptions) without a password of their own). It is not
    /// part of [`to_builder`](super::Context::to_builder): a rebuilt context has the key
    /// decrypted already, and needs the password again only for a new encrypted key (of its
    /// own or of its streams).
    #[doc(alias = "SSL_CTX_set_default_passwd_cb_userdata")]
    pub fn private_key_password(mut self, password: &str) -> Self {
        self.password = Password::Fixed(Zeroizing::new(password.as_bytes().to_vec()));
        self
    }

    /// A PEM file holding the certificate followed by its chain.
    #[doc(alias = "SSL_CTX_use_certificate_chain_file")]
    pub fn certificate_chain_file(mut self, path: impl AsRef<Path>) -> Self {
        self.chain = Some(ChainSource::File(path.as_ref().to_path_buf()));
        self
    }

    /// A private key file, PEM or DER, optionally encrypted (see
    /// [`pem_password_callback`](ContextBuilder::pem_password_callback)).
    #[doc(alias = "SSL_CTX_use_PrivateKey_file")]
    pub fn private_key_file(mut self, path: impl AsRef<Path>) -> Self {
        self.key = Some(KeySource::File(path.as_ref().to_path_buf()));
        self
    }

    /// The certificate followed by its chain, as PEM text.
    #[doc(alias = "SSL_CTX_use_certificate")]
    pub fn certificate_chain_pem(mut self, pem: &[u8]) -> Self {
        self.chain = Some(ChainSource::Pem(pem.to_vec()));
        self
    }

    /// The private key as PEM text, optionally encrypted.
    #[doc(alias = "SSL_CTX_use_PrivateKey")]
    pub fn private_key_pem(mut self, pem: &[u8]) -> Self {
        self.key = Some(KeySource::Pem(Zeroizing::new(pem.to_vec())));
        self
    }

    /// Sends every TLS secret of connections made from this context to `callback`, one NSS
    /// key log line at a time (the `SSLKEYLOGFILE` format), so a capture can be decrypted in
    /// Wireshark. Anyone with these lines can read the traffic: debugging only.
    #[doc(alias = "SSL_CTX_set_keylog_callback")]
    pub fn keylog_callback(mut self, callback: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.keylog = Some(Arc::new(callback));
        self
    }

    /// Appends NSS key log lines to a file (created if missing), like `SSLKEYLOGFILE`.
    /// Debugging only: the file decrypts the traffic.
    #[doc(alias = "SSLKEYLOGFILE")]
    pub fn keylog_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        use std::io::Write;
        let path = path.as_ref();
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| {
                Error::InvalidArgument(format!("cannot open key log file {}: {e}", path.display()))
            })?;
        let file = std::sync::Mutex::new(file);
        Ok(self.keylog_callback(move |line| {
            let mut f = file.lock().unwrap_or_else(|p| p.into_inner());
            // One write per line so concurrent connections never interleave within a line.
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }))
    }
}

//! [`ContextBuilder`]: every cl+ssl `make-context` keyword, applied in one go by `build()`.

use super::{
    c_str, extras_index, load_verify_location, Context, ContextExtras, Method, Protocol,
    SessionCacheMode, SslOptions, VerifyCallback, VerifyLocation, VerifyMode,
};
use crate::credentials::{PasswordCallback, Target};
use crate::error::{cvt, cvt_p, Error};
use crate::x509::Certificate;
use foreign_types::ForeignType;
use std::os::raw::c_int;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Builds a [`Context`]; every method chains by value and [`build`](ContextBuilder::build)
/// applies the settings in one go, reporting the first that OpenSSL rejects.
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
#[must_use = "a builder does nothing until build() is called"]
pub struct ContextBuilder {
    method: Method,
    min_version: Option<Protocol>,
    max_version: Option<Protocol>,
    disabled: Vec<Protocol>,
    options: SslOptions,
    session_cache_mode: SessionCacheMode,
    verify_locations: Vec<VerifyLocation>,
    trusted_pem: Vec<Vec<u8>>,
    verify_depth: u32,
    verify_mode: VerifyMode,
    verify_callback: Option<Arc<VerifyCallback>>,
    cipher_list: Option<String>,
    ciphersuites: Option<String>,
    groups: Option<String>,
    password_callback: Option<Arc<PasswordCallback>>,
    chain: Option<ChainSource>,
    key: Option<KeySource>,
    keylog: Option<Arc<crate::callbacks::KeylogCallback>>,
}

enum ChainSource {
    File(PathBuf),
    Pem(Vec<u8>),
}

enum KeySource {
    File(PathBuf),
    Pem(Vec<u8>),
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
            verify_locations: Vec::new(),
            trusted_pem: Vec::new(),
            verify_depth: 100,
            verify_mode: VerifyMode::PEER,
            verify_callback: None,
            cipher_list: None,
            ciphersuites: None,
            groups: None,
            password_callback: None,
            chain: None,
            key: None,
            keylog: None,
        }
    }
}

impl ContextBuilder {
    /// Which side(s) the context serves; default [`Method::Generic`].
    pub fn method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// The lowest protocol version allowed; default TLS 1.2.
    pub fn min_protocol_version(mut self, version: Protocol) -> Self {
        self.min_version = Some(version);
        self
    }

    /// The highest protocol version allowed; default: the highest OpenSSL supports.
    pub fn max_protocol_version(mut self, version: Protocol) -> Self {
        self.max_version = Some(version);
        self
    }

    /// Protocol versions to switch off (`SSL_OP_NO_TLSv1_…`), cl+ssl's `:disabled-protocols`.
    pub fn disabled_protocols(mut self, protocols: &[Protocol]) -> Self {
        self.disabled = protocols.to_vec();
        self
    }

    /// Connection options; default [`SslOptions::ALL`].
    pub fn options(mut self, options: SslOptions) -> Self {
        self.options = options;
        self
    }

    /// Session cache mode; default [`SessionCacheMode::SERVER`].
    pub fn session_cache_mode(mut self, mode: SessionCacheMode) -> Self {
        self.session_cache_mode = mode;
        self
    }

    /// Adds a source of trusted CA certificates. Calls add up; without any call (and without
    /// [`ca_certificates_pem`](ContextBuilder::ca_certificates_pem)) the context uses
    /// [`VerifyLocation::Default`]. A path that does not exist fails `build()` with
    /// [`Error::VerifyLocationNotFound`].
    pub fn verify_location(mut self, location: VerifyLocation) -> Self {
        self.verify_locations.push(location);
        self
    }

    /// Trusts the CA certificates in this PEM text (one or more), without any file. Like an
    /// explicit [`verify_location`](ContextBuilder::verify_location), this replaces OpenSSL's
    /// default paths unless `VerifyLocation::Default` is added too.
    pub fn ca_certificates_pem(mut self, pem: &[u8]) -> Self {
        self.trusted_pem.push(pem.to_vec());
        self
    }

    /// Maximum certificate chain depth; default 100.
    pub fn verify_depth(mut self, depth: u32) -> Self {
        self.verify_depth = depth;
        self
    }

    /// The verify mode; default [`VerifyMode::PEER`]. On a server `PEER` asks clients for a
    /// certificate and `PEER | FAIL_IF_NO_PEER_CERT` requires one. A client stream's own
    /// [`Verify`](crate::Verify) setting decides for the client side.
    pub fn verify_mode(mut self, mode: VerifyMode) -> Self {
        self.verify_mode = mode;
        self
    }

    /// A closure consulted for every certificate of the peer's chain, with OpenSSL's verdict
    /// (`preverify_ok`), the X509 error code, the depth and the certificate; its answer
    /// replaces the verdict. A panic inside it fails the handshake and is resumed in the
    /// caller.
    pub fn verify_callback(
        mut self,
        callback: impl Fn(bool, i32, u32, &Certificate) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.verify_callback = Some(Arc::new(callback));
        self
    }

    /// The TLS 1.2-and-below cipher list (`SSL_CTX_set_cipher_list`), e.g. `"ECDHE+AESGCM"`.
    pub fn cipher_list(mut self, ciphers: &str) -> Self {
        self.cipher_list = Some(ciphers.to_string());
        self
    }

    /// The TLS 1.3 ciphersuites (`SSL_CTX_set_ciphersuites`), e.g. `"TLS_AES_128_GCM_SHA256"`.
    pub fn ciphersuites(mut self, suites: &str) -> Self {
        self.ciphersuites = Some(suites.to_string());
        self
    }

    /// The key-exchange groups in preference order (`SSL_CTX_set1_groups_list`), e.g.
    /// `"X25519:P-256"`.
    pub fn groups(mut self, groups: &str) -> Self {
        self.groups = Some(groups.to_string());
        self
    }

    /// A closure that supplies the password of encrypted private keys loaded by this context
    /// (and by streams using it). Its argument is OpenSSL's `rwflag` (`true` when encrypting).
    pub fn pem_password_callback<P: AsRef<[u8]>>(
        mut self,
        callback: impl Fn(bool) -> P + Send + Sync + 'static,
    ) -> Self {
        self.password_callback = Some(Arc::new(move |w| callback(w).as_ref().to_vec()));
        self
    }

    /// The password of an encrypted private key (cl+ssl's `:private-key-password`).
    pub fn private_key_password(self, password: &str) -> Self {
        let password = password.as_bytes().to_vec();
        self.pem_password_callback(move |_| password.clone())
    }

    /// A PEM file holding the certificate followed by its chain.
    pub fn certificate_chain_file(mut self, path: impl AsRef<Path>) -> Self {
        self.chain = Some(ChainSource::File(path.as_ref().to_path_buf()));
        self
    }

    /// A private key file, PEM or DER, optionally encrypted (see
    /// [`pem_password_callback`](ContextBuilder::pem_password_callback)).
    pub fn private_key_file(mut self, path: impl AsRef<Path>) -> Self {
        self.key = Some(KeySource::File(path.as_ref().to_path_buf()));
        self
    }

    /// The certificate followed by its chain, as PEM text.
    pub fn certificate_chain_pem(mut self, pem: &[u8]) -> Self {
        self.chain = Some(ChainSource::Pem(pem.to_vec()));
        self
    }

    /// The private key as PEM text, optionally encrypted.
    pub fn private_key_pem(mut self, pem: &[u8]) -> Self {
        self.key = Some(KeySource::Pem(pem.to_vec()));
        self
    }

    /// Sends every TLS secret of connections made from this context to `callback`, one NSS
    /// key log line at a time (the `SSLKEYLOGFILE` format), so a capture can be decrypted in
    /// Wireshark. Anyone with these lines can read the traffic: debugging only.
    pub fn keylog_callback(mut self, callback: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.keylog = Some(Arc::new(callback));
        self
    }

    /// Appends NSS key log lines to a file (created if missing), like `SSLKEYLOGFILE`.
    /// Debugging only: the file decrypts the traffic.
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

    /// Creates the `SSL_CTX` and applies every setting.
    pub fn build(self) -> Result<Context, Error> {
        crate::ensure_initialized();
        crate::error::ErrorStack::clear();
        // SAFETY: the method functions return static tables.
        let method = unsafe {
            match self.method {
                Method::Generic => openssl_sys::TLS_method(),
                Method::Client => openssl_sys::TLS_client_method(),
                Method::Server => openssl_sys::TLS_server_method(),
            }
        };
        // SAFETY: SSL_CTX_new returns an owned context or null.
        let ctx = unsafe { Context::from_ptr(cvt_p(openssl_sys::SSL_CTX_new(method))?) };
        let raw = ctx.as_ptr();

        // SAFETY: `raw` is the live SSL_CTX owned by `ctx`; every string passed is a CString
        // that outlives its call.
        unsafe {
            let extras = Box::new(ContextExtras {
                verify_callback: self.verify_callback.clone(),
                password_callback: self.password_callback.clone(),
                keylog: self.keylog.clone(),
            });
            let extras = Box::into_raw(extras);
            if openssl_sys::SSL_CTX_set_ex_data(raw, extras_index(), extras.cast()) != 1 {
                drop(Box::from_raw(extras));
                return Err(crate::error::Error::Ssl(crate::error::ErrorStack::drain()));
            }

            if let Some(v) = self.min_version {
                cvt(openssl_sys::SSL_CTX_set_min_proto_version(raw, v.to_raw()))?;
            }
            if let Some(v) = self.max_version {
                cvt(openssl_sys::SSL_CTX_set_max_proto_version(raw, v.to_raw()))?;
            }
            let disabled = self
                .disabled
                .iter()
                .fold(0u64, |acc, p| acc | p.disable_option());
            openssl_sys::SSL_CTX_set_options(raw, (self.options.bits() | disabled) as _);
            openssl_sys::SSL_CTX_set_session_cache_mode(raw, self.session_cache_mode.bits());
            // Servers that cache sessions and verify clients need a session id context, or
            // resumption fails with "session id context uninitialized".
            let sid = b"sslbridge";
            cvt(openssl_sys::SSL_CTX_set_session_id_context(
                raw,
                sid.as_ptr(),
                sid.len() as _,
            ))?;

            // OpenSSL's default paths unless the trust was given explicitly (a location or
            // in-memory CAs): the default directory is searched on every verification.
            let locations = if self.verify_locations.is_empty() && self.trusted_pem.is_empty() {
                vec![VerifyLocation::Default]
            } else {
                self.verify_locations.clone()
            };
            for location in &locations {
                load_verify_location(raw, location)?;
            }
            for pem in &self.trusted_pem {
                let store = openssl_sys::SSL_CTX_get_cert_store(raw);
                for cert in Certificate::stack_from_pem(pem)? {
                    cvt(openssl_sys::X509_STORE_add_cert(store, cert.as_ptr()))?;
                }
            }
            openssl_sys::SSL_CTX_set_verify_depth(
                raw,
                c_int::try_from(self.verify_depth).unwrap_or(c_int::MAX),
            );
            openssl_sys::SSL_CTX_set_verify(raw, self.verify_mode.bits(), None);
            openssl_sys::SSL_CTX_set_tlsext_servername_callback__fixed_rust(
                raw,
                Some(crate::callbacks::servername_trampoline),
            );
            if self.keylog.is_some() {
                openssl_sys::SSL_CTX_set_keylog_callback(
                    raw,
                    Some(crate::callbacks::keylog_trampoline),
                );
            }
            openssl_sys::SSL_CTX_set_alpn_select_cb__fixed_rust(
                raw,
                Some(crate::callbacks::alpn_select_trampoline),
                std::ptr::null_mut(),
            );

            if let Some(list) = &self.cipher_list {
                let list = c_str(list, "cipher list")?;
                cvt(openssl_sys::SSL_CTX_set_cipher_list(raw, list.as_ptr()))?;
            }
            if let Some(suites) = &self.ciphersuites {
                let suites = c_str(suites, "ciphersuites")?;
                cvt(openssl_sys::SSL_CTX_set_ciphersuites(raw, suites.as_ptr()))?;
            }
            if let Some(groups) = &self.groups {
                let groups = c_str(groups, "groups")?;
                cvt(openssl_sys::SSL_CTX_set1_groups_list(raw, groups.as_ptr()) as c_int)?;
            }
        }

        let target = Target::Context(raw);
        match &self.chain {
            Some(ChainSource::File(path)) => target.use_chain_file(path)?,
            Some(ChainSource::Pem(pem)) => target.use_chain_bytes(pem)?,
            None => {}
        }
        let password = self.password_callback.as_deref();
        match &self.key {
            Some(KeySource::File(path)) => target.use_key_file(path, password)?,
            Some(KeySource::Pem(pem)) => target.use_key_bytes(pem, password)?,
            None => {}
        }
        Ok(ctx)
    }
}

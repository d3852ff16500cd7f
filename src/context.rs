//! `Context`: an owned `SSL_CTX`, its builder (every cl+ssl `make-context` keyword), and the
//! settings types the builder takes.

use crate::credentials::{PasswordCallback, Target};
use crate::error::{cvt, cvt_p, Error};
use crate::ffi;
use crate::x509::Certificate;
use foreign_types::{ForeignType, ForeignTypeRef};
use openssl_sys::SSL_CTX;
use std::ffi::CString;
use std::ops::BitOr;
use std::os::raw::{c_int, c_long, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

foreign_types::foreign_type! {
    /// A TLS context: an owned OpenSSL `SSL_CTX` holding the settings shared by connections
    /// (protocol versions, trusted CAs, certificates, callbacks, the session cache).
    ///
    /// Cloning is cheap (a reference count, `SSL_CTX_up_ref`); the `SSL_CTX` is freed when the
    /// last clone and the last connection using it are gone. A context is `Send + Sync`:
    /// share one among threads rather than building one per connection.
    ///
    /// ```
    /// use sslbridge::{Context, Protocol};
    /// let ctx = Context::builder()
    ///     .min_protocol_version(Protocol::Tls1_3)
    ///     .build()?;
    /// let shared = ctx.clone(); // same SSL_CTX
    /// # drop(shared);
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    pub unsafe type Context: Send + Sync {
        type CType = SSL_CTX;
        fn drop = openssl_sys::SSL_CTX_free;
        fn clone = ctx_up_ref;
    }
}

unsafe fn ctx_up_ref(ctx: *mut SSL_CTX) -> *mut SSL_CTX {
    // SAFETY: ctx is a live SSL_CTX (foreign_types only clones live objects).
    unsafe { openssl_sys::SSL_CTX_up_ref(ctx) };
    ctx
}

/// Which side(s) a context serves (cl+ssl's `:method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// `TLS_method`: clients and servers.
    #[default]
    Generic,
    /// `TLS_client_method`.
    Client,
    /// `TLS_server_method`.
    Server,
}

/// A TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// TLS 1.0 (deprecated; refused by OpenSSL 3's default security level).
    Tls1,
    /// TLS 1.1 (deprecated; refused by OpenSSL 3's default security level).
    Tls1_1,
    /// TLS 1.2.
    Tls1_2,
    /// TLS 1.3.
    Tls1_3,
}

impl Protocol {
    pub(crate) fn to_raw(self) -> c_int {
        match self {
            Protocol::Tls1 => openssl_sys::TLS1_VERSION,
            Protocol::Tls1_1 => openssl_sys::TLS1_1_VERSION,
            Protocol::Tls1_2 => openssl_sys::TLS1_2_VERSION,
            Protocol::Tls1_3 => openssl_sys::TLS1_3_VERSION,
        }
    }

    pub(crate) fn from_raw(v: c_int) -> Option<Protocol> {
        match v {
            openssl_sys::TLS1_VERSION => Some(Protocol::Tls1),
            openssl_sys::TLS1_1_VERSION => Some(Protocol::Tls1_1),
            openssl_sys::TLS1_2_VERSION => Some(Protocol::Tls1_2),
            openssl_sys::TLS1_3_VERSION => Some(Protocol::Tls1_3),
            _ => None,
        }
    }

    #[allow(clippy::unnecessary_cast)] // SSL_OP_* is u64 on OpenSSL 3, c_ulong on 1.1
    fn disable_option(self) -> u64 {
        (match self {
            Protocol::Tls1 => openssl_sys::SSL_OP_NO_TLSv1,
            Protocol::Tls1_1 => openssl_sys::SSL_OP_NO_TLSv1_1,
            Protocol::Tls1_2 => openssl_sys::SSL_OP_NO_TLSv1_2,
            Protocol::Tls1_3 => openssl_sys::SSL_OP_NO_TLSv1_3,
        }) as u64
    }

    /// The name OpenSSL uses, e.g. "TLSv1.3".
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Tls1 => "TLSv1",
            Protocol::Tls1_1 => "TLSv1.1",
            Protocol::Tls1_2 => "TLSv1.2",
            Protocol::Tls1_3 => "TLSv1.3",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! bit_set {
    ($(#[$meta:meta])* $name:ident($raw:ty) { $($(#[$cmeta:meta])* $cname:ident = $value:expr;)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name($raw);

        impl $name {
            $($(#[$cmeta])* pub const $cname: $name = $name($value as $raw);)*

            /// The raw OpenSSL bits.
            pub fn bits(self) -> $raw {
                self.0
            }

            /// A value from raw OpenSSL bits.
            pub fn from_bits(bits: $raw) -> $name {
                $name(bits)
            }

            /// Whether every bit of `other` is set in `self`.
            pub fn contains(self, other: $name) -> bool {
                self.0 & other.0 == other.0
            }
        }

        impl BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: $name) -> $name {
                $name(self.0 | rhs.0)
            }
        }
    };
}

bit_set! {
    /// Verification flags (`SSL_VERIFY_*`), combinable with `|`.
    ///
    /// ```
    /// use sslbridge::VerifyMode;
    /// let mode = VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT;
    /// assert!(mode.contains(VerifyMode::PEER));
    /// ```
    VerifyMode(c_int) {
        /// Do not verify the peer (a server does not ask for a client certificate).
        NONE = openssl_sys::SSL_VERIFY_NONE;
        /// Verify the peer's certificate (a server asks the client for one).
        PEER = openssl_sys::SSL_VERIFY_PEER;
        /// Server only: fail the handshake when the client sends no certificate.
        FAIL_IF_NO_PEER_CERT = openssl_sys::SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        /// Server only: ask for a client certificate only in the first handshake.
        CLIENT_ONCE = openssl_sys::SSL_VERIFY_CLIENT_ONCE;
    }
}

bit_set! {
    /// Connection options (`SSL_OP_*`), combinable with `|`.
    SslOptions(u64) {
        /// `SSL_OP_ALL`: OpenSSL's bug workarounds (cl+ssl's default).
        ALL = openssl_sys::SSL_OP_ALL;
        /// `SSL_OP_NO_COMPRESSION`.
        NO_COMPRESSION = openssl_sys::SSL_OP_NO_COMPRESSION;
        /// `SSL_OP_NO_TICKET`: no stateless session tickets.
        NO_TICKET = openssl_sys::SSL_OP_NO_TICKET;
        /// `SSL_OP_CIPHER_SERVER_PREFERENCE`.
        CIPHER_SERVER_PREFERENCE = openssl_sys::SSL_OP_CIPHER_SERVER_PREFERENCE;
        /// `SSL_OP_NO_RENEGOTIATION`.
        NO_RENEGOTIATION = 0x4000_0000u64;
        /// `SSL_OP_IGNORE_UNEXPECTED_EOF`: treat a transport EOF as close_notify (unsafe).
        IGNORE_UNEXPECTED_EOF = 0x80u64;
        /// `SSL_OP_ENABLE_MIDDLEBOX_COMPAT` (on by default in OpenSSL).
        ENABLE_MIDDLEBOX_COMPAT = 0x0010_0000u64;
    }
}

bit_set! {
    /// Session cache modes (`SSL_SESS_CACHE_*`), combinable with `|`.
    SessionCacheMode(c_long) {
        /// No caching.
        OFF = openssl_sys::SSL_SESS_CACHE_OFF;
        /// Cache client sessions in the context.
        CLIENT = openssl_sys::SSL_SESS_CACHE_CLIENT;
        /// Cache server sessions (OpenSSL's and cl+ssl's default).
        SERVER = openssl_sys::SSL_SESS_CACHE_SERVER;
        /// Both sides.
        BOTH = openssl_sys::SSL_SESS_CACHE_BOTH;
        /// Do not flush expired sessions automatically.
        NO_AUTO_CLEAR = openssl_sys::SSL_SESS_CACHE_NO_AUTO_CLEAR;
        /// Do not use the internal cache for lookups or stores.
        NO_INTERNAL = openssl_sys::SSL_SESS_CACHE_NO_INTERNAL;
    }
}

/// Where trusted CA certificates come from (cl+ssl's `:verify-location`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyLocation {
    /// OpenSSL's default file and directory (`SSL_CTX_set_default_verify_paths`; honours
    /// `SSL_CERT_FILE` / `SSL_CERT_DIR`).
    Default,
    /// OpenSSL's default CA file only.
    DefaultFile,
    /// OpenSSL's default CA directory only.
    DefaultDir,
    /// A PEM file of CA certificates.
    File(PathBuf),
    /// A directory of hashed CA certificates (`openssl rehash`).
    Dir(PathBuf),
}

/// A verify callback: `(preverify_ok, x509_error_code, depth, certificate) -> accept`.
pub type VerifyCallback = dyn Fn(bool, i32, u32, &Certificate) -> bool + Send + Sync + 'static;

/// Rust values a context owns, kept in the `SSL_CTX`'s ex_data and dropped with it.
#[derive(Default)]
pub(crate) struct ContextExtras {
    pub(crate) verify_callback: Option<Arc<VerifyCallback>>,
    pub(crate) password_callback: Option<Arc<PasswordCallback>>,
    pub(crate) keylog: Option<Arc<crate::callbacks::KeylogCallback>>,
}

unsafe extern "C" fn free_extras(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut openssl_sys::CRYPTO_EX_DATA,
    _idx: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    if !ptr.is_null() {
        // SAFETY: non-null slots of this index only ever hold a Box<ContextExtras> we leaked.
        drop(unsafe { Box::from_raw(ptr.cast::<ContextExtras>()) });
    }
}

fn extras_index() -> c_int {
    static INDEX: OnceLock<c_int> = OnceLock::new();
    *INDEX.get_or_init(|| {
        crate::ensure_initialized();
        // SAFETY: registering an ex_data index with a valid free function.
        let idx = unsafe {
            openssl_sys::CRYPTO_get_ex_new_index(
                openssl_sys::CRYPTO_EX_INDEX_SSL_CTX,
                0,
                std::ptr::null_mut(),
                None,
                None,
                Some(free_extras),
            )
        };
        assert!(idx >= 0, "CRYPTO_get_ex_new_index failed");
        idx
    })
}

impl ContextRef {
    /// The Rust-side extras of this context, if it was built by sslbridge.
    pub(crate) fn extras(&self) -> Option<&ContextExtras> {
        // SAFETY: the slot holds null or a ContextExtras that lives as long as the SSL_CTX,
        // which outlives &self.
        unsafe {
            openssl_sys::SSL_CTX_get_ex_data(self.as_ptr(), extras_index())
                .cast::<ContextExtras>()
                .as_ref()
        }
    }

    /// The verify mode (`SSL_CTX_get_verify_mode`).
    pub fn verify_mode(&self) -> VerifyMode {
        // SAFETY: self is a live SSL_CTX.
        VerifyMode(unsafe { openssl_sys::SSL_CTX_get_verify_mode(self.as_ptr()) })
    }

    /// Adds trusted CA certificates to this context's store after it was built (cl+ssl's
    /// `ssl-load-global-verify-locations` does this for the global context). A path that does
    /// not exist is [`Error::VerifyLocationNotFound`].
    pub fn add_verify_location(&self, location: &VerifyLocation) -> Result<(), Error> {
        // SAFETY: self is a live SSL_CTX; OpenSSL locks its X509 store internally.
        unsafe { load_verify_location(self.as_ptr(), location) }
    }

    /// Loads a certificate chain file (PEM, leaf first) into this context
    /// (`SSL_CTX_use_certificate_chain_file`).
    pub fn use_certificate_chain_file(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        Target::Context(self.as_ptr()).use_chain_file(path.as_ref())
    }
}

impl Context {
    /// A builder with cl+ssl's defaults: TLS 1.2 and up, `SSL_OP_ALL`, server session cache,
    /// OpenSSL's default verify paths, verify depth 100, verify mode `PEER`.
    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("ptr", &self.as_ptr())
            .finish()
    }
}

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

pub(crate) fn c_str(s: &str, what: &str) -> Result<CString, Error> {
    CString::new(s).map_err(|_| Error::InvalidArgument(format!("the {what} contains a NUL byte")))
}

/// Loads one verify location into the context's store.
///
/// # Safety
/// `ctx` is a live `SSL_CTX`.
unsafe fn load_verify_location(ctx: *mut SSL_CTX, location: &VerifyLocation) -> Result<(), Error> {
    let path_cstr = |path: &Path| -> Result<CString, Error> {
        if !path.exists() {
            return Err(Error::VerifyLocationNotFound(path.to_path_buf()));
        }
        c_str(&path.to_string_lossy(), "verify location")
    };
    // SAFETY: ctx is live (caller's contract); the path strings outlive the calls.
    unsafe {
        match location {
            VerifyLocation::Default => {
                cvt(openssl_sys::SSL_CTX_set_default_verify_paths(ctx))?;
            }
            VerifyLocation::DefaultFile => {
                cvt(ffi::SSL_CTX_set_default_verify_file(ctx))?;
            }
            VerifyLocation::DefaultDir => {
                cvt(ffi::SSL_CTX_set_default_verify_dir(ctx))?;
            }
            VerifyLocation::File(path) => {
                let p = path_cstr(path)?;
                cvt(openssl_sys::SSL_CTX_load_verify_locations(
                    ctx,
                    p.as_ptr(),
                    std::ptr::null(),
                ))?;
            }
            VerifyLocation::Dir(path) => {
                let p = path_cstr(path)?;
                cvt(openssl_sys::SSL_CTX_load_verify_locations(
                    ctx,
                    std::ptr::null(),
                    p.as_ptr(),
                ))?;
            }
        }
    }
    Ok(())
}

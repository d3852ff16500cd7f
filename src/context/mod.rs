//! `Context`: an owned, immutable `SSL_CTX` and the Rust values it owns; its builder (every
//! cl+ssl `make-context` keyword) is in [`builder`] and `build.rs`, the settings types it takes
//! in [`settings`], trusted CAs in [`trust`].

mod build;
mod builder;
pub(crate) mod global;
mod settings;
mod trust;

pub use builder::ContextBuilder;
pub use settings::{Method, Protocol, SessionCacheMode, SslOptions, VerifyLocation, VerifyMode};

use crate::credentials::PasswordCallback;
use crate::ex_data::Slot;
use crate::x509::Certificate;
use foreign_types::ForeignTypeRef;
use openssl_sys::SSL_CTX;
use std::sync::Arc;

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
    ///
    /// # A context never changes
    ///
    /// OpenSSL forbids changing an `SSL_CTX` that connections are being made from, so a
    /// built context has no method that changes it. To change certificates (or anything
    /// else) while serving, build a new context from the old one's settings with
    /// [`to_builder`](Context::to_builder) and use it for new connections: connections made
    /// from the old context keep it, untouched, for as long as they live.
    ///
    /// ```
    /// use sslbridge::{Context, VerifyMode};
    /// use sslbridge::testing::TestPki;
    /// let pki = TestPki::new()?;
    /// let (old, new) = (pki.server(&["localhost"])?, pki.server(&["localhost"])?);
    /// let ctx = Context::builder()
    ///     .verify_mode(VerifyMode::NONE)
    ///     .certificate_chain_pem(&old.chain_pem)
    ///     .private_key_pem(&old.key_pem)
    ///     .build()?;
    ///
    /// // Later, the certificate is renewed: same settings, new certificate and key.
    /// let renewed = ctx
    ///     .to_builder()
    ///     .certificate_chain_pem(&new.chain_pem)
    ///     .private_key_pem(&new.key_pem)
    ///     .build()?;
    /// // New connections use `renewed`; `ctx` still serves the old certificate.
    /// assert_eq!(renewed.verify_mode(), ctx.verify_mode());
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    ///
    /// A rebuilt context has a session cache and session ticket keys of its own: sessions
    /// made with the old context do not resume with the new one (clients simply make a full
    /// handshake). For a process-wide context, [`use_certificate_chain_file`](crate::use_certificate_chain_file)
    /// and the other global functions do this swap for you.
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

/// Receives NSS key log lines (the `SSLKEYLOGFILE` format), without the trailing newline.
pub type KeylogCallback = dyn Fn(&str) + Send + Sync + 'static;

/// A verify callback: `(preverify_ok, x509_error_code, depth, certificate) -> accept`.
pub type VerifyCallback = dyn Fn(bool, i32, u32, &Certificate) -> bool + Send + Sync + 'static;

/// Rust values a context owns, kept in the `SSL_CTX`'s ex_data and dropped with it. Set once
/// by `build()` before the context is shared, and never changed.
pub(crate) struct ContextExtras {
    pub(crate) verify_callback: Option<Arc<VerifyCallback>>,
    /// Decrypts keys that streams load (a fixed password lives only here, wiped on drop).
    pub(crate) password_callback: Option<Arc<PasswordCallback>>,
    pub(crate) keylog: Option<Arc<KeylogCallback>>,
    /// The settings the context was built with, every source loaded: `to_builder()`.
    pub(crate) settings: ContextBuilder,
}

/// The slot holding a context's [`ContextExtras`], dropped with the `SSL_CTX`.
pub(crate) static EXTRAS: Slot<SSL_CTX, ContextExtras> = Slot::owned_by_object();

impl ContextRef {
    /// The Rust-side extras of this context, if it was built by sslbridge.
    pub(crate) fn extras(&self) -> Option<&ContextExtras> {
        // SAFETY: the slot holds null or a ContextExtras that lives as long as the SSL_CTX,
        // which outlives &self.
        unsafe { EXTRAS.get(self.as_ptr()).as_ref() }
    }

    /// The verify mode (`SSL_CTX_get_verify_mode`).
    #[doc(alias = "SSL_CTX_get_verify_mode")]
    pub fn verify_mode(&self) -> VerifyMode {
        // SAFETY: self is a live SSL_CTX.
        VerifyMode::from_bits(unsafe { openssl_sys::SSL_CTX_get_verify_mode(self.as_ptr()) })
    }
}

impl Context {
    /// A builder with cl+ssl's defaults (TLS 1.2 and up, `SSL_OP_ALL`, server session cache,
    /// OpenSSL's default verify paths, verify depth 100) except the verify mode, which is
    /// OpenSSL's `NONE`: servers request no client certificate unless asked to (see
    /// [`ContextBuilder::verify_mode`]).
    #[doc(alias = "make-context")]
    pub fn builder() -> ContextBuilder {
        ContextBuilder::default()
    }

    /// A builder holding every setting this context was built with, so that
    /// `ctx.to_builder().certificate_chain_file(new).build()?` makes a context that differs
    /// only in what the builder changes. `self` is not affected.
    ///
    /// The builder records what was *loaded*, not where from: the certificate chain and the
    /// private key (decrypted), the trusted certificates (OpenSSL's default CA file and
    /// directory made explicit when they were in effect), protocol bounds, options,
    /// ciphers, groups, verify mode and depth, callbacks (verify, password, key log), the
    /// session cache mode. Nothing is read from disk again, except hashed CA directories
    /// ([`VerifyLocation::Dir`], OpenSSL's default directory), which OpenSSL consults when it
    /// verifies a peer, so their current contents count.
    ///
    /// A [`private_key_password`](ContextBuilder::private_key_password) is not recorded (a
    /// [`pem_password_callback`](ContextBuilder::pem_password_callback) is): give it again
    /// with a new encrypted key, or for streams of the new context that load encrypted keys
    /// without a password of their own.
    ///
    /// The new context has its own session cache and session ticket keys: sessions of this
    /// context do not resume on it.
    ///
    /// ```
    /// use sslbridge::{Context, VerifyMode};
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let (first, second) = (pki.server(&["localhost"])?, pki.server(&["localhost"])?);
    /// let ctx = Context::builder()
    ///     .verify_mode(VerifyMode::NONE)
    ///     .ca_certificates_pem(&pki.root_pem())
    ///     .certificate_chain_pem(&first.chain_pem)
    ///     .private_key_pem(&first.key_pem)
    ///     .build()?;
    /// let rotated = ctx
    ///     .to_builder()
    ///     .certificate_chain_pem(&second.chain_pem)
    ///     .private_key_pem(&second.key_pem)
    ///     .build()?;
    /// assert_eq!(rotated.verify_mode(), VerifyMode::NONE); // kept
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    ///
    /// A context not built by sslbridge (wrapped from a raw pointer) has no recorded
    /// settings: its builder is [`Context::builder`]'s.
    pub fn to_builder(&self) -> ContextBuilder {
        self.extras()
            .map(|extras| extras.settings.clone())
            .unwrap_or_default()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("ptr", &self.as_ptr())
            .finish()
    }
}

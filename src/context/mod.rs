//! `Context`: an owned `SSL_CTX` and the Rust values it owns; its builder (every cl+ssl
//! `make-context` keyword) is in [`builder`], the settings types it takes in [`settings`].

mod builder;
mod settings;

pub use builder::ContextBuilder;
pub use settings::{Method, Protocol, SessionCacheMode, SslOptions, VerifyLocation, VerifyMode};

use crate::credentials::{PasswordCallback, Target};
use crate::error::{cvt, Error};
use crate::ffi;
use crate::x509::Certificate;
use foreign_types::{ForeignType, ForeignTypeRef};
use openssl_sys::SSL_CTX;
use std::ffi::CString;
use std::os::raw::{c_int, c_long, c_void};
use std::path::Path;
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
        VerifyMode::from_bits(unsafe { openssl_sys::SSL_CTX_get_verify_mode(self.as_ptr()) })
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

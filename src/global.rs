//! Process-wide defaults: the global context and the client verification default, like
//! cl+ssl's `*ssl-global-context*` and `*make-ssl-client-stream-verify-default*`.

use crate::context::{Context, SessionCacheMode, VerifyLocation};
use crate::error::Error;
use std::cell::RefCell;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// How a client checks the server it connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verify {
    /// Check nothing: any certificate, or none, is accepted. Only for testing or when the
    /// protocol above authenticates the peer.
    None,
    /// Verify the chain and the hostname when the server presents a certificate.
    Optional,
    /// Require a certificate that chain-verifies against the trusted roots and matches the
    /// hostname (DNS name or IP address). The default.
    Required,
}

static CLIENT_VERIFY_DEFAULT: AtomicU8 = AtomicU8::new(2);

/// The [`Verify`] a client uses when its options do not say; initially [`Verify::Required`].
///
/// ```
/// assert_eq!(sslbridge::client_verify_default(), sslbridge::Verify::Required);
/// ```
pub fn client_verify_default() -> Verify {
    match CLIENT_VERIFY_DEFAULT.load(Ordering::Relaxed) {
        0 => Verify::None,
        1 => Verify::Optional,
        _ => Verify::Required,
    }
}

/// Changes the process-wide client default (cl+ssl's
/// `*make-ssl-client-stream-verify-default*`). Affects clients created afterwards.
pub fn set_client_verify_default(verify: Verify) {
    let v = match verify {
        Verify::None => 0,
        Verify::Optional => 1,
        Verify::Required => 2,
    };
    CLIENT_VERIFY_DEFAULT.store(v, Ordering::Relaxed);
}

thread_local! {
    static OVERRIDES: RefCell<Vec<Context>> = const { RefCell::new(Vec::new()) };
}

/// The context streams use when none is given: the innermost
/// [`with_global_context`] on this thread, else the lazily created process-wide one
/// (OpenSSL's default verify paths, server session cache on).
pub fn global_context() -> Result<Context, Error> {
    if let Some(ctx) = OVERRIDES.with(|o| o.borrow().last().cloned()) {
        return Ok(ctx);
    }
    static GLOBAL: OnceLock<Result<Context, String>> = OnceLock::new();
    GLOBAL
        .get_or_init(|| {
            Context::builder()
                .session_cache_mode(SessionCacheMode::SERVER)
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|e| Error::Initialize(format!("cannot create the global context: {e}")))
}

/// Runs `f` with `ctx` as this thread's default context (cl+ssl's `with-global-context`).
/// Nested calls stack; the previous default returns when `f` returns or panics.
///
/// ```
/// use sslbridge::{Context, with_global_context, global_context};
/// use foreign_types::ForeignType;
/// let ctx = Context::builder().build()?;
/// with_global_context(&ctx, || {
///     assert_eq!(global_context().unwrap().as_ptr(), ctx.as_ptr());
/// });
/// # Ok::<(), sslbridge::Error>(())
/// ```
pub fn with_global_context<R>(ctx: &Context, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            OVERRIDES.with(|o| o.borrow_mut().pop());
        }
    }
    OVERRIDES.with(|o| o.borrow_mut().push(ctx.clone()));
    let _pop = Pop;
    f()
}

/// Loads a PEM certificate chain (leaf first) into the current global context, for servers
/// that rely on it (cl+ssl's `use-certificate-chain-file`).
pub fn use_certificate_chain_file(path: impl AsRef<Path>) -> Result<(), Error> {
    global_context()?.use_certificate_chain_file(path)
}

/// Adds CA files or directories to the current global context's trust store (cl+ssl's
/// `ssl-load-global-verify-locations`).
pub fn load_global_verify_locations(locations: &[VerifyLocation]) -> Result<(), Error> {
    let ctx = global_context()?;
    locations
        .iter()
        .try_for_each(|location| ctx.add_verify_location(location))
}

/// Adds OpenSSL's default CA file and directory to the current global context's trust store
/// (cl+ssl's `ssl-set-global-default-verify-paths`).
pub fn set_global_default_verify_paths() -> Result<(), Error> {
    global_context()?.add_verify_location(&VerifyLocation::Default)
}

//! The process-wide global context, like cl+ssl's `*ssl-global-context*`: replaced, never
//! changed, by the global functions, and overridden per thread by `with_global_context`.

use super::{Context, ContextBuilder, SessionCacheMode, VerifyLocation};
use crate::error::Error;
use std::cell::RefCell;
use std::path::Path;
use std::sync::{Mutex, PoisonError, RwLock};

thread_local! {
    static OVERRIDES: RefCell<Vec<Context>> = const { RefCell::new(Vec::new()) };
}

/// The process-wide context, created on first use. Readers clone it; updates replace it.
static GLOBAL: RwLock<Option<Context>> = RwLock::new(None);
/// Serialises updates of [`GLOBAL`] (and its creation), so that none is lost.
static UPDATES: Mutex<()> = Mutex::new(());

/// The context streams use when none is given: the innermost
/// [`with_global_context`] on this thread, else the process-wide one, created on first use
/// (OpenSSL's default verify paths, server session cache on) and replaced by
/// [`use_certificate_chain_file`], [`load_global_verify_locations`] and
/// [`set_global_default_verify_paths`] (cl+ssl's `*ssl-global-context*`).
///
/// The context returned never changes: a later update makes a new global context, and this
/// one goes on serving the streams made from it.
#[doc(alias = "*ssl-global-context*")]
pub fn global_context() -> Result<Context, Error> {
    if let Some(ctx) = OVERRIDES.with(|o| o.borrow().last().cloned()) {
        return Ok(ctx);
    }
    if let Some(ctx) = read(&GLOBAL).as_ref() {
        return Ok(ctx.clone());
    }
    let _serial = UPDATES.lock().unwrap_or_else(PoisonError::into_inner);
    process_context()
}

/// The process-wide context, created if there is none yet. Called with [`UPDATES`] held.
fn process_context() -> Result<Context, Error> {
    if let Some(ctx) = read(&GLOBAL).as_ref() {
        return Ok(ctx.clone());
    }
    let ctx = Context::builder()
        .session_cache_mode(SessionCacheMode::SERVER)
        .build()
        .map_err(|e| Error::Initialize(format!("cannot create the global context: {e}")))?;
    *GLOBAL.write().unwrap_or_else(PoisonError::into_inner) = Some(ctx.clone());
    Ok(ctx)
}

fn read(slot: &RwLock<Option<Context>>) -> std::sync::RwLockReadGuard<'_, Option<Context>> {
    slot.read().unwrap_or_else(PoisonError::into_inner)
}

/// Replaces the current global context (this thread's innermost [`with_global_context`]
/// scope, else the process-wide one) by a context built from its settings changed by
/// `change`. The context replaced is not touched. On error nothing is replaced.
fn update(change: impl FnOnce(ContextBuilder) -> ContextBuilder) -> Result<(), Error> {
    let scope = OVERRIDES.with(|o| {
        let o = o.borrow();
        o.last().cloned().map(|ctx| (o.len() - 1, ctx))
    });
    if let Some((index, current)) = scope {
        // Thread-local: nothing to serialise. No borrow is held while building.
        let next = change(current.to_builder()).build()?;
        // The replaced context is dropped after the borrow ends: freeing it runs the Drop of
        // the callbacks it owns, which may use the global context.
        let replaced = OVERRIDES.with(|o| {
            o.borrow_mut()
                .get_mut(index)
                .map(|slot| std::mem::replace(slot, next))
        });
        drop(replaced);
        return Ok(());
    }
    let serial = UPDATES.lock().unwrap_or_else(PoisonError::into_inner);
    let next = change(process_context()?.to_builder()).build()?;
    // Swapped under the write lock (readers wait only for the swap), freed after both locks:
    // freeing runs the Drop of the callbacks it owns, which may use the global context.
    let replaced = GLOBAL
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .replace(next);
    drop(serial);
    drop(replaced);
    Ok(())
}

/// Runs `f` with `ctx` as this thread's default context (cl+ssl's `with-global-context`).
/// Nested calls stack; the previous default returns when `f` returns or panics.
///
/// The global functions ([`use_certificate_chain_file`], [`load_global_verify_locations`],
/// [`set_global_default_verify_paths`]) called inside `f` on this thread replace this scope's
/// context by a new one, for the rest of the scope; `ctx` itself never changes.
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
#[doc(alias = "with-global-context")]
pub fn with_global_context<R>(ctx: &Context, f: impl FnOnce() -> R) -> R {
    struct Pop;
    impl Drop for Pop {
        fn drop(&mut self) {
            // Dropped after the borrow ends (see `update`).
            let popped = OVERRIDES.with(|o| o.borrow_mut().pop());
            drop(popped);
        }
    }
    OVERRIDES.with(|o| o.borrow_mut().push(ctx.clone()));
    let _pop = Pop;
    f()
}

/// From now on, servers that take their certificate from the global context present this
/// PEM certificate chain (leaf first) (cl+ssl's `use-certificate-chain-file`).
///
/// The global context is not changed: a new one is built from its settings
/// ([`Context::to_builder`]) with this chain and replaces it atomically, so streams made
/// before keep the chain they were made with, and concurrent updates are applied one after
/// the other (none is lost). Inside [`with_global_context`] the scope's context is replaced,
/// not the process-wide one. The new context has a new session cache (no resumption of
/// earlier sessions). A private key the global context holds must match the new
/// certificate; on any error the global context stays as it was.
///
/// ```
/// use sslbridge::{use_certificate_chain_file, with_global_context, Context};
/// let pki = sslbridge::testing::TestPki::new()?;
/// let server = pki.server(&["localhost"])?;
/// let dir = tempfile::tempdir().unwrap();
/// let chain = dir.path().join("chain.pem");
/// std::fs::write(&chain, &server.chain_pem).unwrap();
///
/// let ctx = Context::builder().build()?;
/// with_global_context(&ctx, || -> Result<(), sslbridge::Error> {
///     use_certificate_chain_file(&chain)?;
///     // Servers made here (without a certificate of their own) present `chain`;
///     // `ctx` itself still has no certificate.
///     Ok(())
/// })?;
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[doc(alias = "SSL_CTX_use_certificate_chain_file")]
#[doc(alias = "use-certificate-chain-file")]
pub fn use_certificate_chain_file(path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    update(|builder| builder.certificate_chain_file(path))
}

/// From now on, the global context also trusts the CA certificates of these files or
/// directories (cl+ssl's `ssl-load-global-verify-locations`). A path that does not exist is
/// [`Error::VerifyLocationNotFound`], and nothing changes.
///
/// Like [`use_certificate_chain_file`], this swaps in a new global context (or a new context
/// for the [`with_global_context`] scope); streams made before keep the trust they had.
///
/// ```
/// use sslbridge::{load_global_verify_locations, with_global_context, Context, VerifyLocation};
/// let pki = sslbridge::testing::TestPki::new()?;
/// let dir = tempfile::tempdir().unwrap();
/// let root = dir.path().join("root.pem");
/// std::fs::write(&root, pki.root_pem()).unwrap();
///
/// let ctx = Context::builder().build()?;
/// with_global_context(&ctx, || {
///     load_global_verify_locations(&[VerifyLocation::File(root.clone())])
/// })?;
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[doc(alias = "SSL_CTX_load_verify_locations")]
#[doc(alias = "ssl-load-global-verify-locations")]
pub fn load_global_verify_locations(locations: &[VerifyLocation]) -> Result<(), Error> {
    update(|builder| {
        locations
            .iter()
            .cloned()
            .fold(builder, ContextBuilder::verify_location)
    })
}

/// From now on, the global context also trusts OpenSSL's default CA file and directory
/// (`SSL_CERT_FILE` / `SSL_CERT_DIR`, else the compiled-in paths) (cl+ssl's
/// `ssl-set-global-default-verify-paths`). Swaps in a new global context like
/// [`use_certificate_chain_file`].
///
/// ```
/// sslbridge::with_global_context(&sslbridge::Context::builder().build()?, || {
///     sslbridge::set_global_default_verify_paths()
/// })?;
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[doc(alias = "SSL_CTX_set_default_verify_paths")]
#[doc(alias = "ssl-set-global-default-verify-paths")]
pub fn set_global_default_verify_paths() -> Result<(), Error> {
    update(|builder| builder.verify_location(VerifyLocation::Default))
}

//! The trust a context is built with: where its CA certificates come from, and, once built,
//! the effective trust as loaded objects (certificates, plus hashed directories that OpenSSL
//! consults when it verifies), so a rebuilt context trusts exactly the same peers.

use super::VerifyLocation;
use crate::error::{cvt, Error};
use crate::x509::Certificate;
use foreign_types::ForeignType;
use openssl_sys::SSL_CTX;
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

/// The trust settings of a builder. Empty means OpenSSL's defaults.
#[derive(Clone, Default)]
pub(super) struct Trust {
    sources: Vec<TrustSource>,
}

#[derive(Clone)]
enum TrustSource {
    Location(VerifyLocation),
    Pem(Vec<u8>),
    /// What a built context trusts: the certificates in its store and the hashed
    /// directories it looks issuers up in.
    Loaded {
        certificates: Vec<Certificate>,
        dirs: Vec<PathBuf>,
    },
}

impl Trust {
    pub(super) fn add_location(&mut self, location: VerifyLocation) {
        self.sources.push(TrustSource::Location(location));
    }

    pub(super) fn add_pem(&mut self, pem: &[u8]) {
        self.sources.push(TrustSource::Pem(pem.to_vec()));
    }

    /// Loads every source into the store of `ctx` and returns the effective trust as loaded
    /// objects: the store's certificates, and the directories (each OpenSSL default made
    /// explicit), so that applying the result to another context trusts the same peers
    /// without reading any file again (directories excepted: OpenSSL reads them lazily).
    ///
    /// CRLs a CA file holds reach this context's store but are not recorded: sslbridge never
    /// turns CRL checking on, so they take no part in verification.
    ///
    /// # Safety
    /// `ctx` is a live `SSL_CTX` that no other thread uses yet.
    pub(super) unsafe fn apply(&self, ctx: *mut SSL_CTX) -> Result<Trust, Error> {
        // No trust given at all: OpenSSL's default file and directory.
        let implied = [TrustSource::Location(VerifyLocation::Default)];
        let sources = if self.sources.is_empty() {
            &implied[..]
        } else {
            &self.sources[..]
        };
        // SAFETY: ctx is live (caller's contract); the store belongs to it.
        let store = unsafe { openssl_sys::SSL_CTX_get_cert_store(ctx) };
        let add = |cert: &Certificate| -> Result<(), Error> {
            // SAFETY: store and cert are live; X509_STORE_add_cert takes its own reference
            // (and ignores a certificate already present).
            cvt(unsafe { openssl_sys::X509_STORE_add_cert(store, cert.as_ptr()) }).map(drop)
        };
        let mut dirs: Vec<PathBuf> = Vec::new();
        for source in sources {
            match source {
                TrustSource::Location(VerifyLocation::Default) => {
                    // SAFETY: as for the function.
                    unsafe { load_default_file(ctx) };
                    dirs.extend(default_dirs());
                }
                // SAFETY: as for the function.
                TrustSource::Location(VerifyLocation::DefaultFile) => unsafe {
                    load_default_file(ctx)
                },
                TrustSource::Location(VerifyLocation::DefaultDir) => dirs.extend(default_dirs()),
                TrustSource::Location(VerifyLocation::File(path)) => {
                    let file = existing_path(path)?;
                    // SAFETY: ctx is live; the path string outlives the call.
                    cvt(unsafe {
                        openssl_sys::SSL_CTX_load_verify_locations(
                            ctx,
                            file.as_ptr(),
                            std::ptr::null(),
                        )
                    })?;
                }
                TrustSource::Location(VerifyLocation::Dir(path)) => {
                    existing_path(path)?;
                    dirs.push(path.clone());
                }
                TrustSource::Pem(pem) => {
                    Certificate::stack_from_pem(pem)?.iter().try_for_each(add)?;
                }
                TrustSource::Loaded {
                    certificates,
                    dirs: loaded,
                } => {
                    certificates.iter().try_for_each(add)?;
                    // Recorded directories are kept even if they vanished: OpenSSL reads a
                    // directory only when it verifies, and finds nothing in a missing one.
                    dirs.extend(loaded.iter().cloned());
                }
            }
        }
        let mut unique: Vec<PathBuf> = Vec::with_capacity(dirs.len());
        for dir in dirs {
            if !unique.contains(&dir) {
                unique.push(dir);
            }
        }
        for dir in &unique {
            let dir = path_cstring(dir)?;
            // SAFETY: ctx is live; the path string outlives the call.
            cvt(unsafe {
                openssl_sys::SSL_CTX_load_verify_locations(ctx, std::ptr::null(), dir.as_ptr())
            })?;
        }
        Ok(Trust {
            sources: vec![TrustSource::Loaded {
                // SAFETY: store belongs to ctx, which is live and not shared yet.
                certificates: unsafe { store_certificates(store) },
                dirs: unique,
            }],
        })
    }
}

fn path_cstring(path: &Path) -> Result<CString, Error> {
    // OpenSSL takes the bytes of a Unix path as they are; elsewhere it wants UTF-8.
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    #[cfg(not(unix))]
    let bytes = path
        .to_str()
        .ok_or_else(|| {
            Error::InvalidArgument(format!("the path {} is not valid UTF-8", path.display()))
        })?
        .as_bytes();
    CString::new(bytes).map_err(|_| {
        Error::InvalidArgument(format!("the path {} contains a NUL byte", path.display()))
    })
}

/// An explicit location must exist ([`Error::VerifyLocationNotFound`] otherwise).
fn existing_path(path: &Path) -> Result<CString, Error> {
    if !path.exists() {
        return Err(Error::VerifyLocationNotFound(path.to_path_buf()));
    }
    path_cstring(path)
}

/// Loads OpenSSL's default CA file (`SSL_CERT_FILE`, else the compiled-in path), if it
/// exists; a missing or unreadable default file is no error, as in OpenSSL.
///
/// # Safety
/// `ctx` is a live `SSL_CTX` that no other thread uses yet.
unsafe fn load_default_file(ctx: *mut SSL_CTX) {
    // SAFETY: ctx is live (caller's contract). OpenSSL reads the environment variable named
    // by X509_get_default_cert_file_env() itself, and clears the error queue on failure.
    unsafe { crate::ffi::openssl::SSL_CTX_set_default_verify_file(ctx) };
    crate::error::ErrorStack::clear();
}

/// OpenSSL's default CA directories that exist: `SSL_CERT_DIR` (a list separated like `PATH`:
/// `:` on Unix, `;` on Windows), else the compiled-in directory. Unlike OpenSSL, the environment is read even in a setuid
/// program.
fn default_dirs() -> Vec<PathBuf> {
    // SAFETY: both functions return pointers to static NUL-terminated strings.
    let (env, builtin) = unsafe {
        (
            CStr::from_ptr(openssl_sys::X509_get_default_cert_dir_env()),
            CStr::from_ptr(openssl_sys::X509_get_default_cert_dir()),
        )
    };
    let list = env
        .to_str()
        .ok()
        .and_then(std::env::var_os)
        .unwrap_or_else(|| builtin.to_string_lossy().into_owned().into());
    std::env::split_paths(&list)
        .filter(|dir| !dir.as_os_str().is_empty() && dir.is_dir())
        .collect()
}

/// The certificates in an `X509_STORE`, each with its own reference.
///
/// # Safety
/// `store` is a live `X509_STORE` that no other thread changes meanwhile.
unsafe fn store_certificates(store: *mut openssl_sys::X509_STORE) -> Vec<Certificate> {
    let mut out = Vec::new();
    // SAFETY: store is live (caller's contract); the objects belong to it and each X509 is
    // up-ref'd before we own it.
    unsafe {
        let objects =
            openssl_sys::X509_STORE_get0_objects(store) as *mut openssl_sys::OPENSSL_STACK;
        if objects.is_null() {
            return out;
        }
        for i in 0..openssl_sys::OPENSSL_sk_num(objects) {
            let object =
                openssl_sys::OPENSSL_sk_value(objects, i) as *const openssl_sys::X509_OBJECT;
            let x509 = openssl_sys::X509_OBJECT_get0_X509(object);
            if !x509.is_null() {
                openssl_sys::X509_up_ref(x509);
                out.push(Certificate::from_ptr(x509));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;

    /// The certificates OpenSSL's own `X509_STORE_set_default_paths` loads.
    fn openssl_default_certificates() -> usize {
        // SAFETY: a fresh store, freed at the end; nothing else sees it.
        unsafe {
            let store = openssl_sys::X509_STORE_new();
            assert!(!store.is_null());
            openssl_sys::X509_STORE_set_default_paths(store);
            crate::error::ErrorStack::clear();
            let n = store_certificates(store).len();
            openssl_sys::X509_STORE_free(store);
            n
        }
    }

    fn recorded(ctx: &Context) -> (usize, Vec<PathBuf>) {
        match &ctx.to_builder().trust.sources[..] {
            [TrustSource::Loaded { certificates, dirs }] => (certificates.len(), dirs.clone()),
            _ => panic!("a built context records its trust as one loaded source"),
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn default_trust_is_made_explicit() {
        let implied = Context::builder().build().unwrap();
        let (count, dirs) = recorded(&implied);
        assert_eq!(count, openssl_default_certificates());
        assert_eq!(dirs, default_dirs());
        let explicit = Context::builder()
            .verify_location(VerifyLocation::Default)
            .build()
            .unwrap();
        assert_eq!(recorded(&explicit), (count, dirs.clone()));
        // Rebuilt, and with the defaults added again: the same, nothing doubled.
        let again = implied
            .to_builder()
            .verify_location(VerifyLocation::Default)
            .build()
            .unwrap();
        assert_eq!(recorded(&again), (count, dirs));
        // Explicit trust without the defaults has none of them.
        let pem = Context::builder()
            .ca_certificates_pem(&crate::testing::TestPki::new().unwrap().root_pem())
            .build()
            .unwrap();
        assert_eq!(recorded(&pem), (1, Vec::new()));
        assert_eq!(
            recorded(&pem.to_builder().build().unwrap()),
            (1, Vec::new())
        );
    }
}

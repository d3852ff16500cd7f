//! Loading private keys and certificate chains (files or memory, PEM or DER, with passwords)
//! into an `SSL_CTX` or an `SSL`.

use crate::error::{cvt, Error, ErrorStack};
use crate::ffi::openssl as ffi;
use crate::util::{looks_like_pem, read_file};
use crate::x509::{read_bio, Certificate};
use foreign_types::ForeignType;
use openssl_sys::{EVP_PKEY, SSL, SSL_CTX};
use std::os::raw::{c_char, c_int, c_long, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use zeroize::Zeroizing;

/// Supplies the password of an encrypted private key. The argument is OpenSSL's `rwflag`:
/// `true` when the key is being written (encrypted), `false` when it is being read.
pub type PasswordCallback = dyn Fn(bool) -> Vec<u8> + Send + Sync + 'static;

foreign_types::foreign_type! {
    /// An owned `EVP_PKEY` (reference counted: `clone` shares the key, as contexts rebuilt
    /// from one another do).
    pub(crate) unsafe type PrivateKey: Send + Sync {
        type CType = EVP_PKEY;
        fn drop = openssl_sys::EVP_PKEY_free;
        fn clone = pkey_up_ref;
    }
}

unsafe fn pkey_up_ref(key: *mut EVP_PKEY) -> *mut EVP_PKEY {
    // SAFETY: the caller (foreign_types' Clone) passes a live EVP_PKEY.
    unsafe { openssl_sys::EVP_PKEY_up_ref(key) };
    key
}

/// The password source while OpenSSL decodes a key.
struct PasswordSource<'a> {
    callback: Option<&'a PasswordCallback>,
    panic: crate::util::PanicSlot,
}

unsafe extern "C" fn password_trampoline(
    buf: *mut c_char,
    size: c_int,
    rwflag: c_int,
    user: *mut c_void,
) -> c_int {
    // SAFETY: `user` is the PasswordSource passed to the decoder by `load_private_key`, alive
    // for the whole decode.
    let source = unsafe { &mut *user.cast::<PasswordSource<'_>>() };
    let Some(callback) = source.callback else {
        return -1;
    };
    // The password is wiped as soon as OpenSSL has its copy.
    match catch_unwind(AssertUnwindSafe(|| Zeroizing::new(callback(rwflag != 0)))) {
        Ok(password) => {
            let n = password.len().min(size.max(0) as usize);
            // SAFETY: OpenSSL's buffer holds `size` bytes and n <= size.
            unsafe { std::ptr::copy_nonoverlapping(password.as_ptr(), buf.cast::<u8>(), n) };
            n as c_int
        }
        Err(payload) => {
            crate::util::park_panic(&mut source.panic, payload);
            -1
        }
    }
}

/// Decodes a private key: PEM (PKCS#8, traditional, encrypted or not) or DER (PKCS#8 plain
/// or encrypted, traditional RSA/EC).
pub(crate) fn load_private_key(
    data: &[u8],
    password: Option<&PasswordCallback>,
) -> Result<PrivateKey, Error> {
    crate::init::ensure_initialized();
    let _queue = crate::error::QueueScope::enter();
    let mut source = PasswordSource {
        callback: password,
        panic: Default::default(),
    };
    let user: *mut c_void = (&mut source as *mut PasswordSource<'_>).cast();
    let key = if looks_like_pem(data) {
        let bio = read_bio(data)?;
        // SAFETY: bio is valid; the callback and its user pointer live across the call.
        unsafe {
            openssl_sys::PEM_read_bio_PrivateKey(
                bio.0,
                std::ptr::null_mut(),
                Some(password_trampoline),
                user,
            )
        }
    } else {
        let bio = read_bio(data)?;
        // Encrypted PKCS#8 first (it needs the password), then any unencrypted DER form.
        // SAFETY: as above.
        let encrypted = unsafe {
            openssl_sys::d2i_PKCS8PrivateKey_bio(
                bio.0,
                std::ptr::null_mut(),
                Some(password_trampoline),
                user,
            )
        };
        if encrypted.is_null() {
            ErrorStack::clear();
            let mut p = data.as_ptr();
            let len = c_long::try_from(data.len()).unwrap_or(c_long::MAX);
            // SAFETY: `p` points to `len` readable bytes; d2i advances a local copy.
            unsafe { openssl_sys::d2i_AutoPrivateKey(std::ptr::null_mut(), &mut p, len) }
        } else {
            encrypted
        }
    };
    if let Some(payload) = source.panic.take() {
        ErrorStack::clear();
        std::panic::resume_unwind(payload);
    }
    if key.is_null() {
        let stack = ErrorStack::drain();
        let hint = if password.is_none() {
            " (if the key is encrypted, give its password)"
        } else {
            " (wrong password, or not a private key)"
        };
        return Err(Error::Ssl(if stack.is_empty() {
            ErrorStack::message(format!("could not decode the private key{hint}"))
        } else {
            let mut s = stack;
            s.push_hint(format!("could not decode the private key{hint}"));
            s
        }));
    }
    // SAFETY: key is a fresh, owned EVP_PKEY.
    Ok(unsafe { PrivateKey::from_ptr(key) })
}

/// Decodes a certificate chain: PEM (leaf first), or a single DER certificate.
pub(crate) fn load_chain(data: &[u8]) -> Result<Vec<Certificate>, Error> {
    if looks_like_pem(data) {
        Certificate::stack_from_pem(data)
    } else {
        Ok(vec![Certificate::from_der(data)?])
    }
}

/// Reads and decodes a certificate chain file (PEM or DER).
pub(crate) fn load_chain_file(path: &Path) -> Result<Vec<Certificate>, Error> {
    let data = read_file(path, "certificate chain file")?;
    load_chain(&data).map_err(|e| with_path(e, path))
}

/// Reads and decodes a private key file; the file's bytes are wiped once decoded.
pub(crate) fn load_private_key_file(
    path: &Path,
    password: Option<&PasswordCallback>,
) -> Result<PrivateKey, Error> {
    let data = Zeroizing::new(read_file(path, "private key file")?);
    load_private_key(&data, password).map_err(|e| with_path(e, path))
}

/// Where credentials are installed: a whole context or one connection.
#[derive(Clone, Copy)]
pub(crate) enum Target {
    /// A context being built, that no other thread can reach yet: a built context never
    /// changes (OpenSSL forbids changing an `SSL_CTX` that connections are made from).
    Context(*mut SSL_CTX),
    Connection(*mut SSL),
}

impl Target {
    /// Installs a leaf certificate followed by its chain.
    pub(crate) fn use_chain(self, chain: &[Certificate]) -> Result<(), Error> {
        let (leaf, rest) = chain.split_first().ok_or_else(|| {
            Error::InvalidArgument("the certificate chain holds no certificate".into())
        })?;
        // SAFETY: the target pointer is valid (callers pass live objects); use_certificate and
        // add1_chain_cert take their own references to the X509s.
        unsafe {
            match self {
                Target::Context(ctx) => {
                    cvt(openssl_sys::SSL_CTX_use_certificate(ctx, leaf.as_ptr()))?;
                    // Clear a chain from an earlier call before adding this one.
                    openssl_sys::SSL_CTX_ctrl(ctx, ffi::SSL_CTRL_CHAIN, 0, std::ptr::null_mut());
                    for cert in rest {
                        crate::error::cvt_long(openssl_sys::SSL_CTX_ctrl(
                            ctx,
                            openssl_sys::SSL_CTRL_CHAIN_CERT,
                            1,
                            cert.as_ptr().cast(),
                        ))?;
                    }
                }
                Target::Connection(ssl) => {
                    cvt(openssl_sys::SSL_use_certificate(ssl, leaf.as_ptr()))?;
                    openssl_sys::SSL_ctrl(ssl, ffi::SSL_CTRL_CHAIN, 0, std::ptr::null_mut());
                    for cert in rest {
                        crate::error::cvt_long(openssl_sys::SSL_ctrl(
                            ssl,
                            openssl_sys::SSL_CTRL_CHAIN_CERT,
                            1,
                            cert.as_ptr().cast(),
                        ))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Installs a private key and checks that it matches the installed certificate.
    pub(crate) fn use_key(self, key: &PrivateKey) -> Result<(), Error> {
        // SAFETY: the target pointer is valid; use_PrivateKey takes its own key reference.
        unsafe {
            match self {
                Target::Context(ctx) => {
                    cvt(openssl_sys::SSL_CTX_use_PrivateKey(ctx, key.as_ptr()))?;
                    if !openssl_sys::SSL_CTX_get0_certificate(ctx).is_null() {
                        cvt(openssl_sys::SSL_CTX_check_private_key(ctx)).map_err(key_mismatch)?;
                    }
                }
                Target::Connection(ssl) => {
                    cvt(openssl_sys::SSL_use_PrivateKey(ssl, key.as_ptr()))?;
                    if !openssl_sys::SSL_get_certificate(ssl).is_null() {
                        cvt(ffi::SSL_check_private_key(ssl)).map_err(key_mismatch)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Loads a chain from PEM bytes, or a single DER certificate.
    pub(crate) fn use_chain_bytes(self, data: &[u8]) -> Result<(), Error> {
        self.use_chain(&load_chain(data)?)
    }

    pub(crate) fn use_chain_file(self, path: &Path) -> Result<(), Error> {
        let chain = load_chain_file(path)?;
        self.use_chain(&chain).map_err(|e| with_path(e, path))
    }

    pub(crate) fn use_key_bytes(
        self,
        data: &[u8],
        password: Option<&PasswordCallback>,
    ) -> Result<(), Error> {
        let key = load_private_key(data, password)?;
        self.use_key(&key)
    }

    pub(crate) fn use_key_file(
        self,
        path: &Path,
        password: Option<&PasswordCallback>,
    ) -> Result<(), Error> {
        let key = load_private_key_file(path, password)?;
        self.use_key(&key).map_err(|e| with_path(e, path))
    }
}

fn key_mismatch(e: Error) -> Error {
    match e {
        Error::Ssl(mut stack) => {
            stack.push_hint("the private key does not match the certificate".into());
            Error::Ssl(stack)
        }
        other => other,
    }
}

/// Adds "while loading PATH" to an OpenSSL error.
pub(crate) fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Ssl(mut stack) => {
            stack.push_hint(format!("while loading {}", path.display()));
            Error::Ssl(stack)
        }
        other => other,
    }
}

//! Key pairs of the test PKI: [`KeyType`], generating a fresh key, and the PKCS#8 encodings
//! (plain PEM and DER, encrypted PEM) that [`CertifiedKey`](super::CertifiedKey) hands out.
//!
//! Keys are the crate's own [`PrivateKey`]; decoding goes through
//! [`load_private_key`](crate::credentials::load_private_key). Only the encoders live here,
//! since nothing but the test PKI writes keys.

use std::ffi::{c_char, c_int};
use std::ptr;

use foreign_types::{ForeignType, ForeignTypeRef};
use openssl_sys as ffi;

use crate::credentials::{PrivateKey, PrivateKeyRef};
use crate::error::{cvt, cvt_p, Error};
use crate::x509::MemBio;

/// The algorithm of a leaf's key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyType {
    /// ECDSA on the NIST P-256 curve (prime256v1), the default.
    #[default]
    EcdsaP256,
    /// 2048-bit RSA; the leaf's keyUsage then also allows keyEncipherment.
    Rsa2048,
}

foreign_types::foreign_type! {
    /// A key-generation context (`EVP_PKEY_CTX`).
    unsafe type KeygenContext {
        type CType = ffi::EVP_PKEY_CTX;
        fn drop = ffi::EVP_PKEY_CTX_free;
    }
}

/// Generates a fresh key pair.
pub(super) fn generate_key(key_type: KeyType) -> Result<PrivateKey, Error> {
    let id = match key_type {
        KeyType::EcdsaP256 => ffi::EVP_PKEY_EC,
        KeyType::Rsa2048 => ffi::EVP_PKEY_RSA,
    };
    // SAFETY: EVP_PKEY_CTX_new_id with a null engine returns a new context we own, or null,
    // which `cvt_p` turns into an error before `from_ptr` takes ownership.
    let ctx =
        unsafe { KeygenContext::from_ptr(cvt_p(ffi::EVP_PKEY_CTX_new_id(id, ptr::null_mut()))?) };
    // SAFETY: `ctx` is a live key-generation context.
    cvt(unsafe { ffi::EVP_PKEY_keygen_init(ctx.as_ptr()) })?;
    match key_type {
        KeyType::EcdsaP256 => {
            // SAFETY: `ctx` is a live EC keygen context initialised above.
            cvt(unsafe {
                ffi::EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.as_ptr(), ffi::NID_X9_62_prime256v1)
            })?
        }
        KeyType::Rsa2048 => {
            // SAFETY: `ctx` is a live RSA keygen context initialised above.
            cvt(unsafe { ffi::EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.as_ptr(), 2048) })?
        }
    };
    let mut key: *mut ffi::EVP_PKEY = ptr::null_mut();
    // SAFETY: `ctx` is ready for keygen and `key` is a valid out-pointer holding null, so
    // OpenSSL allocates a new key that we take ownership of.
    let ret = unsafe { ffi::EVP_PKEY_keygen(ctx.as_ptr(), &mut key) };
    // Take ownership before checking `ret`, so that a key is freed even if OpenSSL left one
    // behind.
    // SAFETY: a non-null `key` is the fresh EVP_PKEY allocated above, owned by nobody else.
    let key = (!key.is_null()).then(|| unsafe { PrivateKey::from_ptr(key) });
    cvt(ret)?;
    key.ok_or_else(|| Error::Ssl(crate::error::ErrorStack::drain()))
}

/// Everything `write` puts into a fresh memory BIO, or its OpenSSL error.
fn written(write: impl FnOnce(*mut ffi::BIO) -> c_int) -> Result<Vec<u8>, Error> {
    let bio = MemBio::new()?;
    cvt(write(bio.0))?;
    Ok(bio.contents())
}

/// Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").
pub(super) fn pkcs8_pem(key: &PrivateKeyRef) -> Result<Vec<u8>, Error> {
    written(|bio| {
        // SAFETY: `bio` and `key` are live; a null cipher means no encryption, so the null
        // password, length 0 and absent callback are never used.
        unsafe {
            ffi::PEM_write_bio_PKCS8PrivateKey(
                bio,
                key.as_ptr(),
                ptr::null(),
                ptr::null(),
                0,
                None,
                ptr::null_mut(),
            )
        }
    })
}

/// Unencrypted PKCS#8 DER.
pub(super) fn pkcs8_der(key: &PrivateKeyRef) -> Result<Vec<u8>, Error> {
    written(|bio| {
        // SAFETY: `bio` and `key` are live; a null cipher means no encryption, so the null
        // password and absent callback are never used.
        unsafe {
            ffi::i2d_PKCS8PrivateKey_bio(
                bio,
                key.as_ptr(),
                ptr::null(),
                ptr::null(),
                0,
                None,
                ptr::null_mut(),
            )
        }
    })
}

/// PKCS#8 encrypted with AES-256-CBC under `password` (PBES2/PBKDF2), PEM ("BEGIN ENCRYPTED
/// PRIVATE KEY"). The caller checks that the password is one OpenSSL can read back.
pub(super) fn encrypted_pkcs8_pem(key: &PrivateKeyRef, password: &str) -> Result<Vec<u8>, Error> {
    let len = c_int::try_from(password.len())
        .map_err(|_| Error::InvalidArgument("key password too long".into()))?;
    written(|bio| {
        // SAFETY: `bio` and `key` are live; EVP_aes_256_cbc returns a static cipher; the
        // password is valid for `len` bytes (an explicit length, no NUL needed) and only read.
        unsafe {
            ffi::PEM_write_bio_PKCS8PrivateKey(
                bio,
                key.as_ptr(),
                ffi::EVP_aes_256_cbc(),
                password.as_ptr().cast::<c_char>(),
                len,
                None,
                ptr::null_mut(),
            )
        }
    })
}

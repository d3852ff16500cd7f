//! An in-memory test PKI built with OpenSSL's C API: a trusted root, an intermediate signed
//! by it, an unrelated "untrusted" root, and leaf certificates issued on demand.
//!
//! Every OpenSSL object lives in an [`Owned`] guard that frees it on drop, so nothing leaks on
//! any error path. The CAs are kept as PEM/DER bytes and parsed again for each leaf, which keeps
//! [`TestPki`] trivially `Send + Sync` without sharing OpenSSL objects between threads.

use std::ffi::{c_char, c_int, c_long, c_uchar, c_void, CString};
use std::fmt;
use std::net::IpAddr;
use std::ptr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use openssl_sys as ffi;

use crate::error::{cvt, cvt_p, Error};

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const ORGANIZATION: &str = "sslbridge test";
const ROOT_CN: &str = "sslbridge test root CA";
const INTERMEDIATE_CN: &str = "sslbridge test intermediate CA";
const UNTRUSTED_ROOT_CN: &str = "sslbridge untrusted root CA";
/// How long the CA certificates are valid, counted from one day in the past.
const CA_VALIDITY: Duration = Duration::from_secs(3650 * 24 * 60 * 60);

// ---------------------------------------------------------------------------------------------
// RAII guards
// ---------------------------------------------------------------------------------------------

/// Sole owner of one OpenSSL object, freed with its matching destructor on drop.
struct Owned<T> {
    ptr: *mut T,
    free: unsafe extern "C" fn(*mut T),
}

impl<T> Owned<T> {
    /// Takes ownership of `ptr`, which must be null (reported as the OpenSSL error on the
    /// queue) or a freshly allocated object that `free` releases.
    fn new(ptr: *mut T, free: unsafe extern "C" fn(*mut T)) -> Result<Owned<T>, Error> {
        let ptr = cvt_p(ptr)?;
        Ok(Owned { ptr, free })
    }

    fn as_ptr(&self) -> *mut T {
        self.ptr
    }
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        // SAFETY: `ptr` is non-null (checked in `new`), owned by this guard alone, and `free`
        // is the destructor OpenSSL documents for objects of this type; it runs exactly once.
        unsafe { (self.free)(self.ptr) }
    }
}

type X509 = Owned<ffi::X509>;
type PKey = Owned<ffi::EVP_PKEY>;
type Bio = Owned<ffi::BIO>;

// ---------------------------------------------------------------------------------------------
// Small FFI helpers
// ---------------------------------------------------------------------------------------------

/// A new, empty, growable memory BIO.
fn mem_bio() -> Result<Bio, Error> {
    // SAFETY: BIO_s_mem returns a static method table; BIO_new returns a new BIO we own, or
    // null, which `Owned::new` turns into an error.
    Owned::new(unsafe { ffi::BIO_new(ffi::BIO_s_mem()) }, ffi::BIO_free_all)
}

/// Runs `f` with a read-only memory BIO over `data`; the BIO is freed before `data`'s borrow
/// ends, so it never outlives the bytes it points into.
fn with_read_bio<R>(
    data: &[u8],
    f: impl FnOnce(*mut ffi::BIO) -> Result<R, Error>,
) -> Result<R, Error> {
    let len = c_int::try_from(data.len())
        .map_err(|_| Error::InvalidArgument("PEM input larger than 2 GiB".into()))?;
    // SAFETY: `data` is valid for `len` bytes for the whole life of the BIO (it is dropped at
    // the end of this function); a read-only memory BIO never writes through the pointer.
    let bio = Owned::new(
        unsafe { ffi::BIO_new_mem_buf(data.as_ptr().cast::<c_void>(), len) },
        ffi::BIO_free_all,
    )?;
    f(bio.as_ptr())
}

/// Copies everything written to a memory BIO.
fn bio_contents(bio: &Bio) -> Vec<u8> {
    let mut data: *mut c_char = ptr::null_mut();
    // SAFETY: `bio` is a live memory BIO; BIO_get_mem_data only stores a pointer to its
    // internal buffer into the valid local `data`.
    let len = unsafe { ffi::BIO_get_mem_data(bio.as_ptr(), &mut data) };
    match usize::try_from(len) {
        Ok(len) if len > 0 && !data.is_null() => {
            // SAFETY: the memory BIO's buffer holds `len` initialised bytes at `data` and stays
            // untouched until the next operation on `bio`, which cannot happen while we copy.
            unsafe { std::slice::from_raw_parts(data.cast::<u8>(), len) }.to_vec()
        }
        _ => Vec::new(),
    }
}

/// Parses a DER certificate.
fn x509_from_der(der: &[u8]) -> Result<X509, Error> {
    let len = c_long::try_from(der.len())
        .map_err(|_| Error::InvalidArgument("certificate too large".into()))?;
    let mut p: *const c_uchar = der.as_ptr();
    // SAFETY: `p` points to `len` readable bytes of `der`; d2i_X509 with a null first argument
    // allocates a new X509 that we own (or returns null on malformed input).
    Owned::new(
        unsafe { ffi::d2i_X509(ptr::null_mut(), &mut p, len) },
        ffi::X509_free,
    )
}

/// Parses the first PEM certificate in `pem`.
fn x509_from_pem(pem: &[u8]) -> Result<X509, Error> {
    with_read_bio(pem, |bio| {
        // SAFETY: `bio` is a live read BIO; with a null output pointer and no password callback
        // PEM_read_bio_X509 returns a new X509 we own, or null.
        Owned::new(
            unsafe { ffi::PEM_read_bio_X509(bio, ptr::null_mut(), None, ptr::null_mut()) },
            ffi::X509_free,
        )
    })
}

/// DER encoding of a certificate.
fn x509_to_der(cert: &X509) -> Result<Vec<u8>, Error> {
    // SAFETY: `cert` is a live X509; with a null output pointer i2d_X509 only returns the
    // encoded length.
    let len = cvt(unsafe { ffi::i2d_X509(cert.as_ptr(), ptr::null_mut()) })?;
    let mut der = vec![0u8; len as usize];
    let mut p = der.as_mut_ptr();
    // SAFETY: `der` has exactly the `len` bytes i2d_X509 reported it needs; it writes them
    // through `p` and advances the local pointer.
    let written = cvt(unsafe { ffi::i2d_X509(cert.as_ptr(), &mut p) })?;
    der.truncate(written as usize);
    Ok(der)
}

/// PEM encoding of a certificate.
fn x509_to_pem(cert: &X509) -> Result<Vec<u8>, Error> {
    let bio = mem_bio()?;
    // SAFETY: both pointers are live objects owned by guards in this frame.
    cvt(unsafe { ffi::PEM_write_bio_X509(bio.as_ptr(), cert.as_ptr()) })?;
    Ok(bio_contents(&bio))
}

/// Parses a PEM private key (PKCS#8 or traditional, unencrypted).
fn key_from_pem(pem: &[u8]) -> Result<PKey, Error> {
    with_read_bio(pem, |bio| {
        // SAFETY: `bio` is a live read BIO. The user data is an empty NUL-terminated string,
        // so an encrypted key fails cleanly instead of OpenSSL prompting on the terminal.
        Owned::new(
            unsafe {
                ffi::PEM_read_bio_PrivateKey(
                    bio,
                    ptr::null_mut(),
                    None,
                    c"".as_ptr().cast_mut().cast::<c_void>(),
                )
            },
            ffi::EVP_PKEY_free,
        )
    })
}

/// Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY").
fn key_to_pkcs8_pem(key: &PKey) -> Result<Vec<u8>, Error> {
    let bio = mem_bio()?;
    // SAFETY: `bio` and `key` are live; a null cipher means no encryption, so the null
    // password, length 0 and absent callback are never used.
    cvt(unsafe {
        ffi::PEM_write_bio_PKCS8PrivateKey(
            bio.as_ptr(),
            key.as_ptr(),
            ptr::null(),
            ptr::null(),
            0,
            None,
            ptr::null_mut(),
        )
    })?;
    Ok(bio_contents(&bio))
}

/// Generates a fresh key pair.
fn generate_key(key_type: KeyType) -> Result<PKey, Error> {
    let id = match key_type {
        KeyType::EcdsaP256 => ffi::EVP_PKEY_EC,
        KeyType::Rsa2048 => ffi::EVP_PKEY_RSA,
    };
    // SAFETY: EVP_PKEY_CTX_new_id with a null engine returns a new context we own, or null.
    let ctx = Owned::new(
        unsafe { ffi::EVP_PKEY_CTX_new_id(id, ptr::null_mut()) },
        ffi::EVP_PKEY_CTX_free,
    )?;
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
    // Wrap before checking `ret` so that a key is freed even if OpenSSL left one behind.
    let key = Owned::new(key, ffi::EVP_PKEY_free);
    cvt(ret)?;
    key
}

/// A random serial number that is never zero (RFC 5280 wants positive serials).
fn random_serial() -> Result<u64, Error> {
    loop {
        let mut bytes = [0u8; 8];
        // SAFETY: `bytes` is a writable buffer of exactly the 8 bytes requested.
        cvt(unsafe { ffi::RAND_bytes(bytes.as_mut_ptr(), 8) })?;
        let serial = u64::from_be_bytes(bytes);
        if serial != 0 {
            return Ok(serial);
        }
    }
}

/// Seconds since the Unix epoch, for `ASN1_TIME_set`.
fn unix_seconds(t: SystemTime) -> Result<i64, Error> {
    let since = t.duration_since(UNIX_EPOCH).map_err(|_| {
        Error::InvalidArgument("certificate dates before 1970 are not supported".into())
    })?;
    i64::try_from(since.as_secs())
        .map_err(|_| Error::InvalidArgument("certificate date too far in the future".into()))
}

/// Converts to the platform's `time_t`, whatever its width, without naming it (openssl-sys
/// takes it from libc, which this crate does not depend on).
fn to_time_t<T: TryFrom<i64>>(secs: i64) -> Result<T, Error> {
    T::try_from(secs).map_err(|_| {
        Error::InvalidArgument(format!(
            "certificate date ({secs} s after 1970) does not fit this platform's time_t"
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Certificate assembly
// ---------------------------------------------------------------------------------------------

/// Everything needed to issue one certificate.
struct CertSpec<'a> {
    common_name: &'a str,
    serial: u64,
    not_before: SystemTime,
    not_after: SystemTime,
    /// X509v3 extensions in config syntax (`"critical,CA:FALSE"`), added in this order.
    extensions: Vec<(c_int, String)>,
}

/// The parsed certificate and key of an issuing CA.
struct Signer {
    cert: X509,
    key: PKey,
}

fn set_time(
    cert: &X509,
    t: SystemTime,
    set: unsafe extern "C" fn(*mut ffi::X509, *const ffi::ASN1_TIME) -> c_int,
) -> Result<(), Error> {
    let secs = unix_seconds(t)?;
    // SAFETY: with a null first argument ASN1_TIME_set allocates a new ASN1_TIME we own (or
    // returns null). It picks UTCTime before 2050 and GeneralizedTime from 2050 on, as
    // RFC 5280 requires.
    let time = Owned::new(
        // SAFETY: see above; a null first argument makes ASN1_TIME_set allocate.
        unsafe { ffi::ASN1_TIME_set(ptr::null_mut(), to_time_t(secs)?) },
        ffi::ASN1_TIME_free,
    )?;
    // SAFETY: `cert` and `time` are live; X509_set1_notBefore/After copy the time.
    cvt(unsafe { set(cert.as_ptr(), time.as_ptr()) })?;
    Ok(())
}

fn add_name_entry(
    name: &Owned<ffi::X509_NAME>,
    field: &std::ffi::CStr,
    value: &str,
) -> Result<(), Error> {
    let len =
        c_int::try_from(value.len()).map_err(|_| Error::InvalidArgument("name too long".into()))?;
    // SAFETY: `name` is live, `field` is NUL-terminated, and `value` is valid for `len` bytes
    // of UTF-8 (an explicit length, so it needs no NUL). OpenSSL copies the bytes.
    cvt(unsafe {
        ffi::X509_NAME_add_entry_by_txt(
            name.as_ptr(),
            field.as_ptr(),
            ffi::MBSTRING_UTF8,
            value.as_ptr(),
            len,
            -1,
            0,
        )
    })?;
    Ok(())
}

/// Builds and signs a certificate for `subject_key`; `issuer: None` means self-signed.
fn issue(spec: &CertSpec<'_>, subject_key: &PKey, issuer: Option<&Signer>) -> Result<X509, Error> {
    // SAFETY: X509_new returns a new, empty certificate that we own, or null.
    let cert = Owned::new(unsafe { ffi::X509_new() }, ffi::X509_free)?;
    // SAFETY: `cert` is live; 2 is the encoding of X.509 v3.
    cvt(unsafe { ffi::X509_set_version(cert.as_ptr(), 2) })?;

    let serial_bytes = spec.serial.to_be_bytes();
    // SAFETY: `serial_bytes` is 8 readable bytes; a null `ret` makes BN_bin2bn allocate a new
    // BIGNUM that we own (or return null).
    let serial = Owned::new(
        unsafe { ffi::BN_bin2bn(serial_bytes.as_ptr(), 8, ptr::null_mut()) },
        ffi::BN_free,
    )?;
    // SAFETY: X509_get_serialNumber returns the certificate's own ASN1_INTEGER, which
    // BN_to_ASN1_INTEGER overwrites in place (it returns that pointer, or null on failure).
    cvt_p(unsafe {
        ffi::BN_to_ASN1_INTEGER(serial.as_ptr(), ffi::X509_get_serialNumber(cert.as_ptr()))
    })?;

    set_time(&cert, spec.not_before, ffi::X509_set1_notBefore)?;
    set_time(&cert, spec.not_after, ffi::X509_set1_notAfter)?;

    // SAFETY: X509_NAME_new returns a new, empty name that we own, or null.
    let name = Owned::new(unsafe { ffi::X509_NAME_new() }, ffi::X509_NAME_free)?;
    add_name_entry(&name, c"O", ORGANIZATION)?;
    add_name_entry(&name, c"CN", spec.common_name)?;
    // SAFETY: `cert` and `name` are live; X509_set_subject_name copies the name.
    cvt(unsafe { ffi::X509_set_subject_name(cert.as_ptr(), name.as_ptr()) })?;
    let issuer_name = match issuer {
        // SAFETY: the issuer certificate is live; the returned name is borrowed from it and
        // only read (copied by X509_set_issuer_name below) while it is alive.
        Some(signer) => cvt_p(unsafe { ffi::X509_get_subject_name(signer.cert.as_ptr()) })?,
        None => name.as_ptr(),
    };
    // SAFETY: `cert` is live and `issuer_name` is a live name (ours or the issuer's); it is
    // copied.
    cvt(unsafe { ffi::X509_set_issuer_name(cert.as_ptr(), issuer_name) })?;
    // SAFETY: both are live; X509_set_pubkey takes its own reference to the key.
    cvt(unsafe { ffi::X509_set_pubkey(cert.as_ptr(), subject_key.as_ptr()) })?;

    let issuer_cert = issuer.map_or(cert.as_ptr(), |signer| signer.cert.as_ptr());
    // SAFETY: X509V3_CTX is a plain C struct of an int and raw pointers, for which all-zero
    // bytes are a valid (empty) value; X509V3_set_ctx then fills it in.
    let mut ctx: ffi::X509V3_CTX = unsafe { std::mem::MaybeUninit::zeroed().assume_init() };
    // SAFETY: `ctx` is a valid local; the issuer and subject certificates outlive every use
    // of `ctx` (it is only used in the loop below, while `cert` and `issuer` are alive).
    unsafe {
        ffi::X509V3_set_ctx(
            &mut ctx,
            issuer_cert,
            cert.as_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
            0,
        )
    };
    for (nid, value) in &spec.extensions {
        let value = CString::new(value.as_str()).map_err(|_| {
            Error::InvalidArgument(format!("extension value {value:?} contains a NUL byte"))
        })?;
        // SAFETY: `ctx` was set up above with live certificates; a null CONF is allowed when
        // the value references no config sections (ours never do); `value` is NUL-terminated.
        // The result is a new extension that we own, or null.
        let ext = Owned::new(
            // SAFETY: see above; every pointer is live for the call.
            unsafe { ffi::X509V3_EXT_nconf_nid(ptr::null_mut(), &mut ctx, *nid, value.as_ptr()) },
            ffi::X509_EXTENSION_free,
        )?;
        // SAFETY: both are live; X509_add_ext appends a copy of the extension.
        cvt(unsafe { ffi::X509_add_ext(cert.as_ptr(), ext.as_ptr(), -1) })?;
    }

    let signing_key = issuer.map_or(subject_key.as_ptr(), |signer| signer.key.as_ptr());
    // SAFETY: `cert` and `signing_key` are live; EVP_sha256 returns a static digest.
    cvt(unsafe { ffi::X509_sign(cert.as_ptr(), signing_key, ffi::EVP_sha256()) })?;
    Ok(cert)
}

// ---------------------------------------------------------------------------------------------
// Certificate authorities
// ---------------------------------------------------------------------------------------------

/// A CA certificate and its key, held as bytes (parsed again whenever it signs), so it is
/// `Send + Sync` without sharing OpenSSL objects across threads.
#[derive(Clone)]
struct CertificateAuthority {
    cert_pem: Vec<u8>,
    cert_der: Vec<u8>,
    key_pem: Vec<u8>,
}

impl CertificateAuthority {
    /// A new CA: self-signed root when `issuer` is `None`, else an intermediate with
    /// `pathlen:0`.
    fn new(
        common_name: &str,
        issuer: Option<&CertificateAuthority>,
    ) -> Result<CertificateAuthority, Error> {
        let key = generate_key(KeyType::EcdsaP256)?;
        let not_before = SystemTime::now() - DAY;
        let mut extensions = vec![
            (
                ffi::NID_basic_constraints,
                if issuer.is_some() {
                    "critical,CA:TRUE,pathlen:0"
                } else {
                    "critical,CA:TRUE"
                }
                .to_owned(),
            ),
            (
                ffi::NID_key_usage,
                "critical,keyCertSign,cRLSign".to_owned(),
            ),
            (ffi::NID_subject_key_identifier, "hash".to_owned()),
        ];
        if issuer.is_some() {
            extensions.push((ffi::NID_authority_key_identifier, "keyid:always".to_owned()));
        }
        let spec = CertSpec {
            common_name,
            serial: random_serial()?,
            not_before,
            not_after: not_before + CA_VALIDITY,
            extensions,
        };
        let signer = issuer.map(CertificateAuthority::signer).transpose()?;
        let cert = issue(&spec, &key, signer.as_ref())?;
        Ok(CertificateAuthority {
            cert_pem: x509_to_pem(&cert)?,
            cert_der: x509_to_der(&cert)?,
            key_pem: key_to_pkcs8_pem(&key)?,
        })
    }

    fn signer(&self) -> Result<Signer, Error> {
        Ok(Signer {
            cert: x509_from_der(&self.cert_der)?,
            key: key_from_pem(&self.key_pem)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// A throwaway certificate hierarchy, generated in memory: a trusted root CA, an intermediate
/// CA signed by it, and a second, unrelated root that nobody trusts.
///
/// Every call to [`TestPki::new`] makes fresh ECDSA P-256 keys, so two `TestPki`s never trust
/// each other's certificates. Trust [`root_pem`](TestPki::root_pem) on the verifying side and
/// hand out leaves made by [`leaf`](TestPki::leaf) or one of the shortcuts
/// ([`server`](TestPki::server), [`client`](TestPki::client), [`expired`](TestPki::expired),
/// …). For tests only: the keys are unprotected and nothing is ever revoked.
///
/// `TestPki` is `Send + Sync`; share one between threads with `Arc` or a `static`.
///
/// ```
/// let pki = sslbridge::testing::TestPki::new()?;
/// let server = pki.server(&["localhost", "127.0.0.1", "::1"])?;
/// let client = pki.client("alice")?;
/// assert!(server.key_pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));
/// assert!(client.chain_pem.len() > client.cert_pem.len());
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[derive(Clone)]
pub struct TestPki {
    root: CertificateAuthority,
    intermediate: CertificateAuthority,
    untrusted_root: CertificateAuthority,
}

impl fmt::Debug for TestPki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestPki")
            .field("root", &ROOT_CN)
            .field("intermediate", &INTERMEDIATE_CN)
            .field("untrusted_root", &UNTRUSTED_ROOT_CN)
            .finish_non_exhaustive()
    }
}

impl TestPki {
    /// Generates a new root CA ("sslbridge test root CA"), an intermediate CA signed by it
    /// ("sslbridge test intermediate CA", `pathlen:0`) and an unrelated root ("sslbridge
    /// untrusted root CA"), each with a fresh ECDSA P-256 key and ten years of validity
    /// starting yesterday.
    ///
    /// # Errors
    ///
    /// [`Error::Ssl`] if OpenSSL fails to generate a key or sign a certificate.
    pub fn new() -> Result<TestPki, Error> {
        ffi::init();
        let root = CertificateAuthority::new(ROOT_CN, None)?;
        let intermediate = CertificateAuthority::new(INTERMEDIATE_CN, Some(&root))?;
        let untrusted_root = CertificateAuthority::new(UNTRUSTED_ROOT_CN, None)?;
        Ok(TestPki {
            root,
            intermediate,
            untrusted_root,
        })
    }

    /// The root CA certificate, PEM: the trust anchor to give the verifying side.
    pub fn root_pem(&self) -> Vec<u8> {
        self.root.cert_pem.clone()
    }

    /// The root CA certificate, DER.
    pub fn root_der(&self) -> Vec<u8> {
        self.root.cert_der.clone()
    }

    /// The intermediate CA certificate, PEM. It issues leaves by default and is already
    /// appended to their [`CertifiedKey::chain_pem`].
    pub fn intermediate_pem(&self) -> Vec<u8> {
        self.intermediate.cert_pem.clone()
    }

    /// The intermediate CA certificate, DER.
    pub fn intermediate_der(&self) -> Vec<u8> {
        self.intermediate.cert_der.clone()
    }

    /// The certificate of the unrelated root that issues [`untrusted`](TestPki::untrusted)
    /// leaves, PEM. Trust it to test a verifier configured with the wrong CA.
    pub fn untrusted_root_pem(&self) -> Vec<u8> {
        self.untrusted_root.cert_pem.clone()
    }

    /// The unrelated root's certificate, DER.
    pub fn untrusted_root_der(&self) -> Vec<u8> {
        self.untrusted_root.cert_der.clone()
    }

    /// Starts a leaf certificate with subject `CN=common_name, O=sslbridge test`.
    ///
    /// Defaults: no subjectAltName, issued by the intermediate, ECDSA P-256 key, valid from one
    /// day ago for 365 days, extendedKeyUsage serverAuth + clientAuth, critical
    /// basicConstraints `CA:FALSE`, critical keyUsage digitalSignature (plus keyEncipherment
    /// for RSA), subject and authority key identifiers, signed with SHA-256, random serial.
    pub fn leaf(&self, common_name: &str) -> LeafBuilder<'_> {
        let not_before = SystemTime::now() - DAY;
        LeafBuilder {
            pki: self,
            common_name: common_name.to_owned(),
            subject_alt_names: Vec::new(),
            not_before,
            not_after: not_before + 366 * DAY,
            usages: vec![ExtendedKeyUsage::ServerAuth, ExtendedKeyUsage::ClientAuth],
            key_type: KeyType::EcdsaP256,
            issuer: Issuer::Intermediate,
            serial: None,
        }
    }

    /// A default leaf whose CN is `names[0]` and whose subjectAltName lists every name: as an
    /// IP address if it parses as [`IpAddr`], else as a DNS name.
    fn named(&self, names: &[&str]) -> Result<LeafBuilder<'_>, Error> {
        let first = names.first().ok_or_else(|| {
            Error::InvalidArgument("a certificate needs at least one name".into())
        })?;
        Ok(names.iter().fold(self.leaf(first), |builder, name| {
            match name.parse::<IpAddr>() {
                Ok(ip) => builder.ip_address(ip),
                Err(_) => builder.dns_name(name),
            }
        }))
    }

    /// A valid server certificate for `names`: CN = `names[0]`, and every name in the
    /// subjectAltName (an IP address entry if it parses as [`IpAddr`], else a DNS entry).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if `names` is empty or a DNS name is not a plain ASCII name;
    /// [`Error::Ssl`] if OpenSSL fails (e.g. `names[0]` is longer than 64 bytes).
    pub fn server(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        self.named(names)?.build()
    }

    /// A client certificate: CN = `common_name`, extendedKeyUsage clientAuth only, no
    /// subjectAltName.
    ///
    /// # Errors
    ///
    /// [`Error::Ssl`] if OpenSSL fails.
    pub fn client(&self, common_name: &str) -> Result<CertifiedKey, Error> {
        self.leaf(common_name)
            .extended_key_usage(&[ExtendedKeyUsage::ClientAuth])
            .build()
    }

    /// Like [`server`](TestPki::server), but expired: valid from 30 days ago until yesterday.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn expired(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        let now = SystemTime::now();
        self.named(names)?
            .validity(now - 30 * DAY, now - DAY)
            .build()
    }

    /// Like [`server`](TestPki::server), but not valid yet: from tomorrow until 30 days from
    /// now.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn not_yet_valid(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        let now = SystemTime::now();
        self.named(names)?
            .validity(now + DAY, now + 30 * DAY)
            .build()
    }

    /// Like [`server`](TestPki::server), but self-signed (its own issuer, not a CA), so no
    /// trust store accepts it.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn self_signed(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        self.named(names)?.self_signed().build()
    }

    /// Like [`server`](TestPki::server), but issued directly by the untrusted root.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn untrusted(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        self.named(names)?.issued_by_untrusted_root().build()
    }

    /// Like [`server`](TestPki::server), but with extendedKeyUsage clientAuth only, so a
    /// client checking the server purpose rejects it.
    ///
    /// # Errors
    ///
    /// As for [`server`](TestPki::server).
    pub fn without_server_auth(&self, names: &[&str]) -> Result<CertifiedKey, Error> {
        self.named(names)?
            .extended_key_usage(&[ExtendedKeyUsage::ClientAuth])
            .build()
    }

    /// A server certificate with the name only in the subject CN and no subjectAltName at
    /// all (modern verifiers, including OpenSSL's host name check, ignore the CN when SANs
    /// exist, and some ignore it always).
    ///
    /// # Errors
    ///
    /// [`Error::Ssl`] if OpenSSL fails.
    pub fn cn_only(&self, common_name: &str) -> Result<CertifiedKey, Error> {
        self.leaf(common_name).build()
    }
}

/// The algorithm of a leaf's key pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyType {
    /// ECDSA on the NIST P-256 curve (prime256v1), the default.
    #[default]
    EcdsaP256,
    /// 2048-bit RSA; the leaf's keyUsage then also allows keyEncipherment.
    Rsa2048,
}

/// A purpose for the extendedKeyUsage extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtendedKeyUsage {
    /// TLS server authentication (`id-kp-serverAuth`).
    ServerAuth,
    /// TLS client authentication (`id-kp-clientAuth`).
    ClientAuth,
}

impl ExtendedKeyUsage {
    fn config_name(self) -> &'static str {
        match self {
            ExtendedKeyUsage::ServerAuth => "serverAuth",
            ExtendedKeyUsage::ClientAuth => "clientAuth",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Issuer {
    Intermediate,
    Root,
    UntrustedRoot,
    SelfSigned,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SubjectAltName {
    Dns(String),
    Ip(IpAddr),
}

/// Configures one leaf certificate; made by [`TestPki::leaf`], finished by
/// [`build`](LeafBuilder::build). Each method changes one thing and returns the builder.
///
/// ```
/// use sslbridge::testing::{ExtendedKeyUsage, KeyType, TestPki};
/// use std::time::{Duration, SystemTime};
///
/// let pki = TestPki::new()?;
/// let leaf = pki
///     .leaf("db.internal")
///     .dns_name("db.internal")
///     .ip_address("10.0.0.7".parse().unwrap())
///     .key_type(KeyType::Rsa2048)
///     .extended_key_usage(&[ExtendedKeyUsage::ServerAuth])
///     .validity(SystemTime::now(), SystemTime::now() + Duration::from_secs(3600))
///     .serial(42)
///     .build()?;
/// assert!(!leaf.cert_der().is_empty());
/// # Ok::<(), sslbridge::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a LeafBuilder does nothing until .build() is called"]
pub struct LeafBuilder<'a> {
    pki: &'a TestPki,
    common_name: String,
    subject_alt_names: Vec<SubjectAltName>,
    not_before: SystemTime,
    not_after: SystemTime,
    usages: Vec<ExtendedKeyUsage>,
    key_type: KeyType,
    issuer: Issuer,
    serial: Option<u64>,
}

impl LeafBuilder<'_> {
    /// Adds a DNS name (e.g. `"localhost"` or `"*.example.com"`) to the subjectAltName.
    ///
    /// The name must be non-empty printable ASCII without spaces or commas; otherwise
    /// [`build`](LeafBuilder::build) fails with [`Error::InvalidArgument`].
    pub fn dns_name(mut self, name: &str) -> Self {
        self.subject_alt_names
            .push(SubjectAltName::Dns(name.to_owned()));
        self
    }

    /// Adds an IP address (v4 or v6) to the subjectAltName.
    pub fn ip_address(mut self, ip: IpAddr) -> Self {
        self.subject_alt_names.push(SubjectAltName::Ip(ip));
        self
    }

    /// Sets notBefore and notAfter (whole seconds; dates from 2050 on are encoded as
    /// GeneralizedTime). Dates before 1970, or `not_after` before `not_before`, make
    /// [`build`](LeafBuilder::build) fail with [`Error::InvalidArgument`].
    pub fn validity(mut self, not_before: SystemTime, not_after: SystemTime) -> Self {
        self.not_before = not_before;
        self.not_after = not_after;
        self
    }

    /// Replaces the extendedKeyUsage purposes; an empty slice leaves the extension out (the
    /// certificate is then usable for any purpose).
    pub fn extended_key_usage(mut self, usages: &[ExtendedKeyUsage]) -> Self {
        self.usages.clear();
        for usage in usages {
            if !self.usages.contains(usage) {
                self.usages.push(*usage);
            }
        }
        self
    }

    /// Chooses the key algorithm (default [`KeyType::EcdsaP256`]).
    pub fn key_type(mut self, key: KeyType) -> Self {
        self.key_type = key;
        self
    }

    /// Issues the leaf directly from the root instead of the intermediate; its
    /// [`chain_pem`](CertifiedKey::chain_pem) is then the leaf alone.
    pub fn issued_by_root(mut self) -> Self {
        self.issuer = Issuer::Root;
        self
    }

    /// Issues the leaf from the unrelated, untrusted root; its
    /// [`chain_pem`](CertifiedKey::chain_pem) is the leaf alone.
    pub fn issued_by_untrusted_root(mut self) -> Self {
        self.issuer = Issuer::UntrustedRoot;
        self
    }

    /// Makes the leaf self-signed: its own issuer, signed with its own key, still `CA:FALSE`.
    pub fn self_signed(mut self) -> Self {
        self.issuer = Issuer::SelfSigned;
        self
    }

    /// Sets the serial number (default: random, non-zero, 64 bits). Zero is rejected by
    /// [`build`](LeafBuilder::build) with [`Error::InvalidArgument`], as RFC 5280 requires a
    /// positive serial.
    pub fn serial(mut self, serial: u64) -> Self {
        self.serial = Some(serial);
        self
    }

    /// Generates the key pair and issues the certificate.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] for a malformed DNS name, a zero serial, dates before 1970
    /// or a `not_after` earlier than `not_before`; [`Error::Ssl`] if OpenSSL fails (e.g. a
    /// common name longer than 64 bytes).
    pub fn build(self) -> Result<CertifiedKey, Error> {
        if self.not_after < self.not_before {
            return Err(Error::InvalidArgument(
                "certificate validity ends before it starts".into(),
            ));
        }
        let serial = match self.serial {
            Some(0) => {
                return Err(Error::InvalidArgument(
                    "certificate serial numbers must be positive, not 0".into(),
                ))
            }
            Some(serial) => serial,
            None => random_serial()?,
        };

        let key_usage = match self.key_type {
            KeyType::EcdsaP256 => "critical,digitalSignature",
            KeyType::Rsa2048 => "critical,digitalSignature,keyEncipherment",
        };
        let mut extensions = vec![
            (ffi::NID_basic_constraints, "critical,CA:FALSE".to_owned()),
            (ffi::NID_key_usage, key_usage.to_owned()),
        ];
        if !self.usages.is_empty() {
            let usages: Vec<&str> = self.usages.iter().map(|u| u.config_name()).collect();
            extensions.push((ffi::NID_ext_key_usage, usages.join(",")));
        }
        if !self.subject_alt_names.is_empty() {
            extensions.push((ffi::NID_subject_alt_name, self.san_config()?));
        }
        extensions.push((ffi::NID_subject_key_identifier, "hash".to_owned()));
        extensions.push((ffi::NID_authority_key_identifier, "keyid:always".to_owned()));

        let spec = CertSpec {
            common_name: &self.common_name,
            serial,
            not_before: self.not_before,
            not_after: self.not_after,
            extensions,
        };
        let ca = match self.issuer {
            Issuer::Intermediate => Some(&self.pki.intermediate),
            Issuer::Root => Some(&self.pki.root),
            Issuer::UntrustedRoot => Some(&self.pki.untrusted_root),
            Issuer::SelfSigned => None,
        };
        let signer = ca.map(CertificateAuthority::signer).transpose()?;
        let key = generate_key(self.key_type)?;
        let cert = issue(&spec, &key, signer.as_ref())?;

        let cert_pem = x509_to_pem(&cert)?;
        let mut chain_pem = cert_pem.clone();
        if self.issuer == Issuer::Intermediate {
            chain_pem.extend_from_slice(&self.pki.intermediate.cert_pem);
        }
        Ok(CertifiedKey {
            cert_pem,
            chain_pem,
            key_pem: key_to_pkcs8_pem(&key)?,
        })
    }

    /// The subjectAltName in OpenSSL config syntax: `DNS:a.example,IP:127.0.0.1,IP:::1`.
    fn san_config(&self) -> Result<String, Error> {
        let mut entries = Vec::with_capacity(self.subject_alt_names.len());
        for san in &self.subject_alt_names {
            match san {
                SubjectAltName::Dns(name) => {
                    // The config syntax has no escaping: keep to names it cannot misread.
                    let valid =
                        !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic() && b != b',');
                    if !valid {
                        return Err(Error::InvalidArgument(format!(
                            "DNS name {name:?} must be non-empty printable ASCII without \
                             spaces or commas"
                        )));
                    }
                    entries.push(format!("DNS:{name}"));
                }
                SubjectAltName::Ip(ip) => entries.push(format!("IP:{ip}")),
            }
        }
        Ok(entries.join(","))
    }
}

/// A leaf certificate with its private key, as PEM, ready to load into a TLS context.
#[derive(Clone, PartialEq, Eq)]
pub struct CertifiedKey {
    /// The leaf certificate alone, PEM.
    pub cert_pem: Vec<u8>,
    /// The leaf followed by the intermediate CA when the intermediate issued it (never the
    /// root): the chain a server (or client) sends. Equal to `cert_pem` for leaves issued by
    /// a root or self-signed.
    pub chain_pem: Vec<u8>,
    /// The private key, unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertifiedKey")
            .field("cert_pem", &String::from_utf8_lossy(&self.cert_pem))
            .field(
                "chain_pem",
                &format_args!("<{} bytes>", self.chain_pem.len()),
            )
            .field("key_pem", &format_args!("<redacted>"))
            .finish()
    }
}

impl CertifiedKey {
    /// The leaf certificate, DER.
    ///
    /// # Panics
    ///
    /// If `cert_pem` was replaced by something that is not a PEM certificate.
    pub fn cert_der(&self) -> Vec<u8> {
        x509_from_pem(&self.cert_pem)
            .and_then(|cert| x509_to_der(&cert))
            .unwrap_or_else(|e| panic!("CertifiedKey::cert_pem is not a PEM certificate: {e}"))
    }

    /// The private key, unencrypted PKCS#8 DER.
    ///
    /// # Panics
    ///
    /// If `key_pem` was replaced by something that is not an unencrypted PEM private key.
    pub fn key_der(&self) -> Vec<u8> {
        self.pkcs8_der()
            .unwrap_or_else(|e| panic!("CertifiedKey::key_pem is not a PEM private key: {e}"))
    }

    fn pkcs8_der(&self) -> Result<Vec<u8>, Error> {
        let key = key_from_pem(&self.key_pem)?;
        let bio = mem_bio()?;
        // SAFETY: `bio` and `key` are live; a null cipher means no encryption, so the null
        // password and absent callback are never used.
        cvt(unsafe {
            ffi::i2d_PKCS8PrivateKey_bio(
                bio.as_ptr(),
                key.as_ptr(),
                ptr::null(),
                ptr::null(),
                0,
                None,
                ptr::null_mut(),
            )
        })?;
        Ok(bio_contents(&bio))
    }

    /// The private key as PKCS#8 encrypted with AES-256-CBC under `password` (PBES2/PBKDF2),
    /// PEM (`-----BEGIN ENCRYPTED PRIVATE KEY-----`); `PEM_read_bio_PrivateKey` with the same
    /// password, or `openssl pkey -passin pass:...`, decrypts it. A fresh salt and IV are
    /// drawn on each call, so the output differs every time.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] if `password` is empty or contains a NUL byte (OpenSSL's
    /// default password handling could not read it back); [`Error::Ssl`] if OpenSSL fails.
    pub fn encrypted_key_pem(&self, password: &str) -> Result<Vec<u8>, Error> {
        if password.is_empty() || password.contains('\0') {
            return Err(Error::InvalidArgument(
                "the key password must be non-empty and contain no NUL byte".into(),
            ));
        }
        let len = c_int::try_from(password.len())
            .map_err(|_| Error::InvalidArgument("key password too long".into()))?;
        let key = key_from_pem(&self.key_pem)?;
        let bio = mem_bio()?;
        // SAFETY: `bio` and `key` are live; EVP_aes_256_cbc returns a static cipher; the
        // password is valid for `len` bytes (an explicit length, no NUL needed) and only read.
        cvt(unsafe {
            ffi::PEM_write_bio_PKCS8PrivateKey(
                bio.as_ptr(),
                key.as_ptr(),
                ffi::EVP_aes_256_cbc(),
                password.as_ptr().cast::<c_char>(),
                len,
                None,
                ptr::null_mut(),
            )
        })?;
        Ok(bio_contents(&bio))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::process::Command;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A file under the temp dir with a unique name, deleted on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(label: &str, contents: &[u8]) -> TempFile {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let path = std::env::temp_dir().join(format!(
                "sslbridge-pki-{}-{n}-{nanos}-{label}",
                std::process::id()
            ));
            std::fs::write(&path, contents).unwrap();
            TempFile(path)
        }

        /// The path as a command-line argument (the temp dir is UTF-8 here).
        fn arg(&self) -> &str {
            self.0.to_str().expect("non-UTF-8 temp dir")
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    /// Runs the `openssl` binary; returns whether it succeeded and its stdout + stderr.
    fn openssl(args: &[&str]) -> (bool, String) {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("the openssl command-line tool must be installed to run these tests");
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    /// `openssl verify -CAfile root -untrusted intermediate [extra..] leaf`.
    fn verify(pki: &TestPki, leaf: &CertifiedKey, extra: &[&str]) -> (bool, String) {
        let root = TempFile::new("root.pem", &pki.root_pem());
        let inter = TempFile::new("inter.pem", &pki.intermediate_pem());
        let cert = TempFile::new("leaf.pem", &leaf.cert_pem);
        let mut args = vec!["verify", "-CAfile", root.arg(), "-untrusted", inter.arg()];
        args.extend_from_slice(extra);
        args.push(cert.arg());
        openssl(&args)
    }

    /// `openssl x509 -noout <args> -in cert`.
    fn x509_text(pem: &[u8], args: &[&str]) -> String {
        let cert = TempFile::new("x509.pem", pem);
        let mut all = vec!["x509", "-noout"];
        all.extend_from_slice(args);
        all.extend(["-in", cert.arg()]);
        let (ok, text) = openssl(&all);
        assert!(ok, "openssl x509 failed: {text}");
        text
    }

    fn pem_count(pem: &[u8]) -> usize {
        String::from_utf8_lossy(pem)
            .matches("-----BEGIN CERTIFICATE-----")
            .count()
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn test_pki_is_send_sync() {
        fn check<T: Send + Sync + 'static>() {}
        check::<TestPki>();
        check::<CertifiedKey>();
        check::<LeafBuilder<'static>>();
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn server_certificate_verifies_with_chain_purpose_and_names() {
        let pki = TestPki::new().unwrap();
        let server = pki.server(&["localhost", "127.0.0.1", "::1"]).unwrap();
        let (ok, text) = verify(&pki, &server, &[]);
        assert!(ok && text.contains(": OK"), "{text}");
        let (ok, text) = verify(
            &pki,
            &server,
            &["-purpose", "sslserver", "-verify_hostname", "localhost"],
        );
        assert!(ok, "{text}");
        let (ok, text) = verify(&pki, &server, &["-verify_ip", "::1"]);
        assert!(ok, "{text}");
        let (ok, text) = verify(&pki, &server, &["-verify_hostname", "example.com"]);
        assert!(!ok && text.contains("hostname mismatch"), "{text}");

        assert!(server.cert_pem.starts_with(b"-----BEGIN CERTIFICATE-----"));
        assert!(server.chain_pem.starts_with(&server.cert_pem));
        assert!(server.chain_pem.ends_with(&pki.intermediate_pem()));
        assert_eq!(pem_count(&server.chain_pem), 2);
        assert!(server.key_pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));

        let text = x509_text(&server.cert_pem, &["-subject", "-issuer", "-text"]);
        assert!(text.contains("CN = localhost"), "{text}");
        assert!(text.contains("O = sslbridge test"), "{text}");
        assert!(
            text.contains("CN = sslbridge test intermediate CA"),
            "{text}"
        );
        assert!(text.contains("Version: 3 (0x2)"), "{text}");
        assert!(text.contains("ecdsa-with-SHA256"), "{text}");
        assert!(text.contains("prime256v1"), "{text}");
        assert!(text.contains("CA:FALSE"), "{text}");
        assert!(text.contains("Digital Signature"), "{text}");
        assert!(!text.contains("Key Encipherment"), "{text}");
        assert!(
            text.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
            "{text}"
        );
        assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
        assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn subject_alt_names_hold_dns_and_ip_entries() {
        let pki = TestPki::new().unwrap();
        let server = pki
            .server(&["localhost", "127.0.0.1", "::1", "*.example.com"])
            .unwrap();
        let text = x509_text(&server.cert_pem, &["-ext", "subjectAltName"]);
        assert!(text.contains("DNS:localhost"), "{text}");
        assert!(text.contains("IP Address:127.0.0.1"), "{text}");
        assert!(text.contains("IP Address:0:0:0:0:0:0:0:1"), "{text}");
        assert!(text.contains("DNS:*.example.com"), "{text}");
        assert!(!text.contains("DNS:127.0.0.1"), "{text}");

        let built = pki
            .leaf("x")
            .ip_address("fe80::1:2".parse().unwrap())
            .dns_name("a.example")
            .build()
            .unwrap();
        let text = x509_text(&built.cert_pem, &["-ext", "subjectAltName"]);
        assert!(text.contains("IP Address:FE80:0:0:0:0:0:1:2"), "{text}");
        assert!(text.contains("DNS:a.example"), "{text}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn expired_and_not_yet_valid_fail_verification() {
        let pki = TestPki::new().unwrap();
        let (ok, text) = verify(&pki, &pki.expired(&["localhost"]).unwrap(), &[]);
        assert!(!ok && text.contains("certificate has expired"), "{text}");
        let (ok, text) = verify(&pki, &pki.not_yet_valid(&["localhost"]).unwrap(), &[]);
        assert!(
            !ok && text.contains("certificate is not yet valid"),
            "{text}"
        );
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn untrusted_and_self_signed_fail_verification() {
        let pki = TestPki::new().unwrap();
        let untrusted = pki.untrusted(&["localhost"]).unwrap();
        assert_eq!(untrusted.chain_pem, untrusted.cert_pem);
        let (ok, text) = verify(&pki, &untrusted, &[]);
        assert!(!ok, "{text}");
        let text = x509_text(&untrusted.cert_pem, &["-issuer"]);
        assert!(text.contains("sslbridge untrusted root CA"), "{text}");
        // It does verify against its own root.
        let other = TestPki {
            root: pki.untrusted_root.clone(),
            ..pki.clone()
        };
        assert_eq!(other.root_pem(), pki.untrusted_root_pem());
        let (ok, text) = verify(&other, &untrusted, &[]);
        assert!(ok, "{text}");

        let self_signed = pki.self_signed(&["localhost"]).unwrap();
        assert_eq!(self_signed.chain_pem, self_signed.cert_pem);
        let (ok, text) = verify(&pki, &self_signed, &[]);
        assert!(!ok, "{text}");
        let text = x509_text(&self_signed.cert_pem, &["-subject", "-issuer", "-text"]);
        let subject = text.lines().find(|l| l.starts_with("subject=")).unwrap();
        let issuer = text.lines().find(|l| l.starts_with("issuer=")).unwrap();
        assert_eq!(subject["subject=".len()..], issuer["issuer=".len()..]);
        assert!(text.contains("CA:FALSE"), "{text}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn issued_by_root_verifies_and_sends_no_intermediate() {
        let pki = TestPki::new().unwrap();
        let leaf = pki.leaf("direct").issued_by_root().build().unwrap();
        assert_eq!(leaf.chain_pem, leaf.cert_pem);
        let (ok, text) = verify(&pki, &leaf, &[]);
        assert!(ok, "{text}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn client_and_without_server_auth_have_client_eku_only() {
        let pki = TestPki::new().unwrap();
        let client = pki.client("alice").unwrap();
        let text = x509_text(&client.cert_pem, &["-text"]);
        assert!(text.contains("TLS Web Client Authentication"), "{text}");
        assert!(!text.contains("TLS Web Server Authentication"), "{text}");
        assert!(!text.contains("Subject Alternative Name"), "{text}");
        assert!(verify(&pki, &client, &["-purpose", "sslclient"]).0);
        let (ok, text) = verify(&pki, &client, &["-purpose", "sslserver"]);
        assert!(
            !ok && text.contains("unsuitable certificate purpose"),
            "{text}"
        );

        let no_server = pki.without_server_auth(&["localhost"]).unwrap();
        let (ok, text) = verify(&pki, &no_server, &["-purpose", "sslserver"]);
        assert!(
            !ok && text.contains("unsuitable certificate purpose"),
            "{text}"
        );
        let text = x509_text(&no_server.cert_pem, &["-ext", "subjectAltName"]);
        assert!(text.contains("DNS:localhost"), "{text}");

        let any = pki.leaf("any").extended_key_usage(&[]).build().unwrap();
        let text = x509_text(&any.cert_pem, &["-text"]);
        assert!(!text.contains("Extended Key Usage"), "{text}");
        assert!(verify(&pki, &any, &["-purpose", "sslserver"]).0);
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn cn_only_has_no_subject_alt_name() {
        let pki = TestPki::new().unwrap();
        let leaf = pki.cn_only("legacy.example").unwrap();
        let text = x509_text(&leaf.cert_pem, &["-subject", "-text"]);
        assert!(text.contains("CN = legacy.example"), "{text}");
        assert!(!text.contains("Subject Alternative Name"), "{text}");
        assert!(verify(&pki, &leaf, &[]).0);
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn encrypted_key_decrypts_with_its_password_only() {
        let pki = TestPki::new().unwrap();
        let server = pki.server(&["localhost"]).unwrap();
        let encrypted = server.encrypted_key_pem("s3cret pass").unwrap();
        assert!(encrypted.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let file = TempFile::new("enc.pem", &encrypted);
        let path = file.arg();
        let (ok, text) = openssl(&["pkey", "-in", path, "-passin", "pass:s3cret pass"]);
        assert!(ok, "{text}");
        assert!(text.contains("-----BEGIN PRIVATE KEY-----"), "{text}");
        let (ok, _) = openssl(&["pkey", "-in", path, "-passin", "pass:wrong"]);
        assert!(!ok);
        let (ok, text) = openssl(&["asn1parse", "-in", path]);
        assert!(ok && text.contains("aes-256-cbc"), "{text}");

        // And in-process, with PEM_read_bio_PrivateKey and the password as user data.
        let password = CString::new("s3cret pass").unwrap();
        let key = with_read_bio(&encrypted, |bio| {
            // SAFETY: `bio` is live and `password` is a NUL-terminated string that outlives
            // the call; the default callback only reads it.
            Owned::new(
                unsafe {
                    ffi::PEM_read_bio_PrivateKey(
                        bio,
                        ptr::null_mut(),
                        None,
                        password.as_ptr().cast_mut().cast::<c_void>(),
                    )
                },
                ffi::EVP_PKEY_free,
            )
        })
        .unwrap();
        assert_eq!(key_to_pkcs8_pem(&key).unwrap(), server.key_pem);
        assert!(key_from_pem(&encrypted).is_err());

        assert!(matches!(
            server.encrypted_key_pem(""),
            Err(Error::InvalidArgument(_))
        ));
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn validity_after_2050_uses_generalized_time() {
        let pki = TestPki::new().unwrap();
        // 2051-06-01T00:00:00Z.
        let end = UNIX_EPOCH + Duration::from_secs(2_569_190_400);
        let leaf = pki
            .leaf("future")
            .validity(SystemTime::now() - DAY, end)
            .build()
            .unwrap();
        let text = x509_text(&leaf.cert_pem, &["-enddate"]);
        assert!(text.contains("notAfter=Jun  1 00:00:00 2051 GMT"), "{text}");
        let file = TempFile::new("future.pem", &leaf.cert_pem);
        let (ok, text) = openssl(&["asn1parse", "-in", file.arg()]);
        assert!(ok, "{text}");
        assert!(text.contains("GENERALIZEDTIME"), "{text}");
        assert!(text.contains("UTCTIME"), "{text}");
        assert!(verify(&pki, &leaf, &[]).0);
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn rsa_leaves_work() {
        let pki = TestPki::new().unwrap();
        let leaf = pki
            .leaf("rsa.example")
            .dns_name("rsa.example")
            .key_type(KeyType::Rsa2048)
            .build()
            .unwrap();
        let (ok, text) = verify(&pki, &leaf, &["-verify_hostname", "rsa.example"]);
        assert!(ok, "{text}");
        let text = x509_text(&leaf.cert_pem, &["-text"]);
        assert!(text.contains("rsaEncryption"), "{text}");
        assert!(text.contains("(2048 bit)"), "{text}");
        assert!(
            text.contains("Digital Signature, Key Encipherment"),
            "{text}"
        );
        assert!(text.contains("ecdsa-with-SHA256"), "{text}");
        assert!(leaf.key_pem.starts_with(b"-----BEGIN PRIVATE KEY-----"));
        let key = TempFile::new("rsa-key.pem", &leaf.key_pem);
        let (ok, text) = openssl(&["pkey", "-in", key.arg(), "-noout", "-text"]);
        assert!(ok && text.contains("Private-Key: (2048 bit"), "{text}");
        let encrypted = leaf.encrypted_key_pem("pw").unwrap();
        let file = TempFile::new("rsa-enc.pem", &encrypted);
        let (ok, text) = openssl(&["pkey", "-in", file.arg(), "-passin", "pass:pw", "-noout"]);
        assert!(ok, "{text}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn ca_certificates_have_the_documented_shape() {
        let pki = TestPki::new().unwrap();
        let root = x509_text(&pki.root_pem(), &["-subject", "-issuer", "-text"]);
        assert!(
            root.contains("subject=O = sslbridge test, CN = sslbridge test root CA"),
            "{root}"
        );
        assert!(
            root.contains("issuer=O = sslbridge test, CN = sslbridge test root CA"),
            "{root}"
        );
        assert!(
            root.contains("critical\n                CA:TRUE\n"),
            "{root}"
        );
        assert!(root.contains("Certificate Sign, CRL Sign"), "{root}");
        assert!(root.contains("X509v3 Subject Key Identifier"), "{root}");

        let inter = x509_text(&pki.intermediate_pem(), &["-subject", "-issuer", "-text"]);
        assert!(
            inter.contains("CN = sslbridge test intermediate CA"),
            "{inter}"
        );
        assert!(
            inter.contains("issuer=O = sslbridge test, CN = sslbridge test root CA"),
            "{inter}"
        );
        assert!(inter.contains("CA:TRUE, pathlen:0"), "{inter}");
        assert!(inter.contains("X509v3 Authority Key Identifier"), "{inter}");

        let untrusted = x509_text(&pki.untrusted_root_pem(), &["-subject"]);
        assert!(
            untrusted.contains("CN = sslbridge untrusted root CA"),
            "{untrusted}"
        );

        let dates = x509_text(&pki.root_pem(), &["-startdate", "-enddate"]);
        let year = |prefix: &str| -> u32 {
            let line = dates.lines().find(|l| l.starts_with(prefix)).unwrap();
            line.split_whitespace()
                .rev()
                .nth(1)
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(year("notAfter=") - year("notBefore=") >= 9, "{dates}");

        // The intermediate verifies against the root; the DER form matches the PEM.
        let root_file = TempFile::new("root.pem", &pki.root_pem());
        let inter_file = TempFile::new("inter.pem", &pki.intermediate_pem());
        let (ok, text) = openssl(&["verify", "-CAfile", root_file.arg(), inter_file.arg()]);
        assert!(ok, "{text}");
        let der = x509_to_der(&x509_from_pem(&pki.root_pem()).unwrap()).unwrap();
        assert_eq!(der, pki.root_der());
        assert_eq!(der[0], 0x30);
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn every_test_pki_is_fresh() {
        let a = TestPki::new().unwrap();
        let b = TestPki::new().unwrap();
        assert_ne!(a.root_der(), b.root_der());
        let leaf = b.server(&["localhost"]).unwrap();
        let (ok, text) = verify(&a, &leaf, &[]);
        assert!(!ok, "{text}");
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn serial_and_der_forms() {
        let pki = TestPki::new().unwrap();
        let leaf = pki
            .leaf("serial")
            .serial(0x1234_5678_9abc_def0)
            .build()
            .unwrap();
        let text = x509_text(&leaf.cert_pem, &["-serial"]);
        assert!(text.contains("serial=123456789ABCDEF0"), "{text}");
        let high = pki.leaf("high").serial(u64::MAX).build().unwrap();
        let text = x509_text(&high.cert_pem, &["-serial"]);
        assert!(text.contains("serial=FFFFFFFFFFFFFFFF"), "{text}");

        let cert_der = TempFile::new("cert.der", &leaf.cert_der());
        let (ok, text) = openssl(&[
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-subject",
            "-in",
            cert_der.arg(),
        ]);
        assert!(ok && text.contains("CN = serial"), "{text}");
        let key_der = TempFile::new("key.der", &leaf.key_der());
        let (ok, text) = openssl(&["pkey", "-inform", "DER", "-in", key_der.arg()]);
        assert!(ok && text.contains("-----BEGIN PRIVATE KEY-----"), "{text}");
        // PKCS#8: SEQUENCE { INTEGER 0, AlgorithmIdentifier { id-ecPublicKey ... } ... }.
        let key_der = leaf.key_der();
        assert_eq!(key_der[0], 0x30);
        let ec_oid = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        assert!(key_der.windows(ec_oid.len()).any(|w| w == ec_oid));
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn invalid_arguments_are_rejected() {
        let pki = TestPki::new().unwrap();
        let invalid = |r: Result<CertifiedKey, Error>| matches!(r, Err(Error::InvalidArgument(_)));
        assert!(invalid(pki.server(&[])));
        assert!(invalid(pki.expired(&[])));
        assert!(invalid(
            pki.leaf("x").dns_name("a,DNS:evil.example").build()
        ));
        assert!(invalid(pki.leaf("x").dns_name("").build()));
        assert!(invalid(pki.leaf("x").dns_name("has space").build()));
        assert!(invalid(pki.leaf("x").serial(0).build()));
        let now = SystemTime::now();
        assert!(invalid(pki.leaf("x").validity(now, now - DAY).build()));
        assert!(invalid(
            pki.leaf("x").validity(UNIX_EPOCH - DAY, now).build()
        ));
        // Too long for a CN (ub-common-name is 64): OpenSSL's own error comes through.
        let long = "a".repeat(65);
        assert!(matches!(pki.server(&[&long]), Err(Error::Ssl(_))));
    }

    #[test]
    #[cfg_attr(miri, ignore = "calls into OpenSSL")]
    fn usable_from_many_threads() {
        let pki = std::sync::Arc::new(TestPki::new().unwrap());
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let pki = pki.clone();
                std::thread::spawn(move || pki.server(&[&format!("host{i}.example")]).unwrap())
            })
            .collect();
        for handle in handles {
            let leaf = handle.join().unwrap();
            assert!(verify(&pki, &leaf, &[]).0);
        }
    }
}

//! The X509 verify result codes callers test for (`X509_V_OK`, `X509_V_ERR_*`), as found in
//! [`Error::Verify::code`](crate::Error::Verify) and passed to a
//! [`verify_callback`](crate::ContextBuilder::verify_callback). The values are OpenSSL's, taken
//! from the headers sslbridge was built against.
//!
//! ```
//! use sslbridge::{verify_code, Error};
//! fn explain(err: &Error) -> &'static str {
//!     match err {
//!         Error::Verify { code: verify_code::CERT_HAS_EXPIRED, .. } => "renew the certificate",
//!         Error::Verify { code: verify_code::UNABLE_TO_GET_ISSUER_CERT_LOCALLY, .. } => {
//!             "trust the issuing CA, or send the intermediate"
//!         }
//!         _ => "see the error message",
//!     }
//! }
//! # assert_eq!(verify_code::CERT_HAS_EXPIRED, 10);
//! # let _ = explain;
//! ```

/// The certificate verified. (`X509_V_OK`)
pub const OK: i32 = openssl_sys::X509_V_OK;

/// An unspecified error. (`X509_V_ERR_UNSPECIFIED`)
pub const UNSPECIFIED: i32 = openssl_sys::X509_V_ERR_UNSPECIFIED;

/// The issuer of a certificate in the chain could not be found. (`X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT`)
pub const UNABLE_TO_GET_ISSUER_CERT: i32 = openssl_sys::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT;

/// A CRL needed for the check was not found. (`X509_V_ERR_UNABLE_TO_GET_CRL`)
pub const UNABLE_TO_GET_CRL: i32 = openssl_sys::X509_V_ERR_UNABLE_TO_GET_CRL;

/// A certificate's signature is invalid. (`X509_V_ERR_CERT_SIGNATURE_FAILURE`)
pub const CERT_SIGNATURE_FAILURE: i32 = openssl_sys::X509_V_ERR_CERT_SIGNATURE_FAILURE;

/// A certificate is not valid yet (its notBefore is in the future). (`X509_V_ERR_CERT_NOT_YET_VALID`)
pub const CERT_NOT_YET_VALID: i32 = openssl_sys::X509_V_ERR_CERT_NOT_YET_VALID;

/// A certificate has expired. (`X509_V_ERR_CERT_HAS_EXPIRED`)
pub const CERT_HAS_EXPIRED: i32 = openssl_sys::X509_V_ERR_CERT_HAS_EXPIRED;

/// A certificate's notBefore field is malformed. (`X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD`)
pub const ERROR_IN_CERT_NOT_BEFORE_FIELD: i32 =
    openssl_sys::X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD;

/// A certificate's notAfter field is malformed. (`X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD`)
pub const ERROR_IN_CERT_NOT_AFTER_FIELD: i32 =
    openssl_sys::X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD;

/// The peer's own certificate is self-signed and not trusted. (`X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT`)
pub const DEPTH_ZERO_SELF_SIGNED_CERT: i32 = openssl_sys::X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT;

/// The chain ends in a self-signed root that is not trusted. (`X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN`)
pub const SELF_SIGNED_CERT_IN_CHAIN: i32 = openssl_sys::X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;

/// The issuer of a certificate is not among the trusted certificates (an unknown CA, or a missing intermediate). (`X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY`)
pub const UNABLE_TO_GET_ISSUER_CERT_LOCALLY: i32 =
    openssl_sys::X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;

/// The chain is a single certificate that is not self-signed and whose issuer is unknown. (`X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE`)
pub const UNABLE_TO_VERIFY_LEAF_SIGNATURE: i32 =
    openssl_sys::X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;

/// The chain is longer than the verify depth allows. (`X509_V_ERR_CERT_CHAIN_TOO_LONG`)
pub const CERT_CHAIN_TOO_LONG: i32 = openssl_sys::X509_V_ERR_CERT_CHAIN_TOO_LONG;

/// A certificate has been revoked. (`X509_V_ERR_CERT_REVOKED`)
pub const CERT_REVOKED: i32 = openssl_sys::X509_V_ERR_CERT_REVOKED;

/// A CA certificate is invalid (not a CA, or its extensions forbid the use). (`X509_V_ERR_INVALID_CA`)
pub const INVALID_CA: i32 = openssl_sys::X509_V_ERR_INVALID_CA;

/// A CA's pathLenConstraint was exceeded. (`X509_V_ERR_PATH_LENGTH_EXCEEDED`)
pub const PATH_LENGTH_EXCEEDED: i32 = openssl_sys::X509_V_ERR_PATH_LENGTH_EXCEEDED;

/// A certificate may not be used for this purpose (e.g. a server certificate without serverAuth). (`X509_V_ERR_INVALID_PURPOSE`)
pub const INVALID_PURPOSE: i32 = openssl_sys::X509_V_ERR_INVALID_PURPOSE;

/// The root is not trusted for this purpose. (`X509_V_ERR_CERT_UNTRUSTED`)
pub const CERT_UNTRUSTED: i32 = openssl_sys::X509_V_ERR_CERT_UNTRUSTED;

/// The root is marked to reject this purpose. (`X509_V_ERR_CERT_REJECTED`)
pub const CERT_REJECTED: i32 = openssl_sys::X509_V_ERR_CERT_REJECTED;

/// An issuer's key usage does not allow signing certificates. (`X509_V_ERR_KEYUSAGE_NO_CERTSIGN`)
pub const KEYUSAGE_NO_CERTSIGN: i32 = openssl_sys::X509_V_ERR_KEYUSAGE_NO_CERTSIGN;

/// A certificate has a critical extension OpenSSL does not understand. (`X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION`)
pub const UNHANDLED_CRITICAL_EXTENSION: i32 = openssl_sys::X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION;

/// A non-CA certificate was used as a CA. (`X509_V_ERR_INVALID_NON_CA`)
pub const INVALID_NON_CA: i32 = openssl_sys::X509_V_ERR_INVALID_NON_CA;

/// A verify callback rejected a chain that OpenSSL accepted. (`X509_V_ERR_APPLICATION_VERIFICATION`)
pub const APPLICATION_VERIFICATION: i32 = openssl_sys::X509_V_ERR_APPLICATION_VERIFICATION;

/// The certificate does not match the host name. (`X509_V_ERR_HOSTNAME_MISMATCH`)
pub const HOSTNAME_MISMATCH: i32 = openssl_sys::X509_V_ERR_HOSTNAME_MISMATCH;

/// The certificate does not match the e-mail address. (`X509_V_ERR_EMAIL_MISMATCH`)
pub const EMAIL_MISMATCH: i32 = openssl_sys::X509_V_ERR_EMAIL_MISMATCH;

/// The certificate does not match the IP address. (`X509_V_ERR_IP_ADDRESS_MISMATCH`)
pub const IP_ADDRESS_MISMATCH: i32 = openssl_sys::X509_V_ERR_IP_ADDRESS_MISMATCH;

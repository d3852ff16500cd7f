//! Leaf certificates: [`LeafBuilder`] (what [`TestPki::leaf`] returns) and the
//! [`ExtendedKeyUsage`] purposes it sets. Building one generates the key ([`super::keys`])
//! and issues the certificate ([`super::issue`]) from the CA the builder names.

use std::net::IpAddr;
use std::time::SystemTime;

use openssl_sys as ffi;

use super::issue::{issue, random_serial, CertSpec, CertificateAuthority, DAY};
use super::keys::{generate_key, pkcs8_pem, KeyType};
use super::{CertifiedKey, TestPki};
use crate::error::Error;

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
    /// The defaults documented on [`TestPki::leaf`].
    pub(super) fn new<'a>(pki: &'a TestPki, common_name: &str) -> LeafBuilder<'a> {
        let not_before = SystemTime::now() - DAY;
        LeafBuilder {
            pki,
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

        let cert_pem = cert.to_pem()?;
        let mut chain_pem = cert_pem.clone();
        if self.issuer == Issuer::Intermediate {
            chain_pem.extend_from_slice(&self.pki.intermediate.cert_pem);
        }
        Ok(CertifiedKey {
            cert_pem,
            chain_pem,
            key_pem: pkcs8_pem(&key)?,
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

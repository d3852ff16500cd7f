//! `ContextBuilder::build`: loads what the settings name (files, PEM, keys), creates the
//! `SSL_CTX`, applies everything, and records the settings as loaded objects for
//! [`Context::to_builder`].

use super::builder::{ChainSource, KeySource, Password};
use super::{Context, ContextBuilder, ContextExtras, Method, EXTRAS};
use crate::credentials::{self, with_path, Target};
use crate::error::{cvt, cvt_p, Error};
use crate::util::c_str;
use foreign_types::ForeignType;
use std::os::raw::c_int;

impl ContextBuilder {
    /// Loads the certificates, keys and trust the settings name, creates the `SSL_CTX` and
    /// applies every setting, reporting the first that fails.
    ///
    /// The new context records what it loaded (see [`Context::to_builder`]). Key PEM text
    /// and a password held by this builder are wiped when it is dropped, here.
    #[doc(alias = "SSL_CTX_new")]
    #[doc(alias = "make-context")]
    pub fn build(mut self) -> Result<Context, Error> {
        crate::init::ensure_initialized();
        let _queue = crate::error::QueueScope::enter();

        // Everything that reads files or decodes data first, before the SSL_CTX exists.
        let password = std::mem::take(&mut self.password);
        let decrypt = password.callback();
        let chain = match self.chain.take() {
            Some(ChainSource::File(path)) => {
                Some((credentials::load_chain_file(&path)?, Some(path)))
            }
            Some(ChainSource::Pem(pem)) => Some((credentials::load_chain(&pem)?, None)),
            Some(ChainSource::Loaded(chain)) => Some((chain, None)),
            None => None,
        };
        let key = match self.key.take() {
            Some(KeySource::File(path)) => Some((
                credentials::load_private_key_file(&path, decrypt.as_deref())?,
                Some(path),
            )),
            Some(KeySource::Pem(pem)) => Some((
                credentials::load_private_key(&pem, decrypt.as_deref())?,
                None,
            )),
            Some(KeySource::Loaded(key)) => Some((key, None)),
            None => None,
        };

        // SAFETY: the method functions return static tables.
        let method = unsafe {
            match self.method {
                Method::Generic => openssl_sys::TLS_method(),
                Method::Client => openssl_sys::TLS_client_method(),
                Method::Server => openssl_sys::TLS_server_method(),
            }
        };
        // SAFETY: SSL_CTX_new returns an owned context or null.
        let ctx = unsafe { Context::from_ptr(cvt_p(openssl_sys::SSL_CTX_new(method))?) };
        let raw = ctx.as_ptr();

        // SAFETY: `raw` is the live SSL_CTX owned by `ctx`, which no other thread can reach
        // yet; every string passed is a CString that outlives its call.
        let trust = unsafe {
            if let Some(v) = self.min_version {
                cvt(openssl_sys::SSL_CTX_set_min_proto_version(raw, v.to_raw()))?;
            }
            if let Some(v) = self.max_version {
                cvt(openssl_sys::SSL_CTX_set_max_proto_version(raw, v.to_raw()))?;
            }
            let disabled = self
                .disabled
                .iter()
                .fold(0u64, |acc, p| acc | p.disable_option());
            openssl_sys::SSL_CTX_set_options(raw, (self.options.bits() | disabled) as _);
            openssl_sys::SSL_CTX_set_session_cache_mode(raw, self.session_cache_mode.bits());
            // Servers that cache sessions and verify clients need a session id context, or
            // resumption fails with "session id context uninitialized".
            let sid = b"sslbridge";
            cvt(openssl_sys::SSL_CTX_set_session_id_context(
                raw,
                sid.as_ptr(),
                sid.len() as _,
            ))?;

            let trust = self.trust.apply(raw)?;
            openssl_sys::SSL_CTX_set_verify_depth(
                raw,
                c_int::try_from(self.verify_depth).unwrap_or(c_int::MAX),
            );
            openssl_sys::SSL_CTX_set_verify(raw, self.verify_mode.bits(), None);
            openssl_sys::SSL_CTX_set_tlsext_servername_callback__fixed_rust(
                raw,
                Some(crate::callbacks::servername_trampoline),
            );
            if self.keylog.is_some() {
                openssl_sys::SSL_CTX_set_keylog_callback(
                    raw,
                    Some(crate::callbacks::keylog_trampoline),
                );
            }
            openssl_sys::SSL_CTX_set_alpn_select_cb__fixed_rust(
                raw,
                Some(crate::callbacks::alpn_select_trampoline),
                std::ptr::null_mut(),
            );

            if let Some(list) = &self.cipher_list {
                let list = c_str(list, "cipher list")?;
                cvt(openssl_sys::SSL_CTX_set_cipher_list(raw, list.as_ptr()))?;
            }
            if let Some(suites) = &self.ciphersuites {
                let suites = c_str(suites, "ciphersuites")?;
                cvt(openssl_sys::SSL_CTX_set_ciphersuites(raw, suites.as_ptr()))?;
            }
            if let Some(groups) = &self.groups {
                let groups = c_str(groups, "groups")?;
                cvt(openssl_sys::SSL_CTX_set1_groups_list(raw, groups.as_ptr()) as c_int)?;
            }
            trust
        };

        let target = Target::Context(raw);
        let named = |e: Error, path: &Option<std::path::PathBuf>| match path {
            Some(path) => with_path(e, path),
            None => e,
        };
        if let Some((chain, path)) = &chain {
            target.use_chain(chain).map_err(|e| named(e, path))?;
        }
        if let Some((key, path)) = &key {
            target.use_key(key).map_err(|e| named(e, path))?;
        }

        // What to_builder() gives back: every source as loaded objects, no key PEM and no
        // password; a password callback is a setting and stays.
        let settings = ContextBuilder {
            trust,
            chain: chain.map(|(chain, _)| ChainSource::Loaded(chain)),
            key: key.map(|(key, _)| KeySource::Loaded(key)),
            password: match &password {
                Password::Callback(callback) => Password::Callback(callback.clone()),
                Password::None | Password::Fixed(_) => Password::None,
            },
            ..self
        };
        let extras = ContextExtras {
            verify_callback: settings.verify_callback.clone(),
            // A fixed password stays here only, in wiped-on-drop memory, for stream keys.
            password_callback: decrypt,
            keylog: settings.keylog.clone(),
            settings,
        };
        // SAFETY: raw is live and its slot still empty; the SSL_CTX owns the extras from here
        // and drops them when it is freed.
        unsafe { EXTRAS.set_owned(raw, extras)? };
        Ok(ctx)
    }
}

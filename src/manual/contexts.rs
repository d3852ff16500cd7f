//! # Contexts
//!
//! A [`Context`](crate::Context) is an OpenSSL `SSL_CTX`: the settings many connections
//! share. Protocol versions, cipher suites and groups, trusted CAs, a certificate and key,
//! callbacks (verify, password, key log), and the session cache with its ticket keys. Build one
//! with [`Context::builder`](crate::Context::builder) (every cl+ssl `make-context` keyword is
//! a [`ContextBuilder`](crate::ContextBuilder) method; see [the mapping](super::cl_plus_ssl)),
//! then hand it to each connection with
//! [`ClientOptions::context`](crate::ClientOptions::context) or
//! [`ServerOptions::context`](crate::ServerOptions::context). Cloning is a reference count,
//! and a context is `Send + Sync`: build one and share it among threads, rather than one per
//! connection (a server that does so also gets session resumption).
//!
//! What the options set for one stream (certificate and key, ALPN, cipher list, verify mode,
//! [`Verify`](crate::Verify) for clients) applies on top of the context, to that stream only.
//!
//! Private key text and passwords are held in memory that is wiped when the builder and the
//! context are dropped. [`private_key_password`](crate::ContextBuilder::private_key_password)
//! decrypts encrypted keys; [`pem_password_callback`](crate::ContextBuilder::pem_password_callback)
//! asks your code instead.
//!
//! ## A context never changes
//!
//! OpenSSL forbids changing an `SSL_CTX` that connections are being made from, so a built
//! context has no method that changes it. To change anything (a renewed certificate, a new
//! CA), build a new context from the old one's settings with
//! [`Context::to_builder`](crate::Context::to_builder), which gives back everything the
//! context was built with, as loaded: certificates, key, trust (OpenSSL's default paths made
//! explicit) and callbacks. New connections use the new context; connections made from the
//! old one keep it, untouched, for as long as they live.
//!
//! ```
//! use sslbridge::{ClientOptions, Context, Digest, ServerOptions};
//!
//! let pki = sslbridge::testing::TestPki::new()?;
//! let (old, renewed) = (pki.server(&["localhost"])?, pki.server(&["localhost"])?);
//! let serving = Context::builder()
//!     .certificate_chain_pem(&old.chain_pem)
//!     .private_key_pem(&old.key_pem)
//!     .build()?;
//!
//! // The certificate was renewed: same settings, new certificate and key.
//! let serving = serving
//!     .to_builder()
//!     .certificate_chain_pem(&renewed.chain_pem)
//!     .private_key_pem(&renewed.key_pem)
//!     .build()?;
//!
//! // The next connection presents the new certificate.
//! # let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//! let server_ctx = serving.clone();
//! let server = std::thread::spawn(move || ServerOptions::new().context(server_ctx).accept(server_end)?.close());
//! let tls = ClientOptions::new().hostname("localhost").context(trust).connect(client_end)?;
//! let presented = tls.peer_certificate().unwrap().fingerprint(Digest::Sha256);
//! let expected = sslbridge::Certificate::from_pem(&renewed.cert_pem)?.fingerprint(Digest::Sha256);
//! assert_eq!(presented, expected);
//! # server.join().unwrap()?;
//! # drop(tls);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A rebuilt context has a session cache and ticket keys of its own: sessions made with the
//! old context do not resume on the new one (clients simply make a full handshake). Trust
//! read from files is recorded when the context is built, so a rebuild keeps it even if the
//! file has changed; a hashed CA directory ([`VerifyLocation::Dir`](crate::VerifyLocation::Dir))
//! is read when verifying, so its current contents always count.
//!
//! ## The global context
//!
//! A stream made without [`context(..)`](crate::ClientOptions::context) uses the global
//! context, cl+ssl's `*ssl-global-context*`: [`global_context`](crate::global_context)
//! returns it, creating it on first use (OpenSSL's default verify paths, server session cache
//! on). [`with_global_context(&ctx, f)`](crate::with_global_context) makes `ctx` this
//! thread's global context while `f` runs (scopes nest).
//!
//! ```
//! use sslbridge::{with_global_context, ClientOptions, Context, ServerOptions};
//!
//! # let pki = sslbridge::testing::TestPki::new()?;
//! # let key = pki.server(&["localhost"])?;
//! let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//! let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//! # let server = std::thread::spawn(move || {
//! #     ServerOptions::new().certificate_chain_pem(&key.chain_pem).private_key_pem(&key.key_pem)
//! #         .accept(server_end).map(drop)
//! # });
//! // Every stream made inside the closure, on this thread, trusts `trust`'s roots.
//! let tls = with_global_context(&trust, || {
//!     ClientOptions::new().hostname("localhost").connect(client_end)
//! })?;
//! # server.join().unwrap()?;
//! # drop(tls);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The global functions change what the global context holds the only way a context can
//! change: each builds a new context from the current one's settings and swaps it in
//! atomically (concurrent updates are applied one after the other, none is lost; on an error
//! nothing changes). Streams made before keep the context they were made with.
//!
//! - [`use_certificate_chain_file(path)`](crate::use_certificate_chain_file): servers without
//!   a certificate of their own present this chain from now on;
//! - [`load_global_verify_locations(&[..])`](crate::load_global_verify_locations): also trust
//!   these CA files or directories;
//! - [`set_global_default_verify_paths()`](crate::set_global_default_verify_paths): also
//!   trust OpenSSL's default CA file and directory.
//!
//! Inside [`with_global_context`](crate::with_global_context) they replace the scope's
//! context, on this thread, never the `ctx` you passed.

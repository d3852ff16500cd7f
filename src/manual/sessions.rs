//! # Sessions
//!
//! A client that has talked to a server before can resume the TLS session instead of running
//! a full handshake: no certificate exchange, no signature, and on TLS 1.2 no new key
//! agreement, so the handshake is cheaper and faster. (cl+ssl has no session reuse.)
//!
//! - [`SslStream::session`](crate::SslStream::session) returns the connection's
//!   [`Session`](crate::Session) when it can be resumed (a TLS 1.2 session ID or ticket, a
//!   TLS 1.3 ticket). **In TLS 1.3 the server sends its tickets after the handshake**, so a
//!   client has one only once it has read something from the server.
//! - [`ClientOptions::session`](crate::ClientOptions::session) offers it on a later
//!   connection. The server decides; [`SslStream::session_reused`](crate::SslStream::session_reused)
//!   tells, on either side, whether it did.
//! - [`to_der`](crate::SessionRef::to_der) and [`Session::from_der`](crate::Session::from_der)
//!   store a session and load it back, across processes. A session holds secret keys: keep
//!   stored sessions as safe as a private key.
//!
//! ```
//! use std::io::{Read, Write};
//! use sslbridge::{ClientOptions, Context, Error, ServerOptions, Session};
//!
//! let pki = sslbridge::testing::TestPki::new()?;
//! let key = pki.server(&["localhost"])?;
//! // One server context for every connection: it holds the session cache and ticket keys.
//! let server_ctx = Context::builder()
//!     .certificate_chain_pem(&key.chain_pem)
//!     .private_key_pem(&key.key_pem)
//!     .build()?;
//! let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
//!
//! /// One connection: returns the session to keep and whether this one was resumed.
//! fn visit(server_ctx: &Context, trust: &Context, session: Option<Session>) -> Result<(Session, bool), Error> {
//!     let (client_end, server_end) = sslbridge::duplex(64 * 1024);
//!     let server_ctx = server_ctx.clone();
//!     let server = std::thread::spawn(move || -> Result<(), Error> {
//!         let mut tls = ServerOptions::new().context(server_ctx).accept(server_end)?;
//!         tls.write_all(b"hello")?;
//!         tls.close()
//!     });
//!     let mut options = ClientOptions::new().hostname("localhost").context(trust.clone());
//!     if let Some(session) = session {
//!         options = options.session(session);
//!     }
//!     let mut tls = options.connect(client_end)?;
//!     let mut greeting = Vec::new();
//!     tls.read_to_end(&mut greeting)?; // reading also receives the TLS 1.3 tickets
//!     let reused = tls.session_reused();
//!     let session = tls.session().expect("a resumable session");
//!     tls.close()?;
//!     server.join().unwrap()?;
//!     Ok((session, reused))
//! }
//!
//! let (session, reused) = visit(&server_ctx, &trust, None)?;
//! assert!(!reused);
//! let stored: Vec<u8> = session.to_der(); // e.g. written to disk
//! let (_, reused) = visit(&server_ctx, &trust, Some(Session::from_der(&stored)?))?;
//! assert!(reused);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## What a resumed session checks
//!
//! A resumed handshake exchanges no certificates, so OpenSSL verifies nothing. sslbridge
//! checks what the session recorded instead: a verifying client accepts a resumed session
//! only if its chain verified when it was made, and if the certificate it recorded matches
//! this connection's hostname. A session from an unverified connection, or from another host,
//! never slips past [`Verify::Required`](crate::Verify::Required).
//!
//! ## On the server, and across restarts
//!
//! Resumption needs the same server [`Context`](crate::Context): it holds the session cache
//! ([`SessionCacheMode`](crate::SessionCacheMode), server-side by default) and the keys that
//! encrypt tickets. Share one context among connections. A context rebuilt with
//! [`to_builder`](crate::Context::to_builder) (or swapped in by a global function) has a new
//! cache and new ticket keys: sessions made before do not resume on it, and clients simply
//! make a full handshake. The same holds for a restarted server process.
//!
//! OpenSSL forgets the session of a connection that is freed without a clean shutdown. So
//! that a client which drops its stream after a clean exchange can still resume, `Drop` of a
//! stream that saw no error marks it as shut down (without sending or blocking); a stream
//! that failed keeps OpenSSL's behaviour, and its session is not resumed.

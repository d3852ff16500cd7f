//! # Coming from cl+ssl
//!
//! sslbridge keeps cl+ssl's model (streams made from options over any transport, a global
//! context, verification on by default) and most of its names, in Rust's spelling: the
//! table below finds the sslbridge name for each cl+ssl function and keyword.
//!
//! ## The mapping
//!
//! | cl+ssl | sslbridge |
//! | --- | --- |
//! | `make-ssl-client-stream stream :hostname :verify …` | [`ClientOptions::new()`](crate::ClientOptions::new)`.hostname(..).verify(..).connect(transport)` |
//! | `make-ssl-server-stream stream :certificate :key :password` | [`ServerOptions::new()`](crate::ServerOptions::new)`.certificate_file(..).private_key_file(..).password(..).accept(transport)` |
//! | `:close-callback`, `:unwrap-stream-p`, `:input-buffer-size`, `:output-buffer-size`, `:cipher-list`, `:alpn-protocols` | [`.on_close(f)`](crate::ClientOptions::on_close), [`.unwrap_fd(bool)`](crate::ClientOptions::unwrap_fd), [`.input_buffer_size(n)`](crate::ClientOptions::input_buffer_size), [`.output_buffer_size(n)`](crate::ClientOptions::output_buffer_size), [`.cipher_list(..)`](crate::ClientOptions::cipher_list), [`.alpn_protocols(..)`](crate::ClientOptions::alpn_protocols) |
//! | a stream over an fd number | [`connect_fd`](crate::ClientOptions::connect_fd) / [`accept_fd`](crate::ServerOptions::accept_fd) with an `OwnedFd` or `BorrowedFd`, or `unsafe` [`Descriptor::borrow_raw(fd)`](crate::Descriptor::borrow_raw) |
//! | `make-context :method :disabled-protocols :min-version :max-version :options :session-cache-mode :verify-location :verify-depth :verify-mode :verify-callback :cipher-list :pem-password-callback :certificate-chain-file :private-key-file :private-key-password` | [`Context::builder()`](crate::Context::builder)`.method(..).disabled_protocols(..).min_protocol_version(..).max_protocol_version(..).options(..).session_cache_mode(..).verify_location(..).verify_depth(..).verify_mode(..).verify_callback(..).cipher_list(..).pem_password_callback(..).certificate_chain_file(..).private_key_file(..).private_key_password(..).build()` |
//! | `*ssl-global-context*`, `with-global-context` | [`global_context()`](crate::global_context), [`with_global_context(&ctx, \|\| …)`](crate::with_global_context) |
//! | `use-certificate-chain-file` | [`use_certificate_chain_file(path)`](crate::use_certificate_chain_file) (swaps in a new global context: [contexts](super::contexts)) |
//! | `ssl-load-global-verify-locations`, `ssl-set-global-default-verify-paths` | [`load_global_verify_locations(&[..])`](crate::load_global_verify_locations), [`set_global_default_verify_paths()`](crate::set_global_default_verify_paths) (likewise) |
//! | (changing a context's certificates) | [`ctx.to_builder()`](crate::Context::to_builder)`.certificate_chain_file(new).build()?`: a new context; the old one never changes |
//! | `*make-ssl-client-stream-verify-default*` | [`client_verify_default()`](crate::client_verify_default), [`set_client_verify_default(..)`](crate::set_client_verify_default) |
//! | `ensure-initialized :rand-seed` | [`ensure_initialized()`](crate::ensure_initialized), [`ensure_initialized_with_seed(&seed)`](crate::ensure_initialized_with_seed) |
//! | `random-bytes` | [`random_bytes(n)`](crate::random_bytes) |
//! | `stream-fd` | [`stream_fd(&transport)`](crate::stream_fd) |
//! | `ssl-stream-x509-certificate` | [`SslStream::peer_certificate()`](crate::SslStream::peer_certificate) |
//! | `get-selected-alpn-protocol` | [`SslStream::selected_alpn_protocol()`](crate::SslStream::selected_alpn_protocol) |
//! | `decode-certificate-from-file` | [`Certificate::from_file`](crate::Certificate::from_file) (also reads PEM, which cl+ssl's fails on) |
//! | `certificate-subject-common-names`, `certificate-dns-alt-names`, `certificate-ip-addresses` | [`subject_common_names()`](crate::CertificateRef::subject_common_names), [`dns_names()`](crate::CertificateRef::dns_names), [`ip_addresses()`](crate::CertificateRef::ip_addresses) |
//! | `certificate-not-before-time`, `certificate-not-after-time`, `certificate-fingerprint` | [`not_before()`](crate::CertificateRef::not_before), [`not_after()`](crate::CertificateRef::not_after), [`fingerprint(Digest)`](crate::CertificateRef::fingerprint) |
//! | `verify-hostname` | [`verify_hostname(&cert, host)`](crate::verify_hostname) |
//! | (session reuse: missing in cl+ssl) | [`SslStream::session()`](crate::SslStream::session), [`ClientOptions::session(..)`](crate::ClientOptions::session) ([sessions](super::sessions)) |
//!
//! ## Where sslbridge behaves differently, on purpose
//!
//! - **A verifying client needs a hostname.** cl+ssl verifies only the chain when
//!   `:hostname` is nil; sslbridge refuses to start (`Error::InvalidArgument`) unless you ask
//!   for that explicitly with [`verify_hostname(false)`](crate::ClientOptions::verify_hostname).
//! - **The client's `Verify` decides.** `Verify::None` really connects to a self-signed
//!   server; in cl+ssl a context with verify-peer still aborted the handshake.
//! - **Servers ask for no client certificate by default.** A context's verify mode defaults
//!   to OpenSSL's `NONE`, not `make-context`'s `PEER`, which made every server ask every
//!   client (browsers showed a certificate picker, and clients offering an unrelated
//!   certificate were rejected). Ask for one with `verify_mode`
//!   ([verification](super::verification#client-certificates-mutual-tls)).
//! - **No partial wildcards.** `f*.example.com` and `*foo.example.com` match nothing
//!   (RFC 9525); cl+ssl accepts them.
//! - **Contexts are never changed.** The global functions build and swap in a new context
//!   instead of changing the one connections are using ([contexts](super::contexts)).
//! - **Honest end of stream.** A transport EOF without close_notify is an error
//!   (`UnexpectedEof`), not a clean end ([errors](super::errors)).

//! Building a stream: the `SSL`, its connection state and BIOs, and the settings of each
//! side. [`ClientOptions`](crate::ClientOptions) and [`ServerOptions`](crate::ServerOptions)
//! collect what is asked for and hand it here.

use super::connection::{AlpnCallback, Connection, ServerChoices, SniCallback, CONNECTION};
use super::{CloseCallback, IoMode, SharedWithOpenSsl, SslStream, StreamParts};
use crate::bio::{install_transport, BioState, DEFAULT_READ_AHEAD};
use crate::callbacks::{alpn_wire, message_trampoline, verify_trampoline};
use crate::context::global::global_context;
use crate::context::{Context, ContextRef, SslOptions, VerifyMode};
use crate::credentials::{PasswordCallback, Target};
use crate::error::{cvt, cvt_p, Error, ErrorStack, QueueScope, Side};
use crate::session::Session;
use crate::transport::Transport;
use crate::util::c_str;
use foreign_types::ForeignType;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Default size of the plaintext buffer behind `BufRead`.
const DEFAULT_INPUT_BUFFER: usize = 16 * 1024;

/// What clients and servers configure alike.
#[derive(Default)]
pub(crate) struct Common {
    pub(crate) context: Option<Context>,
    pub(crate) alpn: Vec<String>,
    pub(crate) chain: Option<Source>,
    pub(crate) key: Option<Source>,
    /// Wiped when the options (and the stream set-up) are done with it.
    pub(crate) password: Option<Zeroizing<Vec<u8>>>,
    pub(crate) cipher_list: Option<String>,
    pub(crate) on_close: Option<CloseCallback>,
    pub(crate) input_buffer_size: Option<usize>,
    pub(crate) output_buffer_size: usize,
    pub(crate) read_ahead: Option<usize>,
    pub(crate) ignore_unexpected_eof: bool,
    /// `None` means the default: use the fd fast path when the transport has descriptors.
    pub(crate) unwrap_fd: Option<bool>,
    /// `None` means the default: OpenSSL reads ahead on the fd fast path.
    pub(crate) fd_read_ahead: Option<bool>,
    pub(crate) timeout: Option<Duration>,
    /// `None` means the default: release idle buffers.
    pub(crate) release_buffers: Option<bool>,
}

/// Where a certificate chain or key comes from.
pub(crate) enum Source {
    File(PathBuf),
    /// Key PEM is wiped when dropped; certificate PEM is public anyway.
    Pem(Zeroizing<Vec<u8>>),
}

/// What only a client configures, decided by [`ClientOptions`](crate::ClientOptions).
pub(crate) struct ClientSide {
    /// Sent as SNI when it is a DNS name.
    pub(crate) hostname: Option<String>,
    /// Verify the server's certificate (chain, and name when `check_hostname` is set).
    pub(crate) verify_server: bool,
    /// Fail when the server presents no certificate.
    pub(crate) require_certificate: bool,
    /// The name to check the certificate against.
    pub(crate) check_hostname: Option<String>,
    pub(crate) session: Option<Session>,
}

/// What only a server configures, decided by [`ServerOptions`](crate::ServerOptions).
#[derive(Default)]
pub(crate) struct ServerSide {
    pub(crate) verify_mode: Option<VerifyMode>,
    pub(crate) alpn_select: Option<Arc<AlpnCallback>>,
    pub(crate) alpn_required: bool,
    pub(crate) sni_callback: Option<Arc<SniCallback>>,
}

/// A client stream over `transport`, set up without any I/O.
pub(crate) fn client<T: Transport>(
    common: Common,
    side: ClientSide,
    transport: T,
) -> Result<SslStream<T>, Error> {
    let mut stream = build_stream(common, transport, Side::Client, side.require_certificate)?;
    let ssl = stream.as_ptr();
    // SAFETY: ssl is the stream's live SSL; strings outlive the calls.
    unsafe {
        openssl_sys::SSL_set_connect_state(ssl);
        if let Some(host) = side.hostname.as_deref() {
            let is_ip = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok();
            if !is_ip {
                let name = c_str(host.trim_end_matches('.'), "hostname")?;
                cvt(openssl_sys::SSL_set_tlsext_host_name(ssl, name.as_ptr() as *mut _) as i32)?;
            }
        }
        if let Some(session) = &side.session {
            cvt(openssl_sys::SSL_set_session(ssl, session.as_ptr()))?;
        }
        if side.verify_server {
            openssl_sys::SSL_set_verify(ssl, openssl_sys::SSL_VERIFY_PEER, Some(verify_trampoline));
        } else {
            openssl_sys::SSL_set_verify(ssl, openssl_sys::SSL_VERIFY_NONE, None);
        }
    }
    let conn = stream.connection_mut();
    conn.check_hostname = side.check_hostname.map(String::into_boxed_str);
    conn.verifies_server = side.verify_server;
    Ok(stream)
}

/// A server stream over `transport`, set up without any I/O.
pub(crate) fn server<T: Transport>(
    common: Common,
    side: ServerSide,
    transport: T,
) -> Result<SslStream<T>, Error> {
    let alpn = if common.alpn.is_empty() {
        None
    } else {
        Some(alpn_wire(&common.alpn)?)
    };
    let mut stream = build_stream(common, transport, Side::Server, false)?;
    let ssl = stream.as_ptr();
    // SAFETY: ssl is the stream's live SSL and its context is live.
    unsafe {
        openssl_sys::SSL_set_accept_state(ssl);
        let mode = match side.verify_mode {
            Some(mode) => mode.bits(),
            None => openssl_sys::SSL_CTX_get_verify_mode(openssl_sys::SSL_get_SSL_CTX(ssl)),
        };
        openssl_sys::SSL_set_verify(ssl, mode, Some(verify_trampoline));
        if openssl_sys::SSL_get_certificate(ssl).is_null() && side.sni_callback.is_none() {
            return Err(Error::InvalidArgument(
                "a server needs a certificate and private key: give ServerOptions::certificate_file \
                 and private_key_file (or the _pem variants), or load them into the context"
                    .into(),
            ));
        }
    }
    let conn = stream.connection_mut();
    let choices = ServerChoices {
        alpn_server: alpn,
        alpn_select: side.alpn_select,
        alpn_required: side.alpn_required,
        sni_callback: side.sni_callback,
        sni_context: None,
    };
    // With none of them set the callbacks have nothing to do, so nothing is kept.
    conn.server_choices = Some(Box::new(choices)).filter(|c| c.is_configured());
    Ok(stream)
}

/// Creates the `SSL`, the connection state, the BIOs and the stream, and applies the settings
/// common to both sides.
fn build_stream<T: Transport>(
    mut common: Common,
    transport: T,
    side: Side,
    require_peer_certificate: bool,
) -> Result<SslStream<T>, Error> {
    crate::init::ensure_initialized();
    // Entries left by unrelated code must not end up in our errors.
    let _queue = QueueScope::enter();
    let context = match common.context.take() {
        Some(c) => c,
        None => global_context()?,
    };
    let capabilities = transport.capabilities();
    // SAFETY: the box is the stream's, dropped (or turned back into a T) by the stream, which
    // holds a PhantomData<T> and implements Drop, so it cannot outlive T's lifetime. Erasing
    // the lifetime only lets the BIO state hold it; nothing else ever sees the box.
    let transport: Box<dyn Transport> = unsafe {
        std::mem::transmute::<Box<dyn Transport + '_>, Box<dyn Transport + 'static>>(Box::new(
            transport,
        ))
    };
    let bio_state = BioState::new(transport, common.read_ahead.unwrap_or(DEFAULT_READ_AHEAD));
    // Allocated once; OpenSSL's copies of the pointer and the stream's accesses all go
    // through this one pointer (see SharedWithOpenSsl).
    let conn = SharedWithOpenSsl::new(Connection::new(bio_state, side));
    let conn_ptr: *mut Connection = conn.as_ptr();
    // SAFETY: the context is live; SSL_new returns an owned SSL or null.
    let ssl = cvt_p(unsafe { openssl_sys::SSL_new(context.as_ptr()) })?;
    // From here the stream owns the SSL (and frees it on every error path below).
    let mut stream = SslStream::from_parts(StreamParts {
        ssl,
        conn,
        owned_fds: Default::default(),
        context: context.clone(),
        is_client: side == Side::Client,
        require_peer_certificate,
        input_capacity: common.input_buffer_size.unwrap_or(DEFAULT_INPUT_BUFFER),
        output_capacity: common.output_buffer_size,
        release_buffers: common.release_buffers.unwrap_or(true),
        io: IoMode::unset(),
    });
    // SAFETY: ssl is live; conn_ptr is the stream's SharedWithOpenSsl pointer: stable, only
    // ever used as a raw pointer, and freed after the SSL (the stream frees the SSL first).
    // The BIO's data pointer is a projection of it made without a reference.
    let plumbing = unsafe {
        CONNECTION.set_pointer(ssl, conn_ptr)?;
        install_transport(
            ssl,
            &raw mut (*conn_ptr).bio,
            capabilities,
            common.unwrap_fd.unwrap_or(true),
            common.fd_read_ahead.unwrap_or(true),
        )?
    };
    // A deadline is enforced or refused before any I/O.
    let io = IoMode::new(&plumbing, &common);
    if common.timeout.is_some() {
        io.deadlines.check(std::any::type_name::<T>())?;
    }
    stream.set_plumbing(io, plumbing.owned_fds);
    // SAFETY: ssl is live; every string passed is a CString that outlives its call.
    unsafe {
        // For the handshake only (the stream removes it after): keeps the first record header
        // received, to explain a peer that does not speak TLS.
        crate::ffi::openssl::SSL_set_msg_callback(ssl, Some(message_trampoline));
        // Not SSL_MODE_RELEASE_BUFFERS: it frees and reallocates a buffer after every record
        // that empties it (every record, with the in-memory pipe's one-record hand-off); the
        // stream frees them itself once the connection is idle (`release_idle_buffers`).
        crate::ffi::openssl::ssl_set_mode(
            ssl,
            openssl_sys::SSL_MODE_ENABLE_PARTIAL_WRITE
                | openssl_sys::SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
        );
        if common.ignore_unexpected_eof {
            crate::ffi::openssl::SSL_set_options(ssl, SslOptions::IGNORE_UNEXPECTED_EOF.bits());
        }
        if let Some(list) = &common.cipher_list {
            let list = c_str(list, "cipher list")?;
            cvt(openssl_sys::SSL_set_cipher_list(ssl, list.as_ptr()))?;
        }
        if side == Side::Client && !common.alpn.is_empty() {
            let wire = alpn_wire(&common.alpn)?;
            // SSL_set_alpn_protos returns 0 on success.
            if openssl_sys::SSL_set_alpn_protos(ssl, wire.as_ptr(), wire.len() as _) != 0 {
                return Err(Error::Ssl(ErrorStack::drain()));
            }
        }
    }
    let target = Target::Connection(ssl);
    match &common.chain {
        Some(Source::File(path)) => target.use_chain_file(path)?,
        Some(Source::Pem(pem)) => target.use_chain_bytes(pem)?,
        None => {}
    }
    if let Some(key) = &common.key {
        let password: Option<Arc<PasswordCallback>> = match common.password.take() {
            // The copy handed to OpenSSL is wiped by the password trampoline.
            Some(p) => Some(Arc::new(move |_| p.to_vec())),
            None => context_password(&context),
        };
        match key {
            Source::File(path) => target.use_key_file(path, password.as_deref())?,
            Source::Pem(pem) => target.use_key_bytes(pem, password.as_deref())?,
        }
    }
    stream.enforce_deadlines()?;
    stream.set_on_close(common.on_close.take());
    Ok(stream)
}

fn context_password(context: &ContextRef) -> Option<Arc<PasswordCallback>> {
    context.extras().and_then(|e| e.password_callback.clone())
}

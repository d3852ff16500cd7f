//! `ClientOptions` and `ServerOptions`: how a stream is set up (cl+ssl's
//! `make-ssl-client-stream` / `make-ssl-server-stream` keywords), and [`Verify`], how a
//! client checks its server, with its process-wide default. The options only collect what is
//! asked for; `stream::setup` builds the stream.

use crate::context::{Context, VerifyMode};
use crate::error::Error;
use crate::session::Session;
use crate::stream::setup::{self, ClientSide, Common, ServerSide, Source};
use crate::stream::SslStream;
#[cfg(unix)]
use crate::transport::Descriptor;
use crate::transport::Transport;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// How a client checks the server it connects to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Verify {
    /// Check nothing: any certificate, or none, is accepted. Only for testing or when the
    /// protocol above authenticates the peer.
    None,
    /// Verify the chain and the hostname when the server presents a certificate.
    Optional,
    /// Require a certificate that chain-verifies against the trusted roots and matches the
    /// hostname (DNS name or IP address). The default.
    Required,
}

static CLIENT_VERIFY_DEFAULT: AtomicU8 = AtomicU8::new(2);

/// The [`Verify`] a client uses when its options do not say; initially [`Verify::Required`].
///
/// ```
/// assert_eq!(sslbridge::client_verify_default(), sslbridge::Verify::Required);
/// ```
#[doc(alias = "*make-ssl-client-stream-verify-default*")]
pub fn client_verify_default() -> Verify {
    match CLIENT_VERIFY_DEFAULT.load(Ordering::Relaxed) {
        0 => Verify::None,
        1 => Verify::Optional,
        _ => Verify::Required,
    }
}

/// Changes the process-wide client default (cl+ssl's
/// `*make-ssl-client-stream-verify-default*`). Affects clients created afterwards.
///
/// ```no_run
/// // A test harness talking only to its own self-signed servers:
/// sslbridge::set_client_verify_default(sslbridge::Verify::None);
/// ```
#[doc(alias = "*make-ssl-client-stream-verify-default*")]
pub fn set_client_verify_default(verify: Verify) {
    let v = match verify {
        Verify::None => 0,
        Verify::Optional => 1,
        Verify::Required => 2,
    };
    CLIENT_VERIFY_DEFAULT.store(v, Ordering::Relaxed);
}

macro_rules! common_setters {
    () => {
        /// The context to create the connection from; default: the global context
        /// ([`global_context`](crate::global_context)). A `Context` clone is cheap.
        pub fn context(mut self, context: Context) -> Self {
            self.common.context = Some(context);
            self
        }

        /// ALPN protocols, in preference order (e.g. `&["h2", "http/1.1"]`).
        #[doc(alias = "SSL_set_alpn_protos")]
        pub fn alpn_protocols(mut self, protocols: &[&str]) -> Self {
            self.common.alpn = protocols.iter().map(|p| p.to_string()).collect();
            self
        }

        /// A PEM file with this side's certificate followed by its chain.
        #[doc(alias = "SSL_use_certificate_chain_file")]
        pub fn certificate_file(mut self, path: impl Into<PathBuf>) -> Self {
            self.common.chain = Some(Source::File(path.into()));
            self
        }

        /// This side's private key file (PEM or DER, optionally encrypted; see
        /// [`password`](Self::password)).
        #[doc(alias = "SSL_use_PrivateKey_file")]
        pub fn private_key_file(mut self, path: impl Into<PathBuf>) -> Self {
            self.common.key = Some(Source::File(path.into()));
            self
        }

        /// This side's certificate and chain as PEM text.
        #[doc(alias = "SSL_use_certificate")]
        pub fn certificate_chain_pem(mut self, pem: &[u8]) -> Self {
            self.common.chain = Some(Source::Pem(Zeroizing::new(pem.to_vec())));
            self
        }

        /// This side's private key as PEM text (or DER bytes), optionally encrypted.
        #[doc(alias = "SSL_use_PrivateKey")]
        pub fn private_key_pem(mut self, pem: &[u8]) -> Self {
            self.common.key = Some(Source::Pem(Zeroizing::new(pem.to_vec())));
            self
        }

        /// The password of an encrypted private key; without it the context's
        /// `pem_password_callback` is asked.
        pub fn password(mut self, password: &str) -> Self {
            self.common.password = Some(Zeroizing::new(password.as_bytes().to_vec()));
            self
        }

        /// The TLS 1.2 cipher list for this connection (`SSL_set_cipher_list`).
        #[doc(alias = "SSL_set_cipher_list")]
        pub fn cipher_list(mut self, ciphers: &str) -> Self {
            self.common.cipher_list = Some(ciphers.to_string());
            self
        }

        /// Called once, when the stream is closed, dropped or turned back into its transport.
        pub fn on_close(mut self, callback: impl FnOnce() + Send + 'static) -> Self {
            self.common.on_close = Some(Box::new(callback));
            self
        }

        /// Size of the plaintext buffer used by `BufRead` (default 16 KiB; 0 counts as 1, and
        /// sizes above 1 GiB count as 1 GiB).
        pub fn input_buffer_size(mut self, size: usize) -> Self {
            self.common.input_buffer_size = Some(size);
            self
        }

        /// Buffer writes up to this many bytes and send them as one record on `flush` or when
        /// full (default 0: every `write` is sent at once). Like `BufWriter`, dropping the
        /// stream makes one best-effort flush of what is buffered (errors ignored; on a
        /// blocking transport it may block); [`SslStream::close`] or `flush` report errors. The
        /// async stream cannot flush in `Drop`: flush or shut it down first.
        pub fn output_buffer_size(mut self, size: usize) -> Self {
            self.common.output_buffer_size = size;
            self
        }

        /// How many bytes the custom BIO may read from the transport at once (default 34 KiB,
        /// two full records). Smaller sizes mean more transport reads per record (0 counts as
        /// 1: a read per byte; sizes above 1 GiB count as 1 GiB); the custom BIO always reads
        /// ahead into this buffer. On the fd fast path OpenSSL reads with a buffer of its own,
        /// switched by [`fd_read_ahead`](Self::fd_read_ahead).
        #[doc(alias = "SSL_set_read_ahead")]
        pub fn read_ahead_size(mut self, size: usize) -> Self {
            self.common.read_ahead = Some(size);
            self
        }

        /// Whether to run on the fd fast path when the transport is a descriptor sslbridge
        /// recognises (`TcpStream`, `UnixStream`, [`Pipes`](crate::Pipes) of descriptors,
        /// [`Descriptor`](crate::Descriptor), [`FdTransport`](crate::FdTransport), `File`):
        /// OpenSSL then reads and writes the descriptor itself. Default `true`; `false`
        /// forces the custom BIO (the transport's `Read`/`Write` are called).
        ///
        /// OpenSSL works on the stream's own duplicate of the descriptor (`F_DUPFD_CLOEXEC`,
        /// closed with the stream), so nothing done to the transport through
        /// [`SslStream::get_mut`] can point it at another file. On the fd path OpenSSL writes
        /// without `MSG_NOSIGNAL`: Rust programs ignore `SIGPIPE` by default (a vanished peer is
        /// `BrokenPipe`), a C program hosting sslbridge must ignore it itself.
        pub fn unwrap_fd(mut self, unwrap: bool) -> Self {
            self.common.unwrap_fd = Some(unwrap);
            self
        }

        /// Whether OpenSSL reads ahead on the fd fast path (default `true`): one `recv` then
        /// brings as much as its buffer holds (about 17 KB, several small records), and a
        /// `read` takes every whole record it brought and goes on into the kernel for more
        /// while any has arrived. With `false` OpenSSL reads each record's header and body
        /// with a system call each and buffers nothing beyond the record, and a `read` over a
        /// blocking descriptor takes one record, leaving the rest in the socket for the next
        /// (over a non-blocking one it reads on until "would block"). (No effect on the
        /// custom BIO: see [`read_ahead_size`](Self::read_ahead_size).)
        ///
        /// Reading ahead saves system calls. Where the peer is a process on the same machine
        /// and sends small records faster than they arrive one by one, it also empties the
        /// socket at each read, so the reader sleeps until the next record and the sender pays
        /// to wake it. Over loopback TCP with 1 KiB writes, turning it off raised that
        /// benchmark row from 0.58–0.96 to 0.79–1.38 × rust-openssl's throughput in five runs
        /// (BENCHMARKS.md); over a Unix socket reading ahead was the faster of the two.
        ///
        /// ```
        /// use std::io::{Read, Write};
        /// use std::net::{TcpListener, TcpStream};
        /// use sslbridge::{ClientOptions, Context, ServerOptions};
        ///
        /// let pki = sslbridge::testing::TestPki::new()?;
        /// let key = pki.server(&["localhost"])?;
        /// let trust = Context::builder().ca_certificates_pem(&pki.root_pem()).build()?;
        /// let listener = TcpListener::bind("127.0.0.1:0")?;
        /// let address = listener.local_addr()?;
        /// let server = std::thread::spawn(move || -> Result<(), sslbridge::Error> {
        ///     let (socket, _) = listener.accept()?;
        ///     let mut tls = ServerOptions::new()
        ///         .certificate_chain_pem(&key.chain_pem)
        ///         .private_key_pem(&key.key_pem)
        ///         .fd_read_ahead(false)
        ///         .accept(socket)?;
        ///     let mut buf = vec![0u8; 64 * 1024];
        ///     for _ in 0..4 {
        ///         // One record per read, however many are waiting.
        ///         assert_eq!(tls.read(&mut buf)?, 1024);
        ///     }
        ///     Ok(())
        /// });
        /// let mut tls = ClientOptions::new()
        ///     .hostname("localhost")
        ///     .context(trust)
        ///     .connect(TcpStream::connect(address)?)?;
        /// for _ in 0..4 {
        ///     tls.write_all(&[1u8; 1024])?;
        /// }
        /// server.join().unwrap()?;
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        #[doc(alias = "SSL_set_read_ahead")]
        pub fn fd_read_ahead(mut self, read_ahead: bool) -> Self {
            self.common.fd_read_ahead = Some(read_ahead);
            self
        }

        /// Bounds the handshake and each later read and write (see
        /// [`SslStream::set_read_timeout`]); expiry is [`Error::Timeout`].
        ///
        /// A deadline is enforced or refused, never ignored. It is enforced on the transports
        /// whose waits sslbridge controls: descriptors it knows (`TcpStream`, `UnixStream`,
        /// [`Pipes`](crate::Pipes) of descriptors, [`Descriptor`],
        /// [`FdTransport`](crate::FdTransport); on either path, with `poll` on a non-blocking
        /// descriptor, while a blocking socket still behaves as blocking to you) and
        /// [`MemoryPipe`](crate::MemoryPipe). On any other transport (a `BufReader<TcpStream>`
        /// inside `Pipes::new`, your own wrapper) `start`/`connect`/`accept` fail with
        /// [`Error::InvalidArgument`] before any I/O: give sslbridge the descriptor instead, or
        /// set the transport's own timeouts (its `TimedOut` is reported as [`Error::Timeout`],
        /// and so is its `WouldBlock` during a blocking `connect`/`accept`). The async streams
        /// refuse it too: use `tokio::time::timeout`.
        ///
        /// ```
        /// use std::time::Duration;
        /// use sslbridge::{ClientOptions, Error, Pipes};
        /// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
        /// // A wrapper sslbridge cannot see through: refused, before any I/O.
        /// let wrapped = Pipes::new(std::io::BufReader::new(a.try_clone()?), a);
        /// let refused = ClientOptions::new()
        ///     .hostname("localhost")
        ///     .timeout(Duration::from_secs(1))
        ///     .start(wrapped);
        /// assert!(matches!(refused, Err(Error::InvalidArgument(_))));
        /// # Ok::<(), Box<dyn std::error::Error>>(())
        /// ```
        pub fn timeout(mut self, timeout: Duration) -> Self {
            self.common.timeout = Some(timeout);
            self
        }

        /// Whether a blocking-style timeout was set (refused by the async streams).
        #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
        pub(crate) fn has_timeout(&self) -> bool {
            self.common.timeout.is_some()
        }

        /// Whether the record buffers (OpenSSL's read and write buffers, and the custom BIO's
        /// read-ahead buffer) are given back whenever the connection goes idle: when a read
        /// leaves nothing buffered and nothing pending, a write has sent all it was given, or an
        /// operation would block. Default `true`: an idle connection then holds no record
        /// buffer (see "Reads, writes and memory" on [`SslStream`](crate::SslStream)). Not
        /// after every record: while a read takes a run of records that already wait (in the
        /// read-ahead buffer or a [`MemoryPipe`](crate::MemoryPipe)) the buffers are kept
        /// until the last of them. `false` keeps them allocated, which saves a `free` and a
        /// `malloc` per write and per read that empties them (a few percent of the
        /// instructions of a stream of 1 KiB messages, under 1% with 16 KiB ones); sslbridge
        /// still frees them once after the handshake.
        #[doc(alias = "SSL_MODE_RELEASE_BUFFERS")]
        pub fn release_buffers(mut self, release: bool) -> Self {
            self.common.release_buffers = Some(release);
            self
        }

        /// Treat a transport EOF without close_notify as a clean end (`Ok(0)`) instead of
        /// [`Error::UnexpectedEof`]. Only safe when the protocol above detects truncation
        /// itself (e.g. HTTP with Content-Length).
        #[doc(alias = "SSL_OP_IGNORE_UNEXPECTED_EOF")]
        pub fn ignore_unexpected_eof(mut self, ignore: bool) -> Self {
            self.common.ignore_unexpected_eof = ignore;
            self
        }
    };
}

/// How a client connects: `ClientOptions::new()…connect(transport)`.
///
/// ```no_run
/// use sslbridge::{ClientOptions, Verify};
/// let tcp = std::net::TcpStream::connect("127.0.0.1:4433")?;
/// let tls = ClientOptions::new()
///     .hostname("localhost")
///     .verify(Verify::Required)
///     .alpn_protocols(&["h2", "http/1.1"])
///     .connect(tcp)?;
/// println!("{:?} {:?}", tls.protocol_version(), tls.cipher_name());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "options do nothing until connect() or start() is called"]
#[derive(Default)]
pub struct ClientOptions {
    common: Common,
    hostname: Option<String>,
    verify: Option<Verify>,
    /// `None` means the default: check the name when verifying.
    verify_hostname: Option<bool>,
    session: Option<Session>,
}

impl ClientOptions {
    /// Options with the defaults: global context, [`client_verify_default`], no hostname.
    pub fn new() -> ClientOptions {
        ClientOptions::default()
    }

    /// The server's name: sent as SNI (for DNS names) and checked against its certificate
    /// (DNS name or IP address) when verifying.
    #[doc(alias = "SSL_set_tlsext_host_name")]
    pub fn hostname(mut self, hostname: &str) -> Self {
        self.hostname = Some(hostname.to_string());
        self
    }

    /// How to check the server; default [`client_verify_default`]. This decides for the
    /// client whatever the context's verify mode says. [`Verify::Required`] and
    /// [`Verify::Optional`] check the certificate against the [`hostname`](Self::hostname),
    /// so they need one (or an explicit [`verify_hostname(false)`](Self::verify_hostname)).
    #[doc(alias = "SSL_set_verify")]
    pub fn verify(mut self, verify: Verify) -> Self {
        self.verify = Some(verify);
        self
    }

    /// Whether verification checks the server's certificate against the
    /// [`hostname`](Self::hostname); default `true`.
    ///
    /// A verifying client without a host name fails at `start`/`connect` with
    /// [`Error::InvalidArgument`]: a chain that verifies proves only that *some* trusted CA
    /// issued the certificate, to anyone. `verify_hostname(false)` is the explicit opt-out:
    /// chain verification only, like cl+ssl when `:hostname` is nil. Use it only when the
    /// trusted roots issue certificates to nobody but the peers you accept (a private CA per
    /// service), or when the protocol above checks the peer's identity. With a host name as
    /// well, the name is still sent as SNI but not checked.
    ///
    /// ```
    /// use sslbridge::{ClientOptions, Verify};
    /// let (transport, _peer) = sslbridge::duplex(1024);
    /// // Refused: verification without a name to verify.
    /// assert!(ClientOptions::new().verify(Verify::Required).start(transport).is_err());
    /// let (transport, _peer) = sslbridge::duplex(1024);
    /// // Chain-only verification, asked for explicitly.
    /// let tls = ClientOptions::new()
    ///     .verify(Verify::Required)
    ///     .verify_hostname(false)
    ///     .start(transport)?;
    /// # drop(tls);
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    pub fn verify_hostname(mut self, check: bool) -> Self {
        self.verify_hostname = Some(check);
        self
    }

    /// Offers a session from an earlier connection for resumption (TLS 1.2 session ID or
    /// ticket, TLS 1.3 ticket); [`SslStream::session_reused`] tells whether the server took it.
    #[doc(alias = "SSL_set_session")]
    pub fn session(mut self, session: Session) -> Self {
        self.session = Some(session);
        self
    }

    common_setters!();

    /// Sets up the connection without any I/O; drive it with [`SslStream::handshake`] (or
    /// just read/write, which handshake first).
    #[doc(alias = "SSL_set_connect_state")]
    #[doc(alias = "make-ssl-client-stream")]
    pub fn start<T: Transport>(self, transport: T) -> Result<SslStream<T>, Error> {
        let verify = self.verify.unwrap_or_else(client_verify_default);
        let check_name = verify != Verify::None && self.verify_hostname.unwrap_or(true);
        if check_name && self.hostname.is_none() {
            return Err(Error::InvalidArgument(format!(
                "Verify::{verify:?} checks the server's certificate against the name this client \
                 connects to, but no name was given: call .hostname(\"server.example\") (a DNS \
                 name or an IP address), or opt out of the name check explicitly with \
                 .verify_hostname(false) (chain verification only)"
            )));
        }
        let side = ClientSide {
            check_hostname: check_name.then(|| self.hostname.clone()).flatten(),
            hostname: self.hostname,
            verify_server: verify != Verify::None,
            require_certificate: verify == Verify::Required,
            session: self.session,
        };
        setup::client(self.common, side, transport)
    }

    /// Connects: sets up and runs the handshake on a blocking transport. On a non-blocking
    /// transport use [`start`](ClientOptions::start) and [`SslStream::handshake`].
    #[doc(alias = "SSL_connect")]
    #[doc(alias = "make-ssl-client-stream")]
    pub fn connect<T: Transport>(self, transport: T) -> Result<SslStream<T>, Error> {
        let mut stream = self.start(transport)?;
        stream.blocking_handshake()?;
        Ok(stream)
    }

    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    /// Connects over a raw descriptor: an `OwnedFd` is closed with the stream, a
    /// `BorrowedFd<'static>` is not (see [`Descriptor`]).
    #[doc(alias = "SSL_set_fd")]
    #[doc(alias = "make-ssl-client-stream")]
    pub fn connect_fd(self, fd: impl Into<Descriptor>) -> Result<SslStream<Descriptor>, Error> {
        self.connect(fd.into())
    }
}

/// How a server accepts: `ServerOptions::new()…accept(transport)`.
///
/// ```no_run
/// use sslbridge::ServerOptions;
/// let listener = std::net::TcpListener::bind("127.0.0.1:4433")?;
/// let (tcp, _) = listener.accept()?;
/// let tls = ServerOptions::new()
///     .certificate_file("server.pem")
///     .private_key_file("server.key")
///     .alpn_protocols(&["http/1.1"])
///     .accept(tcp)?;
/// # drop(tls);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "options do nothing until accept() or start() is called"]
#[derive(Default)]
pub struct ServerOptions {
    common: Common,
    side: ServerSide,
}

impl ServerOptions {
    /// Options with the defaults: global context, its certificate unless one is given here.
    pub fn new() -> ServerOptions {
        ServerOptions::default()
    }

    common_setters!();

    /// Chooses the ALPN protocol with a closure that sees the client's offer (in the
    /// client's order) and returns one of them, or `None`. Replaces the preference list of
    /// [`alpn_protocols`](ServerOptions::alpn_protocols).
    #[doc(alias = "SSL_CTX_set_alpn_select_cb")]
    pub fn alpn_select_callback(
        mut self,
        callback: impl Fn(&[&str]) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.side.alpn_select = Some(Arc::new(callback));
        self
    }

    /// Whether to ask the client for a certificate, for this stream; default: the context's
    /// verify mode, which is [`VerifyMode::NONE`] unless the context was built otherwise (no
    /// certificate is requested). [`VerifyMode::PEER`] asks for one and verifies it when sent;
    /// `PEER | FAIL_IF_NO_PEER_CERT` requires one. The peer's certificate is then
    /// [`SslStream::peer_certificate`].
    ///
    /// ```
    /// use sslbridge::{ServerOptions, VerifyMode};
    /// let mutual_tls = ServerOptions::new()
    ///     .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT);
    /// # drop(mutual_tls);
    /// ```
    #[doc(alias = "SSL_set_verify")]
    pub fn verify_mode(mut self, mode: VerifyMode) -> Self {
        self.side.verify_mode = Some(mode);
        self
    }

    /// When the client offers ALPN but nothing matches (also when this server has neither
    /// [`alpn_protocols`](ServerOptions::alpn_protocols) nor an
    /// [`alpn_select_callback`](ServerOptions::alpn_select_callback)): `true` fails the
    /// handshake with a `no_application_protocol` alert, `false` (the default) continues
    /// without a protocol. A client that offers no ALPN is never refused for it.
    ///
    /// ```
    /// use sslbridge::ServerOptions;
    /// let http2_only = ServerOptions::new().alpn_protocols(&["h2"]).alpn_required(true);
    /// # drop(http2_only);
    /// ```
    pub fn alpn_required(mut self, required: bool) -> Self {
        self.side.alpn_required = required;
        self
    }

    /// Picks the context (certificate, key, settings) by the server name the client asked
    /// for (SNI); `None` keeps this stream's. [`SslStream::server_name`] tells the name.
    ///
    /// ```
    /// # use sslbridge::{Context, ServerOptions};
    /// let pki = sslbridge::testing::TestPki::new()?;
    /// let b = pki.server(&["b.example"])?;
    /// let ctx_b = Context::builder()
    ///     .certificate_chain_pem(&b.chain_pem).private_key_pem(&b.key_pem).build()?;
    /// let options = ServerOptions::new()
    ///     .sni_callback(move |name| (name == "b.example").then(|| ctx_b.clone()));
    /// # drop(options);
    /// # Ok::<(), sslbridge::Error>(())
    /// ```
    #[doc(alias = "SSL_CTX_set_tlsext_servername_callback")]
    pub fn sni_callback(
        mut self,
        callback: impl Fn(&str) -> Option<Context> + Send + Sync + 'static,
    ) -> Self {
        self.side.sni_callback = Some(Arc::new(callback));
        self
    }

    /// Sets up the connection without any I/O; drive it with [`SslStream::handshake`].
    #[doc(alias = "SSL_set_accept_state")]
    #[doc(alias = "make-ssl-server-stream")]
    pub fn start<T: Transport>(self, transport: T) -> Result<SslStream<T>, Error> {
        setup::server(self.common, self.side, transport)
    }

    /// Accepts: sets up and runs the handshake on a blocking transport.
    #[doc(alias = "SSL_accept")]
    #[doc(alias = "make-ssl-server-stream")]
    pub fn accept<T: Transport>(self, transport: T) -> Result<SslStream<T>, Error> {
        let mut stream = self.start(transport)?;
        stream.blocking_handshake()?;
        Ok(stream)
    }

    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    /// Accepts over a raw descriptor: an `OwnedFd` is closed with the stream, a
    /// `BorrowedFd<'static>` is not (see [`Descriptor`]).
    #[doc(alias = "SSL_set_fd")]
    #[doc(alias = "make-ssl-server-stream")]
    pub fn accept_fd(self, fd: impl Into<Descriptor>) -> Result<SslStream<Descriptor>, Error> {
        self.accept(fd.into())
    }
}

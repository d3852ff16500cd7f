//! The async rows (`--features tokio`): `sslbridge::tokio::SslStream` next to tokio-openssl's
//! `SslStream`, over the same transports (`tokio::io::duplex` and loopback
//! `tokio::net::TcpStream`), on one multi-thread runtime with 2 workers. Both stacks use the
//! blocking rows' contexts (`Configs`), so the TLS settings are identical.

use crate::measure::{Amount, BulkFigure, HandshakeFigure, Shape, PIPE_CAPACITY};
use crate::stacks::{ossl_negotiated, BoxError, Configs};
use openssl::ssl::SslSession;
use std::io::IoSlice;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// Worker threads of the runtime every async row runs on.
pub const WORKERS: usize = 2;

/// Which async TLS stream drives a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncStack {
    /// `sslbridge::tokio::SslStream` (`connect_async` / `accept_async`).
    Sslbridge,
    /// `tokio_openssl::SslStream` 0.6.
    TokioOpenssl,
}

impl AsyncStack {
    pub fn name(self) -> &'static str {
        match self {
            AsyncStack::Sslbridge => "sslbridge-tokio",
            AsyncStack::TokioOpenssl => "tokio-openssl",
        }
    }
}

/// Which async byte stream carries the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsyncWire {
    /// `tokio::io::duplex`: tokio's in-memory pipe.
    Duplex,
    /// Loopback `tokio::net::TcpStream` with `TCP_NODELAY`.
    Tcp,
}

impl AsyncWire {
    pub fn name(self) -> &'static str {
        match self {
            AsyncWire::Duplex => "duplex",
            AsyncWire::Tcp => "tcp",
        }
    }
}

/// The runtime of the async rows.
pub fn runtime() -> Result<Runtime, BoxError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()?)
}

/// A transport both stacks accept.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A resumable session from a finished client connection.
enum Ticket {
    Sslbridge(sslbridge::Session),
    OpenSsl(SslSession),
}

/// An established connection of either stack.
// Not boxed: a box would add an allocation per connection to one stack's handshake only.
#[allow(clippy::large_enum_variant)]
enum Conn<T: Io> {
    Sslbridge(sslbridge::tokio::SslStream<T>),
    TokioOpenssl(tokio_openssl::SslStream<T>),
}

impl<T: Io> Conn<T> {
    async fn accept(configs: &Configs, stack: AsyncStack, transport: T) -> Result<Self, BoxError> {
        Ok(match stack {
            AsyncStack::Sslbridge => {
                Conn::Sslbridge(configs.sb_server_options().accept_async(transport).await?)
            }
            AsyncStack::TokioOpenssl => {
                let mut s = tokio_openssl::SslStream::new(configs.ossl_server_ssl()?, transport)?;
                Pin::new(&mut s)
                    .accept()
                    .await
                    .map_err(|e| format!("tokio-openssl accept: {e}"))?;
                Conn::TokioOpenssl(s)
            }
        })
    }

    async fn connect(
        configs: &Configs,
        stack: AsyncStack,
        transport: T,
        ticket: Option<&Ticket>,
    ) -> Result<Self, BoxError> {
        Ok(match stack {
            AsyncStack::Sslbridge => {
                let session = match ticket {
                    Some(Ticket::Sslbridge(s)) => Some(s),
                    _ => None,
                };
                Conn::Sslbridge(
                    configs
                        .sb_client_options(session)
                        .connect_async(transport)
                        .await?,
                )
            }
            AsyncStack::TokioOpenssl => {
                let session = match ticket {
                    Some(Ticket::OpenSsl(s)) => Some(s),
                    _ => None,
                };
                let ssl = configs.ossl_client_ssl(session)?;
                let mut s = tokio_openssl::SslStream::new(ssl, transport)?;
                Pin::new(&mut s)
                    .connect()
                    .await
                    .map_err(|e| format!("tokio-openssl connect: {e}"))?;
                Conn::TokioOpenssl(s)
            }
        })
    }

    fn ssl_ptr(&self) -> *mut openssl_sys::SSL {
        use foreign_types_shared::ForeignTypeRef;
        match self {
            Conn::Sslbridge(s) => s.ssl().as_ptr(),
            Conn::TokioOpenssl(s) => s.ssl().as_ptr(),
        }
    }

    fn negotiated(&self) -> String {
        ossl_negotiated(self.ssl_ptr())
    }

    fn resumed(&self) -> bool {
        match self {
            Conn::Sslbridge(s) => s.ssl().session_reused(),
            Conn::TokioOpenssl(s) => s.ssl().session_reused(),
        }
    }

    fn ticket(&self) -> Option<Ticket> {
        match self {
            Conn::Sslbridge(s) => s.ssl().session().map(Ticket::Sslbridge),
            Conn::TokioOpenssl(s) => s.ssl().session().map(|s| Ticket::OpenSsl(s.to_owned())),
        }
    }

    /// Lets a plain drop keep the session resumable, as in the blocking rows: sslbridge's
    /// `Drop` marks the shutdown state itself; tokio-openssl has no setter, so this calls
    /// `SSL_set_shutdown` as rust-openssl's `SslStream::set_shutdown` does.
    fn keep_session_on_drop(&mut self) {
        if let Conn::TokioOpenssl(_) = self {
            // SAFETY: the pointer is the live SSL owned by `self`; SSL_set_shutdown only
            // sets flags in it.
            unsafe {
                openssl_sys::SSL_set_shutdown(
                    self.ssl_ptr(),
                    openssl_sys::SSL_SENT_SHUTDOWN | openssl_sys::SSL_RECEIVED_SHUTDOWN,
                )
            };
        }
    }

    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Sslbridge(s) => s.read(buf).await,
            Conn::TokioOpenssl(s) => s.read(buf).await,
        }
    }

    async fn read_exact(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Sslbridge(s) => s.read_exact(buf).await,
            Conn::TokioOpenssl(s) => s.read_exact(buf).await,
        }
    }

    async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Sslbridge(s) => s.write_all(buf).await,
            Conn::TokioOpenssl(s) => s.write_all(buf).await,
        }
    }

    /// Writes all of `bufs` with `write_vectored` (a stack that takes only the first slice
    /// per call is called again for the rest).
    async fn write_all_vectored(&mut self, mut bufs: &mut [IoSlice<'_>]) -> std::io::Result<()> {
        while !bufs.is_empty() {
            let n = match self {
                Conn::Sslbridge(s) => s.write_vectored(bufs).await?,
                Conn::TokioOpenssl(s) => s.write_vectored(bufs).await?,
            };
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            IoSlice::advance_slices(&mut bufs, n);
        }
        Ok(())
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Sslbridge(s) => s.flush().await,
            Conn::TokioOpenssl(s) => s.flush().await,
        }
    }

    /// close_notify, then the transport's own shutdown.
    async fn shutdown(&mut self) -> std::io::Result<()> {
        match self {
            Conn::Sslbridge(s) => s.shutdown().await,
            Conn::TokioOpenssl(s) => s.shutdown().await,
        }
    }
}

/// A connected loopback TCP pair with `TCP_NODELAY` on both ends.
async fn tcp_pair(listener: &TcpListener) -> Result<(TcpStream, TcpStream), BoxError> {
    let (c, s) = tokio::join!(
        TcpStream::connect(listener.local_addr()?),
        listener.accept()
    );
    let (c, (s, _)) = (c?, s?);
    c.set_nodelay(true)?;
    s.set_nodelay(true)?;
    Ok((c, s))
}

/// Client task writes messages of `shape` for `amount`, then shuts down (close_notify); the
/// server task reads with a `shape.read` buffer until the close_notify and times from its
/// first byte to the end. The same shape as the blocking `measure::bulk`. (The CPU figures
/// are left at zero: a task may move between the runtime's threads.)
pub fn bulk(
    rt: &Runtime,
    configs: &Arc<Configs>,
    stack: AsyncStack,
    wire: AsyncWire,
    shape: Shape,
    amount: Amount,
) -> Result<BulkFigure, BoxError> {
    rt.block_on(async {
        match wire {
            AsyncWire::Duplex => {
                let (c, s) = tokio::io::duplex(PIPE_CAPACITY);
                bulk_over::<DuplexStream>(configs, stack, c, s, shape, amount).await
            }
            AsyncWire::Tcp => {
                let listener = TcpListener::bind("127.0.0.1:0").await?;
                let (c, s) = tcp_pair(&listener).await?;
                bulk_over::<TcpStream>(configs, stack, c, s, shape, amount).await
            }
        }
    })
}

async fn bulk_over<T: Io>(
    configs: &Arc<Configs>,
    stack: AsyncStack,
    client: T,
    server: T,
    shape: Shape,
    amount: Amount,
) -> Result<BulkFigure, BoxError> {
    let server_configs = configs.clone();
    let receiver = tokio::spawn(async move {
        let mut conn = Conn::accept(&server_configs, stack, server).await?;
        let mut buf = vec![0u8; shape.read];
        let mut total = 0u64;
        let mut reads = 0u64;
        let mut first: Option<Instant> = None;
        loop {
            let n = conn.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            first.get_or_insert_with(Instant::now);
            total += n as u64;
            reads += 1;
        }
        let seconds = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
        drop(conn);
        Ok::<_, BoxError>((total, seconds, reads))
    });
    let client_configs = configs.clone();
    let sender = tokio::spawn(async move {
        let mut conn = Conn::connect(&client_configs, stack, client, None).await?;
        let body: Vec<u8> = (0..shape.write).map(|i| i as u8).collect();
        let header: Vec<u8> = (0..shape.header).map(|i| !(i as u8)).collect();
        let start = Instant::now();
        let mut sent = 0u64;
        loop {
            match amount {
                Amount::Time(duration) if start.elapsed() >= duration => break,
                Amount::Messages(n) if sent >= n => break,
                _ => {}
            }
            if shape.header == 0 {
                conn.write_all(&body).await?;
            } else {
                let mut slices = [IoSlice::new(&header), IoSlice::new(&body)];
                conn.write_all_vectored(&mut slices).await?;
            }
            sent += 1;
        }
        conn.flush().await?;
        conn.shutdown().await?;
        Ok::<_, BoxError>(conn)
    });
    let (bytes, seconds, reads) = receiver.await??;
    drop(sender.await??);
    Ok(BulkFigure {
        bytes,
        seconds,
        fd_fast_path: false,
        sender_cpu: 0.0,
        receiver_cpu: 0.0,
        reads,
    })
}

/// `count` handshakes one after another, each over a fresh transport, client task and
/// server task. After its handshake the server writes one byte, which the client reads (so
/// it has processed the session tickets); then both drop their end. `resumed` offers the
/// session from the previous connection each time, and checks that it was taken. The same
/// shape as the blocking `measure::handshakes`; over TCP the time includes the loopback
/// connect and accept, alike for both stacks.
pub fn handshakes(
    rt: &Runtime,
    configs: &Arc<Configs>,
    stack: AsyncStack,
    wire: AsyncWire,
    resumed: bool,
    count: usize,
) -> Result<HandshakeFigure, BoxError> {
    rt.block_on(async {
        match wire {
            AsyncWire::Duplex => {
                handshakes_over(configs, stack, resumed, count, || async {
                    Ok(tokio::io::duplex(64 * 1024))
                })
                .await
            }
            AsyncWire::Tcp => {
                let listener = Arc::new(TcpListener::bind("127.0.0.1:0").await?);
                handshakes_over(configs, stack, resumed, count, move || {
                    let listener = listener.clone();
                    async move { tcp_pair(&listener).await }
                })
                .await
            }
        }
    })
}

async fn handshakes_over<T, F, Fut>(
    configs: &Arc<Configs>,
    stack: AsyncStack,
    resumed: bool,
    count: usize,
    pair: F,
) -> Result<HandshakeFigure, BoxError>
where
    T: Io,
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(T, T), BoxError>> + Send,
{
    let (to_server, mut inbox) = tokio::sync::mpsc::channel::<T>(4);
    let server_configs = configs.clone();
    let server = tokio::spawn(async move {
        while let Some(transport) = inbox.recv().await {
            let mut conn = Conn::accept(&server_configs, stack, transport).await?;
            conn.write_all(b"x").await?;
            conn.flush().await?;
        }
        Ok::<_, BoxError>(())
    });
    let client_configs = configs.clone();
    let client = tokio::spawn(async move {
        let configs = &client_configs;
        let connect_once = |ticket: Option<Ticket>| {
            let to_server = to_server.clone();
            let pair = &pair;
            async move {
                let (c, s) = pair().await?;
                to_server
                    .send(s)
                    .await
                    .map_err(|_| "the server task ended")?;
                let mut conn = Conn::connect(configs, stack, c, ticket.as_ref()).await?;
                let mut byte = [0u8; 1];
                conn.read_exact(&mut byte).await?;
                conn.keep_session_on_drop();
                Ok::<_, BoxError>((conn, ticket))
            }
        };
        let (first, _) = connect_once(None).await?;
        let negotiated = first.negotiated();
        let mut ticket = if resumed { first.ticket() } else { None };
        drop(first);
        let start = Instant::now();
        for _ in 0..count {
            let (conn, offered) = connect_once(ticket.take()).await?;
            if resumed {
                if !conn.resumed() {
                    return Err(format!("{}: the session was not resumed", stack.name()).into());
                }
                ticket = conn.ticket().or(offered);
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        drop(to_server);
        Ok::<_, BoxError>(HandshakeFigure {
            count,
            seconds,
            negotiated,
        })
    });
    let result = client.await?;
    // The client task dropped its sender (on success or error), which ends the server loop.
    let served = server.await?;
    let fig = result?;
    served?;
    Ok(fig)
}

//! TLS inside TLS: a client reaches a server through an HTTPS proxy (HTTP `CONNECT`), and the
//! inner TLS connection runs over the outer `SslStream` as its transport.
//!
//! ```text
//! cargo run --example proxy_tunnel
//! ```
//!
//! Three parties in one process, on 127.0.0.1: an origin server ("origin.example"), an HTTPS
//! proxy ("proxy.example") and a client that verifies both, the proxy with the outer
//! handshake and the origin, end to end, with the inner one. The proxy relays the inner
//! records without being able to read them. Prints the exchange and exits 0.
//!
//! ```text
//! client ══ outer TLS, proxy.example ══ proxy ── TCP ── origin
//!        ══════════ inner TLS, origin.example ═════════
//! ```
use sslbridge::{ClientOptions, Context, ServerOptions, SslStream};
use std::error::Error;
use std::io::{self, BufRead, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Bounds every wait, so a misbehaving party cannot hang the others.
const TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> Result<()> {
    // One throwaway CA, made in memory, for every certificate; the client trusts its root.
    let pki = sslbridge::testing::TestPki::new()?;
    let server_context = |name: &str| -> Result<Context> {
        let leaf = pki.server(&[name])?;
        Ok(Context::builder()
            .certificate_chain_pem(&leaf.chain_pem)
            .private_key_pem(&leaf.key_pem)
            .build()?)
    };
    let (origin_ctx, proxy_ctx) = (
        server_context("origin.example")?,
        server_context("proxy.example")?,
    );
    let trust = Context::builder()
        .ca_certificates_pem(&pki.root_pem())
        .build()?;

    let origin_listener = TcpListener::bind("127.0.0.1:0")?;
    let origin_addr = origin_listener.local_addr()?;
    let proxy_listener = TcpListener::bind("127.0.0.1:0")?;
    let proxy_addr = proxy_listener.local_addr()?;
    let origin = std::thread::spawn(move || origin(origin_listener, origin_ctx));
    let proxy = std::thread::spawn(move || proxy(proxy_listener, proxy_ctx, origin_addr));

    // The outer connection: TLS to the proxy. Its timeout bounds each read and write, and so
    // every wait of the inner connection too, which reads and writes through it.
    let tcp = TcpStream::connect_timeout(&proxy_addr, TIMEOUT)?;
    let mut outer = ClientOptions::new()
        .hostname("proxy.example")
        .context(trust.clone())
        .timeout(TIMEOUT)
        .connect(tcp)?;
    println!("client: outer TLS to proxy.example, {}", describe(&outer));

    let target = format!("origin.example:{}", origin_addr.port());
    println!("client > CONNECT {target} HTTP/1.1");
    let connect = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    outer.write_all(connect.as_bytes())?;
    // Read the answer's head line by line and stop at its blank line: what follows belongs to
    // the inner TLS. This is the hazard of STARTTLS: bytes read ahead into a buffer the next
    // layer never sees. `SslStream`'s own BufRead keeps what it reads ahead inside the stream,
    // where the inner connection's reads find it first. A `std::io::BufReader` around `outer`
    // would not: its `into_inner` discards its buffer.
    let status = read_head(&mut outer)?;
    println!("client < {status}");
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("the proxy refused: {status}").into());
    }

    // The inner connection: TLS to the origin, with the outer SslStream as its transport (a
    // custom BIO). No `.timeout()` here: sslbridge cannot bound an SslStream transport and
    // would refuse; the outer stream's timeout does it.
    let mut inner = ClientOptions::new()
        .hostname("origin.example")
        .context(trust)
        .connect(outer)?;
    println!("client: inner TLS to origin.example, {}", describe(&inner));
    println!("client > GET / HTTP/1.1");
    inner.write_all(b"GET / HTTP/1.1\r\nHost: origin.example\r\nConnection: close\r\n\r\n")?;
    inner.shutdown()?; // our close_notify: nothing more to send
    let mut response = String::new();
    inner.read_to_string(&mut response)?; // up to the origin's close_notify
    for line in response.lines() {
        println!("client < {line}");
    }

    // Back to the outer stream, to close the tunnel in order.
    let mut outer = inner.into_inner();
    outer.shutdown()?;
    outer.read_to_end(&mut Vec::new())?; // up to the proxy's close_notify
    outer.close()?;

    let (up, down) = proxy.join().expect("the proxy thread panicked")?;
    println!("proxy: relayed {up} bytes up and {down} down, inner TLS records it cannot read");
    let request = origin.join().expect("the origin thread panicked")?;
    println!("origin: answered {request:?}");
    Ok(())
}

/// The origin: one HTTPS request, answered.
fn origin(listener: TcpListener, ctx: Context) -> Result<String> {
    let (tcp, _) = listener.accept()?;
    let mut tls = ServerOptions::new()
        .context(ctx)
        .timeout(TIMEOUT)
        .accept(tcp)?;
    let request = read_head(&mut tls)?;
    let body = format!("hello from origin.example, over {}\n", describe(&tls));
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(response.as_bytes())?;
    tls.read_to_end(&mut Vec::new())?; // up to the client's close_notify
    tls.close()?;
    Ok(request)
}

/// The proxy: one CONNECT request, then the tunnel. Returns the bytes relayed each way.
fn proxy(listener: TcpListener, ctx: Context, origin_addr: SocketAddr) -> Result<(u64, u64)> {
    let (tcp, _) = listener.accept()?;
    let mut tls = ServerOptions::new()
        .context(ctx)
        .timeout(TIMEOUT)
        .accept(tcp)?;
    // Bytes after the head (none: the client waits for our answer) would stay in `tls`, which
    // goes on to carry the tunnel, so nothing is lost.
    let request = read_head(&mut tls)?;
    // A real proxy resolves the name and applies its policy; this one knows a single name.
    let allowed = format!("CONNECT origin.example:{} HTTP/1.1", origin_addr.port());
    if request != allowed {
        tls.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")?;
        tls.close()?;
        return Err(format!("refused {request:?}").into());
    }
    let mut origin = TcpStream::connect_timeout(&origin_addr, TIMEOUT)?;
    tls.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")?;
    let relayed = splice(&mut tls, &mut origin)?;
    tls.close()?;
    Ok(relayed)
}

/// Copies bytes both ways between the client's TLS stream and the origin's TCP stream until
/// both have closed, and counts them. One thread taking turns, with short read timeouts: an
/// `SslStream` is one TLS state machine, so it cannot be read on one thread while written on
/// another. (A busy proxy would use non-blocking streams under poll/epoll, or tokio.)
fn splice(tls: &mut SslStream<TcpStream>, origin: &mut TcpStream) -> Result<(u64, u64)> {
    const TURN: Duration = Duration::from_millis(10);
    tls.set_read_timeout(Some(TURN))?; // a read timeout leaves the stream usable
    origin.set_read_timeout(Some(TURN))?;
    let (mut up, mut down) = (0u64, 0u64);
    let (mut client_open, mut origin_open) = (true, true);
    let mut buf = vec![0u8; 16 * 1024];
    let mut last_activity = Instant::now();
    while client_open || origin_open {
        if last_activity.elapsed() > TIMEOUT {
            return Err("the tunnel was idle too long".into());
        }
        if client_open {
            match tls.read(&mut buf) {
                // The client's close_notify: pass the end on to the origin.
                Ok(0) => {
                    client_open = false;
                    let _ = origin.shutdown(Shutdown::Write); // the origin may be gone already
                }
                Ok(n) => {
                    origin.write_all(&buf[..n])?;
                    up += n as u64;
                    last_activity = Instant::now();
                }
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if origin_open {
            match origin.read(&mut buf) {
                // The origin hung up: tell the client with our close_notify.
                Ok(0) => {
                    origin_open = false;
                    tls.shutdown()?;
                }
                Ok(n) => {
                    tls.write_all(&buf[..n])?;
                    down += n as u64;
                    last_activity = Instant::now();
                }
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok((up, down))
}

/// A read timeout: `TimedOut` from an `SslStream`, `WouldBlock` from a Unix socket.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Reads an HTTP head up to its blank line, one line at a time; returns the first line.
fn read_head(r: &mut impl BufRead) -> io::Result<String> {
    let mut first = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(first.unwrap_or_default());
        }
        first.get_or_insert_with(|| line.to_string());
    }
}

/// The negotiated protocol and cipher.
fn describe<T>(tls: &SslStream<T>) -> String {
    format!(
        "{}, {}",
        tls.protocol_version().map_or("?", |p| p.name()),
        tls.cipher_name().unwrap_or("?")
    )
}

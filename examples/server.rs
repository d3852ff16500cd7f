//! An HTTPS-ish test server, like `openssl s_server -www`: for each connection (one thread
//! each) it reads the request up to the blank line, answers with a small HTTP/1.0 page naming
//! the negotiated protocol and cipher in a single write, then closes with close_notify. A
//! client that closes (close_notify) before sending a request gets our close_notify back and
//! no page.
//!
//! ```text
//! cargo run --example server -- --port 4433                # in-memory test certificate
//! cargo run --example server -- --port 4433 --cert server.pem --key server.key --alpn h2,http/1.1
//! ```
//! It prints `listening on ADDR` once ready (use `--port 0` for any free port).
use clap::Parser;
use sslbridge::{Context, Protocol, ServerOptions, SslStream, VerifyLocation, VerifyMode};
use std::io::{BufRead, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(about = "A TLS test server in the spirit of `openssl s_server -www`")]
struct Args {
    /// Port to listen on (0: any free port).
    #[arg(long, default_value_t = 4433)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Certificate chain file (PEM); without it an in-memory test certificate is used.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Private key file (PEM).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// ALPN protocols in preference order, comma-separated.
    #[arg(long, value_delimiter = ',')]
    alpn: Vec<String>,
    /// Refuse anything but TLS 1.3.
    #[arg(long)]
    tls13_only: bool,
    /// Require a client certificate issued by a CA in this file.
    #[arg(long, value_name = "CAFILE")]
    require_client_cert: Option<PathBuf>,
    /// Force the custom BIO even on sockets.
    #[arg(long)]
    no_fd_fast_path: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let context = build_context(&args)?;
    let listener = TcpListener::bind((args.bind.as_str(), args.port))?;
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;
    for tcp in listener.incoming() {
        let tcp = match tcp {
            Ok(tcp) => tcp,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        let context = context.clone();
        let alpn = args.alpn.clone();
        let unwrap_fd = !args.no_fd_fast_path;
        std::thread::spawn(move || {
            let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            if let Err(e) = serve(tcp, context, &alpn, unwrap_fd) {
                eprintln!("{peer}: {e}");
            }
        });
    }
    Ok(())
}

/// One context for every connection: certificates, versions, client verification; the
/// session cache and tickets stay on, as OpenSSL's defaults.
fn build_context(args: &Args) -> Result<Context, Box<dyn std::error::Error>> {
    let mut builder = Context::builder().verify_mode(VerifyMode::NONE);
    builder = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => builder.certificate_chain_file(cert).private_key_file(key),
        _ => {
            let pki = sslbridge::testing::TestPki::new()?;
            let leaf = pki.server(&["localhost", "127.0.0.1", "::1"])?;
            eprintln!("using an in-memory test certificate for localhost (root below)");
            eprint!("{}", String::from_utf8_lossy(&pki.root_pem()));
            builder
                .certificate_chain_pem(&leaf.chain_pem)
                .private_key_pem(&leaf.key_pem)
        }
    };
    if args.tls13_only {
        builder = builder.min_protocol_version(Protocol::Tls1_3);
    }
    if let Some(ca) = &args.require_client_cert {
        builder = builder
            .verify_location(VerifyLocation::File(ca.clone()))
            .verify_mode(VerifyMode::PEER | VerifyMode::FAIL_IF_NO_PEER_CERT);
    }
    Ok(builder.build()?)
}

fn serve(
    tcp: TcpStream,
    context: Context,
    alpn: &[String],
    unwrap_fd: bool,
) -> Result<(), sslbridge::Error> {
    let alpn: Vec<&str> = alpn.iter().map(String::as_str).collect();
    // start() + handshake() rather than accept(): on failure we keep the socket to close it
    // gracefully.
    let mut tls = ServerOptions::new()
        .context(context)
        .alpn_protocols(&alpn)
        .unwrap_fd(unwrap_fd)
        .timeout(Duration::from_secs(30))
        .start(tcp)?;
    if let Err(e) = tls.handshake().and_then(|()| respond(&mut tls)) {
        close_after_error(tls);
        return Err(e);
    }
    tls.close()
}

/// Reads the request up to its blank line and answers it in one write.
fn respond(tls: &mut SslStream<TcpStream>) -> Result<(), sslbridge::Error> {
    let mut request_lines = 0;
    let mut line = String::new();
    loop {
        line.clear();
        // Ok(0) is the client's close_notify: a clean end, not a truncation.
        if tls.read_line(&mut line)? == 0 {
            if request_lines == 0 {
                // No request, so no page: serve() answers the close_notify with ours.
                return Ok(());
            }
            break;
        }
        if line.trim_end().is_empty() {
            break;
        }
        request_lines += 1;
    }
    let body = format!(
        "<html><body><h1>sslbridge test server</h1>\n<p>Protocol: {}</p>\n<p>Cipher: {}</p>\n\
         <p>ALPN: {}</p>\n<p>Resumed: {}</p>\n<p>Request lines: {request_lines}</p>\n</body></html>\n",
        tls.protocol_version().map_or("?".to_string(), |p| p.to_string()),
        tls.cipher_name().unwrap_or("?"),
        tls.selected_alpn_protocol().unwrap_or("none"),
        tls.session_reused(),
    );
    let response = format!(
        "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // One write: one TLS record carrying the whole response.
    tls.write_all(response.as_bytes())?;
    tls.flush()?;
    Ok(())
}

/// After a fatal error OpenSSL has already sent its alert; stop writing and drain what the
/// peer still sends, so it reads the alert instead of a connection reset.
fn close_after_error(tls: SslStream<TcpStream>) {
    let mut tcp = tls.into_inner();
    let _ = tcp.shutdown(Shutdown::Write);
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(200)));
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut sink = [0u8; 4096];
    while Instant::now() < deadline {
        match tcp.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

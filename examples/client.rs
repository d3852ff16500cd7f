//! A TLS client like `openssl s_client`: connects, verifies, prints the negotiated parameters
//! and the peer certificate (to stderr), copies stdin to the server and the answer to stdout.
//!
//! ```text
//! printf 'GET / HTTP/1.0\r\n\r\n' | cargo run --example client -- 127.0.0.1:4433 --ca root.pem --servername localhost
//! cargo run --example client -- 127.0.0.1:4433 --no-verify
//! ```
use clap::Parser;
use sslbridge::{ClientOptions, Context, Protocol, Verify, VerifyLocation};
use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(about = "A TLS client in the spirit of `openssl s_client`")]
struct Args {
    /// HOST:PORT to connect to.
    address: String,
    /// Name to send as SNI and to verify (default: the host part of the address).
    #[arg(long)]
    servername: Option<String>,
    /// Trust the CA certificates in this PEM file (default: the system's).
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Do not verify the server at all.
    #[arg(long)]
    no_verify: bool,
    /// ALPN protocols to offer, comma-separated.
    #[arg(long, value_delimiter = ',')]
    alpn: Vec<String>,
    /// Client certificate chain (PEM).
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Refuse anything but TLS 1.3.
    #[arg(long)]
    tls13_only: bool,
    /// Force the custom BIO even on sockets.
    #[arg(long)]
    no_fd_fast_path: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let host = args
        .servername
        .clone()
        .unwrap_or_else(|| host_part(&args.address).to_string());
    let mut context = Context::builder();
    if let Some(ca) = &args.ca {
        context = context.verify_location(VerifyLocation::File(ca.clone()));
    }
    if args.tls13_only {
        context = context.min_protocol_version(Protocol::Tls1_3);
    }
    let alpn: Vec<&str> = args.alpn.iter().map(String::as_str).collect();
    let mut options = ClientOptions::new()
        .hostname(&host)
        .verify(if args.no_verify {
            Verify::None
        } else {
            Verify::Required
        })
        .context(context.build()?)
        .alpn_protocols(&alpn)
        .unwrap_fd(!args.no_fd_fast_path)
        .timeout(Duration::from_secs(30));
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        options = options.certificate_file(cert).private_key_file(key);
    }
    let mut tls = options.connect(TcpStream::connect(&args.address)?)?;

    eprintln!("---");
    eprintln!(
        "Protocol  : {}",
        tls.protocol_version().map_or("?".into(), |p| p.to_string())
    );
    eprintln!("Cipher    : {}", tls.cipher_name().unwrap_or("?"));
    eprintln!(
        "ALPN      : {}",
        tls.selected_alpn_protocol().unwrap_or("none")
    );
    eprintln!("Resumed   : {}", tls.session_reused());
    eprintln!("Fd path   : {}", tls.uses_fd_fast_path());
    if let Some(cert) = tls.peer_certificate() {
        eprintln!("Subject   : {}", cert.subject_name());
        eprintln!("Issuer    : {}", cert.issuer_name());
        eprintln!("DNS names : {}", cert.dns_names().join(", "));
    }
    eprintln!("---");

    // stdin is read on its own thread; the TLS stream alternates between sending what
    // arrived and reading with a short timeout (a read timeout leaves the stream usable).
    let (lines, from_stdin) = mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut stdin = stdin.lock();
        loop {
            let mut line = Vec::new();
            match stdin.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            }
        }
    });
    tls.set_read_timeout(Some(Duration::from_millis(50)))?;
    let mut stdout = std::io::stdout();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        while let Ok(line) = from_stdin.try_recv() {
            tls.write_all(&line)?;
        }
        match tls.read(&mut buf) {
            Ok(0) => break, // the server's close_notify
            Ok(n) => {
                stdout.write_all(&buf[..n])?;
                stdout.flush()?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) => return Err(e.into()),
        }
    }
    tls.close()?;
    Ok(())
}

fn host_part(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(h, _)| h);
    host.trim_start_matches('[').trim_end_matches(']')
}

//! STARTTLS done safely: a plaintext, line-based protocol (SMTP-like) upgraded to TLS in the
//! middle of a TCP connection.
//!
//! ```text
//! cargo run --example starttls
//! ```
//!
//! A server thread and a client run on 127.0.0.1 and the client prints the exchange. The
//! first connection upgrades. On the second, the server (standing in for an attacker on the
//! path) appends a plaintext line to its go-ahead; the client finds it in its buffer and
//! refuses to upgrade (CVE-2011-0411). Exits 0 when both went as described.
use sslbridge::{ClientOptions, Context, ServerOptions};
use std::error::Error;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Bounds every wait, so a misbehaving peer cannot hang either side.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Plaintext that arrived after the upgrade point. Whoever sent it is not the peer TLS is
/// about to authenticate, so the connection cannot be trusted.
#[derive(Debug)]
struct PlaintextAfterUpgrade(usize);

impl std::fmt::Display for PlaintextAfterUpgrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} plaintext bytes after the STARTTLS go-ahead", self.0)
    }
}

impl Error for PlaintextAfterUpgrade {}

/// The safe hand-over, used by both sides: the socket for TLS, or a refusal.
fn into_tls_transport(plain: BufReader<TcpStream>) -> Result<TcpStream, PlaintextAfterUpgrade> {
    // Bytes the BufReader already holds arrived as plaintext *after* the upgrade command. Read
    // later as if TLS had protected them, they are the injection of CVE-2011-0411; dropped
    // silently, they hide an attack. So refuse. (Plaintext still in the socket is harmless:
    // the TLS handshake rejects it, as it is not a TLS record.)
    if !plain.buffer().is_empty() {
        return Err(PlaintextAfterUpgrade(plain.buffer().len()));
    }
    // Hand TLS the TcpStream itself, not the BufReader: sslbridge then uses the fd fast path
    // and enforces the timeout (it refuses a timeout on a transport it cannot bound).
    Ok(plain.into_inner())
}

fn main() -> Result<(), Box<dyn Error>> {
    // Throwaway certificates, made in memory: the server's for "mail.example", and a client
    // context that trusts their root.
    let pki = sslbridge::testing::TestPki::new()?;
    let leaf = pki.server(&["mail.example"])?;
    let server_ctx = Context::builder()
        .certificate_chain_pem(&leaf.chain_pem)
        .private_key_pem(&leaf.key_pem)
        .build()?;
    let client_ctx = Context::builder()
        .ca_certificates_pem(&pki.root_pem())
        .build()?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server = std::thread::spawn(move || -> Result<(), Box<dyn Error + Send + Sync>> {
        for inject in [false, true] {
            let (tcp, _) = listener.accept()?;
            serve(tcp, &server_ctx, inject)?;
        }
        Ok(())
    });

    println!("-- connection 1: an honest server");
    client(addr, &client_ctx)?;

    println!("-- connection 2: plaintext injected after the go-ahead");
    match client(addr, &client_ctx) {
        Err(e) if e.is::<PlaintextAfterUpgrade>() => println!("client refused to upgrade: {e}"),
        Err(e) => return Err(e),
        Ok(()) => return Err("the injected plaintext went unnoticed".into()),
    }

    server
        .join()
        .expect("the server thread panicked")
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The client: greeting, STARTTLS, go-ahead, then TLS on the same connection.
fn client(addr: SocketAddr, ctx: &Context) -> Result<(), Box<dyn Error>> {
    let tcp = TcpStream::connect_timeout(&addr, TIMEOUT)?;
    tcp.set_read_timeout(Some(TIMEOUT))?;
    // Lines are read through a BufReader; writes go straight to the socket (get_mut).
    let mut plain = BufReader::new(tcp);
    receive(&mut plain)?;
    send(plain.get_mut(), "STARTTLS")?;
    if !receive(&mut plain)?.starts_with("220") {
        return Err("the server declined STARTTLS".into());
    }

    let tcp = into_tls_transport(plain)?;
    let mut tls = ClientOptions::new()
        .hostname("mail.example") // verified against the certificate
        .context(ctx.clone())
        .timeout(TIMEOUT)
        .connect(tcp)?;
    println!(
        "   [TLS: {}, {}, fd fast path: {}]",
        tls.protocol_version().map_or("?", |p| p.name()),
        tls.cipher_name().unwrap_or("?"),
        tls.uses_fd_fast_path()
    );
    // The protocol starts over inside TLS: nothing said in plaintext is trusted.
    send(&mut tls, "EHLO client.example")?;
    receive(&mut tls)?;
    send(&mut tls, "QUIT")?;
    receive(&mut tls)?;
    tls.close()?;
    Ok(())
}

/// The server: one connection. With `inject`, it appends a line to its go-ahead in the same
/// write, as an attacker on the path would.
fn serve(tcp: TcpStream, ctx: &Context, inject: bool) -> Result<(), Box<dyn Error + Send + Sync>> {
    tcp.set_read_timeout(Some(TIMEOUT))?;
    let mut plain = BufReader::new(tcp);
    write_line(plain.get_mut(), "220 mail.example ready")?;
    if read_line(&mut plain)? != "STARTTLS" {
        write_line(plain.get_mut(), "502 STARTTLS first")?;
        return Ok(());
    }
    if inject {
        plain
            .get_mut()
            .write_all(b"220 go ahead\r\n250 injected: mail from anyone accepted\r\n")?;
        // Wait for the client to hang up.
        plain.read_to_end(&mut Vec::new())?;
        return Ok(());
    }
    write_line(plain.get_mut(), "220 go ahead")?;

    // The same check protects the server (the original CVE-2011-0411 was in servers): a
    // client that pipelined commands after STARTTLS is refused.
    let tcp = into_tls_transport(plain)?;
    let mut tls = ServerOptions::new()
        .context(ctx.clone())
        .timeout(TIMEOUT)
        .accept(tcp)?;
    let protocol = tls.protocol_version().map_or("?", |p| p.name());
    loop {
        let command = read_line(&mut tls)?;
        if command == "QUIT" {
            write_line(&mut tls, "221 bye")?;
            break;
        }
        let reply = format!("250 '{command}' received over {protocol}");
        write_line(&mut tls, &reply)?;
    }
    // Wait for the client's close_notify, then answer it with ours.
    tls.read_to_end(&mut Vec::new())?;
    tls.close()?;
    Ok(())
}

fn send(w: &mut impl Write, line: &str) -> io::Result<()> {
    println!("C: {line}");
    write_line(w, line)
}

fn receive(r: &mut impl BufRead) -> io::Result<String> {
    let line = read_line(r)?;
    println!("S: {line}");
    Ok(line)
}

fn write_line(w: &mut impl Write, line: &str) -> io::Result<()> {
    w.write_all(format!("{line}\r\n").as_bytes())
}

/// One line without its line end; the connection closing first is an error.
fn read_line(r: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end().to_string())
}

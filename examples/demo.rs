//! sslbridge in one page: a TLS 1.3 client and server talking over an in-memory pipe.
//!
//! Run it with `cargo run --example demo` (no arguments, files or network needed). It makes a
//! throwaway CA and server certificate in memory, connects a client that verifies the
//! server's chain and host name, pushes 64 MiB through the connection and prints what was
//! negotiated and how fast it went. Use `--release` for a realistic throughput figure.

use std::io::{Read, Write};
use std::time::Instant;

use sslbridge::{ClientOptions, Context, Protocol, ServerOptions, Verify};

/// How much the client sends; the server answers with a short summary.
const TOTAL: usize = 64 * 1024 * 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. Certificates. A test CA and a server certificate for "localhost", made in memory.
    //    In real code you would load yours with certificate_chain_file / private_key_file.
    let pki = sslbridge::testing::TestPki::new()?;
    let server_cert = pki.server(&["localhost"])?;

    // 2. Contexts: the shared settings. Both sides insist on TLS 1.3; the client trusts our CA.
    let client_ctx = Context::builder()
        .min_protocol_version(Protocol::Tls1_3)
        .ca_certificates_pem(&pki.root_pem())
        .build()?;
    let server_ctx = Context::builder()
        .min_protocol_version(Protocol::Tls1_3)
        .verify_mode(sslbridge::VerifyMode::NONE) // don't ask the client for a certificate
        .certificate_chain_pem(&server_cert.chain_pem)
        .private_key_pem(&server_cert.key_pem)
        .build()?;

    // 3. A transport. Any Read + Write works (TcpStream, pipes, ...); here an in-memory pipe
    //    whose ends buffer up to 256 KiB each way.
    let (client_end, server_end) = sslbridge::duplex(256 * 1024);

    // 4. The server, on its own thread: accept, read everything, report how much it got.
    let server = std::thread::spawn(move || -> Result<(), sslbridge::Error> {
        let mut tls = ServerOptions::new()
            .context(server_ctx)
            .alpn_protocols(&["http/1.1"])
            .accept(server_end)?;
        let mut buf = vec![0u8; 1024 * 1024];
        let mut received = 0usize;
        loop {
            // Ok(0) only after the client's close_notify: a clean end, not a truncation.
            let n = tls.read(&mut buf)?;
            if n == 0 {
                break;
            }
            received += n;
        }
        tls.write_all(format!("server received {received} bytes").as_bytes())?;
        tls.close() // sends our close_notify and frees the connection
    });

    // 5. The client: verify the chain (Verify::Required is the default) and the host name.
    let mut tls = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(client_ctx)
        .alpn_protocols(&["h2", "http/1.1"])
        .connect(client_end)?;

    let peer = tls
        .peer_certificate()
        .map(|c| c.subject_name())
        .unwrap_or_default();
    println!("OpenSSL:   {}", sslbridge::openssl_version());
    println!(
        "protocol:  {}",
        tls.protocol_version().map_or("?", |p| p.name())
    );
    println!("cipher:    {}", tls.cipher_name().unwrap_or("?"));
    println!(
        "ALPN:      {}",
        tls.selected_alpn_protocol().unwrap_or("(none)")
    );
    println!("peer:      {peer}");

    // 6. Send 64 MiB in 1 MiB writes, then shutdown() (close_notify) so the server's read
    //    loop ends, and read its answer until its own close_notify.
    let chunk: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let start = Instant::now();
    for _ in 0..TOTAL / chunk.len() {
        tls.write_all(&chunk)?;
    }
    tls.shutdown()?;
    let mut answer = String::new();
    tls.read_to_string(&mut answer)?;
    let elapsed = start.elapsed();
    server.join().expect("the server thread panicked")?;

    let mb = TOTAL as f64 / 1e6;
    println!("answer:    {answer}");
    println!(
        "transfer:  {:.0} MB in {:.2} s = {:.1} MB/s",
        mb,
        elapsed.as_secs_f64(),
        mb / elapsed.as_secs_f64()
    );
    assert_eq!(answer, format!("server received {TOTAL} bytes"));
    Ok(())
}

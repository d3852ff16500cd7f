#![cfg_attr(not(unix), allow(unused))]
//! TLS over a child process's pipes, on the fd fast path.
//!
//! The program re-executes itself as a child that runs a TLS server on its own stdin/stdout;
//! the parent is the client over the child's pipes. No sockets, no files:
//!
//! ```text
//! cargo run --release --example pipe [MEBIBYTES]
//! ```
use sslbridge::testing::TestPki;
use sslbridge::{ClientOptions, Context, Pipes, ServerOptions, Verify};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

const CHILD_FLAG: &str = "--tls-server-on-stdio";

#[cfg(not(unix))]
fn main() {
    eprintln!("pipe: the fd fast path over a child's pipes needs Unix");
}

#[cfg(unix)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some(CHILD_FLAG) => child(),
        size => parent(size.map(str::parse).transpose()?.unwrap_or(64)),
    }
}

/// The parent: spawn ourselves, then be a TLS client over the child's stdout/stdin.
#[cfg(unix)]
fn parent(mebibytes: usize) -> Result<(), Box<dyn std::error::Error>> {
    let pki = TestPki::new()?;
    let server = pki.server(&["localhost"])?;
    let mut child = Command::new(std::env::current_exe()?)
        .arg(CHILD_FLAG)
        .env(
            "PIPE_DEMO_CHAIN",
            String::from_utf8(server.chain_pem.clone())?,
        )
        .env("PIPE_DEMO_KEY", String::from_utf8(server.key_pem.clone())?)
        .env("PIPE_DEMO_BYTES", (mebibytes << 20).to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;

    // ChildStdout and ChildStdin are descriptors: sslbridge gives OpenSSL one fd BIO per
    // direction and never calls back into Rust on the record path.
    let pipes = Pipes::new(child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let trust = Context::builder()
        .ca_certificates_pem(&pki.root_pem())
        .build()?;
    let mut tls = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(trust)
        .connect(pipes)?;
    println!(
        "client: {} {} over pipes, fd fast path: {}, server: {}",
        tls.protocol_version().map_or("?".into(), |p| p.to_string()),
        tls.cipher_name().unwrap_or("?"),
        tls.uses_fd_fast_path(),
        tls.peer_certificate()
            .map(|c| c.subject_name())
            .unwrap_or_default(),
    );

    let start = Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0usize;
    loop {
        let n = tls.read(&mut buf)?; // Ok(0) only after the child's close_notify
        if n == 0 {
            break;
        }
        total += n;
    }
    let secs = start.elapsed().as_secs_f64();
    tls.close()?;
    let status = child.wait()?;
    println!(
        "received {} MiB in {:.3} s: {:.0} MB/s (child exited with {status})",
        total >> 20,
        secs,
        total as f64 / secs / 1e6
    );
    if total != mebibytes << 20 {
        return Err(format!("expected {} bytes, got {total}", mebibytes << 20).into());
    }
    Ok(())
}

/// The child: a TLS server on its own stdin/stdout, streaming the requested bytes.
#[cfg(unix)]
fn child() -> Result<(), Box<dyn std::error::Error>> {
    let chain = std::env::var("PIPE_DEMO_CHAIN")?;
    let key = std::env::var("PIPE_DEMO_KEY")?;
    let bytes: usize = std::env::var("PIPE_DEMO_BYTES")?.parse()?;
    // The child's whole side: its stdin and stdout on the fd path (OpenSSL writes the
    // descriptors itself, so Stdout's line buffer is never involved and nothing needs flushing).
    let mut tls = ServerOptions::new()
        .certificate_chain_pem(chain.as_bytes())
        .private_key_pem(key.as_bytes())
        .accept(Pipes::from_fds(std::io::stdin(), std::io::stdout()))?;
    eprintln!(
        "child: server on stdin/stdout, fd fast path: {}",
        tls.uses_fd_fast_path()
    );
    let block = vec![0x5au8; 64 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len());
        tls.write_all(&block[..n])?;
        left -= n;
    }
    tls.close()?;
    Ok(())
}

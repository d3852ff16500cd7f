//! `openssl s_server` / `s_client` processes.

use super::files::TempFiles;
use super::net::connect;
use super::process::{start_server, ChildGuard};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

/// A running `openssl s_server`.
pub struct SServer {
    pub process: ChildGuard,
    pub port: u16,
}

impl SServer {
    /// Starts `openssl s_server -accept 127.0.0.1:PORT <args>` (stdin kept open) and waits
    /// until it accepts connections.
    pub fn start(files: &TempFiles, args: &[&str]) -> SServer {
        let (process, port) = start_server("openssl", files.path(), "s_server", |port| {
            let mut all = vec![
                "s_server".to_string(),
                "-accept".to_string(),
                format!("127.0.0.1:{port}"),
            ];
            all.extend(args.iter().map(|a| a.to_string()));
            all
        });
        SServer { process, port }
    }

    /// A connection to it, with 10 s socket timeouts.
    pub fn connect(&self) -> TcpStream {
        connect(self.port)
    }

    /// s_server's output so far, after giving it a moment to flush.
    pub fn output_after(&self, pause: Duration) -> String {
        thread::sleep(pause);
        self.process.output()
    }
}

/// Starts `openssl s_client -connect 127.0.0.1:PORT <args>`, stdin kept open (so it does not
/// quit at stdin EOF before the server's data has arrived).
pub fn s_client(files: &TempFiles, port: u16, args: &[&str], tag: &str) -> ChildGuard {
    let connect = format!("127.0.0.1:{port}");
    let mut all = vec!["s_client", "-connect", &connect];
    all.extend_from_slice(args);
    ChildGuard::spawn_logged("openssl", &all, files.file(&format!("s_client-{tag}.out")))
}

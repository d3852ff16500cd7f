//! Memory per idle connection pair, measured in a fresh process per stack and scenario: idle
//! after the handshake, or idle after a 16 KiB transfer; over the in-memory pipe or a Unix
//! socket pair (where sslbridge takes the fd path unless told not to).
//!
//! OpenSSL's allocations are counted through `CRYPTO_set_mem_functions`, which only works
//! before OpenSSL allocates anything (hence the fresh process); Rust-heap allocations are
//! counted by a global allocator. Both keep live bytes, so the figure is what 1,000 idle
//! pairs hold, divided by 1,000. The transports are made (and the in-memory pipes grown to
//! their full size) before counting starts, so their memory is not counted: the transport is
//! the same for all stacks and not theirs.

use crate::measure::Wire;
use crate::stacks::{BoxError, Configs, Groups, Material, Stack};
use sslbridge::Transport;
use std::io::{self, Read, Write};

#[path = "../../tests/support/heap_counters.rs"]
mod heap_counters;
use heap_counters::live;
pub use heap_counters::CountingAlloc;

/// Routes OpenSSL's allocations through the counters; must run before OpenSSL allocates.
pub fn install_openssl_counters() -> Result<(), BoxError> {
    Ok(heap_counters::install_openssl_counters()?)
}

/// What the pairs have done before they are counted, and over which transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// The client has sent 16 KiB to the server (after the handshake and the server's one
    /// byte), so both have moved application data and are now idle.
    pub after_transfer: bool,
    pub wire: Wire,
}

/// The bytes the client sends in an after-transfer scenario: one full record.
pub const TRANSFER: usize = 16 * 1024;

impl Scenario {
    pub fn name(self) -> String {
        format!(
            "{}/{}",
            if self.after_transfer {
                "after-transfer"
            } else {
                "idle"
            },
            self.wire.name()
        )
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        let (kind, wire) = s.split_once('/')?;
        let after_transfer = match kind {
            "idle" => false,
            "after-transfer" => true,
            _ => return None,
        };
        let wire = [Wire::Duplex, Wire::Unix]
            .into_iter()
            .find(|w| w.name() == wire)?;
        Some(Scenario {
            after_transfer,
            wire,
        })
    }
}

/// The child's work: `pairs` idle pairs of `stack` in `scenario`, one JSON line on stdout.
pub fn child(stack: Stack, scenario: Scenario, pairs: usize) -> Result<(), BoxError> {
    // Every transport is made before counting starts, so none of its memory is counted.
    let count = pairs + WARM_UP;
    match scenario.wire {
        #[cfg(unix)]
        Wire::Unix => {
            let transports = (0..count)
                .map(|_| std::os::unix::net::UnixStream::pair())
                .collect::<Result<Vec<_>, _>>()?;
            child_over(stack, scenario, pairs, transports)
        }
        _ => {
            // Each direction grown to its full capacity first: a `MemoryPipe` keeps its
            // storage, so it allocates nothing once counting starts. (A wrapper that hid
            // the pipe's allocations would also hide the pipe from sslbridge, which would
            // then not use its zero-copy hand-off.)
            let transports = (0..count)
                .map(|_| -> io::Result<_> {
                    let (mut c, mut s) = sslbridge::duplex(PIPE);
                    let mut fill = vec![0u8; PIPE];
                    c.write_all(&fill)?;
                    s.read_exact(&mut fill)?;
                    s.write_all(&fill)?;
                    c.read_exact(&mut fill)?;
                    Ok((c, s))
                })
                .collect::<Result<Vec<_>, _>>()?;
            child_over(stack, scenario, pairs, transports)
        }
    }
}

/// Pairs made and dropped before counting: one-time state (providers, error strings, ticket
/// keys) is not per pair.
const WARM_UP: usize = 3;

/// Each direction's capacity of the in-memory pipes.
const PIPE: usize = 32 * 1024;

fn child_over<T: Transport + Send + 'static>(
    stack: Stack,
    scenario: Scenario,
    pairs: usize,
    transports: Vec<(T, T)>,
) -> Result<(), BoxError> {
    heap_counters::start_counting();
    let mut transports = transports.into_iter();
    let material = Material::generate()?;
    let configs = std::sync::Arc::new(Configs::new(&material, Groups::X25519)?);

    // One persistent server thread (a thread per pair would leave per-thread OpenSSL state
    // in the count); channels are bounded so their buffers are allocated up front.
    let (to_server, server_in) = std::sync::mpsc::sync_channel::<Option<T>>(1);
    let (server_out, from_server) = std::sync::mpsc::sync_channel(1);
    let server_configs = configs.clone();
    let server = std::thread::spawn(move || {
        let mut received = vec![0u8; TRANSFER];
        while let Ok(Some(transport)) = server_in.recv() {
            let conn = server_configs.accept(stack, transport).and_then(|mut c| {
                c.write_all(b"x")?;
                c.flush()?;
                if scenario.after_transfer {
                    c.read_exact(&mut received)?;
                }
                Ok(c)
            });
            let failed = conn.is_err();
            if server_out.send(conn.map_err(|e| e.to_string())).is_err() || failed {
                break;
            }
        }
    });
    let sent = vec![0x5au8; TRANSFER];
    let mut one_pair = || -> Result<_, BoxError> {
        let (c, s) = transports.next().ok_or("out of transports")?;
        to_server
            .send(Some(s))
            .map_err(|_| "the server thread ended")?;
        let mut client = configs.connect(stack, c, None, false)?;
        let mut byte = [0u8; 1];
        client.read_exact(&mut byte)?;
        if scenario.after_transfer {
            client.write_all(&sent)?;
            client.flush()?;
        }
        let server = from_server.recv()??;
        Ok((client, server))
    };

    for _ in 0..WARM_UP {
        drop(one_pair()?);
    }
    let mut held = Vec::with_capacity(pairs);
    let before = live();
    for _ in 0..pairs {
        held.push(one_pair()?);
    }
    let after = live();
    let negotiated = held
        .first()
        .map(|(c, _)| c.negotiated())
        .unwrap_or_default();
    let fd_fast_path = held.first().is_some_and(|(c, _)| c.uses_fd_fast_path());
    let result = serde_json::json!({
        "stack": stack.name(),
        "scenario": scenario.name(),
        "pairs": pairs,
        "openssl_bytes": after.openssl_bytes - before.openssl_bytes,
        "rust_bytes": after.rust_bytes - before.rust_bytes,
        "openssl_allocations": after.openssl_allocations - before.openssl_allocations,
        "rust_allocations": after.rust_allocations - before.rust_allocations,
        "negotiated": negotiated,
        "fd_fast_path": fd_fast_path,
    });
    println!("{result}");
    to_server
        .send(None)
        .map_err(|_| "the server thread ended")?;
    server.join().map_err(|_| "server thread panicked")?;
    drop(held);
    Ok(())
}

/// The figures one child reported.
#[derive(Clone, Debug)]
pub struct MemoryFigure {
    pub stack: Stack,
    pub scenario: Scenario,
    pub pairs: usize,
    pub openssl_bytes: f64,
    pub rust_bytes: f64,
    pub openssl_allocations: f64,
    pub rust_allocations: f64,
}

impl MemoryFigure {
    pub fn total_per_pair(&self) -> f64 {
        (self.openssl_bytes + self.rust_bytes) / self.pairs as f64
    }
}

/// Runs the child for `stack` and `scenario` in a fresh process of this same binary.
pub fn measure(stack: Stack, scenario: Scenario, pairs: usize) -> Result<MemoryFigure, BoxError> {
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .args([
            "--memory-child",
            stack.name(),
            "--scenario",
            &scenario.name(),
            "--pairs",
            &pairs.to_string(),
        ])
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("memory child for {} failed: {}", stack.name(), out.status).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .ok_or("memory child printed no figure")?;
    let v: serde_json::Value = serde_json::from_str(line)?;
    let num = |k: &str| v[k].as_f64().ok_or_else(|| format!("missing {k}"));
    Ok(MemoryFigure {
        stack,
        scenario,
        pairs,
        openssl_bytes: num("openssl_bytes")?,
        rust_bytes: num("rust_bytes")?,
        openssl_allocations: num("openssl_allocations")?,
        rust_allocations: num("rust_allocations")?,
    })
}

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
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{self, Read, Write};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

/// Counts live Rust-heap bytes while [`COUNTING`] is on (only in a memory child).
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static RUST_LIVE: AtomicI64 = AtomicI64::new(0);
static RUST_ALLOCS: AtomicU64 = AtomicU64::new(0);
static OPENSSL_LIVE: AtomicI64 = AtomicI64::new(0);
static OPENSSL_ALLOCS: AtomicU64 = AtomicU64::new(0);

fn counted() -> bool {
    COUNTING.load(Relaxed)
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are
// side effects that never touch the memory.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counted() {
            RUST_LIVE.fetch_add(layout.size() as i64, Relaxed);
            RUST_ALLOCS.fetch_add(1, Relaxed);
        }
        // SAFETY: forwarded with the caller's own (valid) layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if counted() {
            RUST_LIVE.fetch_add(layout.size() as i64, Relaxed);
            RUST_ALLOCS.fetch_add(1, Relaxed);
        }
        // SAFETY: forwarded with the caller's own (valid) layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counted() {
            RUST_LIVE.fetch_sub(layout.size() as i64, Relaxed);
        }
        // SAFETY: ptr was allocated by System with this layout (every path above forwards).
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counted() {
            RUST_LIVE.fetch_add(new_size as i64 - layout.size() as i64, Relaxed);
        }
        // SAFETY: forwarded unchanged; ptr/layout came from this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// A header in front of each OpenSSL allocation remembers its size for `free`.
const HEADER: usize = 16;

fn openssl_layout(size: usize) -> Option<Layout> {
    Layout::from_size_align(size.checked_add(HEADER)?, HEADER).ok()
}

unsafe extern "C" fn ossl_malloc(size: usize, _file: *const c_char, _line: c_int) -> *mut c_void {
    let Some(layout) = openssl_layout(size) else {
        return std::ptr::null_mut();
    };
    // SAFETY: the layout has a non-zero size (the header).
    let base = unsafe { System.alloc(layout) };
    if base.is_null() {
        return base.cast();
    }
    OPENSSL_LIVE.fetch_add(size as i64, Relaxed);
    OPENSSL_ALLOCS.fetch_add(1, Relaxed);
    // SAFETY: base is a fresh block of HEADER + size bytes aligned to 16.
    unsafe {
        base.cast::<usize>().write(size);
        base.add(HEADER).cast()
    }
}

unsafe extern "C" fn ossl_free(ptr: *mut c_void, _file: *const c_char, _line: c_int) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: ptr came from ossl_malloc/ossl_realloc, so a size header sits HEADER bytes
    // before it, and the block was allocated with openssl_layout(size).
    unsafe {
        let base = ptr.cast::<u8>().sub(HEADER);
        let size = base.cast::<usize>().read();
        OPENSSL_LIVE.fetch_sub(size as i64, Relaxed);
        System.dealloc(
            base,
            openssl_layout(size).expect("layout was valid at allocation"),
        );
    }
}

unsafe extern "C" fn ossl_realloc(
    ptr: *mut c_void,
    size: usize,
    file: *const c_char,
    line: c_int,
) -> *mut c_void {
    if ptr.is_null() {
        // SAFETY: plain allocation.
        return unsafe { ossl_malloc(size, file, line) };
    }
    if size == 0 {
        // SAFETY: ptr is one of ours.
        unsafe { ossl_free(ptr, file, line) };
        return std::ptr::null_mut();
    }
    let Some(new_layout) = openssl_layout(size) else {
        return std::ptr::null_mut();
    };
    // SAFETY: ptr came from ossl_malloc/ossl_realloc (header in front, allocated with
    // openssl_layout(old)); System.realloc keeps the alignment of the old layout.
    unsafe {
        let base = ptr.cast::<u8>().sub(HEADER);
        let old = base.cast::<usize>().read();
        let old_layout = openssl_layout(old).expect("layout was valid at allocation");
        let new_base = System.realloc(base, old_layout, new_layout.size());
        if new_base.is_null() {
            return std::ptr::null_mut();
        }
        OPENSSL_LIVE.fetch_add(size as i64 - old as i64, Relaxed);
        new_base.cast::<usize>().write(size);
        new_base.add(HEADER).cast()
    }
}

type MallocFn = unsafe extern "C" fn(usize, *const c_char, c_int) -> *mut c_void;
type ReallocFn = unsafe extern "C" fn(*mut c_void, usize, *const c_char, c_int) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void, *const c_char, c_int);

extern "C" {
    fn CRYPTO_set_mem_functions(
        m: Option<MallocFn>,
        r: Option<ReallocFn>,
        f: Option<FreeFn>,
    ) -> c_int;
}

/// Routes OpenSSL's allocations through the counters; must run before OpenSSL allocates.
pub fn install_openssl_counters() -> Result<(), BoxError> {
    // SAFETY: the three functions form a consistent allocator (each frees only what it
    // allocated) and live for the whole process.
    let ok =
        unsafe { CRYPTO_set_mem_functions(Some(ossl_malloc), Some(ossl_realloc), Some(ossl_free)) };
    if ok != 1 {
        return Err("CRYPTO_set_mem_functions refused: OpenSSL had already allocated".into());
    }
    Ok(())
}

fn live() -> (i64, i64, u64, u64) {
    (
        OPENSSL_LIVE.load(Relaxed),
        RUST_LIVE.load(Relaxed),
        OPENSSL_ALLOCS.load(Relaxed),
        RUST_ALLOCS.load(Relaxed),
    )
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
    COUNTING.store(true, Relaxed);
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
        "openssl_bytes": after.0 - before.0,
        "rust_bytes": after.1 - before.1,
        "openssl_allocations": after.2 - before.2,
        "rust_allocations": after.3 - before.3,
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

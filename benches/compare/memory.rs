//! Memory per idle connection pair, measured in a fresh process per stack.
//!
//! OpenSSL's allocations are counted through `CRYPTO_set_mem_functions`, which only works
//! before OpenSSL allocates anything (hence the fresh process); Rust-heap allocations are
//! counted by a global allocator. Both keep live bytes, so the figure is what 1,000 idle
//! pairs hold, divided by 1,000. Allocations made inside the transport (the in-memory pipe's
//! buffers) are not counted: the transport is the same for all three stacks and not theirs.

use crate::stacks::{BoxError, Configs, Groups, Material, Stack};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
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

thread_local! {
    /// Set while a transport call runs: the pipe's own buffers are not the stack's memory.
    static IN_TRANSPORT: Cell<bool> = const { Cell::new(false) };
}

fn counted() -> bool {
    COUNTING.load(Relaxed) && !IN_TRANSPORT.with(|t| t.get())
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

/// A transport whose own allocations are left out of the count.
struct Uncounted<T>(T);

fn uncounted<R>(f: impl FnOnce() -> R) -> R {
    let was = IN_TRANSPORT.with(|t| t.replace(true));
    let r = f();
    IN_TRANSPORT.with(|t| t.set(was));
    r
}

impl<T: Read> Read for Uncounted<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        uncounted(|| self.0.read(buf))
    }
}

impl<T: Write> Write for Uncounted<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        uncounted(|| self.0.write(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        uncounted(|| self.0.flush())
    }
}

fn live() -> (i64, i64, u64, u64) {
    (
        OPENSSL_LIVE.load(Relaxed),
        RUST_LIVE.load(Relaxed),
        OPENSSL_ALLOCS.load(Relaxed),
        RUST_ALLOCS.load(Relaxed),
    )
}

type Pipe = Uncounted<sslbridge::MemoryPipe>;

/// The child's work: `pairs` idle pairs of `stack`, one JSON line on stdout.
pub fn child(stack: Stack, pairs: usize) -> Result<(), BoxError> {
    COUNTING.store(true, Relaxed);
    let material = Material::generate()?;
    let configs = std::sync::Arc::new(Configs::new(&material, Groups::X25519)?);

    // One persistent server thread (a thread per pair would leave per-thread OpenSSL state
    // in the count); channels are bounded so their buffers are allocated up front.
    let (to_server, server_in) = std::sync::mpsc::sync_channel::<Option<Pipe>>(1);
    let (server_out, from_server) = std::sync::mpsc::sync_channel(1);
    let server_configs = configs.clone();
    let server = std::thread::spawn(move || {
        while let Ok(Some(pipe)) = server_in.recv() {
            let conn = server_configs.accept(stack, pipe).and_then(|mut c| {
                c.write_all(b"x")?;
                c.flush()?;
                Ok(c)
            });
            let failed = conn.is_err();
            if server_out.send(conn.map_err(|e| e.to_string())).is_err() || failed {
                break;
            }
        }
    });
    let one_pair = || -> Result<_, BoxError> {
        let (c, s) = uncounted(|| sslbridge::duplex(32 * 1024));
        to_server.send(Some(Uncounted(s)))?;
        let mut client = configs.connect(stack, Uncounted(c), None, false)?;
        let mut byte = [0u8; 1];
        client.read_exact(&mut byte)?;
        let server = from_server.recv()??;
        Ok((client, server))
    };

    // Warm up: one-time state (providers, error strings, ticket keys) is not per pair.
    for _ in 0..3 {
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
    let result = serde_json::json!({
        "stack": stack.name(),
        "pairs": pairs,
        "openssl_bytes": after.0 - before.0,
        "rust_bytes": after.1 - before.1,
        "openssl_allocations": after.2 - before.2,
        "rust_allocations": after.3 - before.3,
        "negotiated": negotiated,
    });
    println!("{result}");
    to_server.send(None)?;
    server.join().map_err(|_| "server thread panicked")?;
    drop(held);
    Ok(())
}

/// The figures one child reported.
#[derive(Clone, Debug)]
pub struct MemoryFigure {
    pub stack: Stack,
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

/// Runs the child for `stack` in a fresh process of this same binary.
pub fn measure(stack: Stack, pairs: usize) -> Result<MemoryFigure, BoxError> {
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .args([
            "--memory-child",
            stack.name(),
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
        pairs,
        openssl_bytes: num("openssl_bytes")?,
        rust_bytes: num("rust_bytes")?,
        openssl_allocations: num("openssl_allocations")?,
        rust_allocations: num("rust_allocations")?,
    })
}

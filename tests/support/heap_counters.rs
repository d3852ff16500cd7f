//! Live-heap counters for the binaries that measure what connections hold: the test
//! `tests/idle_memory.rs` and the memory rows of `benches/compare.rs` include this file with
//! `#[path]`. Rust allocations are counted by [`CountingAlloc`] (which the including binary
//! installs as its `#[global_allocator]`) once [`start_counting`] has run; OpenSSL's through
//! `CRYPTO_set_mem_functions` ([`install_openssl_counters`]), which OpenSSL accepts only
//! before it has allocated anything, so the binary calls it first.

// Each including binary uses only part of it.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

/// Counts live Rust-heap bytes and allocations once [`start_counting`] has run.
pub struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static RUST_LIVE: AtomicI64 = AtomicI64::new(0);
static RUST_ALLOCS: AtomicU64 = AtomicU64::new(0);
static OPENSSL_LIVE: AtomicI64 = AtomicI64::new(0);
static OPENSSL_ALLOCS: AtomicU64 = AtomicU64::new(0);

/// Rust allocations count from now on (what was allocated before and freed later makes the
/// live figure smaller: compare figures taken after this, not against zero).
pub fn start_counting() {
    COUNTING.store(true, Relaxed);
}

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
pub fn install_openssl_counters() -> Result<(), &'static str> {
    // SAFETY: the three functions form a consistent allocator (each frees only what it
    // allocated) and live for the whole process.
    let ok =
        unsafe { CRYPTO_set_mem_functions(Some(ossl_malloc), Some(ossl_realloc), Some(ossl_free)) };
    if ok != 1 {
        return Err("CRYPTO_set_mem_functions refused: OpenSSL had already allocated");
    }
    Ok(())
}

/// What the heap holds now.
#[derive(Clone, Copy, Debug)]
pub struct Live {
    /// Live bytes OpenSSL allocated.
    pub openssl_bytes: i64,
    /// Live Rust-heap bytes (counted since [`start_counting`]).
    pub rust_bytes: i64,
    /// Allocations OpenSSL made so far.
    pub openssl_allocations: u64,
    /// Rust allocations made since [`start_counting`].
    pub rust_allocations: u64,
}

impl Live {
    /// Rust's and OpenSSL's live bytes together.
    pub fn bytes(self) -> i64 {
        self.openssl_bytes + self.rust_bytes
    }
}

/// The counters now.
pub fn live() -> Live {
    Live {
        openssl_bytes: OPENSSL_LIVE.load(Relaxed),
        rust_bytes: RUST_LIVE.load(Relaxed),
        openssl_allocations: OPENSSL_ALLOCS.load(Relaxed),
        rust_allocations: RUST_ALLOCS.load(Relaxed),
    }
}

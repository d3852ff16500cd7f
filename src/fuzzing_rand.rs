//! Deterministic randomness for fuzzing (the `fuzzing` cargo feature).
//!
//! # ⚠ This removes ALL security ⚠
//!
//! With the `fuzzing` feature, every random byte OpenSSL draws in this process — key shares,
//! private keys, signature nonces, `ClientHello`/`ServerHello` randoms, session IDs, ticket
//! keys, CBC IVs, and [`random_bytes`](crate::random_bytes) — comes from a small seeded
//! generator that anyone can predict. Keys made under it are public knowledge, and every TLS
//! connection made under it can be decrypted and impersonated. The feature exists so a fuzzer
//! can replay a recorded handshake exactly; it must never be enabled in a program that talks
//! to anything real. Normal builds never enable it: nothing in sslbridge's default features
//! depends on it.
//!
//! # How it works
//!
//! [`install`] (run once by [`ensure_initialized`](crate::ensure_initialized)) replaces
//! OpenSSL's generator with a `RAND_METHOD` (`RAND_set_rand_method`, deprecated but still
//! honoured by OpenSSL 3's `RAND_bytes_ex` and `RAND_priv_bytes_ex`, which libssl and the
//! default provider use for every draw). Its state is **per thread**, so a client and a server
//! running in two threads each draw the same sequence whatever the scheduling, and a client
//! replaying a recorded server flight alone draws exactly what it drew when the flight was
//! recorded.
//!
//! `RAND_seed` — that is, [`ensure_initialized_with_seed`](crate::ensure_initialized_with_seed)
//! — **resets** the calling thread's generator to a state derived from the seed alone (it
//! does not mix entropy in, as it does without the feature). A fuzz target calls it at the
//! start of every run, so each input replays from the same state. `RAND_add` mixes its bytes
//! into the current state, deterministically.

use std::cell::Cell;
use std::os::raw::{c_int, c_uchar, c_void};

/// OpenSSL's `RAND_METHOD` (`struct rand_meth_st`, unchanged since 1.1.0).
#[repr(C)]
struct RandMethod {
    seed: Option<unsafe extern "C" fn(buf: *const c_void, num: c_int) -> c_int>,
    bytes: Option<unsafe extern "C" fn(buf: *mut c_uchar, num: c_int) -> c_int>,
    cleanup: Option<unsafe extern "C" fn()>,
    add: Option<unsafe extern "C" fn(buf: *const c_void, num: c_int, randomness: f64) -> c_int>,
    pseudorand: Option<unsafe extern "C" fn(buf: *mut c_uchar, num: c_int) -> c_int>,
    status: Option<unsafe extern "C" fn() -> c_int>,
}

extern "C" {
    fn RAND_set_rand_method(meth: *const RandMethod) -> c_int;
}

static METHOD: RandMethod = RandMethod {
    seed: Some(seed),
    bytes: Some(bytes),
    cleanup: None,
    add: Some(add),
    pseudorand: Some(bytes),
    status: Some(status),
};

/// The state a thread starts from before its first `RAND_seed`.
const INITIAL_STATE: [u64; 4] = [
    0x7373_6c62_7269_6467, // "sslbridg"
    0x6520_6675_7a7a_696e, // "e fuzzin"
    0x6720_6f6e_6c79_2121, // "g only!!"
    0x0123_4567_89ab_cdef,
];

thread_local! {
    static STATE: Cell<[u64; 4]> = const { Cell::new(INITIAL_STATE) };
}

/// Replaces OpenSSL's generator with the deterministic one. Panics if OpenSSL refuses, since
/// a fuzzing build that silently used real randomness could not replay anything.
pub(crate) fn install() {
    // SAFETY: METHOD is a 'static table with the C layout OpenSSL expects, whose callbacks
    // have the exact C signatures; OpenSSL only reads it.
    let ok = unsafe { RAND_set_rand_method(&METHOD) };
    assert_eq!(ok, 1, "RAND_set_rand_method refused the fuzzing generator");
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A xoshiro256** state derived from `data` and (for `add`) the current state.
fn derive(start: [u64; 4], data: &[u8]) -> [u64; 4] {
    let mut h = start[0] ^ start[1].rotate_left(17) ^ start[2].rotate_left(31) ^ start[3];
    for chunk in data.chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h ^= u64::from_le_bytes(word);
        h = splitmix(&mut h);
    }
    h ^= data.len() as u64;
    let mut s = [0u64; 4];
    for w in &mut s {
        *w = splitmix(&mut h);
    }
    if s == [0; 4] {
        s[0] = 1; // xoshiro's one forbidden state
    }
    s
}

fn next(s: &mut [u64; 4]) -> u64 {
    let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
    let t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3].rotate_left(45);
    result
}

/// Applies `f` to this thread's state. During thread teardown, when the thread-local is gone,
/// a fresh initial state is used: still deterministic, and never a panic across FFI.
fn with_state<R>(f: impl FnOnce(&mut [u64; 4]) -> R) -> R {
    let mut s = STATE.try_with(Cell::get).unwrap_or(INITIAL_STATE);
    let r = f(&mut s);
    let _ = STATE.try_with(|cell| cell.set(s));
    r
}

/// # Safety
/// `buf` points to `num` readable bytes when `num > 0`.
unsafe fn input<'a>(buf: *const c_void, num: c_int) -> &'a [u8] {
    if buf.is_null() || num <= 0 {
        return &[];
    }
    // SAFETY: per the function contract.
    unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), num as usize) }
}

unsafe extern "C" fn seed(buf: *const c_void, num: c_int) -> c_int {
    // SAFETY: RAND_seed passes `num` readable bytes at `buf`.
    let data = unsafe { input(buf, num) };
    with_state(|s| *s = derive(INITIAL_STATE, data));
    1
}

unsafe extern "C" fn add(buf: *const c_void, num: c_int, _randomness: f64) -> c_int {
    // SAFETY: RAND_add passes `num` readable bytes at `buf`.
    let data = unsafe { input(buf, num) };
    with_state(|s| *s = derive(*s, data));
    1
}

unsafe extern "C" fn bytes(buf: *mut c_uchar, num: c_int) -> c_int {
    if buf.is_null() || num <= 0 {
        return 1;
    }
    // SAFETY: RAND_bytes passes a buffer writable for `num` bytes; it may be uninitialised, so
    // it is written through raw pointers only.
    with_state(|s| unsafe {
        let mut i = 0usize;
        while i < num as usize {
            let word = next(s).to_le_bytes();
            let n = (num as usize - i).min(8);
            std::ptr::copy_nonoverlapping(word.as_ptr(), buf.add(i), n);
            i += n;
        }
    });
    1
}

unsafe extern "C" fn status() -> c_int {
    1
}

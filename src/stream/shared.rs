//! [`SharedWithOpenSsl`]: the owner of a value that OpenSSL points into.
//!
//! OpenSSL keeps raw pointers to a stream's per-connection state (the BIO's data pointer, the
//! `SSL`'s ex_data) and uses them inside every `SSL_*` call. Under Rust's aliasing models
//! (Stacked and Tree Borrows) a `Box` asserts unique ownership whenever it is moved or used,
//! and a `&mut` derived from it invalidates every pointer derived earlier: a stream holding its
//! state in a `Box` and writing through it between calls would leave OpenSSL with dangling
//! permissions. So the state is allocated once with `Box::into_raw` and then reached only
//! through that one pointer — by C and by Rust alike — with short-lived references that end
//! before the next `SSL_*` call. It is freed by `Drop`, which the owner arranges to run only
//! after `SSL_free` (when C can no longer reach it).

use std::marker::PhantomData;
use std::ptr::NonNull;

/// A heap value reached by C through a raw pointer and by Rust through this owner.
///
/// Invariant: while a reference returned by [`get`](Self::get) or [`get_mut`](Self::get_mut)
/// is live, C does not use the pointer. The stream upholds it by never holding such a
/// reference across a call into OpenSSL (every `SSL_*` call takes `&mut SslStream`, and the
/// callbacks run only inside those calls).
pub(crate) struct SharedWithOpenSsl<T> {
    ptr: NonNull<T>,
    /// Owns a `T` (for drop check and auto traits).
    _owns: PhantomData<T>,
}

impl<T> SharedWithOpenSsl<T> {
    /// Moves `value` to the heap; from here on it is reached only through one pointer.
    pub(crate) fn new(value: T) -> SharedWithOpenSsl<T> {
        let raw = Box::into_raw(Box::new(value));
        SharedWithOpenSsl {
            // SAFETY: Box::into_raw never returns null.
            ptr: unsafe { NonNull::new_unchecked(raw) },
            _owns: PhantomData,
        }
    }

    /// The pointer to hand to C. Every pointer OpenSSL holds is this one (or a field
    /// projection of it made with `&raw mut`), never one derived from a reference.
    pub(crate) fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// Shared access between `SSL_*` calls.
    pub(crate) fn get(&self) -> &T {
        // SAFETY: the pointer is live until drop; per the type's invariant, C is not using it
        // while this reference (tied to &self) is live.
        unsafe { self.ptr.as_ref() }
    }

    /// Exclusive access between `SSL_*` calls.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: as for `get`; &mut self makes this the only Rust reference.
        unsafe { self.ptr.as_mut() }
    }
}

impl<T> Drop for SharedWithOpenSsl<T> {
    fn drop(&mut self) {
        // SAFETY: the pointer came from Box::into_raw in new() and is freed exactly once,
        // here; the owner drops us only after C can no longer reach the value.
        drop(unsafe { Box::from_raw(self.ptr.as_ptr()) });
    }
}

// SAFETY: the value is owned exactly like a Box<T>: sending the owner sends the T.
unsafe impl<T: Send> Send for SharedWithOpenSsl<T> {}
// SAFETY: &SharedWithOpenSsl only gives &T.
unsafe impl<T: Sync> Sync for SharedWithOpenSsl<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    struct State {
        counter: u64,
        log: Vec<u8>,
    }

    /// What OpenSSL does with the pointer it was given: reads and writes through it.
    ///
    /// # Safety
    /// `p` is live and no Rust reference to the value is live.
    unsafe fn c_side_touches(p: *mut State, byte: u8) {
        // SAFETY: per the function contract.
        unsafe {
            (*p).counter += 1;
            (*p).log.push(byte);
        }
    }

    /// The stream's pattern: hand the pointer to "C", then alternate Rust writes between calls
    /// with C accesses through the stored pointer. Under Miri this fails if any Rust access
    /// invalidated the pointer C holds (it does with a `Box` that the owner moves or derefs).
    #[test]
    fn c_pointer_stays_valid_across_rust_accesses() {
        let mut shared = SharedWithOpenSsl::new(State {
            counter: 0,
            log: Vec::new(),
        });
        let held_by_c = shared.as_ptr();
        // A projection to a field, as the BIO's data pointer is.
        // SAFETY: held_by_c is live; &raw makes no reference.
        let field_held_by_c: *mut u64 = unsafe { &raw mut (*held_by_c).counter };
        for i in 0..4u8 {
            shared.get_mut().log.push(100 + i);
            // SAFETY: no reference from get/get_mut is live here.
            unsafe { c_side_touches(held_by_c, i) };
            // SAFETY: as above.
            unsafe { *field_held_by_c += 10 };
            assert_eq!(shared.get().log.last(), Some(&i));
        }
        // Moving the owner (as returning a stream does) must not invalidate C's pointer.
        let moved = shared;
        // SAFETY: as above.
        unsafe { c_side_touches(held_by_c, 9) };
        assert_eq!(moved.get().counter, 4 + 40 + 1);
        assert_eq!(moved.get().log, [100, 0, 101, 1, 102, 2, 103, 3, 9]);
    }

    #[test]
    fn drop_frees_the_value_once() {
        use std::rc::Rc;
        let tracker = Rc::new(());
        let shared = SharedWithOpenSsl::new(tracker.clone());
        assert_eq!(Rc::strong_count(&tracker), 2);
        drop(shared);
        assert_eq!(Rc::strong_count(&tracker), 1);
    }
}

//! Typed ex-data slots: Rust values hung on OpenSSL objects (`SSL`, `SSL_CTX`), in the manner
//! of rust-openssl's `ex_data::Index<T, U>`. A slot is a `static`, registered with OpenSSL on
//! first use; adding a callback that needs per-object state means a slot, a trampoline that
//! reads it, and a setter.

use crate::error::{Error, ErrorStack};
use openssl_sys::{CRYPTO_EX_DATA, SSL, SSL_CTX};
use std::marker::PhantomData;
use std::os::raw::{c_int, c_long, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

/// An OpenSSL object type that carries ex-data.
pub(crate) trait ExDataOwner {
    /// Its `CRYPTO_EX_INDEX_*` class.
    const CLASS: c_int;

    /// `*_get_ex_data`.
    ///
    /// # Safety
    /// `object` is live; `index` was registered for this class.
    unsafe fn get(object: *const Self, index: c_int) -> *mut c_void;

    /// `*_set_ex_data`; 1 on success.
    ///
    /// # Safety
    /// As for `get`.
    unsafe fn set(object: *mut Self, index: c_int, data: *mut c_void) -> c_int;
}

impl ExDataOwner for SSL {
    const CLASS: c_int = openssl_sys::CRYPTO_EX_INDEX_SSL;

    unsafe fn get(object: *const SSL, index: c_int) -> *mut c_void {
        // SAFETY: forwarded contract.
        unsafe { openssl_sys::SSL_get_ex_data(object, index) }
    }

    unsafe fn set(object: *mut SSL, index: c_int, data: *mut c_void) -> c_int {
        // SAFETY: forwarded contract.
        unsafe { openssl_sys::SSL_set_ex_data(object, index, data) }
    }
}

impl ExDataOwner for SSL_CTX {
    const CLASS: c_int = openssl_sys::CRYPTO_EX_INDEX_SSL_CTX;

    unsafe fn get(object: *const SSL_CTX, index: c_int) -> *mut c_void {
        // SAFETY: forwarded contract.
        unsafe { openssl_sys::SSL_CTX_get_ex_data(object, index) }
    }

    unsafe fn set(object: *mut SSL_CTX, index: c_int, data: *mut c_void) -> c_int {
        // SAFETY: forwarded contract.
        unsafe { openssl_sys::SSL_CTX_set_ex_data(object, index, data) }
    }
}

/// Who frees a slot's value.
#[derive(Clone, Copy)]
enum Ownership {
    /// The object: a `Box<T>` dropped when OpenSSL frees the object.
    Object,
    /// Someone else (the slot only points at it; e.g. the stream owns its connection state).
    Elsewhere,
}

/// A slot holding a `T` on objects of type `O`.
pub(crate) struct Slot<O, T> {
    index: OnceLock<c_int>,
    ownership: Ownership,
    _types: PhantomData<fn(*const O, *const T)>,
}

impl<O: ExDataOwner, T> Slot<O, T> {
    /// A slot whose value the object owns and drops when it is freed.
    pub(crate) const fn owned_by_object() -> Slot<O, T> {
        Slot {
            index: OnceLock::new(),
            ownership: Ownership::Object,
            _types: PhantomData,
        }
    }

    /// A slot that points at a value owned elsewhere; the object never frees it.
    pub(crate) const fn pointer() -> Slot<O, T> {
        Slot {
            index: OnceLock::new(),
            ownership: Ownership::Elsewhere,
            _types: PhantomData,
        }
    }

    fn index(&self) -> c_int {
        *self.index.get_or_init(|| {
            crate::init::ensure_initialized();
            let free: Option<openssl_sys::CRYPTO_EX_free> = match self.ownership {
                Ownership::Object => Some(free_boxed::<T>),
                Ownership::Elsewhere => None,
            };
            // SAFETY: registering an index for this class, with a free function that matches
            // what `set_owned` stores (or none).
            let index = unsafe {
                openssl_sys::CRYPTO_get_ex_new_index(
                    O::CLASS,
                    0,
                    std::ptr::null_mut(),
                    None,
                    None,
                    free,
                )
            };
            assert!(index >= 0, "CRYPTO_get_ex_new_index failed (out of memory)");
            index
        })
    }

    /// The value on `object`, or null.
    ///
    /// # Safety
    /// `object` is live.
    pub(crate) unsafe fn get(&self, object: *const O) -> *mut T {
        // SAFETY: per the contract; the slot holds null or a `T` stored by this slot.
        unsafe { O::get(object, self.index()).cast::<T>() }
    }

    /// Moves `value` onto `object`, which drops it when freed.
    ///
    /// # Safety
    /// `object` is live and its slot is empty (a second value would leak the first).
    pub(crate) unsafe fn set_owned(&self, object: *mut O, value: T) -> Result<(), Error> {
        debug_assert!(matches!(self.ownership, Ownership::Object));
        let raw = Box::into_raw(Box::new(value));
        // SAFETY: per the contract; on failure the box is still ours.
        if unsafe { O::set(object, self.index(), raw.cast()) } != 1 {
            // SAFETY: OpenSSL did not take the pointer.
            drop(unsafe { Box::from_raw(raw) });
            return Err(Error::Ssl(ErrorStack::drain()));
        }
        Ok(())
    }

    /// Points `object`'s slot at `value`, owned elsewhere.
    ///
    /// # Safety
    /// `object` is live; `value` outlives every use OpenSSL's callbacks make of it.
    pub(crate) unsafe fn set_pointer(&self, object: *mut O, value: *mut T) -> Result<(), Error> {
        debug_assert!(matches!(self.ownership, Ownership::Elsewhere));
        // SAFETY: per the contract.
        if unsafe { O::set(object, self.index(), value.cast()) } != 1 {
            return Err(Error::Ssl(ErrorStack::drain()));
        }
        Ok(())
    }
}

/// Frees an object-owned slot's `Box<T>` when OpenSSL frees the object. The value's `Drop`
/// (a user's callbacks and what they captured) runs inside C here, so a panic in it is caught
/// and the rest of the value leaks rather than unwinding into OpenSSL.
unsafe extern "C" fn free_boxed<T>(
    _parent: *mut c_void,
    ptr: *mut c_void,
    _ad: *mut CRYPTO_EX_DATA,
    _index: c_int,
    _argl: c_long,
    _argp: *mut c_void,
) {
    if !ptr.is_null() {
        // SAFETY: non-null values of an object-owned slot are Box<T>s stored by set_owned,
        // freed exactly once, here.
        let value = unsafe { Box::from_raw(ptr.cast::<T>()) };
        if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
            // Dropping the payload could run more user code: leak it instead.
            std::mem::forget(payload);
        }
    }
}

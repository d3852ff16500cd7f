//! Transports: the [`Transport`] trait every byte stream satisfies, and the one place that
//! answers what sslbridge can do with a given transport (its descriptors for the fd fast
//! path, whether it is a [`MemoryPipe`] for the zero-copy hand-off). No other module looks
//! at a transport's type.
//!
//! `memory` holds [`MemoryPipe`] and [`duplex`]; `pipes` holds [`Pipes`]; `fd` (Unix only)
//! the descriptor transports (`Descriptor`, `FdTransport`) and the list of descriptor types
//! recognised.

#[cfg(unix)]
mod fd;
mod memory;
mod pipes;

#[cfg(unix)]
pub(crate) use fd::{duplicate_descriptors, Fds};
#[cfg(unix)]
pub use fd::{stream_fd, Descriptor, FdTransport};
pub use memory::{duplex, MemoryPipe};
pub use pipes::Pipes;

/// Off Unix there are no descriptors to give OpenSSL: the fd fast path and descriptor
/// deadlines are Unix-only, so a transport never has any.
#[cfg(not(unix))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fds {}

/// A descriptor the stream owns (its duplicate of the transport's); none exist off Unix.
#[cfg(unix)]
pub(crate) type OwnedDescriptor = std::os::fd::OwnedFd;
/// A descriptor the stream owns; none exist off Unix.
#[cfg(not(unix))]
pub(crate) type OwnedDescriptor = std::convert::Infallible;

/// The descriptors a stream owns: one for a socket, one per direction for a pair. Held inline
/// in the stream, not in a boxed slice: no allocation, and 8 bytes on Unix.
pub(crate) type OwnedDescriptors = [Option<OwnedDescriptor>; 2];

use std::any::TypeId;
use std::io::{Read, Write};
use std::marker::PhantomData;

/// A transport that can read into uninitialised memory, so the custom BIO's read-ahead
/// buffer need not be zeroed before each fill (it is freed whenever the connection goes idle,
/// and a fresh one would otherwise be zeroed every time). Crate-private: only the async
/// adapter, whose tokio `ReadBuf` reads take uninitialised memory, has it.
///
/// # Safety
/// `read_uninit` returns `Ok(n)` only with `n <= buf.len()` and `buf[..n]` initialised.
#[cfg_attr(not(feature = "tokio"), allow(dead_code))] // the async adapter is its only user
pub(crate) unsafe trait ReadUninit: Transport {
    fn read_uninit(&mut self, buf: &mut [std::mem::MaybeUninit<u8>]) -> std::io::Result<usize>;
}

/// [`ReadUninit::read_uninit`] of a transport held as `dyn Transport`, as the BIO state
/// keeps it (a plain function pointer: the state does not know the transport's type).
pub(crate) type ReadUninitFn =
    unsafe fn(&mut dyn Transport, &mut [std::mem::MaybeUninit<u8>]) -> std::io::Result<usize>;

/// The [`ReadUninitFn`] for transports of type `T`.
///
/// # Safety
/// `transport` is a `T` (the stream boxed exactly its `T`: see `SslStream::get_mut`).
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
pub(crate) unsafe fn read_uninit_as<T: ReadUninit>(
    transport: &mut dyn Transport,
    buf: &mut [std::mem::MaybeUninit<u8>],
) -> std::io::Result<usize> {
    // SAFETY: per the contract the object behind the trait object is a T; the reference is
    // derived from the caller's `&mut` and does not outlive it.
    let t = unsafe { &mut *(transport as *mut dyn Transport).cast::<T>() };
    t.read_uninit(buf)
}

/// Anything that moves bytes: every `Read + Write` value is a `Transport` automatically:
/// owned or borrowed (`&mut TcpStream`, `&TcpStream`), `Send` or not (an `Rc`-based pipe),
/// and so are `Box<dyn Transport>` and `Box<dyn Transport + Send>`. A stream over a transport
/// is `Send` exactly when the transport is.
///
/// sslbridge holds the transport as a trait object inside its BIO, so one `BIO_METHOD` serves
/// every transport type.
///
/// ```
/// use sslbridge::Transport;
/// fn takes(_t: impl Transport) {}
/// let (a, _b) = sslbridge::duplex(1024);
/// takes(a);
/// let boxed: Box<dyn Transport + Send> = Box::new(std::io::Cursor::new(Vec::<u8>::new()));
/// takes(boxed);
/// let mut socket = std::io::Cursor::new(Vec::<u8>::new());
/// takes(&mut socket); // borrowed
/// let shared = std::rc::Rc::new(()); // a !Send transport is fine too
/// # drop(shared);
/// ```
pub trait Transport: Read + Write {
    /// What sslbridge can do with this transport (answered by [`capabilities_of`] for the
    /// concrete type, so a boxed transport is looked through).
    #[doc(hidden)]
    fn capabilities(&self) -> Capabilities;

    /// The transport as sslbridge's own [`MemoryPipe`], when it is one (looking through
    /// boxes), for the zero-copy hand-off and deadlines.
    #[doc(hidden)]
    fn memory_pipe(&mut self) -> Option<&mut MemoryPipe>;
}

impl<T: Read + Write> Transport for T {
    fn capabilities(&self) -> Capabilities {
        capabilities_of(self)
    }

    fn memory_pipe(&mut self) -> Option<&mut MemoryPipe> {
        let id = erased_type_id::<T>();
        let ptr = (self as *mut T).cast::<()>();
        // SAFETY: in every arm the ids match, so `ptr`, derived from `&mut self`, points to
        // that type; the reference returned borrows `self`.
        unsafe {
            if id == TypeId::of::<MemoryPipe>() {
                Some(&mut *ptr.cast::<MemoryPipe>())
            } else if id == TypeId::of::<Box<dyn Transport>>() {
                // On the boxed `dyn`, not the box (which would be this method again).
                let inner: &mut dyn Transport = &mut **ptr.cast::<Box<dyn Transport>>();
                inner.memory_pipe()
            } else if id == TypeId::of::<Box<dyn Transport + Send>>() {
                let inner: &mut dyn Transport = &mut **ptr.cast::<Box<dyn Transport + Send>>();
                inner.memory_pipe()
            } else {
                None
            }
        }
    }
}

/// What sslbridge can do with a transport.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct Capabilities {
    /// The descriptors to give OpenSSL (the fd fast path) and to wait on (deadlines).
    pub(crate) fds: Option<Fds>,
    /// sslbridge's own in-memory pipe: zero-copy hand-off into OpenSSL's buffer, deadlines.
    pub(crate) memory_pipe: bool,
    /// The transport's `Read` is one `read(2)` of its read descriptor (a type sslbridge
    /// knows), so `poll` on that descriptor tells whether a read would wait. Not so for an
    /// [`FdTransport`] or [`Pipes::from_fds`], whose own `Read` may wait for more.
    #[cfg_attr(not(unix), allow(dead_code))] // no descriptors off Unix
    pub(crate) plain_read: bool,
}

/// The one function that looks at a transport's type.
fn capabilities_of<T: ?Sized + Read + Write>(transport: &T) -> Capabilities {
    let id = erased_type_id::<T>();
    let ptr = (transport as *const T).cast::<()>();
    if id == TypeId::of::<MemoryPipe>() {
        return Capabilities {
            fds: None,
            memory_pipe: true,
            plain_read: false,
        };
    }
    // A box is looked through: the call goes to the boxed value's own impl (on the `dyn`,
    // not on the box, which would be this function again).
    if id == TypeId::of::<Box<dyn Transport>>() {
        // SAFETY: the type ids match, so `ptr` points to that box type.
        let inner: &dyn Transport = &**unsafe { &*ptr.cast::<Box<dyn Transport>>() };
        return inner.capabilities();
    }
    if id == TypeId::of::<Box<dyn Transport + Send>>() {
        // SAFETY: the type ids match, so `ptr` points to that box type.
        let inner: &dyn Transport = &**unsafe { &*ptr.cast::<Box<dyn Transport + Send>>() };
        return inner.capabilities();
    }
    Capabilities {
        // SAFETY: `ptr` points to a live value whose type, up to lifetimes, has this id.
        #[cfg(unix)]
        fds: unsafe { fd::descriptors(id, ptr) },
        #[cfg(not(unix))]
        fds: None,
        memory_pipe: false,
        // SAFETY: as above.
        #[cfg(unix)]
        plain_read: unsafe { fd::reads_plainly(id, ptr) },
        #[cfg(not(unix))]
        plain_read: false,
    }
}

/// The `TypeId` of `T` with its lifetimes erased: equal to `TypeId::of::<U>()` exactly when
/// `T` is `U` up to lifetimes. This lets sslbridge recognise `&'a TcpStream` or a type that is
/// not `'static` without `Any` (the technique of the `typeid` crate).
pub(crate) fn erased_type_id<T: ?Sized>() -> TypeId {
    trait NonStaticAny {
        fn type_id(&self) -> TypeId
        where
            Self: 'static;
    }
    impl<T: ?Sized> NonStaticAny for PhantomData<T> {
        fn type_id(&self) -> TypeId
        where
            Self: 'static,
        {
            TypeId::of::<T>()
        }
    }
    let phantom = PhantomData::<T>;
    // SAFETY: lifetimes do not exist at run time; the only method called reads no data (a
    // PhantomData has none) and returns the id of T with its lifetimes taken as 'static.
    let erased = unsafe {
        std::mem::transmute::<&dyn NonStaticAny, &(dyn NonStaticAny + 'static)>(&phantom)
    };
    NonStaticAny::type_id(erased)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erased_type_ids_ignore_lifetimes_only() {
        let owned = String::new();
        fn id_of<T: ?Sized>(_: &T) -> TypeId {
            erased_type_id::<T>()
        }
        assert_eq!(id_of(&&owned), TypeId::of::<&'static String>());
        assert_eq!(erased_type_id::<String>(), TypeId::of::<String>());
        assert_ne!(erased_type_id::<&String>(), TypeId::of::<String>());
        assert_ne!(
            erased_type_id::<&mut String>(),
            TypeId::of::<&'static String>()
        );
    }

    #[test]
    fn boxed_transports_are_looked_through() {
        let (pipe, _other) = duplex(16);
        let boxed: Box<dyn Transport + Send> = Box::new(pipe);
        assert!(boxed.capabilities().memory_pipe);
        let twice: Box<dyn Transport> = Box::new(boxed);
        assert!(twice.capabilities().memory_pipe);
        assert!(
            !std::io::Cursor::new(Vec::<u8>::new())
                .capabilities()
                .memory_pipe
        );
    }
}

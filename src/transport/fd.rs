//! Unix: transports backed by file descriptors, and how sslbridge recognises them for the fd
//! fast path: [`Descriptor`], [`FdTransport`], [`stream_fd`], the descriptors of [`Pipes`],
//! and the list of descriptor types known by type (in [`descriptors`]).

use super::{erased_type_id, Pipes, Transport};
use std::any::TypeId;
use std::fs::File;
use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::mem::ManuallyDrop;
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::process::{ChildStderr, ChildStdin, ChildStdout};
use std::sync::RwLock;

/// The descriptors a transport reads from and writes to (the same one for sockets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fds {
    pub(crate) read: RawFd,
    pub(crate) write: RawFd,
}

impl Fds {
    fn same(fd: RawFd) -> Fds {
        Fds {
            read: fd,
            write: fd,
        }
    }
}

/// A raw descriptor as a transport, with cl+ssl's ownership rules: an owned descriptor is
/// closed with the stream, a borrowed one is not.
///
/// ```
/// use std::os::fd::{AsFd, OwnedFd};
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// let owned: OwnedFd = a.into();
/// let d = sslbridge::Descriptor::from(owned); // closed when the stream is dropped
/// # drop(d);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Descriptor {
    file: ManuallyDrop<File>,
    owned: bool,
}

impl Descriptor {
    /// Takes ownership: the descriptor is closed when the transport is dropped.
    pub fn owned(fd: OwnedFd) -> Descriptor {
        Descriptor {
            file: ManuallyDrop::new(File::from(fd)),
            owned: true,
        }
    }

    /// Borrows a descriptor that outlives the program's use of it (e.g. stdin's); it is never
    /// closed by sslbridge.
    pub fn borrowed(fd: BorrowedFd<'static>) -> Descriptor {
        // SAFETY: the fd is open for 'static; ManuallyDrop keeps the File from closing it.
        unsafe { Descriptor::borrow_raw(fd.as_raw_fd()) }
    }

    /// Borrows a raw descriptor, like cl+ssl's `make-ssl-client-stream` on an fd number.
    ///
    /// # Safety
    /// `fd` must stay open for as long as the transport (and any stream over it) lives.
    pub unsafe fn borrow_raw(fd: RawFd) -> Descriptor {
        // File::from_raw_fd wants an owned descriptor and this one is borrowed: sound only
        // because the File sits in a ManuallyDrop that Drop never drops for a borrowed
        // Descriptor, so it never closes the descriptor.
        // SAFETY: the descriptor stays open as long as we use it (the function contract).
        let file = unsafe { File::from_raw_fd(fd) };
        Descriptor {
            file: ManuallyDrop::new(file),
            owned: false,
        }
    }

    /// Whether dropping this transport closes the descriptor.
    pub fn is_owned(&self) -> bool {
        self.owned
    }
}

impl From<OwnedFd> for Descriptor {
    fn from(fd: OwnedFd) -> Descriptor {
        Descriptor::owned(fd)
    }
}

impl From<BorrowedFd<'static>> for Descriptor {
    fn from(fd: BorrowedFd<'static>) -> Descriptor {
        Descriptor::borrowed(fd)
    }
}

impl AsRawFd for Descriptor {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl Read for Descriptor {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.file).read(buf)
    }
}

impl Write for Descriptor {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self.file).write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Descriptor {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: dropped exactly once, here; we own the descriptor.
            unsafe { ManuallyDrop::drop(&mut self.file) };
        }
    }
}

impl std::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Descriptor")
            .field("fd", &self.as_raw_fd())
            .field("owned", &self.owned)
            .finish()
    }
}

/// Opts any bidirectional descriptor-backed type in to the fd fast path: wrap it, and
/// sslbridge reads and writes its descriptor directly. `Send` when `T` is.
///
/// On the fd fast path OpenSSL bypasses `T`'s own `Read`/`Write`: anything `T` would buffer
/// or translate is skipped (use `unwrap_fd(false)` to go through them). The descriptor is
/// asked for (`AsFd`) when a stream is set up, never remembered from `new`.
///
/// ```
/// # use std::os::unix::net::UnixStream;
/// struct MySocket(UnixStream); // a user type with a descriptor inside
/// # impl std::io::Read for MySocket { fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> { self.0.read(b) } }
/// # impl std::io::Write for MySocket { fn write(&mut self, b: &[u8]) -> std::io::Result<usize> { self.0.write(b) } fn flush(&mut self) -> std::io::Result<()> { Ok(()) } }
/// impl std::os::fd::AsFd for MySocket {
///     fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> { self.0.as_fd() }
/// }
/// let (a, _b) = UnixStream::pair()?;
/// let transport = sslbridge::FdTransport::new(MySocket(a));
/// assert!(sslbridge::stream_fd(&transport).is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct FdTransport<T> {
    inner: T,
}

impl<T: Read + Write + AsFd> FdTransport<T> {
    /// Wraps a transport that exposes its descriptor.
    pub fn new(transport: T) -> FdTransport<T> {
        register_fd_transport::<T>();
        FdTransport { inner: transport }
    }
}

impl<T> FdTransport<T> {
    /// The wrapped transport.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped transport, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped transport.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: Read> Read for FdTransport<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<T: Write> Write for FdTransport<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<T: AsFd> AsFd for FdTransport<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl<T: AsFd> AsRawFd for FdTransport<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_fd().as_raw_fd()
    }
}

impl<T> std::fmt::Debug for FdTransport<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdTransport").finish_non_exhaustive()
    }
}

/// How to find the descriptor of one `FdTransport<T>`, given a pointer to it.
type DescriptorOf = unsafe fn(*const ()) -> RawFd;

/// The `FdTransport<T>` types made so far, by lifetime-erased type id: a generic wrapper
/// cannot be recognised by a fixed list, so `new` registers its type.
static FD_TRANSPORTS: RwLock<Vec<(TypeId, DescriptorOf)>> = RwLock::new(Vec::new());

fn register_fd_transport<T: AsFd>() {
    /// # Safety
    /// `p` points to a live `FdTransport<T>`.
    unsafe fn descriptor_of<T: AsFd>(p: *const ()) -> RawFd {
        // SAFETY: per the function contract.
        unsafe { &*p.cast::<FdTransport<T>>() }.as_raw_fd()
    }
    let id = erased_type_id::<FdTransport<T>>();
    let known = |list: &Vec<(TypeId, DescriptorOf)>| list.iter().any(|(t, _)| *t == id);
    if known(&FD_TRANSPORTS.read().unwrap_or_else(|p| p.into_inner())) {
        return;
    }
    let mut list = FD_TRANSPORTS.write().unwrap_or_else(|p| p.into_inner());
    if !known(&list) {
        list.push((id, descriptor_of::<T>));
    }
}

/// The descriptor of one half of a pair, for the types sslbridge knows.
pub(super) fn known_fd<T: 'static>(half: &T) -> Option<RawFd> {
    // SAFETY: `half` is a live T and `erased_type_id::<T>()` is its id.
    unsafe { owned_descriptor(erased_type_id::<T>(), (half as *const T).cast()) }
}

/// The descriptor of a value of one of the owned descriptor types sslbridge knows.
///
/// # Safety
/// `ptr` points to a live value whose type, up to lifetimes, has the id `id`.
unsafe fn owned_descriptor(id: TypeId, ptr: *const ()) -> Option<RawFd> {
    macro_rules! try_types {
        ($($t:ty),*) => {
            $(if id == TypeId::of::<$t>() {
                // SAFETY: the ids match, so `ptr` points to a $t (caller's contract).
                return Some(unsafe { &*ptr.cast::<$t>() }.as_raw_fd());
            })*
        };
    }
    try_types!(
        ChildStdout,
        ChildStdin,
        ChildStderr,
        File,
        PipeReader,
        PipeWriter,
        TcpStream,
        UnixStream,
        Descriptor
    );
    None
}

/// The descriptors behind a transport of the type with (lifetime-erased) id `id`, when
/// sslbridge knows them: the owned descriptor types, borrowed sockets (`&TcpStream`,
/// `&mut TcpStream`, and the same for `UnixStream`), [`Pipes`] of descriptors and every
/// [`FdTransport`].
///
/// # Safety
/// `ptr` points to a live value whose type, up to lifetimes, has the id `id`.
pub(super) unsafe fn descriptors(id: TypeId, ptr: *const ()) -> Option<Fds> {
    // SAFETY: for every cast below the ids match, so `ptr` points to that type (the caller's
    // contract); the references made live only for this call, inside the borrow they came
    // from, whatever lifetime the `'static` in the type names.
    unsafe {
        if let Some(fd) = owned_descriptor(id, ptr) {
            return Some(Fds::same(fd));
        }
        if id == TypeId::of::<Pipes>() {
            return (*ptr.cast::<Pipes>()).fds();
        }
        macro_rules! borrowed {
            ($($t:ty),*) => {
                $(if id == TypeId::of::<&'static $t>() {
                    return Some(Fds::same((*ptr.cast::<&$t>()).as_raw_fd()));
                }
                if id == TypeId::of::<&'static mut $t>() {
                    return Some(Fds::same((*ptr.cast::<&mut $t>()).as_raw_fd()));
                })*
            };
        }
        borrowed!(TcpStream, UnixStream);
        let list = FD_TRANSPORTS.read().unwrap_or_else(|p| p.into_inner());
        list.iter()
            .find(|(t, _)| *t == id)
            .map(|(_, descriptor_of)| Fds::same(descriptor_of(ptr)))
    }
}

/// Whether a transport of the type with id `id` reads with one `read(2)` of its descriptor:
/// the owned descriptor types, borrowed sockets, and [`Pipes`] whose read half is one of
/// those (`Pipes::new`). Not an [`FdTransport`] or `Pipes::from_fds`: their `Read` is the
/// user's, which may wait for more than the descriptor has.
///
/// # Safety
/// `ptr` points to a live value whose type, up to lifetimes, has the id `id`.
pub(super) unsafe fn reads_plainly(id: TypeId, ptr: *const ()) -> bool {
    // SAFETY: the caller's contract; the Pipes cast is made only when the ids match.
    unsafe {
        if owned_descriptor(id, ptr).is_some() {
            return true;
        }
        if id == TypeId::of::<Pipes>() {
            return (*ptr.cast::<Pipes>()).reads_plainly();
        }
    }
    [
        TypeId::of::<&'static TcpStream>(),
        TypeId::of::<&'static mut TcpStream>(),
        TypeId::of::<&'static UnixStream>(),
        TypeId::of::<&'static mut UnixStream>(),
    ]
    .contains(&id)
}

/// The stream's own duplicates of a transport's descriptors (one for a socket, one per
/// direction for a pair), which it owns and closes after the `SSL`. OpenSSL's BIOs, `poll`
/// and the `O_NONBLOCK` switches use these: replacing or closing the transport's descriptors
/// can then never point them at another file. (`O_NONBLOCK` belongs to the open file
/// description, which a duplicate shares with the original: switching it through the
/// duplicate is switching the transport's, as intended.)
pub(crate) fn duplicate_descriptors(fds: Fds) -> io::Result<(Fds, [Option<OwnedFd>; 2])> {
    let read = crate::ffi::posix::duplicate(fds.read)?;
    let read_fd = read.as_raw_fd();
    if fds.read == fds.write {
        return Ok((Fds::same(read_fd), [Some(read), None]));
    }
    let write = crate::ffi::posix::duplicate(fds.write)?;
    let duplicates = Fds {
        read: read_fd,
        write: write.as_raw_fd(),
    };
    Ok((duplicates, [Some(read), Some(write)]))
}

/// The file descriptor behind a transport (cl+ssl's `stream-fd`): the socket of a
/// `TcpStream` or `UnixStream` (owned or borrowed), the descriptor of a [`Descriptor`],
/// [`FdTransport`] or `File`, the read side of [`Pipes`]. `None` for transports without one
/// (e.g. [`MemoryPipe`](crate::MemoryPipe)).
///
/// ```
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// assert!(sslbridge::stream_fd(&a).is_some());
/// let (m, _n) = sslbridge::duplex(16);
/// assert_eq!(sslbridge::stream_fd(&m), None);
/// # Ok::<(), std::io::Error>(())
/// ```
#[doc(alias = "stream-fd")]
pub fn stream_fd<T: Transport>(transport: &T) -> Option<RawFd> {
    transport.capabilities().fds.map(|f| f.read)
}

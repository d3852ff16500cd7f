//! Transports backed by file descriptors, and how sslbridge recognises them for the fd fast
//! path: [`Pipes`], [`Descriptor`], [`FdTransport`] and [`stream_fd`].

use crate::transport::Transport;
use std::any::Any;
use std::fs::File;
use std::io::{self, PipeReader, PipeWriter, Read, Write};
use std::mem::ManuallyDrop;
use std::net::TcpStream;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::process::{ChildStderr, ChildStdin, ChildStdout};

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

/// A transport made of any reader and any writer, such as a child process's stdout and
/// stdin. When both halves are descriptors sslbridge recognises (`ChildStdout`, `ChildStdin`,
/// `ChildStderr`, `File`, `PipeReader`, `PipeWriter`, `TcpStream`, `UnixStream`), TLS runs on
/// the fd fast path with one fd BIO per direction; otherwise through the custom BIO.
///
/// The parent talks TLS over a child's pipes (here the child is this same program run with a
/// flag, as in `examples/pipe.rs`; any program that speaks TLS on its stdin/stdout will do):
///
/// ```no_run
/// use std::process::{Command, Stdio};
/// let mut child = Command::new(std::env::current_exe()?)
///     .arg("--tls-server-on-stdio")
///     .stdin(Stdio::piped())
///     .stdout(Stdio::piped())
///     .spawn()?;
/// let pipes = sslbridge::Pipes::new(child.stdout.take().unwrap(), child.stdin.take().unwrap());
/// assert!(pipes.descriptors().is_some()); // the fd fast path
/// let tls = sslbridge::ClientOptions::new().hostname("localhost").connect(pipes)?;
/// # drop(tls);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The child's side is one line: its own stdin and stdout, on the fd path (OpenSSL writes the
/// descriptors directly: nothing is buffered, nothing needs flushing):
///
/// ```no_run
/// # let (chain, key) = (Vec::<u8>::new(), Vec::<u8>::new());
/// let stdio = sslbridge::Pipes::from_fds(std::io::stdin(), std::io::stdout());
/// let tls = sslbridge::ServerOptions::new()
///     .certificate_chain_pem(&chain)
///     .private_key_pem(&key)
///     .accept(stdio)?;
/// # drop(tls);
/// # Ok::<(), sslbridge::Error>(())
/// ```
pub struct Pipes {
    reader: Box<dyn Read + Send>,
    writer: Box<dyn Write + Send>,
    fds: Option<Fds>,
}

impl Pipes {
    /// Joins a reader and a writer into one transport, recognising descriptor types.
    pub fn new<R, W>(reader: R, writer: W) -> Pipes
    where
        R: Read + Send + 'static,
        W: Write + Send + 'static,
    {
        let fds = match (known_fd(&reader), known_fd(&writer)) {
            (Some(read), Some(write)) => Some(Fds { read, write }),
            _ => None,
        };
        Pipes {
            reader: Box::new(reader),
            writer: Box::new(writer),
            fds,
        }
    }

    /// Joins a reader and a writer that expose their descriptors (`AsFd`), so any descriptor
    /// type opts in to the fd fast path.
    pub fn from_fds<R, W>(reader: R, writer: W) -> Pipes
    where
        R: Read + AsFd + Send + 'static,
        W: Write + AsFd + Send + 'static,
    {
        let fds = Fds {
            read: reader.as_fd().as_raw_fd(),
            write: writer.as_fd().as_raw_fd(),
        };
        Pipes {
            reader: Box::new(reader),
            writer: Box::new(writer),
            fds: Some(fds),
        }
    }

    /// The (read, write) descriptors, when both halves have one.
    pub fn descriptors(&self) -> Option<(RawFd, RawFd)> {
        self.fds.map(|f| (f.read, f.write))
    }

    /// The two halves, boxed.
    pub fn into_parts(self) -> (Box<dyn Read + Send>, Box<dyn Write + Send>) {
        (self.reader, self.writer)
    }
}

impl Read for Pipes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

impl Write for Pipes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

impl std::fmt::Debug for Pipes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipes").field("fds", &self.fds).finish()
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
        Descriptor {
            // SAFETY: File::from_raw_fd wants an owned descriptor; this one is borrowed, which
            // is sound only because the File sits in a ManuallyDrop that is never dropped for
            // a borrowed Descriptor (see Drop), so it never closes the descriptor; it stays
            // open as long as we use it (the function contract).
            file: ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }),
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
/// sslbridge reads and writes its descriptor directly.
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
pub struct FdTransport {
    inner: Box<dyn Transport>,
    fd: RawFd,
}

impl FdTransport {
    /// Wraps a transport that exposes its descriptor.
    pub fn new<T: Transport + AsFd>(transport: T) -> FdTransport {
        let fd = transport.as_fd().as_raw_fd();
        FdTransport {
            inner: Box::new(transport),
            fd,
        }
    }

    /// The wrapped transport.
    pub fn get_ref<T: Transport>(&self) -> Option<&T> {
        (*self.inner).as_any().downcast_ref::<T>()
    }

    /// The wrapped transport, mutably.
    pub fn get_mut<T: Transport>(&mut self) -> Option<&mut T> {
        (*self.inner).as_any_mut().downcast_mut::<T>()
    }
}

impl Read for FdTransport {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for FdTransport {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl AsRawFd for FdTransport {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl std::fmt::Debug for FdTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FdTransport").field("fd", &self.fd).finish()
    }
}

/// The descriptor of one half of a pair, for the types sslbridge knows.
fn known_fd(half: &dyn Any) -> Option<RawFd> {
    macro_rules! try_types {
        ($($t:ty),*) => {
            $(if let Some(x) = half.downcast_ref::<$t>() {
                return Some(x.as_raw_fd());
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

/// The stream's own duplicates of a transport's descriptors (one for a socket, one per
/// direction for a pair), which it owns and closes after the `SSL`. OpenSSL's BIOs, `poll`
/// and the `O_NONBLOCK` switches use these: replacing or closing the transport's descriptors
/// can then never point them at another file. (`O_NONBLOCK` belongs to the open file
/// description, which a duplicate shares with the original: switching it through the
/// duplicate is switching the transport's, as intended.)
pub(crate) fn duplicate_descriptors(fds: Fds) -> io::Result<(Fds, Vec<OwnedFd>)> {
    let read = crate::ffi::posix::duplicate(fds.read)?;
    let read_fd = read.as_raw_fd();
    if fds.read == fds.write {
        return Ok((Fds::same(read_fd), vec![read]));
    }
    let write = crate::ffi::posix::duplicate(fds.write)?;
    let duplicates = Fds {
        read: read_fd,
        write: write.as_raw_fd(),
    };
    Ok((duplicates, vec![read, write]))
}

/// The descriptors behind a transport, when sslbridge knows them.
pub(crate) fn descriptors_of(transport: &dyn Transport) -> Option<Fds> {
    let any = transport.as_any();
    if let Some(p) = any.downcast_ref::<Pipes>() {
        return p.fds;
    }
    if let Some(t) = any.downcast_ref::<FdTransport>() {
        return Some(Fds::same(t.fd));
    }
    if let Some(inner) = any.downcast_ref::<Box<dyn Transport>>() {
        return descriptors_of(inner.as_ref());
    }
    known_fd(any).map(Fds::same)
}

/// The file descriptor behind a transport (cl+ssl's `stream-fd`): the socket of a
/// `TcpStream` or `UnixStream`, the descriptor of a [`Descriptor`], [`FdTransport`] or `File`,
/// the read side of [`Pipes`]. `None` for transports without one (e.g. [`MemoryPipe`](crate::MemoryPipe)).
///
/// ```
/// let (a, _b) = std::os::unix::net::UnixStream::pair()?;
/// assert!(sslbridge::stream_fd(&a).is_some());
/// let (m, _n) = sslbridge::duplex(16);
/// assert_eq!(sslbridge::stream_fd(&m), None);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn stream_fd<T: Transport>(transport: &T) -> Option<RawFd> {
    descriptors_of(transport).map(|f| f.read)
}

//! [`Pipes`]: a transport made of any reader and any writer. On Unix, halves that are
//! descriptors sslbridge knows (or that expose one, with [`Pipes::from_fds`]) take the fd fast
//! path; elsewhere, and for other halves, the custom BIO calls them.

use std::io::{self, Read, Write};
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, RawFd};

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
    reader: Box<dyn ReadHalf>,
    writer: Box<dyn WriteHalf>,
}

/// The read half of [`Pipes`], with its descriptor when it has one.
trait ReadHalf: Read + Send {
    #[cfg(unix)]
    fn fd(&self) -> Option<RawFd>;

    /// Its `read` is one `read(2)` of its descriptor (a type sslbridge knows).
    #[cfg(unix)]
    fn reads_plainly(&self) -> bool {
        false
    }
}

/// The write half of [`Pipes`], with its descriptor when it has one.
trait WriteHalf: Write + Send {
    #[cfg(unix)]
    fn fd(&self) -> Option<RawFd>;
}

/// A half of a type sslbridge knows (`Pipes::new`): its descriptor, if any, was read at
/// construction, and none of these types can change it through `Read`/`Write`.
struct KnownHalf<T> {
    inner: T,
    #[cfg(unix)]
    fd: Option<RawFd>,
}

/// A half that exposes its descriptor (`Pipes::from_fds`): asked anew each time, since the
/// type's own methods could replace it.
#[cfg(unix)]
struct FdHalf<T>(T);

impl<R: Read + Send> Read for KnownHalf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<W: Write + Send> Write for KnownHalf<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read + Send> ReadHalf for KnownHalf<R> {
    #[cfg(unix)]
    fn fd(&self) -> Option<RawFd> {
        self.fd
    }

    #[cfg(unix)]
    fn reads_plainly(&self) -> bool {
        self.fd.is_some()
    }
}

impl<W: Write + Send> WriteHalf for KnownHalf<W> {
    #[cfg(unix)]
    fn fd(&self) -> Option<RawFd> {
        self.fd
    }
}

#[cfg(unix)]
impl<R: Read + Send> Read for FdHalf<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

#[cfg(unix)]
impl<W: Write + Send> Write for FdHalf<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

#[cfg(unix)]
impl<R: Read + AsFd + Send> ReadHalf for FdHalf<R> {
    fn fd(&self) -> Option<RawFd> {
        Some(self.0.as_fd().as_raw_fd())
    }
}

#[cfg(unix)]
impl<W: Write + AsFd + Send> WriteHalf for FdHalf<W> {
    fn fd(&self) -> Option<RawFd> {
        Some(self.0.as_fd().as_raw_fd())
    }
}

impl Pipes {
    /// Joins a reader and a writer into one transport, recognising descriptor types.
    pub fn new<R, W>(reader: R, writer: W) -> Pipes
    where
        R: Read + Send + 'static,
        W: Write + Send + 'static,
    {
        Pipes {
            reader: Box::new(KnownHalf {
                #[cfg(unix)]
                fd: super::fd::known_fd(&reader),
                inner: reader,
            }),
            writer: Box::new(KnownHalf {
                #[cfg(unix)]
                fd: super::fd::known_fd(&writer),
                inner: writer,
            }),
        }
    }

    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    /// Joins a reader and a writer that expose their descriptors (`AsFd`), so any descriptor
    /// type opts in to the fd fast path. The descriptors are asked for when a stream is set
    /// up, not remembered from here.
    pub fn from_fds<R, W>(reader: R, writer: W) -> Pipes
    where
        R: Read + AsFd + Send + 'static,
        W: Write + AsFd + Send + 'static,
    {
        Pipes {
            reader: Box::new(FdHalf(reader)),
            writer: Box::new(FdHalf(writer)),
        }
    }

    #[cfg(unix)]
    #[cfg_attr(docsrs, doc(cfg(unix)))]
    /// The (read, write) descriptors, when both halves have one.
    pub fn descriptors(&self) -> Option<(RawFd, RawFd)> {
        Some((self.reader.fd()?, self.writer.fd()?))
    }

    /// Its read half is one `read(2)` of its descriptor (see [`ReadHalf::reads_plainly`]).
    #[cfg(unix)]
    pub(super) fn reads_plainly(&self) -> bool {
        self.reader.reads_plainly()
    }

    #[cfg(unix)]
    pub(super) fn fds(&self) -> Option<super::Fds> {
        self.descriptors()
            .map(|(read, write)| super::Fds { read, write })
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
        let mut d = f.debug_struct("Pipes");
        #[cfg(unix)]
        d.field("fds", &self.descriptors());
        d.finish_non_exhaustive()
    }
}

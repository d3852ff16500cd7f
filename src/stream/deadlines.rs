//! Deadlines: how a stream waits ([`IoMode`]), which transports can be bounded
//! ([`Deadlines`]), and the timeout settings of [`SslStream`].

use super::SslStream;
use crate::bio::Plumbing;
use crate::error::{Error, Operation};
#[cfg(unix)]
use crate::ffi::posix;
use crate::transport::Fds;
use std::time::Duration;

/// How operations wait: descriptors, deadlines and who owns blocking behaviour.
#[derive(Debug, Clone)]
pub(crate) struct IoMode {
    /// The transport's descriptors, when sslbridge knows them (fd path or custom BIO).
    pub(crate) fds: Option<Fds>,
    /// OpenSSL does the I/O on `fds` itself.
    pub(crate) fd_fast_path: bool,
    /// The user's descriptor was already non-blocking: never wait, return WantRead/WantWrite.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub(crate) user_nonblocking: bool,
    /// sslbridge set `O_NONBLOCK` to enforce deadlines with `poll`, and restores it at the end.
    pub(crate) emulating_blocking: bool,
    /// On the fd path: OpenSSL reads ahead (`fd_read_ahead`, default on). Off, a read over a
    /// blocking descriptor takes one record, as the option promises.
    pub(crate) fd_read_ahead: bool,
    /// How deadlines are enforced on this transport, if they can be.
    pub(crate) deadlines: Deadlines,
    /// Flush the transport after each write that produced records (custom BIO, no output
    /// buffer, not a MemoryPipe).
    pub(crate) flush_after_write: bool,
    /// `None` while no timeout is set (most streams: then it costs a pointer, not 48 bytes).
    timeouts: Option<Box<Timeouts>>,
}

/// The timeouts of a stream's operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Timeouts {
    handshake: Option<Duration>,
    read: Option<Duration>,
    write: Option<Duration>,
}

impl IoMode {
    /// Before the transport is installed: no descriptors, no deadlines.
    pub(crate) fn unset() -> IoMode {
        IoMode {
            fds: None,
            fd_fast_path: false,
            user_nonblocking: false,
            emulating_blocking: false,
            fd_read_ahead: false,
            deadlines: Deadlines::Unsupported,
            flush_after_write: false,
            timeouts: None,
        }
    }

    /// How a stream waits, given how it reaches its transport and the options.
    pub(crate) fn new(plumbing: &Plumbing, common: &super::setup::Common) -> IoMode {
        // sslbridge bounds the waits of the descriptors it knows (with poll) and of its own
        // MemoryPipe, and nothing else.
        let deadlines = if plumbing.fds.is_some() {
            Deadlines::Descriptors
        } else if plumbing.memory_pipe {
            Deadlines::MemoryPipe
        } else {
            Deadlines::Unsupported
        };
        IoMode {
            fds: plumbing.fds,
            fd_fast_path: plumbing.fd_fast_path,
            user_nonblocking: plumbing.user_nonblocking,
            emulating_blocking: false,
            fd_read_ahead: plumbing.fd_fast_path && common.fd_read_ahead.unwrap_or(true),
            deadlines,
            // OpenSSL flushes the BIO after a handshake flight but not after SSL_write: a
            // transport that buffers (BufWriter, Stdout, a framing layer) would keep the
            // records. A MemoryPipe's flush does nothing.
            flush_after_write: !plumbing.fd_fast_path
                && !plumbing.memory_pipe
                && common.output_buffer_size == 0,
            timeouts: common.timeout.map(|t| {
                Box::new(Timeouts {
                    handshake: Some(t),
                    read: Some(t),
                    write: Some(t),
                })
            }),
        }
    }

    /// The timeout of `op` (shutdown shares the write timeout).
    pub(crate) fn timeout(&self, op: Operation) -> Option<Duration> {
        let timeouts = self.timeouts.as_deref()?;
        match op {
            Operation::Handshake => timeouts.handshake,
            Operation::Read => timeouts.read,
            Operation::Write | Operation::Shutdown => timeouts.write,
        }
    }

    /// Whether any operation has a timeout.
    fn has_timeouts(&self) -> bool {
        self.timeouts.is_some()
    }

    /// Changes the timeouts with `change`, keeping nothing allocated once none is set.
    fn change_timeouts(&mut self, change: impl FnOnce(&mut Timeouts)) {
        let mut timeouts = self.timeouts.as_deref().copied().unwrap_or_default();
        change(&mut timeouts);
        self.timeouts = (timeouts != Timeouts::default()).then(|| Box::new(timeouts));
    }
}

/// How a stream bounds the time an operation may wait.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Deadlines {
    /// `poll` on the stream's own duplicates of the transport's descriptors.
    Descriptors,
    /// The waits of sslbridge's own `MemoryPipe`, bounded by the operation's deadline.
    MemoryPipe,
    /// Nothing sslbridge can bound: a deadline is refused rather than silently ignored.
    Unsupported,
}

impl Deadlines {
    /// `Ok` when a deadline can be enforced; else the error that says what to do instead,
    /// naming the `transport` type.
    pub(crate) fn check(self, transport: &'static str) -> Result<(), Error> {
        match self {
            Deadlines::Unsupported => Err(Error::InvalidArgument(format!(
                "a timeout cannot be enforced on a transport of type `{transport}`: sslbridge \
                 bounds the waits of descriptors it knows (TcpStream, UnixStream, Pipes of \
                 descriptors, Descriptor, FdTransport) and of its MemoryPipe only; give it the \
                 descriptor (e.g. the TcpStream itself, Pipes::from_fds or FdTransport::new), or \
                 set the transport's own timeouts (e.g. TcpStream::set_read_timeout) and no \
                 sslbridge timeout{}",
                if cfg!(unix) {
                    ""
                } else {
                    " (off Unix, sslbridge enforces deadlines on MemoryPipe only)"
                }
            ))),
            _ => Ok(()),
        }
    }
}

impl<T> SslStream<T> {
    /// Whether OpenSSL reads and writes the transport's descriptor directly (the fd fast
    /// path) rather than calling the transport through the custom BIO.
    pub fn uses_fd_fast_path(&self) -> bool {
        self.io.fd_fast_path
    }

    /// Bounds each later read (`None`: wait as long as it takes). On a descriptor sslbridge
    /// knows this is enforced with `poll`; on other transports the transport's own timeout
    /// governs. Expiry is [`Error::Timeout`] (`io::ErrorKind::TimedOut`); the stream stays
    /// usable after a read timeout.
    pub fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        if timeout.is_some() {
            self.io.deadlines.check(std::any::type_name::<T>())?;
        }
        self.io.change_timeouts(|t| t.read = timeout);
        self.enforce_deadlines()
    }

    /// Bounds each later write and the shutdown; see
    /// [`set_read_timeout`](SslStream::set_read_timeout).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        if timeout.is_some() {
            self.io.deadlines.check(std::any::type_name::<T>())?;
        }
        self.io.change_timeouts(|t| t.write = timeout);
        self.enforce_deadlines()
    }

    /// The read timeout.
    pub fn read_timeout(&self) -> Option<Duration> {
        self.io.timeout(Operation::Read)
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> Option<Duration> {
        self.io.timeout(Operation::Write)
    }

    /// Makes a blocking descriptor non-blocking so deadlines can be enforced with `poll`.
    pub(crate) fn enforce_deadlines(&mut self) -> Result<(), Error> {
        let io = &mut self.io;
        let wants_deadlines = io.has_timeouts();
        #[cfg(unix)]
        if let (Some(fds), true, false, false) = (
            io.fds,
            wants_deadlines,
            io.user_nonblocking,
            io.emulating_blocking,
        ) {
            posix::set_nonblocking(fds.read, true).map_err(Error::Io)?;
            io.emulating_blocking = true;
            posix::set_nonblocking(fds.write, true).map_err(Error::Io)?;
        }
        #[cfg(not(unix))]
        let _ = wants_deadlines; // no descriptors off Unix: MemoryPipe deadlines need nothing
        Ok(())
    }
}

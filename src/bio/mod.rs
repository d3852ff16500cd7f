//! Everything between OpenSSL and the transport: the static `BIO_METHOD` whose callbacks call
//! the transport ([`method`]), the per-connection state behind it ([`state`]), the record
//! cursor of the in-memory hand-off ([`record`]), the descriptor BIOs of the fd fast path
//! ([`fd`]), and [`install_transport`], the one function that decides how a stream reaches
//! its transport.

#[cfg(unix)]
mod fd;
mod first_bytes;
mod method;
mod record;
mod state;

#[cfg(unix)]
pub(crate) use fd::set_read_no_wait;
pub(crate) use record::count_complete_by as count_complete_records;
pub use state::TransportStats;
pub(crate) use state::{BioState, DEFAULT_READ_AHEAD};

use crate::error::{cvt_p, Error};
use crate::transport::{Capabilities, Fds, OwnedDescriptors};
use openssl_sys::{BIO, SSL};

/// How a stream reaches its transport, as [`install_transport`] set it up.
pub(crate) struct Plumbing {
    /// The stream's own duplicates of the transport's descriptors (what OpenSSL, `poll` and
    /// the blocking-mode switches use), when it has descriptors.
    pub(crate) fds: Option<Fds>,
    /// Those duplicates, owned: the stream closes them after the `SSL` is freed.
    pub(crate) owned_fds: OwnedDescriptors,
    /// OpenSSL reads and writes the descriptors itself (socket or fd BIOs).
    pub(crate) fd_fast_path: bool,
    /// The transport is sslbridge's `MemoryPipe` (on the custom BIO).
    pub(crate) memory_pipe: bool,
    /// The user's descriptor was non-blocking already.
    pub(crate) user_nonblocking: bool,
}

/// Decides how the stream behind `ssl` talks to its transport, and sets it up (cl+ssl's
/// `install-handle-and-bio`):
///
/// - a transport with descriptors sslbridge knows gets OpenSSL's own socket BIO (sockets) or
///   fd BIOs (one per direction for a pair) on the stream's duplicates of them, with
///   OpenSSL's read-ahead, so header and body come in one system call: the fd fast path
///   (unless `unwrap_fd` is false; `fd_read_ahead` false turns the read-ahead off);
/// - everything else gets the custom BIO over `state`; a `MemoryPipe` with OpenSSL's
///   read-ahead on, since it hands over one whole record per read straight into OpenSSL's
///   buffer; other transports without it, and the BIO's own read-ahead buffer instead (their
///   `read` needs an initialised slice, and OpenSSL's read-ahead moves the unread rest of its
///   buffer after every record when a read brings several).
///
/// # Safety
/// `ssl` is live; `state` is the connection's BIO state, at a stable address, reached only
/// through raw pointers while OpenSSL may use it, and freed only after `ssl`.
pub(crate) unsafe fn install_transport(
    ssl: *mut SSL,
    state: *mut BioState,
    capabilities: Capabilities,
    unwrap_fd: bool,
    fd_read_ahead: bool,
) -> Result<Plumbing, Error> {
    let (fds, owned_fds, user_nonblocking) = own_descriptors(capabilities.fds)?;
    let fd_fast_path = fds.is_some() && unwrap_fd;
    // SAFETY: per the function contract; the BIOs' references pass to the SSL.
    unsafe {
        match fds {
            #[cfg(unix)]
            Some(fds) if fd_fast_path => fd::attach_descriptor_bios(ssl, fds)?,
            _ => {
                let bio = new_transport_bio(state)?;
                openssl_sys::SSL_set_bio(ssl, bio, bio);
            }
        }
        // Answered to BIO_C_GET_FD (SSL_get_fd) on the custom BIO too, and polled there
        // before a read beyond the bytes in hand when the transport reads it plainly.
        #[cfg(unix)]
        {
            (*state).fd = fds.map_or(-1, |f| f.read);
            (*state).poll_then_read = fds.is_some() && !fd_fast_path && capabilities.plain_read;
        }
        if (fd_fast_path && fd_read_ahead) || capabilities.memory_pipe {
            crate::ffi::openssl::SSL_set_read_ahead(ssl, 1);
        }
    }
    Ok(Plumbing {
        fds,
        owned_fds,
        fd_fast_path,
        memory_pipe: capabilities.memory_pipe,
        user_nonblocking,
    })
}

/// The stream's own duplicates of the transport's descriptors (OpenSSL, `poll` and the
/// blocking-mode switches work on these, so nothing done to the transport later can redirect
/// them), and whether the descriptors were non-blocking already.
#[cfg(unix)]
fn own_descriptors(fds: Option<Fds>) -> Result<(Option<Fds>, OwnedDescriptors, bool), Error> {
    let Some(fds) = fds else {
        return Ok((None, Default::default(), false));
    };
    let (fds, owned) = crate::transport::duplicate_descriptors(fds).map_err(Error::Io)?;
    let nonblocking = crate::ffi::posix::is_nonblocking(fds.read).map_err(Error::Io)?
        || crate::ffi::posix::is_nonblocking(fds.write).map_err(Error::Io)?;
    Ok((Some(fds), owned, nonblocking))
}

/// Off Unix a transport has no descriptors.
#[cfg(not(unix))]
fn own_descriptors(fds: Option<Fds>) -> Result<(Option<Fds>, OwnedDescriptors, bool), Error> {
    Ok((fds, Default::default(), false))
}

/// A new BIO of our method reading and writing through `state`.
///
/// # Safety
/// `state` must stay at the same address and outlive the BIO (the stream frees the `SSL`,
/// which owns the BIO, before the state).
unsafe fn new_transport_bio(state: *mut BioState) -> Result<*mut BIO, Error> {
    // SAFETY: the method is a valid, immortal BIO_METHOD.
    let bio = cvt_p(unsafe { openssl_sys::BIO_new(method::transport_method()) })?;
    // SAFETY: bio is fresh; the data pointer's validity is the caller's contract.
    unsafe {
        openssl_sys::BIO_set_data(bio, state.cast());
        openssl_sys::BIO_set_init(bio, 1);
    }
    Ok(bio)
}

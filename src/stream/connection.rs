//! The per-connection state that OpenSSL's callbacks reach through the `SSL`'s ex_data and
//! the BIO's data pointer, and the callback types it holds.

use crate::bio::BioState;
use crate::context::Context;
use crate::error::{Error, Side};
use crate::ex_data::Slot;
use openssl_sys::SSL;
use std::any::Any;
use std::sync::Arc;

/// Chooses the ALPN protocol from the client's offer (in the client's order); `None` selects
/// nothing.
pub type AlpnCallback = dyn Fn(&[&str]) -> Option<String> + Send + Sync + 'static;

/// Picks the context (certificate, key, settings) for the server name a client requested;
/// `None` keeps the stream's own.
pub type SniCallback = dyn Fn(&str) -> Option<Context> + Send + Sync + 'static;

/// Everything a stream shares with OpenSSL's callbacks. The stream owns it through a
/// [`SharedWithOpenSsl`](crate::stream::SharedWithOpenSsl): one stable pointer, used by
/// OpenSSL (ex_data, BIO data) and by the stream alike, freed after the `SSL`.
pub(crate) struct Connection {
    pub(crate) bio: BioState,
    /// Client only: the host name to check the leaf against, when verification is on.
    pub(crate) check_hostname: Option<String>,
    /// Client only: the server's certificate is verified (`Verify::Required`/`Optional`).
    pub(crate) verifies_server: bool,
    /// The first verification failure, returned instead of OpenSSL's generic error.
    pub(crate) verify_failure: Option<Error>,
    /// Server only: ALPN protocols in preference order, in wire format.
    pub(crate) alpn_server: Option<Vec<u8>>,
    /// Server only: a closure choosing the ALPN protocol from the client's list.
    pub(crate) alpn_select: Option<Arc<AlpnCallback>>,
    /// Server only: fail the handshake (no_application_protocol) when nothing matches.
    pub(crate) alpn_required: bool,
    /// Server only: picks a context by the requested server name.
    pub(crate) sni_callback: Option<Arc<SniCallback>>,
    /// The context the SNI callback switched to, kept alive with the connection.
    pub(crate) sni_context: Option<Context>,
    /// A panic caught in a non-BIO callback.
    pub(crate) panic: Option<Box<dyn Any + Send>>,
    /// Which end this is, for error messages that name the setting of this side.
    pub(crate) side: Side,
    /// The header of the first record received (from the message callback, during the
    /// handshake), to explain a peer that does not speak TLS.
    pub(crate) first_header: Vec<u8>,
}

impl Connection {
    pub(crate) fn new(bio: BioState, side: Side) -> Connection {
        Connection {
            bio,
            side,
            first_header: Vec::new(),
            check_hostname: None,
            verifies_server: false,
            verify_failure: None,
            alpn_server: None,
            alpn_select: None,
            alpn_required: false,
            sni_callback: None,
            sni_context: None,
            panic: None,
        }
    }

    /// A panic from any callback, to resume once OpenSSL has returned.
    pub(crate) fn take_panic(&mut self) -> Option<Box<dyn Any + Send>> {
        self.bio.panic.take().or_else(|| self.panic.take())
    }
}

/// The slot through which an `SSL` points to its [`Connection`] (owned by the stream).
pub(crate) static CONNECTION: Slot<SSL, Connection> = Slot::pointer();

/// The connection behind `ssl`, if it is one of ours.
///
/// # Safety
/// `ssl` is live, and no other reference to its `Connection` is active (OpenSSL is inside a
/// call made by the stream, which does not touch the connection meanwhile).
pub(crate) unsafe fn connection<'a>(ssl: *mut SSL) -> Option<&'a mut Connection> {
    // SAFETY: per the function contract; the slot holds null or our Connection.
    unsafe { CONNECTION.get(ssl).as_mut() }
}

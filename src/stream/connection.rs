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
    pub(crate) check_hostname: Option<Box<str>>,
    /// Client only: the server's certificate is verified (`Verify::Required`/`Optional`).
    pub(crate) verifies_server: bool,
    /// The first verification failure, returned instead of OpenSSL's generic error. (Boxed,
    /// like every field that is rarely set: an idle connection holds only a pointer for it.)
    pub(crate) verify_failure: Option<Box<Error>>,
    /// Server only, and only when ALPN or a server-name callback is configured.
    pub(crate) server_choices: Option<Box<ServerChoices>>,
    /// Which end this is, for error messages that name the setting of this side.
    pub(crate) side: Side,
}

/// What a server chooses during the handshake (ALPN protocol, context by server name), held
/// apart from [`Connection`] so that connections without them do not carry the fields.
pub(crate) struct ServerChoices {
    /// ALPN protocols in preference order, in wire format.
    pub(crate) alpn_server: Option<Vec<u8>>,
    /// A closure choosing the ALPN protocol from the client's list.
    pub(crate) alpn_select: Option<Arc<AlpnCallback>>,
    /// Fail the handshake (no_application_protocol) when nothing matches.
    pub(crate) alpn_required: bool,
    /// Picks a context by the requested server name.
    pub(crate) sni_callback: Option<Arc<SniCallback>>,
    /// The context the SNI callback switched to, kept alive with the connection (here, not
    /// in [`Connection`]: only a server with an SNI callback ever sets it).
    pub(crate) sni_context: Option<Context>,
}

impl ServerChoices {
    /// Whether any of the handshake callbacks has something to do (`alpn_required` alone
    /// does: with nothing to choose from, an ALPN offer then fails the handshake).
    pub(crate) fn is_configured(&self) -> bool {
        self.alpn_server.is_some()
            || self.alpn_select.is_some()
            || self.alpn_required
            || self.sni_callback.is_some()
    }
}

impl Connection {
    pub(crate) fn new(bio: BioState, side: Side) -> Connection {
        Connection {
            bio,
            side,
            check_hostname: None,
            verifies_server: false,
            verify_failure: None,
            server_choices: None,
        }
    }

    /// A panic from any callback, to resume once OpenSSL has returned.
    pub(crate) fn take_panic(&mut self) -> Option<Box<dyn Any + Send>> {
        // Every callback parks its panic in the BIO state's slot: one slot per connection.
        self.bio.panic.take()
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

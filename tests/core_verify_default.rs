//! The process-wide client verification default. It is global state, so this binary holds a
//! single test and restores the default whatever happens.

mod common;

use common::*;
use sslbridge::{client_verify_default, set_client_verify_default, ClientOptions, Error, Verify};

/// Puts `Verify::Required` back even if the test fails half-way.
struct Restore;
impl Drop for Restore {
    fn drop(&mut self) {
        set_client_verify_default(Verify::Required);
    }
}

#[test]
fn client_verify_default_is_required_and_changeable() {
    within(LIMIT, || {
        let _restore = Restore;
        assert_eq!(client_verify_default(), Verify::Required);
        let fx = Fixture::new();
        let self_signed = fx.pki.self_signed(&["localhost"]).unwrap();
        let options = || {
            ClientOptions::new()
                .hostname("localhost")
                .context(fx.client_context(None))
        };

        // Default Required: the self-signed server is refused.
        let (client, _) = try_connect(options(), &self_signed);
        assert!(matches!(client, Err(Error::Verify { .. })), "{client:?}");

        // Default None: the same options now connect.
        set_client_verify_default(Verify::None);
        assert_eq!(client_verify_default(), Verify::None);
        let (client, server) = try_connect(options(), &self_signed);
        client.expect("Verify::None by default");
        server.unwrap();

        // An explicit .verify() beats the default.
        let (client, _) = try_connect(options().verify(Verify::Required), &self_signed);
        assert!(matches!(client, Err(Error::Verify { .. })), "{client:?}");

        // Default Optional still rejects a presented bad certificate.
        set_client_verify_default(Verify::Optional);
        assert_eq!(client_verify_default(), Verify::Optional);
        let (client, _) = try_connect(options(), &self_signed);
        assert!(matches!(client, Err(Error::Verify { .. })), "{client:?}");

        set_client_verify_default(Verify::Required);
        assert_eq!(client_verify_default(), Verify::Required);
    });
}

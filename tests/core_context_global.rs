//! The global context: `with_global_context` and `use_certificate_chain_file`. They change
//! process-wide (or thread-wide) defaults, so they live in their own test binary. Every test
//! here changes only its own `with_global_context` scope, never the process-wide context.

mod common;

use common::*;
use foreign_types::ForeignType;
use sslbridge::{
    global_context, load_global_verify_locations, use_certificate_chain_file, with_global_context,
    ClientOptions, Context, Error, ServerOptions, VerifyLocation, VerifyMode,
};
use std::io::{Read, Write};
use std::thread;

#[test]
fn with_global_context_is_the_default_for_its_closure_and_thread() {
    let outer = global_context().unwrap();
    let ctx = Context::builder().build().unwrap();
    with_global_context(&ctx, || {
        assert_eq!(global_context().unwrap().as_ptr(), ctx.as_ptr());
        // Other threads keep the process-wide one.
        let other = thread::spawn(|| global_context().unwrap().as_ptr() as usize);
        assert_eq!(join(other), outer.as_ptr() as usize);
    });
    assert_eq!(global_context().unwrap().as_ptr(), outer.as_ptr());
    // Restored after a panic too.
    let _ = std::panic::catch_unwind(|| with_global_context(&ctx, || panic!("inside")));
    assert_eq!(global_context().unwrap().as_ptr(), outer.as_ptr());
}

#[test]
fn server_uses_the_chain_loaded_into_the_global_context() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        let chain = dir.write("chain.pem", &fx.server.chain_pem);
        let key = fx.server.key_pem.clone();
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = thread::spawn(move || {
            // This thread's global context: no certificate of its own until we load one.
            let ctx = Context::builder()
                .verify_mode(VerifyMode::NONE)
                .build()
                .unwrap();
            with_global_context(&ctx, || {
                use_certificate_chain_file(&chain).unwrap();
                // No certificate in the options: it comes from the global context.
                let mut tls = ServerOptions::new().private_key_pem(&key).accept(s)?;
                tls.write_all(b"from the global chain")?;
                tls.close()
            })
        });
        let mut client = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .connect(c)
            .expect("verified with the chain from the global context");
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, b"from the global chain");
        join(server).unwrap();
        let peer = client.peer_certificate().unwrap();
        assert_eq!(peer.to_der().unwrap(), fx.server.cert_der());
    });
}

#[test]
fn missing_chain_file_is_an_error_and_changes_nothing() {
    let dir = TempFiles::new();
    let ctx = Context::builder().build().unwrap();
    with_global_context(&ctx, || {
        assert!(use_certificate_chain_file(dir.path().join("missing.pem")).is_err());
        assert_eq!(global_context().unwrap().as_ptr(), ctx.as_ptr());
    });
}

/// A server on `server_ctx` with the fixture's key for the stream (its certificate comes from
/// the context); a verifying "localhost" client on `client_ctx`.
fn serve_with(
    fx: &Fixture,
    server_ctx: Context,
    client_ctx: Context,
) -> Result<sslbridge::SslStream<sslbridge::MemoryPipe>, Error> {
    let key = fx.server.key_pem.clone();
    let (c, s) = sslbridge::duplex(64 * 1024);
    let server = thread::spawn(move || -> Result<(), Error> {
        let mut tls = ServerOptions::new()
            .context(server_ctx)
            .private_key_pem(&key)
            .accept(s)?;
        tls.write_all(b"ok")?;
        tls.close()
    });
    let client = ClientOptions::new()
        .hostname("localhost")
        .context(client_ctx)
        .connect(c);
    let served = join(server);
    let mut client = client?;
    served?;
    let mut got = Vec::new();
    client.read_to_end(&mut got)?;
    assert_eq!(got, b"ok");
    Ok(client)
}

#[test]
fn global_functions_in_a_scope_replace_its_context_and_leave_ctx_alone() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        let chain = dir.write("chain.pem", &fx.server.chain_pem);
        let root = dir.write("root.pem", &fx.pki.root_pem());
        let process_wide = global_context().unwrap();
        let ctx = Context::builder()
            .verify_mode(VerifyMode::NONE)
            .build()
            .unwrap();

        let scoped = with_global_context(&ctx, || {
            use_certificate_chain_file(&chain).unwrap();
            let after_chain = global_context().unwrap();
            assert_ne!(after_chain.as_ptr(), ctx.as_ptr(), "a new context");
            load_global_verify_locations(&[VerifyLocation::File(root.clone())]).unwrap();
            let scoped = global_context().unwrap();
            assert_ne!(scoped.as_ptr(), after_chain.as_ptr());

            // A nested scope's updates stay in it.
            let inner = Context::builder().build().unwrap();
            with_global_context(&inner, || {
                use_certificate_chain_file(&chain).unwrap();
                assert_ne!(global_context().unwrap().as_ptr(), inner.as_ptr());
            });
            assert_eq!(global_context().unwrap().as_ptr(), scoped.as_ptr());
            // Other threads still see the process-wide context.
            let other = thread::spawn(|| global_context().unwrap().as_ptr() as usize);
            assert_eq!(join(other), process_wide.as_ptr() as usize);
            scoped
        });
        assert_eq!(global_context().unwrap().as_ptr(), process_wide.as_ptr());

        // The scope's context has the chain and the root, and the settings of `ctx`.
        assert_eq!(scoped.verify_mode(), VerifyMode::NONE);
        let tls = serve_with(&fx, scoped.clone(), scoped.clone()).expect("chain and root");
        assert_eq!(
            tls.peer_certificate().unwrap().to_der().unwrap(),
            fx.server.cert_der()
        );
        // `ctx` itself has neither: no certificate to serve...
        let (_c, s) = sslbridge::duplex(1024);
        let r = ServerOptions::new().context(ctx.clone()).start(s);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{:?}", r.err());
        // ...and no trust in the test root.
        let r = serve_with(&fx, scoped, ctx);
        assert!(matches!(r, Err(Error::Verify { code: 20, .. })), "{r:?}");
    });
}

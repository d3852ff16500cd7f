//! The global context: `with_global_context` and `use_certificate_chain_file`. They change
//! process-wide (or thread-wide) defaults, so they live in their own test binary.

mod common;

use common::*;
use foreign_types::ForeignType;
use sslbridge::{
    global_context, use_certificate_chain_file, with_global_context, ClientOptions, Context,
    ServerOptions, VerifyMode,
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
fn missing_chain_file_is_an_error() {
    let dir = TempFiles::new();
    let ctx = Context::builder().build().unwrap();
    with_global_context(&ctx, || {
        assert!(use_certificate_chain_file(dir.path().join("missing.pem")).is_err());
    });
}

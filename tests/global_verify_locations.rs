//! cl+ssl's `ssl-load-global-verify-locations`: trust added to the global context is used by
//! clients that name no context. Its own test binary, since it changes process-wide state.
use sslbridge::testing::TestPki;
use sslbridge::{ClientOptions, Context, Error, ServerOptions, VerifyLocation, VerifyMode};
use std::io::{Read, Write};
use std::sync::{Arc, Barrier};

fn serve_once(pki: &TestPki) -> (sslbridge::MemoryPipe, std::thread::JoinHandle<()>) {
    let leaf = pki.server(&["localhost"]).unwrap();
    let ctx = Context::builder()
        .verify_mode(VerifyMode::NONE)
        .certificate_chain_pem(&leaf.chain_pem)
        .private_key_pem(&leaf.key_pem)
        .build()
        .unwrap();
    let (client_end, server_end) = sslbridge::duplex(64 * 1024);
    let server = std::thread::spawn(move || {
        if let Ok(mut tls) = ServerOptions::new().context(ctx).accept(server_end) {
            let mut buf = [0u8; 4];
            if tls.read_exact(&mut buf).is_ok() {
                let _ = tls.write_all(&buf);
                let _ = tls.close();
            }
        }
    });
    (client_end, server)
}

#[test]
fn global_verify_locations_are_used_by_clients_without_a_context() {
    let pki = TestPki::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    std::fs::write(&root, pki.root_pem()).unwrap();

    // Before: the test root is unknown to the global context.
    let (end, server) = serve_once(&pki);
    let err = ClientOptions::new()
        .hostname("localhost")
        .connect(end)
        .unwrap_err();
    assert!(matches!(err, Error::Verify { code: 20, .. }), "{err:?}");
    server.join().unwrap();

    let missing = dir.path().join("missing.pem");
    match sslbridge::load_global_verify_locations(&[VerifyLocation::File(missing.clone())]) {
        Err(Error::VerifyLocationNotFound(p)) => assert_eq!(p, missing),
        other => panic!("expected VerifyLocationNotFound, got {other:?}"),
    }
    sslbridge::set_global_default_verify_paths().unwrap();
    sslbridge::load_global_verify_locations(&[VerifyLocation::File(root)]).unwrap();

    // After: the same client code verifies the server.
    let (end, server) = serve_once(&pki);
    let mut tls = ClientOptions::new()
        .hostname("localhost")
        .connect(end)
        .unwrap();
    tls.write_all(b"ping").unwrap();
    let mut echo = Vec::new();
    tls.read_to_end(&mut echo).unwrap();
    assert_eq!(echo, b"ping");
    server.join().unwrap();
}

/// A client without a context of its own (the global one) or with `context`, against a server
/// of `pki`: the verification error code, or 0.
fn verify_code(pki: &TestPki, context: Option<Context>) -> i32 {
    let (end, server) = serve_once(pki);
    let mut options = ClientOptions::new().hostname("localhost");
    if let Some(ctx) = context {
        options = options.context(ctx);
    }
    let code = match options.connect(end) {
        Ok(mut tls) => {
            tls.write_all(b"ping").unwrap();
            let mut echo = Vec::new();
            tls.read_to_end(&mut echo).unwrap();
            assert_eq!(echo, b"ping");
            0
        }
        Err(Error::Verify { code, .. }) => code,
        Err(e) => panic!("{e:?}"),
    };
    server.join().unwrap();
    code
}

#[test]
fn concurrent_global_updates_are_all_kept() {
    const N: usize = 6;
    let pkis: Vec<TestPki> = (0..N).map(|_| TestPki::new().unwrap()).collect();
    let dir = tempfile::tempdir().unwrap();
    let before = sslbridge::global_context().unwrap();
    let barrier = Arc::new(Barrier::new(N));
    let threads: Vec<_> = pkis
        .iter()
        .enumerate()
        .map(|(i, pki)| {
            let root = dir.path().join(format!("root{i}.pem"));
            std::fs::write(&root, pki.root_pem()).unwrap();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                sslbridge::load_global_verify_locations(&[VerifyLocation::File(root)])
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    for (i, pki) in pkis.iter().enumerate() {
        assert_eq!(verify_code(pki, None), 0, "CA {i} was lost");
    }
    // The context taken before the updates never changed.
    assert_eq!(verify_code(&pkis[0], Some(before)), 20);
}

//! `Context::to_builder`: a context never changes; a new one is built from the settings it
//! recorded (certificates and keys as loaded, trust made explicit, callbacks), and the old one
//! keeps serving what it was built with.

use crate::common::*;
use sslbridge::testing::CertifiedKey;
use sslbridge::{
    ClientOptions, Context, Error, Protocol, ServerOptions, SslStream, VerifyLocation, VerifyMode,
};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// One connection: a server on `server_ctx` (its own certificate unless `stream_key` gives a
/// key for the stream), a verifying "localhost" client on `client_ctx`. Returns the client
/// stream after reading the server's "ok" and close_notify.
fn connect(
    server_ctx: &Context,
    client_ctx: &Context,
    server: impl FnOnce(ServerOptions) -> ServerOptions + Send + 'static,
) -> Result<SslStream<sslbridge::MemoryPipe>, Error> {
    let (c, s) = sslbridge::duplex(64 * 1024);
    let options = server(ServerOptions::new().context(server_ctx.clone()));
    let handle = thread::spawn(move || -> Result<(), Error> {
        let mut tls = options.accept(s)?;
        tls.write_all(b"ok")?;
        tls.close()
    });
    let client = ClientOptions::new()
        .hostname("localhost")
        .context(client_ctx.clone())
        .connect(c);
    let served = join(handle);
    let mut client = client?;
    served?;
    let mut got = Vec::new();
    client.read_to_end(&mut got).map_err(Error::from)?;
    assert_eq!(got, b"ok");
    Ok(client)
}

fn presented(server_ctx: &Context, client_ctx: &Context) -> Vec<u8> {
    let tls = connect(server_ctx, client_ctx, |o| o).expect("handshake");
    tls.peer_certificate().unwrap().to_der().unwrap()
}

fn server_ctx(key: &CertifiedKey) -> Context {
    Context::builder()
        .verify_mode(VerifyMode::NONE)
        .certificate_chain_pem(&key.chain_pem)
        .private_key_pem(&key.key_pem)
        .build()
        .unwrap()
}

#[test]
fn rotation_leaves_the_old_context_serving_its_chain() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let renewed = fx.pki.server(&["localhost"]).unwrap();
        let dir = TempFiles::new();
        let chain = dir.write("new-chain.pem", &renewed.chain_pem);
        let key = dir.write("new-key.pem", &renewed.key_pem);
        let client = fx.client_context(None);
        let old = server_ctx(&fx.server);

        // A connection made before the rotation goes on after it.
        let (c, s) = sslbridge::duplex(64 * 1024);
        let old_for_server = old.clone();
        let long_lived = thread::spawn(move || -> Result<(), Error> {
            let mut tls = ServerOptions::new().context(old_for_server).accept(s)?;
            let mut buf = [0u8; 6];
            tls.read_exact(&mut buf)?;
            tls.write_all(&buf)?;
            tls.close()
        });
        let mut before = ClientOptions::new()
            .hostname("localhost")
            .context(client.clone())
            .connect(c)
            .unwrap();

        let new = old
            .to_builder()
            .certificate_chain_file(&chain)
            .private_key_file(&key)
            .build()
            .unwrap();
        std::fs::remove_file(&chain).unwrap();

        before.write_all(b"still?").unwrap();
        let mut echo = Vec::new();
        before.read_to_end(&mut echo).unwrap();
        assert_eq!(echo, b"still?");
        join(long_lived).unwrap();
        assert_eq!(
            before.peer_certificate().unwrap().to_der().unwrap(),
            fx.server.cert_der()
        );

        // New connections: the old context still presents the old chain, the new one the new.
        assert_eq!(presented(&old, &client), fx.server.cert_der());
        assert_eq!(presented(&new, &client), renewed.cert_der());
        // Settings not changed by the builder are kept.
        assert_eq!(new.verify_mode(), VerifyMode::NONE);
        // Rebuilding without changes serves the same chain again, without the files.
        let again = new.to_builder().build().unwrap();
        assert_eq!(presented(&again, &client), renewed.cert_der());
        let chain_der: Vec<_> = connect(&again, &client, |o| o)
            .unwrap()
            .peer_certificate_chain()
            .iter()
            .map(|c| c.to_der().unwrap())
            .collect();
        assert_eq!(chain_der, [renewed.cert_der(), fx.pki.intermediate_der()]);
    });
}

#[test]
fn a_chain_for_another_key_fails_the_rebuild_and_changes_nothing() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let other = fx.pki.server(&["localhost"]).unwrap();
        let old = server_ctx(&fx.server);
        let r = old
            .to_builder()
            .certificate_chain_pem(&other.chain_pem)
            .build();
        assert!(matches!(r, Err(Error::Ssl(_))), "{r:?}");
        assert_eq!(
            presented(&old, &fx.client_context(None)),
            fx.server.cert_der()
        );
    });
}

#[test]
fn a_rebuilt_context_trusts_a_ca_file_that_is_gone() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        let root = dir.write("root.pem", &fx.pki.root_pem());
        let client = Context::builder()
            .verify_location(VerifyLocation::File(root.clone()))
            .build()
            .unwrap();
        std::fs::remove_file(&root).unwrap();
        let rebuilt = client.to_builder().build().expect("nothing is read again");
        let server = server_ctx(&fx.server);
        assert_eq!(presented(&server, &rebuilt), fx.server.cert_der());
        // Twice removed, and with another location added: still trusted, and nothing else.
        let other = fx.pki.untrusted(&["localhost"]).unwrap();
        let other_root = dir.write("other-root.pem", &fx.pki.untrusted_root_pem());
        let both = rebuilt
            .to_builder()
            .verify_location(VerifyLocation::File(other_root))
            .build()
            .unwrap();
        assert_eq!(presented(&server, &both), fx.server.cert_der());
        assert_eq!(presented(&server_ctx(&other), &both), other.cert_der());
        let r = connect(&server_ctx(&other), &rebuilt, |o| o);
        assert!(matches!(r, Err(Error::Verify { code: 20, .. })), "{r:?}");
        // A missing explicit file still fails the build.
        let r = rebuilt
            .to_builder()
            .verify_location(VerifyLocation::File(root.clone()))
            .build();
        assert!(matches!(r, Err(Error::VerifyLocationNotFound(p)) if p == root));
    });
}

#[test]
fn a_hashed_directory_is_consulted_when_verifying() {
    require_openssl_cli();
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        let cas = dir.path().join("cas");
        std::fs::create_dir(&cas).unwrap();
        let client = Context::builder()
            .verify_location(VerifyLocation::Dir(cas.clone()))
            .build()
            .unwrap();
        let rebuilt = client.to_builder().build().unwrap();
        // The root arrives in the directory after both contexts were built.
        let root = dir.write("root.pem", &fx.pki.root_pem());
        let out = std::process::Command::new("openssl")
            .args(["x509", "-noout", "-subject_hash", "-in"])
            .arg(&root)
            .output()
            .unwrap();
        let hash = String::from_utf8(out.stdout).unwrap();
        std::fs::copy(&root, cas.join(format!("{}.0", hash.trim()))).unwrap();
        let server = server_ctx(&fx.server);
        assert_eq!(presented(&server, &rebuilt), fx.server.cert_der());
        assert_eq!(presented(&server, &client), fx.server.cert_der());
    });
}

#[test]
fn a_rebuilt_context_keeps_every_setting() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let lines = Arc::new(AtomicUsize::new(0));
        let verified = Arc::new(AtomicUsize::new(0));
        let (l, v) = (lines.clone(), verified.clone());
        let client = Context::builder()
            .ca_certificates_pem(&fx.pki.root_pem())
            .max_protocol_version(Protocol::Tls1_2)
            .cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256")
            .verify_depth(0)
            .keylog_callback(move |_| {
                l.fetch_add(1, Ordering::SeqCst);
            })
            .verify_callback(move |ok, _, _, _| {
                v.fetch_add(1, Ordering::SeqCst);
                ok
            })
            .build()
            .unwrap();
        let rebuilt = client.to_builder().build().unwrap();
        let server = server_ctx(&fx.server);
        // Depth 0 is too short for leaf, intermediate and root: the depth was kept.
        let r = connect(&server, &rebuilt, |o| o);
        assert!(matches!(r, Err(Error::Verify { .. })), "{r:?}");
        let rebuilt = rebuilt.to_builder().verify_depth(100).build().unwrap();
        let (l0, v0) = (
            lines.load(Ordering::SeqCst),
            verified.load(Ordering::SeqCst),
        );
        let tls = connect(&server, &rebuilt, |o| o).unwrap();
        assert_eq!(tls.protocol_version(), Some(Protocol::Tls1_2));
        assert_eq!(tls.cipher_name(), Some("ECDHE-ECDSA-AES128-GCM-SHA256"));
        assert!(
            lines.load(Ordering::SeqCst) > l0,
            "the key log callback is kept"
        );
        assert!(
            verified.load(Ordering::SeqCst) > v0,
            "the verify callback is kept"
        );
    });
}

#[test]
fn passwords_a_rebuilt_context_keeps_and_does_not_keep() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let encrypted = fx.server.encrypted_key_pem("secret").unwrap();
        let client = fx.client_context(None);
        let chain = fx.server.chain_pem.clone();

        // A fixed password decrypts the context's key; the rebuilt context has the key
        // decrypted, and does not keep the password.
        let fixed = Context::builder()
            .verify_mode(VerifyMode::NONE)
            .private_key_password("secret")
            .certificate_chain_pem(&chain)
            .private_key_pem(&encrypted)
            .build()
            .unwrap();
        let rebuilt = fixed.to_builder().build().unwrap();
        assert_eq!(presented(&rebuilt, &client), fx.server.cert_der());
        // Streams of the original context decrypt their keys with its password...
        let (c2, k2) = (chain.clone(), encrypted.clone());
        connect(&fixed, &client, move |o| {
            o.certificate_chain_pem(&c2).private_key_pem(&k2)
        })
        .expect("the context's password decrypts the stream key");
        // ...streams of a rebuilt one do not find it there...
        let (_c, s) = sslbridge::duplex(1024);
        let r = ServerOptions::new()
            .context(rebuilt)
            .certificate_chain_pem(&chain)
            .private_key_pem(&encrypted)
            .start(s);
        assert!(matches!(r, Err(Error::Ssl(_))), "{:?}", r.err());
        // ...unless it is given again.
        let regiven = fixed
            .to_builder()
            .private_key_password("secret")
            .build()
            .unwrap();
        let (c2, k2) = (chain.clone(), encrypted.clone());
        connect(&regiven, &client, move |o| {
            o.certificate_chain_pem(&c2).private_key_pem(&k2)
        })
        .expect("the password given again decrypts the stream key");

        // A password callback is a setting: kept.
        let asked = Arc::new(AtomicUsize::new(0));
        let counter = asked.clone();
        let with_callback = Context::builder()
            .verify_mode(VerifyMode::NONE)
            .pem_password_callback(move |_| {
                counter.fetch_add(1, Ordering::SeqCst);
                "secret"
            })
            .build()
            .unwrap()
            .to_builder()
            .build()
            .unwrap();
        connect(&with_callback, &client, move |o| {
            o.certificate_chain_pem(&chain).private_key_pem(&encrypted)
        })
        .expect("the kept callback decrypts the stream key");
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    });
}

//! Contexts: keys (encrypted, DER) and passwords, verify locations, protocol and cipher
//! settings, initialisation and randomness, and the error type's conversions.

use crate::common::*;
use sslbridge::{
    ClientOptions, Context, Error, Protocol, ServerOptions, SslStream, Verify, VerifyLocation,
    VerifyMode,
};
use std::io::{self, Read, Write};
use std::thread;

/// Runs a verified "localhost" client against a server made by `server`, exchanging a few
/// bytes; returns the client stream.
fn talk(
    fx: &Fixture,
    client_ctx: Context,
    server: impl FnOnce(sslbridge::MemoryPipe) -> Result<SslStream<sslbridge::MemoryPipe>, Error>
        + Send
        + 'static,
) -> Result<SslStream<sslbridge::MemoryPipe>, Error> {
    let _ = fx;
    let (c, s) = sslbridge::duplex(64 * 1024);
    let server = thread::spawn(move || -> Result<(), Error> {
        let mut tls = server(s)?;
        tls.write_all(b"pong")?;
        tls.flush()?;
        Ok(())
    });
    let client = ClientOptions::new()
        .hostname("localhost")
        .verify(Verify::Required)
        .context(client_ctx)
        .connect(c);
    let server_result = join(server);
    let mut client = client?;
    server_result?;
    let mut buf = [0u8; 4];
    client.read_exact(&mut buf).map_err(Error::from)?;
    assert_eq!(&buf, b"pong");
    Ok(client)
}

fn no_client_certs() -> sslbridge::ContextBuilder {
    Context::builder().verify_mode(VerifyMode::NONE)
}

#[test]
fn encrypted_key_pem_through_password_callback() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let encrypted = fx.server.encrypted_key_pem("secret").unwrap();
        assert!(encrypted.starts_with(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let ctx = no_client_certs()
            .pem_password_callback(|_rwflag| "secret")
            .certificate_chain_pem(&fx.server.chain_pem)
            .private_key_pem(&encrypted)
            .build()
            .expect("the callback decrypts the key");
        talk(&fx, fx.client_context(None), move |s| {
            ServerOptions::new().context(ctx).accept(s)
        })
        .unwrap();
    });
}

#[test]
fn encrypted_key_file_through_password_callback() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        let chain = dir.write("chain.pem", &fx.server.chain_pem);
        let key = dir.write("key.pem", &fx.server.encrypted_key_pem("secret").unwrap());
        let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = asked.clone();
        let ctx = no_client_certs()
            .pem_password_callback(move |rwflag| {
                assert!(!rwflag, "decrypting, not encrypting");
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                b"secret".to_vec()
            })
            .certificate_chain_file(&chain)
            .private_key_file(&key)
            .build()
            .expect("the callback decrypts the key file");
        assert!(asked.load(std::sync::atomic::Ordering::SeqCst) >= 1);
        talk(&fx, fx.client_context(None), move |s| {
            ServerOptions::new().context(ctx).accept(s)
        })
        .unwrap();
    });
}

#[test]
fn wrong_or_missing_password_is_an_error() {
    let fx = Fixture::new();
    let encrypted = fx.server.encrypted_key_pem("secret").unwrap();
    let wrong = no_client_certs()
        .pem_password_callback(|_| "not the secret")
        .certificate_chain_pem(&fx.server.chain_pem)
        .private_key_pem(&encrypted)
        .build();
    assert!(matches!(wrong, Err(Error::Ssl(_))), "{wrong:?}");
    let missing = no_client_certs()
        .certificate_chain_pem(&fx.server.chain_pem)
        .private_key_pem(&encrypted)
        .build();
    assert!(missing.is_err(), "no password, no key");
    // A panicking password callback resumes in the caller.
    let panicked = std::panic::catch_unwind(|| {
        no_client_certs()
            .pem_password_callback(|_| -> &str { panic!("password callback blew up") })
            .private_key_pem(&encrypted)
            .build()
    });
    assert!(panicked.is_err());
}

#[test]
fn server_options_password_with_encrypted_key_file() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        let chain = dir.write("chain.pem", &fx.server.chain_pem);
        let key = dir.write("key.pem", &fx.server.encrypted_key_pem("hunter2").unwrap());
        let ctx = no_client_certs().build().unwrap();
        let (chain2, key2, ctx2) = (chain.clone(), key.clone(), ctx.clone());
        talk(&fx, fx.client_context(None), move |s| {
            ServerOptions::new()
                .context(ctx)
                .certificate_file(chain)
                .private_key_file(key)
                .password("hunter2")
                .accept(s)
        })
        .unwrap();
        // The wrong password fails before any I/O.
        let (_c, s) = sslbridge::duplex(1024);
        let err = ServerOptions::new()
            .context(ctx2)
            .certificate_file(chain2)
            .private_key_file(key2)
            .password("wrong")
            .start(s)
            .expect_err("wrong password");
        assert!(matches!(err, Error::Ssl(_)), "{err:?}");
    });
}

#[test]
fn der_private_key_file() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        let chain = dir.write("chain.pem", &fx.server.chain_pem);
        let key = dir.write("key.der", &fx.server.key_der());
        // Through the context builder...
        let ctx = no_client_certs()
            .certificate_chain_file(&chain)
            .private_key_file(&key)
            .build()
            .expect("DER key file");
        talk(&fx, fx.client_context(None), move |s| {
            ServerOptions::new().context(ctx).accept(s)
        })
        .unwrap();
        // ...and through the server options.
        let ctx = no_client_certs().build().unwrap();
        talk(&fx, fx.client_context(None), move |s| {
            ServerOptions::new()
                .context(ctx)
                .certificate_file(chain)
                .private_key_file(key)
                .accept(s)
        })
        .unwrap();
    });
}

#[test]
fn mismatched_key_is_rejected() {
    let fx = Fixture::new();
    let other = fx.pki.server(&["localhost"]).unwrap();
    let r = no_client_certs()
        .certificate_chain_pem(&fx.server.chain_pem)
        .private_key_pem(&other.key_pem)
        .build();
    assert!(matches!(r, Err(Error::Ssl(_))), "{r:?}");
}

#[test]
fn missing_verify_location_names_the_path() {
    let dir = TempFiles::new();
    let file = dir.path().join("no-such-ca.pem");
    let r = Context::builder()
        .verify_location(VerifyLocation::File(file.clone()))
        .build();
    match r {
        Err(Error::VerifyLocationNotFound(p)) => assert_eq!(p, file),
        other => panic!("wanted VerifyLocationNotFound, got {other:?}"),
    }
    let missing_dir = dir.path().join("no-such-dir");
    let r = Context::builder()
        .verify_location(VerifyLocation::Dir(missing_dir.clone()))
        .build();
    match r {
        Err(Error::VerifyLocationNotFound(p)) => assert_eq!(p, missing_dir),
        other => panic!("wanted VerifyLocationNotFound, got {other:?}"),
    }
    let e: io::Error = Error::VerifyLocationNotFound(file).into();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
}

#[test]
fn verify_location_file_trusts_its_roots() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        let root = dir.write("root.pem", &fx.pki.root_pem());
        let client_ctx = Context::builder()
            .verify_location(VerifyLocation::File(root))
            .build()
            .unwrap();
        let server_ctx = fx.server_context(None);
        talk(&fx, client_ctx, move |s| {
            ServerOptions::new().context(server_ctx).accept(s)
        })
        .expect("the root from the file verifies the server");
        // Several locations add up: the default paths plus our root still verify.
        let root = dir.write("root2.pem", &fx.pki.root_pem());
        let client_ctx = Context::builder()
            .verify_location(VerifyLocation::Default)
            .verify_location(VerifyLocation::File(root))
            .build()
            .unwrap();
        let server_ctx = fx.server_context(None);
        talk(&fx, client_ctx, move |s| {
            ServerOptions::new().context(server_ctx).accept(s)
        })
        .expect("additive verify locations");
        // Without our root, the default paths do not know the test CA.
        let client_ctx = Context::builder().build().unwrap();
        let server_ctx = fx.server_context(None);
        let r = talk(&fx, client_ctx, move |s| {
            ServerOptions::new().context(server_ctx).accept(s)
        });
        assert!(matches!(r, Err(Error::Verify { code: 20, .. })), "{r:?}");
    });
}

#[test]
fn protocol_versions_and_ciphersuites_apply() {
    within(LIMIT, || {
        let fx = Fixture::new();
        // Client at most 1.2, server at least 1.3: no common version.
        let client_ctx = Context::builder()
            .ca_certificates_pem(&fx.pki.root_pem())
            .max_protocol_version(Protocol::Tls1_2)
            .build()
            .unwrap();
        let server_ctx = no_client_certs()
            .min_protocol_version(Protocol::Tls1_3)
            .certificate_chain_pem(&fx.server.chain_pem)
            .private_key_pem(&fx.server.key_pem)
            .build()
            .unwrap();
        let r = talk(&fx, client_ctx, move |s| {
            ServerOptions::new().context(server_ctx).accept(s)
        });
        // The server refuses our version with a protocol_version alert.
        assert!(
            matches!(
                r,
                Err(Error::PeerAlert { alert: 70, .. }) | Err(Error::Ssl(_))
            ),
            "{r:?}"
        );

        // A chosen TLS 1.3 suite and group are the ones negotiated.
        let client_ctx = Context::builder()
            .ca_certificates_pem(&fx.pki.root_pem())
            .ciphersuites("TLS_CHACHA20_POLY1305_SHA256")
            .groups("P-256")
            .build()
            .unwrap();
        let server_ctx = fx.server_context(None);
        let client = talk(&fx, client_ctx, move |s| {
            ServerOptions::new().context(server_ctx).accept(s)
        })
        .unwrap();
        assert_eq!(client.cipher_name(), Some("TLS_CHACHA20_POLY1305_SHA256"));
        assert_eq!(client.protocol_version(), Some(Protocol::Tls1_3));

        // A TLS 1.2 cipher list set on the client options.
        let server_ctx = fx.server_context(Some(Protocol::Tls1_2));
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = thread::spawn(move || ServerOptions::new().context(server_ctx).accept(s));
        let client = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(Some(Protocol::Tls1_2)))
            .cipher_list("ECDHE-ECDSA-AES128-GCM-SHA256")
            .connect(c)
            .unwrap();
        join(server).unwrap();
        assert_eq!(client.cipher_name(), Some("ECDHE-ECDSA-AES128-GCM-SHA256"));
    });
}

#[test]
fn bad_settings_fail_build() {
    assert!(Context::builder().groups("no-such-group").build().is_err());
    assert!(Context::builder()
        .cipher_list("NO-SUCH-CIPHER")
        .build()
        .is_err());
    assert!(Context::builder()
        .ciphersuites("NO_SUCH_SUITE")
        .build()
        .is_err());
    assert!(matches!(
        Context::builder().cipher_list("a\0b").build(),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn server_without_certificate_is_invalid_argument() {
    let ctx = no_client_certs().build().unwrap();
    let (_c, s) = sslbridge::duplex(1024);
    let r = ServerOptions::new().context(ctx).start(s);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{:?}", r.err());
}

#[test]
fn seeding_and_random_bytes() {
    sslbridge::ensure_initialized();
    sslbridge::ensure_initialized();
    for short in [&b""[..], b"0123456789abcde"] {
        match sslbridge::ensure_initialized_with_seed(short) {
            Err(Error::InvalidArgument(msg)) => assert!(msg.contains("16"), "{msg}"),
            other => panic!(
                "wanted InvalidArgument for {} bytes: {other:?}",
                short.len()
            ),
        }
    }
    sslbridge::ensure_initialized_with_seed(b"0123456789abcdef").unwrap();
    for n in [0usize, 1, 32, 100_000] {
        let bytes = sslbridge::random_bytes(n).unwrap();
        assert_eq!(bytes.len(), n);
        if n >= 32 {
            assert!(bytes.iter().any(|&b| b != 0), "all zeros");
        }
    }
    assert_ne!(
        sslbridge::random_bytes(32).unwrap(),
        sslbridge::random_bytes(32).unwrap()
    );
    assert!(sslbridge::openssl_version().starts_with("OpenSSL 3"));
}

#[test]
fn error_converts_into_io_error_keeping_kinds() {
    let cases: Vec<(Error, io::ErrorKind)> = vec![
        (
            Error::Io(io::Error::new(io::ErrorKind::ConnectionReset, "reset")),
            io::ErrorKind::ConnectionReset,
        ),
        (Error::WantRead, io::ErrorKind::WouldBlock),
        (Error::WantWrite, io::ErrorKind::WouldBlock),
        (Error::UnexpectedEof, io::ErrorKind::UnexpectedEof),
        (
            Error::InvalidArgument("x".into()),
            io::ErrorKind::InvalidInput,
        ),
        (
            Error::VerifyLocationNotFound("/nope".into()),
            io::ErrorKind::NotFound,
        ),
        (Error::ServerCertificateMissing, io::ErrorKind::InvalidData),
    ];
    for (err, kind) in cases {
        let text = err.to_string();
        assert!(!text.is_empty());
        let io: io::Error = err.into();
        assert_eq!(io.kind(), kind, "{text}");
    }
    // The transport's own error comes back untouched.
    let io: io::Error = Error::Io(io::Error::new(io::ErrorKind::BrokenPipe, "gone")).into();
    assert_eq!(io.to_string(), "gone");
    // And an sslbridge error wrapped in io::Error converts back.
    let io: io::Error = Error::UnexpectedEof.into();
    assert!(matches!(Error::from(io), Error::UnexpectedEof));
    // Display says what to do.
    assert!(Error::ServerCertificateMissing
        .to_string()
        .contains("Verify::Optional"));
}

#[test]
fn type_properties() {
    fn send_sync_static<T: Send + Sync + 'static>() {}
    fn copy_debug<T: Copy + std::fmt::Debug>() {}
    send_sync_static::<Error>();
    send_sync_static::<Context>();
    copy_debug::<Protocol>();
    copy_debug::<Verify>();
    copy_debug::<VerifyMode>();
    let e: Box<dyn std::error::Error + Send + Sync + 'static> = Box::new(Error::WantRead);
    assert!(!format!("{e:?}").is_empty());
    assert_eq!(Protocol::Tls1_3.to_string(), "TLSv1.3");
    assert!(Protocol::Tls1_2 < Protocol::Tls1_3);
    let ctx = Context::builder().build().unwrap();
    let clone = ctx.clone();
    thread::spawn(move || drop(clone)).join().unwrap();
    drop(ctx);
}

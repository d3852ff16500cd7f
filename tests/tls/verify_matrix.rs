//! The verification matrix of issue 4: every bad leaf against a client with each `Verify`
//! setting, served by our own server (in memory) and by `openssl s_server` (TCP), plus the
//! missing-intermediate chain, CN-only and IP-SAN certificates, and the verify callback.

use crate::common::*;
use sslbridge::testing::{CertifiedKey, TestPki};
use sslbridge::{ClientOptions, Context, Error, ServerOptions, SslStream, Transport, Verify};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

/// X509_V_ERR_CERT_NOT_YET_VALID
const NOT_YET_VALID: i32 = 9;
/// X509_V_ERR_CERT_HAS_EXPIRED
const EXPIRED: i32 = 10;
/// X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
const SELF_SIGNED: i32 = 18;
/// X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
const NO_LOCAL_ISSUER: i32 = 20;
/// X509_V_ERR_INVALID_PURPOSE
const INVALID_PURPOSE: i32 = 26;
/// X509_V_ERR_APPLICATION_VERIFICATION
const APPLICATION_VERIFICATION: i32 = 50;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Code(i32),
    Hostname,
}

/// One bad server configuration: what the server sends and what a verifying client must say.
struct Bad {
    name: &'static str,
    key: CertifiedKey,
    /// The PEM the server presents (leaf first).
    served: Vec<u8>,
    /// The intermediate to give `s_server -cert_chain`, if the chain is complete.
    chain_extra: Option<Vec<u8>>,
    expect: Expect,
}

const HOST: &str = "localhost";

fn bad_servers(pki: &TestPki) -> Vec<Bad> {
    let full = |name, key: CertifiedKey, expect| Bad {
        name,
        served: key.chain_pem.clone(),
        chain_extra: Some(pki.intermediate_pem()),
        key,
        expect,
    };
    let alone = |name, key: CertifiedKey, expect| Bad {
        name,
        served: key.cert_pem.clone(),
        chain_extra: None,
        key,
        expect,
    };
    vec![
        full(
            "expired",
            pki.expired(&[HOST]).unwrap(),
            Expect::Code(EXPIRED),
        ),
        full(
            "not yet valid",
            pki.not_yet_valid(&[HOST]).unwrap(),
            Expect::Code(NOT_YET_VALID),
        ),
        alone(
            "self-signed",
            pki.self_signed(&[HOST]).unwrap(),
            Expect::Code(SELF_SIGNED),
        ),
        // The server sends only its leaf; its issuer (the untrusted root) is nowhere in the
        // client's store, so OpenSSL cannot even build a chain: 20, not 19 (19 would need the
        // server to send the untrusted root too) and not 2 (that needs the issuer's name
        // found without its certificate).
        alone(
            "untrusted root",
            pki.untrusted(&[HOST]).unwrap(),
            Expect::Code(NO_LOCAL_ISSUER),
        ),
        full(
            "without serverAuth",
            pki.without_server_auth(&[HOST]).unwrap(),
            Expect::Code(INVALID_PURPOSE),
        ),
        full(
            "wrong host",
            pki.server(&["other.example"]).unwrap(),
            Expect::Hostname,
        ),
        alone(
            "missing intermediate",
            pki.server(&[HOST]).unwrap(),
            Expect::Code(NO_LOCAL_ISSUER),
        ),
    ]
}

fn check_failure<T: std::fmt::Debug>(
    case: &str,
    verify: Verify,
    result: Result<T, Error>,
    expect: Expect,
) {
    match (result, expect) {
        (Err(Error::Verify { code, depth, .. }), Expect::Code(want)) => {
            assert_eq!(code, want, "{case} with {verify:?}: wrong X509 code");
            assert_eq!(depth, 0, "{case} with {verify:?}: the leaf is the bad one");
        }
        (Err(Error::Hostname { hostname, .. }), Expect::Hostname) => {
            assert_eq!(hostname, HOST, "{case}")
        }
        (other, _) => panic!("{case} with {verify:?}: expected {expect:?}, got {other:?}"),
    }
}

/// Connects over memory to our server presenting `served`; returns the client's result.
fn against_ours(
    pki: &TestPki,
    served: &[u8],
    key: &[u8],
    verify: Verify,
    hostname: &str,
    client_ctx: Context,
) -> Result<String, Error> {
    let _ = pki;
    let (c, s) = pipe();
    let server = serve_line(
        ServerOptions::new().context(server_context(served, key, None)),
        s,
    );
    let result = ClientOptions::new()
        .hostname(hostname)
        .verify(verify)
        .context(client_ctx)
        .connect(c)
        .map(|mut tls| exchange_line(&mut tls, "ping"));
    let served = join(server);
    if let Ok(reply) = &result {
        assert_eq!(reply, "reply: ping");
        served.expect("server side of a successful connection");
    } else {
        assert!(
            served.is_err(),
            "server finished although the client failed"
        );
    }
    result
}

#[test]
fn our_server_bad_leaves_fail_required_and_optional_pass_none() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let ctx = client_context(&pki, None);
        for bad in bad_servers(&pki) {
            for verify in [Verify::Required, Verify::Optional] {
                let r = against_ours(
                    &pki,
                    &bad.served,
                    &bad.key.key_pem,
                    verify,
                    HOST,
                    ctx.clone(),
                );
                check_failure(bad.name, verify, r, bad.expect);
            }
            let r = against_ours(
                &pki,
                &bad.served,
                &bad.key.key_pem,
                Verify::None,
                HOST,
                ctx.clone(),
            );
            assert_eq!(
                r.unwrap_or_else(|e| panic!("{}: None failed: {e}", bad.name)),
                "reply: ping"
            );
        }
    });
}

#[test]
fn our_server_full_chain_passes_and_chain_is_leaf_first() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let good = pki.server(&[HOST]).unwrap();
        for verify in [Verify::Required, Verify::Optional] {
            let (c, s) = pipe();
            let server = serve_line(
                ServerOptions::new().context(server_context(&good.chain_pem, &good.key_pem, None)),
                s,
            );
            let mut tls = ClientOptions::new()
                .hostname(HOST)
                .verify(verify)
                .context(client_context(&pki, None))
                .connect(c)
                .expect("a full chain verifies");
            let chain = tls.peer_certificate_chain();
            let subjects: Vec<String> = chain.iter().map(|c| c.subject_name()).collect();
            assert_eq!(chain.len(), 2, "leaf and intermediate: {subjects:?}");
            assert!(subjects[0].contains(HOST), "{subjects:?}");
            assert!(subjects[1].contains("intermediate"), "{subjects:?}");
            assert_eq!(exchange_line(&mut tls, "hi"), "reply: hi");
            tls.close().expect("client close");
            join(server).unwrap();
        }
    });
}

/// Connects our client to s_server over TCP.
fn against_s_server(server: &SServer, verify: Verify, ctx: Context) -> Result<String, Error> {
    let tcp = server.connect();
    ClientOptions::new()
        .hostname(HOST)
        .verify(verify)
        .context(ctx)
        .connect(tcp)
        .map(|mut tls| exchange_line(&mut tls, "ping"))
}

#[test]
fn s_server_bad_leaves_fail_required_and_optional_pass_none() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let ctx = client_context(&pki, None);
        let files = TempFiles::new();
        let mut all = bad_servers(&pki);
        // The good configuration too, to show the harness itself works.
        all.push(Bad {
            name: "good",
            key: pki.server(&[HOST]).unwrap(),
            served: Vec::new(),
            chain_extra: Some(pki.intermediate_pem()),
            expect: Expect::Code(0),
        });
        for (i, bad) in all.iter().enumerate() {
            let (cert, _, key) = write_key(&files, &format!("leaf{i}"), &bad.key);
            let mut args = vec![
                "-cert",
                p(&cert),
                "-key",
                p(&key),
                "-rev",
                "-no-CAfile",
                "-no-CApath",
            ];
            let chain_path;
            if let Some(extra) = &bad.chain_extra {
                chain_path = files.write(&format!("chain{i}.pem"), extra);
                args.extend_from_slice(&["-cert_chain", p(&chain_path)]);
            }
            let server = SServer::start(&files, &args);
            if bad.name == "good" {
                for verify in [Verify::Required, Verify::Optional, Verify::None] {
                    let r = against_s_server(&server, verify, ctx.clone());
                    assert_eq!(r.expect("good chain from s_server"), "gnip");
                }
                continue;
            }
            for verify in [Verify::Required, Verify::Optional] {
                let r = against_s_server(&server, verify, ctx.clone());
                check_failure(bad.name, verify, r, bad.expect);
            }
            let r = against_s_server(&server, Verify::None, ctx.clone());
            assert_eq!(
                r.unwrap_or_else(|e| panic!("{}: None against s_server failed: {e}", bad.name)),
                "gnip"
            );
        }
    });
}

#[test]
fn cn_only_certificate_matches_its_common_name() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let cn = pki.cn_only("cn-only.example").unwrap();
        let ctx = client_context(&pki, None);
        let r = against_ours(
            &pki,
            &cn.chain_pem,
            &cn.key_pem,
            Verify::Required,
            "cn-only.example",
            ctx.clone(),
        );
        assert_eq!(
            r.expect("CN-only certificate matches its CN"),
            "reply: ping"
        );
        let r = against_ours(
            &pki,
            &cn.chain_pem,
            &cn.key_pem,
            Verify::Required,
            "other.example",
            ctx,
        );
        assert!(matches!(r, Err(Error::Hostname { .. })), "{r:?}");
    });
}

#[test]
fn ip_san_matches_v4_and_v6_only_exactly() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let ip = pki
            .leaf("ip-only")
            .ip_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .ip_address(IpAddr::V6(Ipv6Addr::LOCALHOST))
            .build()
            .unwrap();
        let ctx = client_context(&pki, None);
        for host in ["127.0.0.1", "::1"] {
            let r = against_ours(
                &pki,
                &ip.chain_pem,
                &ip.key_pem,
                Verify::Required,
                host,
                ctx.clone(),
            );
            assert_eq!(r.unwrap_or_else(|e| panic!("{host}: {e}")), "reply: ping");
        }
        // Only IP SANs, no DNS SAN: the subject CN is still a DNS identity (RFC 6125 6.4.4,
        // OpenSSL's X509_check_host alike).
        let r = against_ours(
            &pki,
            &ip.chain_pem,
            &ip.key_pem,
            Verify::Required,
            "ip-only",
            ctx.clone(),
        );
        assert_eq!(r.expect("CN fallback without DNS SANs"), "reply: ping");
        for host in ["127.0.0.2", "::2", "other.example"] {
            let r = against_ours(
                &pki,
                &ip.chain_pem,
                &ip.key_pem,
                Verify::Required,
                host,
                ctx.clone(),
            );
            match r {
                Err(Error::Hostname { hostname, .. }) => assert_eq!(hostname, host),
                other => panic!("{host}: expected Error::Hostname, got {other:?}"),
            }
        }
    });
}

#[test]
fn ip_san_over_tcp_to_s_server() {
    require_openssl_cli();
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let ip = pki
            .leaf("ip-only")
            .ip_address(IpAddr::V4(Ipv4Addr::LOCALHOST))
            .issued_by_root()
            .build()
            .unwrap();
        let files = TempFiles::new();
        let (cert, _, key) = write_key(&files, "ip", &ip);
        let server = SServer::start(&files, &["-cert", p(&cert), "-key", p(&key), "-rev"]);
        let mut tls = ClientOptions::new()
            .hostname("127.0.0.1")
            .context(client_context(&pki, None))
            .connect(server.connect())
            .expect("127.0.0.1 matches the IP SAN");
        assert_eq!(tls.server_name(), None, "no SNI is sent for an IP address");
        assert_eq!(exchange_line(&mut tls, "abc"), "cba");
        // s_server serves one connection at a time: finish this one first.
        tls.close().unwrap();
        let r = ClientOptions::new()
            .hostname("127.0.0.2")
            .context(client_context(&pki, None))
            .connect(server.connect());
        assert!(matches!(r, Err(Error::Hostname { .. })), "{r:?}");
    });
}

type Seen = Arc<Mutex<Vec<(bool, i32, u32, String)>>>;

fn recording_context(
    pki: &TestPki,
    answer: impl Fn(bool, i32, u32) -> bool + Send + Sync + 'static,
) -> (Context, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let ctx = Context::builder()
        .ca_certificates_pem(&pki.root_pem())
        .verify_callback(move |ok, code, depth, cert| {
            log.lock()
                .unwrap()
                .push((ok, code, depth, cert.subject_name()));
            answer(ok, code, depth)
        })
        .build()
        .unwrap();
    (ctx, seen)
}

fn connect_to<T: Transport + Send + 'static>(ctx: Context, t: T) -> Result<SslStream<T>, Error> {
    ClientOptions::new().hostname(HOST).context(ctx).connect(t)
}

#[test]
fn verify_callback_sees_every_depth_root_first() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let good = pki.server(&[HOST]).unwrap();
        let (ctx, seen) = recording_context(&pki, |ok, _, _| ok);
        let (c, s) = pipe();
        let server = serve_line(
            ServerOptions::new().context(server_context(&good.chain_pem, &good.key_pem, None)),
            s,
        );
        let mut tls = connect_to(ctx, c).unwrap();
        assert_eq!(exchange_line(&mut tls, "x"), "reply: x");
        tls.close().expect("client close");
        join(server).unwrap();
        let seen = seen.lock().unwrap().clone();
        let depths: Vec<u32> = seen.iter().map(|s| s.2).collect();
        assert_eq!(depths, vec![2, 1, 0], "{seen:?}");
        assert!(seen.iter().all(|s| s.0 && s.1 == 0), "{seen:?}");
        assert!(seen[0].3.contains("root"), "{seen:?}");
        assert!(seen[1].3.contains("intermediate"), "{seen:?}");
        assert!(seen[2].3.contains(HOST), "{seen:?}");
    });
}

#[test]
fn verify_callback_can_accept_an_expired_leaf() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let expired = pki.expired(&[HOST]).unwrap();
        let (ctx, seen) = recording_context(&pki, |_, _, _| true);
        let (c, s) = pipe();
        let server = serve_line(
            ServerOptions::new().context(server_context(
                &expired.chain_pem,
                &expired.key_pem,
                None,
            )),
            s,
        );
        let mut tls = connect_to(ctx, c).expect("the callback overrides the expiry");
        assert_eq!(exchange_line(&mut tls, "x"), "reply: x");
        tls.close().expect("client close");
        join(server).unwrap();
        let seen = seen.lock().unwrap().clone();
        assert!(
            seen.iter()
                .any(|&(ok, code, depth, _)| !ok && code == EXPIRED && depth == 0),
            "the callback saw the failure it overrode: {seen:?}"
        );
        let mut depths: Vec<u32> = seen.iter().map(|s| s.2).collect();
        depths.dedup();
        assert_eq!(depths, vec![2, 1, 0], "{seen:?}");
    });
}

#[test]
fn verify_callback_can_reject_a_valid_chain() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let good = pki.server(&[HOST]).unwrap();
        let (ctx, _) = recording_context(&pki, |ok, _, depth| ok && depth != 0);
        let (c, s) = pipe();
        let server = serve_line(
            ServerOptions::new().context(server_context(&good.chain_pem, &good.key_pem, None)),
            s,
        );
        match connect_to(ctx, c) {
            Err(Error::Verify { code, depth, .. }) => {
                assert_eq!(code, APPLICATION_VERIFICATION);
                assert_eq!(depth, 0);
            }
            other => panic!("expected Error::Verify, got {other:?}"),
        }
        assert!(join(server).is_err());
    });
}

#[test]
fn verify_callback_panic_is_resumed_in_the_caller() {
    within(TLS_LIMIT, || {
        let pki = TestPki::new().unwrap();
        let good = pki.server(&[HOST]).unwrap();
        let (ctx, _) = recording_context(&pki, |_, _, depth| {
            if depth == 0 {
                panic!("verify callback boom");
            }
            true
        });
        let (c, s) = pipe();
        let server = serve_line(
            ServerOptions::new().context(server_context(&good.chain_pem, &good.key_pem, None)),
            s,
        );
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| connect_to(ctx, c)));
        let payload = match caught {
            Err(payload) => payload,
            Ok(r) => panic!("the panic was swallowed: {r:?}"),
        };
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert_eq!(message, "verify callback boom");
        assert!(join(server).is_err(), "the handshake must not complete");
    });
}

//! Reloading the global context's certificate chain while other threads make server streams
//! from it (issue 11, hole 1). Before contexts became immutable, `use_certificate_chain_file`
//! changed the shared `SSL_CTX` under `SSL_new` on other threads and the process aborted
//! (heap corruption). Its own test binary: it changes the process-wide global context.

mod common;

use common::*;
use sslbridge::{use_certificate_chain_file, ClientOptions, Context, ServerOptions, Verify};
use std::io::{Read, Write};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long the reloads and the stream creation race.
const STRESS: Duration = Duration::from_secs(3);
/// Upper bounds for the loops, in case the clock misbehaves.
const MAX_RELOADS: u64 = 10_000_000;
const MAX_STREAMS: u64 = 1_000_000;

fn ders(chain: &[sslbridge::Certificate]) -> Vec<Vec<u8>> {
    chain.iter().map(|c| c.to_der().unwrap()).collect()
}

#[test]
fn reloading_the_global_chain_while_serving_is_sound() {
    within(Duration::from_secs(40), || {
        let fx = Fixture::new();
        let dir = TempFiles::new();
        // Two chains for the same key: leaf + intermediate, and the leaf alone.
        let long = dir.write("long.pem", &fx.server.chain_pem);
        let short = dir.write("short.pem", &fx.server.cert_pem);
        let leaf = fx.server.cert_der();
        let long_ders = vec![leaf.clone(), fx.pki.intermediate_der()];
        let short_ders = vec![leaf];
        // The client trusts the root and knows the intermediate, so both chains verify.
        let mut trust = fx.pki.root_pem();
        trust.extend_from_slice(&fx.pki.intermediate_pem());
        let client_ctx = Context::builder()
            .ca_certificates_pem(&trust)
            .build()
            .unwrap();
        let key = fx.server.key_pem.clone();

        use_certificate_chain_file(&long).unwrap();
        let deadline = Instant::now() + STRESS;

        let reloader = {
            let (long, short) = (long.clone(), short.clone());
            thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < deadline && n < MAX_RELOADS {
                    let path = [&short, &long][(n & 1) as usize];
                    use_certificate_chain_file(path).unwrap();
                    n += 1;
                }
                // Finish on the long chain, so the last one loaded is known.
                use_certificate_chain_file(&long).unwrap();
                n
            })
        };

        let (tx, rx) = mpsc::channel::<sslbridge::MemoryPipe>();
        let servers: Vec<_> = (0..2)
            .map(|_| {
                let tx = tx.clone();
                let key = key.clone();
                thread::spawn(move || {
                    let mut made = 0u64;
                    let mut failed = Vec::new();
                    while Instant::now() < deadline && made < MAX_STREAMS {
                        let (c, s) = sslbridge::duplex(64 * 1024);
                        if tx.send(c).is_err() {
                            break;
                        }
                        // No context: the global one, whose chain is being reloaded.
                        let served = ServerOptions::new()
                            .private_key_pem(&key)
                            .accept(s)
                            .and_then(|mut tls| {
                                tls.write_all(b"ok")?;
                                tls.close()
                            });
                        if let Err(e) = served {
                            failed.push(e.to_string());
                        }
                        made += 1;
                    }
                    (made, failed)
                })
            })
            .collect();
        drop(tx);

        let mut handshakes = [0u64; 2];
        let mut failures = Vec::new();
        // Ends when both server threads are done (their senders dropped).
        while let Ok(end) = rx.recv_timeout(Duration::from_secs(10)) {
            let client = ClientOptions::new()
                .hostname("localhost")
                .verify(Verify::Required)
                .context(client_ctx.clone())
                .connect(end);
            match client {
                Ok(mut tls) => {
                    // Read to the server's close_notify, past any TLS 1.3 tickets.
                    let mut got = Vec::new();
                    if let Err(e) = tls.read_to_end(&mut got) {
                        failures.push(e.to_string());
                    }
                    assert_eq!(got, b"ok");
                    let presented = ders(&tls.peer_certificate_chain());
                    if presented == long_ders {
                        handshakes[0] += 1;
                    } else if presented == short_ders {
                        handshakes[1] += 1;
                    } else {
                        panic!(
                            "the server presented a chain of {} unknown certificates",
                            presented.len()
                        );
                    }
                }
                Err(e) => failures.push(e.to_string()),
            }
        }

        let reloads = join(reloader);
        let mut server_failures = Vec::new();
        let mut made = 0;
        for server in servers {
            let (n, failed) = join(server);
            made += n;
            server_failures.extend(failed);
        }
        assert!(
            failures.is_empty(),
            "client handshakes failed: {failures:?}"
        );
        assert!(
            server_failures.is_empty(),
            "server handshakes failed: {server_failures:?}"
        );
        assert!(reloads > 10, "only {reloads} reloads");
        assert_eq!(handshakes[0] + handshakes[1], made);
        eprintln!(
            "{reloads} reloads, {made} handshakes (long {}, short {})",
            handshakes[0], handshakes[1]
        );

        // After the last reload (the long chain), a new connection presents it.
        let (c, s) = sslbridge::duplex(64 * 1024);
        let server = thread::spawn(move || {
            let mut tls = ServerOptions::new().private_key_pem(&key).accept(s)?;
            tls.write_all(b"ok")?;
            tls.close()
        });
        let mut tls = ClientOptions::new()
            .hostname("localhost")
            .context(client_ctx)
            .connect(c)
            .unwrap();
        let mut got = Vec::new();
        tls.read_to_end(&mut got).unwrap();
        join(server).unwrap();
        assert_eq!(ders(&tls.peer_certificate_chain()), long_ders);
    });
}

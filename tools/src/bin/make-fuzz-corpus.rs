//! Writes the seeds of sslbridge's fuzz targets into `fuzz/seeds/<target>/`. An internal
//! tool (the `sslbridge-tools` crate), built only with its `fuzzing` feature, which needs
//! `--cfg fuzzing` too; run from the project root:
//!
//! ```text
//! # the recorded handshakes, for the system OpenSSL (3.0) and for the vendored one (3.6) the
//! # fuzzer links; each goes to fuzz/seeds/{client,server}_records/openssl-<version>/
//! RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=target/cfg-fuzzing \
//!   cargo run -p sslbridge-tools --features fuzzing --bin make-fuzz-corpus -- records
//! RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=target/cfg-fuzzing-vendored \
//!   cargo run -p sslbridge-tools --features fuzzing,vendored --bin make-fuzz-corpus -- records
//! # the other targets' seeds (any build): chaos scripts, certificates, hostname cases
//! (same environment) cargo run -p sslbridge-tools --features fuzzing --bin make-fuzz-corpus -- chaos certificate credentials hostname
//! # new fuzz/keys (then record every build again)
//! (same environment) cargo run -p sslbridge-tools --features fuzzing --bin make-fuzz-corpus -- --new-keys
//! ```
//!
//! Each scenario of `fuzz/src/targets/scenarios.rs` runs a real client and a real server,
//! each in its own thread over an in-memory pipe, with the `fuzzing` feature's deterministic
//! randomness. What the client read becomes a `client_records` seed, what the server read a
//! `server_records` seed: replayed by the same code with the same seeds, they reproduce the
//! handshake exactly. The generator checks that they do before writing anything, and checks
//! the written seeds again the way the replay test does.
//!
//! Seeds are never minimised (`cargo fuzz cmin` renames inputs by hash): `scripts/fuzz-cmin.sh`
//! merges what they cover into `fuzz/corpus/`.
//!
//! The `fuzzing` feature removes all security; this program only talks to itself.

#[path = "../../../fuzz/src/targets/mod.rs"]
mod targets;

use sslbridge::testing::{ExtendedKeyUsage, KeyType, TestPki};
use sslbridge::MemoryPipe;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use targets::hostname::certificate_der;
use targets::{encode_input, SCENARIOS};

type Log = Arc<Mutex<Vec<u8>>>;

/// A pipe end that logs every byte read from it.
struct Recorder {
    inner: MemoryPipe,
    log: Log,
}

impl Read for Recorder {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.log.lock().unwrap().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

impl Write for Recorder {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // tools/ is one level below the project root.
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tools/ has a parent")
        .join("fuzz");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--new-keys") {
        new_keys(&fuzz.join("keys"))?;
        println!("wrote new keys to fuzz/keys; run again without --new-keys to record");
        return Ok(());
    }
    let all = ["records", "chaos", "certificate", "credentials", "hostname"];
    let parts: Vec<&str> = if args.is_empty() {
        all.to_vec()
    } else {
        args.iter().map(String::as_str).collect()
    };
    let seeds = fuzz.join("seeds");
    for part in parts {
        match part {
            "records" => record_handshakes(&seeds)?,
            "chaos" => write_chaos_seeds(&seeds.join("transport_chaos"))?,
            "certificate" => write_certificate_seeds(&seeds.join("certificate"))?,
            "credentials" => write_credential_seeds(&seeds.join("certificate"))?,
            "hostname" => write_hostname_seeds(&seeds.join("hostname"))?,
            other => return Err(format!("unknown part {other:?}; parts: {all:?}").into()),
        }
    }
    Ok(())
}

/// Long-lived keys: 100 years, so the recorded certificates never expire under the fuzzer.
fn new_keys(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let pki = TestPki::new()?;
    let now = SystemTime::now() - Duration::from_secs(86_400);
    let century = now + Duration::from_secs(100 * 365 * 86_400);
    let server = |key| {
        pki.leaf("localhost")
            .dns_name("localhost")
            .dns_name("fuzz.example")
            .ip_address("127.0.0.1".parse().unwrap())
            .key_type(key)
            .extended_key_usage(&[ExtendedKeyUsage::ServerAuth])
            .validity(now, century)
            .build()
    };
    let ecdsa = server(KeyType::EcdsaP256)?;
    let rsa = server(KeyType::Rsa2048)?;
    let client = pki
        .leaf("fuzz client")
        .extended_key_usage(&[ExtendedKeyUsage::ClientAuth])
        .validity(now, century)
        .build()?;
    std::fs::write(dir.join("ca.pem"), pki.root_pem())?;
    for (name, key) in [
        ("server-ecdsa", &ecdsa),
        ("server-rsa", &rsa),
        ("client", &client),
    ] {
        std::fs::write(dir.join(format!("{name}.pem")), &key.chain_pem)?;
        std::fs::write(dir.join(format!("{name}.key")), &key.key_pem)?;
    }
    Ok(())
}

fn write_seed(dir: &Path, name: &str, data: &[u8]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), data)
}

fn record_handshakes(seeds: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let client_dir: PathBuf = targets::recorded_seed_dir(seeds, "client_records");
    let server_dir: PathBuf = targets::recorded_seed_dir(seeds, "server_records");
    println!(
        "recording for {} ({}) into {}",
        targets::openssl_build(),
        sslbridge::openssl_version(),
        client_dir.display()
    );
    for (index, scenario) in SCENARIOS.iter().enumerate() {
        let connections = 1 + usize::from(scenario.resume);
        let logs = |_| Log::default();
        let client_logs: Vec<Log> = (0..connections).map(logs).collect();
        let server_logs: Vec<Log> = (0..connections).map(logs).collect();
        let (client_ends, server_ends): (Vec<_>, Vec<_>) =
            (0..connections).map(|_| sslbridge::duplex(1 << 20)).unzip();

        let (client, server) = std::thread::scope(|scope| {
            let c_logs = client_logs.clone();
            let client = scope.spawn(move || {
                let mut ends = client_ends.into_iter();
                targets::run_client(scenario, |i| Recorder {
                    inner: ends.next().expect("one pipe per connection"),
                    log: c_logs[i].clone(),
                })
            });
            let s_logs = server_logs.clone();
            let server = scope.spawn(move || {
                let mut ends = server_ends.into_iter();
                targets::run_server(scenario, |i| Recorder {
                    inner: ends.next().expect("one pipe per connection"),
                    log: s_logs[i].clone(),
                })
            });
            (client.join().unwrap(), server.join().unwrap())
        });
        let flights = |logs: &[Log]| -> Vec<Vec<u8>> {
            logs.iter().map(|l| l.lock().unwrap().clone()).collect()
        };
        let client_input = encode_input(index, &flights(&client_logs));
        let server_input = encode_input(index, &flights(&server_logs));

        // The point of the deterministic generator: replaying alone gives the same result.
        let replayed_client = targets::client_records_outcome(&client_input).unwrap();
        let replayed_server = targets::server_records_outcome(&server_input).unwrap();
        println!(
            "{:34} client: {} handshake(s), {} bytes in, error {:?}; server: {} handshake(s), {} bytes in, error {:?}",
            scenario.name,
            client.handshakes,
            client.received.len(),
            client.error,
            server.handshakes,
            server.received.len(),
            server.error
        );
        if replayed_client != client {
            return Err(format!(
                "{}: client replay differs from the recording:\n  recorded {client:?}\n  replayed {replayed_client:?}",
                scenario.name
            )
            .into());
        }
        if (replayed_server.handshakes, &replayed_server.received)
            != (server.handshakes, &server.received)
        {
            return Err(format!(
                "{}: server replay differs from the recording:\n  recorded {server:?}\n  replayed {replayed_server:?}",
                scenario.name
            )
            .into());
        }
        write_seed(&client_dir, scenario.name, &client_input)?;
        write_seed(&server_dir, scenario.name, &server_input)?;
    }
    targets::check_recorded_seeds(seeds)
        .map_err(|failures| format!("the written seeds do not replay: {failures:#?}"))?;
    Ok(())
}

/// A `transport_chaos` input: config, script lengths, scripts, payload.
fn chaos_input(config: u8, client_script: &[u8], server_script: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![config, client_script.len() as u8, server_script.len() as u8];
    out.extend_from_slice(client_script);
    out.extend_from_slice(server_script);
    out.extend_from_slice(payload);
    out
}

/// A `transport_chaos` input whose payload starts with the two option bytes: record-layer
/// options and meant failures, then buffers and signature algorithms (see the target).
fn chaos_options_input(
    config: u8,
    key_update_hybrid_resume: (u8, u8),
    options: [u8; 2],
    payload: &[u8],
) -> Vec<u8> {
    let mut out = vec![
        config,
        key_update_hybrid_resume.0,
        key_update_hybrid_resume.1,
    ];
    out.extend_from_slice(&options);
    out.extend_from_slice(payload);
    out
}

fn write_chaos_seeds(dir: &Path) -> io::Result<()> {
    // The first two payload bytes are the target's option bytes: zero, no options.
    let payload: Vec<u8> = [0, 0]
        .into_iter()
        .chain((2..3000u32).map(|i| (i * 7 % 251) as u8))
        .collect();
    let seed = |s: u64| s.to_le_bytes();
    let with_seed = |head: [u8; 6], s: u64| {
        let mut v = head.to_vec();
        v.extend_from_slice(&seed(s));
        v
    };
    // [what, position lo, position hi]: see ChaosPlan::from_bytes.
    let fault = |what: u8, pos: u16| {
        let p = pos.to_le_bytes();
        [what, p[0], p[1]]
    };
    let mut seeds: Vec<(&str, Vec<u8>)> = vec![
        ("plain-tls13", chaos_input(0, &[], &[], b"\0\0hello")),
        ("plain-tls12-cbc", chaos_input(2, &[], &[], &payload)),
        ("one-byte-reads", chaos_input(1, &[1, 0], &[1, 0], &payload)),
        (
            "one-byte-writes",
            chaos_input(3, &[0, 1], &[0, 1], &payload),
        ),
        (
            "random-splits",
            chaos_input(
                0,
                &with_seed([0x80 | 40, 0x80, 0, 0, 0, 0], 1),
                &with_seed([0x80, 0x80 | 7, 0, 0, 0, 0], 2),
                &payload,
            ),
        ),
        (
            "interrupt-storms",
            chaos_input(
                2,
                &with_seed([0, 0, 200, 0, 200, 0], 3),
                &with_seed([0, 0, 128, 0, 128, 0], 4),
                &payload,
            ),
        ),
        (
            "would-block-storms",
            chaos_input(
                1,
                &with_seed([0x85, 0x85, 0, 200, 0, 200], 5),
                &with_seed([0, 0, 0, 250, 0, 250], 6),
                &payload,
            ),
        ),
        ("empty-payload", chaos_input(0, &[3, 3], &[], &[])),
    ];
    let mut scheduled = |name, config, client_faults: &[[u8; 3]], server_faults: &[[u8; 3]]| {
        let mut c = with_seed([0, 0, 0, 0, 0, 0], 9);
        c.extend(client_faults.iter().flatten());
        let mut s = with_seed([0, 0, 0, 0, 0, 0], 10);
        s.extend(server_faults.iter().flatten());
        seeds.push((name, chaos_input(config, &c, &s, &payload[..1000])));
    };
    // what: bit0 direction (1 = write), bit1 trigger (1 = byte), bits2-3 fault, bits4-6 kind.
    scheduled(
        "would-block-at-calls",
        0,
        &[fault(0b0100, 0), fault(0b0101, 1), fault(0b0100, 3)],
        &[fault(0b0101, 2), fault(0b0100, 4)],
    );
    scheduled(
        "interrupted-at-bytes",
        2,
        &[fault(0b0010, 5), fault(0b0011, 100)],
        &[fault(0b0010, 1), fault(0b0011, 7)],
    );
    scheduled("reset-mid-handshake", 0, &[fault(0b1010, 300)], &[]);
    scheduled("broken-pipe-on-write", 1, &[], &[fault(0b0001_1011, 900)]);
    scheduled("eof-mid-record", 2, &[fault(0b1110, 1500)], &[]);
    scheduled("eof-on-write", 3, &[fault(0b1111, 200)], &[]);
    // TLS 1.3 KeyUpdates (the top bits of the script lengths), plain and under faults.
    let key_update = |mut input: Vec<u8>, client: bool, server: bool| {
        input[1] |= if client { 0x40 } else { 0 };
        input[2] |= if server { 0x40 } else { 0 };
        input
    };
    seeds.push((
        "key-update-client",
        key_update(chaos_input(0, &[], &[], &payload), true, false),
    ));
    seeds.push((
        "key-update-both-one-byte-reads",
        key_update(chaos_input(1, &[1, 0], &[1, 0], &payload), true, true),
    ));
    seeds.push((
        "key-update-server-would-block",
        key_update(
            chaos_input(
                4,
                &with_seed([0x85, 0x85, 0, 200, 0, 200], 11),
                &with_seed([0, 0, 0, 250, 0, 250], 12),
                &payload,
            ),
            false,
            true,
        ),
    ));
    // What the first header bytes choose besides the configuration (see the target): the
    // hybrid ML-KEM key share, resumption with tickets, each group and cipher choice.
    let body = &payload[2..1200];
    let short = &payload[2..400];
    seeds.push((
        "hybrid-key-share",
        chaos_options_input(0, (0x80, 0), [0, 0], body),
    ));
    seeds.push((
        "resumption-tls13",
        chaos_options_input(0, (0, 0x80), [0, 0], body),
    ));
    seeds.push((
        "resumption-tls12",
        chaos_options_input(2, (0, 0x80), [0, 0], body),
    ));
    // Bit 7 of the second option byte: the server resumes from its session cache instead.
    seeds.push((
        "resumption-session-cache-tls13",
        chaos_options_input(0, (0, 0x80), [0, 0x80], body),
    ));
    seeds.push((
        "resumption-session-cache-tls12",
        chaos_options_input(2, (0, 0x80), [0, 0x80], body),
    ));
    seeds.push((
        "alpn-mismatch",
        chaos_options_input(1, (0, 0), [0, 0x40], body),
    ));
    seeds.push((
        "resumption-tls12-rsa-key-update-would-block",
        chaos_options_input(10, (0xc0, 0xc0), [0, 0], body),
    ));
    let variants: Vec<(String, Vec<u8>)> = (1..24u8)
        .flat_map(|v| {
            // A TLS 1.3 and a TLS 1.2 configuration with each ECDSA and RSA key.
            [0u8, 1, 2, 10].into_iter().filter_map(move |config| {
                let byte = u16::from(config) + 11 * u16::from(v);
                let byte = u8::try_from(byte).ok()?;
                Some((
                    format!("variant-{v}-config-{config}"),
                    chaos_options_input(byte, (0, 0), [0, 0], short),
                ))
            })
        })
        .collect();
    // The option bytes: record-layer settings, meant failures, buffers, signature algorithms.
    let mut options: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, config, first, second) in [
        ("read-ahead-release-buffers", 0u8, 0b11u8, 0u8),
        ("small-records-padding", 0, 0b1100, 0),
        ("small-records-mac-then-encrypt-cbc", 2, 0b1100, 0),
        ("max-fragment-length-no-middlebox", 0, 0b11_0000, 0),
        ("max-fragment-length-tls12", 10, 0b1_0000, 0),
        ("wrong-host-tls13", 0, 0x40, 0),
        ("wrong-host-tls12", 2, 0x40, 0),
        ("no-client-certificate-tls13", 0, 0x80, 0),
        ("no-client-certificate-tls12", 2, 0x80, 0),
        ("no-common-version-tls13", 0, 0xc0, 0),
        ("no-common-version-tls12", 2, 0xc0, 0),
        ("buffered-writes", 0, 0, 1),
        ("buf-read", 2, 0, 0b10),
        ("buffered-both-small-input-buffer", 1, 0, 0b111),
    ] {
        options.push((
            name.to_string(),
            chaos_options_input(config, (0, 0), [first, second], body),
        ));
    }
    for sigalgs in 1..7u8 {
        for config in [1u8, 2, 10] {
            options.push((
                format!("sigalgs-{sigalgs}-config-{config}"),
                chaos_options_input(config, (0, 0), [0, sigalgs << 3], short),
            ));
        }
    }
    // One plain run of every other configuration (see CHAOS_SCENARIOS).
    let plain: Vec<(String, Vec<u8>)> = (4..11u8)
        .map(|config| {
            let name = format!("plain-config-{config}");
            (name, chaos_input(config, &[], &[], &payload[..700]))
        })
        .collect();
    for (name, data) in seeds
        .into_iter()
        .map(|(n, d)| (n.to_string(), d))
        .chain(plain)
        .chain(variants)
        .chain(options)
    {
        targets::transport_chaos(&data);
        write_seed(dir, &name, &data)?;
    }
    Ok(())
}

fn write_certificate_seeds(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let pki = TestPki::new()?;
    let mut certs = vec![
        ("server-ecdsa", targets::keys::SERVER_ECDSA_CHAIN.to_vec()),
        ("server-rsa", targets::keys::SERVER_RSA_CHAIN.to_vec()),
        ("client", targets::keys::CLIENT_CHAIN.to_vec()),
        ("ca", targets::keys::CA.to_vec()),
        (
            "wildcard",
            pki.leaf("*.example.com")
                .dns_name("*.example.com")
                .dns_name("example.com")
                .build()?
                .cert_pem,
        ),
        (
            "ip-only",
            pki.leaf("10.1.2.3")
                .ip_address("10.1.2.3".parse()?)
                .ip_address("::1".parse()?)
                .build()?
                .cert_pem,
        ),
        ("cn-only", pki.cn_only("legacy.example")?.cert_pem),
        ("self-signed", pki.self_signed(&["self.example"])?.cert_pem),
    ];
    certs.push(("intermediate", pki.intermediate_pem()));
    for (name, pem) in certs {
        let first = sslbridge::Certificate::from_pem(&pem)?;
        write_seed(
            dir,
            &format!("{name}.der"),
            &[&[0u8][..], &first.to_der()?].concat(),
        )?;
        write_seed(
            dir,
            &format!("{name}.pem"),
            &[&[1u8][..], &first.to_pem()?].concat(),
        )?;
        write_seed(dir, &format!("{name}.chain"), &[&[2u8][..], &pem].concat())?;
    }
    Ok(())
}

/// `certificate` inputs with selector 3 (chain and key) and 4 (key alone): what users pass
/// as key files, in every form the key loader reads.
fn write_credential_seeds(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let pki = TestPki::new()?;
    let ecdsa = pki.server(&["localhost"])?;
    let rsa = pki
        .leaf("rsa.example")
        .dns_name("rsa.example")
        .key_type(KeyType::Rsa2048)
        .build()?;
    let encrypted = ecdsa.encrypted_key_pem("fuzz")?;
    let seeds: Vec<(&str, u8, Vec<u8>)> = vec![
        (
            "cred-ecdsa-chain-key",
            3,
            [&ecdsa.chain_pem[..], &ecdsa.key_pem].concat(),
        ),
        (
            "cred-rsa-chain-key",
            3,
            [&rsa.chain_pem[..], &rsa.key_pem].concat(),
        ),
        (
            "cred-mismatched",
            3,
            [&rsa.chain_pem[..], &ecdsa.key_pem].concat(),
        ),
        (
            "cred-encrypted",
            3,
            [&ecdsa.chain_pem[..], &encrypted].concat(),
        ),
        ("cred-der-cert", 3, ecdsa.cert_der()),
        ("key-ecdsa-pem", 4, ecdsa.key_pem.clone()),
        ("key-rsa-pem", 4, rsa.key_pem.clone()),
        ("key-ecdsa-der", 4, ecdsa.key_der()),
        ("key-rsa-der", 4, rsa.key_der()),
        ("key-encrypted-pem", 4, encrypted),
    ];
    for (name, selector, bytes) in seeds {
        write_seed(dir, name, &[&[selector][..], &bytes].concat())?;
    }
    Ok(())
}

/// A `hostname` input: the host, then one line per name (see `fuzz/src/targets/hostname.rs`).
fn hostname_input(host: &str, lines: &[&[u8]]) -> Vec<u8> {
    let mut out = host.as_bytes().to_vec();
    for line in lines {
        out.push(b'\n');
        out.extend_from_slice(line);
    }
    out
}

/// The cases of sslbridge's hostname tests (`src/x509/hostname.rs`, `tests/certificates.rs`)
/// as `hostname` inputs: a CN, subjectAltNames (IP if it parses, else DNS), the hosts.
const HOSTNAME_CASES: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "wildcard",
        "wildcard",
        &["*.example.com"],
        &[
            "www.example.com",
            "WWW.Example.COM.",
            "example.com",
            "a.b.example.com",
            "xn--bcher-kva.example.com",
            "XN--bcher-kva.example.com",
            ".example.com",
            "www..example.com",
            "www.example.org",
            "*.example.com",
        ],
    ),
    (
        "wildcard-dot",
        "w",
        &["*.example.com."],
        &["www.example.com"],
    ),
    (
        "tld-wildcard",
        "tld wildcard",
        &["*.com", "*"],
        &["www.example.com", "example.com", "www"],
    ),
    (
        "wildcard-in-the-middle",
        "m",
        &["foo.*.example.com", "*.*.com"],
        &["www.example.com", "foo.www.example.com", "a.b.com"],
    ),
    (
        "wildcard-too-deep",
        "d",
        &["*.www.example.com"],
        &["www.example.com", "a.www.example.com"],
    ),
    (
        "partial-wildcards",
        "p",
        &["f*.example.com", "*oo.example.com", "b*z.example.com"],
        &["foo.example.com", "baz.example.com"],
    ),
    (
        "exact",
        "exact",
        &["www.example.com"],
        &[
            "www.example.com",
            "WWW.Example.COM.",
            "www.example.com..",
            "example.com",
            "",
            ".",
        ],
    ),
    (
        "idna",
        "idna",
        &["xn--bcher-kva.example.com"],
        &["xn--bcher-kva.example.com", "XN--BCHER-KVA.example.com"],
    ),
    (
        "localhost",
        "localhost",
        &["127.0.0.1", "::1"],
        &[
            "127.0.0.1",
            "::1",
            "[::1]",
            "0:0:0:0:0:0:0:1",
            "888.0.0.8",
            "127.0.0.2",
            "::2",
            "localhost",
        ],
    ),
    (
        "cn-ignored-with-dns-san",
        "cn.example.com",
        &["san.example.com"],
        &["cn.example.com", "san.example.com"],
    ),
    (
        "cn-only",
        "cn-only.example.com",
        &[],
        &["cn-only.example.com", "other.example.com"],
    ),
    (
        "ip-only-against-ip-sans",
        "ip",
        &["10.0.0.1", "dns.example.com"],
        &["10.0.0.1", "10.0.0.2", "dns.example.com"],
    ),
    ("ip-in-cn", "10.0.0.9", &[], &["10.0.0.9"]),
    ("dns-san-like-an-ip", "127.0.0.1", &[], &["127.0.0.1"]),
    (
        "numeric-last-label",
        "888.0.0.8",
        &["888.0.0.8", "a.b.123"],
        &["888.0.0.8", "a.b.123"],
    ),
    (
        "ipv6",
        "v6",
        &[
            "www.example.com",
            "*.example.org",
            "127.0.0.1",
            "::1",
            "2001:db8::7",
        ],
        &[
            "2001:db8::7",
            "[2001:db8::7]",
            "2001:DB8:0:0:0:0:0:7",
            "a.example.org",
            "::ffff:127.0.0.1",
        ],
    ),
    (
        "empty-labels",
        "e",
        &["a..b.example.com", ".example.com", "example.com."],
        &["a..b.example.com", "example.com"],
    ),
];

fn write_hostname_seeds(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut seeds: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, cn, sans, hosts) in HOSTNAME_CASES {
        let mut lines: Vec<Vec<u8>> = vec![[&b"c"[..], cn.as_bytes()].concat()];
        for san in *sans {
            let kind = if san.parse::<std::net::IpAddr>().is_ok() {
                b"i"
            } else {
                b"d"
            };
            lines.push([&kind[..], san.as_bytes()].concat());
        }
        for host in hosts.iter().skip(1) {
            lines.push([&b"h"[..], host.as_bytes()].concat());
        }
        let lines: Vec<&[u8]> = lines.iter().map(Vec::as_slice).collect();
        seeds.push((name.to_string(), hostname_input(hosts[0], &lines)));
    }
    // What the unit tables do not cover: other string types, other name types, NULs, broken
    // and duplicated extensions, non-ASCII, odd case.
    let special: &[(&str, &str, &[&[u8]])] = &[
        (
            "cn-string-types",
            "bmp.example.com",
            &[
                b"bbmp.example.com",
                b"pprintable.example.com",
                b"aia5.example.com",
                b"tt61.example.com",
                b"Uuniversal.example.com",
                b"hprintable.example.com",
                b"hia5.example.com",
                b"huniversal.example.com",
            ],
        ),
        (
            "cn-and-organization",
            "org.example.com",
            &[b"oorg.example.com", b"ccn.example.com", b"hcn.example.com"],
        ),
        (
            "cn-odd-tag",
            "odd.example.com",
            &[b"codd.example.com", b"r\x03\x00odd.example.com"],
        ),
        (
            "email-and-uri-only",
            "mail.example.com",
            &[
                b"email.example.com",
                b"uhttps://mail.example.com/",
                b"cmail.example.com",
            ],
        ),
        (
            "duplicated-san",
            "a.example.com",
            &[
                b"da.example.com",
                b"n",
                b"db.example.com",
                b"ca.example.com",
                b"hb.example.com",
            ],
        ),
        (
            "undecodable-san",
            "cn.example.com",
            &[b"x\x30\x03\x82\x05a", b"ccn.example.com"],
        ),
        (
            "critical-san",
            "crit.example.com",
            &[b"!", b"dcrit.example.com"],
        ),
        (
            "embedded-nul",
            "a\0.example.com",
            &[
                b"da\0.example.com",
                b"d*.nul\0.example.com",
                b"hx.nul\0.example.com",
                b"ca\0b.example.com",
            ],
        ),
        (
            "non-ascii",
            "b\u{fc}cher.example.com",
            &[
                b"db\xc3\xbccher.example.com",
                b"d*.b\xfccher.example.com",
                b"cb\xc3\xbccher.example.com",
            ],
        ),
        (
            "odd-case-idna",
            "XN--BCHER-KVA.EXAMPLE.COM",
            &[
                b"dxn--bcher-kva.Example.Com",
                b"d*.XN--Example.com",
                b"hwww.xn--example.COM",
            ],
        ),
        (
            "trailing-dots",
            "www.example.com.",
            &[
                b"dwww.example.com..",
                b"d*.example.org.",
                b"hwww.example.com..",
                b"ha.example.org.",
                b"ha.example.org",
            ],
        ),
        (
            "ip-odd-lengths",
            "1.2.3.4",
            &[
                b"i\x01\x02\x03",
                b"i\x01\x02\x03\x04\x05",
                b"i1.2.3.4",
                b"h01.2.3.4",
                b"h1.2.3.04",
                b"h[1.2.3.4]",
            ],
        ),
        (
            "underscore-and-hyphen",
            "a_b.example.com",
            &[
                b"d*.example.com",
                b"d*.-x.example.com",
                b"d*.x-.example.com",
                b"d*.a_b.com",
                b"hx.a_b.com",
                b"hx.-x.example.com",
            ],
        ),
    ];
    for (name, host, lines) in special {
        seeds.push((name.to_string(), hostname_input(host, lines)));
    }
    for (name, data) in &seeds {
        let der = certificate_der(data);
        sslbridge::Certificate::from_der(&der)
            .map_err(|e| format!("hostname seed {name}: the certificate does not parse: {e}"))?;
        targets::hostname(data);
        write_seed(dir, name, data)?;
    }
    Ok(())
}

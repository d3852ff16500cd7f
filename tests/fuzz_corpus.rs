//! Replays every committed fuzz input through the same target bodies the fuzzers run
//! (`fuzz/src/targets/`), on stable, under plain `cargo test`:
//!
//! - `fuzz/corpus/<target>/`: the merged corpora (`cargo fuzz cmin`, names are hashes);
//! - `fuzz/seeds/<target>/`: the generated seeds, never minimised; the recorded handshakes
//!   of `client_records` and `server_records` per OpenSSL build (`openssl-3.0/`,
//!   `openssl-3.6/`), since each build sends a different ClientHello;
//! - `fuzz/regressions/<target>/`: the input of every crash the fuzzers found, by name.
//!
//! Without the `fuzzing` feature OpenSSL's randomness is real, so a recorded handshake
//! diverges at the first message that depends on it; what this checks is that every input
//! runs to completion without a panic, a hang or memory error. Deep, exact replay is the
//! fuzzer's job, and is checked here too when the feature is on
//! (`RUSTFLAGS="--cfg fuzzing" CARGO_TARGET_DIR=target/cfg-fuzzing cargo test --features
//! fuzzing --test fuzz_corpus`): the recorded seeds *of the linked OpenSSL build* complete
//! their handshakes and deliver the application data, and two fresh processes draw
//! byte-identical client flights. With `--features fuzzing,vendored` (another
//! `CARGO_TARGET_DIR`) the same runs against the OpenSSL 3.6 the fuzzer links.

#[path = "../fuzz/src/targets/mod.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Every file under `dir`, recursively, sorted; none when `dir` does not exist.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The committed inputs of `target`: corpus, seeds (every build) and regressions.
fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let corpus = files_under(&fuzz_dir().join("corpus").join(target));
    assert!(!corpus.is_empty(), "the {target} corpus is empty");
    let seeds = files_under(&fuzz_dir().join("seeds").join(target));
    assert!(!seeds.is_empty(), "{target} has no seeds");
    let regressions = files_under(&fuzz_dir().join("regressions").join(target));
    corpus
        .into_iter()
        .chain(seeds)
        .chain(regressions)
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

/// Runs `body` on every input of `target` and reports every input that panicked.
fn replay(target: &str, body: fn(&[u8])) {
    // An input that makes OpenSSL ask for a pass phrase must not wait for one on the terminal.
    targets::prompts::refuse_password_prompts();
    let inputs = inputs(target);
    let failures: Vec<String> = inputs
        .iter()
        .filter_map(|(path, data)| {
            catch_unwind(AssertUnwindSafe(|| body(data)))
                .err()
                .map(|_| path.display().to_string())
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} {target} inputs panicked: {failures:#?}",
        failures.len(),
        inputs.len()
    );
}

#[test]
fn client_records_inputs_replay() {
    replay("client_records", targets::client_records);
}

#[test]
fn server_records_inputs_replay() {
    replay("server_records", targets::server_records);
}

#[test]
fn transport_chaos_inputs_replay() {
    replay("transport_chaos", targets::transport_chaos);
}

#[test]
fn certificate_inputs_replay() {
    replay("certificate", targets::certificate);
}

#[test]
fn hostname_inputs_replay() {
    replay("hostname", targets::hostname);
}

#[test]
fn every_target_is_replayed() {
    let listed: Vec<&str> = targets::TARGETS.iter().map(|(name, _)| *name).collect();
    let on_disk: Vec<String> = std::fs::read_dir(fuzz_dir().join("fuzz_targets"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            path.file_stem().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    // `protocol_template` is the users' template: self-contained, so not in TARGETS.
    let on_disk: Vec<&String> = on_disk
        .iter()
        .filter(|n| *n != "protocol_template")
        .collect();
    for name in &on_disk {
        assert!(listed.contains(&name.as_str()), "{name} is not in TARGETS");
    }
    assert_eq!(listed.len(), on_disk.len());
}

/// Both OpenSSL builds have a recording of every scenario, on both sides.
#[test]
fn every_scenario_has_recorded_seeds() {
    for target in ["client_records", "server_records"] {
        for build in ["openssl-3.0", "openssl-3.6"] {
            let dir = fuzz_dir().join("seeds").join(target).join(build);
            for s in targets::SCENARIOS {
                assert!(
                    dir.join(s.name).is_file(),
                    "{target} has no {build} recording of scenario {}",
                    s.name
                );
            }
        }
    }
}

/// Every hostname seed describes a certificate OpenSSL parses: a seed that did not would
/// test nothing.
#[test]
fn hostname_seeds_make_certificates() {
    for path in files_under(&fuzz_dir().join("seeds/hostname")) {
        let der = targets::hostname::certificate_der(&std::fs::read(&path).unwrap());
        assert!(
            sslbridge::Certificate::from_der(&der).is_ok(),
            "{}: no certificate",
            path.display()
        );
    }
}

/// What the hostname oracle found (inputs in `fuzz/regressions/hostname/`). sslbridge refused
/// a host with a `*` (h1) and every CN once one did not decode (h2): its documentation now
/// states both rules, and the oracle must explain the difference by them. sslbridge let a host
/// with a NUL match (h3) and a wildcard cover more than letters, digits and hyphens (h4):
/// fixed in `src/x509/hostname.rs`, so it now refuses the input's host, as OpenSSL does (and
/// the oracle, which panics at a difference no rule explains, accepts the whole input).
#[test]
fn hostname_findings_stay_fixed() {
    let dir = fuzz_dir().join("regressions/hostname");
    for (file, rule) in [
        (
            "h1-host-with-star",
            Some("a host with an empty label, a `*` or a NUL"),
        ),
        ("h2-undecodable-cn", Some("a CN that does not decode")),
        ("h3-host-with-nul", None),
        ("h4-wildcard-over-underscore", None),
        ("h4-wildcard-pattern-hyphen", None),
    ] {
        let data = std::fs::read(dir.join(file)).unwrap();
        let rules = targets::hostname::explained_differences(&data);
        match rule {
            Some(rule) => assert!(
                rules.iter().any(|r| r.starts_with(rule)),
                "{file}: difference {rule:?} no longer shows (rules used: {rules:?})"
            ),
            None => {
                let host = std::str::from_utf8(data.split(|&b| b == b'\n').next().unwrap());
                let der = targets::hostname::certificate_der(&data);
                let cert = sslbridge::Certificate::from_der(&der).unwrap();
                assert!(
                    sslbridge::verify_hostname(&cert, host.unwrap()).is_err(),
                    "{file}: sslbridge accepts the host again"
                );
            }
        }
    }
}

/// Decoding a certificate must never ask for a pass phrase: OpenSSL's default callback prompts
/// on the terminal and waits, so a program reading an untrusted certificate could hang. The
/// `certificate` fuzzer found that a PEM `CERTIFICATE` block with a `Proc-Type: 4,ENCRYPTED`
/// header did (its input is in `fuzz/regressions/certificate/`); sslbridge now passes
/// `PEM_read_bio_X509` a callback that declines (`next_pem_certificate` in `src/x509/mod.rs`).
#[test]
fn certificates_never_ask_for_a_pass_phrase() {
    targets::prompts::refuse_password_prompts();
    let input = std::fs::read(
        fuzz_dir().join("regressions/certificate/pem-certificate-with-encryption-header"),
    )
    .unwrap();
    let pem = &input[1..];
    let before = targets::prompts::password_prompts();
    let _ = sslbridge::Certificate::from_pem(pem);
    let _ = sslbridge::Certificate::stack_from_pem(pem);
    let _ = sslbridge::Context::builder()
        .ca_certificates_pem(pem)
        .build();
    assert_eq!(
        targets::prompts::password_prompts(),
        before,
        "decoding a PEM certificate asked for a pass phrase"
    );
}

#[test]
fn truncated_and_empty_inputs_are_harmless() {
    let seeds = files_under(&fuzz_dir().join("seeds/client_records"));
    for path in seeds.iter().take(4) {
        let data = std::fs::read(path).unwrap();
        for len in [0, 1, 2, 6, 50, data.len() / 2] {
            let cut = &data[..len.min(data.len())];
            targets::client_records(cut);
            targets::server_records(cut);
        }
    }
    for (_, body) in targets::TARGETS {
        body(&[]);
    }
}

/// With deterministic randomness the recorded seeds of the linked OpenSSL build replay
/// exactly: the handshake completes and the application data arrives, for every scenario
/// that is not meant to fail.
#[cfg(feature = "fuzzing")]
#[test]
fn recorded_flights_complete_their_handshakes() {
    if let Err(failures) = targets::check_recorded_seeds(&fuzz_dir().join("seeds")) {
        panic!(
            "recorded seeds of {} ({}) do not replay exactly:\n{}",
            targets::openssl_build(),
            sslbridge::openssl_version(),
            failures.join("\n")
        );
    }
}

/// The client's first flight (its ClientHello) for every scenario, as hex lines.
#[cfg(feature = "fuzzing")]
fn client_first_flights() -> String {
    use std::sync::{Arc, Mutex};
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Read for Capture {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Ok(0)
        }
    }
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = String::new();
    for s in targets::SCENARIOS {
        let written = Arc::new(Mutex::new(Vec::new()));
        let w = written.clone();
        targets::run_client(s, move |_| Capture(w.clone()));
        let flight = written.lock().unwrap().clone();
        assert_eq!(
            flight.first(),
            Some(&0x16),
            "{}: a handshake record",
            s.name
        );
        let hex: String = flight.iter().map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!("FLIGHT {} {hex}\n", s.name));
    }
    out
}

/// Two fresh processes (this test binary, run again) produce byte-identical client flights.
#[cfg(feature = "fuzzing")]
#[test]
fn client_flights_are_identical_across_processes() {
    const CHILD: &str = "SSLBRIDGE_FUZZ_PRINT_FLIGHTS";
    if std::env::var_os(CHILD).is_some() {
        print!("\n{}", client_first_flights());
        return;
    }
    let run = || {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "client_flights_are_identical_across_processes",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        text.lines()
            .filter(|l| l.starts_with("FLIGHT "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let (first, second) = (run(), run());
    assert_eq!(first.len(), targets::SCENARIOS.len());
    assert_eq!(first, second, "two processes drew different client flights");
    // And a third, in this process, after other tests may have used the generator.
    let here: Vec<String> = client_first_flights().lines().map(str::to_string).collect();
    assert_eq!(first, here);
}

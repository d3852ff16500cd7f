//! Replays every committed fuzz input — the seed corpora and the crash regressions in
//! `fuzz/corpus/<target>/` — through the same target bodies the fuzzers run
//! (`fuzz/src/targets.rs`), on stable, under plain `cargo test`.
//!
//! Without the `fuzzing` feature OpenSSL's randomness is real, so a recorded handshake
//! diverges at the first message that depends on it; what this checks is that every input
//! runs to completion without a panic, a hang or memory error. Deep, exact replay is the
//! fuzzer's job, and is checked here too when the feature is on
//! (`RUSTFLAGS="--cfg fuzzing" cargo test --features fuzzing --test fuzz_corpus`): recorded flights complete their
//! handshakes and deliver the application data, and two fresh processes draw byte-identical
//! client flights.

#[path = "../fuzz/src/targets.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

/// Runs `body` on every input of `target`'s corpus and reports every input that panicked.
fn replay(target: &str, body: fn(&[u8])) {
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "the {target} corpus is empty");
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
fn client_records_corpus_replays() {
    replay("client_records", targets::client_records);
}

#[test]
fn server_records_corpus_replays() {
    replay("server_records", targets::server_records);
}

#[test]
fn transport_chaos_corpus_replays() {
    replay("transport_chaos", targets::transport_chaos);
}

#[test]
fn certificate_corpus_replays() {
    replay("certificate", targets::certificate);
}

#[test]
fn every_scenario_has_recorded_seeds() {
    for target in ["client_records", "server_records"] {
        let names: Vec<String> = corpus(target)
            .iter()
            .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for s in targets::SCENARIOS {
            assert!(
                names.iter().any(|n| n == s.name),
                "{target} has no seed for scenario {}",
                s.name
            );
        }
    }
}

#[test]
fn truncated_and_empty_inputs_are_harmless() {
    for (_, data) in corpus("client_records").iter().take(4) {
        for len in [0, 1, 2, 6, 50, data.len() / 2] {
            let cut = &data[..len.min(data.len())];
            targets::client_records(cut);
            targets::server_records(cut);
        }
    }
    targets::transport_chaos(&[]);
    targets::certificate(&[]);
}

/// With deterministic randomness a recorded flight replays exactly: the handshake completes
/// and the application data arrives, for every scenario that is not meant to fail.
#[cfg(feature = "fuzzing")]
#[test]
fn recorded_flights_complete_their_handshakes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for s in targets::SCENARIOS {
        let conns = 1 + u32::from(s.resume);
        let alert = s.alpn_required || s.verify_hostname.is_some();
        let client_input = std::fs::read(dir.join("client_records").join(s.name)).unwrap();
        let client = targets::client_records_outcome(&client_input).unwrap();
        let server_input = std::fs::read(dir.join("server_records").join(s.name)).unwrap();
        let server = targets::server_records_outcome(&server_input).unwrap();
        if alert {
            assert_eq!(client.handshakes, 0, "{}: {client:?}", s.name);
            assert!(client.error.is_some(), "{}", s.name);
            assert_eq!(server.handshakes, 0, "{}: {server:?}", s.name);
            continue;
        }
        assert_eq!(client.handshakes, conns, "{}: {client:?}", s.name);
        assert_eq!(
            client.received,
            targets::RESPONSE.repeat(conns as usize),
            "{}",
            s.name
        );
        assert_eq!(client.resumed, s.resume, "{}: {client:?}", s.name);
        assert_eq!(server.handshakes, conns, "{}: {server:?}", s.name);
        assert_eq!(
            server.received,
            targets::REQUEST.repeat(conns as usize),
            "{}",
            s.name
        );
        assert_eq!(server.resumed, s.resume, "{}: {server:?}", s.name);
        assert_eq!(server.client_certificate, s.client_cert, "{}", s.name);
        if s.truncate {
            assert!(client.error.unwrap().contains("close_notify"), "{}", s.name);
        } else {
            assert_eq!(client.error, None, "{}", s.name);
            assert_eq!(server.error, None, "{}", s.name);
        }
        if !s.client_alpn.is_empty() {
            assert_eq!(client.alpn.as_deref(), Some("http/1.1"), "{}", s.name);
        }
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

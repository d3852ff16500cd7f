//! sslbridge side by side with rust-openssl and rustls, in one binary and one run.
//!
//! ```text
//! cargo bench --bench compare                          # full run, ~1-2 s per row
//! cargo bench --bench compare -- --quick               # CI: proves it runs, in seconds
//! cargo bench --bench compare -- --json out.json       # every figure and ratio as JSON
//! cargo bench --bench compare --features vendored      # the same against OpenSSL 3.6
//! cargo bench --bench compare -- --only bulk/sslbridge/duplex --duration 10   # profiling
//! cargo bench --bench compare --features tokio -- --only async   # the async rows alone
//! ```
//!
//! Everything is TLS 1.3 with TLS_AES_128_GCM_SHA256, ECDSA P-256 certificates from
//! `sslbridge::testing::TestPki` and X25519 on all three stacks (rust-openssl links the same
//! OpenSSL as sslbridge; rustls uses its ring provider). MB/s is 10^6 bytes of plaintext per
//! second.
//!
//! The "Async (tokio)" section (rows named `async/...`) needs `--features tokio`: it runs
//! `sslbridge::tokio::SslStream` next to tokio-openssl over `tokio::io::duplex` and loopback
//! TCP on a 2-worker multi-thread runtime. Without the feature those rows are left out and
//! everything else runs as before.

#![warn(clippy::undocumented_unsafe_blocks)]

#[cfg(feature = "tokio")]
#[path = "compare/asynch.rs"]
mod asynch;
#[path = "compare/measure.rs"]
mod measure;
#[path = "compare/memory.rs"]
mod memory;
#[path = "compare/stacks.rs"]
mod stacks;

use measure::{Wire, RECORD};
use serde_json::json;
use stacks::{BoxError, Configs, Groups, Material, Stack};
use std::sync::Arc;
use std::time::Duration;

#[global_allocator]
static ALLOC: memory::CountingAlloc = memory::CountingAlloc;

const KIB: usize = 1024;

struct Args {
    quick: bool,
    json: Option<String>,
    only: Vec<String>,
    duration: Option<f64>,
    memory_child: Option<String>,
    pairs: Option<usize>,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        quick: false,
        json: None,
        only: Vec::new(),
        duration: None,
        memory_child: None,
        pairs: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--bench" => {} // cargo bench passes it to harness = false targets
            "--quick" => args.quick = true,
            "--json" => args.json = Some(value()?),
            "--only" => args.only.push(value()?),
            "--duration" => args.duration = Some(value()?.parse()?),
            "--memory-child" => args.memory_child = Some(value()?),
            "--pairs" => args.pairs = Some(value()?.parse()?),
            "-h" | "--help" => {
                println!(
                    "compare [--quick] [--json PATH] [--only SUBSTRING]... [--duration SECS]\n\
                     rows are named limit, bulk/STACK/TRANSPORT/WRITE, handshake/STACK/KIND/GROUP,\n\
                     memory/STACK, calls/STACK, and with --features tokio\n\
                     async/bulk/STACK/TRANSPORT/WRITE and async/handshake/STACK/TRANSPORT/KIND;\n\
                     --only keeps the rows whose name contains one of the substrings"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (try --help)").into()),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("compare: {e}");
            std::process::exit(2);
        }
    };
    if let Some(stack) = &args.memory_child {
        // First thing in the process: OpenSSL must not have allocated yet.
        let run = || -> Result<(), BoxError> {
            memory::install_openssl_counters()?;
            let stack = Stack::parse(stack).ok_or("unknown stack")?;
            memory::child(stack, args.pairs.unwrap_or(1000))
        };
        if let Err(e) = run() {
            eprintln!("compare memory child: {e}");
            std::process::exit(1);
        }
        return;
    }
    if let Err(e) = run(&args) {
        eprintln!("compare: {e}");
        std::process::exit(1);
    }
}

/// Sizes of the run.
struct Plan {
    bulk: Duration,
    handshake_target: f64,
    handshake_min: usize,
    pairs: usize,
    call_records: u64,
    limit: Duration,
    /// Interleaved rounds per bulk and handshake row (the best counts).
    rounds: usize,
}

struct BulkRow {
    stack: Stack,
    wire: Wire,
    write: usize,
    /// The best round.
    fig: measure::BulkFigure,
    /// MB/s of every round.
    rounds: Vec<f64>,
}

struct HandshakeRow {
    stack: Stack,
    resumed: bool,
    groups: Groups,
    /// The best round.
    fig: measure::HandshakeFigure,
    /// Handshakes per second of every round.
    rounds: Vec<f64>,
}

fn stack_label(stack: Stack, wire: Wire) -> &'static str {
    match (stack, wire) {
        (Stack::Sslbridge, Wire::Duplex) => "sslbridge",
        (Stack::Sslbridge, _) => "sslbridge (fd fast path)",
        (Stack::SslbridgeBio, _) => "sslbridge (custom BIO)",
        (s, _) => s.name(),
    }
}

fn ratio(a: f64, b: Option<f64>) -> Option<f64> {
    b.filter(|b| *b > 0.0).map(|b| a / b)
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or("—".into(), |r| format!("{r:.2}"))
}

fn fmt_int(x: f64) -> String {
    let s = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

fn write_label(write: usize) -> String {
    format!("{} KiB", write / KIB)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn run(args: &Args) -> Result<(), BoxError> {
    let plan = if args.quick {
        Plan {
            bulk: Duration::from_millis(20),
            handshake_target: 0.0,
            handshake_min: 10,
            pairs: 100,
            call_records: 64,
            limit: Duration::from_millis(50),
            rounds: 1,
        }
    } else {
        Plan {
            bulk: Duration::from_millis(1500),
            handshake_target: 1.5,
            handshake_min: 50,
            pairs: 1000,
            call_records: 1024,
            limit: Duration::from_millis(500),
            rounds: 3,
        }
    };
    let bulk_duration = args
        .duration
        .map(Duration::from_secs_f64)
        .unwrap_or(plan.bulk);
    let wanted = |name: &str| args.only.is_empty() || args.only.iter().any(|o| name.contains(o));
    let vendored = cfg!(feature = "vendored");
    let features: Vec<&str> = [("vendored", vendored), ("tokio", cfg!(feature = "tokio"))]
        .into_iter()
        .filter_map(|(name, on)| on.then_some(name))
        .collect();
    let rest: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let command = format!(
        "cargo bench --bench compare{}{}",
        if features.is_empty() {
            String::new()
        } else {
            format!(" --features {}", features.join(","))
        },
        if rest.is_empty() {
            String::new()
        } else {
            format!(" -- {}", rest.join(" "))
        }
    );

    // Header.
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M:%S UTC"]);
    let kernel = command_output("uname", &["-sr"]);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let sb_version = sslbridge::openssl_version().to_string();
    let ossl_version = openssl::version::version().to_string();
    let cpu = cpu_model();
    println!("# sslbridge vs rust-openssl vs rustls\n");
    println!("- date: {date}");
    println!("- command: `{command}`");
    println!(
        "- argv: `{}`",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!("- machine: {cpu}, {cores} cores, {kernel}; load average at start: {load}");
    println!(
        "- OpenSSL: {sb_version} ({}; rust-openssl links {ossl_version}); rustls 0.23 with ring",
        if vendored {
            "vendored, built from source"
        } else {
            "system library"
        }
    );
    println!(
        "- mode: {}, best of {} interleaved rounds per row; TLS 1.3, TLS_AES_128_GCM_SHA256, \
         ECDSA P-256, X25519; MB/s = 10^6 bytes/s",
        if args.quick { "quick" } else { "full" },
        plan.rounds
    );
    if sb_version != ossl_version {
        println!("- WARNING: sslbridge and rust-openssl report different OpenSSL versions");
    }
    println!();

    let material = Material::generate()?;
    let configs = Arc::new(Configs::new(&material, Groups::X25519)?);
    let pq_supported = openssl::version::number() >= 0x3050_0000;
    let pq_configs = if pq_supported {
        Some(Arc::new(Configs::new(&material, Groups::OpenSslDefault)?))
    } else {
        None
    };

    // The limit: sampled here and again in every round of the in-memory group, so that it
    // sees the same machine as the rows it is compared with; the best sample counts.
    let measure_limit = wanted("limit");
    let mut limit_samples: Vec<f64> = Vec::new();
    if measure_limit {
        for _ in 0..plan.rounds {
            limit_samples.push(measure::seal_limit(plan.limit)?);
        }
    }

    // Bulk transfer.
    let mut bulk_rows: Vec<BulkRow> = Vec::new();
    let bulk_plan: Vec<(Wire, Vec<Stack>)> = vec![
        (
            Wire::Duplex,
            vec![Stack::Sslbridge, Stack::OpenSsl, Stack::Rustls],
        ),
        (
            Wire::Unix,
            vec![
                Stack::Sslbridge,
                Stack::SslbridgeBio,
                Stack::OpenSsl,
                Stack::Rustls,
            ],
        ),
        (
            Wire::Tcp,
            vec![
                Stack::Sslbridge,
                Stack::SslbridgeBio,
                Stack::OpenSsl,
                Stack::Rustls,
            ],
        ),
    ]
    .into_iter()
    .filter(|(wire, _)| cfg!(unix) || *wire != Wire::Unix)
    .collect();
    // Each (transport, write size) group runs its stacks in interleaved rounds, so a burst
    // of load from elsewhere on the machine hits all of them alike; the best round counts.
    let round_duration = bulk_duration / plan.rounds as u32;
    for (wire, stacks) in &bulk_plan {
        for write in [16 * KIB, KIB] {
            let names: Vec<(Stack, String)> = stacks
                .iter()
                .map(|&stack| {
                    let name = format!("bulk/{}/{}/{}", stack.name(), wire.name(), write);
                    (stack, name)
                })
                .filter(|(_, name)| wanted(name))
                .collect();
            let mut rounds: Vec<Vec<measure::BulkFigure>> =
                names.iter().map(|_| Vec::new()).collect();
            for _ in 0..plan.rounds {
                if measure_limit && *wire == Wire::Duplex && !names.is_empty() {
                    limit_samples.push(measure::seal_limit(plan.limit)?);
                }
                for ((stack, name), figs) in names.iter().zip(rounds.iter_mut()) {
                    let fig = measure::bulk(&configs, *stack, *wire, write, round_duration)
                        .map_err(|e| format!("{name}: {e}"))?;
                    eprintln!("{name}: {:.0} MB/s", fig.mbps());
                    figs.push(fig);
                }
            }
            for ((stack, _), figs) in names.into_iter().zip(rounds) {
                let all: Vec<f64> = figs.iter().map(|f| f.mbps()).collect();
                let fig = figs
                    .into_iter()
                    .max_by(|a, b| a.mbps().total_cmp(&b.mbps()))
                    .ok_or("no rounds")?;
                bulk_rows.push(BulkRow {
                    stack,
                    wire: *wire,
                    write,
                    fig,
                    rounds: all,
                });
            }
        }
    }
    let limit = limit_samples.iter().copied().reduce(f64::max);
    if let Some(l) = limit {
        println!("## The limit\n");
        println!(
            "AES-128-GCM sealing of 16 KiB TLS records through EVP, one thread: **{} MB/s** \
             (best of {} samples)\n",
            fmt_int(l),
            limit_samples.len()
        );
    }
    let bulk_of = |stack: Stack, wire: Wire, write: usize| {
        bulk_rows
            .iter()
            .find(|r| r.stack == stack && r.wire == wire && r.write == write)
            .map(|r| r.fig.mbps())
    };
    let mut bulk_json = Vec::new();
    if !bulk_rows.is_empty() {
        println!("## Bulk transfer, client thread → server thread\n");
        println!("| stack | transport | write | MB/s | × rust-openssl | × rustls | × limit |");
        println!("| --- | --- | --- | ---: | ---: | ---: | ---: |");
        for r in &bulk_rows {
            let mbps = r.fig.mbps();
            let vs_ossl = ratio(mbps, bulk_of(Stack::OpenSsl, r.wire, r.write));
            let vs_rustls = ratio(mbps, bulk_of(Stack::Rustls, r.wire, r.write));
            let vs_limit = ratio(mbps, limit);
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                stack_label(r.stack, r.wire),
                r.wire.name(),
                write_label(r.write),
                fmt_int(mbps),
                fmt_ratio(vs_ossl),
                fmt_ratio(vs_rustls),
                fmt_ratio(vs_limit)
            );
            bulk_json.push(json!({
                "stack": r.stack.name(),
                "transport": r.wire.name(),
                "write_bytes": r.write,
                "mb_per_s": mbps,
                "bytes": r.fig.bytes,
                "seconds": r.fig.seconds,
                "fd_fast_path": r.fig.fd_fast_path,
                "rounds_mb_per_s": r.rounds,
                "ratio_to_rust_openssl": vs_ossl,
                "ratio_to_rustls": vs_rustls,
                "ratio_to_limit": vs_limit,
            }));
        }
        println!();
    }

    // Handshakes.
    let mut hs_rows: Vec<HandshakeRow> = Vec::new();
    let mut hs_plan: Vec<(Stack, bool, Groups)> = Vec::new();
    for resumed in [false, true] {
        for stack in [Stack::Sslbridge, Stack::OpenSsl, Stack::Rustls] {
            hs_plan.push((stack, resumed, Groups::X25519));
        }
    }
    if pq_supported {
        for resumed in [false, true] {
            for stack in [Stack::Sslbridge, Stack::OpenSsl] {
                hs_plan.push((stack, resumed, Groups::OpenSslDefault));
            }
        }
    }
    // Calibrate each row's count to the target time, then run interleaved rounds.
    let mut hs_jobs = Vec::new();
    for (stack, resumed, groups) in hs_plan {
        let kind = if resumed { "resumed" } else { "full" };
        let group = match groups {
            Groups::X25519 => "x25519",
            Groups::OpenSslDefault => "default",
        };
        let name = format!("handshake/{}/{kind}/{group}", stack.name());
        if !wanted(&name) {
            continue;
        }
        let cfg = match groups {
            Groups::X25519 => configs.clone(),
            Groups::OpenSslDefault => pq_configs.clone().expect("checked"),
        };
        let count = if plan.handshake_target > 0.0 {
            let probe = measure::handshakes(&cfg, stack, resumed, plan.handshake_min)
                .map_err(|e| format!("{name}: {e}"))?;
            let per_round = plan.handshake_target / plan.rounds as f64;
            ((probe.per_second() * per_round) as usize).max(plan.handshake_min)
        } else {
            plan.handshake_min
        };
        hs_jobs.push((stack, resumed, groups, name, cfg, count, Vec::new()));
    }
    for _ in 0..plan.rounds {
        for (stack, resumed, _, name, cfg, count, figs) in hs_jobs.iter_mut() {
            let fig = measure::handshakes(cfg, *stack, *resumed, *count)
                .map_err(|e| format!("{name}: {e}"))?;
            eprintln!("{name}: {:.0}/s ({})", fig.per_second(), fig.negotiated);
            figs.push(fig);
        }
    }
    for (stack, resumed, groups, _, _, _, figs) in hs_jobs {
        let all: Vec<f64> = figs.iter().map(|f| f.per_second()).collect();
        let fig = figs
            .into_iter()
            .max_by(|a, b| a.per_second().total_cmp(&b.per_second()))
            .ok_or("no rounds")?;
        hs_rows.push(HandshakeRow {
            stack,
            resumed,
            groups,
            fig,
            rounds: all,
        });
    }
    let hs_of = |stack: Stack, resumed: bool, groups: Groups| {
        hs_rows
            .iter()
            .find(|r| r.stack == stack && r.resumed == resumed && r.groups == groups)
            .map(|r| r.fig.per_second())
    };
    let mut hs_json = Vec::new();
    if !hs_rows.is_empty() {
        println!("## Handshakes per second, client and server threads over the in-memory pipe\n");
        println!("| stack | handshake | negotiated | handshakes/s | × rust-openssl | × rustls |");
        println!("| --- | --- | --- | ---: | ---: | ---: |");
        for r in &hs_rows {
            let per_s = r.fig.per_second();
            let vs_ossl = ratio(per_s, hs_of(Stack::OpenSsl, r.resumed, r.groups));
            let vs_rustls = ratio(per_s, hs_of(Stack::Rustls, r.resumed, r.groups));
            let kind = if r.resumed { "resumed" } else { "full" };
            let kind = match r.groups {
                Groups::X25519 => kind.to_string(),
                Groups::OpenSslDefault => format!("{kind}, OpenSSL default groups"),
            };
            println!(
                "| {} | {kind} | {} | {} | {} | {} |",
                r.stack.name(),
                r.fig.negotiated,
                fmt_int(per_s),
                fmt_ratio(vs_ossl),
                fmt_ratio(vs_rustls)
            );
            hs_json.push(json!({
                "stack": r.stack.name(),
                "resumed": r.resumed,
                "groups": match r.groups { Groups::X25519 => "X25519", Groups::OpenSslDefault => "openssl-default" },
                "negotiated": r.fig.negotiated,
                "handshakes": r.fig.count,
                "seconds": r.fig.seconds,
                "per_second": per_s,
                "rounds_per_second": r.rounds,
                "ratio_to_rust_openssl": vs_ossl,
                "ratio_to_rustls": vs_rustls,
            }));
        }
        if !pq_supported {
            println!(
                "\nNo post-quantum row: {} has no X25519MLKEM768 (3.5 and later do; \
                 run with `--features vendored`).",
                sb_version
            );
        } else {
            println!(
                "\nrustls has no post-quantum row: its ring provider offers no X25519MLKEM768."
            );
        }
        println!();
    }

    // Async (tokio).
    #[cfg(feature = "tokio")]
    let async_json = async_section(&plan, bulk_duration, &wanted, &configs)?;
    #[cfg(not(feature = "tokio"))]
    let async_json = {
        if args.only.iter().any(|o| o.contains("async")) {
            println!(
                "## Async (tokio)\n\nNot built: the async rows need \
                 `cargo bench --bench compare --features tokio`.\n"
            );
        }
        serde_json::Value::Null
    };

    // Memory.
    let pairs = args.pairs.unwrap_or(plan.pairs);
    let mut mem_rows = Vec::new();
    for stack in [Stack::Sslbridge, Stack::OpenSsl, Stack::Rustls] {
        let name = format!("memory/{}", stack.name());
        if !wanted(&name) {
            continue;
        }
        let fig = memory::measure(stack, pairs).map_err(|e| format!("{name}: {e}"))?;
        eprintln!("{name}: {:.0} bytes per pair", fig.total_per_pair());
        mem_rows.push(fig);
    }
    let mem_of = |stack: Stack| {
        mem_rows
            .iter()
            .find(|r| r.stack == stack)
            .map(|r| r.total_per_pair())
    };
    let mut mem_json = Vec::new();
    if !mem_rows.is_empty() {
        println!(
            "## Memory per idle connection pair (client + server), {} pairs, each stack in a fresh process\n",
            fmt_int(pairs as f64)
        );
        println!(
            "| stack | OpenSSL bytes | Rust heap bytes | total bytes | allocations made | × rust-openssl | × rustls |"
        );
        println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for r in &mem_rows {
            let n = r.pairs as f64;
            let total = r.total_per_pair();
            let vs_ossl = ratio(total, mem_of(Stack::OpenSsl));
            let vs_rustls = ratio(total, mem_of(Stack::Rustls));
            println!(
                "| {} | {} | {} | {} | {:.1} | {} | {} |",
                r.stack.name(),
                fmt_int(r.openssl_bytes / n),
                fmt_int(r.rust_bytes / n),
                fmt_int(total),
                (r.openssl_allocations + r.rust_allocations) / n,
                fmt_ratio(vs_ossl),
                fmt_ratio(vs_rustls)
            );
            mem_json.push(json!({
                "stack": r.stack.name(),
                "pairs": r.pairs,
                "openssl_bytes_per_pair": r.openssl_bytes / n,
                "rust_heap_bytes_per_pair": r.rust_bytes / n,
                "total_bytes_per_pair": total,
                "allocations_per_pair": (r.openssl_allocations + r.rust_allocations) / n,
                "ratio_to_rust_openssl": vs_ossl,
                "ratio_to_rustls": vs_rustls,
            }));
        }
        println!(
            "\nOpenSSL bytes: live allocations made through `CRYPTO_set_mem_functions`; Rust heap: \
             a counting global allocator; the in-memory pipe's own buffers are not counted.\n"
        );
    }

    // Transport calls.
    let mut call_rows = Vec::new();
    for stack in [Stack::Sslbridge, Stack::OpenSsl, Stack::Rustls] {
        let name = format!("calls/{}", stack.name());
        if !wanted(&name) {
            continue;
        }
        let fig = measure::transport_calls(&configs, stack, plan.call_records)
            .map_err(|e| format!("{name}: {e}"))?;
        call_rows.push((stack, fig));
    }
    let mut calls_json = Vec::new();
    if !call_rows.is_empty() {
        println!(
            "## Transport calls per 16 KiB record (counting wrapper around the in-memory pipe)\n"
        );
        println!(
            "| stack | reads per record received | writes per record sent | flushes per record sent | sslbridge's transport_stats() agrees |"
        );
        println!("| --- | ---: | ---: | ---: | --- |");
        for (stack, f) in &call_rows {
            let n = f.records as f64;
            let reads = f.receiver.reads as f64 / n;
            let writes = f.sender.writes as f64 / n;
            let flushes = f.sender.flushes as f64 / n;
            println!(
                "| {} | {reads:.2} | {writes:.2} | {flushes:.2} | {} |",
                stack.name(),
                match f.sslbridge_stats_agree {
                    Some(true) => "yes",
                    Some(false) => "NO",
                    None => "—",
                }
            );
            calls_json.push(json!({
                "stack": stack.name(),
                "records": f.records,
                "reads_per_record_received": reads,
                "writes_per_record_sent": writes,
                "flushes_per_record_sent": flushes,
                "sender_reads": f.sender.reads,
                "receiver_writes": f.receiver.writes,
                "sslbridge_transport_stats_agree": f.sslbridge_stats_agree,
            }));
        }
        println!();
    }

    // Targets.
    let mut targets = Vec::new();
    let mut target = |name: String, figure: String, met: Option<bool>, note: &str| {
        targets.push((name, figure, met, note.to_string()));
    };
    let sb_bulk: Vec<&BulkRow> = bulk_rows
        .iter()
        .filter(|r| matches!(r.stack, Stack::Sslbridge | Stack::SslbridgeBio))
        .collect();
    let worst = |other: Stack| {
        sb_bulk
            .iter()
            .filter_map(|r| {
                ratio(r.fig.mbps(), bulk_of(other, r.wire, r.write)).map(|x| {
                    (
                        x,
                        format!(
                            "{} {} {}",
                            stack_label(r.stack, r.wire),
                            r.wire.name(),
                            write_label(r.write)
                        ),
                    )
                })
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let failing = |other: Stack, bound: f64| {
        sb_bulk
            .iter()
            .filter(|r| ratio(r.fig.mbps(), bulk_of(other, r.wire, r.write)).unwrap_or(0.0) < bound)
            .count()
    };
    if let Some((w, row)) = worst(Stack::OpenSsl) {
        target(
            "sslbridge bulk ≥ 1.15 × rust-openssl, every transport and write size".into(),
            format!(
                "worst {w:.2} ({row}); {} of {} rows below",
                failing(Stack::OpenSsl, 1.15),
                sb_bulk.len()
            ),
            Some(w >= 1.15),
            "",
        );
    }
    if let Some((w, row)) = worst(Stack::Rustls) {
        target(
            "sslbridge bulk ≥ 1.00 × rustls, every transport and write size".into(),
            format!(
                "worst {w:.2} ({row}); {} of {} rows below",
                failing(Stack::Rustls, 1.0),
                sb_bulk.len()
            ),
            Some(w >= 1.0),
            if vendored {
                ""
            } else {
                "the target is set for the vendored build"
            },
        );
    }
    if let (Some(b), Some(l)) = (bulk_of(Stack::Sslbridge, Wire::Duplex, 16 * KIB), limit) {
        let o = bulk_of(Stack::OpenSsl, Wire::Duplex, 16 * KIB);
        target(
            "sslbridge duplex 16 KiB ≥ 0.80 × the seal limit".into(),
            format!(
                "{:.2} (rust-openssl {})",
                b / l,
                fmt_ratio(ratio(o.unwrap_or(0.0), Some(l)))
            ),
            Some(b / l >= 0.80),
            if vendored {
                "set for the system OpenSSL; with vendored: as close as the copies allow"
            } else {
                ""
            },
        );
    }
    for resumed in [false, true] {
        let kind = if resumed { "resumed" } else { "full" };
        if let Some(sb) = hs_of(Stack::Sslbridge, resumed, Groups::X25519) {
            if let Some(o) = hs_of(Stack::OpenSsl, resumed, Groups::X25519) {
                target(
                    format!("{kind} handshakes/s ≥ rust-openssl"),
                    format!("{:.2}", sb / o),
                    Some(sb >= o),
                    "",
                );
            }
            if let Some(r) = hs_of(Stack::Rustls, resumed, Groups::X25519) {
                target(
                    format!("{kind} handshakes/s ≥ 0.80 × rustls"),
                    format!("{:.2}", sb / r),
                    Some(sb / r >= 0.80),
                    if vendored {
                        ""
                    } else {
                        "the target is set for the vendored build"
                    },
                );
            }
        }
    }
    if let (Some(sb), Some(r)) = (mem_of(Stack::Sslbridge), mem_of(Stack::Rustls)) {
        target(
            "memory per idle pair ≤ rustls".into(),
            format!("{} vs {} bytes ({:.2})", fmt_int(sb), fmt_int(r), sb / r),
            Some(sb <= r),
            "",
        );
    }
    if let Some((_, f)) = call_rows.iter().find(|(s, _)| *s == Stack::Sslbridge) {
        let reads = f.receiver.reads as f64 / f.records as f64;
        target(
            "≤ 1 transport read per 16 KiB record received".into(),
            format!("{reads:.2}"),
            Some(reads <= 1.0),
            "",
        );
    }
    let mut targets_json = Vec::new();
    if !targets.is_empty() {
        println!(
            "## Targets ({} OpenSSL build)\n",
            if vendored { "vendored" } else { "system" }
        );
        println!("| target | figure | met |");
        println!("| --- | --- | --- |");
        for (name, figure, met, note) in &targets {
            let met_s = match met {
                Some(true) => "met",
                Some(false) => "**not met**",
                None => "—",
            };
            let note_s = if note.is_empty() {
                String::new()
            } else {
                format!(" ({note})")
            };
            println!("| {name} | {figure} | {met_s}{note_s} |");
            targets_json.push(json!({"target": name, "figure": figure, "met": met, "note": note}));
        }
        println!();
    }

    if let Some(path) = &args.json {
        let doc = json!({
            "meta": {
                "date": date,
                "command": command,
                "argv": std::env::args().collect::<Vec<_>>(),
                "cpu": cpu,
                "cores": cores,
                "kernel": kernel,
                "load_average_at_start": load,
                "openssl": sb_version,
                "rust_openssl_links": ossl_version,
                "vendored": vendored,
                "quick": args.quick,
                "record_bytes": RECORD,
                "bulk_seconds_per_row": bulk_duration.as_secs_f64(),
            },
            "limit_mb_per_s": limit,
            "limit_samples_mb_per_s": limit_samples,
            "bulk": bulk_json,
            "handshakes": hs_json,
            "memory": mem_json,
            "transport_calls": calls_json,
            "async": async_json,
            "targets": targets_json,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
        println!("JSON written to {path}");
    }
    Ok(())
}

/// The "Async (tokio)" section: bulk transfer and handshakes of `sslbridge::tokio` and
/// tokio-openssl over `tokio::io::duplex` and loopback TCP, in interleaved rounds like the
/// blocking rows; prints its tables and returns its JSON (null when no row was wanted).
#[cfg(feature = "tokio")]
fn async_section(
    plan: &Plan,
    bulk_duration: Duration,
    wanted: &dyn Fn(&str) -> bool,
    configs: &Arc<Configs>,
) -> Result<serde_json::Value, BoxError> {
    use asynch::{AsyncStack, AsyncWire};
    const STACKS: [AsyncStack; 2] = [AsyncStack::Sslbridge, AsyncStack::TokioOpenssl];
    const WIRES: [AsyncWire; 2] = [AsyncWire::Duplex, AsyncWire::Tcp];
    let rt = asynch::runtime()?;

    // Bulk transfer: each (transport, write size) group in interleaved rounds.
    let round_duration = bulk_duration / plan.rounds as u32;
    let mut bulk_rows = Vec::new();
    for wire in WIRES {
        for write in [16 * KIB, KIB] {
            let names: Vec<(AsyncStack, String)> = STACKS
                .iter()
                .map(|&stack| {
                    let name = format!("async/bulk/{}/{}/{}", stack.name(), wire.name(), write);
                    (stack, name)
                })
                .filter(|(_, name)| wanted(name))
                .collect();
            let mut rounds: Vec<Vec<f64>> = names.iter().map(|_| Vec::new()).collect();
            for _ in 0..plan.rounds {
                for ((stack, name), figs) in names.iter().zip(rounds.iter_mut()) {
                    let fig = asynch::bulk(&rt, configs, *stack, wire, write, round_duration)
                        .map_err(|e| format!("{name}: {e}"))?;
                    eprintln!("{name}: {:.0} MB/s", fig.mbps());
                    figs.push(fig.mbps());
                }
            }
            for ((stack, _), all) in names.into_iter().zip(rounds) {
                let best = all.iter().copied().reduce(f64::max).ok_or("no rounds")?;
                bulk_rows.push((stack, wire, write, best, all));
            }
        }
    }

    // Handshakes: calibrate each row's count to the target time, then interleaved rounds.
    let mut hs_jobs = Vec::new();
    for wire in WIRES {
        for resumed in [false, true] {
            for stack in STACKS {
                let kind = if resumed { "resumed" } else { "full" };
                let name = format!("async/handshake/{}/{}/{kind}", stack.name(), wire.name());
                if !wanted(&name) {
                    continue;
                }
                let count = if plan.handshake_target > 0.0 {
                    let probe =
                        asynch::handshakes(&rt, configs, stack, wire, resumed, plan.handshake_min)
                            .map_err(|e| format!("{name}: {e}"))?;
                    let per_round = plan.handshake_target / plan.rounds as f64;
                    ((probe.per_second() * per_round) as usize).max(plan.handshake_min)
                } else {
                    plan.handshake_min
                };
                hs_jobs.push((stack, wire, resumed, name, count, Vec::new()));
            }
        }
    }
    for _ in 0..plan.rounds {
        for (stack, wire, resumed, name, count, figs) in hs_jobs.iter_mut() {
            let fig = asynch::handshakes(&rt, configs, *stack, *wire, *resumed, *count)
                .map_err(|e| format!("{name}: {e}"))?;
            eprintln!("{name}: {:.0}/s ({})", fig.per_second(), fig.negotiated);
            figs.push(fig);
        }
    }
    let mut hs_rows = Vec::new();
    for (stack, wire, resumed, _, _, figs) in hs_jobs {
        let all: Vec<f64> = figs.iter().map(|f| f.per_second()).collect();
        let fig = figs
            .into_iter()
            .max_by(|a, b| a.per_second().total_cmp(&b.per_second()))
            .ok_or("no rounds")?;
        hs_rows.push((stack, wire, resumed, fig, all));
    }
    drop(rt);

    if bulk_rows.is_empty() && hs_rows.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    println!("## Async (tokio)\n");
    println!(
        "`sslbridge::tokio::SslStream` and tokio-openssl 0.6 (`tokio_openssl::SslStream`) over \
         the same transports, client task and server task on a multi-thread runtime with {} \
         workers; the blocking rows' contexts and settings.\n",
        asynch::WORKERS
    );
    let bulk_of = |stack: AsyncStack, wire: AsyncWire, write: usize| {
        bulk_rows
            .iter()
            .find(|r| r.0 == stack && r.1 == wire && r.2 == write)
            .map(|r| r.3)
    };
    let mut bulk_json = Vec::new();
    if !bulk_rows.is_empty() {
        println!("### Bulk transfer, client task → server task\n");
        println!("| stack | transport | write | MB/s | × tokio-openssl |");
        println!("| --- | --- | --- | ---: | ---: |");
        for (stack, wire, write, mbps, all) in &bulk_rows {
            let vs = ratio(*mbps, bulk_of(AsyncStack::TokioOpenssl, *wire, *write));
            println!(
                "| {} | {} | {} | {} | {} |",
                stack.name(),
                wire.name(),
                write_label(*write),
                fmt_int(*mbps),
                fmt_ratio(vs)
            );
            bulk_json.push(json!({
                "stack": stack.name(),
                "transport": wire.name(),
                "write_bytes": write,
                "mb_per_s": mbps,
                "rounds_mb_per_s": all,
                "ratio_to_tokio_openssl": vs,
            }));
        }
        println!();
    }
    let hs_of = |stack: AsyncStack, wire: AsyncWire, resumed: bool| {
        hs_rows
            .iter()
            .find(|r| r.0 == stack && r.1 == wire && r.2 == resumed)
            .map(|r| r.3.per_second())
    };
    let mut hs_json = Vec::new();
    if !hs_rows.is_empty() {
        println!("### Handshakes per second, client task and server task\n");
        println!("| stack | transport | handshake | negotiated | handshakes/s | × tokio-openssl |");
        println!("| --- | --- | --- | --- | ---: | ---: |");
        for (stack, wire, resumed, fig, all) in &hs_rows {
            let per_s = fig.per_second();
            let vs = ratio(per_s, hs_of(AsyncStack::TokioOpenssl, *wire, *resumed));
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                stack.name(),
                wire.name(),
                if *resumed { "resumed" } else { "full" },
                fig.negotiated,
                fmt_int(per_s),
                fmt_ratio(vs)
            );
            hs_json.push(json!({
                "stack": stack.name(),
                "transport": wire.name(),
                "resumed": resumed,
                "negotiated": fig.negotiated,
                "handshakes": fig.count,
                "seconds": fig.seconds,
                "per_second": per_s,
                "rounds_per_second": all,
                "ratio_to_tokio_openssl": vs,
            }));
        }
        println!(
            "\nOver tcp each handshake includes the loopback connect and accept, alike for both \
             stacks.\n"
        );
    }
    Ok(json!({
        "runtime": format!("tokio multi-thread, {} workers", asynch::WORKERS),
        "bulk": bulk_json,
        "handshakes": hs_json,
    }))
}

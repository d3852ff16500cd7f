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
#[path = "compare/async_rows.rs"]
mod async_rows;
#[cfg(feature = "tokio")]
#[path = "compare/asynch.rs"]
mod asynch;
#[path = "compare/bulk.rs"]
mod bulk;
#[cfg(unix)]
#[path = "compare/flush.rs"]
mod flush;
#[path = "compare/handshakes.rs"]
mod handshakes;
#[path = "compare/measure.rs"]
mod measure;
#[path = "compare/memory.rs"]
mod memory;
#[path = "compare/memory_rows.rs"]
mod memory_rows;
#[path = "compare/stacks.rs"]
mod stacks;
#[path = "compare/targets.rs"]
mod targets;

use measure::{Amount, Shape, Wire, RECORD};
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
    pub pairs: Option<usize>,
    pub rounds: Option<usize>,
    messages: Option<u64>,
    /// The memory child's scenario (`idle` or `after-transfer`) and transport.
    scenario: Option<String>,
}

fn parse_args() -> Result<Args, BoxError> {
    let mut args = Args {
        quick: false,
        json: None,
        only: Vec::new(),
        duration: None,
        memory_child: None,
        pairs: None,
        rounds: None,
        messages: None,
        scenario: None,
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
            "--rounds" => args.rounds = Some(value()?.parse::<usize>()?.max(1)),
            "--messages" => args.messages = Some(value()?.parse()?),
            "--scenario" => args.scenario = Some(value()?),
            "-h" | "--help" => {
                println!(
                    "compare [--quick] [--json PATH] [--only SUBSTRING]... [--duration SECS] [--rounds N]\n\
                     \x20       [--messages N]\n\
                     rows are named limit, bulk/STACK/TRANSPORT/SHAPE, handshake/STACK/KIND/GROUP,\n\
                     memory/STACK/TRANSPORT/SCENARIO, calls/STACK, and with --features tokio\n\
                     async/bulk/STACK/TRANSPORT/SHAPE and async/handshake/STACK/TRANSPORT/KIND;\n\
                     SHAPE is 16384, 1024, 1024-read65536 or 200+1024-vectored;\n\
                     --only keeps the rows whose name contains one of the substrings (or,\n\
                     \x20 ending in $, is exactly the name before it);\n\
                     --rounds sets the interleaved rounds per row (the median is reported);\n\
                     --messages makes every bulk round write exactly N messages instead of\n\
                     running for a time (for callgrind: instructions per message)"
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
            let scenario =
                memory::Scenario::parse(args.scenario.as_deref().unwrap_or("idle/duplex"))
                    .ok_or("unknown scenario")?;
            memory::child(stack, scenario, args.pairs.unwrap_or(1000))
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
pub struct Plan {
    pub bulk: Duration,
    pub handshake_target: f64,
    pub handshake_min: usize,
    pub pairs: usize,
    pub call_records: u64,
    pub limit: Duration,
    /// Interleaved rounds per bulk and handshake row (the median counts).
    pub rounds: usize,
}

/// What every section needs: the run's sizes, the rows wanted, the stacks' settings.
pub struct Ctx<'a> {
    pub plan: Plan,
    /// How much each bulk round sends.
    pub amount: Amount,
    /// Whether the row of that name is wanted (`--only`).
    pub wanted: Box<dyn Fn(&str) -> bool + 'a>,
    pub configs: Arc<Configs>,
    /// Settings with OpenSSL's default groups (post-quantum), when OpenSSL has them.
    pub pq_configs: Option<Arc<Configs>>,
    pub vendored: bool,
    pub sb_version: String,
    /// `--pairs`: idle pairs per memory row.
    pub pairs: Option<usize>,
}

fn stack_label(stack: Stack, wire: Wire) -> &'static str {
    match (stack, wire) {
        (Stack::Sslbridge, Wire::Duplex) => "sslbridge",
        (Stack::Sslbridge, _) => "sslbridge (fd fast path)",
        (Stack::SslbridgeBio, _) => "sslbridge (custom BIO)",
        (Stack::SslbridgeNoReadAhead, _) => "sslbridge (fd path, `fd_read_ahead(false)`)",
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

/// `items` in round `round`'s order: each round starts one further along, so no row always
/// runs first (right after the previous group) or after the same neighbour.
fn in_turn<T>(items: impl IntoIterator<Item = T>, round: usize) -> Vec<T> {
    let mut items: Vec<T> = items.into_iter().collect();
    let len = items.len().max(1);
    items.rotate_left(round % len);
    items
}

/// The median element by `key` (the lower median for an even count).
fn median_by<T>(mut items: Vec<T>, key: impl Fn(&T) -> f64) -> Option<T> {
    items.sort_by(|a, b| key(a).total_cmp(&key(b)));
    let mid = items.len().checked_sub(1)? / 2;
    items.into_iter().nth(mid)
}

#[cfg(feature = "tokio")]
/// The median of `values` (the lower median for an even count).
fn median(values: &[f64]) -> Option<f64> {
    median_by(values.to_vec(), |v| *v)
}

/// The message shapes of the bulk rows: 16 KiB and 1 KiB writes read with a 16 KiB buffer,
/// 1 KiB writes read with a 64 KiB buffer, and a 200-byte header plus a 1 KiB body per
/// message written with one `write_vectored`.
const SHAPES: [Shape; 4] = [
    Shape::plain(16 * KIB),
    Shape::plain(KIB),
    Shape {
        write: KIB,
        header: 0,
        read: 64 * KIB,
    },
    Shape {
        write: KIB,
        header: 200,
        read: 16 * KIB,
    },
];

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
            rounds: args.rounds.unwrap_or(1),
        }
    } else {
        Plan {
            bulk: Duration::from_millis(2500),
            handshake_target: 2.5,
            handshake_min: 50,
            pairs: 1000,
            call_records: 1024,
            limit: Duration::from_millis(500),
            rounds: args.rounds.unwrap_or(5),
        }
    };
    let bulk_duration = args
        .duration
        .map(Duration::from_secs_f64)
        .unwrap_or(plan.bulk);
    // A substring, or with a trailing `$` the whole name.
    let wanted = |name: &str| {
        args.only.is_empty()
            || args.only.iter().any(|o| match o.strip_suffix('$') {
                Some(exact) => name == exact,
                None => name.contains(o.as_str()),
            })
    };
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
        "- mode: {}, median of {} interleaved rounds per row; TLS 1.3, TLS_AES_128_GCM_SHA256, \
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
    let pq_configs = if openssl::version::number() >= 0x3050_0000 {
        Some(Arc::new(Configs::new(&material, Groups::OpenSslDefault)?))
    } else {
        None
    };

    let amount = match args.messages {
        Some(n) => Amount::Messages(n),
        None => Amount::Time(bulk_duration / plan.rounds as u32),
    };
    let ctx = Ctx {
        plan,
        amount,
        wanted: Box::new(wanted),
        configs,
        pq_configs,
        vendored,
        sb_version: sb_version.clone(),
        pairs: args.pairs,
    };

    let bulk = bulk::section(&ctx)?;
    #[cfg(unix)]
    let flush_json = flush::section(&ctx)?;
    #[cfg(not(unix))]
    let flush_json: Vec<serde_json::Value> = Vec::new();
    let hs = handshakes::section(&ctx)?;
    // Async (tokio).
    #[cfg(feature = "tokio")]
    let async_json = async_rows::section(&ctx)?;
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

    let mc = memory_rows::section(&ctx)?;
    let targets_json = targets::section(&ctx, &bulk, &hs, &mc);

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
            "limit_mb_per_s": bulk.limit,
            "limit_samples_mb_per_s": bulk.limit_samples,
            "bulk": bulk.json,
            "handshakes": hs.json,
            "memory": mc.mem_json,
            "transport_calls": mc.calls_json,
            "flush_after_write": flush_json,
            "async": async_json,
            "targets": targets_json,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)? + "\n")?;
        println!("JSON written to {path}");
    }
    Ok(())
}

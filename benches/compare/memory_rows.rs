//! The memory rows (heap per idle connection pair, each in a child process) and the
//! transport-call counts.

use crate::measure::{self, Wire};
use crate::memory;
use crate::stacks::{BoxError, Stack};
use crate::{fmt_int, fmt_ratio, ratio, stack_label, Ctx};
use serde_json::json;

/// What the memory and transport-call sections measured.
pub struct MemoryAndCalls {
    pub mem_rows: Vec<memory::MemoryFigure>,
    pub mem_json: Vec<serde_json::Value>,
    pub call_rows: Vec<(Stack, measure::CallFigure)>,
    pub calls_json: Vec<serde_json::Value>,
}

impl MemoryAndCalls {
    /// Bytes per pair of `stack` in `scenario`.
    pub fn mem_in(&self, stack: Stack, scenario: memory::Scenario) -> Option<f64> {
        self.mem_rows
            .iter()
            .find(|r| r.stack == stack && r.scenario == scenario)
            .map(|r| r.total_per_pair())
    }
}

/// Runs the memory and transport-call rows and prints their tables.
pub fn section(ctx: &Ctx) -> Result<MemoryAndCalls, BoxError> {
    let plan = &ctx.plan;
    let wanted = &ctx.wanted;
    let configs = &ctx.configs;
    // Memory.
    let pairs = ctx.pairs.unwrap_or(plan.pairs);
    let mut mem_rows = Vec::new();
    let all_stacks = [
        Stack::Sslbridge,
        Stack::SslbridgeBio,
        Stack::OpenSsl,
        Stack::Rustls,
    ];
    let memory_plan = [
        (false, Wire::Duplex),
        (true, Wire::Duplex),
        (true, Wire::Unix),
    ];
    for (after_transfer, wire) in memory_plan {
        if !cfg!(unix) && wire == Wire::Unix {
            continue; // Unix-domain sockets exist only on Unix
        }
        let scenario = memory::Scenario {
            after_transfer,
            wire,
        };
        for stack in all_stacks {
            if stack == Stack::SslbridgeBio && wire == Wire::Duplex {
                continue; // the in-memory pipe always takes the custom BIO
            }
            let name = format!("memory/{}/{}", stack.name(), scenario.name());
            if !wanted(&name) {
                continue;
            }
            let fig =
                memory::measure(stack, scenario, pairs).map_err(|e| format!("{name}: {e}"))?;
            eprintln!("{name}: {:.0} bytes per pair", fig.total_per_pair());
            mem_rows.push(fig);
        }
    }
    let mem_in = |stack: Stack, scenario: memory::Scenario| {
        mem_rows
            .iter()
            .find(|r| r.stack == stack && r.scenario == scenario)
            .map(|r| r.total_per_pair())
    };
    let mut mem_json = Vec::new();
    if !mem_rows.is_empty() {
        println!(
            "## Memory per idle connection pair (client + server), {} pairs, each stack and \
             scenario in a fresh process\n",
            fmt_int(pairs as f64)
        );
        println!(
            "| stack | transport | idle after | OpenSSL bytes | Rust heap bytes | total bytes | allocations made | × rust-openssl | × rustls |"
        );
        println!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        for r in &mem_rows {
            let n = r.pairs as f64;
            let total = r.total_per_pair();
            let vs_ossl = ratio(total, mem_in(Stack::OpenSsl, r.scenario));
            let vs_rustls = ratio(total, mem_in(Stack::Rustls, r.scenario));
            println!(
                "| {} | {} | {} | {} | {} | {} | {:.1} | {} | {} |",
                stack_label(r.stack, r.scenario.wire),
                r.scenario.wire.name(),
                if r.scenario.after_transfer {
                    "a 16 KiB transfer"
                } else {
                    "the handshake"
                },
                fmt_int(r.openssl_bytes / n),
                fmt_int(r.rust_bytes / n),
                fmt_int(total),
                (r.openssl_allocations + r.rust_allocations) / n,
                fmt_ratio(vs_ossl),
                fmt_ratio(vs_rustls)
            );
            mem_json.push(json!({
                "stack": r.stack.name(),
                "scenario": r.scenario.name(),
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
             a counting global allocator; the in-memory pipe's own buffers are not counted. Idle \
             after the handshake: the server has written one byte, which the client has read; \
             after a 16 KiB transfer: then the client has written 16 KiB (one record), which \
             the server has read.\n"
        );
    }

    // Transport calls.
    let mut call_rows = Vec::new();
    for stack in [Stack::Sslbridge, Stack::OpenSsl, Stack::Rustls] {
        let name = format!("calls/{}", stack.name());
        if !wanted(&name) {
            continue;
        }
        let fig = measure::transport_calls(configs, stack, plan.call_records)
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

    Ok(MemoryAndCalls {
        mem_rows,
        mem_json,
        call_rows,
        calls_json,
    })
}

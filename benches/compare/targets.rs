//! The targets of the speed issue, checked against the figures of the run.

use crate::bulk::{Bulk, BulkRow};
use crate::handshakes::Handshakes;
use crate::measure::{Shape, Wire, RECORD};
use crate::memory;
use crate::memory_rows::MemoryAndCalls;
use crate::stacks::{Groups, Stack};
use crate::{fmt_int, fmt_ratio, ratio, stack_label, Ctx, KIB};
use serde_json::json;

/// Prints the targets table and returns its JSON.
pub fn section(
    ctx: &Ctx,
    bulk: &Bulk,
    hs: &Handshakes,
    mc: &MemoryAndCalls,
) -> Vec<serde_json::Value> {
    let vendored = ctx.vendored;
    let bulk_rows = &bulk.rows;
    let limit = bulk.limit;
    let bulk_of = |stack: Stack, wire: Wire, shape: Shape| bulk.of(stack, wire, shape);
    let hs_of = |stack: Stack, resumed: bool, groups: Groups| hs.of(stack, resumed, groups);
    let mem_rows = &mc.mem_rows;
    let mem_in = |stack: Stack, scenario: memory::Scenario| mc.mem_in(stack, scenario);
    let idle_duplex = memory::Scenario {
        after_transfer: false,
        wire: Wire::Duplex,
    };
    let mem_of = |stack: Stack| mem_in(stack, idle_duplex);
    let call_rows = &mc.call_rows;
    // Targets.
    let mut targets = Vec::new();
    let mut target = |name: String, figure: String, met: Option<bool>, note: &str| {
        targets.push((name, figure, met, note.to_string()));
    };
    // The plain rows (16 KiB and 1 KiB writes, 16 KiB reads) and the new ones (64 KiB reads,
    // vectored writes) have targets of their own.
    let is_plain = |shape: Shape| shape.header == 0 && shape.read == RECORD;
    let sb_rows = |plain: bool| -> Vec<&BulkRow> {
        bulk_rows
            .iter()
            .filter(|r| matches!(r.stack, Stack::Sslbridge | Stack::SslbridgeBio))
            .filter(|r| is_plain(r.shape) == plain)
            .collect()
    };
    let vs = |r: &BulkRow, other: Stack| ratio(r.fig.mbps(), bulk_of(other, r.wire, r.shape));
    let worst = |rows: &[&BulkRow], other: Stack| {
        rows.iter()
            .filter_map(|r| {
                vs(r, other).map(|x| {
                    let row = format!(
                        "{} {} {}",
                        stack_label(r.stack, r.wire),
                        r.wire.name(),
                        r.shape.label()
                    );
                    (x, row)
                })
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
    };
    let failing = |rows: &[&BulkRow], other: Stack, bound: f64, strict: bool| {
        rows.iter()
            .filter(|r| {
                let x = vs(r, other).unwrap_or(0.0);
                if strict {
                    x <= bound
                } else {
                    x < bound
                }
            })
            .count()
    };
    // Rows whose every round was below `bound` × rust-openssl's round next to it (`strict`:
    // at or below): behind beyond the machine's noise, not by the draw of the median.
    let every_round = |rows: &[&BulkRow], bound: f64, strict: bool| {
        rows.iter()
            .filter(|r| {
                let hi = bulk
                    .round_ratios(r, Stack::OpenSsl)
                    .as_deref()
                    .and_then(crate::bulk::min_max)
                    .map_or(0.0, |(_, hi)| hi);
                if strict {
                    hi <= bound
                } else {
                    hi < bound
                }
            })
            .count()
    };
    let plain_rows = sb_rows(true);
    let new_rows = sb_rows(false);
    if let Some((w, row)) = worst(&plain_rows, Stack::OpenSsl) {
        target(
            "sslbridge bulk ≥ 1.00 × rust-openssl, every transport, 16 KiB and 1 KiB, both paths"
                .into(),
            format!(
                "worst {w:.2} ({row}); {} of {} rows below, {} in every round",
                failing(&plain_rows, Stack::OpenSsl, 1.0, false),
                plain_rows.len(),
                every_round(&plain_rows, 1.0, false)
            ),
            Some(w >= 1.0),
            "",
        );
    }
    if let Some((w, row)) = worst(&new_rows, Stack::OpenSsl) {
        target(
            "sslbridge > 1.00 × rust-openssl with 64 KiB reads and with vectored writes".into(),
            format!(
                "worst {w:.2} ({row}); {} of {} rows not ahead, {} in no round",
                failing(&new_rows, Stack::OpenSsl, 1.0, true),
                new_rows.len(),
                every_round(&new_rows, 1.0, true)
            ),
            Some(w > 1.0),
            "",
        );
    }
    if let Some((w, row)) = worst(&plain_rows, Stack::Rustls) {
        target(
            "sslbridge bulk ≥ 1.00 × rustls, every transport, 16 KiB and 1 KiB".into(),
            format!(
                "worst {w:.2} ({row}); {} of {} rows below",
                failing(&plain_rows, Stack::Rustls, 1.0, false),
                plain_rows.len()
            ),
            Some(w >= 1.0),
            if vendored {
                ""
            } else {
                "the target is set for the vendored build"
            },
        );
    }
    let duplex_16k = Shape::plain(16 * KIB);
    if let (Some(b), Some(l)) = (bulk_of(Stack::Sslbridge, Wire::Duplex, duplex_16k), limit) {
        let o = bulk_of(Stack::OpenSsl, Wire::Duplex, duplex_16k);
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
    let after: Vec<(String, f64)> = mem_rows
        .iter()
        .filter(|r| r.scenario.after_transfer)
        .filter(|r| matches!(r.stack, Stack::Sslbridge | Stack::SslbridgeBio))
        .filter_map(|r| {
            let o = mem_in(Stack::OpenSsl, r.scenario)?;
            let row = format!(
                "{} {}",
                stack_label(r.stack, r.scenario.wire),
                r.scenario.wire.name()
            );
            Some((row, r.total_per_pair() / o))
        })
        .collect();
    if let Some((row, w)) = after.iter().max_by(|a, b| a.1.total_cmp(&b.1)) {
        target(
            "memory per idle pair after a 16 KiB transfer ≤ rust-openssl".into(),
            format!("worst {w:.2} ({row})"),
            Some(*w <= 1.0),
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

    targets_json
}

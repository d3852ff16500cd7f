//! The bulk-transfer rows: every stack over every transport in every message shape, in
//! interleaved rounds, and the seal limit they are compared with.

use crate::measure::{self, Shape, Wire};
use crate::stacks::{BoxError, Stack};
use crate::{fmt_int, fmt_ratio, median_by, ratio, stack_label, Ctx, SHAPES};
use serde_json::json;

/// One stack's figure in one (transport, shape) group.
pub struct BulkRow {
    pub stack: Stack,
    pub wire: Wire,
    pub shape: Shape,
    /// The median round.
    pub fig: measure::BulkFigure,
    /// MB/s of every round.
    pub rounds: Vec<f64>,
}

/// What the bulk section measured.
pub struct Bulk {
    pub rows: Vec<BulkRow>,
    /// The seal limit (best sample), when measured.
    pub limit: Option<f64>,
    pub limit_samples: Vec<f64>,
    pub json: Vec<serde_json::Value>,
}

impl Bulk {
    /// The MB/s of `stack` in the (`wire`, `shape`) group.
    pub fn of(&self, stack: Stack, wire: Wire, shape: Shape) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.stack == stack && r.wire == wire && r.shape == shape)
            .map(|r| r.fig.mbps())
    }

    /// `row`'s MB/s ÷ `other`'s, round by round (the rounds of a group are interleaved, so
    /// round i of both ran at about the same time): how far the machine's noise moves the
    /// ratio.
    pub fn round_ratios(&self, row: &BulkRow, other: Stack) -> Option<Vec<f64>> {
        let theirs = self
            .rows
            .iter()
            .find(|r| r.stack == other && r.wire == row.wire && r.shape == row.shape)?;
        Some(
            row.rounds
                .iter()
                .zip(&theirs.rounds)
                .map(|(a, b)| a / b)
                .collect(),
        )
    }
}

/// The smallest and largest of `xs`.
pub fn min_max(xs: &[f64]) -> Option<(f64, f64)> {
    let min = xs.iter().copied().reduce(f64::min)?;
    let max = xs.iter().copied().reduce(f64::max)?;
    Some((min, max))
}

/// Runs the bulk rows (and the limit) and prints their tables.
pub fn section(ctx: &Ctx) -> Result<Bulk, BoxError> {
    let plan = &ctx.plan;
    let wanted = &ctx.wanted;
    let configs = &ctx.configs;
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
                Stack::SslbridgeNoReadAhead,
                Stack::OpenSsl,
                Stack::Rustls,
            ],
        ),
    ]
    .into_iter()
    .filter(|(wire, _)| cfg!(unix) || *wire != Wire::Unix)
    .collect();
    // Each (transport, shape) group runs its stacks in interleaved rounds, so a burst of
    // load from elsewhere on the machine hits all of them alike; the median round counts.
    // Round i of every stack is its i-th run, whatever the order within the round.
    let amount = ctx.amount;
    for (wire, stacks) in &bulk_plan {
        for shape in SHAPES {
            let names: Vec<(Stack, String)> = stacks
                .iter()
                .map(|&stack| {
                    let name = format!("bulk/{}/{}/{}", stack.name(), wire.name(), shape.name());
                    (stack, name)
                })
                .filter(|(_, name)| wanted(name))
                .collect();
            let mut rounds: Vec<Vec<measure::BulkFigure>> =
                names.iter().map(|_| Vec::new()).collect();
            for round in 0..plan.rounds {
                if measure_limit && *wire == Wire::Duplex && !names.is_empty() {
                    limit_samples.push(measure::seal_limit(plan.limit)?);
                }
                for ((stack, name), figs) in
                    crate::in_turn(names.iter().zip(rounds.iter_mut()), round)
                {
                    let fig = measure::bulk(configs, *stack, *wire, shape, amount)
                        .map_err(|e| format!("{name}: {e}"))?;
                    let (sender, receiver) = fig.cpu_per_mb();
                    eprintln!(
                        "{name}: {:.0} MB/s (CPU µs per MB: sender {sender:.0}, receiver \
                         {receiver:.0}; {:.2} messages per read)",
                        fig.mbps(),
                        fig.bytes as f64 / shape.message() as f64 / fig.reads.max(1) as f64
                    );
                    figs.push(fig);
                }
            }
            for ((stack, _), figs) in names.into_iter().zip(rounds) {
                let all: Vec<f64> = figs.iter().map(|f| f.mbps()).collect();
                let fig = median_by(figs, |f| f.mbps()).ok_or("no rounds")?;
                bulk_rows.push(BulkRow {
                    stack,
                    wire: *wire,
                    shape,
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
    let bulk = Bulk {
        rows: bulk_rows,
        limit,
        limit_samples,
        json: Vec::new(),
    };
    let bulk_of = |stack: Stack, wire: Wire, shape: Shape| bulk.of(stack, wire, shape);
    let mut bulk_json = Vec::new();
    if !bulk.rows.is_empty() {
        println!("## Bulk transfer, client thread → server thread\n");
        println!(
            "| stack | transport | messages | MB/s | × rust-openssl | × rust-openssl by round \
             | × rustls | × limit | CPU µs/MB sender + receiver | messages per read |"
        );
        println!("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for r in &bulk.rows {
            let mbps = r.fig.mbps();
            let vs_ossl = ratio(mbps, bulk_of(Stack::OpenSsl, r.wire, r.shape));
            let vs_rustls = ratio(mbps, bulk_of(Stack::Rustls, r.wire, r.shape));
            let vs_limit = ratio(mbps, limit);
            let (cpu_sender, cpu_receiver) = r.fig.cpu_per_mb();
            let per_read =
                r.fig.bytes as f64 / r.shape.message() as f64 / r.fig.reads.max(1) as f64;
            let by_round = bulk.round_ratios(r, Stack::OpenSsl);
            let spread = match by_round.as_deref().and_then(min_max) {
                Some((lo, hi)) if r.stack != Stack::OpenSsl => format!("{lo:.2}–{hi:.2}"),
                _ => "—".into(),
            };
            println!(
                "| {} | {} | {} | {} | {} | {spread} | {} | {} | {} + {} | {per_read:.1} |",
                stack_label(r.stack, r.wire),
                r.wire.name(),
                r.shape.label(),
                fmt_int(mbps),
                fmt_ratio(vs_ossl),
                fmt_ratio(vs_rustls),
                fmt_ratio(vs_limit),
                fmt_int(cpu_sender),
                fmt_int(cpu_receiver),
            );
            bulk_json.push(json!({
                "stack": r.stack.name(),
                "transport": r.wire.name(),
                "shape": r.shape.name(),
                "write_bytes": r.shape.write,
                "header_bytes": r.shape.header,
                "read_buffer_bytes": r.shape.read,
                "mb_per_s": mbps,
                "bytes": r.fig.bytes,
                "seconds": r.fig.seconds,
                "fd_fast_path": r.fig.fd_fast_path,
                "sender_cpu_us_per_mb": cpu_sender,
                "receiver_cpu_us_per_mb": cpu_receiver,
                "reads": r.fig.reads,
                "rounds_mb_per_s": r.rounds,
                "ratio_to_rust_openssl": vs_ossl,
                "round_ratios_to_rust_openssl": by_round,
                "ratio_to_rustls": vs_rustls,
                "ratio_to_limit": vs_limit,
            }));
        }
        println!(
            "\nMB/s and the CPU figures are the median round's. CPU µs/MB: CPU time (user and \
             system) of the sending and the receiving thread per 10^6 bytes of plaintext; on a \
             loaded machine, where both threads share the cores with other work, throughput \
             follows their sum. Messages per read: the receiver's messages per `read` call \
             that returned data. × rust-openssl by round: the lowest and highest ratio of one \
             round to rust-openssl's round run next to it; a row is behind only where even \
             the highest is below 1.\n"
        );
    }

    Ok(Bulk {
        json: bulk_json,
        ..bulk
    })
}

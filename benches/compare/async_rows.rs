//! The "Async (tokio)" section's rows and tables (the measuring is in `asynch`).

use crate::asynch;
use crate::measure::Shape;
use crate::stacks::BoxError;
use crate::{fmt_int, fmt_ratio, median, median_by, ratio, Ctx, SHAPES};
use serde_json::json;

/// The "Async (tokio)" section: bulk transfer and handshakes of `sslbridge::tokio` and
/// tokio-openssl over `tokio::io::duplex` and loopback TCP, in interleaved rounds like the
/// blocking rows; prints its tables and returns its JSON (null when no row was wanted).
pub fn section(ctx: &Ctx) -> Result<serde_json::Value, BoxError> {
    let plan = &ctx.plan;
    let wanted = &ctx.wanted;
    let configs = &ctx.configs;
    let amount = ctx.amount;
    use asynch::{AsyncStack, AsyncWire};
    const STACKS: [AsyncStack; 2] = [AsyncStack::Sslbridge, AsyncStack::TokioOpenssl];
    const WIRES: [AsyncWire; 2] = [AsyncWire::Duplex, AsyncWire::Tcp];
    let rt = asynch::runtime()?;

    // Bulk transfer: each (transport, shape) group in interleaved rounds.
    let mut bulk_rows = Vec::new();
    for wire in WIRES {
        for shape in SHAPES {
            let names: Vec<(AsyncStack, String)> = STACKS
                .iter()
                .map(|&stack| {
                    let name = format!(
                        "async/bulk/{}/{}/{}",
                        stack.name(),
                        wire.name(),
                        shape.name()
                    );
                    (stack, name)
                })
                .filter(|(_, name)| wanted(name))
                .collect();
            let mut rounds: Vec<Vec<f64>> = names.iter().map(|_| Vec::new()).collect();
            for round in 0..plan.rounds {
                for ((stack, name), figs) in
                    crate::in_turn(names.iter().zip(rounds.iter_mut()), round)
                {
                    let fig = asynch::bulk(&rt, configs, *stack, wire, shape, amount)
                        .map_err(|e| format!("{name}: {e}"))?;
                    eprintln!(
                        "{name}: {:.0} MB/s ({:.2} messages per read)",
                        fig.mbps(),
                        fig.bytes as f64 / shape.message() as f64 / fig.reads.max(1) as f64
                    );
                    figs.push(fig.mbps());
                }
            }
            for ((stack, _), all) in names.into_iter().zip(rounds) {
                let mid = median(&all).ok_or("no rounds")?;
                bulk_rows.push((stack, wire, shape, mid, all));
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
    for round in 0..plan.rounds {
        for (stack, wire, resumed, name, count, figs) in crate::in_turn(hs_jobs.iter_mut(), round) {
            let fig = asynch::handshakes(&rt, configs, *stack, *wire, *resumed, *count)
                .map_err(|e| format!("{name}: {e}"))?;
            eprintln!("{name}: {:.0}/s ({})", fig.per_second(), fig.negotiated);
            figs.push(fig);
        }
    }
    let mut hs_rows = Vec::new();
    for (stack, wire, resumed, _, _, figs) in hs_jobs {
        let all: Vec<f64> = figs.iter().map(|f| f.per_second()).collect();
        let fig = median_by(figs, |f| f.per_second()).ok_or("no rounds")?;
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
    let bulk_of = |stack: AsyncStack, wire: AsyncWire, shape: Shape| {
        bulk_rows
            .iter()
            .find(|r| r.0 == stack && r.1 == wire && r.2 == shape)
            .map(|r| r.3)
    };
    let mut bulk_json = Vec::new();
    if !bulk_rows.is_empty() {
        println!("### Bulk transfer, client task → server task\n");
        println!("| stack | transport | messages | MB/s | × tokio-openssl |");
        println!("| --- | --- | --- | ---: | ---: |");
        for (stack, wire, shape, mbps, all) in &bulk_rows {
            let vs = ratio(*mbps, bulk_of(AsyncStack::TokioOpenssl, *wire, *shape));
            println!(
                "| {} | {} | {} | {} | {} |",
                stack.name(),
                wire.name(),
                shape.label(),
                fmt_int(*mbps),
                fmt_ratio(vs)
            );
            bulk_json.push(json!({
                "stack": stack.name(),
                "transport": wire.name(),
                "shape": shape.name(),
                "write_bytes": shape.write,
                "header_bytes": shape.header,
                "read_buffer_bytes": shape.read,
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

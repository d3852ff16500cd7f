//! The handshake rows: full and resumed handshakes per second over the in-memory pipe.

use crate::measure;
use crate::stacks::{BoxError, Groups, Stack};
use crate::{fmt_int, fmt_ratio, median_by, ratio, Ctx};
use serde_json::json;

/// One stack's handshake figure.
pub struct HandshakeRow {
    pub stack: Stack,
    pub resumed: bool,
    pub groups: Groups,
    /// The median round.
    pub fig: measure::HandshakeFigure,
    /// Handshakes per second of every round.
    pub rounds: Vec<f64>,
}

/// What the handshake section measured.
pub struct Handshakes {
    pub rows: Vec<HandshakeRow>,
    pub json: Vec<serde_json::Value>,
}

impl Handshakes {
    /// Handshakes per second of `stack`.
    pub fn of(&self, stack: Stack, resumed: bool, groups: Groups) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.stack == stack && r.resumed == resumed && r.groups == groups)
            .map(|r| r.fig.per_second())
    }
}

/// Runs the handshake rows and prints their table.
pub fn section(ctx: &Ctx) -> Result<Handshakes, BoxError> {
    let plan = &ctx.plan;
    let wanted = &ctx.wanted;
    let configs = &ctx.configs;
    let pq_supported = ctx.pq_configs.is_some();
    let pq_configs = &ctx.pq_configs;
    let sb_version = &ctx.sb_version;
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
    for round in 0..plan.rounds {
        for (stack, resumed, _, name, cfg, count, figs) in crate::in_turn(hs_jobs.iter_mut(), round)
        {
            let fig = measure::handshakes(cfg, *stack, *resumed, *count)
                .map_err(|e| format!("{name}: {e}"))?;
            eprintln!("{name}: {:.0}/s ({})", fig.per_second(), fig.negotiated);
            figs.push(fig);
        }
    }
    for (stack, resumed, groups, _, _, _, figs) in hs_jobs {
        let all: Vec<f64> = figs.iter().map(|f| f.per_second()).collect();
        let fig = median_by(figs, |f| f.per_second()).ok_or("no rounds")?;
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

    Ok(Handshakes {
        rows: hs_rows,
        json: hs_json,
    })
}

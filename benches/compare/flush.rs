//! The cost of flushing after every write: on the custom BIO with no output buffer, each
//! `write` that produces records flushes the transport before returning, so a transport that
//! buffers (a `BufWriter`, `Stdout`, a framing layer) never keeps them. Measured with 1 KiB
//! writes over a Unix socket: the socket itself (its flush does nothing), the same socket
//! behind a `BufWriter` (each flush is then the `write` system call that an unbuffered
//! transport would have made anyway), and that `BufWriter` with `output_buffer_size(16 KiB)`
//! (records gathered in sslbridge's buffer, written when it is full: no flush per write).

use crate::measure::{self, Shape};
use crate::stacks::{BoxError, Conn, Stack};
use crate::{fmt_int, fmt_ratio, median_by, ratio, Ctx, KIB};
use serde_json::json;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::net::UnixStream;

/// A Unix socket whose writes go through a `BufWriter` (8 KiB, the default).
struct Buffered {
    read: UnixStream,
    write: BufWriter<UnixStream>,
}

impl Read for Buffered {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read.read(buf)
    }
}

impl Write for Buffered {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.write.flush()
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Socket,
    BufWriter,
    BufWriterOutputBuffer,
}

impl Variant {
    const ALL: [Variant; 3] = [
        Variant::Socket,
        Variant::BufWriter,
        Variant::BufWriterOutputBuffer,
    ];

    fn name(self) -> &'static str {
        match self {
            Variant::Socket => "flush/unix",
            Variant::BufWriter => "flush/unix-bufwriter",
            Variant::BufWriterOutputBuffer => "flush/unix-bufwriter-output-buffer",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Variant::Socket => "`UnixStream` (flush does nothing), flushed after every write",
            Variant::BufWriter => "`BufWriter<UnixStream>`, flushed after every write",
            Variant::BufWriterOutputBuffer => {
                "`BufWriter<UnixStream>`, `output_buffer_size(16 KiB)`: no flush per write"
            }
        }
    }
}

/// One round of `variant`: sslbridge through the custom BIO on both ends.
fn one(ctx: &Ctx, variant: Variant, shape: Shape) -> Result<measure::BulkFigure, BoxError> {
    let (c, s) = UnixStream::pair()?;
    let configs = &ctx.configs;
    let options = configs.sb_client_options(None).unwrap_fd(false);
    match variant {
        Variant::Socket => {
            measure::bulk_with(configs, Stack::SslbridgeBio, c, s, shape, ctx.amount, |c| {
                Ok(Box::new(options.connect(c)?) as Box<dyn Conn>)
            })
        }
        Variant::BufWriter | Variant::BufWriterOutputBuffer => {
            let transport = Buffered {
                read: c.try_clone()?,
                write: BufWriter::new(c),
            };
            let options = if variant == Variant::BufWriterOutputBuffer {
                options.output_buffer_size(16 * KIB)
            } else {
                options
            };
            measure::bulk_with(
                configs,
                Stack::SslbridgeBio,
                transport,
                s,
                shape,
                ctx.amount,
                |c| Ok(Box::new(options.connect(c)?) as Box<dyn Conn>),
            )
        }
    }
}

/// Runs the flush rows in interleaved rounds and prints their table.
pub fn section(ctx: &Ctx) -> Result<Vec<serde_json::Value>, BoxError> {
    let shape = Shape::plain(KIB);
    let variants: Vec<Variant> = Variant::ALL
        .into_iter()
        .filter(|v| (ctx.wanted)(v.name()))
        .collect();
    if variants.is_empty() {
        return Ok(Vec::new());
    }
    let mut rounds: Vec<Vec<measure::BulkFigure>> = variants.iter().map(|_| Vec::new()).collect();
    for _ in 0..ctx.plan.rounds {
        for (v, figs) in variants.iter().zip(rounds.iter_mut()) {
            let fig = one(ctx, *v, shape).map_err(|e| format!("{}: {e}", v.name()))?;
            eprintln!("{}: {:.0} MB/s", v.name(), fig.mbps());
            figs.push(fig);
        }
    }
    let mut rows = Vec::new();
    for (v, figs) in variants.into_iter().zip(rounds) {
        let all: Vec<f64> = figs.iter().map(|f| f.mbps()).collect();
        rows.push((v, median_by(figs, |f| f.mbps()).ok_or("no rounds")?, all));
    }
    let base = rows
        .iter()
        .find(|r| r.0 == Variant::Socket)
        .map(|r| r.1.mbps());
    println!("## Flushing after every write (custom BIO, Unix socket, 1 KiB writes)\n");
    println!("| client transport | MB/s | × plain socket | sender CPU µs/MB |");
    println!("| --- | ---: | ---: | ---: |");
    let mut json = Vec::new();
    for (v, fig, all) in &rows {
        let vs = ratio(fig.mbps(), base);
        let (sender, _) = fig.cpu_per_mb();
        println!(
            "| {} | {} | {} | {} |",
            v.label(),
            fmt_int(fig.mbps()),
            fmt_ratio(vs),
            fmt_int(sender)
        );
        json.push(json!({
            "row": v.name(),
            "mb_per_s": fig.mbps(),
            "rounds_mb_per_s": all,
            "ratio_to_plain_socket": vs,
            "sender_cpu_us_per_mb": sender,
        }));
    }
    println!(
        "\nsslbridge on both ends, through the custom BIO; the server reads a plain socket. \
         With no output buffer every `write` flushes the transport once its records are \
         written (so a buffering transport never keeps them); with `output_buffer_size` the \
         records wait in sslbridge's buffer until it is full or `flush` is called.\n"
    );
    Ok(json)
}

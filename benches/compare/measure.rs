//! The timed measurements: the AES-GCM limit, bulk transfer, handshakes and transport calls.

use crate::stacks::{BoxError, Configs, Conn, Stack, Ticket};
use openssl::cipher::Cipher;
use openssl::cipher_ctx::CipherCtx;
use sslbridge::Transport;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const RECORD: usize = 16 * 1024;
/// Capacity of each direction of the in-memory pipe for bulk transfer (about a socket
/// buffer's worth).
pub const PIPE_CAPACITY: usize = 256 * 1024;

/// The limit: AES-128-GCM sealing of 16 KiB TLS 1.3 records (16,384 bytes of plaintext plus
/// the inner content type, 5 bytes of additional data, 16-byte tag) through EVP on one
/// thread, with the context set up once and a fresh nonce per record, as a TLS stack does.
/// Returns plaintext MB/s (10^6 bytes).
pub fn seal_limit(duration: Duration) -> Result<f64, BoxError> {
    let key = [7u8; 16];
    let mut iv = [9u8; 12];
    let mut ctx = CipherCtx::new()?;
    ctx.encrypt_init(Some(Cipher::aes_128_gcm()), Some(&key), Some(&iv))?;
    let plaintext = vec![0x5au8; RECORD + 1];
    let mut out = vec![0u8; RECORD + 1 + 32];
    let mut tag = [0u8; 16];
    let aad = [23u8, 3, 3, 0x40, 0x11];
    let mut seal = |seq: u64| -> Result<(), BoxError> {
        iv[4..].copy_from_slice(&seq.to_be_bytes());
        ctx.encrypt_init(None, None, Some(&iv))?;
        ctx.cipher_update(&aad, None)?;
        let n = ctx.cipher_update(&plaintext, Some(&mut out))?;
        ctx.cipher_final(&mut out[n..])?;
        ctx.tag(&mut tag)?;
        Ok(())
    };
    for seq in 0..64 {
        seal(seq)?;
    }
    let start = Instant::now();
    let mut records = 0u64;
    while start.elapsed() < duration {
        for _ in 0..64 {
            seal(records)?;
            records += 1;
        }
    }
    std::hint::black_box(&out);
    Ok(records as f64 * RECORD as f64 / start.elapsed().as_secs_f64() / 1e6)
}

/// Which byte stream carries a bulk transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Duplex,
    Unix,
    Tcp,
}

impl Wire {
    pub fn name(self) -> &'static str {
        match self {
            Wire::Duplex => "duplex",
            Wire::Unix => "unix",
            Wire::Tcp => "tcp",
        }
    }
}

pub struct BulkFigure {
    pub bytes: u64,
    pub seconds: f64,
    pub fd_fast_path: bool,
}

impl BulkFigure {
    pub fn mbps(&self) -> f64 {
        self.bytes as f64 / self.seconds / 1e6
    }
}

/// Client thread writes `write`-byte chunks for `duration`, then sends close_notify; the
/// server thread reads with a 16 KiB buffer until the close_notify and times from its first
/// byte to the end.
pub fn bulk(
    configs: &Arc<Configs>,
    stack: Stack,
    wire: Wire,
    write: usize,
    duration: Duration,
) -> Result<BulkFigure, BoxError> {
    match wire {
        Wire::Duplex => {
            let (c, s) = sslbridge::duplex(PIPE_CAPACITY);
            bulk_over(configs, stack, c, s, write, duration)
        }
        #[cfg(unix)]
        Wire::Unix => {
            let (c, s) = UnixStream::pair()?;
            bulk_over(configs, stack, c, s, write, duration)
        }
        #[cfg(not(unix))]
        Wire::Unix => Err("Unix-domain sockets exist only on Unix".into()),
        Wire::Tcp => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let c = TcpStream::connect(listener.local_addr()?)?;
            let (s, _) = listener.accept()?;
            c.set_nodelay(true)?;
            s.set_nodelay(true)?;
            bulk_over(configs, stack, c, s, write, duration)
        }
    }
}

fn bulk_over<T: Transport + Send + 'static>(
    configs: &Arc<Configs>,
    stack: Stack,
    client: T,
    server: T,
    write: usize,
    duration: Duration,
) -> Result<BulkFigure, BoxError> {
    let server_configs = configs.clone();
    let receiver = std::thread::spawn(move || -> Result<(u64, f64), BoxError> {
        let mut conn = server_configs.accept(stack, server)?;
        let mut buf = vec![0u8; RECORD];
        let mut total = 0u64;
        let mut first: Option<Instant> = None;
        loop {
            let n = conn.read(&mut buf)?;
            if n == 0 {
                break;
            }
            first.get_or_insert_with(Instant::now);
            total += n as u64;
        }
        let seconds = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
        drop(conn);
        Ok((total, seconds))
    });
    let mut conn = configs.connect(stack, client, None, false)?;
    let fd_fast_path = conn.uses_fd_fast_path();
    let chunk: Vec<u8> = (0..write).map(|i| i as u8).collect();
    let start = Instant::now();
    while start.elapsed() < duration {
        for _ in 0..16 {
            conn.write_all(&chunk)?;
        }
    }
    conn.flush()?;
    conn.close_notify()?;
    let (bytes, seconds) = receiver.join().map_err(|_| "receiver panicked")??;
    drop(conn);
    Ok(BulkFigure {
        bytes,
        seconds,
        fd_fast_path,
    })
}

pub struct HandshakeFigure {
    pub count: usize,
    pub seconds: f64,
    pub negotiated: String,
}

impl HandshakeFigure {
    pub fn per_second(&self) -> f64 {
        self.count as f64 / self.seconds
    }
}

/// `count` handshakes one after another over fresh in-memory pipes, client on this thread,
/// server on another. After its handshake the server writes one byte, which the client reads
/// (so it has processed the session tickets); then both drop their end. `resumed` offers the
/// session from the previous connection each time, and checks that it was taken.
pub fn handshakes(
    configs: &Arc<Configs>,
    stack: Stack,
    resumed: bool,
    count: usize,
) -> Result<HandshakeFigure, BoxError> {
    let (to_server, inbox) = std::sync::mpsc::sync_channel::<sslbridge::MemoryPipe>(4);
    let server_configs = configs.clone();
    let server = std::thread::spawn(move || -> Result<(), BoxError> {
        for pipe in inbox {
            let mut conn = server_configs.accept(stack, pipe)?;
            conn.write_all(b"x")?;
            conn.flush()?;
        }
        Ok(())
    });
    let result = (|| -> Result<HandshakeFigure, BoxError> {
        let connect_once = |ticket: Option<&Ticket>| -> Result<Box<dyn Conn>, BoxError> {
            let (c, s) = sslbridge::duplex(64 * 1024);
            to_server.send(s)?;
            let mut conn = configs.connect(stack, c, ticket, resumed)?;
            let mut byte = [0u8; 1];
            conn.read_exact(&mut byte)?;
            conn.keep_session_on_drop();
            Ok(conn)
        };
        let first = connect_once(None)?;
        let negotiated = first.negotiated();
        let mut ticket = if resumed { first.ticket() } else { None };
        drop(first);
        let start = Instant::now();
        for _ in 0..count {
            let conn = connect_once(ticket.as_ref())?;
            if resumed {
                if !conn.resumed() {
                    return Err(format!("{}: the session was not resumed", stack.name()).into());
                }
                ticket = conn.ticket().or(ticket);
            }
        }
        Ok(HandshakeFigure {
            count,
            seconds: start.elapsed().as_secs_f64(),
            negotiated,
        })
    })();
    drop(to_server);
    server.join().map_err(|_| "server panicked")??;
    result
}

/// Counts the calls a stack makes on its transport.
#[derive(Default)]
pub struct Counts {
    pub reads: AtomicU64,
    pub writes: AtomicU64,
    pub flushes: AtomicU64,
}

pub struct Counting<T> {
    inner: T,
    counts: Arc<Counts>,
}

impl<T: Read> Read for Counting<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.counts.reads.fetch_add(1, Relaxed);
        self.inner.read(buf)
    }
}

impl<T: Write> Write for Counting<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.counts.writes.fetch_add(1, Relaxed);
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.counts.flushes.fetch_add(1, Relaxed);
        self.inner.flush()
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Calls {
    pub reads: u64,
    pub writes: u64,
    pub flushes: u64,
}

impl Calls {
    fn of(c: &Counts) -> Calls {
        Calls {
            reads: c.reads.load(Relaxed),
            writes: c.writes.load(Relaxed),
            flushes: c.flushes.load(Relaxed),
        }
    }
    fn minus(self, o: Calls) -> Calls {
        Calls {
            reads: self.reads - o.reads,
            writes: self.writes - o.writes,
            flushes: self.flushes - o.flushes,
        }
    }
}

pub struct CallFigure {
    pub records: u64,
    /// Sender's transport calls during the transfer.
    pub sender: Calls,
    /// Receiver's transport calls during the transfer.
    pub receiver: Calls,
    /// For sslbridge: whether `transport_stats()` equals the wrapper's totals on both sides.
    pub sslbridge_stats_agree: Option<bool>,
}

/// `records` 16 KiB writes from client to server over a counting in-memory pipe; the server
/// reads with a 16 KiB buffer. Counts cover the transfer only (not the handshake).
pub fn transport_calls(
    configs: &Arc<Configs>,
    stack: Stack,
    records: u64,
) -> Result<CallFigure, BoxError> {
    let (c, s) = sslbridge::duplex(PIPE_CAPACITY);
    let (cc, sc) = (Arc::new(Counts::default()), Arc::new(Counts::default()));
    let client_t = Counting {
        inner: c,
        counts: cc.clone(),
    };
    let server_t = Counting {
        inner: s,
        counts: sc.clone(),
    };
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let server_configs = configs.clone();
    let server_counts = sc.clone();
    let receiver = std::thread::spawn(
        move || -> Result<(Calls, Calls, Option<sslbridge::TransportStats>), BoxError> {
            let mut conn = server_configs.accept(stack, server_t)?;
            ready_tx.send(())?;
            let base = Calls::of(&server_counts);
            let mut buf = vec![0u8; RECORD];
            let mut left = records * RECORD as u64;
            while left > 0 {
                let n = conn.read(&mut buf)?;
                if n == 0 {
                    return Err("early EOF".into());
                }
                left -= n as u64;
            }
            let total = Calls::of(&server_counts);
            let stats = conn.sslbridge_stats();
            done_tx.send(())?;
            Ok((total.minus(base), total, stats))
        },
    );
    let mut conn = configs.connect(stack, client_t, None, false)?;
    ready_rx.recv()?;
    let base = Calls::of(&cc);
    let chunk = vec![0x42u8; RECORD];
    for _ in 0..records {
        conn.write_all(&chunk)?;
    }
    conn.flush()?;
    done_rx.recv()?;
    let client_total = Calls::of(&cc);
    let client_stats = conn.sslbridge_stats();
    let (receiver_calls, server_total, server_stats) =
        receiver.join().map_err(|_| "receiver panicked")??;
    let agree = |stats: Option<sslbridge::TransportStats>, c: Calls| {
        stats.map(|s| s.reads == c.reads && s.writes == c.writes && s.flushes == c.flushes)
    };
    let sslbridge_stats_agree = match (
        agree(client_stats, client_total),
        agree(server_stats, server_total),
    ) {
        (Some(a), Some(b)) => Some(a && b),
        _ => None,
    };
    drop(conn);
    Ok(CallFigure {
        records,
        sender: client_total.minus(base),
        receiver: receiver_calls,
        sslbridge_stats_agree,
    })
}

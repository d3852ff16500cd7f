//! `transport_chaos`: a real client and server over two [`ChaosTransport`]s scripted by the
//! input.

use super::reseed;
use super::scenarios::{client_context, server_context, SCENARIOS};
use super::CLIENT_SEED;
use sslbridge::testing::{ChaosPlan, ChaosStats, ChaosTransport};
use sslbridge::{ClientOptions, Error, MemoryPipe, Protocol, ServerOptions, SslStream, Verify};
use std::io::{Read, Write};

/// The scenarios (indices into [`SCENARIOS`]) whose configuration `transport_chaos` uses:
/// every one with a single connection that is meant to succeed (TLS 1.3 and 1.2, each key,
/// suite and group set-up, client certificates). The first four were the only ones once;
/// they keep their places so older inputs keep their meaning.
const CHAOS_SCENARIOS: [usize; 11] = [0, 2, 8, 10, 1, 3, 4, 7, 9, 11, 12];
/// The largest payload `transport_chaos` sends.
const CHAOS_MAX_PAYLOAD: usize = 8 * 1024;
/// Rounds without any progress before `transport_chaos` calls it a hang.
const STALL_LIMIT: u32 = 2000;

/// One side of `transport_chaos`, as a state machine driven one call at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Handshake,
    Write(usize),
    Shutdown,
    Read,
    Done,
}

type ChaosStream = SslStream<ChaosTransport<MemoryPipe>>;

struct Side {
    name: &'static str,
    tls: ChaosStream,
    phase: Phase,
    /// The client writes first and reads the echo; the server reads, then echoes.
    writes_first: bool,
    /// Asks the peer for a TLS 1.3 KeyUpdate once the handshake is done (sent with the next
    /// record this side writes; the peer answers with its own). Only with a payload to write:
    /// `SSL_key_update` puts the connection back "in init" until the message is out, and
    /// OpenSSL refuses `SSL_shutdown` in that state ("shutdown while in init").
    key_update: bool,
    received: Vec<u8>,
}

// libssl's `SSL_key_update` (TLS 1.3; not in openssl-sys).
extern "C" {
    fn SSL_key_update(
        ssl: *mut openssl_sys::SSL,
        update_type: std::os::raw::c_int,
    ) -> std::os::raw::c_int;
}
/// `SSL_KEY_UPDATE_REQUESTED`: the peer must update its keys too.
const SSL_KEY_UPDATE_REQUESTED: std::os::raw::c_int = 1;

/// What one call did.
enum Step {
    Progress,
    Blocked,
    Failed(Error),
}

impl Side {
    fn stats(&self) -> &ChaosStats {
        self.tls.get_ref().stats()
    }

    fn step(&mut self, payload: &[u8]) -> Step {
        let mut buf = [0u8; 2048];
        let result: Result<(), Error> = match self.phase {
            Phase::Done => return Step::Blocked,
            Phase::Handshake => self.tls.handshake().map(|()| {
                if self.key_update && self.tls.protocol_version() == Some(Protocol::Tls1_3) {
                    // SAFETY: the stream's SSL is live and its handshake is done.
                    let ok = unsafe { SSL_key_update(self.tls.as_ptr(), SSL_KEY_UPDATE_REQUESTED) };
                    assert_eq!(ok, 1, "SSL_key_update after the handshake");
                }
                self.phase = if self.writes_first {
                    Phase::Write(0)
                } else {
                    Phase::Read
                };
            }),
            Phase::Write(off) if off == payload.len() => {
                self.phase = Phase::Shutdown;
                Ok(())
            }
            Phase::Write(off) => self
                .tls
                .write(&payload[off..])
                .map_err(Error::from)
                .map(|n| {
                    self.phase = Phase::Write(off + n);
                }),
            Phase::Shutdown => self.tls.shutdown().map(|()| {
                self.phase = if self.writes_first {
                    Phase::Read
                } else {
                    Phase::Done
                };
            }),
            Phase::Read => self.tls.read(&mut buf).map_err(Error::from).map(|n| {
                if n == 0 {
                    self.phase = if self.writes_first {
                        Phase::Done
                    } else {
                        Phase::Write(0)
                    };
                } else {
                    self.received.extend_from_slice(&buf[..n]);
                }
            }),
        };
        match result {
            Ok(()) => Step::Progress,
            Err(e) if e.is_would_block() => Step::Blocked,
            Err(e) => Step::Failed(e),
        }
    }

    /// Panics unless an injected fault explains `error`.
    fn check_explained(&self, error: &Error) {
        let stats = self.stats();
        let explained = match error {
            Error::Io(e) => stats.explains(e.kind()),
            Error::UnexpectedEof => stats.injected_read_eof(),
            _ => false,
        };
        assert!(
            explained,
            "{} failed with an error no fault explains: {error:?} (phase {:?}, injected {stats:?})",
            self.name, self.phase
        );
    }
}

/// Fuzz target `transport_chaos`: a real client and server, one thread, over in-memory pipes
/// each wrapped in a [`ChaosTransport`] scripted by the input. Layout: `[config] [client
/// script length] [server script length] [client script] [server script] [payload]`; the
/// top bits of the two length bytes (a length is at most 63) make the client, the server, or
/// both request a TLS 1.3 KeyUpdate after the handshake.
///
/// Asserts that the payload reaches the server once and in order and comes back the same
/// way, and that any failure is an error a script injected (with that `io::ErrorKind`, or an
/// unexpected EOF after an injected EOF); a run that stops making progress is a hang.
pub fn transport_chaos(data: &[u8]) {
    let at = |i: usize| data.get(i).copied().unwrap_or(0);
    let config = &SCENARIOS[CHAOS_SCENARIOS[usize::from(at(0)) % CHAOS_SCENARIOS.len()]];
    let (client_len, server_len) = (usize::from(at(1) % 64), usize::from(at(2) % 64));
    let rest = data.get(3..).unwrap_or(&[]);
    let (client_script, rest) = rest.split_at(client_len.min(rest.len()));
    let (server_script, payload) = rest.split_at(server_len.min(rest.len()));
    let payload = &payload[..payload.len().min(CHAOS_MAX_PAYLOAD)];

    let (Ok(client_ctx), Ok(server_ctx)) = (client_context(config), server_context(config)) else {
        panic!("the chaos contexts build");
    };
    reseed(CLIENT_SEED);
    let (mut client_end, mut server_end) = sslbridge::duplex(1 << 20);
    client_end.set_nonblocking(true);
    server_end.set_nonblocking(true);
    // The client verifies the server's chain and name (both valid), sends SNI and offers the
    // configuration's ALPN protocols: no fault may turn any of that into a failure either.
    let client = ClientOptions::new()
        .context(client_ctx)
        .verify(Verify::Required)
        .hostname(config.sni.unwrap_or("localhost"))
        .alpn_protocols(config.client_alpn)
        .start(ChaosPlan::from_bytes(client_script).wrap(client_end))
        .expect("client set-up");
    let server = ServerOptions::new()
        .context(server_ctx)
        .alpn_protocols(config.server_alpn)
        .start(ChaosTransport::from_bytes(server_end, server_script))
        .expect("server set-up");
    let mut sides = [
        Side {
            name: "client",
            tls: client,
            phase: Phase::Handshake,
            writes_first: true,
            key_update: at(1) & 0x40 != 0 && !payload.is_empty(),
            received: Vec::new(),
        },
        Side {
            name: "server",
            tls: server,
            phase: Phase::Handshake,
            writes_first: false,
            key_update: at(2) & 0x40 != 0 && !payload.is_empty(),
            received: Vec::new(),
        },
    ];

    let mut stalled = 0u32;
    while sides.iter().any(|s| s.phase != Phase::Done) {
        let moved_before: u64 = sides
            .iter()
            .map(|s| s.stats().bytes_read + s.stats().bytes_written)
            .sum();
        let mut progressed = false;
        for side in &mut sides {
            match side.step(payload) {
                Step::Progress => progressed = true,
                Step::Blocked => {}
                Step::Failed(e) => {
                    side.check_explained(&e);
                    return;
                }
            }
        }
        let moved_after: u64 = sides
            .iter()
            .map(|s| s.stats().bytes_read + s.stats().bytes_written)
            .sum();
        if progressed || moved_after != moved_before {
            stalled = 0;
        } else {
            stalled += 1;
            assert!(
                stalled < STALL_LIMIT,
                "hang: no progress (client {:?}, server {:?}; client chaos {:?}; server chaos {:?})",
                sides[0].phase,
                sides[1].phase,
                sides[0].stats(),
                sides[1].stats()
            );
        }
    }
    assert_eq!(
        sides[1].received, payload,
        "the server got the payload once, in order"
    );
    assert_eq!(
        sides[0].received, payload,
        "the client got the echo once, in order"
    );
}

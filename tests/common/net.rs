//! Sockets on 127.0.0.1: free ports, waiting for a server, listeners and connected pairs.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::thread;
use std::time::{Duration, Instant};

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Waits until something accepts connections on 127.0.0.1:`port`; false at the deadline or
/// if `alive` says the server died.
pub fn wait_for_port(port: u16, limit: Duration, mut alive: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while Instant::now() < end {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        if !alive() {
            return false;
        }
        thread::sleep(Duration::from_millis(25));
    }
    false
}

/// Gives a socket 10 s read and write timeouts (a stuck peer fails the test).
fn with_timeouts(s: TcpStream) -> io::Result<TcpStream> {
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    Ok(s)
}

/// Connects to 127.0.0.1:`port` with 10 s socket timeouts.
pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("connect");
    with_timeouts(s).unwrap()
}

/// A listener on 127.0.0.1 and its port.
pub fn listen() -> (TcpListener, u16) {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// Accepts one connection within `limit` (the listener is made non-blocking meanwhile), with
/// 10 s socket timeouts.
pub fn accept_within(listener: &TcpListener, limit: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let end = Instant::now() + limit;
    loop {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false)?;
                return with_timeouts(s);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < end => {
                thread::sleep(Duration::from_millis(5))
            }
            Err(e) => return Err(e),
        }
    }
}

/// A connected TCP pair on 127.0.0.1, without socket timeouts: (client end, server end).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let (listener, _) = listen();
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    (client, server)
}

/// A connected TCP pair on 127.0.0.1 with 10 s socket timeouts: (client end, server end).
pub fn tcp_pair_with_timeouts() -> (TcpStream, TcpStream) {
    let (listener, port) = listen();
    let client = connect(port);
    let server = accept_within(&listener, Duration::from_secs(5)).expect("accept");
    (client, server)
}

#[cfg(unix)]
pub fn unix_pair() -> (UnixStream, UnixStream) {
    UnixStream::pair().expect("socketpair")
}

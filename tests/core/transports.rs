//! Any `Read + Write` is a transport: borrowed ones (`&mut TcpStream`, `&TcpStream`), ones that
//! are not `Send`, and boxed ones; a stream is `Send` exactly when its transport is.

use crate::common::*;
use sslbridge::{ClientOptions, Error, MemoryPipe, ServerOptions, SslStream, Transport};
use std::io::{self, Read, Write};
use std::rc::Rc;
use std::thread;

/// A transport tied to its thread: a MemoryPipe with an `Rc` beside it (so it is not `Send`).
struct ThreadBound {
    pipe: MemoryPipe,
    _not_send: Rc<()>,
}

impl Read for ThreadBound {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.pipe.read(buf)
    }
}

impl Write for ThreadBound {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pipe.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.pipe.flush()
    }
}

/// Runs `client` and `server` (both non-blocking) on this one thread until both finished
/// their handshake.
fn pump_handshakes<A, B>(client: &mut SslStream<A>, server: &mut SslStream<B>) {
    let (mut c_done, mut s_done) = (false, false);
    for _ in 0..10_000 {
        for (done, result) in [
            (&mut c_done, client.handshake()),
            (&mut s_done, server.handshake()),
        ] {
            match result {
                Ok(()) => *done = true,
                Err(Error::WantRead | Error::WantWrite) => {}
                Err(e) => panic!("handshake: {e}"),
            }
        }
        if c_done && s_done {
            return;
        }
    }
    panic!("the handshakes did not finish");
}

#[test]
fn a_transport_that_is_not_send_works() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (mut c, mut s) = sslbridge::duplex(64 * 1024);
        c.set_nonblocking(true);
        s.set_nonblocking(true);
        let transport = ThreadBound {
            pipe: c,
            _not_send: Rc::new(()),
        };
        let mut client = ClientOptions::new()
            .hostname("localhost")
            .context(fx.client_context(None))
            .start(transport)
            .unwrap();
        let mut server = ServerOptions::new()
            .context(fx.server_context(None))
            .start(s)
            .unwrap();
        pump_handshakes(&mut client, &mut server);
        client.write_all(b"not Send, still TLS").unwrap();
        let mut got = [0u8; 19];
        let mut have = 0;
        while have < got.len() {
            match server.read(&mut got[have..]) {
                Ok(n) => have += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&got, b"not Send, still TLS");
        // The transport comes back as itself.
        let back: ThreadBound = client.into_inner();
        assert_eq!(Rc::strong_count(&back._not_send), 1);
    })
}

#[test]
fn borrowed_sockets_are_transports_and_take_the_fd_path() {
    within(LIMIT, || {
        let fx = Fixture::new();
        let (mut c, s) = tcp_pair();
        let ctx = fx.server_context(None);
        let server = thread::spawn(move || {
            let mut tls = ServerOptions::new().context(ctx).accept(&s).unwrap();
            let mut buf = [0u8; 8];
            tls.read_exact(&mut buf).unwrap();
            tls.write_all(&buf).unwrap();
            tls.close().unwrap();
            // The borrow ended with the stream: the socket is still ours.
            s.peer_addr().unwrap()
        });
        {
            let mut tls = ClientOptions::new()
                .hostname("localhost")
                .context(fx.client_context(None))
                .connect(&mut c)
                .unwrap();
            assert!(
                tls.uses_fd_fast_path(),
                "a borrowed TcpStream is a descriptor"
            );
            tls.write_all(b"borrowed").unwrap();
            let mut echo = Vec::new();
            tls.read_to_end(&mut echo).unwrap();
            assert_eq!(echo, b"borrowed");
            tls.close().unwrap();
        }
        join(server);
        // The socket is usable again once the stream is gone.
        c.set_nodelay(true).unwrap();
    })
}

#[test]
fn streams_are_send_exactly_when_their_transport_is() {
    fn send<T: Send>() {}
    send::<SslStream<MemoryPipe>>();
    send::<SslStream<Box<dyn Transport + Send>>>();
    send::<SslStream<&'static mut std::net::TcpStream>>();
    send::<sslbridge::FdTransport<std::os::unix::net::UnixStream>>();
    send::<SslStream<sslbridge::FdTransport<std::os::unix::net::UnixStream>>>();
    // (`SslStream<ThreadBound>` is not `Send`: the test above uses it on one thread.)
}

//! The two BIO modes and the two protocol versions scenarios run in.

use sslbridge::{ClientOptions, Protocol, ServerOptions};

/// Which BIO a stream should run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The default on sockets: OpenSSL does the I/O on the descriptor.
    FdPath,
    /// `unwrap_fd(false)`: the custom BIO calls the transport's `Read`/`Write`.
    CustomBio,
}

impl Mode {
    pub const BOTH: [Mode; 2] = [Mode::FdPath, Mode::CustomBio];

    pub fn is_fd(self) -> bool {
        self == Mode::FdPath
    }

    /// Client options in this mode (the fd path is the default, so it sets nothing).
    pub fn client(self, options: ClientOptions) -> ClientOptions {
        match self {
            Mode::FdPath => options,
            Mode::CustomBio => options.unwrap_fd(false),
        }
    }

    pub fn server(self, options: ServerOptions) -> ServerOptions {
        match self {
            Mode::FdPath => options,
            Mode::CustomBio => options.unwrap_fd(false),
        }
    }
}

/// The protocol versions every interop scenario runs in.
pub const VERSIONS: [Protocol; 2] = [Protocol::Tls1_2, Protocol::Tls1_3];

/// Every (mode, version) cell of the matrix.
pub fn cells() -> Vec<(Mode, Protocol)> {
    let mut v = Vec::new();
    for mode in Mode::BOTH {
        for version in VERSIONS {
            v.push((mode, version));
        }
    }
    v
}

/// `openssl` command-line flag for a version.
pub fn openssl_flag(v: Protocol) -> &'static str {
    match v {
        Protocol::Tls1_3 => "-tls1_3",
        _ => "-tls1_2",
    }
}

/// GnuTLS priority string forcing a version.
pub fn gnutls_priority(v: Protocol) -> String {
    match v {
        Protocol::Tls1_3 => "--priority=NORMAL:-VERS-ALL:+VERS-TLS1.3".into(),
        _ => "--priority=NORMAL:-VERS-ALL:+VERS-TLS1.2".into(),
    }
}

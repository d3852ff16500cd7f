//! Child processes: one guard that kills its child by PID (through `Child::kill`) and reaps it
//! when dropped, waits with deadlines, and optionally captures stdout and stderr in a file. A
//! program that is not installed fails the test with the Debian package to install.

use super::net::{free_port, wait_for_port};
use super::timing::poll_until;
use std::ffi::OsStr;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

/// The Debian package that provides `program`, for the message of a missing tool.
pub fn debian_package(program: &str) -> &str {
    match program {
        "openssl" => "openssl",
        p if p.starts_with("gnutls-") || p == "certtool" => "gnutls-bin",
        p if p.starts_with("valgrind") => "valgrind",
        other => other,
    }
}

/// "the `openssl` binary is missing: apt-get install openssl".
pub fn missing_tool(program: &str) -> String {
    format!(
        "the `{program}` binary is missing: apt-get install {}",
        debian_package(program)
    )
}

/// The panic message for a program that could not be started: a missing tool names its
/// Debian package.
fn start_failure(program: &OsStr, what: &str, e: &io::Error) -> String {
    let program = program.to_string_lossy();
    if e.kind() != io::ErrorKind::NotFound || program.contains('/') {
        format!("cannot start {what} ({program}): {e}")
    } else if what == program {
        missing_tool(&program)
    } else {
        format!("cannot start {what}: {}", missing_tool(&program))
    }
}

/// Fails the test, naming the Debian package, unless `program` runs (`args` must make it
/// exit at once, e.g. `--version`).
#[track_caller]
pub fn require_tool(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if let Err(e) = status {
        panic!("{}", start_failure(OsStr::new(program), program, &e));
    }
}

/// Fails the test unless the `openssl` command-line tool runs (a README prerequisite).
#[track_caller]
pub fn require_openssl_cli() {
    require_tool("openssl", &["version"]);
}

/// Runs `command` to completion and returns its output; a missing program fails the test
/// with the Debian package to install.
#[track_caller]
pub fn tool_output(command: &mut Command) -> Output {
    match command.output() {
        Ok(output) => output,
        Err(e) => {
            let program = command.get_program();
            panic!("{}", start_failure(program, &program.to_string_lossy(), &e))
        }
    }
}

/// A child process, killed (by PID, through `Child::kill`) and reaped when dropped.
pub struct ChildGuard {
    pub child: Child,
    /// What the child is, for messages ("openssl s_server").
    pub name: String,
    /// The file that receives its stdout and stderr ([`ChildGuard::spawn_logged`]).
    pub output: Option<PathBuf>,
}

impl ChildGuard {
    /// Starts `command` as configured (stdio included).
    #[track_caller]
    pub fn spawn(mut command: Command, name: &str) -> ChildGuard {
        let child = match command.spawn() {
            Ok(child) => child,
            Err(e) => panic!("{}", start_failure(command.get_program(), name, &e)),
        };
        ChildGuard {
            child,
            name: name.to_string(),
            output: None,
        }
    }

    /// Starts `program args` with stdin piped and stdout and stderr both written to `output`.
    #[track_caller]
    pub fn spawn_logged<S: AsRef<OsStr>>(program: &str, args: &[S], output: PathBuf) -> ChildGuard {
        let out = std::fs::File::create(&output).expect("create output file");
        let err = out.try_clone().expect("clone output file");
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err);
        let mut guard = ChildGuard::spawn(command, program);
        guard.output = Some(output);
        guard
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the child to exit, killing it at the deadline. `None` if it had to be killed.
    pub fn wait_until(&mut self, limit: Duration) -> Option<ExitStatus> {
        let mut status = None;
        poll_until(limit, Duration::from_millis(10), || {
            status = self.child.try_wait().ok().flatten();
            status.is_some()
        });
        if status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        status
    }

    /// Waits for exit up to `limit`, then kills; true if it exited by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        self.wait_until(limit).is_some()
    }

    /// Everything the child wrote to its output file so far (empty without one).
    pub fn output(&self) -> String {
        self.output
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .unwrap_or_default()
    }

    /// Waits until the output contains `needle`; false at the deadline.
    pub fn wait_output(&mut self, needle: &str, limit: Duration) -> bool {
        poll_until(limit, Duration::from_millis(10), || {
            self.output().contains(needle)
        })
    }

    /// Writes `data` to the child's stdin.
    pub fn feed(&mut self, data: &[u8]) {
        let stdin = self.child.stdin.as_mut().expect("stdin open");
        stdin.write_all(data).expect("write to the child's stdin");
        stdin.flush().unwrap();
    }

    /// Closes the child's stdin.
    pub fn close_stdin(&mut self) {
        self.child.stdin = None;
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Starts a server process (`args_for(port)`, output logged in `dir`) on a free port and
/// waits until it accepts connections.
#[track_caller]
pub fn start_server<S: AsRef<OsStr>>(
    program: &str,
    dir: &Path,
    tag: &str,
    args_for: impl Fn(u16) -> Vec<S>,
) -> (ChildGuard, u16) {
    for attempt in 0..3 {
        let port = free_port();
        let out = dir.join(format!("{tag}-{port}-{attempt}.out"));
        let mut process = ChildGuard::spawn_logged(program, &args_for(port), out);
        if wait_for_port(port, Duration::from_secs(10), || process.alive()) {
            return (process, port);
        }
        eprintln!("{program} did not start: {}", process.output());
    }
    panic!("{program} did not start")
}

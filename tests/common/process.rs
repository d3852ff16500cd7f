//! Child processes killed by PID (through `Child::kill`) and reaped when dropped.

use super::net::{free_port, wait_for_port};
use super::timing::poll_until;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::time::Duration;

/// Kills `child` if it still runs, then reaps it.
fn kill_and_reap(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// Waits for `child` to exit, killing it at the deadline. `None` if it had to be killed.
fn wait_or_kill(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let mut status = None;
    poll_until(limit, Duration::from_millis(10), || {
        status = child.try_wait().ok().flatten();
        status.is_some()
    });
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    status
}

/// A child process killed (by PID, through `Child::kill`) and reaped when dropped.
pub struct ChildGuard {
    pub child: Child,
    pub name: String,
}

impl ChildGuard {
    pub fn spawn(mut command: Command, name: &str) -> ChildGuard {
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        ChildGuard {
            child,
            name: name.to_string(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits for the child to exit, killing it at the deadline. `None` if it had to be killed.
    pub fn wait_until(&mut self, limit: Duration) -> Option<ExitStatus> {
        wait_or_kill(&mut self.child, limit)
    }

    /// Waits for exit up to `limit`, then kills; true if it exited by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        self.wait_until(limit).is_some()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        kill_and_reap(&mut self.child);
    }
}

/// A child process with stdin piped and stdout+stderr in a file; killed by PID and reaped on
/// drop.
pub struct Process {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    pub output: PathBuf,
}

impl Process {
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(program: &str, args: &[S], output: PathBuf) -> Process {
        let out = std::fs::File::create(&output).expect("create output file");
        let err = out.try_clone().expect("clone output file");
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        let stdin = child.stdin.take();
        Process {
            child,
            stdin,
            output,
        }
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits until the output contains `needle`; false at the deadline.
    pub fn wait_output(&mut self, needle: &str, limit: Duration) -> bool {
        poll_until(limit, Duration::from_millis(10), || {
            self.output().contains(needle)
        })
    }

    /// Waits for exit up to `limit`, then kills; true if it exited by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        wait_or_kill(&mut self.child, limit).is_some()
    }

    /// Writes `data` to the process's stdin.
    pub fn feed(&mut self, data: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(data).expect("write to the peer's stdin");
        stdin.flush().unwrap();
    }

    /// Closes its stdin.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        kill_and_reap(&mut self.child);
    }
}

/// Whether `program` can be run (`args` must make it exit at once).
pub fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Whether the `openssl` command-line tool can be run.
pub fn have_openssl_cli() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Starts a server process (`args_for(port)`) on a free port and waits until it accepts.
pub fn start_server<S: AsRef<std::ffi::OsStr>>(
    program: &str,
    dir: &Path,
    tag: &str,
    args_for: impl Fn(u16) -> Vec<S>,
) -> (Process, u16) {
    for attempt in 0..3 {
        let port = free_port();
        let out = dir.join(format!("{tag}-{port}-{attempt}.out"));
        let mut process = Process::spawn(program, &args_for(port), out);
        if wait_for_port(port, Duration::from_secs(10), || process.alive()) {
            return (process, port);
        }
        eprintln!("{program} did not start: {}", process.output());
    }
    panic!("{program} did not start")
}

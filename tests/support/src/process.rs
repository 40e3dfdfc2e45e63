//! Child processes shared by the servers: free ports, readiness polling, setup tools, and
//! children that are killed on drop.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Written to a server's log before each start.
pub(crate) const START_MARKER: &str = "--- imagebump-testsupport: starting";
/// How long a server may take to answer its first request.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A child process that is killed (and reaped) when dropped.
#[derive(Debug)]
pub(crate) struct ChildGuard(pub(crate) Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs a setup tool to completion and returns its stdout; panics with its stderr on failure.
pub(crate) async fn run_tool(command: &mut tokio::process::Command, what: &str) -> Vec<u8> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// A port that was free on 127.0.0.1 a moment ago.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("binding 127.0.0.1:0 to find a free port")
        .port()
}

/// The last lines of a log file, for panic messages.
pub(crate) fn log_tail(path: &Path) -> String {
    let text = fs::read(path).map_or_else(
        |e| format!("(cannot read {}: {e})", path.display()),
        |bytes| String::from_utf8_lossy(&bytes).into_owned(),
    );
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Starts a server on a free port and waits until `probe_url` gets any HTTP answer. `make`
/// builds the command (and returns the probe URL) for a port. If the server dies because
/// another process took the port between our check and its bind, tries again with a new port.
pub(crate) async fn spawn_until_ready(
    what: &str,
    log: &Path,
    client: &reqwest::Client,
    make: impl FnMut(u16) -> (Command, String),
) -> (ChildGuard, u16) {
    spawn_until(what, log, make, |probe_url| {
        let request = client.get(probe_url).timeout(Duration::from_secs(2));
        async move { request.send().await.map(drop).map_err(|e| format!("{e:?}")) }
    })
    .await
}

/// [`spawn_until_ready`] with any readiness check: `make` builds the command and names a
/// target for a port, and the server is ready when `probe(target)` succeeds.
pub(crate) async fn spawn_until<Probe>(
    what: &str,
    log: &Path,
    mut make: impl FnMut(u16) -> (Command, String),
    probe: impl Fn(&str) -> Probe,
) -> (ChildGuard, u16)
where
    Probe: Future<Output = Result<(), String>>,
{
    const ATTEMPTS: usize = 5;
    for attempt in 1..=ATTEMPTS {
        let port = free_port();
        let (mut command, target) = make(port);
        let mut log_file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("opening the server log");
        writeln!(log_file, "{START_MARKER} {what} on port {port}").expect("writing the server log");
        let stderr = log_file.try_clone().expect("duplicating the log file handle");
        let mut child = ChildGuard(
            command
                .current_dir(log.parent().expect("the log is in the temporary directory"))
                .stdin(Stdio::null())
                .stdout(log_file)
                .stderr(stderr)
                .spawn()
                .unwrap_or_else(|e| panic!("starting {what}: {e}")),
        );
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = child.0.try_wait().expect("polling the child process") {
                let tail = log_tail(log);
                let this_attempt = tail.rsplit(START_MARKER).next().unwrap_or_default();
                if this_attempt.to_lowercase().contains("address already in use") && attempt < ATTEMPTS {
                    break;
                }
                panic!(
                    "{what} exited ({status}) before answering {target}; {} ends:\n{tail}",
                    log.display()
                );
            }
            let Err(last_error) = probe(&target).await else {
                return (child, port);
            };
            assert!(
                Instant::now() < deadline,
                "{what} did not answer {target} within {READY_TIMEOUT:?} (last error: {last_error}); {} ends:\n{}",
                log.display(),
                log_tail(log)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    unreachable!("the last attempt returns or panics")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::require::require;
    use crate::tls::http_client;

    fn python_command(args: &[&str]) -> Command {
        let mut cmd = Command::new("python3");
        cmd.args(args);
        cmd
    }

    #[tokio::test]
    async fn a_taken_port_is_retried_with_another() {
        if !require("python3") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let taken_port = taken.local_addr().unwrap().port();
        let mut calls = 0;
        let (_child, port) = spawn_until_ready("http.server", &log, &http_client(None, None), |port| {
            calls += 1;
            // The first attempt binds the taken port (probing the free one: the taken one
            // accepts connections but never answers).
            let bind = if calls == 1 { taken_port } else { port };
            let bind = bind.to_string();
            let cmd = python_command(&["-m", "http.server", "--bind", "127.0.0.1", &bind]);
            (cmd, format!("http://127.0.0.1:{port}/"))
        })
        .await;
        assert_eq!(calls, 2);
        assert_ne!(port, taken_port);
        let text = fs::read_to_string(&log).unwrap();
        assert_eq!(text.matches(START_MARKER).count(), 2, "{text}");
    }

    #[tokio::test]
    async fn a_server_that_dies_reports_its_log() {
        if !require("python3") {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("server.log");
        let outcome = tokio::spawn(async move {
            spawn_until_ready("dying server", &log, &http_client(None, None), |port| {
                let script = "import sys; sys.stderr.write('boom\\n'); sys.exit(3)";
                (
                    python_command(&["-c", script]),
                    format!("http://127.0.0.1:{port}/"),
                )
            })
            .await
        })
        .await;
        let message = *outcome.unwrap_err().into_panic().downcast::<String>().unwrap();
        assert!(
            message.contains("dying server exited (exit status: 3) before answering"),
            "{message}"
        );
        assert!(message.ends_with("boom"), "{message}");
    }
}

//! The systemd notify protocol (`sd_notify(3)`), written by hand: readiness, reloads, stops,
//! status lines and watchdog pings, each one datagram to the socket named in `NOTIFY_SOCKET`.
//!
//! The protocol is small and declared stable (systemd's "portability and stability" promise),
//! so a crate would add a dependency for a dozen lines. Without `NOTIFY_SOCKET` (run by hand,
//! in a container) every call is a no-op. Sending never fails the daemon: a lost notification
//! is logged at debug level and forgotten, as libsystemd's callers do.
//!
//! Not supported: `vsock:` addresses (systemd 254+, for VMs), file-descriptor passing
//! (`FDSTORE=1`) and `MONOTONIC_USEC` (see [`Notifier::reloading`]).

use std::ffi::OsString;
use std::io;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;
use std::time::Duration;

/// Talks to the service manager that started us, if any.
#[derive(Debug)]
pub struct Notifier {
    /// `None` when `NOTIFY_SOCKET` is unset or unusable: every call is then a no-op.
    link: Option<Link>,
    /// Half the watchdog timeout, when systemd runs a watchdog for this very process.
    watchdog_interval: Option<Duration>,
}

/// An unbound datagram socket and the manager's address, made once at start-up.
#[derive(Debug)]
struct Link {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from the environment.
    ///
    /// The variables are left in place (libsystemd can unset them, which needs `set_var`,
    /// `unsafe` in edition 2024); the `git` and `ssh` children that inherit them ignore them,
    /// and systemd only listens to the main process anyway (`NotifyAccess=main`).
    pub fn from_env() -> Notifier {
        Notifier::from_vars(|name| std::env::var_os(name), std::process::id())
    }

    /// [`Notifier::from_env`] over any variable lookup, for a process with id `pid`; tests use
    /// it so that they never mutate the process environment.
    fn from_vars(var: impl Fn(&str) -> Option<OsString>, pid: u32) -> Notifier {
        let link = var("NOTIFY_SOCKET").and_then(|value| match Link::open(value.as_bytes()) {
            Ok(link) => Some(link),
            Err(error) => {
                tracing::debug!(%error, "NOTIFY_SOCKET is set but unusable; not notifying systemd");
                None
            }
        });
        let watchdog_interval = watchdog_interval(
            var("WATCHDOG_USEC").as_deref().and_then(|v| v.to_str()),
            var("WATCHDOG_PID").as_deref().and_then(|v| v.to_str()),
            pid,
        );
        Notifier {
            link,
            watchdog_interval,
        }
    }

    /// Start-up is complete: the unit becomes active (`Type=notify`), or a reload is done.
    pub fn ready(&self) {
        self.send("READY=1");
    }

    /// A reload (SIGHUP) has begun; call [`Notifier::ready`] when it is done.
    ///
    /// Sends `RELOADING=1` alone. systemd ≥ 253 also wants `MONOTONIC_USEC=<CLOCK_MONOTONIC
    /// in µs>` so that `Type=notify-reload` can tell this reload from an older one, but std
    /// keeps `Instant`'s clock value private and reading it otherwise takes `libc` (and
    /// `unsafe`, which the workspace forbids) or a new dependency. With `Type=notify` and
    /// `ExecReload=kill -HUP`, which the shipped unit uses (Debian 12 has systemd 252, without
    /// `notify-reload`), systemd needs no timestamp: `RELOADING=1` enters the reloading state
    /// and `READY=1` leaves it.
    pub fn reloading(&self) {
        self.send("RELOADING=1");
    }

    /// Shutdown has begun (SIGTERM received): systemd shows the unit as deactivating.
    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// A one-line status shown by `systemctl status`. Line breaks become spaces, since a
    /// newline would start another field (`STATUS=x\nREADY=1` would claim readiness).
    pub fn status(&self, text: &str) {
        let line: String = text
            .chars()
            .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
            .collect();
        self.send(&format!("STATUS={line}"));
    }

    /// Tells the watchdog we are alive; call it every [`Notifier::watchdog_interval`].
    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// How often to call [`Notifier::watchdog`]: half of `WATCHDOG_USEC` (systemd's
    /// `WatchdogSec=`), as `sd_watchdog_enabled(3)` recommends, so a late tick is not a kill.
    /// `None` when there is no watchdog, or when `WATCHDOG_PID` names another process (the
    /// variables were inherited from a parent that systemd watches, not us).
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog_interval
    }

    fn send(&self, message: &str) {
        let Some(link) = &self.link else { return };
        if let Err(error) = link.socket.send_to_addr(message.as_bytes(), &link.addr) {
            // The field name only: a STATUS text can be long and says nothing about the failure.
            let field = message.split('=').next().unwrap_or_default();
            tracing::debug!(%error, field, "could not notify systemd");
        }
    }
}

impl Link {
    /// `NOTIFY_SOCKET` is an absolute path, or `@name` for a socket in the abstract namespace
    /// (what systemd itself passes since v248 when it can).
    fn open(value: &[u8]) -> io::Result<Link> {
        let addr = match value {
            [b'@', name @ ..] => SocketAddr::from_abstract_name(name)?,
            [b'/', ..] => SocketAddr::from_pathname(Path::new(std::ffi::OsStr::from_bytes(value)))?,
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "not an absolute path or @abstract name (vsock: is not supported)",
                ));
            }
        };
        Ok(Link {
            socket: UnixDatagram::unbound()?,
            addr,
        })
    }
}

/// Half of `usec`, when it is a positive number and `watchdog_pid` (if set) is `pid`.
fn watchdog_interval(usec: Option<&str>, watchdog_pid: Option<&str>, pid: u32) -> Option<Duration> {
    if let Some(watchdog_pid) = watchdog_pid
        && watchdog_pid.parse::<u32>().ok() != Some(pid)
    {
        return None;
    }
    let usec: u64 = usec?.parse().ok().filter(|&usec| usec > 0)?;
    Some(Duration::from_micros(usec) / 2)
}

#[cfg(test)]
mod tests;

//! The control socket: how `imagebump get`, `reconcile`, `suspend` and `resume` reach a running
//! daemon.
//!
//! A Unix socket rather than a TCP port because its file permissions (0660) are the access
//! control: whoever may write to the socket may steer the daemon, nobody else, with no tokens
//! to manage. [`protocol`] says what goes over it, [`server`] is the daemon's end and [`client`]
//! the CLI's.

pub mod client;
pub mod protocol;
pub mod server;

use std::path::PathBuf;

/// Everything that can go wrong on either end of the control socket.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// Nothing listens on the socket: no file, or a file left behind by a daemon that died.
    #[error(
        "no imagebump daemon is running (nothing listening on {}); start one with \
         `imagebump daemon --config <file>`",
        path.display()
    )]
    NotRunning {
        /// The socket.
        path: PathBuf,
    },
    /// The socket exists but this user may not connect to it.
    #[error(
        "permission denied on the control socket {}: it is mode 0660, so run as the daemon's \
         user or as a member of its group",
        path.display()
    )]
    PermissionDenied {
        /// The socket.
        path: PathBuf,
    },
    /// A second daemon tried to take a socket a live daemon is answering on.
    #[error("another imagebump daemon is listening on {}", path.display())]
    AlreadyListening {
        /// The socket.
        path: PathBuf,
    },
    /// The socket path is taken by something that is not a socket, which we must not delete.
    #[error("{} exists and is not a socket; refusing to replace it", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// Any other I/O failure, with what was being done.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What failed, as a verb phrase: `binding the control socket`.
        action: &'static str,
        /// The socket.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The daemon hung up without answering (it crashed or is shutting down).
    #[error("the daemon closed {} without answering; see its log", path.display())]
    NoResponse {
        /// The socket.
        path: PathBuf,
    },
    /// The daemon's answer is not a [`protocol::Response`]: most likely a different version.
    #[error("the daemon's answer on {} is not valid: {source}", path.display())]
    BadResponse {
        /// The socket.
        path: PathBuf,
        /// Why it did not parse.
        source: serde_json::Error,
    },
}

#[cfg(test)]
mod tests;

//! What the commands that talk to a running daemon share: finding its control socket, the
//! namespace an object is in when `-n` is not given, and turning a failed call into a message
//! and an outcome.

use std::path::{Path, PathBuf};

use super::Outcome;
use crate::config::{self, file::DEFAULT_NAMESPACE};
use crate::control::protocol::{Kind, Request, Response};
use crate::control::{ControlError, client};

/// Where the daemon is.
#[derive(Debug, clap::Args)]
pub struct Connection {
    /// The daemon config file (imagebump.toml): names the control socket and the default
    /// namespace.
    #[arg(
        long,
        value_name = "FILE",
        env = "IMAGEBUMP_CONFIG",
        required_unless_present = "socket"
    )]
    config: Option<PathBuf>,
    /// The control socket, instead of the one the config names (--config is then optional).
    #[arg(long, value_name = "PATH")]
    socket: Option<PathBuf>,
}

/// The socket to call and the namespace to use when none was given.
#[derive(Debug)]
pub struct Daemon {
    /// The control socket.
    pub socket: PathBuf,
    /// `default_namespace` of the config, or Flux's `flux-system` without one.
    pub default_namespace: String,
}

impl Connection {
    /// Finds the socket, reading the config only when it is needed: for the socket (no
    /// --socket) or for the default namespace (`need_namespace`). A broken config is printed
    /// as `check` prints it, and is [`Outcome::InvalidInput`].
    pub fn resolve(&self, need_namespace: bool) -> Result<Daemon, Outcome> {
        let config = match (&self.config, &self.socket) {
            (Some(path), None) => Some(path),
            (Some(path), Some(_)) if need_namespace => Some(path),
            _ => None,
        };
        let Some(path) = config else {
            return Ok(Daemon {
                // clap requires --config when --socket is absent, so this is never empty.
                socket: self.socket.clone().unwrap_or_default(),
                default_namespace: DEFAULT_NAMESPACE.to_owned(),
            });
        };
        match config::file::load(path) {
            Ok(config) => Ok(Daemon {
                socket: self.socket.clone().unwrap_or(config.control_socket),
                default_namespace: config.default_namespace,
            }),
            Err(problems) => {
                for problem in &problems {
                    eprintln!("{problem}");
                }
                Err(Outcome::InvalidInput)
            }
        }
    }
}

/// Calls the daemon. Connection problems are printed (`✗ no imagebump daemon is running ...`)
/// and become [`Outcome::Failed`].
pub fn call(socket: &Path, request: &Request) -> Result<Response, Outcome> {
    client::call(socket, request).map_err(|e| report(&e))
}

/// [`call`], running `sent` once the daemon has the request.
pub fn call_then(socket: &Path, request: &Request, sent: impl FnOnce()) -> Result<Response, Outcome> {
    client::call_then(socket, request, sent).map_err(|e| report(&e))
}

fn report(error: &ControlError) -> Outcome {
    eprintln!("✗ {error}");
    Outcome::Failed
}

/// Prints an answer that does not fit the request (a daemon of another version) and fails.
pub fn unexpected(response: &Response) -> Outcome {
    eprintln!("✗ unexpected answer from the daemon: {response:?}");
    Outcome::Failed
}

/// Prints the daemon's answer to a reconcile, suspend or resume as flux does (`✔ completed`
/// and the daemon's message, or `✗ why`) and says how the command ends.
pub fn report_answer(answer: Result<Response, Outcome>, completed: &str) -> Outcome {
    match answer {
        Ok(Response::Done { message }) => {
            eprintln!("✔ {completed}");
            if !message.is_empty() {
                eprintln!("✔ {message}");
            }
            Outcome::Success
        }
        Ok(Response::Failed { message }) => {
            eprintln!("✗ {message}");
            Outcome::Failed
        }
        Ok(other) => unexpected(&other),
        Err(outcome) => outcome,
    }
}

/// The kinds `reconcile`, `suspend` and `resume` act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImageKind {
    /// An `ImageRepository`.
    Repository,
    /// An `ImageUpdateAutomation`.
    Update,
}

impl ImageKind {
    /// The protocol's kind.
    pub fn kind(self) -> Kind {
        match self {
            ImageKind::Repository => Kind::ImageRepository,
            ImageKind::Update => Kind::ImageUpdateAutomation,
        }
    }

    /// How flux names the kind in prose: `suspending image repository podinfo`.
    pub fn human(self) -> &'static str {
        match self {
            ImageKind::Repository => "image repository",
            ImageKind::Update => "image update automation",
        }
    }
}

/// One object of a kind `reconcile`, `suspend` and `resume` act on.
#[derive(Debug, clap::Args)]
pub struct ObjectArgs {
    /// `repository` (`ImageRepository`) or `update` (`ImageUpdateAutomation`).
    #[arg(value_enum)]
    pub kind: ImageKind,
    /// The object's name.
    pub name: String,
    /// The object's namespace [default: the config's `default_namespace`].
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

impl ObjectArgs {
    /// The socket and the object's namespace.
    pub fn resolve(&self) -> Result<(PathBuf, String), Outcome> {
        let daemon = self.connection.resolve(self.namespace.is_none())?;
        let namespace = self.namespace.clone().unwrap_or(daemon.default_namespace);
        Ok((daemon.socket, namespace))
    }
}

//! `imagebump suspend|resume image repository|update NAME`: stop an object's work, or start it
//! again, as `flux suspend` and `flux resume` do. The daemon keeps the override across
//! restarts; `spec.suspend: true` in the file suspends too, and resume cannot undo that.

use super::Outcome;
use super::connect::{self, ObjectArgs};
use crate::control::protocol::Request;

/// What to suspend or resume.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// An image repository (its scans) or an image update automation (its commits and pushes).
    #[command(alias = "images")]
    Image(ObjectArgs),
}

/// Which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `imagebump suspend`.
    Suspend,
    /// `imagebump resume`.
    Resume,
}

/// Runs the command.
#[expect(clippy::unnecessary_wraps, reason = "every command returns anyhow::Result")]
pub fn run(command: &Command, action: Action) -> anyhow::Result<Outcome> {
    let Command::Image(args) = command;
    let (socket, namespace) = match args.resolve() {
        Ok(found) => found,
        Err(outcome) => return Ok(outcome),
    };
    let (kind, name) = (args.kind.kind(), args.name.clone());
    let (request, doing, done) = match action {
        Action::Suspend => (
            Request::Suspend {
                kind,
                namespace: namespace.clone(),
                name,
            },
            "suspending",
            "suspended",
        ),
        Action::Resume => (
            Request::Resume {
                kind,
                namespace: namespace.clone(),
                name,
            },
            "resuming",
            "resumed",
        ),
    };
    let human = args.kind.human();
    eprintln!("► {doing} {human} {} in {namespace} namespace", args.name);
    let answer = connect::call(&socket, &request);
    Ok(connect::report_answer(answer, &format!("{human} {done}")))
}

//! `imagebump reconcile image repository|update NAME`: run one object now and wait for the
//! result, printing progress as `flux reconcile` does (on stderr, like flux's logger).

use super::Outcome;
use super::connect::{self, ObjectArgs};
use crate::control::protocol::Request;

/// What to reconcile.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Scan an image repository, or run an image update automation, now; wait for the result.
    #[command(alias = "images")]
    Image(ObjectArgs),
}

/// Runs the command.
#[expect(clippy::unnecessary_wraps, reason = "every command returns anyhow::Result")]
pub fn run(command: &Command) -> anyhow::Result<Outcome> {
    let Command::Image(args) = command;
    let (socket, namespace) = match args.resolve() {
        Ok(found) => found,
        Err(outcome) => return Ok(outcome),
    };
    let kind = args.kind.kind();
    let request = Request::Reconcile {
        kind,
        namespace: namespace.clone(),
        name: args.name.clone(),
    };
    // Flux says "annotating": it asks through an annotation. The daemon is asked directly.
    eprintln!("► triggering {kind:?} {} in {namespace} namespace", args.name);
    let waiting = || eprintln!("◎ waiting for {kind:?} reconciliation");
    let answer = connect::call_then(&socket, &request, waiting);
    Ok(connect::report_answer(
        answer,
        &format!("{kind:?} reconciliation completed"),
    ))
}

//! The command line: one module per command, each returning a [`Outcome`] or an error.

mod check;
mod connect;
mod create;
mod daemon;
mod get;
mod policy_select;
mod reconcile;
mod scan;
mod suspend;
mod update;

use clap::{Parser, Subcommand};

/// Output format of the commands that print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// For people: plain lines and Flux-style messages.
    Text,
    /// For scripts: one JSON document.
    Json,
}

/// How a command ended; the only place exit codes are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done (exit 0).
    Success,
    /// Ran fine, but found nothing (exit 1): e.g. no tag matched the policy.
    NothingFound,
    /// The input was invalid (exit 2): bad flags, files, YAML, ranges or patterns.
    InvalidInput,
    /// The input was fine but the operation failed (exit 3): registry unreachable, refused
    /// credentials, timeouts.
    Failed,
}

impl From<Outcome> for std::process::ExitCode {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Success => Self::SUCCESS,
            Outcome::NothingFound => Self::from(1),
            Outcome::InvalidInput => Self::from(2),
            Outcome::Failed => Self::from(3),
        }
    }
}

/// Keeps container image references in Git up to date, the way Flux image automation does.
#[derive(Debug, Parser)]
#[command(name = "imagebump", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the config file and every object it points at; exit 2 on any error.
    Check(check::Args),
    /// Run the daemon in the foreground (systemd: Type=notify).
    Daemon(daemon::Args),
    /// Print Flux image automation objects as YAML, with flux's flags (`--export`).
    Create(create::Args),
    /// Print the status of a running daemon's objects, as `flux get` does.
    #[command(subcommand)]
    Get(get::Command),
    /// Work with image policies offline.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Make a running daemon scan or update now, and wait for the result.
    #[command(subcommand)]
    Reconcile(reconcile::Command),
    /// Start an object's work again after `suspend`, and run it at once.
    #[command(subcommand)]
    Resume(suspend::Command),
    /// List an image repository's tags once, as an `ImageRepository` scan would (offline).
    Scan(scan::Args),
    /// Stop an object's scans or pushes until `resume` (kept across daemon restarts).
    #[command(subcommand)]
    Suspend(suspend::Command),
    /// Apply `$imagepolicy` markers in a directory with given policy results (offline).
    Update(update::Args),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Select the latest tag from a tag list, exactly as a Flux ImagePolicy would.
    Select(policy_select::Args),
}

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Policy(PolicyCommand::Select(args)) => policy_select::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Create(args) => create::run(&args),
        Command::Daemon(args) => daemon::run(&args),
        Command::Get(command) => get::run(&command),
        Command::Reconcile(command) => reconcile::run(&command),
        Command::Resume(command) => suspend::run(&command, suspend::Action::Resume),
        Command::Suspend(command) => suspend::run(&command, suspend::Action::Suspend),
        Command::Scan(args) => scan::run(&args),
        Command::Update(args) => update::run(&args),
    }
}

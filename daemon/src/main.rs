//! `imagebump`: keeps container image references in Git up to date, the way Flux's image
//! automation does, from plain files and without Kubernetes.
//!
//! This file stays thin: parse the command line, run the command, turn the outcome into an
//! exit code in one place. Each command lives in its own module under `cli/`.

mod cli;
mod config;
mod control;
mod http;
mod logging;
mod metrics;
mod receiver;
mod runtime;
mod state;
mod systemd;
mod time;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(outcome) => outcome.into(),
        Err(error) => {
            // `{:#}` prints the whole chain: "reading policy.yaml: line 3 column 5: ...".
            eprintln!("error: {error:#}");
            cli::Outcome::InvalidInput.into()
        }
    }
}

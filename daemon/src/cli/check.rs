//! `imagebump check`: loads the config and every object as the daemon would, and reports each
//! problem as `FILE:LINE:COL: Kind namespace/name: message` (warnings say `warning:`), then a
//! summary. Exit 0 when there are no errors (warnings allowed), 2 otherwise.

use std::path::PathBuf;

use super::Outcome;
use crate::config;

/// Validate the config file and the objects it points at.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The daemon config file (imagebump.toml).
    #[arg(long, value_name = "FILE", env = "IMAGEBUMP_CONFIG")]
    config: PathBuf,
}

/// Runs the command.
#[expect(clippy::unnecessary_wraps, reason = "every command returns anyhow::Result")]
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let config = match config::file::load(&args.config) {
        Ok(config) => config,
        Err(problems) => {
            for problem in &problems {
                println!("{problem}");
            }
            println!("0 objects, {} errors, 0 warnings", problems.len());
            return Ok(Outcome::InvalidInput);
        }
    };
    let loaded = config::load_objects(&config);
    for problem in &loaded.diagnostics {
        println!("{problem}");
    }
    println!(
        "{} objects, {} errors, {} warnings",
        loaded.documents,
        loaded.errors(),
        loaded.warnings()
    );
    Ok(if loaded.errors() == 0 {
        Outcome::Success
    } else {
        Outcome::InvalidInput
    })
}

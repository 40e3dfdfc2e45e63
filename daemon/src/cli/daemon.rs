//! `imagebump daemon`: run the daemon in the foreground (systemd `Type=notify`).

use std::path::PathBuf;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;

use super::Outcome;
use crate::config;
use crate::logging::{self, LogFormat};

/// Run the daemon: scan, select, write and push until stopped.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The daemon config file (imagebump.toml).
    #[arg(long, value_name = "FILE", env = "IMAGEBUMP_CONFIG")]
    config: PathBuf,
    /// Log line format: `text` for people, `json` for log collectors.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "IMAGEBUMP_LOG_FORMAT")]
    log_format: LogFormat,
    /// Log filter: a level (`info`, `debug`) or tracing directives (`info,imagebump=debug`).
    #[arg(long, value_name = "FILTER", default_value = "info", env = "IMAGEBUMP_LOG")]
    log_level: String,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let filter =
        EnvFilter::try_new(&args.log_level).with_context(|| format!("--log-level {:?}", args.log_level))?;
    logging::init(args.log_format, filter);
    let config = match config::file::load(&args.config) {
        Ok(config) => config,
        Err(problems) => {
            for problem in &problems {
                eprintln!("{problem}");
            }
            return Ok(Outcome::InvalidInput);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(crate::runtime::run(config))?;
    Ok(Outcome::Success)
}

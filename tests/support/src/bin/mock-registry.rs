//! `mock-registry`: serves one repository with N generated tags from the test-support mock
//! registry until killed, for benchmarks (e.g. `skopeo list-tags` against imagebump).
//!
//! ```text
//! mock-registry --listen 127.0.0.1:5055 --repo team/app --tags 5000 --page-size 100 [--opaque]
//! ```
//!
//! Prints `listening on http://ADDR` on stdout once it accepts connections.

use std::io::Write as _;
use std::net::SocketAddr;

use clap::Parser;
use imagebump_testsupport::{CursorStyle, MockConfig, MockRegistry, generate_tags};

/// Serves a mock OCI registry with generated tags (`1.0.0`, `1.0.1`, …) until killed.
#[derive(Debug, Parser)]
#[command(name = "mock-registry", version)]
struct Args {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Repository name, e.g. `team/app`.
    #[arg(long)]
    repo: String,
    /// Number of tags to serve.
    #[arg(long)]
    tags: usize,
    /// The server's maximum page size (default: no maximum; clients' `?n=` is honoured).
    #[arg(long)]
    page_size: Option<usize>,
    /// Use opaque `next_page=` cursors (Quay style) instead of `last=` (distribution style).
    #[arg(long)]
    opaque: bool,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let config = MockConfig {
        repositories: [(args.repo, generate_tags(args.tags))].into_iter().collect(),
        page_size: args.page_size,
        cursor: if args.opaque {
            CursorStyle::Opaque
        } else {
            CursorStyle::Last
        },
        ..MockConfig::default()
    };
    let registry = MockRegistry::start_on(config, args.listen).await?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on {}", registry.base_url())?;
    stdout.flush()?;
    drop(stdout);
    tokio::signal::ctrl_c().await?;
    drop(registry);
    Ok(())
}

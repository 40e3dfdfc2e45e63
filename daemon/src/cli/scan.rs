//! `imagebump scan IMAGE`: one scan of a registry repository, offline from any daemon.
//!
//! It does what an `ImageRepository` reconcile does (credentials, every page of tags, the
//! exclusion list, the sorted set and its revision) and prints the result, so credentials and
//! exclusions can be checked before an object is written.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use imagebump_auth::docker_config::{DockerConfig, MatchOptions};
use imagebump_auth::{Credential, CredentialProvider as _, HostDockerConfigProvider};
use imagebump_registry::{Client, ExclusionList, ImageRef, Options, TagSet, list_tags};
use serde::Serialize;

use super::Outcome;
use crate::config::{duration, secret};

/// List the tags of an image repository once, as an `ImageRepository` scan would.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The repository, as `spec.image` spells it: `ghcr.io/org/app`, `alpine`, `host:5000/a/b`.
    image: String,
    /// Registry credentials: a `kubernetes.io/dockerconfigjson` (or legacy dockercfg) Secret
    /// YAML, or a docker `config.json`.
    #[arg(long, value_name = "FILE")]
    secret: Option<PathBuf>,
    /// Use this machine's docker login (`$DOCKER_CONFIG/config.json`, credential helpers).
    #[arg(long, conflicts_with = "secret")]
    docker_config: bool,
    /// PEM CA certificate(s) to trust in addition to the system roots (`ca.crt`).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// PEM client certificate for mTLS (`tls.crt`); needs --key.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key of the client certificate (`tls.key`).
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
    /// Talk plain HTTP to the registry (`spec.insecure`).
    #[arg(long)]
    insecure: bool,
    /// Drop tags matching this regex (repeatable; replaces the default `^.*\.sig$`).
    #[arg(long = "exclude", value_name = "REGEX", allow_hyphen_values = true)]
    exclusions: Vec<String>,
    /// Bound on the whole scan (Go duration: 30s, 1m, 2m30s).
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = parse_duration)]
    timeout: Duration,
    /// Tags asked for per page.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    page_size: usize,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    duration::parse(text).map_err(|e| e.to_string())
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let image = ImageRef::parse(&args.image)?;
    let exclusions = ExclusionList::new(&args.exclusions)?;
    let client = build_client(args)?;
    let credential = credential(args, &image)?;
    let options = Options {
        timeout: Options::scan_timeout(Some(args.timeout), args.timeout),
        page_size: args.page_size.max(1),
        insecure: args.insecure,
        ..Options::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let listed = match runtime.block_on(list_tags(&client, &image, &credential, &options)) {
        Ok(tags) => tags,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(Outcome::Failed);
        }
    };
    let set = TagSet::new(listed, &exclusions);
    match args.output {
        Format::Text => {
            println!("{}", image.canonical_name());
            println!(
                "successful scan: found {} tags with checksum {}",
                set.len(),
                set.revision()
            );
            for tag in set.tags() {
                println!("{tag}");
            }
        }
        Format::Json => {
            let report = Report {
                image: &args.image,
                canonical_image_name: image.canonical_name(),
                tag_count: set.len(),
                revision: set.revision(),
                latest_tags: set.latest(10),
                observed_exclusion_list: exclusions.patterns().collect(),
                tags: set.tags(),
            };
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(Outcome::Success)
}

/// The scan result, with Flux's status field names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    image: &'a str,
    canonical_image_name: String,
    tag_count: usize,
    revision: &'a str,
    latest_tags: &'a [String],
    observed_exclusion_list: Vec<&'a str>,
    tags: &'a [String],
}

fn build_client(args: &Args) -> anyhow::Result<Client> {
    let mut builder = Client::builder();
    if let Some(path) = &args.ca {
        let pem = std::fs::read(path).with_context(|| format!("reading CA {}", path.display()))?;
        builder = builder.ca_pem(pem);
    }
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        let cert = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        let key = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
        builder = builder.client_certificate(&cert, &key);
    }
    Ok(builder.build()?)
}

fn credential(args: &Args, image: &ImageRef) -> anyhow::Result<Credential> {
    if let Some(path) = &args.secret {
        let (document, format) = secret::load_docker_config(path)?;
        let config = DockerConfig::parse(format, &document).with_context(|| format!("{}", path.display()))?;
        return Ok(config.credential(image.registry(), image.repository(), MatchOptions::default()));
    }
    if args.docker_config {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        let provider = HostDockerConfigProvider::from_env();
        let found = runtime.block_on(provider.credentials(image.registry(), image.repository()))?;
        return Ok(found.credential);
    }
    Ok(Credential::Anonymous)
}

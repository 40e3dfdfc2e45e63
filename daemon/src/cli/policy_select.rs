//! `imagebump policy select`: the tag-selection engine on its own, offline.
//!
//! Useful to try a range or a `filterTags` pattern on a real tag list before committing an
//! `ImagePolicy`, and to see why a tag was not chosen (`--explain`).

use std::borrow::Cow;
use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::ArgGroup;
use imagebump_policy::{Explanation, Policy, Selection};
use serde::Serialize;

use super::{Format, Outcome};
use crate::config;

/// Select the latest tag, as a Flux ImagePolicy would.
#[derive(Debug, clap::Args)]
#[command(group(ArgGroup::new("rule").args(["semver", "alphabetical", "numerical", "policy"]).required(true)))]
pub struct Args {
    /// Semver range in Flux's (Masterminds) syntax, e.g. '>=1.0.0 <2.0.0' or '^1.x-0'.
    #[arg(long, value_name = "RANGE")]
    semver: Option<String>,
    /// Alphabetical order: asc picks the greatest string, desc the smallest.
    #[arg(long, value_name = "ORDER")]
    alphabetical: Option<String>,
    /// Numerical order: asc picks the largest number, desc the smallest.
    #[arg(long, value_name = "ORDER")]
    numerical: Option<String>,
    /// Regular expression a tag must contain to be considered (filterTags.pattern).
    #[arg(
        long,
        value_name = "REGEX",
        conflicts_with = "policy",
        allow_hyphen_values = true
    )]
    filter_tags: Option<String>,
    /// Value to compare instead of the tag, e.g. '$ts' or '$1' (filterTags.extract).
    #[arg(
        long,
        value_name = "TEMPLATE",
        requires = "filter_tags",
        allow_hyphen_values = true
    )]
    extract: Option<String>,
    /// An ImagePolicy YAML file (image.toolkit.fluxcd.io v1beta1, v1beta2 or v1).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// With --policy: the ImagePolicy to use when the file holds several.
    #[arg(long, value_name = "NAME", requires = "policy")]
    name: Option<String>,
    /// Tag list: one tag per line, or a JSON array, or JSON with a "tags"/"Tags" array
    /// (as `skopeo list-tags` prints). '-' or absent reads standard input.
    #[arg(long, value_name = "FILE")]
    tags: Option<PathBuf>,
    /// Say for every tag why it was kept or dropped.
    #[arg(long)]
    explain: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let policy = build_policy(args)?;
    let (text, source) = read_input(args.tags.as_deref())?;
    let tags = parse_tags(&text, &source)?;
    let failed = "the policy cannot be applied to these tags";
    let selected = if args.explain || args.output == Format::Json {
        let explanation = policy.explain(&tags).context(failed)?;
        match args.output {
            Format::Text => print_text(&explanation),
            Format::Json => println!(
                "{}",
                serde_json::to_string_pretty(&JsonOutput::from(&explanation))?
            ),
        }
        explanation.selection.latest.is_some()
    } else {
        // The plain answer skips the per-tag trace: this is the path scripts and benches take.
        let selection = policy.select(&tags).context(failed)?;
        print_selection(&selection);
        selection.latest.is_some()
    };
    Ok(if selected {
        Outcome::Success
    } else {
        Outcome::NothingFound
    })
}

fn build_policy(args: &Args) -> anyhow::Result<Policy> {
    if let Some(path) = &args.policy {
        let object = config::load_image_policy(path, args.name.as_deref())?;
        return config::compile_policy(&object)
            .with_context(|| format!("{}: ImagePolicy {}", path.display(), object.metadata.key()));
    }
    let policy = match (&args.semver, &args.alphabetical, &args.numerical) {
        (Some(range), _, _) => Policy::semver(range)?,
        (None, Some(order), _) => Policy::alphabetical(order)?,
        (None, None, Some(order)) => Policy::numerical(order)?,
        (None, None, None) => bail!("give --semver, --alphabetical, --numerical or --policy"),
    };
    Ok(match &args.filter_tags {
        Some(pattern) => policy.with_filter(pattern, args.extract.as_deref().unwrap_or(""))?,
        None => policy,
    })
}

/// Reads the tag list's text from a file or standard input.
fn read_input(path: Option<&std::path::Path>) -> anyhow::Result<(String, String)> {
    match path {
        Some(p) if p.as_os_str() != "-" => Ok((
            std::fs::read_to_string(p).with_context(|| format!("reading tags from {}", p.display()))?,
            p.display().to_string(),
        )),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading tags from standard input")?;
            Ok((text, "standard input".to_owned()))
        }
    }
}

/// Tags as lines (borrowed from `text`, no copy per tag) or as JSON.
fn parse_tags<'a>(text: &'a str, source: &str) -> anyhow::Result<Vec<Cow<'a, str>>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return tags_from_json(trimmed).with_context(|| format!("{source}: not a JSON tag list"));
    }
    // memchr's iterator finds all newlines in one vectorised pass; `str::lines` restarts a
    // search per line, and for lines as short as tags that set-up dominates a 100k-tag list.
    let mut tags = Vec::with_capacity(text.len() / 12);
    let mut start = 0;
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    for end in ends {
        let line = text[start..end].trim_ascii();
        if !line.is_empty() && !line.starts_with('#') {
            tags.push(Cow::Borrowed(line));
        }
        start = end + 1;
    }
    Ok(tags)
}

fn tags_from_json(text: &str) -> anyhow::Result<Vec<Cow<'_, str>>> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum TagJson {
        List(Vec<String>),
        Object {
            #[serde(alias = "Tags")]
            tags: Vec<String>,
        },
    }
    Ok(match serde_json::from_str(text)? {
        TagJson::List(tags) | TagJson::Object { tags } => tags.into_iter().map(Cow::Owned).collect(),
    })
}

fn print_text(explanation: &Explanation<'_>) {
    let selection = &explanation.selection;
    {
        let width = explanation
            .decisions
            .iter()
            .map(|d| d.tag.len())
            .max()
            .unwrap_or(0)
            .min(60);
        for d in &explanation.decisions {
            let value = match &d.value {
                Some(v) if v != d.tag => format!(" (value {v:?})"),
                _ => String::new(),
            };
            println!("{:width$}  {}{value}", d.tag, d.outcome);
        }
        println!(
            "-- {} tags, {} candidates, {} eligible",
            selection.tags, selection.candidates, selection.eligible
        );
    }
    print_selection(selection);
}

fn print_selection(selection: &Selection<'_>) {
    match (selection.tag(), selection.no_match()) {
        (Some(tag), _) => println!("{tag}"),
        (None, Some(reason)) => eprintln!("no tag selected: {reason}"),
        (None, None) => {}
    }
}

#[derive(Serialize)]
struct JsonOutput<'a> {
    tag: Option<&'a str>,
    value: Option<&'a str>,
    reason: Option<String>,
    tags: usize,
    candidates: usize,
    eligible: usize,
    trace: Vec<JsonDecision<'a>>,
}

#[derive(Serialize)]
struct JsonDecision<'a> {
    tag: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<&'a str>,
    outcome: &'static str,
    detail: String,
}

impl<'a> From<&'a Explanation<'a>> for JsonOutput<'a> {
    fn from(e: &'a Explanation<'a>) -> Self {
        let s = &e.selection;
        JsonOutput {
            tag: s.tag(),
            value: s.latest.as_ref().map(|l| l.value.as_ref()),
            reason: s.no_match().map(|r| r.to_string()),
            tags: s.tags,
            candidates: s.candidates,
            eligible: s.eligible,
            trace: e
                .decisions
                .iter()
                .map(|d| JsonDecision {
                    tag: d.tag,
                    value: d.value.as_deref(),
                    outcome: d.outcome.code(),
                    detail: d.outcome.to_string(),
                })
                .collect(),
        }
    }
}

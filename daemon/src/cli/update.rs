//! `imagebump update`: apply `$imagepolicy` markers to a working tree once, offline.
//!
//! The same setters the daemon runs before committing: only the bytes of each marked value
//! change. `--dry-run` shows the unified diff and writes nothing.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};
use imagebump_writer::setters::{self, Options, Report};
use imagebump_writer::{LatestImage, Policies};
use serde::Serialize;

use super::Outcome;

/// Apply `$imagepolicy` markers under a directory with the given policy results.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to update (Flux's `spec.update.path`, here relative to nothing: a path on
    /// this machine); a single file works too.
    #[arg(long, value_name = "DIR")]
    path: PathBuf,
    /// A policy result, `namespace:name=IMAGE:TAG[@DIGEST]`, as a marker names it
    /// (`flux-system:podinfo=ghcr.io/stefanprodan/podinfo:5.0.3`). Repeatable.
    #[arg(long = "set", value_name = "NS:NAME=REF", required = true)]
    set: Vec<String>,
    /// Print the unified diff of what would change and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output: `text` (one line per change), `diff` (unified diff), `json` (the result Flux's
    /// templates see, plus notes and skipped files).
    #[arg(short = 'o', long, value_enum)]
    output: Option<UpdateFormat>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum UpdateFormat {
    Text,
    Diff,
    Json,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let policies = parse_policies(&args.set)?;
    let (root, update_path) = split_path(&args.path)?;
    let options = Options {
        dry_run: args.dry_run,
    };
    let report = setters::update_with(&root, &update_path, &policies, &options)
        .with_context(|| format!("updating {}", args.path.display()))?;
    let format = args.output.unwrap_or(if args.dry_run {
        UpdateFormat::Diff
    } else {
        UpdateFormat::Text
    });
    match format {
        UpdateFormat::Text => print!("{}", text(&report)),
        UpdateFormat::Diff => print!("{}", diff(&report)),
        UpdateFormat::Json => println!("{}", serde_json::to_string_pretty(&JsonReport::from(&report))?),
    }
    for (path, note) in &report.notes {
        eprintln!("note: {path}: {note}");
    }
    for (path, problem) in &report.problems {
        eprintln!("skipped: {path}: {problem}");
    }
    Ok(Outcome::Success)
}

/// `ns:name=REF` pairs into the policies the setters read.
fn parse_policies(pairs: &[String]) -> anyhow::Result<Policies> {
    let mut policies = Policies::new();
    for pair in pairs {
        let Some((key, reference)) = pair.split_once('=') else {
            bail!("--set {pair:?}: expected NAMESPACE:NAME=IMAGE:TAG[@DIGEST]");
        };
        let parts: Vec<&str> = key.split(':').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
            bail!("--set {pair:?}: the policy is NAMESPACE:NAME, as in a marker");
        }
        let Some(latest) = LatestImage::parse(reference) else {
            bail!("--set {pair:?}: {reference:?} is not IMAGE:TAG[@DIGEST]");
        };
        policies.insert(key.to_owned(), latest);
    }
    Ok(policies)
}

/// The setters take a repository root and a path inside it; here the root is the directory
/// itself (or a file's directory).
fn split_path(path: &std::path::Path) -> anyhow::Result<(PathBuf, String)> {
    let metadata = std::fs::metadata(path).with_context(|| format!("{}", path.display()))?;
    if metadata.is_dir() {
        return Ok((path.to_owned(), String::new()));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .with_context(|| format!("{}: not a file name imagebump can use", path.display()))?;
    Ok((parent.to_owned(), name.to_owned()))
}

fn text(report: &Report) -> String {
    let mut out = String::new();
    for (file, objects) in &report.result.files {
        for (object, changes) in objects {
            for change in changes {
                let object = if object.kind.is_empty() {
                    String::new()
                } else {
                    format!(" {object}")
                };
                let _ = writeln!(
                    out,
                    "{file}{object}: {} -> {} ({})",
                    change.old_value, change.new_value, change.setter
                );
            }
        }
    }
    out
}

fn diff(report: &Report) -> String {
    let mut out = String::new();
    for preview in &report.previews {
        out.push_str(&unified_diff(&preview.path, &preview.before, &preview.after));
    }
    out
}

/// A unified diff with three lines of context. The setters never add or remove lines, so lines
/// correspond one to one; a file whose line count changed is shown whole.
fn unified_diff(path: &str, before: &str, after: &str) -> String {
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = after.split_inclusive('\n').collect();
    let mut out = format!("--- a/{path}\n+++ b/{path}\n");
    if old.len() != new.len() {
        let _ = writeln!(out, "@@ -1,{} +1,{} @@", old.len(), new.len());
        for line in &old {
            push_line(&mut out, '-', line);
        }
        for line in &new {
            push_line(&mut out, '+', line);
        }
        return out;
    }
    let changed: Vec<usize> = (0..old.len()).filter(|&i| old[i] != new[i]).collect();
    let mut i = 0;
    while i < changed.len() {
        // Grow a hunk while the next change is within its context.
        let start = changed[i].saturating_sub(3);
        let mut end = changed[i];
        while i + 1 < changed.len() && changed[i + 1] <= end + 7 {
            i += 1;
            end = changed[i];
        }
        let end = (end + 4).min(old.len());
        let _ = writeln!(
            out,
            "@@ -{},{} +{},{} @@",
            start + 1,
            end - start,
            start + 1,
            end - start
        );
        for line in start..end {
            if old[line] == new[line] {
                push_line(&mut out, ' ', old[line]);
            } else {
                push_line(&mut out, '-', old[line]);
                push_line(&mut out, '+', new[line]);
            }
        }
        i += 1;
    }
    out
}

fn push_line(out: &mut String, mark: char, line: &str) {
    out.push(mark);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport {
    file_changes: Vec<JsonFile>,
    notes: Vec<JsonMessage>,
    problems: Vec<JsonMessage>,
}

#[derive(Serialize)]
struct JsonFile {
    file: String,
    objects: Vec<JsonObject>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonObject {
    api_version: String,
    kind: String,
    namespace: String,
    name: String,
    changes: Vec<JsonChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonChange {
    old_value: String,
    new_value: String,
    setter: String,
}

#[derive(Serialize)]
struct JsonMessage {
    file: String,
    message: String,
}

impl From<&Report> for JsonReport {
    fn from(report: &Report) -> Self {
        let file_changes = report
            .result
            .files
            .iter()
            .map(|(file, objects)| JsonFile {
                file: file.clone(),
                objects: objects
                    .iter()
                    .map(|(o, changes)| JsonObject {
                        api_version: o.api_version.clone(),
                        kind: o.kind.clone(),
                        namespace: o.namespace.clone(),
                        name: o.name.clone(),
                        changes: changes
                            .iter()
                            .map(|c| JsonChange {
                                old_value: c.old_value.clone(),
                                new_value: c.new_value.clone(),
                                setter: c.setter.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let message = |(file, m): (&String, String)| JsonMessage {
            file: file.clone(),
            message: m,
        };
        JsonReport {
            file_changes,
            notes: report
                .notes
                .iter()
                .map(|(f, n)| message((f, n.to_string())))
                .collect(),
            problems: report
                .problems
                .iter()
                .map(|(f, p)| message((f, p.to_string())))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn diffs_show_the_changed_line_with_context() {
        let before = "a\nb\nc\nd\nimage: x:1\ne\nf\n";
        let after = "a\nb\nc\nd\nimage: x:2\ne\nf\n";
        assert_eq!(
            unified_diff("f.yaml", before, after),
            "--- a/f.yaml\n+++ b/f.yaml\n@@ -2,6 +2,6 @@\n b\n c\n d\n-image: x:1\n+image: x:2\n e\n f\n"
        );
    }
}

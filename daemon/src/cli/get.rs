//! `imagebump get images all|repository|policy|update` and `imagebump get receivers`: the
//! status of a running daemon's objects, in the tables `flux get` prints, or as JSON or YAML.

use std::fmt::Write as _;

use super::Outcome;
use super::connect::{self, Connection};
use crate::control::protocol::{Kind, ObjectStatus, Request, Response, Selector};

/// What to list.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The status of image repositories, policies and update automations.
    #[command(alias = "image")]
    Images {
        /// `all`, `repository`, `policy` or `update`.
        #[arg(value_enum)]
        kind: ImagesKind,
        #[command(flatten)]
        list: ListArgs,
    },
    /// The status of webhook receivers, with the path each listens on.
    #[command(alias = "receiver")]
    Receivers(ListArgs),
}

/// The image automation kinds, as `flux get images` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImagesKind {
    /// Repositories, policies and update automations, one table each.
    All,
    /// `ImageRepository` objects.
    Repository,
    /// `ImagePolicy` objects.
    Policy,
    /// `ImageUpdateAutomation` objects.
    Update,
}

/// Which objects and how to print them.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only the object with this name.
    name: Option<String>,
    /// The namespace [default: the config's `default_namespace`].
    #[arg(short = 'n', long, value_name = "NS")]
    namespace: Option<String>,
    /// Every namespace, with a NAMESPACE column.
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    all_namespaces: bool,
    /// Tables for people, or every status field for scripts.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    output: Output,
    #[command(flatten)]
    connection: Connection,
}

/// Output format of `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Tab-separated, aligned columns, as `flux get` prints.
    Table,
    /// A JSON array of the objects' status.
    Json,
    /// The same array as YAML.
    Yaml,
}

/// Runs the command.
pub fn run(command: &Command) -> anyhow::Result<Outcome> {
    let (kinds, list) = match command {
        Command::Images { kind, list } => (images_kinds(*kind), list),
        Command::Receivers(list) => (vec![Kind::Receiver], list),
    };
    let daemon = match list
        .connection
        .resolve(list.namespace.is_none() && !list.all_namespaces)
    {
        Ok(daemon) => daemon,
        Err(outcome) => return Ok(outcome),
    };
    let namespace =
        (!list.all_namespaces).then(|| list.namespace.clone().unwrap_or(daemon.default_namespace));
    let selector = Selector {
        kinds: kinds.clone(),
        namespace: namespace.clone(),
        name: list.name.clone(),
    };
    let objects = match connect::call(&daemon.socket, &Request::Get(selector)) {
        Ok(Response::Objects { objects }) => objects,
        Ok(Response::Failed { message }) => {
            eprintln!("✗ {message}");
            return Ok(Outcome::Failed);
        }
        Ok(other) => return Ok(connect::unexpected(&other)),
        Err(outcome) => return Ok(outcome),
    };
    match list.output {
        Output::Table => print!("{}", tables(&kinds, &objects, list.all_namespaces)),
        Output::Json => println!("{}", serde_json::to_string_pretty(&objects)?),
        Output::Yaml => print!("{}", yaml_serde::to_string(&objects)?),
    }
    if objects.is_empty() {
        eprintln!(
            "✗ {}",
            nothing_found(&kinds, list.name.as_deref(), namespace.as_deref())
        );
        return Ok(Outcome::NothingFound);
    }
    Ok(Outcome::Success)
}

fn images_kinds(kind: ImagesKind) -> Vec<Kind> {
    match kind {
        ImagesKind::All => vec![
            Kind::ImageRepository,
            Kind::ImagePolicy,
            Kind::ImageUpdateAutomation,
        ],
        ImagesKind::Repository => vec![Kind::ImageRepository],
        ImagesKind::Policy => vec![Kind::ImagePolicy],
        ImagesKind::Update => vec![Kind::ImageUpdateAutomation],
    }
}

/// One table per kind in `kinds` that has objects, separated by a blank line. With more than
/// one kind, names read `imagerepository/podinfo`, as in `flux get images all`.
pub fn tables(kinds: &[Kind], objects: &[ObjectStatus], all_namespaces: bool) -> String {
    let with_kind = kinds.len() > 1;
    kinds
        .iter()
        .map(|&kind| {
            let of_kind: Vec<&ObjectStatus> = objects.iter().filter(|o| o.kind == kind).collect();
            table(kind, &of_kind, all_namespaces, with_kind)
        })
        .filter(|table| !table.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The table of one kind's objects, empty when there are none.
fn table(kind: Kind, objects: &[&ObjectStatus], all_namespaces: bool, with_kind: bool) -> String {
    if objects.is_empty() {
        return String::new();
    }
    let mut headers = match kind {
        Kind::ImageRepository => vec!["NAME", "LAST SCAN", "SUSPENDED", "READY", "MESSAGE"],
        Kind::ImagePolicy => vec!["NAME", "LATEST IMAGE", "READY", "MESSAGE"],
        Kind::ImageUpdateAutomation => vec!["NAME", "LAST RUN", "SUSPENDED", "READY", "MESSAGE"],
        Kind::Receiver => vec!["NAME", "SUSPENDED", "READY", "MESSAGE"],
    };
    if all_namespaces {
        headers.insert(0, "NAMESPACE");
    }
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|object| {
            let mut row = Vec::with_capacity(headers.len());
            if all_namespaces {
                row.push(object.namespace.clone());
            }
            row.push(if with_kind {
                format!("{}/{}", kind.flux_name(), object.name)
            } else {
                object.name.clone()
            });
            match kind {
                Kind::ImageRepository | Kind::ImageUpdateAutomation => {
                    row.push(object.last_time.clone().unwrap_or_default());
                    row.push(title_bool(object.suspended));
                }
                Kind::ImagePolicy => row.push(object.latest_image.clone().unwrap_or_default()),
                Kind::Receiver => row.push(title_bool(object.suspended)),
            }
            row.push(object.ready.to_string());
            row.push(object.message.clone());
            row
        })
        .collect();
    render(&headers, &rows)
}

/// `True`/`False`, as flux prints `spec.suspend`.
fn title_bool(value: bool) -> String {
    if value { "True" } else { "False" }.to_owned()
}

/// Columns padded to their widest cell and separated by tabs, as flux's table printer does,
/// but without its trailing whitespace after the last column.
fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    // A newline or tab inside a message would break the row or the alignment.
    let clean = |cell: &str| cell.replace(['\n', '\r', '\t'], " ");
    let lines: Vec<Vec<String>> = std::iter::once(headers.iter().map(|h| (*h).to_owned()).collect())
        .chain(rows.iter().map(|row| row.iter().map(|c| clean(c)).collect()))
        .collect();
    let mut widths = vec![0; headers.len()];
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &lines {
        let last = line.len().saturating_sub(1);
        for (i, (cell, width)) in line.iter().zip(&widths).enumerate() {
            if i == last {
                out.push_str(cell);
            } else {
                let _ = write!(out, "{cell:<width$}\t");
            }
        }
        out.push('\n');
    }
    out
}

/// What flux says when nothing matched: `no ImageRepository objects found in "flux-system"
/// namespace`, `ImagePolicy object 'podinfo' not found in any namespace`.
pub fn nothing_found(kinds: &[Kind], name: Option<&str>, namespace: Option<&str>) -> String {
    let names: Vec<String> = kinds.iter().map(|k| format!("{k:?}")).collect();
    let kinds = match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    };
    let namespace = namespace.map_or_else(|| "any".to_owned(), |ns| format!("{ns:?}"));
    match name {
        Some(name) => format!("{kinds} object '{name}' not found in {namespace} namespace"),
        None => format!("no {kinds} objects found in {namespace} namespace"),
    }
}

#[cfg(test)]
mod tests;

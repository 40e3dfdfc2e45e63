//! `imagebump create image repository|policy|update NAME … --export`: prints the
//! `ImageRepository`, `ImagePolicy` or `ImageUpdateAutomation` object that
//! `flux create image … --export` prints for the same flags, so that a Flux user's habit (and
//! every command of Flux's "Automate image updates to Git" guide) writes imagebump's objects.
//!
//! # What Flux prints, and what this prints
//!
//! The flux CLI builds the Go object, turns it into JSON and the JSON into YAML with go-yaml
//! v2 (`sigs.k8s.io/yaml`): keys come out sorted (go-yaml's order, in which digit runs compare
//! as numbers), empty optional fields are left out, a string is written plain unless plain
//! text would read as something else (`"1.10"`, `"true"`, `""`, dates) or cannot be plain
//! (`'>=1.0.0'`, `'{{range …}}'`), multi-line strings become `|` blocks, and long lines are
//! folded at spaces past column 80. This module does the same with its own small emitter
//! (the objects are small and fixed in shape), and trims the end as flux does. The quirks of
//! that path are kept too: a U+0085 in a value is folded into a space by the JSON-to-YAML
//! step, a value starting with U+FEFF has every character escaped, and C1 control
//! characters make the export fail.
//!
//! `apiVersion` depends on the flux release: flux 2.7 and later print
//! `image.toolkit.fluxcd.io/v1` for all three kinds; 2.3 to 2.6 print `v1beta2`; 2.0 to 2.2
//! print `v1beta2` for `ImageRepository` and `ImagePolicy` and `v1beta1` for
//! `ImageUpdateAutomation`. Flux also prints a `---` line before the object.
//!
//! The default here is the output Flux's guide (the seed document) shows, byte for byte:
//! `v1beta1`, no `---` line, and, for `ImageUpdateAutomation`, `spec` keys in the guide's
//! order (`interval`, `sourceRef`, `git`, `update`, written by hand there: no flux release
//! printed that order). `--api-version v1beta2` and `--api-version v1` print what current
//! flux prints after its `---` line, keys sorted.
//!
//! Differences from the flux CLI, all stricter: the semver range is checked here (flux
//! leaves it to the controller); negative durations are refused; two `--select-*` flags are
//! always an error (flux quietly writes an empty `policy` for two of the three pairs);
//! fields the chosen API version lacks are refused. `--filter-regex` is checked by the
//! `regex` crate, as `policy select` compiles it, rather than Go's `regexp/syntax`.
//! Without `--export` nothing can be applied (there is no cluster): the command says where
//! to put the output instead.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::{Context, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use imagebump_policy::{Policy, parse_go_float};
use imagebump_registry::ImageRef;

use super::Outcome;
use crate::config::duration;

/// The namespace objects get when neither `--namespace` nor `FLUX_SYSTEM_NAMESPACE` says.
const DEFAULT_NAMESPACE: &str = "flux-system";

/// Generate Flux objects as YAML (flags as `flux create`), to redirect into the objects
/// directory.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    what: What,
}

/// Flags every `create` command takes, anywhere on the line (flux's global and `create`
/// flags).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Options of every create command")]
struct Common {
    /// The object's namespace (default: `FLUX_SYSTEM_NAMESPACE`, else flux-system).
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// Labels: KEY=VALUE, repeatable or comma-separated (`--label a=b,c=d`).
    #[arg(long, global = true, value_name = "KEY=VALUE", value_delimiter = ',')]
    label: Vec<String>,
    /// Print the object as YAML on standard output (required: imagebump has no cluster).
    #[arg(long, global = true)]
    export: bool,
    /// API version to write: v1beta1 (as Flux's guide shows), v1beta2 (flux 2.3-2.6) or v1
    /// (flux 2.7+).
    #[arg(long, global = true, value_enum, default_value_t = ApiVersion::V1beta1)]
    api_version: ApiVersion,
}

/// `image.toolkit.fluxcd.io` versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ApiVersion {
    /// `image.toolkit.fluxcd.io/v1beta1`, what Flux's guide shows.
    V1beta1,
    /// `image.toolkit.fluxcd.io/v1beta2`.
    V1beta2,
    /// `image.toolkit.fluxcd.io/v1`.
    V1,
}

impl ApiVersion {
    fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1beta1 => "v1beta1",
            ApiVersion::V1beta2 => "v1beta2",
            ApiVersion::V1 => "v1",
        }
    }
}

#[derive(Debug, Subcommand)]
enum What {
    /// Image automation objects: ImageRepository, ImagePolicy, ImageUpdateAutomation.
    #[command(subcommand)]
    Image(Kind),
}

#[derive(Debug, Subcommand)]
enum Kind {
    /// An ImageRepository: which image repository to scan, and how often.
    Repository(RepositoryArgs),
    /// An ImagePolicy: how to pick the latest tag of an ImageRepository.
    Policy(PolicyArgs),
    /// An ImageUpdateAutomation: where to write policy results, and how to commit them.
    Update(UpdateArgs),
}

/// `flux create image repository` flags.
#[derive(Debug, clap::Args)]
struct RepositoryArgs {
    /// The object's name.
    name: String,
    /// The image repository to scan, e.g. ghcr.io/org/app or library/alpine (spec.image).
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// Scan interval (Go duration: 30s, 1m, 1h30m) (spec.interval).
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    interval: String,
    /// A docker-registry Secret with credentials (spec.secretRef.name).
    #[arg(long, value_name = "NAME")]
    secret_ref: Option<String>,
    /// A Secret with TLS certificates (spec.certSecretRef.name).
    #[arg(long, value_name = "NAME")]
    cert_ref: Option<String>,
    /// Timeout of one scan; defaults to the interval (spec.timeout).
    #[arg(long, value_name = "DURATION")]
    scan_timeout: Option<String>,
}

/// `flux create image policy` flags.
#[derive(Debug, clap::Args)]
struct PolicyArgs {
    /// The object's name.
    name: String,
    /// The ImageRepository whose tags to choose from (spec.imageRepositoryRef.name).
    #[arg(long, value_name = "NAME")]
    image_ref: Option<String>,
    /// A semver range, e.g. '5.0.x' or '>=1.0.0 <2.0.0' (spec.policy.semver.range).
    #[arg(long, value_name = "RANGE", allow_hyphen_values = true)]
    select_semver: Option<String>,
    /// Alphabetical order: asc selects the last, desc the first (spec.policy.alphabetical).
    #[arg(long, value_name = "ORDER")]
    select_alpha: Option<String>,
    /// Numerical order: asc selects the largest, desc the smallest (spec.policy.numerical).
    #[arg(long, value_name = "ORDER")]
    select_numeric: Option<String>,
    /// Only tags this regular expression matches (spec.filterTags.pattern).
    #[arg(long, value_name = "REGEX", allow_hyphen_values = true)]
    filter_regex: Option<String>,
    /// Compare this instead of the tag, e.g. '$ts' (spec.filterTags.extract).
    #[arg(long, value_name = "TEMPLATE", allow_hyphen_values = true)]
    filter_extract: Option<String>,
    /// Digest reflection: `Never`, `IfNotPresent` or `Always` (spec.digestReflectionPolicy;
    /// v1beta2 and v1).
    #[arg(long, value_name = "POLICY")]
    reflect_digest: Option<String>,
    /// With --reflect-digest=Always: how often to check digests (spec.interval; v1beta2 and
    /// v1).
    #[arg(long, value_name = "DURATION")]
    interval: Option<String>,
}

/// `flux create image update` flags.
#[derive(Debug, clap::Args)]
struct UpdateArgs {
    /// The object's name.
    name: String,
    /// The GitRepository to write to (spec.sourceRef.name).
    #[arg(long, value_name = "NAME")]
    git_repo_ref: Option<String>,
    /// The GitRepository's namespace, if not the object's (spec.sourceRef.namespace).
    #[arg(long, value_name = "NAMESPACE")]
    git_repo_namespace: Option<String>,
    /// Directory with the manifests to update; default the repository root (spec.update.path).
    #[arg(long, value_name = "PATH")]
    git_repo_path: Option<String>,
    /// The branch to check out (spec.git.checkout.ref.branch).
    #[arg(long, value_name = "BRANCH")]
    checkout_branch: Option<String>,
    /// The branch to push to; default the checkout branch (spec.git.push.branch).
    #[arg(long, value_name = "BRANCH")]
    push_branch: Option<String>,
    /// Commit author name (spec.git.commit.author.name).
    #[arg(long, value_name = "NAME")]
    author_name: Option<String>,
    /// Commit author email (spec.git.commit.author.email).
    #[arg(long, value_name = "EMAIL")]
    author_email: Option<String>,
    /// Commit message template, Go text/template (spec.git.commit.messageTemplate).
    #[arg(long, value_name = "TEMPLATE", allow_hyphen_values = true)]
    commit_template: Option<String>,
    /// A Secret with the commit signing key (spec.git.commit.signingKey.secretRef.name).
    #[arg(long, value_name = "NAME")]
    signing_key_secret: Option<String>,
    /// Signing key format: gpg or ssh (spec.git.commit.signingKey.type; v1 only).
    #[arg(long, value_name = "TYPE")]
    signing_key_type: Option<String>,
    /// How often to run the automation (spec.interval).
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    interval: String,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<Outcome> {
    let What::Image(kind) = &args.what;
    let (kind_word, name) = match kind {
        Kind::Repository(a) => ("repository", a.name.as_str()),
        Kind::Policy(a) => ("policy", a.name.as_str()),
        Kind::Update(a) => ("update", a.name.as_str()),
    };
    let api = args.common.api_version;
    let meta = Meta::new(&args.common, name)?;
    let mut object = match kind {
        Kind::Repository(a) => repository(a, &meta, api)?,
        Kind::Policy(a) => policy(a, &meta, api)?,
        Kind::Update(a) => update(a, &meta, api)?,
    };
    if !args.common.export {
        bail!(
            "imagebump has no cluster to apply objects to: add --export and redirect the YAML \
             into a file of your objects directory, e.g. `imagebump create image {kind_word} \
             {name} … --export > OBJECTS_DIR/{name}-{kind_word}.yaml`"
        );
    }
    yaml::through_json(&mut object).map_err(|reason| anyhow!("cannot export: {reason}"))?;
    let text = yaml::render(&object);
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("writing to standard output")?;
    Ok(Outcome::Success)
}

/// `metadata`: the checked name, namespace and labels.
struct Meta {
    name: String,
    namespace: String,
    labels: BTreeMap<String, String>,
}

impl Meta {
    fn new(common: &Common, name: &str) -> anyhow::Result<Self> {
        if !valid_object_name(name) {
            bail!(
                "name {name:?} is invalid: as in flux, it must be 2 to 63 characters of \
                 lowercase letters, digits and '-', starting and ending with a letter or digit"
            );
        }
        let namespace = match &common.namespace {
            Some(namespace) => namespace.clone(),
            None => namespace_from_env(),
        };
        if !is_dns1123_label(&namespace) {
            bail!(
                "namespace must be a valid DNS label (lowercase letters, digits and '-', at \
                 most 63): {namespace:?}"
            );
        }
        Ok(Meta {
            name: name.to_owned(),
            namespace,
            labels: parse_labels(&common.label)?,
        })
    }

    fn node(&self) -> yaml::Node {
        let mut entries = vec![
            ("name", yaml::Node::scalar(&self.name)),
            ("namespace", yaml::Node::scalar(&self.namespace)),
        ];
        if !self.labels.is_empty() {
            let labels = self
                .labels
                .iter()
                .map(|(key, value)| (key.clone(), yaml::Node::scalar(value)))
                .collect();
            entries.push(("labels", yaml::Node::sorted(labels)));
        }
        yaml::Node::map(entries)
    }
}

/// Flux's default namespace: `FLUX_SYSTEM_NAMESPACE` when it is a valid namespace (an invalid
/// one is ignored with a warning, as flux does), else flux-system.
fn namespace_from_env() -> String {
    match std::env::var("FLUX_SYSTEM_NAMESPACE") {
        Ok(value) if !value.is_empty() => {
            if is_dns1123_label(&value) {
                value
            } else {
                eprintln!("warning: ignoring invalid FLUX_SYSTEM_NAMESPACE {value:?}");
                DEFAULT_NAMESPACE.to_owned()
            }
        }
        _ => DEFAULT_NAMESPACE.to_owned(),
    }
}

/// The whole object: `apiVersion`, `kind`, `metadata`, `spec`.
fn object(api: ApiVersion, kind: &str, meta: &Meta, spec: yaml::Node) -> yaml::Node {
    yaml::Node::map(vec![
        (
            "apiVersion",
            yaml::Node::scalar(&format!("image.toolkit.fluxcd.io/{}", api.as_str())),
        ),
        ("kind", yaml::Node::scalar(kind)),
        ("metadata", meta.node()),
        ("spec", spec),
    ])
}

/// `{name: NAME}`.
fn reference(name: &str) -> yaml::Node {
    yaml::Node::map(vec![("name", yaml::Node::scalar(name))])
}

/// The value of an optional string flag: absent and empty are the same, as in flux.
fn given(flag: Option<&String>) -> Option<&str> {
    flag.map(String::as_str).filter(|value| !value.is_empty())
}

fn repository(args: &RepositoryArgs, meta: &Meta, api: ApiVersion) -> anyhow::Result<yaml::Node> {
    let image =
        given(args.image.as_ref()).ok_or_else(|| anyhow!("an image repository (--image) is required"))?;
    ImageRef::parse(image).context("unable to parse image value (--image)")?;
    let interval = duration_flag("--interval", &args.interval)?;
    let mut spec = vec![
        ("image", yaml::Node::scalar(image)),
        ("interval", yaml::Node::scalar(&duration::format(interval))),
    ];
    if let Some(timeout) = &args.scan_timeout {
        let timeout = duration_flag("--scan-timeout", timeout)?;
        if timeout != 0 {
            spec.push(("timeout", yaml::Node::scalar(&duration::format(timeout))));
        }
    }
    if let Some(secret) = given(args.secret_ref.as_ref()) {
        spec.push(("secretRef", reference(secret)));
    }
    if let Some(secret) = given(args.cert_ref.as_ref()) {
        spec.push(("certSecretRef", reference(secret)));
    }
    Ok(object(api, "ImageRepository", meta, yaml::Node::map(spec)))
}

fn policy(args: &PolicyArgs, meta: &Meta, api: ApiVersion) -> anyhow::Result<yaml::Node> {
    let image_ref = given(args.image_ref.as_ref()).ok_or_else(|| {
        anyhow!("the name of an ImageRepository in the namespace is required (--image-ref)")
    })?;
    let semver = given(args.select_semver.as_ref());
    let alpha = given(args.select_alpha.as_ref());
    let numeric = given(args.select_numeric.as_ref());
    let (choice, compiled) = match (semver, alpha, numeric) {
        (Some(range), None, None) => (
            (
                "semver",
                yaml::Node::map(vec![("range", yaml::Node::scalar(range))]),
            ),
            Policy::semver(range).with_context(|| format!("--select-semver {range:?}"))?,
        ),
        (None, Some(order), None) => (
            ("alphabetical", order_node("--select-alpha", order)?),
            Policy::alphabetical(order)?,
        ),
        (None, None, Some(order)) => (
            ("numerical", order_node("--select-numeric", order)?),
            Policy::numerical(order)?,
        ),
        (None, None, None) => {
            bail!("a policy must be given with --select-semver, --select-alpha or --select-numeric")
        }
        _ => bail!("only one of --select-semver, --select-alpha or --select-numeric can be given"),
    };
    let mut spec = vec![
        ("imageRepositoryRef", reference(image_ref)),
        ("policy", yaml::Node::map(vec![choice])),
    ];

    let extract = given(args.filter_extract.as_ref());
    match (given(args.filter_regex.as_ref()), extract) {
        (Some(pattern), extract) => {
            compiled
                .with_filter(pattern, extract.unwrap_or(""))
                .with_context(|| format!("--filter-regex {pattern:?}"))?;
            if let Some(extract) = extract {
                validate_extract(extract, &capture_names(pattern))?;
            }
            // `extract` has no `omitempty` in Flux's Go type: it is always written.
            spec.push((
                "filterTags",
                yaml::Node::map(vec![
                    ("pattern", yaml::Node::scalar(pattern)),
                    ("extract", yaml::Node::scalar(extract.unwrap_or(""))),
                ]),
            ));
        }
        (None, Some(_)) => bail!("cannot specify --filter-extract without specifying --filter-regex"),
        (None, None) => {}
    }

    let reflect = given(args.reflect_digest.as_ref());
    if let Some(reflect) = reflect {
        if !matches!(reflect, "Never" | "IfNotPresent" | "Always") {
            bail!(
                "invalid value for --reflect-digest {reflect:?}: must be one of 'Never', 'IfNotPresent', 'Always'"
            );
        }
        require_version(api, "--reflect-digest", "ImagePolicy", "digestReflectionPolicy")?;
        spec.push(("digestReflectionPolicy", yaml::Node::scalar(reflect)));
    }
    if let Some(interval) = &args.interval {
        let interval = duration_flag("--interval", interval)?;
        if interval != 0 {
            if reflect != Some("Always") {
                bail!(
                    "the --interval flag can only be used with the 'Always' digest reflection \
                     policy, use --reflect-digest=Always"
                );
            }
            spec.push(("interval", yaml::Node::scalar(&duration::format(interval))));
        }
    }
    Ok(object(api, "ImagePolicy", meta, yaml::Node::map(spec)))
}

/// `{order: asc|desc}`, with flux's check (exactly `asc` or `desc`).
fn order_node(flag: &str, order: &str) -> anyhow::Result<yaml::Node> {
    if order != "asc" && order != "desc" {
        bail!("{flag} must be one of [\"asc\", \"desc\"], not {order:?}");
    }
    Ok(yaml::Node::map(vec![("order", yaml::Node::scalar(order))]))
}

/// Refuses a flag whose field `api` does not have (they appeared in v1beta2).
fn require_version(api: ApiVersion, flag: &str, kind: &str, field: &str) -> anyhow::Result<()> {
    if api == ApiVersion::V1beta1 {
        bail!("{flag} needs --api-version v1beta2 or v1: {kind} v1beta1 has no {field}");
    }
    Ok(())
}

fn update(args: &UpdateArgs, meta: &Meta, api: ApiVersion) -> anyhow::Result<yaml::Node> {
    let repo = given(args.git_repo_ref.as_ref())
        .ok_or_else(|| anyhow!("a reference to a GitRepository is required (--git-repo-ref)"))?;
    let branch = given(args.checkout_branch.as_ref())
        .ok_or_else(|| anyhow!("the Git repository branch is required (--checkout-branch)"))?;
    let author_name = given(args.author_name.as_ref())
        .ok_or_else(|| anyhow!("the author name is required (--author-name)"))?;
    let author_email = given(args.author_email.as_ref())
        .ok_or_else(|| anyhow!("the author email is required (--author-email)"))?;
    let signing_secret = given(args.signing_key_secret.as_ref());
    let signing_type = given(args.signing_key_type.as_ref());
    if signing_type.is_some() && signing_secret.is_none() {
        bail!("--signing-key-type requires --signing-key-secret");
    }
    if let Some(kind) = signing_type {
        if kind != "gpg" && kind != "ssh" {
            bail!("--signing-key-type must be one of: gpg, ssh (not {kind:?})");
        }
        if api != ApiVersion::V1 {
            bail!(
                "--signing-key-type needs --api-version v1: ImageUpdateAutomation {} has no \
                 signingKey.type",
                api.as_str()
            );
        }
    }
    let interval = duration_flag("--interval", &args.interval)?;

    let mut source = vec![
        ("kind", yaml::Node::scalar("GitRepository")),
        ("name", yaml::Node::scalar(repo)),
    ];
    if let Some(namespace) = given(args.git_repo_namespace.as_ref()) {
        source.push(("namespace", yaml::Node::scalar(namespace)));
    }
    let mut commit = vec![(
        "author",
        yaml::Node::map(vec![
            ("name", yaml::Node::scalar(author_name)),
            ("email", yaml::Node::scalar(author_email)),
        ]),
    )];
    if let Some(template) = given(args.commit_template.as_ref()) {
        commit.push(("messageTemplate", yaml::Node::scalar(template)));
    }
    if let Some(secret) = signing_secret {
        let mut key = vec![("secretRef", reference(secret))];
        if let Some(kind) = signing_type {
            key.push(("type", yaml::Node::scalar(kind)));
        }
        commit.push(("signingKey", yaml::Node::map(key)));
    }
    let checkout = yaml::Node::map(vec![(
        "ref",
        yaml::Node::map(vec![("branch", yaml::Node::scalar(branch))]),
    )]);
    let mut git = vec![("checkout", checkout), ("commit", yaml::Node::map(commit))];
    if let Some(push) = given(args.push_branch.as_ref()) {
        git.push((
            "push",
            yaml::Node::map(vec![("branch", yaml::Node::scalar(push))]),
        ));
    }

    let mut spec = vec![
        ("interval", yaml::Node::scalar(&duration::format(interval))),
        ("sourceRef", yaml::Node::map(source)),
        ("git", yaml::Node::map(git)),
    ];
    if let Some(path) = given(args.git_repo_path.as_ref()) {
        spec.push((
            "update",
            yaml::Node::map(vec![
                ("path", yaml::Node::scalar(path)),
                ("strategy", yaml::Node::scalar("Setters")),
            ]),
        ));
    }
    let spec = if api == ApiVersion::V1beta1 {
        // The guide's order (see the module documentation); flux itself sorts.
        yaml::Node::in_order(spec)
    } else {
        yaml::Node::map(spec)
    };
    Ok(object(api, "ImageUpdateAutomation", meta, spec))
}

/// A duration flag in Go's syntax, in nanoseconds; negative durations are refused.
fn duration_flag(flag: &str, text: &str) -> anyhow::Result<i64> {
    let nanos = duration::parse_nanos(text).map_err(|reason| {
        anyhow!("{flag} {text:?} is not a duration: {reason} (Go syntax: 30s, 1m, 1h30m, 1.5h, 500ms)")
    })?;
    if nanos < 0 {
        bail!("{flag} {text:?}: a duration must not be negative");
    }
    Ok(nanos)
}

/// Flux's object name rule: `^[a-z0-9]([a-z0-9\-]){0,61}[a-z0-9]$` (so 2 to 63 characters).
fn valid_object_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (2..=63).contains(&bytes.len())
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

/// Kubernetes' DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
fn is_dns1123_label(text: &str) -> bool {
    let bytes = text.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (1..=63).contains(&bytes.len())
        && bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes.iter().all(|b| alnum(b) || *b == b'-')
}

/// Kubernetes' DNS-1123 subdomain: dot-separated labels, at most 253 characters.
fn is_dns1123_subdomain(text: &str) -> bool {
    text.len() <= 253 && text.split('.').all(is_dns1123_label)
}

/// The name part of a label key, and a label value: `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`,
/// at most 63 characters.
fn is_label_name(text: &str) -> bool {
    let bytes = text.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `--label` values as flux checks them: exactly one `=`, a qualified name as key
/// (`[prefix/]name`), a label value (empty allowed). A repeated key keeps the last value.
fn parse_labels(labels: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut result = BTreeMap::new();
    for label in labels {
        let mut parts = label.split('=');
        let (Some(key), Some(value), None) = (parts.next(), parts.next(), parts.next()) else {
            bail!("invalid label format {label:?}, must be key=value");
        };
        let name = match key.split_once('/') {
            Some((prefix, name)) => {
                if prefix.is_empty() || !is_dns1123_subdomain(prefix) {
                    bail!(
                        "invalid label {key:?}: the prefix before '/' must be a DNS subdomain \
                         (lowercase letters, digits, '-' and '.', at most 253)"
                    );
                }
                name
            }
            None => key,
        };
        if name.contains('/') || !is_label_name(name) {
            bail!(
                "invalid label {key:?}: the name must be 1 to 63 letters, digits, '-', '_' or \
                 '.', starting and ending with a letter or digit, after an optional prefix/"
            );
        }
        if !value.is_empty() && !is_label_name(value) {
            bail!(
                "invalid label value {value:?}: at most 63 letters, digits, '-', '_' or '.', \
                 starting and ending with a letter or digit"
            );
        }
        result.insert(key.to_owned(), value.to_owned());
    }
    Ok(result)
}

/// The named groups of a regular expression (`(?P<name>…)` and `(?<name>…)`), skipping
/// escapes, `\Q…\E` and character classes.
fn capture_names(pattern: &str) -> Vec<String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut names = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if chars.get(i + 1) == Some(&'Q') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '\\' && chars.get(i + 1) == Some(&'E')) {
                    i += 1;
                }
                i += 2;
            }
            '\\' => i += 2,
            '[' => i = skip_class(&chars, i),
            '(' if chars.get(i + 1) == Some(&'?') => {
                let start = match (chars.get(i + 2), chars.get(i + 3)) {
                    (Some('P'), Some('<')) => Some(i + 4),
                    (Some('<'), _) => Some(i + 3),
                    _ => None,
                };
                i += 1;
                if let Some(start) = start
                    && let Some(length) = chars[start..].iter().position(|c| *c == '>')
                {
                    names.push(chars[start..start + length].iter().collect());
                    i = start + length + 1;
                }
            }
            _ => i += 1,
        }
    }
    names
}

/// The index after the character class that opens at `open`.
fn skip_class(chars: &[char], open: usize) -> usize {
    let mut i = open + 1;
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    // A `]` first in the class is a literal.
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '[' if chars.get(i + 1) == Some(&':') => {
                // `[:alpha:]` inside a class.
                let rest = chars[i + 2..].windows(2).position(|w| w == [':', ']']);
                i = rest.map_or(i + 1, |p| i + 2 + p + 2);
            }
            ']' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// Flux's check of `--filter-extract`: every `$name` or `${name}` must name a group of the
/// pattern (numbers are not checked), and a `$` must start `$$`, a name or `{name}`.
fn validate_extract(template: &str, names: &[String]) -> anyhow::Result<()> {
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        rest = &rest[dollar..];
        if rest.as_bytes().get(1) == Some(&b'$') {
            rest = &rest[2..];
            continue;
        }
        let (braced, body) = match rest.get(1..).and_then(|r| r.strip_prefix('{')) {
            Some(body) => (true, body),
            None => (false, &rest[1..]),
        };
        let length = body
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(body.len(), |(at, _)| at);
        if length == 0 {
            bail!("--filter-extract {template:?} is malformed");
        }
        let name = &body[..length];
        let mut after = &body[length..];
        if braced {
            after = after
                .strip_prefix('}')
                .ok_or_else(|| anyhow!("--filter-extract {template:?} is malformed"))?;
        }
        rest = after;
        if !is_group_number(name) && !names.iter().any(|n| n == name) {
            bail!("capture group ${name} used in --filter-extract not found in --filter-regex");
        }
    }
    Ok(())
}

/// Whether Go's `Regexp.Expand` reads `name` as a group number: at most 9 digits, no leading
/// zero.
fn is_group_number(name: &str) -> bool {
    name.len() <= 9 && name.bytes().all(|b| b.is_ascii_digit()) && !(name.len() > 1 && name.starts_with('0'))
}

/// A block-style YAML emitter that writes what go-yaml v2 writes for the JSON of a Go object
/// (as `sigs.k8s.io/yaml` does): mappings of strings only, which is all these objects hold.
mod yaml;

/// go-yaml v2's map key order for strings: at the first difference, two letters compare by
/// code point, a non-letter sorts before a letter, and runs of digits compare as numbers
/// (`a2` < `a10`).
fn go_yaml_key_order(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    if go_yaml_key_less(a, b) {
        Ordering::Less
    } else {
        Ordering::Greater
    }
}

fn go_yaml_key_less(a: &str, b: &str) -> bool {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i] < br[i];
        }
        if al || bl {
            return bl;
        }
        let (mut an, mut bn) = (0_i64, 0_i64);
        if ar[i] == '0' || br[i] == '0' {
            // Leading zeros of a number that started earlier count.
            if ar[..i]
                .iter()
                .rev()
                .take_while(|c| c.is_ascii_digit())
                .any(|c| *c != '0')
            {
                an = 1;
                bn = 1;
            }
        }
        let run = |chars: &[char], n: &mut i64| {
            let mut end = i;
            while end < chars.len() && chars[end].is_ascii_digit() {
                *n = n
                    .wrapping_mul(10)
                    .wrapping_add(i64::from(u32::from(chars[end]) - u32::from('0')));
                end += 1;
            }
            end
        };
        let (a_end, b_end) = (run(&ar, &mut an), run(&br, &mut bn));
        if an != bn {
            return an < bn;
        }
        if a_end != b_end {
            return a_end < b_end;
        }
        return ar[i] < br[i];
    }
    ar.len() < br.len()
}

/// Whether go-yaml v2 reads `text`, written plain, back as a string: not as null, a
/// boolean (YAML 1.1: `yes`, `on`, `y`…), a number (Go's integer syntax with `_`, floats,
/// `.inf`), a timestamp, a merge key or a base-60 float (`1:30`).
fn plain_is_string(text: &str) -> bool {
    /// Plain scalars go-yaml v2 resolves by spelling: null, YAML 1.1 booleans, special
    /// floats, the merge key.
    const NOT_STRINGS: &[&str] = &[
        "", "~", "null", "Null", "NULL", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On",
        "ON", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", ".nan", ".NaN",
        ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", "<<",
    ];
    let Some(&first) = text.as_bytes().first() else {
        return false;
    };
    let resolves_to_string = match first {
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            !NOT_STRINGS.contains(&text)
        }
        b'.' => !NOT_STRINGS.contains(&text) && parse_go_float(text).is_none(),
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = text.replace('_', "");
            !(NOT_STRINGS.contains(&text)
                || is_timestamp(text)
                || go_parse_int(&plain)
                || (is_yaml_float(&plain) && parse_go_float(&plain).is_some()))
        }
        _ => true,
    };
    resolves_to_string && !is_base60_float(text)
}

/// Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds: optional sign (signed
/// only), `0x`/`0o`/`0b` prefixes, a leading `0` for octal, in range.
fn go_parse_int(text: &str) -> bool {
    let (negative, signed, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, true, &text[1..]),
        Some(b'+') => (false, true, &text[1..]),
        _ => (false, false, text),
    };
    let Some(magnitude) = go_parse_uint(digits) else {
        return false;
    };
    if !signed {
        return true;
    }
    let limit = if negative { 1_u64 << 63 } else { (1_u64 << 63) - 1 };
    magnitude <= limit
}

fn go_parse_uint(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return None;
    }
    let (base, digits) = if bytes[0] == b'0' && bytes.len() >= 3 {
        match bytes[1].to_ascii_lowercase() {
            b'b' => (2, &text[2..]),
            b'o' => (8, &text[2..]),
            b'x' => (16, &text[2..]),
            _ => (8, &text[1..]),
        }
    } else if bytes[0] == b'0' {
        (8, &text[1..])
    } else {
        (10, text)
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let digit = c.to_digit(36)?;
        if digit >= base {
            return None;
        }
        value = value
            .checked_mul(u64::from(base))?
            .checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// go-yaml v2's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(text: &str) -> bool {
    let mut rest = text.strip_prefix(['-', '+']).unwrap_or(text);
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    if let Some(after) = rest.strip_prefix('.') {
        let n = digits(after);
        if n == 0 {
            return false;
        }
        rest = &after[n..];
    } else {
        let n = digits(rest);
        if n == 0 {
            return false;
        }
        rest = &rest[n..];
        if let Some(after) = rest.strip_prefix('.') {
            rest = &after[digits(after)..];
        }
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        let n = digits(exponent);
        return n > 0 && n == exponent.len();
    }
    rest.is_empty()
}

/// go-yaml's base-60 pattern, which it still quotes: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`.
fn is_base60_float(text: &str) -> bool {
    let rest = text.strip_prefix(['-', '+']).unwrap_or(text);
    let Some((head, tail)) = rest.split_once(':') else {
        return false;
    };
    if !head.starts_with(|c: char| c.is_ascii_digit())
        || !head.bytes().all(|b| b.is_ascii_digit() || b == b'_')
    {
        return false;
    }
    let (groups, fraction) = match tail.split_once('.') {
        Some((groups, fraction)) => (groups, Some(fraction)),
        None => (tail, None),
    };
    let groups_ok = groups.split(':').all(|group| match group.as_bytes() {
        [d] => d.is_ascii_digit(),
        [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
        _ => false,
    });
    groups_ok && fraction.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit() || b == b'_'))
}

/// Whether go-yaml v2 reads `text` as a timestamp: Go's `time.Parse` with the layouts
/// `2006-1-2T15:4:5.999999999Z07:00` (also `t`), `2006-1-2 15:4:5.999999999` or `2006-1-2`.
fn is_timestamp(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return false;
    }
    let year: u32 = text[..4].parse().unwrap_or(0);
    let mut rest = &text[5..];
    let Some(month) = take_number(&mut rest) else {
        return false;
    };
    if !(1..=12).contains(&month) {
        return false;
    }
    let Some(after) = rest.strip_prefix('-') else {
        return false;
    };
    rest = after;
    let Some(day) = take_number(&mut rest) else {
        return false;
    };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day < 1 || day > days {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    let (needs_zone, after) = match rest.as_bytes()[0] {
        b'T' | b't' => (true, &rest[1..]),
        b' ' => (false, &rest[1..]),
        _ => return false,
    };
    rest = after;
    let Some(hour) = take_number(&mut rest) else {
        return false;
    };
    let Some(after) = rest.strip_prefix(':') else {
        return false;
    };
    rest = after;
    let Some(minute) = take_number(&mut rest) else {
        return false;
    };
    let Some(after) = rest.strip_prefix(':') else {
        return false;
    };
    rest = after;
    let Some(second) = take_number(&mut rest) else {
        return false;
    };
    if hour >= 24 || minute >= 60 || second >= 60 {
        return false;
    }
    if let Some(after) = rest.strip_prefix(['.', ',']) {
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            rest = &after[digits..];
        }
    }
    if !needs_zone {
        return rest.is_empty();
    }
    if rest == "Z" {
        return true;
    }
    let zone = rest.as_bytes();
    zone.len() == 6
        && matches!(zone[0], b'+' | b'-')
        && zone[1..3].iter().all(u8::is_ascii_digit)
        && zone[3] == b':'
        && zone[4..6].iter().all(u8::is_ascii_digit)
        && rest[1..3].parse::<u32>().is_ok_and(|h| h <= 24)
        && rest[4..6].parse::<u32>().is_ok_and(|m| m <= 60)
}

/// One or two digits, as Go's `time.Parse` reads `1`, `2`, `15`, `4` and `5`.
fn take_number(rest: &mut &str) -> Option<u32> {
    let digits = rest.bytes().take(2).take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let value = rest[..digits].parse().ok()?;
    *rest = &rest[digits..];
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_and_format_as_go() {
        let cases = [
            ("1m", "1m0s"),
            ("1m0s", "1m0s"),
            ("90s", "1m30s"),
            ("1.5h", "1h30m0s"),
            ("1h30m", "1h30m0s"),
            ("500ms", "500ms"),
            ("1500us", "1.5ms"),
            ("2µs", "2µs"),
            ("3ns", "3ns"),
            ("0", "0s"),
            ("0s", "0s"),
            ("+5m", "5m0s"),
            ("-1m", "-1m0s"),
            ("1.000000001s", "1.000000001s"),
            ("61.5s", "1m1.5s"),
            ("100h", "100h0m0s"),
            (".5s", "500ms"),
            ("2562047h47m16.854775807s", "2562047h47m16.854775807s"),
        ];
        for (input, want) in cases {
            let nanos = duration::parse_nanos(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(duration::format(nanos), want, "{input}");
        }
        for bad in [
            "",
            "1",
            "m",
            "1x",
            "1..5s",
            "1 s",
            ".s",
            "-",
            "9223372036854775808ns",
            "3000000h",
        ] {
            assert!(duration::parse_nanos(bad).is_err(), "{bad}");
        }
        assert_eq!(duration::parse_nanos("-9223372036854775808ns"), Ok(i64::MIN));
    }

    #[test]
    fn plain_strings_that_read_as_something_else() {
        let others = [
            "",
            "true",
            "yes",
            "Yes",
            "on",
            "y",
            "N",
            "off",
            "null",
            "~",
            "1",
            "-1",
            "+1",
            "1.10",
            "0x1F",
            "0o17",
            "0b101",
            "017",
            "1_000",
            "1e3",
            ".5",
            "1.",
            "-.inf",
            ".NaN",
            "2024-01-01",
            "2001-12-14t21:59:43.10-05:00",
            "2002-12-14 21:59:43",
            "1:30",
            "190:20:30.15",
            "08",
            "99999999999999999999",
        ];
        for text in others {
            assert!(!plain_is_string(text), "{text:?} reads as a string");
        }
        let strings = [
            "5.0.x",
            "1m0s",
            "v1.2.3",
            "1.2.3",
            "main",
            "yesterday",
            "0x",
            "<<",
            "1e",
            "1e999",
            "2024-13-01",
            "2023-02-29",
            "2001-12-14T21:59:43",
            "0xFFFFFFFFFFFFFFFFFF",
            "+",
            "-",
            ".",
            "./clusters/x",
            "1:60",
            "<<<",
            "onion",
            "0b2",
            "12:5x",
        ];
        for text in strings {
            assert!(plain_is_string(text), "{text:?} does not read as a string");
        }
    }

    #[test]
    fn scalar_styles_are_go_yaml_v2_styles() {
        let cases = [
            ("5.0.x", "k: 5.0.x"),
            ("", "k: \"\""),
            ("1.10", "k: \"1.10\""),
            ("true", "k: \"true\""),
            (">=1.0.0 <2.0.0", "k: '>=1.0.0 <2.0.0'"),
            (
                "{{range .Updated.Images}}{{println .}}{{end}}",
                "k: '{{range .Updated.Images}}{{println .}}{{end}}'",
            ),
            ("a: b", "k: 'a: b'"),
            ("a #b", "k: 'a #b'"),
            ("a#b", "k: a#b"),
            ("- a", "k: '- a'"),
            ("-a", "k: -a"),
            (" a", "k: ' a'"),
            ("a ", "k: 'a '"),
            ("it's", "k: it's"),
            ("'q'", "k: '''q'''"),
            ("@x", "k: '@x'"),
            ("?x", "k: ?x"),
            ("a:", "k: 'a:'"),
            ("---", "k: '---'"),
            ("a\tb", "k: \"a\\tb\""),
            ("a\"b\\", "k: a\"b\\"),
            ("\"a", "k: '\"a'"),
            ("é", "k: é"),
            ("😀", "k: \"\\U0001F600\""),
            ("a\nb", "k: |-\n  a\n  b"),
            ("a\nb\n", "k: |\n  a\n  b"),
            (" a\nb", "k: |2-\n   a\n  b"),
            ("a \nb", "k: \"a \\nb\""),
            (
                "^main-[a-f0-9]+-(?P<ts>[0-9]+)",
                "k: ^main-[a-f0-9]+-(?P<ts>[0-9]+)",
            ),
            ("$ts", "k: $ts"),
        ];
        for (value, want) in cases {
            let got = yaml::render(&yaml::Node::map(vec![("k", yaml::Node::scalar(value))]));
            assert_eq!(got, format!("{want}\n"), "{value:?}");
        }
    }

    #[test]
    fn long_scalars_fold_at_a_space_past_column_80() {
        let words = "word ".repeat(20);
        let text = words.trim_end();
        let got = yaml::render(&yaml::Node::map(vec![("k", yaml::Node::scalar(text))]));
        let first = format!("k: {}", "word ".repeat(16).trim_end());
        assert_eq!(got, format!("{first}\n  word word word word\n"));
        assert!(got.lines().all(|l| l.len() <= 83));
    }

    #[test]
    fn long_single_quoted_scalars_fold_too() {
        // A leading "- " forces single quotes; the body folds like a plain scalar, and `'` is
        // doubled.
        let text = format!("- {}it's", "word ".repeat(20));
        let got = yaml::render(&yaml::Node::map(vec![("k", yaml::Node::scalar(&text))]));
        assert!(got.starts_with("k: '- word"), "{got}");
        assert!(got.ends_with("it''s'\n"), "{got}");
        let lines: Vec<&str> = got.lines().collect();
        assert!(
            lines.len() > 1 && lines[1..].iter().all(|l| l.starts_with("  ")),
            "{got}"
        );
        // A line breaks at the first single space past column 80, so it ends within one word.
        assert!(lines.iter().all(|l| l.len() <= 80 + "word ".len() + 1), "{got}");
        let unfolded = lines.iter().map(|l| l.trim_start()).collect::<Vec<_>>().join(" ");
        assert_eq!(unfolded, format!("k: '{}'", text.replace('\'', "''")));
    }

    #[test]
    fn keys_sort_as_go_yaml_does() {
        let mut keys = vec![
            "b",
            "a10",
            "a2",
            "A",
            "a-b",
            "ab",
            "a_b",
            "a.b",
            "a",
            "z9",
            "team",
            "app.kubernetes.io/name",
        ];
        keys.sort_by(|a, b| go_yaml_key_order(a, b));
        assert_eq!(
            keys,
            [
                "A",
                "a",
                "a-b",
                "a.b",
                "a_b",
                "a2",
                "a10",
                "ab",
                "app.kubernetes.io/name",
                "b",
                "team",
                "z9"
            ]
        );
    }

    #[test]
    fn extract_templates_are_checked_as_flux_checks_them() {
        let names = capture_names(r"^main-[a-f0-9]+-(?P<ts>[0-9]+)(?<x>y)[(?P<no>)]\(?P<no2>)");
        assert_eq!(names, ["ts", "x"]);
        for ok in ["$ts", "${ts}", "$1", "${1}", "$$", "a$ts-$x", "$0", "$123456789"] {
            assert!(validate_extract(ok, &names).is_ok(), "{ok}");
        }
        for bad in ["$", "$-", "${ts", "$nope", "$01", "${}"] {
            assert!(validate_extract(bad, &names).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_labels_follow_kubernetes_rules() {
        assert!(valid_object_name("podinfo"));
        assert!(valid_object_name("a1"));
        assert!(!valid_object_name("a"));
        assert!(!valid_object_name("Podinfo"));
        assert!(!valid_object_name("-a"));
        assert!(!valid_object_name(&"a".repeat(64)));
        let labels = parse_labels(&[
            "app.kubernetes.io/name=podinfo".into(),
            "team=".into(),
            "team=a".into(),
        ])
        .unwrap();
        assert_eq!(labels.get("team").map(String::as_str), Some("a"));
        for bad in [
            "a",
            "a=b=c",
            "/a=b",
            "A_/b=c",
            "a/b/c=d",
            "-a=b",
            "a=-b",
            &format!("a={}", "b".repeat(64)),
        ] {
            assert!(parse_labels(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}

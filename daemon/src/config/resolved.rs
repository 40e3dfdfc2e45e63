//! The resolved stage: raw objects checked, compiled and defaulted as Flux would, references
//! resolved. What the daemon runs on; `imagebump check` reports the problems found on the way.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use imagebump_policy::Policy;
use imagebump_registry::{ExclusionList, ImageRef};
use imagebump_writer::template::Template;

use super::kinds::{
    GitRef, GitRepositorySpec, ImagePolicySpec, ImageRepositorySpec, ImageUpdateAutomationSpec, ReceiverSpec,
};
use super::objects::{Header, Kind, Reader, Ref, Spanned};
use super::yaml::Mark;
use super::{duration, raw};

/// An object's namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamespacedName {
    /// `metadata.namespace` (defaulted).
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl fmt::Display for NamespacedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Where an object came from, and its identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Namespace and name.
    pub key: NamespacedName,
    /// `apiVersion` as written.
    pub api_version: String,
    /// `metadata.labels`.
    pub labels: BTreeMap<String, String>,
    /// The file it was read from.
    pub file: PathBuf,
    /// Where its document starts.
    pub mark: Mark,
}

/// A resolved `ImageRepository`.
#[derive(Debug, Clone)]
pub struct ImageRepository {
    /// Identity and origin.
    pub meta: Meta,
    /// `spec.image` as written: the name a policy's `latestRef` carries.
    pub image_name: String,
    /// `spec.image`, parsed.
    pub image: ImageRef,
    /// `spec.interval`.
    pub interval: Duration,
    /// `spec.timeout`, defaulting to the interval (Flux), floored at 1 s.
    pub timeout: Duration,
    /// `spec.exclusionList` compiled (Flux's default `^.*\.sig$` when empty).
    pub exclusions: ExclusionList,
    /// `spec.secretRef`, in the repository's namespace.
    pub secret_ref: Option<NamespacedName>,
    /// `spec.certSecretRef`.
    pub cert_secret_ref: Option<NamespacedName>,
    /// `spec.proxySecretRef`.
    pub proxy_secret_ref: Option<NamespacedName>,
    /// `spec.provider`: `generic` (default), `aws`, `azure`, `gcp`.
    pub provider: String,
    /// `spec.insecure`.
    pub insecure: bool,
    /// `spec.suspend`.
    pub suspend: bool,
}

/// A resolved `ImagePolicy`.
#[derive(Debug, Clone)]
pub struct ImagePolicy {
    /// Identity and origin.
    pub meta: Meta,
    /// `spec.imageRepositoryRef` (namespace defaulted to the policy's).
    pub repository: NamespacedName,
    /// `spec.policy` and `spec.filterTags`, compiled.
    pub policy: Policy,
    /// `spec.digestReflectionPolicy`: `Never` (default), `IfNotPresent`, `Always`.
    pub digest_reflection_policy: String,
    /// `spec.interval` (only with `Always`).
    pub interval: Option<Duration>,
    /// `spec.suspend`.
    pub suspend: bool,
}

/// A resolved `ImageUpdateAutomation`.
#[derive(Debug, Clone)]
pub struct ImageUpdateAutomation {
    /// Identity and origin.
    pub meta: Meta,
    /// `spec.sourceRef` (a `GitRepository`; namespace defaulted).
    pub source: NamespacedName,
    /// `spec.interval`.
    pub interval: Duration,
    /// `spec.git.checkout.ref`; `None` uses the `GitRepository`'s ref.
    pub checkout: Option<GitRef>,
    /// `spec.git.commit.author.name`.
    pub author_name: String,
    /// `spec.git.commit.author.email`.
    pub author_email: String,
    /// `spec.git.commit.signingKey`: the Secret and `gpg` or `ssh`.
    pub signing_key: Option<(NamespacedName, String)>,
    /// `spec.git.commit.messageTemplate`, parsed; `None` is Flux's default message.
    pub message_template: Option<Template>,
    /// `spec.git.commit.messageTemplateValues`.
    pub message_template_values: BTreeMap<String, String>,
    /// `spec.git.push.branch`, defaulting to the checkout branch.
    pub push_branch: String,
    /// `spec.git.push.refspec`.
    pub push_refspec: Option<String>,
    /// `spec.git.push.options`.
    pub push_options: BTreeMap<String, String>,
    /// `spec.update.path` (default `.`); the strategy is always `Setters`.
    pub update_path: String,
    /// `spec.policySelector.matchLabels`; `None` selects every policy of the namespace.
    pub policy_selector: Option<BTreeMap<String, String>>,
    /// `spec.suspend`.
    pub suspend: bool,
}

/// A resolved `GitRepository`.
#[derive(Debug, Clone)]
pub struct GitRepository {
    /// Identity and origin.
    pub meta: Meta,
    /// `spec.url` (`http`, `https`, `ssh`, or `file` for local use).
    pub url: String,
    /// `spec.secretRef`.
    pub secret_ref: Option<NamespacedName>,
    /// `spec.proxySecretRef`: `address`, `username`, `password`.
    pub proxy_secret_ref: Option<NamespacedName>,
    /// `spec.timeout`, default 60 s.
    pub timeout: Duration,
    /// `spec.ref`; absent means branch `master` (Flux).
    pub git_ref: Option<GitRef>,
}

/// One `Receiver.spec.resources` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverResource {
    /// `kind`.
    pub kind: String,
    /// Namespace and name (`*` with `match_labels`).
    pub key: NamespacedName,
    /// `matchLabels`.
    pub match_labels: BTreeMap<String, String>,
}

/// A resolved `Receiver` (basic fields only).
#[derive(Debug, Clone)]
pub struct Receiver {
    /// Identity and origin.
    pub meta: Meta,
    /// `spec.type`.
    pub webhook_type: String,
    /// `spec.secretRef` (its `token` key).
    pub secret_ref: NamespacedName,
    /// `spec.resources`.
    pub resources: Vec<ReceiverResource>,
    /// `spec.events`.
    pub events: Vec<String>,
    /// `spec.suspend`.
    pub suspend: bool,
}

/// Everything loaded, by kind and `namespace/name`.
#[derive(Debug, Default)]
pub struct Objects {
    /// `ImageRepository` objects.
    pub image_repositories: BTreeMap<NamespacedName, ImageRepository>,
    /// `ImagePolicy` objects.
    pub image_policies: BTreeMap<NamespacedName, ImagePolicy>,
    /// `ImageUpdateAutomation` objects.
    pub automations: BTreeMap<NamespacedName, ImageUpdateAutomation>,
    /// `GitRepository` objects.
    pub git_repositories: BTreeMap<NamespacedName, GitRepository>,
    /// `Receiver` objects.
    pub receivers: BTreeMap<NamespacedName, Receiver>,
    /// `Secret` objects from the object files (not `secrets_dir`).
    pub secrets: BTreeMap<NamespacedName, super::secret::Secret>,
}

/// A raw object's spec, by kind.
#[derive(Debug)]
#[expect(clippy::large_enum_variant, reason = "one per object, built once per load")]
pub enum RawSpec {
    /// `ImageRepository`.
    ImageRepository(Box<ImageRepositorySpec>),
    /// `ImagePolicy`.
    ImagePolicy(Box<ImagePolicySpec>),
    /// `ImageUpdateAutomation`.
    ImageUpdateAutomation(Box<ImageUpdateAutomationSpec>),
    /// `GitRepository`.
    GitRepository(GitRepositorySpec),
    /// `Receiver`.
    Receiver(ReceiverSpec),
    /// `Secret`.
    Secret(super::kinds::SecretData),
}

/// What resolution needs to know about everything else.
pub struct World<'a> {
    /// Every object's kind and key (after duplicates are dropped).
    pub known: BTreeSet<(Kind, NamespacedName)>,
    /// Each `GitRepository`'s `spec.ref`, for push-branch inference.
    pub git_refs: BTreeMap<NamespacedName, Option<GitRef>>,
    /// Each `ImageRepository`'s `spec.accessFrom` selectors, for cross-namespace policies.
    pub access_from: BTreeMap<NamespacedName, Option<Vec<BTreeMap<String, String>>>>,
    /// `secrets_dir`, if configured.
    pub secrets_dir: Option<&'a Path>,
}

impl World<'_> {
    fn has(&self, kind: Kind, key: &NamespacedName) -> bool {
        self.known.contains(&(kind, key.clone()))
    }

    /// Flux's ACL for a policy in `namespace` using `repository`: the same namespace always;
    /// another only when one of the repository's `accessFrom.namespaceSelectors` matches the
    /// namespace's labels. Without Kubernetes the one label a namespace has is the one
    /// Kubernetes sets on every namespace, `kubernetes.io/metadata.name`; an empty selector
    /// matches every namespace.
    fn allows_access(&self, repository: &NamespacedName, namespace: &str) -> bool {
        if repository.namespace == namespace {
            return true;
        }
        let Some(Some(selectors)) = self.access_from.get(repository) else {
            return false;
        };
        selectors.iter().any(|labels| {
            labels
                .iter()
                .all(|(key, value)| key == "kubernetes.io/metadata.name" && value == namespace)
        })
    }

    fn has_secret(&self, key: &NamespacedName) -> bool {
        self.has(Kind::Secret, key)
            || self
                .secrets_dir
                .is_some_and(|d| d.join(&key.namespace).join(&key.name).is_dir())
    }
}

fn duration(r: &mut Reader<'_>, field: &str, value: Option<&Spanned<String>>) -> Option<Duration> {
    let value = value?;
    match duration::parse(&value.value) {
        Ok(d) => Some(d),
        Err(e) => {
            r.error(value.mark, format!("{field}: {e}"));
            None
        }
    }
}

fn required<'s>(
    r: &mut Reader<'_>,
    mark: Mark,
    field: &str,
    value: Option<&'s Spanned<String>>,
) -> Option<&'s Spanned<String>> {
    if value.is_none() {
        r.error(mark, format!("missing required field {field}"));
    }
    value
}

fn one_of(
    r: &mut Reader<'_>,
    field: &str,
    value: Option<&Spanned<String>>,
    allowed: &[&str],
    default: &str,
) -> String {
    match value {
        Some(v) if !allowed.contains(&v.value.as_str()) => {
            r.error(
                v.mark,
                format!(
                    "{field}: unknown value {:?}; expected one of {}",
                    v.value,
                    allowed.join(", ")
                ),
            );
            default.to_owned()
        }
        Some(v) => v.value.clone(),
        None => default.to_owned(),
    }
}

/// A reference resolved in `namespace` (or the reference's own), checked against `world`.
fn reference(
    r: &mut Reader<'_>,
    world: &World<'_>,
    field: &str,
    kind: Kind,
    namespace: &str,
    reference: Option<&Ref>,
) -> Option<NamespacedName> {
    let reference = reference?;
    let key = NamespacedName {
        namespace: reference
            .namespace
            .as_ref()
            .map_or(namespace, |n| n.value.as_str())
            .to_owned(),
        name: reference.name.value.clone(),
    };
    let found = if kind == Kind::Secret {
        world.has_secret(&key)
    } else {
        world.has(kind, &key)
    };
    if !found {
        let where_ = if kind == Kind::Secret && world.secrets_dir.is_some() {
            " (neither among the objects nor in secrets_dir)"
        } else {
            ""
        };
        r.error(
            reference.name.mark,
            format!("{field}: {kind} {key} not found{where_}"),
        );
    }
    Some(key)
}

/// Adds a resolved object, unless resolving it found an error (`valid` false): an object
/// with any error is left out whole.
fn keep<T>(valid: bool, objects: &mut BTreeMap<NamespacedName, T>, key: NamespacedName, object: Option<T>) {
    if let Some(object) = object.filter(|_| valid) {
        objects.insert(key, object);
    }
}

/// Resolves one object; problems go to `r`. `None` when the object cannot be used.
pub fn resolve(
    r: &mut Reader<'_>,
    world: &World<'_>,
    header: &Header,
    spec: &RawSpec,
    file: &Path,
    objects: &mut Objects,
) {
    let meta = Meta {
        key: NamespacedName {
            namespace: header.namespace.value.clone(),
            name: header.name.value.clone(),
        },
        api_version: header.api_version.clone(),
        labels: header.labels.clone(),
        file: file.to_path_buf(),
        mark: header.mark,
    };
    let errors_before = r.diagnostics.iter().filter(|d| d.is_error()).count();
    let ok = |r: &Reader<'_>| r.diagnostics.iter().filter(|d| d.is_error()).count() == errors_before;
    let key = meta.key.clone();
    match spec {
        RawSpec::ImageRepository(s) => {
            let object = image_repository(r, world, meta, s);
            keep(ok(r), &mut objects.image_repositories, key, object);
        }
        RawSpec::ImagePolicy(s) => {
            let object = image_policy(r, world, meta, s);
            keep(ok(r), &mut objects.image_policies, key, object);
        }
        RawSpec::ImageUpdateAutomation(s) => {
            let object = automation(r, world, meta, s);
            keep(ok(r), &mut objects.automations, key, object);
        }
        RawSpec::GitRepository(s) => {
            let object = git_repository(r, world, meta, s);
            keep(ok(r), &mut objects.git_repositories, key, object);
        }
        RawSpec::Receiver(s) => {
            let object = receiver(r, world, meta, s);
            keep(ok(r), &mut objects.receivers, key, object);
        }
        RawSpec::Secret(data) => {
            let secret = super::secret::Secret::from_parts(
                raw::ObjectMeta {
                    name: key.name.clone(),
                    namespace: Some(key.namespace.clone()),
                },
                data.secret_type.clone(),
                data.data
                    .iter()
                    .map(|(k, v)| (k.clone(), v.value.clone()))
                    .collect(),
                data.string_data.clone(),
            );
            for (name, value) in &data.data {
                if secret.get(name).is_err() {
                    r.error(value.mark, format!("data.{name} is not valid base64"));
                }
            }
            if ok(r) {
                objects.secrets.insert(key, secret);
            }
        }
    }
}

fn image_repository(
    r: &mut Reader<'_>,
    world: &World<'_>,
    meta: Meta,
    s: &ImageRepositorySpec,
) -> Option<ImageRepository> {
    let ns = meta.key.namespace.clone();
    let image = required(r, s.mark, "spec.image", s.image.as_ref()).and_then(|i| {
        ImageRef::parse(&i.value)
            .map(|parsed| (i.value.clone(), parsed))
            .map_err(|e| r.error(i.mark, format!("spec.image: {e}")))
            .ok()
    });
    let interval = required(r, s.mark, "spec.interval", s.interval.as_ref());
    let interval = duration(r, "spec.interval", interval);
    let timeout = duration(r, "spec.timeout", s.timeout.as_ref());
    let patterns: Vec<&str> = s
        .exclusion_list
        .iter()
        .flatten()
        .map(|p| p.value.as_str())
        .collect();
    let exclusions = ExclusionList::new(&patterns)
        .map_err(|e| {
            let mark = match &e {
                imagebump_registry::ExclusionError::Invalid { index, .. } => s
                    .exclusion_list
                    .as_ref()
                    .and_then(|l| l.get(*index))
                    .map(|p| p.mark),
                imagebump_registry::ExclusionError::TooMany(_) => None,
            };
            r.error(
                mark.or_else(|| s.exclusion_list.as_ref().and_then(|l| l.first()).map(|p| p.mark))
                    .unwrap_or(s.mark),
                format!("spec.{e}"),
            );
        })
        .ok();
    let provider = one_of(
        r,
        "spec.provider",
        s.provider.as_ref(),
        &["generic", "aws", "azure", "gcp"],
        "generic",
    );
    let secret_ref = reference(
        r,
        world,
        "spec.secretRef",
        Kind::Secret,
        &ns,
        s.secret_ref.as_ref(),
    );
    let cert_secret_ref = reference(
        r,
        world,
        "spec.certSecretRef",
        Kind::Secret,
        &ns,
        s.cert_secret_ref.as_ref(),
    );
    let proxy_secret_ref = reference(
        r,
        world,
        "spec.proxySecretRef",
        Kind::Secret,
        &ns,
        s.proxy_secret_ref.as_ref(),
    );
    if let Some(account) = &s.service_account_name {
        r.warn(
            account.mark,
            "spec.serviceAccountName is ignored: there are no Kubernetes service accounts here; \
             cloud logins use the daemon's own identity",
        );
    }
    if provider != "generic"
        && let Some(secret) = &s.secret_ref
    {
        r.warn(
            secret.name.mark,
            format!(
                "spec.secretRef is ignored: with spec.provider {provider} the credentials come from \
                 the cloud login (as in Flux); remove one of the two"
            ),
        );
    }
    let interval = interval?;
    let (image_name, image) = image?;
    Some(ImageRepository {
        meta,
        image_name,
        image,
        interval,
        // Flux: the timeout defaults to the interval and is floored at one second.
        timeout: timeout.unwrap_or(interval).max(Duration::from_secs(1)),
        exclusions: exclusions?,
        secret_ref,
        cert_secret_ref,
        proxy_secret_ref,
        provider,
        insecure: s.insecure,
        suspend: s.suspend,
    })
}

#[expect(clippy::too_many_lines, reason = "field after field, in Flux's order")]
fn image_policy(
    r: &mut Reader<'_>,
    world: &World<'_>,
    meta: Meta,
    s: &ImagePolicySpec,
) -> Option<ImagePolicy> {
    let ns = meta.key.namespace.clone();
    if s.image_repository_ref.is_none() {
        r.error(s.mark, "missing required field spec.imageRepositoryRef");
    }
    let repository = reference(
        r,
        world,
        "spec.imageRepositoryRef",
        Kind::ImageRepository,
        &ns,
        s.image_repository_ref.as_ref(),
    )
    .filter(|repository| {
        let allowed = world.allows_access(repository, &ns);
        if !allowed && let Some(reference) = &s.image_repository_ref {
            r.error(
                reference.name.mark,
                format!(
                    "spec.imageRepositoryRef: ImageRepository {repository} does not allow access from \
                     namespace {ns:?}; list it in the repository's spec.accessFrom.namespaceSelectors \
                     (matchLabels: {{kubernetes.io/metadata.name: {ns}}})"
                ),
            );
        }
        allowed
    });
    let order = |o: &Option<Spanned<String>>| {
        o.as_ref().map(|o| raw::OrderPolicy {
            order: o.value.clone(),
        })
    };
    let mut object = raw::ImagePolicy {
        metadata: raw::ObjectMeta {
            name: meta.key.name.clone(),
            namespace: Some(ns.clone()),
        },
        spec: raw::ImagePolicySpec {
            policy: raw::PolicyChoice {
                semver: s.semver.as_ref().map(|range| raw::SemverPolicy {
                    range: range.value.clone(),
                }),
                alphabetical: order(&s.alphabetical),
                numerical: order(&s.numerical),
            },
            filter_tags: None,
        },
    };
    let policy = match s.policy {
        None => {
            r.error(s.mark, "missing required field spec.policy");
            None
        }
        Some(policy_mark) => {
            // The rule first, on its own, so that its problem points at its own field.
            let rule_mark = [&s.semver, &s.alphabetical, &s.numerical]
                .into_iter()
                .flatten()
                .next()
                .map_or(policy_mark, |v| v.mark);
            let rule = super::compile_policy(&object).map_err(|e| r.error(rule_mark, format!("{e:#}")));
            // The filter on its own too, so that a bad rule does not hide a bad pattern.
            let filter = if s.filter_pattern.is_none() && s.filter_extract.is_none() {
                Ok(None)
            } else {
                let pattern = s
                    .filter_pattern
                    .as_ref()
                    .map(|p| p.value.clone())
                    .unwrap_or_default();
                let extract = s
                    .filter_extract
                    .as_ref()
                    .map(|p| p.value.clone())
                    .unwrap_or_default();
                let mark = s
                    .filter_pattern
                    .as_ref()
                    .or(s.filter_extract.as_ref())
                    .map_or(s.mark, |p| p.mark);
                Policy::alphabetical("asc")
                    .and_then(|p| p.with_filter(&pattern, &extract))
                    .map(|_| Some(raw::FilterTags { pattern, extract }))
                    .map_err(|e| {
                        r.error(
                            mark,
                            format!("spec.filterTags.pattern: {:#}", anyhow::Error::new(e)),
                        );
                    })
            };
            match (rule, filter) {
                (Ok(policy), Ok(None)) => Some(policy),
                (Ok(_), Ok(Some(filter))) => {
                    object.spec.filter_tags = Some(filter);
                    super::compile_policy(&object)
                        .map_err(|e| r.error(s.mark, format!("{e:#}")))
                        .ok()
                }
                _ => None,
            }
        }
    };
    let digest_reflection_policy = one_of(
        r,
        "spec.digestReflectionPolicy",
        s.digest_reflection_policy.as_ref(),
        &["Never", "IfNotPresent", "Always"],
        "Never",
    );
    let interval = duration(r, "spec.interval", s.interval.as_ref());
    match (&s.interval, digest_reflection_policy.as_str()) {
        (Some(i), "Never" | "IfNotPresent") => {
            r.error(
                i.mark,
                "spec.interval is only allowed with spec.digestReflectionPolicy: Always",
            );
        }
        (None, "Always") => r.error(
            s.mark,
            "spec.interval is required with spec.digestReflectionPolicy: Always",
        ),
        _ => {}
    }
    Some(ImagePolicy {
        meta,
        repository: repository?,
        policy: policy?,
        digest_reflection_policy,
        interval,
        suspend: s.suspend,
    })
}

#[expect(clippy::too_many_lines, reason = "field after field, in Flux's order")]
fn automation(
    r: &mut Reader<'_>,
    world: &World<'_>,
    meta: Meta,
    s: &ImageUpdateAutomationSpec,
) -> Option<ImageUpdateAutomation> {
    let ns = meta.key.namespace.clone();
    if let Some(kind) = &s.source_kind
        && kind.value != "GitRepository"
    {
        r.error(
            kind.mark,
            format!(
                "spec.sourceRef.kind: unknown value {:?}; expected GitRepository",
                kind.value
            ),
        );
    }
    if s.source_ref.is_none() {
        r.error(s.mark, "missing required field spec.sourceRef.name");
    }
    let source = reference(
        r,
        world,
        "spec.sourceRef",
        Kind::GitRepository,
        &ns,
        s.source_ref.as_ref(),
    );
    let interval = required(r, s.mark, "spec.interval", s.interval.as_ref());
    let interval = duration(r, "spec.interval", interval);
    let Some(git_mark) = s.git else {
        r.error(s.mark, "missing required field spec.git");
        return None;
    };
    let author_email = match s.commit {
        None => {
            r.error(git_mark, "missing required field spec.git.commit");
            None
        }
        Some(commit_mark) => required(
            r,
            commit_mark,
            "spec.git.commit.author.email",
            s.author_email.as_ref(),
        )
        .map(|e| e.value.clone()),
    };
    let signing_key = s.signing_key.and_then(|mark| {
        if s.signing_key_secret.is_none() {
            r.error(
                mark,
                "missing required field spec.git.commit.signingKey.secretRef",
            );
        }
        let secret = reference(
            r,
            world,
            "spec.git.commit.signingKey.secretRef",
            Kind::Secret,
            &ns,
            s.signing_key_secret.as_ref(),
        );
        let kind = one_of(
            r,
            "spec.git.commit.signingKey.type",
            s.signing_key_type.as_ref(),
            &["gpg", "ssh", ""],
            "gpg",
        );
        secret.map(|secret| (secret, if kind.is_empty() { "gpg".to_owned() } else { kind }))
    });
    let message_template = s.message_template.as_ref().and_then(|t| {
        Template::parse("commit message", &t.value)
            .map_err(|e| r.error(t.mark, format!("spec.git.commit.messageTemplate: {e}")))
            .ok()
    });
    one_of(
        r,
        "spec.update.strategy",
        s.update_strategy.as_ref(),
        &["Setters"],
        "Setters",
    );
    if let Some(mark) = s.policy_match_expressions {
        r.error(
            mark,
            "spec.policySelector.matchExpressions is not supported yet; use matchLabels",
        );
    }
    // Flux: without push.branch, push to the checkout branch: git.checkout.ref, else the
    // GitRepository's ref, else `master`. A checkout by tag, semver or commit has no branch.
    let checkout = s.checkout.clone().or_else(|| {
        source
            .as_ref()
            .and_then(|k| world.git_refs.get(k).cloned().flatten())
    });
    let push_branch = match (&s.push_branch, &checkout) {
        (Some(branch), _) => Some(branch.value.clone()),
        (None, None) => Some("master".to_owned()),
        (None, Some(GitRef { branch: Some(b), .. })) => Some(b.clone()),
        (None, Some(_)) => {
            r.error(
                git_mark,
                "spec.git.push.branch not set, and it cannot be inferred: the checkout ref names no branch",
            );
            None
        }
    };
    Some(ImageUpdateAutomation {
        meta,
        source: source?,
        interval: interval?,
        checkout: s.checkout.clone(),
        author_name: s
            .author_name
            .as_ref()
            .map(|n| n.value.clone())
            .unwrap_or_default(),
        author_email: author_email?,
        signing_key,
        message_template,
        message_template_values: s.message_template_values.clone(),
        push_branch: push_branch?,
        push_refspec: s.push_refspec.as_ref().map(|p| p.value.clone()),
        push_options: s.push_options.clone(),
        update_path: s
            .update_path
            .as_ref()
            .map_or_else(|| ".".to_owned(), |p| p.value.clone()),
        policy_selector: s.policy_match_labels.clone(),
        suspend: s.suspend,
    })
}

fn git_repository(
    r: &mut Reader<'_>,
    world: &World<'_>,
    meta: Meta,
    s: &GitRepositorySpec,
) -> Option<GitRepository> {
    let ns = meta.key.namespace.clone();
    let url = required(r, s.mark, "spec.url", s.url.as_ref()).and_then(|u| {
        // Flux accepts http, https and ssh; imagebump also pushes to file:// (local mirrors).
        let ok = ["http://", "https://", "ssh://", "file://"].iter().any(|p| u.value.starts_with(p));
        if !ok {
            r.error(u.mark, format!("spec.url {:?} must start with http://, https://, ssh:// or file:// (scp-style git@host:path is not accepted, as in Flux)", u.value));
        }
        ok.then(|| u.value.clone())
    });
    // Checked for Flux's sake, not used: the GitRepository is read only for where to push.
    duration(r, "spec.interval", s.interval.as_ref());
    let timeout = duration(r, "spec.timeout", s.timeout.as_ref());
    let provider = one_of(
        r,
        "spec.provider",
        s.provider.as_ref(),
        &["generic", "github", "azure", "aws"],
        "generic",
    );
    if provider != "generic"
        && let Some(p) = &s.provider
    {
        r.warn(
            p.mark,
            format!("spec.provider {provider} is not supported; push with a secretRef (username and password or bearerToken)"),
        );
    }
    let secret_ref = reference(
        r,
        world,
        "spec.secretRef",
        Kind::Secret,
        &ns,
        s.secret_ref.as_ref(),
    );
    let proxy_secret_ref = reference(
        r,
        world,
        "spec.proxySecretRef",
        Kind::Secret,
        &ns,
        s.proxy_secret_ref.as_ref(),
    );
    if url.as_deref().is_some_and(|u| u.starts_with("ssh://")) && s.secret_ref.is_none() {
        r.error(
            s.mark,
            "spec.secretRef is required for an ssh:// url (identity and known_hosts)",
        );
    }
    Some(GitRepository {
        meta,
        url: url?,
        secret_ref,
        proxy_secret_ref,
        timeout: timeout.unwrap_or(Duration::from_mins(1)),
        git_ref: s.git_ref.clone(),
    })
}

/// Receiver types notification-controller serves.
const RECEIVER_TYPES: [&str; 12] = [
    "generic",
    "generic-hmac",
    "github",
    "gitlab",
    "bitbucket",
    "harbor",
    "dockerhub",
    "quay",
    "gcr",
    "nexus",
    "acr",
    "cdevents",
];

fn receiver(r: &mut Reader<'_>, world: &World<'_>, meta: Meta, s: &ReceiverSpec) -> Option<Receiver> {
    let ns = meta.key.namespace.clone();
    let receiver_type = required(r, s.mark, "spec.type", s.receiver_type.as_ref()).map(|t| t.value.clone());
    one_of(
        r,
        "spec.type",
        s.receiver_type.as_ref(),
        &RECEIVER_TYPES,
        "generic",
    );
    if s.secret_ref.is_none() {
        r.error(s.mark, "missing required field spec.secretRef");
    }
    let secret_ref = reference(
        r,
        world,
        "spec.secretRef",
        Kind::Secret,
        &ns,
        s.secret_ref.as_ref(),
    );
    if s.resources.is_empty() {
        r.error(s.mark, "missing required field spec.resources");
    }
    let mut resources = Vec::new();
    for res in &s.resources {
        let (Some(kind), Some(name)) = (&res.kind, &res.name) else {
            continue;
        };
        let key = NamespacedName {
            namespace: res.namespace.as_ref().map_or(ns.clone(), |n| n.value.clone()),
            name: name.value.clone(),
        };
        let target = match kind.value.as_str() {
            "ImageRepository" => Some(Kind::ImageRepository),
            "ImagePolicy" => Some(Kind::ImagePolicy),
            "ImageUpdateAutomation" => Some(Kind::ImageUpdateAutomation),
            "GitRepository" => Some(Kind::GitRepository),
            _ => None,
        };
        if name.value == "*" && res.match_labels.is_empty() {
            r.error(name.mark, "spec.resources: name \"*\" needs matchLabels");
        } else if let Some(target) = target
            && name.value != "*"
            && !world.has(target, &key)
        {
            r.error(name.mark, format!("spec.resources: {target} {key} not found"));
        }
        resources.push(ReceiverResource {
            kind: kind.value.clone(),
            key,
            match_labels: res.match_labels.clone(),
        });
    }
    duration(r, "spec.interval", s.interval.as_ref());
    Some(Receiver {
        meta,
        webhook_type: receiver_type?,
        secret_ref: secret_ref?,
        resources,
        events: s.events.clone(),
        suspend: s.suspend,
    })
}

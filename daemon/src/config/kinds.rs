//! Raw mirrors of each kind's fields (the raw stage, continued from [`objects`](super::objects)):
//! every value optional and spanned, exactly as written. Flux's defaults and checks are applied
//! by [`resolved`](super::resolved).

use std::collections::BTreeMap;

use super::objects::{Fields, Reader, Ref, Spanned};
use super::yaml::{Mark, Node};

type Text = Option<Spanned<String>>;

/// Top-level keys of the Flux kinds (`status` is written by controllers and ignored).
const TOP: [&str; 5] = ["apiVersion", "kind", "metadata", "spec", "status"];

/// `ImageRepository.spec`.
#[derive(Debug, Clone, Default)]
pub struct ImageRepositorySpec {
    /// Where `spec` starts.
    pub mark: Mark,
    /// `image`.
    pub image: Text,
    /// `interval`.
    pub interval: Text,
    /// `timeout`.
    pub timeout: Text,
    /// `secretRef`.
    pub secret_ref: Option<Ref>,
    /// `certSecretRef`.
    pub cert_secret_ref: Option<Ref>,
    /// `proxySecretRef`.
    pub proxy_secret_ref: Option<Ref>,
    /// `serviceAccountName`.
    pub service_account_name: Text,
    /// `exclusionList`.
    pub exclusion_list: Option<Vec<Spanned<String>>>,
    /// `provider`.
    pub provider: Text,
    /// `insecure`.
    pub insecure: bool,
    /// `suspend`.
    pub suspend: bool,
    /// `accessFrom.namespaceSelectors[].matchLabels`; `None` without `accessFrom`.
    pub access_from: Option<Vec<BTreeMap<String, String>>>,
}

/// `ImagePolicy.spec`.
#[derive(Debug, Clone, Default)]
pub struct ImagePolicySpec {
    /// Where `spec` starts.
    pub mark: Mark,
    /// `imageRepositoryRef`.
    pub image_repository_ref: Option<Ref>,
    /// Where `policy` starts, if present.
    pub policy: Option<Mark>,
    /// `policy.semver.range`.
    pub semver: Text,
    /// `policy.alphabetical.order` (`Some("")` when `alphabetical: {}`).
    pub alphabetical: Text,
    /// `policy.numerical.order`.
    pub numerical: Text,
    /// `filterTags.pattern`.
    pub filter_pattern: Text,
    /// `filterTags.extract`.
    pub filter_extract: Text,
    /// `digestReflectionPolicy`.
    pub digest_reflection_policy: Text,
    /// `interval`.
    pub interval: Text,
    /// `suspend`.
    pub suspend: bool,
}

/// A git reference: `GitRepository.spec.ref` or `ImageUpdateAutomation.spec.git.checkout.ref`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitRef {
    /// `branch`.
    pub branch: Option<String>,
    /// `tag`.
    pub tag: Option<String>,
    /// `semver`.
    pub semver: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `commit`.
    pub commit: Option<String>,
}

/// `ImageUpdateAutomation.spec`.
#[derive(Debug, Clone, Default)]
pub struct ImageUpdateAutomationSpec {
    /// Where `spec` starts.
    pub mark: Mark,
    /// `sourceRef.kind`.
    pub source_kind: Text,
    /// `sourceRef` name and namespace.
    pub source_ref: Option<Ref>,
    /// `interval`.
    pub interval: Text,
    /// Where `git` starts, if present.
    pub git: Option<Mark>,
    /// `git.checkout.ref`.
    pub checkout: Option<GitRef>,
    /// Where `git.commit` starts, if present.
    pub commit: Option<Mark>,
    /// `git.commit.author.email`.
    pub author_email: Text,
    /// `git.commit.author.name`.
    pub author_name: Text,
    /// `git.commit.signingKey.secretRef`.
    pub signing_key_secret: Option<Ref>,
    /// Where `signingKey` starts, if present.
    pub signing_key: Option<Mark>,
    /// `git.commit.signingKey.type`.
    pub signing_key_type: Text,
    /// `git.commit.messageTemplate`.
    pub message_template: Text,
    /// `git.commit.messageTemplateValues`.
    pub message_template_values: BTreeMap<String, String>,
    /// `git.push.branch`.
    pub push_branch: Text,
    /// `git.push.refspec`.
    pub push_refspec: Text,
    /// `git.push.options`.
    pub push_options: BTreeMap<String, String>,
    /// `update.strategy`.
    pub update_strategy: Text,
    /// `update.path`.
    pub update_path: Text,
    /// `policySelector.matchLabels`.
    pub policy_match_labels: Option<BTreeMap<String, String>>,
    /// Where `policySelector.matchExpressions` starts (not supported yet).
    pub policy_match_expressions: Option<Mark>,
    /// `suspend`.
    pub suspend: bool,
}

/// `GitRepository.spec`.
#[derive(Debug, Clone, Default)]
pub struct GitRepositorySpec {
    /// Where `spec` starts.
    pub mark: Mark,
    /// `url`.
    pub url: Text,
    /// `secretRef`.
    pub secret_ref: Option<Ref>,
    /// `proxySecretRef`.
    pub proxy_secret_ref: Option<Ref>,
    /// `interval`.
    pub interval: Text,
    /// `timeout`.
    pub timeout: Text,
    /// `ref`.
    pub git_ref: Option<GitRef>,
    /// `provider`.
    pub provider: Text,
}

/// One of `Receiver.spec.resources`.
#[derive(Debug, Clone)]
pub struct ReceiverResource {
    /// `kind`.
    pub kind: Text,
    /// `name` (`*` with `matchLabels`).
    pub name: Text,
    /// `namespace`.
    pub namespace: Text,
    /// `matchLabels`.
    pub match_labels: BTreeMap<String, String>,
}

/// `Receiver.spec`.
#[derive(Debug, Clone, Default)]
pub struct ReceiverSpec {
    /// Where `spec` starts.
    pub mark: Mark,
    /// `type`.
    pub receiver_type: Text,
    /// `secretRef`.
    pub secret_ref: Option<Ref>,
    /// `resources`.
    pub resources: Vec<ReceiverResource>,
    /// `events`.
    pub events: Vec<String>,
    /// `interval`.
    pub interval: Text,
    /// `suspend`.
    pub suspend: bool,
}

/// A `Secret`'s contents, still encoded.
#[derive(Debug, Clone, Default)]
pub struct SecretData {
    /// `type`.
    pub secret_type: String,
    /// `data` (base64).
    pub data: BTreeMap<String, Spanned<String>>,
    /// `stringData`.
    pub string_data: BTreeMap<String, String>,
}

/// The `spec` mapping of `root`, warning about unknown top-level keys; missing is an error.
fn spec<'n>(r: &mut Reader<'_>, root: &'n Node, known: &[&str]) -> Option<Fields<'n>> {
    let top = r.mapping(root, "", Some(&TOP));
    let spec = r.child(&top, "spec", Some(known));
    if spec.is_none() {
        r.error(root.mark, "missing required field spec");
    }
    spec
}

fn git_ref(r: &mut Reader<'_>, fields: &Fields<'_>, key: &str) -> Option<GitRef> {
    let map = r.child(fields, key, Some(&["branch", "tag", "semver", "name", "commit"]))?;
    let mut get = |k| r.string(&map, k).map(|s| s.value);
    Some(GitRef {
        branch: get("branch"),
        tag: get("tag"),
        semver: get("semver"),
        name: get("name"),
        commit: get("commit"),
    })
}

/// Reads `ImageRepository.spec`.
pub fn image_repository(r: &mut Reader<'_>, root: &Node) -> Option<ImageRepositorySpec> {
    let s = spec(
        r,
        root,
        &[
            "image",
            "interval",
            "timeout",
            "secretRef",
            "certSecretRef",
            "proxySecretRef",
            "serviceAccountName",
            "suspend",
            "accessFrom",
            "exclusionList",
            "provider",
            "insecure",
        ],
    )?;
    Some(ImageRepositorySpec {
        mark: s.mark,
        image: r.string(&s, "image"),
        interval: r.string(&s, "interval"),
        timeout: r.string(&s, "timeout"),
        secret_ref: r.reference(&s, "secretRef", false),
        cert_secret_ref: r.reference(&s, "certSecretRef", false),
        proxy_secret_ref: r.reference(&s, "proxySecretRef", false),
        service_account_name: r.string(&s, "serviceAccountName"),
        exclusion_list: r.strings(&s, "exclusionList"),
        provider: r.string(&s, "provider"),
        insecure: r.bool(&s, "insecure"),
        suspend: r.bool(&s, "suspend"),
        access_from: r
            .child(&s, "accessFrom", Some(&["namespaceSelectors"]))
            .map(|access| {
                r.mappings(&access, "namespaceSelectors", Some(&["matchLabels"]))
                    .iter()
                    .map(|selector| r.string_map(selector, "matchLabels"))
                    .collect()
            }),
    })
}

/// Reads `ImagePolicy.spec`.
pub fn image_policy(r: &mut Reader<'_>, root: &Node) -> Option<ImagePolicySpec> {
    let s = spec(
        r,
        root,
        &[
            "imageRepositoryRef",
            "policy",
            "filterTags",
            "digestReflectionPolicy",
            "interval",
            "suspend",
        ],
    )?;
    let mut out = ImagePolicySpec {
        mark: s.mark,
        image_repository_ref: r.reference(&s, "imageRepositoryRef", true),
        digest_reflection_policy: r.string(&s, "digestReflectionPolicy"),
        interval: r.string(&s, "interval"),
        suspend: r.bool(&s, "suspend"),
        ..ImagePolicySpec::default()
    };
    if let Some(policy) = r.child(&s, "policy", Some(&["semver", "alphabetical", "numerical"])) {
        out.policy = Some(policy.mark);
        if let Some(semver) = r.child(&policy, "semver", Some(&["range"])) {
            out.semver = r.required(&semver, "range");
        }
        for (key, slot) in [
            ("alphabetical", &mut out.alphabetical),
            ("numerical", &mut out.numerical),
        ] {
            if policy.has(key) {
                let order = r.child(&policy, key, Some(&["order"]));
                let mark = order.as_ref().map_or(policy.mark, |o| o.mark);
                let value = order.and_then(|o| r.string(&o, "order"));
                *slot = Some(value.unwrap_or(Spanned {
                    value: String::new(),
                    mark,
                }));
            }
        }
    }
    if let Some(filter) = r.child(&s, "filterTags", Some(&["pattern", "extract"])) {
        out.filter_pattern = r.string(&filter, "pattern");
        out.filter_extract = r.string(&filter, "extract");
    }
    Some(out)
}

/// Reads `ImageUpdateAutomation.spec`.
pub fn image_update_automation(r: &mut Reader<'_>, root: &Node) -> Option<ImageUpdateAutomationSpec> {
    let s = spec(
        r,
        root,
        &[
            "sourceRef",
            "interval",
            "git",
            "update",
            "policySelector",
            "suspend",
        ],
    )?;
    let mut out = ImageUpdateAutomationSpec {
        mark: s.mark,
        interval: r.string(&s, "interval"),
        suspend: r.bool(&s, "suspend"),
        ..ImageUpdateAutomationSpec::default()
    };
    if let Some(source) = r.child(
        &s,
        "sourceRef",
        Some(&["kind", "name", "namespace", "apiVersion"]),
    ) {
        out.source_kind = r.string(&source, "kind");
        out.source_ref = r.required(&source, "name").map(|name| Ref {
            name,
            namespace: r.string(&source, "namespace"),
            mark: source.mark,
        });
    }
    if let Some(git) = r.child(&s, "git", Some(&["checkout", "commit", "push"])) {
        out.git = Some(git.mark);
        if let Some(checkout) = r.child(&git, "checkout", Some(&["ref"])) {
            out.checkout = git_ref(r, &checkout, "ref");
            if out.checkout.is_none() {
                r.error(checkout.mark, "missing required field spec.git.checkout.ref");
            }
        }
        if let Some(commit) = r.child(
            &git,
            "commit",
            Some(&["author", "signingKey", "messageTemplate", "messageTemplateValues"]),
        ) {
            out.commit = Some(commit.mark);
            if let Some(author) = r.child(&commit, "author", Some(&["email", "name"])) {
                out.author_email = r.string(&author, "email");
                out.author_name = r.string(&author, "name");
            }
            if let Some(key) = r.child(&commit, "signingKey", Some(&["secretRef", "type"])) {
                out.signing_key = Some(key.mark);
                out.signing_key_secret = r.reference(&key, "secretRef", false);
                out.signing_key_type = r.string(&key, "type");
            }
            out.message_template = r.string(&commit, "messageTemplate");
            out.message_template_values = r.string_map(&commit, "messageTemplateValues");
        }
        if let Some(push) = r.child(&git, "push", Some(&["branch", "refspec", "options"])) {
            out.push_branch = r.string(&push, "branch");
            out.push_refspec = r.string(&push, "refspec");
            out.push_options = r.string_map(&push, "options");
        }
    }
    if let Some(update) = r.child(&s, "update", Some(&["strategy", "path"])) {
        out.update_strategy = r.string(&update, "strategy");
        out.update_path = r.string(&update, "path");
    }
    if let Some(selector) = r.child(&s, "policySelector", Some(&["matchLabels", "matchExpressions"])) {
        out.policy_match_labels = Some(r.string_map(&selector, "matchLabels"));
        out.policy_match_expressions = selector.get("matchExpressions").map(|n| n.mark);
    }
    Some(out)
}

/// Reads `GitRepository.spec`. Fields the source-controller uses and imagebump ignores
/// (`ignore`, `include`, `verify`, …) are accepted without a warning.
pub fn git_repository(r: &mut Reader<'_>, root: &Node) -> Option<GitRepositorySpec> {
    let s = spec(
        r,
        root,
        &[
            "url",
            "secretRef",
            "proxySecretRef",
            "interval",
            "timeout",
            "ref",
            "provider",
            "serviceAccountName",
            "suspend",
            "ignore",
            "include",
            "recurseSubmodules",
            "sparseCheckout",
            "verify",
            "gitImplementation",
            "accessFrom",
        ],
    )?;
    Some(GitRepositorySpec {
        mark: s.mark,
        url: r.string(&s, "url"),
        secret_ref: r.reference(&s, "secretRef", false),
        proxy_secret_ref: r.reference(&s, "proxySecretRef", false),
        interval: r.string(&s, "interval"),
        timeout: r.string(&s, "timeout"),
        git_ref: git_ref(r, &s, "ref"),
        provider: r.string(&s, "provider"),
    })
}

/// Reads `Receiver.spec`.
pub fn receiver(r: &mut Reader<'_>, root: &Node) -> Option<ReceiverSpec> {
    let s = spec(
        r,
        root,
        &[
            "type",
            "secretRef",
            "resources",
            "events",
            "interval",
            "suspend",
            "resourceFilter",
        ],
    )?;
    let resources = r
        .mappings(
            &s,
            "resources",
            Some(&["apiVersion", "kind", "name", "namespace", "matchLabels"]),
        )
        .iter()
        .map(|res| ReceiverResource {
            kind: r.required(res, "kind"),
            name: r.required(res, "name"),
            namespace: r.string(res, "namespace"),
            match_labels: r.string_map(res, "matchLabels"),
        })
        .collect();
    Some(ReceiverSpec {
        mark: s.mark,
        receiver_type: r.string(&s, "type"),
        secret_ref: r.reference(&s, "secretRef", false),
        resources,
        events: r
            .strings(&s, "events")
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.value)
            .collect(),
        interval: r.string(&s, "interval"),
        suspend: r.bool(&s, "suspend"),
    })
}

/// Reads a `Secret`'s `type`, `data` and `stringData`.
pub fn secret(r: &mut Reader<'_>, root: &Node) -> SecretData {
    let top = r.mapping(
        root,
        "",
        Some(&[
            "apiVersion",
            "kind",
            "metadata",
            "type",
            "data",
            "stringData",
            "immutable",
        ]),
    );
    let mut data = BTreeMap::new();
    if let Some(map) = r.child(&top, "data", None) {
        for key in map.keys() {
            if let Some(value) = r.string(&map, key) {
                data.insert(key.to_owned(), value);
            }
        }
    }
    SecretData {
        secret_type: r.string(&top, "type").map(|t| t.value).unwrap_or_default(),
        data,
        string_data: r.string_map(&top, "stringData"),
    }
}

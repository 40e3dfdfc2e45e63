//! The raw stage: Flux objects read from YAML trees into mirrors of their fields, each value
//! with the position it was written at. Only shape is checked here (a mapping where a mapping
//! belongs, a string where a string belongs); unknown fields become warnings. Whether values
//! make sense, and whether references resolve, is the [`resolved`](super::resolved) stage's job.
//!
//! `image.toolkit.fluxcd.io` v1beta1, v1beta2 and v1 (and likewise the source and notification
//! groups) spell the fields imagebump reads identically, so one mirror serves every version.

use std::collections::BTreeMap;
use std::path::Path;

use super::diagnostic::Diagnostic;
use super::yaml::{Mark, Node, Value};

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it starts.
    pub mark: Mark,
}

/// The kinds imagebump reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `image.toolkit.fluxcd.io` `ImageRepository`.
    ImageRepository,
    /// `image.toolkit.fluxcd.io` `ImagePolicy`.
    ImagePolicy,
    /// `image.toolkit.fluxcd.io` `ImageUpdateAutomation`.
    ImageUpdateAutomation,
    /// `source.toolkit.fluxcd.io` `GitRepository`.
    GitRepository,
    /// `notification.toolkit.fluxcd.io` `Receiver`.
    Receiver,
    /// Core `v1` `Secret`.
    Secret,
}

/// An API group, the versions imagebump reads, and the kinds it reads from it.
type Group = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, Kind)],
);

/// Flux's API groups, the versions imagebump reads, and the kinds it reads from each.
const GROUPS: [Group; 3] = [
    (
        "image.toolkit.fluxcd.io",
        &["v1beta1", "v1beta2", "v1"],
        &[
            ("ImageRepository", Kind::ImageRepository),
            ("ImagePolicy", Kind::ImagePolicy),
            ("ImageUpdateAutomation", Kind::ImageUpdateAutomation),
        ],
    ),
    (
        "source.toolkit.fluxcd.io",
        &["v1beta1", "v1beta2", "v1"],
        &[("GitRepository", Kind::GitRepository)],
    ),
    (
        "notification.toolkit.fluxcd.io",
        &["v1beta1", "v1beta2", "v1"],
        &[("Receiver", Kind::Receiver)],
    ),
];

/// Flux kinds of those groups that other Flux controllers serve: they live in the same tree
/// and are skipped without a word, like Deployments.
const OTHER_FLUX_KINDS: [&str; 7] = [
    "HelmRepository",
    "HelmChart",
    "Bucket",
    "OCIRepository",
    "ExternalArtifact",
    "Alert",
    "Provider",
];

impl Kind {
    /// The name as `kind:` spells it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ImageRepository => "ImageRepository",
            Kind::ImagePolicy => "ImagePolicy",
            Kind::ImageUpdateAutomation => "ImageUpdateAutomation",
            Kind::GitRepository => "GitRepository",
            Kind::Receiver => "Receiver",
            Kind::Secret => "Secret",
        }
    }

    /// What a document with this `apiVersion` and `kind` is: `Ok(None)` for kinds imagebump
    /// does not read (skipped), an error for unknown kinds or versions of Flux's groups.
    pub fn classify(api_version: &str, kind: &str) -> Result<Option<Kind>, String> {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        if group.is_empty() {
            return Ok(match (version, kind) {
                ("v1", "Secret") => Some(Kind::Secret),
                (_, "Secret") => {
                    return Err(format!("Secret with apiVersion {api_version:?}; expected v1"));
                }
                _ => None,
            });
        }
        let Some((group, versions, kinds)) = GROUPS.iter().find(|(g, _, _)| *g == group) else {
            return Ok(None);
        };
        let Some(&(_, found)) = kinds.iter().find(|(k, _)| *k == kind) else {
            if OTHER_FLUX_KINDS.contains(&kind) {
                return Ok(None);
            }
            let known: Vec<&str> = kinds.iter().map(|(k, _)| *k).collect();
            return Err(format!(
                "unknown kind {kind:?} in {group}; imagebump reads {}",
                known.join(", ")
            ));
        };
        if !versions.contains(&version) {
            return Err(format!(
                "{kind} with unknown apiVersion {api_version:?}; expected {group}/ followed by one of {}",
                versions.join(", ")
            ));
        }
        Ok(Some(found))
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `name` is a Kubernetes DNS label (namespaces): lowercase alphanumerics and `-`,
/// starting and ending alphanumeric, at most 63 characters.
#[must_use]
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Whether `name` is a Kubernetes object name (DNS subdomain): labels joined by `.`, at most
/// 253 characters.
#[must_use]
pub fn is_dns_subdomain(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(is_dns_label)
}

/// What every object has: kind, version, name, namespace and where the document starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Which kind.
    pub kind: Kind,
    /// `apiVersion`.
    pub api_version: String,
    /// `metadata.name`.
    pub name: Spanned<String>,
    /// `metadata.namespace`, or the config's default namespace.
    pub namespace: Spanned<String>,
    /// `metadata.labels` (for `policySelector`).
    pub labels: BTreeMap<String, String>,
    /// Where the document's root starts.
    pub mark: Mark,
}

impl Header {
    /// `Kind namespace/name`, as problems name the object.
    #[must_use]
    pub fn display(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace.value, self.name.value)
    }
}

/// A mapping's fields, with the path that leads to it (`spec.git.commit`).
#[derive(Debug, Clone)]
pub struct Fields<'n> {
    /// The mapping's path from the document root.
    pub path: String,
    /// Where the mapping starts (where "missing field" problems point).
    pub mark: Mark,
    entries: Vec<(&'n str, &'n Node)>,
}

impl<'n> Fields<'n> {
    /// The value of `key`; a null value counts as absent, as in Kubernetes.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_null())
    }

    /// Whether `key` is written (even with a null value).
    #[must_use]
    pub fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| *k == key)
    }

    /// The keys, in file order.
    pub fn keys(&self) -> impl Iterator<Item = &'n str> + '_ {
        self.entries.iter().map(|(k, _)| *k)
    }

    /// `path.key`.
    #[must_use]
    pub fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}

/// Reads one document's fields, collecting problems.
#[derive(Debug)]
pub struct Reader<'a> {
    file: &'a Path,
    object: Option<String>,
    /// What was found so far.
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    /// A reader for a document of `file`.
    #[must_use]
    pub fn new(file: &'a Path) -> Self {
        Reader {
            file,
            object: None,
            diagnostics: Vec::new(),
        }
    }

    /// From now on, problems name `object` (`Kind namespace/name`).
    pub fn set_object(&mut self, object: String) {
        self.object = Some(object);
    }

    /// Records an error at `mark`.
    pub fn error(&mut self, mark: Mark, message: impl Into<String>) {
        let mut d = Diagnostic::error(self.file, Some(mark), message);
        d.object.clone_from(&self.object);
        self.diagnostics.push(d);
    }

    /// Records a warning at `mark`.
    pub fn warn(&mut self, mark: Mark, message: impl Into<String>) {
        let mut d = Diagnostic::warning(self.file, Some(mark), message);
        d.object.clone_from(&self.object);
        self.diagnostics.push(d);
    }

    /// The fields of mapping `node` at `path`, warning about keys not in `known` (`None`
    /// accepts every key). A node that is not a mapping is an error and reads as empty.
    pub fn mapping<'n>(&mut self, node: &'n Node, path: &str, known: Option<&[&str]>) -> Fields<'n> {
        let mut fields = Fields {
            path: path.to_owned(),
            mark: node.mark,
            entries: Vec::new(),
        };
        match &node.value {
            Value::Mapping(entries) => {
                for (key, value) in entries {
                    let Some(name) = key.as_str() else {
                        self.error(key.mark, format!("{path}: keys must be strings"));
                        continue;
                    };
                    if known.is_some_and(|k| !k.contains(&name)) {
                        let field = fields.path_of(name);
                        self.warn(key.mark, format!("unknown field {field}"));
                    }
                    fields.entries.push((name, value));
                }
            }
            _ if node.is_null() => {}
            _ => self.error(
                node.mark,
                format!("{path} must be a mapping, not {}", node.describe()),
            ),
        }
        fields
    }

    /// The fields of the mapping at `fields.key`, if present.
    pub fn child<'n>(
        &mut self,
        fields: &Fields<'n>,
        key: &str,
        known: Option<&[&str]>,
    ) -> Option<Fields<'n>> {
        let node = fields.get(key)?;
        Some(self.mapping(node, &fields.path_of(key), known))
    }

    /// The string at `fields.key`, if present. Plain numbers and booleans read as their text,
    /// as Kubernetes' string fields would not accept them but users write `tag: 1.0`.
    pub fn string(&mut self, fields: &Fields<'_>, key: &str) -> Option<Spanned<String>> {
        let node = fields.get(key)?;
        if let Some(text) = node.as_str() {
            Some(Spanned {
                value: text.to_owned(),
                mark: node.mark,
            })
        } else {
            {
                self.error(
                    node.mark,
                    format!(
                        "{} must be a string, not {}",
                        fields.path_of(key),
                        node.describe()
                    ),
                );
                None
            }
        }
    }

    /// The string at `fields.key`; missing is an error pointing at the mapping.
    pub fn required(&mut self, fields: &Fields<'_>, key: &str) -> Option<Spanned<String>> {
        if fields.get(key).is_none() {
            self.error(
                fields.mark,
                format!("missing required field {}", fields.path_of(key)),
            );
            return None;
        }
        self.string(fields, key).filter(|s| {
            if s.value.is_empty() {
                self.error(s.mark, format!("{} must not be empty", fields.path_of(key)));
            }
            !s.value.is_empty()
        })
    }

    /// The boolean at `fields.key` (`false` when absent).
    pub fn bool(&mut self, fields: &Fields<'_>, key: &str) -> bool {
        let Some(node) = fields.get(key) else {
            return false;
        };
        match &node.value {
            Value::Scalar { text, plain: true } if text == "true" => true,
            Value::Scalar { text, plain: true } if text == "false" => false,
            _ => {
                self.error(
                    node.mark,
                    format!("{} must be true or false", fields.path_of(key)),
                );
                false
            }
        }
    }

    /// The list of strings at `fields.key`, if present.
    pub fn strings(&mut self, fields: &Fields<'_>, key: &str) -> Option<Vec<Spanned<String>>> {
        let node = fields.get(key)?;
        let path = fields.path_of(key);
        let Value::Sequence(items) = &node.value else {
            self.error(
                node.mark,
                format!("{path} must be a list, not {}", node.describe()),
            );
            return None;
        };
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(text) => out.push(Spanned {
                    value: text.to_owned(),
                    mark: item.mark,
                }),
                None => self.error(item.mark, format!("{path}[{index}] must be a string")),
            }
        }
        Some(out)
    }

    /// The map of strings at `fields.key` (empty when absent).
    pub fn string_map(&mut self, fields: &Fields<'_>, key: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(map) = self.child(fields, key, None) else {
            return out;
        };
        for (name, node) in &map.entries {
            match node.as_str() {
                Some(value) => {
                    out.insert((*name).to_owned(), value.to_owned());
                }
                None => self.error(node.mark, format!("{} must be a string", map.path_of(name))),
            }
        }
        out
    }

    /// A `{name}` or `{name, namespace}` reference at `fields.key`, if present.
    pub fn reference(&mut self, fields: &Fields<'_>, key: &str, namespaced: bool) -> Option<Ref> {
        let known: &[&str] = if namespaced {
            &["name", "namespace"]
        } else {
            &["name"]
        };
        let map = self.child(fields, key, Some(known))?;
        let name = self.required(&map, "name")?;
        let namespace = if namespaced {
            self.string(&map, "namespace")
        } else {
            None
        };
        Some(Ref {
            name,
            namespace,
            mark: map.mark,
        })
    }

    /// The sequence of mappings at `fields.key` (empty when absent).
    pub fn mappings<'n>(
        &mut self,
        fields: &Fields<'n>,
        key: &str,
        known: Option<&[&str]>,
    ) -> Vec<Fields<'n>> {
        let Some(node) = fields.get(key) else {
            return Vec::new();
        };
        let path = fields.path_of(key);
        let Value::Sequence(items) = &node.value else {
            self.error(
                node.mark,
                format!("{path} must be a list, not {}", node.describe()),
            );
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.mapping(item, &format!("{path}[{i}]"), known))
            .collect()
    }
}

/// A reference to another object by name (and optionally namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// `name`.
    pub name: Spanned<String>,
    /// `namespace`, when the field allows one and it is set.
    pub namespace: Option<Spanned<String>>,
    /// Where the reference's mapping starts.
    pub mark: Mark,
}

/// Keys Kubernetes puts in `metadata`; all accepted without a warning.
const METADATA_FIELDS: [&str; 14] = [
    "name",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "finalizers",
    "ownerReferences",
    "managedFields",
    "generateName",
];

/// Reads a document's `apiVersion`, `kind` and `metadata`. `Ok(None)`: not a kind imagebump
/// reads (skip it). Problems go to `reader`; `Err(())` means the object cannot be read.
pub fn header(reader: &mut Reader<'_>, root: &Node, default_namespace: &str) -> Result<Option<Header>, ()> {
    let Value::Mapping(_) = &root.value else {
        // Not an object: a list, a scalar, an empty document. Kubernetes trees hold such files
        // (kustomize patches), so they are not our concern.
        return Ok(None);
    };
    let top = reader.mapping(root, "", None);
    let Some(kind) = top.get("kind").and_then(Node::as_str) else {
        return Ok(None);
    };
    let api_version = top.get("apiVersion").and_then(Node::as_str).unwrap_or_default();
    let kind = if api_version.is_empty() {
        if !matches!(
            kind,
            "ImageRepository" | "ImagePolicy" | "ImageUpdateAutomation" | "GitRepository" | "Receiver"
        ) {
            return Ok(None);
        }
        reader.error(root.mark, format!("{kind}: missing required field apiVersion"));
        return Err(());
    } else {
        match Kind::classify(api_version, kind) {
            Ok(Some(kind)) => kind,
            Ok(None) => return Ok(None),
            Err(message) => {
                let mark = top.get("apiVersion").map_or(root.mark, |n| n.mark);
                reader.error(mark, message);
                return Err(());
            }
        }
    };
    let Some(metadata) = reader.child(&top, "metadata", Some(&METADATA_FIELDS)) else {
        reader.error(root.mark, format!("{kind}: missing required field metadata"));
        return Err(());
    };
    let Some(name) = reader.required(&metadata, "name") else {
        return Err(());
    };
    let namespace = reader.string(&metadata, "namespace").unwrap_or(Spanned {
        value: default_namespace.to_owned(),
        mark: metadata.mark,
    });
    let header = Header {
        kind,
        api_version: api_version.to_owned(),
        labels: reader.string_map(&metadata, "labels"),
        name,
        namespace,
        mark: root.mark,
    };
    reader.set_object(header.display());
    if !is_dns_subdomain(&header.name.value) {
        reader.error(
            header.name.mark,
            format!(
                "metadata.name {:?} is not a valid object name (lowercase letters, digits, '-', '.')",
                header.name.value
            ),
        );
    }
    if !is_dns_label(&header.namespace.value) {
        reader.error(
            header.namespace.mark,
            format!(
                "metadata.namespace {:?} is not a valid namespace name",
                header.namespace.value
            ),
        );
    }
    Ok(Some(header))
}

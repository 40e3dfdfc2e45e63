//! What an update changed: file → object → changes, the shape Flux's commit templates read.
//!
//! Mirrors image-automation-controller's `update.Result`: `FileChanges` keyed by the file path
//! relative to the update path (forward slashes), then by the enclosing Kubernetes object
//! (empty fields for non-Kubernetes YAML), then the changes in document order.

use std::collections::BTreeMap;
use std::fmt;

/// The Kubernetes object a change happened in. Ordered field by field in Go's declaration
/// order (`APIVersion`, `Kind`, `Name`, `Namespace`), which is how Go templates range over
/// maps keyed by it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectId {
    /// `apiVersion`, or empty.
    pub api_version: String,
    /// `kind`, or empty.
    pub kind: String,
    /// `metadata.name`, or empty.
    pub name: String,
    /// `metadata.namespace`, or empty.
    pub namespace: String,
}

impl fmt::Display for ObjectId {
    /// `Kind/namespace/name`, as in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// One edited value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Change {
    /// The value before (as YAML would read it, without quotes).
    pub old_value: String,
    /// The value written.
    pub new_value: String,
    /// The marker's setter: `ns:policy`, `ns:policy:tag`, `ns:policy:name` or
    /// `ns:policy:digest`.
    pub setter: String,
}

/// Every change of one update run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateResult {
    /// File path (relative, `/`-separated) → objects in document order → their changes.
    pub files: BTreeMap<String, Vec<(ObjectId, Vec<Change>)>>,
}

impl UpdateResult {
    /// Whether nothing changed (then there is nothing to commit).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files
            .values()
            .all(|objects| objects.iter().all(|(_, c)| c.is_empty()))
    }

    /// Records a change of `object` in `file`.
    pub fn push(&mut self, file: &str, object: &ObjectId, change: Change) {
        let objects = self.files.entry(file.to_owned()).or_default();
        match objects.iter_mut().find(|(o, _)| o == object) {
            Some((_, changes)) => changes.push(change),
            None => objects.push((object.clone(), vec![change])),
        }
    }

    /// Flux's `Changes()`: every change once, in file order then document order.
    #[must_use]
    pub fn changes(&self) -> Vec<&Change> {
        let mut seen = std::collections::HashSet::new();
        self.files
            .values()
            .flat_map(|objects| objects.iter().flat_map(|(_, changes)| changes))
            .filter(|c| seen.insert(*c))
            .collect()
    }

    /// Flux's `Objects()`: the changes of each object, merged across files (file order).
    #[must_use]
    pub fn objects(&self) -> BTreeMap<&ObjectId, Vec<&Change>> {
        let mut merged: BTreeMap<&ObjectId, Vec<&Change>> = BTreeMap::new();
        for objects in self.files.values() {
            for (object, changes) in objects {
                merged.entry(object).or_default().extend(changes);
            }
        }
        merged
    }
}

/// The latest image of one policy, as the setters write it (`status.latestRef`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestImage {
    /// The repository as the ImageRepository spells it (`ghcr.io/org/app`).
    pub name: String,
    /// The selected tag.
    pub tag: String,
    /// The digest, when digest reflection is on (`sha256:…`), else empty.
    pub digest: String,
}

impl LatestImage {
    /// Splits a full reference as go-containerregistry does: the digest after the last `@`,
    /// the tag after the last `:` if that colon comes after the last `/`.
    #[must_use]
    pub fn parse(reference: &str) -> Option<Self> {
        let (rest, digest) = match reference.rsplit_once('@') {
            Some((rest, digest)) => (rest, digest.to_owned()),
            None => (reference, String::new()),
        };
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], &rest[slash + i + 1..]),
            None => (rest, ""),
        };
        (!name.is_empty() && !tag.is_empty()).then(|| LatestImage {
            name: name.to_owned(),
            tag: tag.to_owned(),
            digest,
        })
    }

    /// `name:tag`, plus `@digest` when there is one: the value of an `ns:policy` marker.
    #[must_use]
    pub fn full(&self) -> String {
        if self.digest.is_empty() {
            format!("{}:{}", self.name, self.tag)
        } else {
            format!("{}:{}@{}", self.name, self.tag, self.digest)
        }
    }
}

/// The policies an automation may write, keyed `namespace:name` (the marker's first two parts).
pub type Policies = BTreeMap<String, LatestImage>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references_like_go_containerregistry() {
        let r = LatestImage::parse("localhost:5000/app:v1").expect("parses");
        assert_eq!(
            (r.name.as_str(), r.tag.as_str(), r.digest.as_str()),
            ("localhost:5000/app", "v1", "")
        );
        let r = LatestImage::parse("image:v1.0.0@sha256:67be").expect("parses");
        assert_eq!(
            (r.name.as_str(), r.tag.as_str(), r.digest.as_str()),
            ("image", "v1.0.0", "sha256:67be")
        );
        let r = LatestImage::parse("registry.localhost:5000/app:0.1.0").expect("parses");
        assert_eq!(r.name, "registry.localhost:5000/app");
        assert!(LatestImage::parse("localhost:5000/app").is_none());
        assert_eq!(
            LatestImage::parse("a:1@sha256:x").map(|r| r.full()).as_deref(),
            Some("a:1@sha256:x")
        );
    }

    #[test]
    fn changes_and_objects_views() {
        let mut result = UpdateResult::default();
        let deploy = ObjectId {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            name: "app".into(),
            namespace: "default".into(),
        };
        let change = Change {
            old_value: "a:1".into(),
            new_value: "a:2".into(),
            setter: "ns:p".into(),
        };
        result.push("b.yaml", &deploy, change.clone());
        result.push("a.yaml", &deploy, change.clone());
        assert_eq!(result.changes(), vec![&change]);
        assert_eq!(result.objects()[&deploy].len(), 2);
        assert!(!result.is_empty());
    }
}

//! What a scan stores: the tags left after the exclusion list, sorted, with a revision that
//! changes exactly when the set does.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use regex::Regex;
use sha2::{Digest as _, Sha256};

/// Flux's default `exclusionList`: cosign signature tags.
pub const DEFAULT_EXCLUSIONS: &[&str] = &[r"^.*\.sig$"];

/// Flux's cap on `exclusionList` entries.
pub const MAX_EXCLUSIONS: usize = 25;

/// A compiled `spec.exclusionList`.
#[derive(Debug, Clone)]
pub struct ExclusionList {
    patterns: Vec<Regex>,
}

/// An exclusion list that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExclusionError {
    /// More than 25 entries.
    #[error("exclusionList has {0} entries; at most {MAX_EXCLUSIONS} are allowed")]
    TooMany(usize),
    /// An entry is not a regular expression.
    #[error("exclusionList[{index}] {pattern:?} is not a valid regular expression: {reason}")]
    Invalid {
        /// Position in the list.
        index: usize,
        /// The entry (truncated).
        pattern: String,
        /// The compiler's explanation.
        reason: String,
    },
}

/// `pattern`, compiled once per process. A daemon with a thousand repositories has a thousand
/// copies of the default list; compiled separately they cost about 13 KiB each
/// (`bench/daemon-scale.sh`), shared they cost one. Clones of a `Regex` share the program.
fn compiled(pattern: &str) -> Result<Regex, regex::Error> {
    /// Distinct patterns kept; a config churning through patterns must not grow it for ever.
    const MAX: usize = 1024;
    static COMPILED: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let mut compiled = COMPILED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(regex) = compiled.get(pattern) {
        return Ok(regex.clone());
    }
    let regex = Regex::new(pattern)?;
    if compiled.len() >= MAX {
        compiled.clear();
    }
    compiled.insert(pattern.to_owned(), regex.clone());
    Ok(regex)
}

impl ExclusionList {
    /// Compiles `spec.exclusionList`. An empty (or absent) list means Flux's default; a
    /// non-empty list *replaces* the default, so `.sig` tags come back unless listed again.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, ExclusionError> {
        if patterns.len() > MAX_EXCLUSIONS {
            return Err(ExclusionError::TooMany(patterns.len()));
        }
        let compile = |(index, pattern): (usize, &str)| {
            compiled(pattern).map_err(|e| ExclusionError::Invalid {
                index,
                pattern: pattern.chars().take(200).collect(),
                reason: e.to_string(),
            })
        };
        let patterns: Result<Vec<Regex>, _> = if patterns.is_empty() {
            DEFAULT_EXCLUSIONS
                .iter()
                .copied()
                .enumerate()
                .map(compile)
                .collect()
        } else {
            patterns
                .iter()
                .map(AsRef::as_ref)
                .enumerate()
                .map(compile)
                .collect()
        };
        let patterns = patterns?;
        Ok(ExclusionList { patterns })
    }

    /// The effective patterns (Flux's `status.observedExclusionList`).
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(Regex::as_str)
    }

    /// Whether any pattern matches somewhere in `tag`.
    #[must_use]
    pub fn excludes(&self, tag: &str) -> bool {
        self.patterns.iter().any(|p| p.is_match(tag))
    }
}

impl Default for ExclusionList {
    fn default() -> Self {
        let empty: [&str; 0] = [];
        Self::new(&empty).unwrap_or_else(|_| unreachable!("the default exclusion list compiles"))
    }
}

/// The stored result of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSet {
    tags: Vec<String>,
    revision: String,
}

impl TagSet {
    /// Drops excluded tags and duplicates, sorts descending by bytes (Flux's stored order,
    /// independent of the registry's), and computes the revision.
    #[must_use]
    pub fn new(mut tags: Vec<String>, exclusions: &ExclusionList) -> Self {
        tags.retain(|t| !exclusions.excludes(t));
        tags.sort_unstable_by(|a, b| b.as_bytes().cmp(a.as_bytes()));
        tags.dedup();
        let revision = revision(&tags);
        TagSet { tags, revision }
    }

    /// The tags, descending.
    #[must_use]
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// Number of tags (Flux: `lastScanResult.tagCount`).
    #[must_use]
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// `sha256:<hex>` of the tags, one per line, each line ending in `\n` (Flux's file
    /// storage revision).
    #[must_use]
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The tags and the revision, owned.
    #[must_use]
    pub fn into_parts(self) -> (Vec<String>, String) {
        (self.tags, self.revision)
    }

    /// The first `n` stored tags (Flux shows 10 as `lastScanResult.latestTags`).
    #[must_use]
    pub fn latest(&self, n: usize) -> &[String] {
        &self.tags[..n.min(self.tags.len())]
    }
}

fn revision(tags: &[String]) -> String {
    let mut hasher = Sha256::new();
    for tag in tags {
        hasher.update(tag.as_bytes());
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn default_drops_signatures_and_sorts() {
        let set = TagSet::new(
            strings(&["1.0.0", "sha256-abc.sig", "v0.0.2", "latest", "1.0.0"]),
            &ExclusionList::default(),
        );
        assert_eq!(set.tags(), strings(&["v0.0.2", "latest", "1.0.0"]));
        assert_eq!(set.revision(), revision(&strings(&["v0.0.2", "latest", "1.0.0"])));
    }

    #[test]
    fn user_list_replaces_default() {
        let list = ExclusionList::new(&["^latest$"]).expect("compiles");
        let set = TagSet::new(strings(&["latest", "x.sig", "1.0.0"]), &list);
        assert_eq!(set.tags(), strings(&["x.sig", "1.0.0"]));
    }

    #[test]
    fn revision_ignores_registry_order() {
        let a = TagSet::new(strings(&["a", "b", "c"]), &ExclusionList::default());
        let b = TagSet::new(strings(&["c", "a", "b"]), &ExclusionList::default());
        assert_eq!(a.revision(), b.revision());
        let empty = TagSet::new(Vec::new(), &ExclusionList::default());
        assert_eq!(
            empty.revision(),
            format!("sha256:{}", hex::encode(Sha256::digest(b"")))
        );
    }

    #[test]
    fn limits_and_errors() {
        let many: Vec<String> = (0..26).map(|i| format!("^{i}$")).collect();
        assert_eq!(ExclusionList::new(&many).err(), Some(ExclusionError::TooMany(26)));
        assert!(matches!(
            ExclusionList::new(&["("]),
            Err(ExclusionError::Invalid { index: 0, .. })
        ));
    }
}

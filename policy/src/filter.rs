//! `filterTags`: keep the tags a regular expression matches, and optionally compare a value
//! extracted from each instead of the tag itself (`extract: '$ts'`).

use std::borrow::Cow;

use regex::{Captures, Regex};

/// A compiled `filterTags { pattern, extract }`.
///
/// The pattern is searched for anywhere in the tag (Flux does not anchor it). Go's RE2 and the
/// `regex` crate share their syntax for everything a tag filter needs; the one difference that
/// could matter, Unicode classes (`\d` is ASCII-only in Go), cannot, because OCI tags are ASCII.
#[derive(Debug, Clone)]
pub struct TagFilter {
    pattern: Regex,
    extract: String,
}

/// A `filterTags.pattern` that does not compile.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid filterTags pattern {pattern:?}: {reason}")]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// The regex compiler's explanation, which points at the offending part.
    pub reason: String,
}

impl TagFilter {
    /// Compiles `pattern`; an empty `extract` keeps the tag itself as the value.
    pub fn new(pattern: &str, extract: &str) -> Result<Self, PatternError> {
        let pattern = Regex::new(pattern).map_err(|e| PatternError {
            pattern: crate::truncate(pattern, 200),
            reason: e.to_string(),
        })?;
        Ok(TagFilter {
            pattern,
            extract: extract.to_owned(),
        })
    }

    /// The value to compare for `tag`, or `None` when the pattern does not match it.
    #[must_use]
    pub fn apply<'t>(&self, tag: &'t str) -> Option<Cow<'t, str>> {
        if self.extract.is_empty() {
            return self.pattern.is_match(tag).then_some(Cow::Borrowed(tag));
        }
        let caps = self.pattern.captures(tag)?;
        Some(Cow::Owned(expand(&self.extract, &caps, &self.pattern)))
    }

    /// The pattern as written.
    #[must_use]
    pub fn pattern(&self) -> &str {
        self.pattern.as_str()
    }

    /// The extract template as written (may be empty).
    #[must_use]
    pub fn extract(&self) -> &str {
        &self.extract
    }
}

/// Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`.
///
/// Written out rather than using `Captures::expand` because the two differ on `$01`: Go
/// refuses leading zeros in group numbers and looks for a group *named* `01` (empty), while
/// the `regex` crate reads group 1.
fn expand(template: &str, caps: &Captures<'_>, regex: &Regex) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((name, after)) = group_reference(rest) else {
            out.push('$');
            continue;
        };
        rest = after;
        let group = match group_number(name) {
            Some(n) => caps.get(n),
            None => regex
                .capture_names()
                .enumerate()
                .filter(|(_, n)| *n == Some(name))
                .find_map(|(i, _)| caps.get(i)),
        };
        if let Some(m) = group {
            out.push_str(m.as_str());
        }
    }
    out.push_str(rest);
    out
}

/// After a `$`: a name of letters, digits and `_`, optionally in braces. Returns the name and
/// the text after the reference.
fn group_reference(s: &str) -> Option<(&str, &str)> {
    let (body, braced) = match s.strip_prefix('{') {
        Some(inner) => (inner, true),
        None => (s, false),
    };
    let len: usize = body
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    let (name, after) = body.split_at(len);
    if braced {
        let after = after.strip_prefix('}')?;
        return Some((name, after));
    }
    Some((name, after))
}

/// A group number as Go reads one: ASCII digits, no leading zero, below 10^8.
fn group_number(name: &str) -> Option<usize> {
    if !name.bytes().all(|b| b.is_ascii_digit()) || (name.len() > 1 && name.starts_with('0')) {
        return None;
    }
    name.parse().ok().filter(|&n| n < 100_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(pattern: &str, extract: &str, tag: &str) -> Option<String> {
        TagFilter::new(pattern, extract)
            .expect("test pattern compiles")
            .apply(tag)
            .map(Cow::into_owned)
    }

    #[test]
    fn go_expansion_rules() {
        let p = r"^(?P<a>\w+)-(\d+)$";
        assert_eq!(ex(p, "$2", "main-42").as_deref(), Some("42"));
        assert_eq!(ex(p, "${2}x", "main-42").as_deref(), Some("42x"));
        assert_eq!(ex(p, "$2x", "main-42").as_deref(), Some(""));
        assert_eq!(ex(p, "$a.$2", "main-42").as_deref(), Some("main.42"));
        assert_eq!(ex(p, "$$1", "main-42").as_deref(), Some("$1"));
        assert_eq!(ex(p, "$-", "main-42").as_deref(), Some("$-"));
        assert_eq!(ex(p, "${2", "main-42").as_deref(), Some("${2"));
        assert_eq!(ex(p, "$02", "main-42").as_deref(), Some(""));
        assert_eq!(ex(p, "$9", "main-42").as_deref(), Some(""));
        assert_eq!(ex(p, "$1", "nope"), None);
    }

    #[test]
    fn unanchored_and_empty_pattern() {
        assert_eq!(ex("rc", "", "1.0.0-rc.1").as_deref(), Some("1.0.0-rc.1"));
        assert_eq!(ex("", "", "anything").as_deref(), Some("anything"));
    }
}

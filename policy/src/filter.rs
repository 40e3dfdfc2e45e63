//! `filterTags`: keep the tags a regular expression matches, and optionally compare a value
//! extracted from each instead of the tag itself (`extract: '$ts'`).

use std::borrow::Cow;

use regex::{CaptureLocations, Regex};

/// A compiled `filterTags { pattern, extract }`.
///
/// The pattern is searched for anywhere in the tag (Flux does not anchor it). Go's RE2 and the
/// `regex` crate share their syntax for everything a tag filter needs; the one difference that
/// could matter, Unicode classes (`\d` is ASCII-only in Go), cannot, because OCI tags are ASCII.
#[derive(Debug, Clone)]
pub struct TagFilter {
    pattern: Regex,
    extract: String,
    /// `extract`, compiled once: literal text and group numbers.
    template: Vec<Piece>,
}

/// A part of a compiled `extract` template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    /// A capture group by number; names are resolved when compiling.
    Group(usize),
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

/// What a filter made of one tag.
pub(crate) enum Applied<'s> {
    /// The pattern does not match.
    NoMatch,
    /// It matches and, with no `extract`, the value is the tag itself.
    Tag,
    /// It matches and `extract` produced this value.
    Extracted(&'s str),
}

/// Reusable buffers for applying a filter to many tags without allocating per tag.
pub(crate) struct Scratch {
    locations: CaptureLocations,
    value: String,
}

impl TagFilter {
    /// Compiles `pattern`; an empty `extract` keeps the tag itself as the value.
    pub fn new(pattern: &str, extract: &str) -> Result<Self, PatternError> {
        let pattern = Regex::new(pattern).map_err(|e| PatternError {
            pattern: crate::truncate(pattern, 200),
            reason: e.to_string(),
        })?;
        let template = compile_template(extract, &pattern);
        Ok(TagFilter {
            pattern,
            extract: extract.to_owned(),
            template,
        })
    }

    /// The value to compare for `tag`, or `None` when the pattern does not match it.
    #[must_use]
    pub fn apply<'t>(&self, tag: &'t str) -> Option<Cow<'t, str>> {
        let mut scratch = self.scratch();
        match self.apply_with(tag, &mut scratch) {
            Applied::NoMatch => None,
            Applied::Tag => Some(Cow::Borrowed(tag)),
            Applied::Extracted(value) => Some(Cow::Owned(value.to_owned())),
        }
    }

    pub(crate) fn scratch(&self) -> Scratch {
        Scratch {
            locations: self.pattern.capture_locations(),
            value: String::new(),
        }
    }

    /// Like [`TagFilter::apply`], with reused buffers; an extracted value is valid until the
    /// next call with the same scratch.
    pub(crate) fn apply_with<'s>(&self, tag: &str, scratch: &'s mut Scratch) -> Applied<'s> {
        // `is_match` runs the fast DFA with literal prefilters; most tags fail here, and only
        // matches pay for the capture-group engine.
        if !self.pattern.is_match(tag) {
            return Applied::NoMatch;
        }
        if self.extract.is_empty() {
            return Applied::Tag;
        }
        if self.pattern.captures_read(&mut scratch.locations, tag).is_none() {
            return Applied::NoMatch;
        }
        scratch.value.clear();
        for piece in &self.template {
            match piece {
                Piece::Literal(text) => scratch.value.push_str(text),
                Piece::Group(n) => {
                    if let Some((start, end)) = scratch.locations.get(*n) {
                        scratch.value.push_str(&tag[start..end]);
                    }
                }
            }
        }
        Applied::Extracted(scratch.value.as_str())
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

/// Compiles Go's `Regexp.Expand` template language: `$1`, `${1}`, `$name`, `${name}`, `$$`.
///
/// Written out rather than using `Captures::expand` because the two differ on `$01`: Go
/// refuses leading zeros in group numbers and looks for a group *named* `01` (empty), while
/// the `regex` crate reads group 1. References to groups that do not exist expand to nothing
/// and are dropped here; a `$` that starts no valid reference is literal text.
fn compile_template(template: &str, regex: &Regex) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        literal.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            literal.push('$');
            rest = after;
            continue;
        }
        let Some((name, after)) = group_reference(rest) else {
            literal.push('$');
            continue;
        };
        rest = after;
        let group = match group_number(name) {
            Some(n) => Some(n).filter(|&n| n < regex.captures_len()),
            None => regex.capture_names().position(|n| n == Some(name)),
        };
        if let Some(n) = group {
            if !literal.is_empty() {
                pieces.push(Piece::Literal(std::mem::take(&mut literal)));
            }
            pieces.push(Piece::Group(n));
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Literal(literal));
    }
    pieces
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

//! Semver ranges in the Masterminds v3 constraint language, the one a Flux `ImagePolicy`'s
//! `semver.range` is written in.
//!
//! The language differs from Cargo's and npm's in ways users rely on, so it is implemented here
//! from its observable behaviour (see `shared/spec/semver.md`) rather than translated:
//!
//! * `A - B` hyphen ranges are rewritten textually first, exactly as upstream does, which is
//!   why `>1.0 - 2.0` is an error and `>=0.5 1 - 2` too (the rewrite eats the space).
//! * `||` separates branches; inside a branch comparators must all hold, separated by spaces or a
//!   comma.
//! * A prerelease version passes a branch only if some comparator of that same branch names a
//!   prerelease (`>=1.0.0-0`), and then every comparator judges it by plain precedence.
//! * Partial and wildcard versions (`1.2`, `1.x`, `*`) are "dirty": `>`, `<=`, `!=`, `~` and
//!   `^` compare them component by component, which yields the documented quirks (`^*` is only
//!   0.0.0, `<=*` is 0.0.*, `!=*` excludes only 0.0.0).

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use crate::version::{self, Version};

/// A compiled semver range.
#[derive(Debug, Clone)]
pub struct Constraint {
    text: String,
    branches: Vec<Branch>,
}

#[derive(Debug, Clone)]
struct Branch {
    comparators: Vec<Comparator>,
    /// Some comparator of this branch names a prerelease, so prerelease versions may pass.
    allow_prerelease: bool,
}

#[derive(Debug, Clone)]
struct Comparator {
    op: Op,
    base: Version,
    precision: Precision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// No operator, or `=`.
    Equal,
    NotEqual,
    Greater,
    GreaterEqual,
    Less,
    LessEqual,
    /// `~` or `~>`.
    Tilde,
    Caret,
}

/// How much of `MAJOR.MINOR.PATCH` a constraint version spelled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    /// `1.2.3`
    Exact,
    /// `1.2`, `1.2.x`
    Minor,
    /// `1`, `1.x`, `1.x.3`
    Major,
    /// `*`, `x`, `X.1`
    Any,
}

/// The answer of a constraint for one version, with the reason when it is no.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Some branch accepts the version.
    Accepted,
    /// The version is a prerelease and no branch names a prerelease.
    PrereleaseExcluded,
    /// The version is outside every branch.
    OutOfRange,
}

/// Why a range is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid semver range {text:?}{}: {kind}", rewritten_note(.rewritten.as_deref()))]
pub struct ParseError {
    /// The range as written (truncated to 120 characters).
    pub text: String,
    /// The text after hyphen ranges were rewritten, when that changed it; `kind`'s positions
    /// then refer to this text.
    pub rewritten: Option<String>,
    /// What is wrong, and where.
    pub kind: ParseErrorKind,
}

fn rewritten_note(rewritten: Option<&str>) -> String {
    rewritten.map_or_else(String::new, |r| format!(" (read as {r:?})"))
}

/// The ways a range can be malformed. Positions are byte offsets into the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// The range is empty or blank.
    #[error("the range is empty")]
    Empty,
    /// Nothing between two `||`, or before the first or after the last.
    #[error("empty alternative at byte {0} (nothing before or after `||`)")]
    EmptyBranch(usize),
    /// An operator that Masterminds does not know (`==`, `<<`, `~=`, `!`, `&&`).
    #[error("unknown operator {1:?} at byte {0}")]
    UnknownOperator(usize, String),
    /// A version was expected here.
    #[error("expected a version at byte {0}")]
    ExpectedVersion(usize),
    /// Two comparators with neither a space nor a comma between them.
    #[error("expected a space or a comma before byte {0}")]
    MissingSeparator(usize),
    /// A single `|` (alternatives are separated by `||`).
    #[error("a single `|` at byte {0}; alternatives are separated by `||`")]
    SinglePipe(usize),
    /// A character that cannot appear here.
    #[error("unexpected {1:?} at byte {0}")]
    Unexpected(usize, char),
    /// The version of a comparator is malformed.
    #[error("bad version {token:?} at byte {position}: {reason}")]
    BadVersion {
        /// Where the version starts.
        position: usize,
        /// The version as written.
        token: String,
        /// What is wrong with it.
        reason: version::ParseErrorKind,
    },
}

/// Masterminds' version pattern inside constraints, kept verbatim in meaning (including `|`
/// in the part class) because the hyphen-range rewrite is textual and its quirks are
/// observable. `\s` is spelled out as Go's ASCII set.
const CV: &str = r"v?([0-9|xX*]+)(\.[0-9|xX*]+)?(\.[0-9|xX*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";

static HYPHEN_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    let ws = r"[\t\n\x0C\r ]";
    Regex::new(&format!(r"{ws}*({CV}){ws}+-{ws}+({CV}){ws}*"))
        .expect("the hyphen-range pattern is a constant and compiles")
});

impl Constraint {
    /// Compiles a range, as Masterminds `NewConstraint` does.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let rewritten = rewrite_hyphen_ranges(text);
        let source = rewritten.as_deref().unwrap_or(text);
        let fail = |kind| ParseError {
            text: crate::truncate(text, 120),
            rewritten: rewritten.clone(),
            kind,
        };
        if source.bytes().all(is_space) {
            return Err(fail(ParseErrorKind::Empty));
        }
        let mut branches = Vec::new();
        let mut offset = 0;
        for piece in source.split("||") {
            branches.push(parse_branch(piece, offset).map_err(fail)?);
            offset += piece.len() + 2;
        }
        Ok(Constraint {
            text: text.to_owned(),
            branches,
        })
    }

    /// Whether `version` satisfies the range.
    #[must_use]
    pub fn matches(&self, version: &Version) -> bool {
        self.verdict(version) == Verdict::Accepted
    }

    /// Whether `version` satisfies the range, and if not, why not.
    #[must_use]
    pub fn verdict(&self, version: &Version) -> Verdict {
        let mut gated = 0;
        for branch in &self.branches {
            if version.is_prerelease() && !branch.allow_prerelease {
                gated += 1;
            } else if branch.comparators.iter().all(|c| c.accepts(version)) {
                return Verdict::Accepted;
            }
        }
        if gated == self.branches.len() {
            Verdict::PrereleaseExcluded
        } else {
            Verdict::OutOfRange
        }
    }

    /// The range as it was written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Constraint {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `A - B` becomes `>= A, <= B `, match by match, replacing the first occurrence of each
/// matched text as upstream does. Returns `None` when nothing was rewritten.
fn rewrite_hyphen_ranges(text: &str) -> Option<String> {
    if !text.contains('-') {
        return None;
    }
    let mut out = text.to_owned();
    let mut changed = false;
    for caps in HYPHEN_RANGE.captures_iter(text) {
        let (Some(whole), Some(low), Some(high)) = (caps.get(0), caps.get(1), caps.get(11)) else {
            continue;
        };
        let replacement = format!(">= {}, <= {} ", low.as_str(), high.as_str());
        out = out.replacen(whole.as_str(), &replacement, 1);
        changed = true;
    }
    changed.then_some(out)
}

/// Go's `\s`: space, `\t`, `\n`, `\f`, `\r`.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\x0C' | b'\r')
}

/// A cursor over one `||` branch; positions it reports are offsets in the whole range.
struct Cursor<'a> {
    text: &'a str,
    pos: usize,
    offset: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn at(&self) -> usize {
        self.offset + self.pos
    }

    fn skip_space(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn unexpected(&self) -> ParseErrorKind {
        let c = self.text[self.pos..].chars().next().unwrap_or(' ');
        if c == '|' {
            ParseErrorKind::SinglePipe(self.at())
        } else {
            ParseErrorKind::Unexpected(self.at(), c)
        }
    }
}

/// `ws* comparator ((ws+ | ws* ',' ws*) comparator)* ws*`
fn parse_branch(text: &str, offset: usize) -> Result<Branch, ParseErrorKind> {
    let mut cur = Cursor { text, pos: 0, offset };
    cur.skip_space();
    if cur.peek().is_none() {
        return Err(ParseErrorKind::EmptyBranch(cur.at()));
    }
    let mut comparators = Vec::new();
    loop {
        comparators.push(parse_comparator(&mut cur)?);
        let spaced = cur.skip_space();
        match cur.peek() {
            None => break,
            Some(b',') => {
                cur.pos += 1;
                cur.skip_space();
            }
            Some(_) if spaced => {}
            // Another comparator glued on (`>=1.0.0<2.0.0`) lacks its separator; anything
            // else simply does not belong in a range.
            Some(b) if b"=<>!~^".contains(&b) => {
                return Err(ParseErrorKind::MissingSeparator(cur.at()));
            }
            Some(_) => return Err(cur.unexpected()),
        }
    }
    let allow_prerelease = comparators.iter().any(|c| c.base.is_prerelease());
    Ok(Branch {
        comparators,
        allow_prerelease,
    })
}

fn parse_comparator(cur: &mut Cursor<'_>) -> Result<Comparator, ParseErrorKind> {
    let op_start = cur.pos;
    let op = parse_op(cur);
    if cur.peek().is_some_and(|b| b"=<>!~^&".contains(&b)) {
        let end = cur.text[op_start..]
            .find(|c: char| !"=<>!~^&".contains(c))
            .map_or(cur.text.len(), |i| op_start + i);
        return Err(ParseErrorKind::UnknownOperator(
            cur.offset + op_start,
            cur.text[op_start..end].to_owned(),
        ));
    }
    cur.skip_space();
    let (base, precision) = parse_constraint_version(cur)?;
    Ok(Comparator { op, base, precision })
}

fn parse_op(cur: &mut Cursor<'_>) -> Op {
    let rest = &cur.text.as_bytes()[cur.pos..];
    let (op, len) = match rest {
        [b'!', b'=', ..] => (Op::NotEqual, 2),
        [b'>', b'=', ..] | [b'=', b'>', ..] => (Op::GreaterEqual, 2),
        [b'<', b'=', ..] | [b'=', b'<', ..] => (Op::LessEqual, 2),
        [b'~', b'>', ..] => (Op::Tilde, 2),
        [b'>', ..] => (Op::Greater, 1),
        [b'<', ..] => (Op::Less, 1),
        [b'=', ..] => (Op::Equal, 1),
        [b'~', ..] => (Op::Tilde, 1),
        [b'^', ..] => (Op::Caret, 1),
        _ => (Op::Equal, 0),
    };
    cur.pos += len;
    op
}

fn is_part_byte(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'x' | b'X' | b'*' | b'|')
}

fn is_wildcard(part: &str) -> bool {
    matches!(part, "x" | "X" | "*")
}

/// `[v] P1 [.P2 [.P3]] [-PRE] [+META]` where each P is digits or one wildcard.
fn parse_constraint_version(cur: &mut Cursor<'_>) -> Result<(Version, Precision), ParseErrorKind> {
    let bytes = cur.text.as_bytes();
    let start = cur.pos;
    if cur.peek() == Some(b'v') {
        cur.pos += 1;
    }
    let mut parts: Vec<(usize, usize)> = Vec::with_capacity(3);
    while parts.len() < 3 {
        let dot = usize::from(!parts.is_empty());
        if dot == 1 && cur.peek() != Some(b'.') {
            break;
        }
        let part_start = cur.pos + dot;
        let part_end = bytes[part_start.min(bytes.len())..]
            .iter()
            .position(|&b| !is_part_byte(b))
            .map_or(bytes.len(), |i| part_start + i);
        if part_end == part_start {
            if parts.is_empty() {
                return Err(if cur.peek().is_none() {
                    ParseErrorKind::ExpectedVersion(cur.at())
                } else {
                    cur.pos = part_start;
                    cur.unexpected()
                });
            }
            break;
        }
        parts.push((part_start, part_end));
        cur.pos = part_end;
    }
    let pre = scan_identifiers(cur, b'-');
    // Metadata is validated for its characters only, then ignored, as upstream does.
    let _metadata = scan_identifiers(cur, b'+');
    let token = &cur.text[start..cur.pos];
    let bad = |reason| ParseErrorKind::BadVersion {
        position: cur.offset + start,
        token: token.to_owned(),
        reason,
    };
    if let Some(pipe) = token.find('|') {
        return Err(ParseErrorKind::SinglePipe(cur.offset + start + pipe));
    }
    let part = |i: usize| parts.get(i).map(|&(s, e)| &cur.text[s..e]);
    let number = |i: usize| -> Result<u64, ParseErrorKind> {
        let (s, e) = parts[i];
        let mut pos = s;
        let value = version::parse_number(bytes, &mut pos).map_err(bad)?;
        if pos != e {
            return Err(bad(version::ParseErrorKind::Unexpected(
                cur.offset + pos,
                char::from(bytes[pos]),
            )));
        }
        Ok(value)
    };
    let pre_text = pre.map(|(s, e)| &cur.text[s..e]);
    if let Some((s, e)) = pre {
        version::check_identifiers(bytes, s, e, true).map_err(bad)?;
    }
    let first = part(0).unwrap_or("");
    let (base, precision) = if is_wildcard(first) {
        (Version::new(0, 0, 0, pre_text), Precision::Any)
    } else if part(1).is_none_or(is_wildcard) {
        (Version::new(number(0)?, 0, 0, pre_text), Precision::Major)
    } else if part(2).is_none_or(is_wildcard) {
        (
            Version::new(number(0)?, number(1)?, 0, pre_text),
            Precision::Minor,
        )
    } else {
        let exact = Version::parse(token).map_err(|e| bad(e.kind))?;
        (exact, Precision::Exact)
    };
    Ok((base, precision))
}

/// After `-` or `+`: dot-separated `[0-9A-Za-z-]+` identifiers. Returns their span.
fn scan_identifiers(cur: &mut Cursor<'_>, lead: u8) -> Option<(usize, usize)> {
    let bytes = cur.text.as_bytes();
    let ident = |b: &u8| b.is_ascii_alphanumeric() || *b == b'-';
    if cur.peek() != Some(lead) || !bytes.get(cur.pos + 1).is_some_and(ident) {
        return None;
    }
    let start = cur.pos + 1;
    let mut end = start;
    loop {
        end += bytes[end..].iter().take_while(|b| ident(b)).count();
        if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(ident) {
            end += 1;
        } else {
            break;
        }
    }
    cur.pos = end;
    Some((start, end))
}

impl Comparator {
    /// Runs after the branch's prerelease gate, so prerelease versions reaching here are
    /// judged by plain precedence.
    fn accepts(&self, v: &Version) -> bool {
        let b = &self.base;
        let dirty = self.precision != Precision::Exact;
        let minor_dirty = self.precision == Precision::Major;
        let patch_dirty = self.precision == Precision::Minor;
        match self.op {
            Op::Equal if dirty => self.tilde(v),
            Op::Equal => v == b,
            Op::Tilde => self.tilde(v),
            Op::Caret => {
                if v < b {
                    false
                } else if b.major > 0 || minor_dirty {
                    v.major == b.major
                } else if v.major > 0 {
                    false
                } else if b.minor > 0 || patch_dirty {
                    v.minor == b.minor
                } else {
                    v.minor == 0 && v.patch == b.patch
                }
            }
            Op::Greater if !dirty => v > b,
            Op::Greater => match v.major.cmp(&b.major) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Less => false,
                std::cmp::Ordering::Equal if minor_dirty => false,
                std::cmp::Ordering::Equal if patch_dirty => v.minor > b.minor,
                std::cmp::Ordering::Equal => v > b,
            },
            Op::GreaterEqual => v >= b,
            Op::Less => v < b,
            Op::LessEqual if !dirty => v <= b,
            Op::LessEqual => {
                !(v.major > b.major || (v.major == b.major && v.minor > b.minor && !minor_dirty))
            }
            Op::NotEqual if !dirty => v != b,
            Op::NotEqual => {
                if v.major != b.major {
                    true
                } else if minor_dirty {
                    false
                } else if v.minor != b.minor {
                    true
                } else if patch_dirty {
                    (v.is_prerelease() || b.is_prerelease())
                        && version::compare_prerelease(v.prerelease(), b.prerelease())
                            != std::cmp::Ordering::Equal
                } else if v.patch != b.patch {
                    true
                } else {
                    v != b
                }
            }
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let b = &self.base;
        if v < b {
            return false;
        }
        // `~0.0.0` and `~*` accept everything (upstream: "equivalent to >= 0.0.0").
        let zero_base = b.major == 0 && b.minor == 0 && b.patch == 0;
        if zero_base && matches!(self.precision, Precision::Exact | Precision::Any) {
            return true;
        }
        v.major == b.major && (self.precision == Precision::Major || v.minor == b.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(range: &str, version: &str) -> bool {
        let c = Constraint::parse(range).unwrap_or_else(|e| panic!("{range}: {e}"));
        c.matches(&Version::parse(version).unwrap_or_else(|e| panic!("{version}: {e}")))
    }

    #[test]
    fn seed_ranges() {
        assert!(check("5.0.x", "5.0.3"));
        assert!(!check("5.0.x", "5.1.0"));
        assert!(check(">=1.0.0 <2.0.0", "1.9.0"));
        assert!(!check(">=1.0.0 <2.0.0", "2.0.0-rc.1"));
        assert!(check("^1.x-0", "1.2.0-rc.1"));
        assert!(!check("^1.x-0", "2.0.0-alpha"));
        assert!(check(">1.0.0-rc <2.0.0-rc", "2.0.0-beta"));
        assert!(!check(">1.0.0-rc <2.0.0-rc", "2.0.0-rc.1"));
    }

    #[test]
    fn hyphen_rewrite_is_textual() {
        assert_eq!(rewrite_hyphen_ranges("1 - 2").as_deref(), Some(">= 1, <= 2 "));
        assert!(Constraint::parse(">1.0 - 2.0").is_err());
        assert!(Constraint::parse("1 - 2 || 4 - 5").is_ok());
        assert!(Constraint::parse("1.2-1.4.5").is_ok());
    }

    #[test]
    fn errors_name_the_place() {
        let e = Constraint::parse(">=1.0.0 <").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::ExpectedVersion(9));
        let e = Constraint::parse("==1.0").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::UnknownOperator(0, "==".into()));
        let e = Constraint::parse(">=1.0.0<2.0.0").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::MissingSeparator(7));
        let e = Constraint::parse(">=1.0.0 | <2.0.0").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::SinglePipe(8));
    }
}

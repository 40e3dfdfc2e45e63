//! Versions as Masterminds semver v3 (`NewVersion`) parses and orders them, plus Flux's
//! stricter tag rule on top.
//!
//! The grammar is lenient: `[v] MAJOR [.MINOR [.PATCH]] [-PRERELEASE] [+METADATA]`, leading
//! zeros in the numbers are dropped, missing parts become 0. Flux additionally refuses any tag
//! with fewer than two dots (`fluxcd/pkg/version.ParseVersion`), so `1.2` and `v1` are not
//! versions to a policy although this parser accepts them.

use std::cmp::Ordering;
use std::fmt;

/// A parsed version. Equality and ordering follow Masterminds' `Compare`: build metadata is
/// ignored, so `1.0.0+a == 1.0.0+b`.
#[derive(Debug, Clone)]
pub struct Version {
    /// Major number.
    pub major: u64,
    /// Minor number (0 when the input had none).
    pub minor: u64,
    /// Patch number (0 when the input had none).
    pub patch: u64,
    pre: Option<Box<str>>,
    metadata: Option<Box<str>>,
}

/// Why a string is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version {input:?}: {kind}")]
pub struct ParseError {
    /// The text that was refused, truncated to 80 characters.
    pub input: String,
    /// Byte offset of the first offending character.
    pub position: usize,
    /// What is wrong there.
    pub kind: ParseErrorKind,
}

/// The ways a version string can be malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// Flux requires at least two dots in a tag (`MAJOR.MINOR.PATCH`).
    #[error("fewer than two dots; Flux needs MAJOR.MINOR.PATCH")]
    TooFewDots,
    /// A major, minor or patch number was expected here.
    #[error("expected a number at byte {0}")]
    ExpectedNumber(usize),
    /// A number does not fit in 64 bits.
    #[error("number too large at byte {0}")]
    Overflow(usize),
    /// A prerelease or metadata identifier is empty (`1.0.0-a..b`, trailing `.`).
    #[error("empty identifier at byte {0}")]
    EmptyIdentifier(usize),
    /// A numeric prerelease identifier has a leading zero (`1.0.0-rc.01`).
    #[error("numeric prerelease identifier with a leading zero at byte {0}")]
    LeadingZero(usize),
    /// A character that cannot appear here.
    #[error("unexpected character {1:?} at byte {0}")]
    Unexpected(usize, char),
}

impl Version {
    /// Parses leniently, as Masterminds `NewVersion` does (the only parser Flux uses).
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_lenient(input).map_err(|kind| error(input, kind))
    }

    /// Parses a container tag the way a Flux semver policy does: refuse tags with fewer than
    /// two dots, then parse leniently.
    pub fn parse_tag(tag: &str) -> Result<Self, ParseError> {
        if !has_two_dots(tag) {
            return Err(error(tag, ParseErrorKind::TooFewDots));
        }
        Self::parse(tag)
    }

    /// A version from its parts, with an optional prerelease (without the `-`).
    ///
    /// The prerelease is not validated here; it is taken as a constraint base would be.
    #[must_use]
    pub fn new(major: u64, minor: u64, patch: u64, pre: Option<&str>) -> Self {
        Version {
            major,
            minor,
            patch,
            pre: pre.filter(|p| !p.is_empty()).map(Into::into),
            metadata: None,
        }
    }

    /// The prerelease without its leading `-`, or `""` when there is none.
    #[must_use]
    pub fn prerelease(&self) -> &str {
        self.pre.as_deref().unwrap_or("")
    }

    /// The build metadata without its leading `+`, or `""` when there is none.
    #[must_use]
    pub fn metadata(&self) -> &str {
        self.metadata.as_deref().unwrap_or("")
    }

    /// Whether this version carries a prerelease.
    #[must_use]
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some()
    }

    pub(crate) fn triple(&self) -> (u64, u64, u64) {
        (self.major, self.minor, self.patch)
    }
}

/// Flux's tag rule: `strings.SplitN(tag, ".", 3)` must yield three pieces.
#[must_use]
pub fn has_two_dots(tag: &str) -> bool {
    memchr_count_dots(tag.as_bytes()) >= 2
}

fn memchr_count_dots(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'.').take(2).count()
}

fn error(input: &str, kind: ParseErrorKind) -> ParseError {
    let position = match kind {
        ParseErrorKind::TooFewDots => 0,
        ParseErrorKind::ExpectedNumber(p)
        | ParseErrorKind::Overflow(p)
        | ParseErrorKind::EmptyIdentifier(p)
        | ParseErrorKind::LeadingZero(p)
        | ParseErrorKind::Unexpected(p, _) => p,
    };
    ParseError {
        input: crate::truncate(input, 80),
        position,
        kind,
    }
}

fn parse_lenient(input: &str) -> Result<Version, ParseErrorKind> {
    let bytes = input.as_bytes();
    let mut pos = usize::from(bytes.first() == Some(&b'v'));
    let major = parse_number(bytes, &mut pos)?;
    let mut minor = 0;
    let mut patch = 0;
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        minor = parse_number(bytes, &mut pos)?;
        if bytes.get(pos) == Some(&b'.') {
            pos += 1;
            patch = parse_number(bytes, &mut pos)?;
        }
    }
    let mut pre = None;
    if bytes.get(pos) == Some(&b'-') {
        let start = pos + 1;
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'+')
            .map_or(bytes.len(), |i| start + i);
        check_identifiers(bytes, start, end, true)?;
        pre = Some(input[start..end].into());
        pos = end;
    }
    let mut metadata = None;
    if bytes.get(pos) == Some(&b'+') {
        let start = pos + 1;
        check_identifiers(bytes, start, bytes.len(), false)?;
        metadata = Some(input[start..].into());
        pos = bytes.len();
    }
    if let Some(&b) = bytes.get(pos) {
        return Err(ParseErrorKind::Unexpected(pos, char_at(input, pos, b)));
    }
    Ok(Version {
        major,
        minor,
        patch,
        pre,
        metadata,
    })
}

fn char_at(input: &str, pos: usize, byte: u8) -> char {
    input
        .get(pos..)
        .and_then(|s| s.chars().next())
        .unwrap_or(char::from(byte))
}

/// A run of ASCII digits (leading zeros allowed) that fits in a `u64`.
pub(crate) fn parse_number(bytes: &[u8], pos: &mut usize) -> Result<u64, ParseErrorKind> {
    let start = *pos;
    let mut value: u64 = 0;
    while let Some(&b) = bytes.get(*pos) {
        if !b.is_ascii_digit() {
            break;
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(ParseErrorKind::Overflow(start))?;
        *pos += 1;
    }
    if *pos == start {
        return Err(ParseErrorKind::ExpectedNumber(start));
    }
    Ok(value)
}

/// Dot-separated, non-empty identifiers of `[0-9A-Za-z-]`; in a prerelease an all-digit
/// identifier must not have a leading zero.
pub(crate) fn check_identifiers(
    bytes: &[u8],
    start: usize,
    end: usize,
    prerelease: bool,
) -> Result<(), ParseErrorKind> {
    let mut ident_start = start;
    for i in start..=end {
        let b = if i == end { b'.' } else { bytes[i] };
        if b == b'.' {
            let ident = &bytes[ident_start..i];
            if ident.is_empty() {
                return Err(ParseErrorKind::EmptyIdentifier(i));
            }
            if prerelease && ident.len() > 1 && ident[0] == b'0' && ident.iter().all(u8::is_ascii_digit) {
                return Err(ParseErrorKind::LeadingZero(ident_start));
            }
            ident_start = i + 1;
        } else if !(b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ParseErrorKind::Unexpected(i, char::from(b)));
        }
    }
    Ok(())
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.triple()
            .cmp(&other.triple())
            .then_with(|| match (&self.pre, &other.pre) {
                (None, None) => Ordering::Equal,
                // A release is greater than any of its prereleases.
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => compare_prerelease(a, b),
            })
    }
}

/// Masterminds' prerelease order: identifier by identifier, numbers by value and below
/// words, words byte-wise, and a shorter list below a longer one it prefixes.
///
/// Also used by `!=` on wildcard constraints, where one side may be `""`.
pub(crate) fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (l, r) => {
                let ord = compare_identifier(l.unwrap_or(""), r.unwrap_or(""));
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

fn compare_identifier(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    // An exhausted side sorts first, whatever the other side holds.
    if a.is_empty() {
        return Ordering::Less;
    }
    if b.is_empty() {
        return Ordering::Greater;
    }
    match (numeric(a), numeric(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.as_bytes().cmp(b.as_bytes()),
    }
}

/// Go's `strconv.ParseUint(s, 10, 64)`: all digits and in range.
fn numeric(ident: &str) -> Option<u64> {
    if ident.bytes().all(|b| b.is_ascii_digit()) {
        ident.parse().ok()
    } else {
        None
    }
}

impl fmt::Display for Version {
    /// The normalised form `MAJOR.MINOR.PATCH[-PRE][+META]` (not the original text).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if let Some(pre) = &self.pre {
            write!(f, "-{pre}")?;
        }
        if let Some(meta) = &self.metadata {
            write!(f, "+{meta}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn lenient_forms() {
        assert_eq!(v("01.02.03").to_string(), "1.2.3");
        assert_eq!(v("1.2-5").to_string(), "1.2.0-5");
        assert_eq!(v("v2025.01.05").triple(), (2025, 1, 5));
        assert_eq!(v("1-rc.1.2").to_string(), "1.0.0-rc.1.2");
        assert!(Version::parse("18446744073709551615.0.0").is_ok());
        assert!(Version::parse("18446744073709551616.0.0").is_err());
    }

    #[test]
    fn flux_tag_rule() {
        assert!(Version::parse_tag("1.2").is_err());
        assert!(Version::parse_tag("1.2-rc.1").is_ok());
        assert!(Version::parse_tag("20221209-update-renovatejson-v4").is_err());
        assert!(Version::parse_tag("1.2.3.4").is_err());
    }

    #[test]
    fn ordering() {
        assert!(v("1.0.0-1") < v("1.0.0-alpha"));
        assert!(v("1.0.0-alpha") < v("1.0.0-alpha.1"));
        assert!(v("1.0.0-rc.9") < v("1.0.0-rc.10"));
        assert!(v("1.0.0-rc10") < v("1.0.0-rc9"));
        assert!(v("1.0.0-Beta") < v("1.0.0-alpha"));
        assert!(v("1.0.0-rc.1") < v("1.0.0"));
        assert_eq!(v("1.0.0+a"), v("1.0.0+b"));
    }
}

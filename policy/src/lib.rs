//! Chooses the latest container image tag exactly as a Flux `ImagePolicy` does.
//!
//! Give it the tags a registry lists and a policy (a semver range, or alphabetical or
//! numerical order, optionally with a `filterTags` pattern and `extract` template); it answers
//! with the original tag that Flux's image-reflector-controller would pick, and, on request,
//! with the reason every other tag lost.
//!
//! ```
//! use imagebump_policy::Policy;
//!
//! let tags = ["5.0.0", "5.0.3", "5.1.0", "5.0.4-rc.1", "latest"];
//! let policy = Policy::semver("5.0.x")?;
//! assert_eq!(policy.select(&tags)?.tag(), Some("5.0.3"));
//!
//! // Build IDs: compare the timestamp that `extract` pulls out, answer with the whole tag.
//! let tags = ["main-3f2a1b0-1700000300", "main-9c0ffee-1700000001", "pr-7-1800000000"];
//! let policy = Policy::numerical("asc")?
//!     .with_filter(r"^main-[a-f0-9]+-(?P<ts>[0-9]+)$", "$ts")?;
//! assert_eq!(policy.select(&tags)?.tag(), Some("main-3f2a1b0-1700000300"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Semantics
//!
//! * **semver**: the Masterminds v3 constraint language ([`Constraint`]), tags parsed leniently
//!   but only when they have at least two dots (`1.2` and `v1` are skipped); tags that are not
//!   versions are skipped, never an error. Of equal versions (`1.0.0`, `v1.0.0`, `1.0.0+b`)
//!   the first in the input wins.
//! * **alphabetical**: byte order; `asc` picks the greatest, `desc` the smallest.
//! * **numerical**: Go `ParseFloat` syntax; a single value that is not a number fails the whole
//!   policy ([`SelectError::NotANumber`]); of equal values the *last* wins, as in Flux.
//! * **filterTags**: unanchored regex search; `extract` expands `$1`, `${1}`, `$name`,
//!   `${name}`, `$$` as Go does. Tags extracting the same value collapse into the last of them.
//!   Where Flux then iterates a Go map (random order, so ties among distinct values are
//!   nondeterministic), this crate keeps first-appearance order, which makes ties repeatable.
//!
//! An invalid spec is a [`BuildError`] (Flux: stalled, `InvalidPolicy`); "nothing matched" is
//! not an error but a [`Selection`] without a winner and a [`NoMatch`] reason.
//!
//! # What this crate does not do
//!
//! No I/O, no registry access, no async: it is a pure function from (policy, tags) to a tag,
//! so that the daemon, the CLI and tests share one implementation.

mod constraint;
mod filter;
mod numeric;
mod select;
mod version;

pub use constraint::{Constraint, ParseError as RangeError, ParseErrorKind as RangeErrorKind, Verdict};
pub use filter::{PatternError, TagFilter};
pub use numeric::parse_go_float;
pub use select::{
    BuildError, Decision, Explanation, Latest, NoMatch, Order, Outcome, Policy, Rule, SelectError, Selection,
};
pub use version::{ParseError as VersionError, ParseErrorKind as VersionErrorKind, Version, has_two_dots};

/// Shortens user input quoted in an error, so one absurd value cannot flood a log line.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

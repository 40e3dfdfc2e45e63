//! Policies and the selection of the latest tag, as image-reflector-controller's
//! `applyPolicy` does it: filter (and extract), then let the policy pick among the values, then
//! answer with the original tag.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use crate::constraint::{self, Constraint, Verdict};
use crate::filter::{Applied, PatternError, TagFilter};
use crate::numeric::parse_go_float;
use crate::version::{self, Version};

/// Which end of the order wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The greatest value wins (Flux's default).
    Asc,
    /// The smallest value wins.
    Desc,
}

impl Order {
    /// Reads Flux's `order` field: `asc` or `desc` in any case; empty means `asc`.
    pub fn parse(order: &str) -> Result<Self, BuildError> {
        match order.to_ascii_uppercase().as_str() {
            "" | "ASC" => Ok(Order::Asc),
            "DESC" => Ok(Order::Desc),
            _ => Err(BuildError::InvalidOrder {
                order: crate::truncate(order, 40),
            }),
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        })
    }
}

/// What decides which value is the latest.
#[derive(Debug, Clone)]
pub enum Rule {
    /// The highest version satisfying a semver range; other tags are skipped.
    Semver(Constraint),
    /// Byte-wise string order.
    Alphabetical(Order),
    /// Go float order; every value must be a number.
    Numerical(Order),
}

/// A compiled image policy: a rule and an optional tag filter. Built once, applied to every
/// new tag list.
#[derive(Debug, Clone)]
pub struct Policy {
    rule: Rule,
    filter: Option<TagFilter>,
}

/// The policy's spec is invalid (Flux: Stalled, reason `InvalidPolicy`). Retrying cannot help;
/// the spec must change.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BuildError {
    /// `semver.range` does not parse.
    #[error("invalid policy")]
    InvalidRange(#[from] constraint::ParseError),
    /// `filterTags.pattern` does not compile.
    #[error("invalid policy")]
    InvalidPattern(#[from] PatternError),
    /// `order` is neither `asc` nor `desc`.
    #[error("invalid policy: order {order:?} is neither \"asc\" nor \"desc\"")]
    InvalidOrder {
        /// The order as written.
        order: String,
    },
}

/// The policy could not be evaluated on these tags (Flux: Ready=False, retried).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    /// A numerical policy met a value that is not a number; Flux fails the whole policy.
    #[error(
        "numerical policy: {value:?} (from tag {tag:?}) is not a number; \
         use filterTags to keep only numeric tags"
    )]
    NotANumber {
        /// The original tag.
        tag: String,
        /// The value compared (the tag, or what `extract` made of it).
        value: String,
    },
}

impl SelectError {
    /// Whether trying again later, with the same spec, may succeed. A new tag list can
    /// change the answer, so this is never a reason to stall.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        true
    }
}

/// The answer for one tag list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection<'t> {
    /// The winner, if any.
    pub latest: Option<Latest<'t>>,
    /// Tags given.
    pub tags: usize,
    /// Distinct values after `filterTags` (all tags when there is no filter).
    pub candidates: usize,
    /// Values the rule accepted (for semver: versions inside the range).
    pub eligible: usize,
}

/// The winning tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Latest<'t> {
    /// The original tag, as the registry lists it.
    pub tag: &'t str,
    /// Its position in the input.
    pub index: usize,
    /// The value that was compared (differs from `tag` when `extract` is set).
    pub value: Cow<'t, str>,
}

/// Why nothing was selected. Not an error: a later scan may bring a matching tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoMatch {
    /// The tag list was empty.
    NoTags,
    /// `filterTags` matched none of the tags.
    FilteredAll,
    /// No value satisfied the rule (semver: no version in range).
    NoneEligible,
}

impl<'t> Selection<'t> {
    /// The original tag of the winner.
    #[must_use]
    pub fn tag(&self) -> Option<&'t str> {
        self.latest.as_ref().map(|l| l.tag)
    }

    /// Why there is no winner, when there is none.
    #[must_use]
    pub fn no_match(&self) -> Option<NoMatch> {
        match self.latest {
            Some(_) => None,
            None if self.tags == 0 => Some(NoMatch::NoTags),
            None if self.candidates == 0 => Some(NoMatch::FilteredAll),
            None => Some(NoMatch::NoneEligible),
        }
    }
}

impl fmt::Display for NoMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoMatch::NoTags => "no tags to choose from",
            NoMatch::FilteredAll => "filterTags matched none of the tags",
            NoMatch::NoneEligible => "no tag satisfies the policy",
        })
    }
}

/// What happened to one tag, for `--explain` and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'t> {
    /// The original tag.
    pub tag: &'t str,
    /// The value compared, when the filter produced one.
    pub value: Option<Cow<'t, str>>,
    /// Its fate.
    pub outcome: Outcome<'t>,
}

/// The fate of a tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'t> {
    /// It is the latest.
    Selected,
    /// `filterTags.pattern` does not match it.
    FilteredOut,
    /// A later tag extracted the same value and replaced it (Flux keeps the last).
    Superseded {
        /// The later tag.
        by: &'t str,
    },
    /// Not a version to a Flux semver policy.
    NotAVersion(version::ParseErrorKind),
    /// A prerelease, and no branch of the range names a prerelease.
    PrereleaseExcluded,
    /// A version outside the range.
    OutOfRange,
    /// Eligible, but another tag is later (or equal and seen first).
    LostTo {
        /// The winner.
        winner: &'t str,
    },
}

impl Outcome<'_> {
    /// A stable machine-readable name for JSON output.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Selected => "selected",
            Outcome::FilteredOut => "filtered_out",
            Outcome::Superseded { .. } => "superseded",
            Outcome::NotAVersion(_) => "not_a_version",
            Outcome::PrereleaseExcluded => "prerelease_excluded",
            Outcome::OutOfRange => "out_of_range",
            Outcome::LostTo { .. } => "lost",
        }
    }
}

impl fmt::Display for Outcome<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Selected => f.write_str("selected"),
            Outcome::FilteredOut => f.write_str("dropped: filterTags pattern does not match"),
            Outcome::Superseded { by } => {
                write!(f, "dropped: later tag {by} extracts the same value")
            }
            Outcome::NotAVersion(why) => write!(f, "skipped: not a version ({why})"),
            Outcome::PrereleaseExcluded => {
                f.write_str("skipped: prerelease, and the range names none (add -0 to allow)")
            }
            Outcome::OutOfRange => f.write_str("skipped: outside the range"),
            Outcome::LostTo { winner } => write!(f, "eligible, lost to {winner}"),
        }
    }
}

/// A selection together with the fate of every tag, in input order.
#[derive(Debug, Clone)]
pub struct Explanation<'t> {
    /// The answer.
    pub selection: Selection<'t>,
    /// One decision per input tag.
    pub decisions: Vec<Decision<'t>>,
}

/// A value the rule will judge, with the tag it came from.
struct Candidate<'t> {
    index: usize,
    tag: &'t str,
    value: Cow<'t, str>,
}

impl Policy {
    /// A policy from a rule, without a filter.
    #[must_use]
    pub fn new(rule: Rule) -> Self {
        Policy { rule, filter: None }
    }

    /// `semver: { range }`.
    pub fn semver(range: &str) -> Result<Self, BuildError> {
        Ok(Self::new(Rule::Semver(Constraint::parse(range)?)))
    }

    /// `alphabetical: { order }`.
    pub fn alphabetical(order: &str) -> Result<Self, BuildError> {
        Ok(Self::new(Rule::Alphabetical(Order::parse(order)?)))
    }

    /// `numerical: { order }`.
    pub fn numerical(order: &str) -> Result<Self, BuildError> {
        Ok(Self::new(Rule::Numerical(Order::parse(order)?)))
    }

    /// Adds `filterTags: { pattern, extract }`.
    pub fn with_filter(mut self, pattern: &str, extract: &str) -> Result<Self, BuildError> {
        self.filter = Some(TagFilter::new(pattern, extract)?);
        Ok(self)
    }

    /// The rule.
    #[must_use]
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    /// The filter, if any.
    #[must_use]
    pub fn filter(&self) -> Option<&TagFilter> {
        self.filter.as_ref()
    }

    /// Picks the latest tag. Tags are taken in the order given; see the crate docs for how
    /// ties are broken.
    pub fn select<'t, S: AsRef<str>>(&self, tags: &'t [S]) -> Result<Selection<'t>, SelectError> {
        self.run(tags, None)
    }

    /// Like [`Policy::select`], and says what happened to every tag.
    pub fn explain<'t, S: AsRef<str>>(&self, tags: &'t [S]) -> Result<Explanation<'t>, SelectError> {
        let mut outcomes = vec![None; tags.len()];
        let mut values = vec![None; tags.len()];
        let selection = self.run(tags, Some((&mut outcomes, &mut values)))?;
        let decisions = tags
            .iter()
            .zip(outcomes.into_iter().zip(values))
            .map(|(tag, (outcome, value))| Decision {
                tag: tag.as_ref(),
                value,
                outcome: outcome.unwrap_or(Outcome::FilteredOut),
            })
            .collect();
        Ok(Explanation { selection, decisions })
    }

    fn run<'t, S: AsRef<str>>(
        &self,
        tags: &'t [S],
        mut trace: Option<Trace<'_, 't>>,
    ) -> Result<Selection<'t>, SelectError> {
        let candidates = match &self.filter {
            None => Candidates::All(tags),
            Some(filter) => Candidates::Filtered(Self::filtered(filter, tags, trace.as_mut())),
        };
        let mut eligible = candidates.len();
        let winner = match &self.rule {
            Rule::Semver(range) => {
                let (winner, count) = latest_version(range, candidates.iter(), trace.as_mut());
                eligible = count;
                winner
            }
            Rule::Alphabetical(order) => latest_string(*order, candidates.iter()),
            Rule::Numerical(order) => latest_number(*order, candidates.iter())?,
        };
        if let Some((outcomes, _)) = trace {
            for c in candidates.iter() {
                let outcome = &mut outcomes[c.index];
                if outcome.is_none() {
                    *outcome = Some(match winner {
                        Some(w) if w.index == c.index => Outcome::Selected,
                        Some(w) => Outcome::LostTo { winner: w.tag },
                        None => Outcome::OutOfRange,
                    });
                }
            }
        }
        let latest = winner.map(|w| Latest {
            tag: w.tag,
            index: w.index,
            value: candidates.value_of(w),
        });
        Ok(Selection {
            latest,
            tags: tags.len(),
            candidates: candidates.len(),
            eligible,
        })
    }

    /// Applies the filter. Equal extracted values collapse into one candidate that keeps its
    /// first position but takes the latest tag, as Flux's map from value to tag does; the
    /// position makes ties deterministic where Flux's map order is random.
    fn filtered<'t, S: AsRef<str>>(
        filter: &TagFilter,
        tags: &'t [S],
        mut trace: Option<&mut Trace<'_, 't>>,
    ) -> Vec<Candidate<'t>> {
        let mut candidates: Vec<Candidate<'t>> = Vec::new();
        let mut seen: HashMap<Box<str>, usize, FxBuild> = HashMap::default();
        let mut scratch = filter.scratch();
        for (index, tag) in tags.iter().enumerate() {
            let tag = tag.as_ref();
            let extracted = match filter.apply_with(tag, &mut scratch) {
                Applied::NoMatch => {
                    if let Some((outcomes, _)) = trace.as_deref_mut() {
                        outcomes[index] = Some(Outcome::FilteredOut);
                    }
                    continue;
                }
                Applied::Tag => None,
                Applied::Extracted(value) => Some(value),
            };
            let value: &str = extracted.unwrap_or(tag);
            if let Some((_, values)) = trace.as_deref_mut() {
                values[index] = Some(Cow::Owned(value.to_owned()));
            }
            if let Some(&slot) = seen.get(value) {
                let earlier = &mut candidates[slot];
                if let Some((outcomes, _)) = trace.as_deref_mut() {
                    outcomes[earlier.index] = Some(Outcome::Superseded { by: tag });
                }
                earlier.index = index;
                earlier.tag = tag;
            } else {
                seen.insert(value.into(), candidates.len());
                let value = match extracted {
                    Some(v) => Cow::Owned(v.to_owned()),
                    None => Cow::Borrowed(tag),
                };
                candidates.push(Candidate { index, tag, value });
            }
        }
        candidates
    }
}

/// A small, fast hasher (the multiply-rotate scheme of rustc's `FxHasher`) for deduplicating
/// extracted values: the keys are short tag fragments, not attacker-chosen at a scale where
/// hash flooding matters (a registry returns at most a few hundred thousand tags).
#[derive(Default, Clone, Copy)]
struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 =
                (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

/// Per-tag outcomes and extracted values, indexed like the input.
type Trace<'a, 't> = (
    &'a mut Vec<Option<Outcome<'t>>>,
    &'a mut Vec<Option<Cow<'t, str>>>,
);

/// The highest version in range; equal versions keep the first seen (Flux replaces the best
/// only when strictly greater). Returns the winner and how many were in range.
fn latest_version<'c, 't>(
    range: &Constraint,
    candidates: impl Iterator<Item = Cand<'c, 't>>,
    mut trace: Option<&mut Trace<'_, 't>>,
) -> (Option<Cand<'c, 't>>, usize) {
    let mut best: Option<(Cand<'c, 't>, Version)> = None;
    let mut in_range = 0;
    for c in candidates {
        let rejected = match Version::parse_tag(c.value) {
            Err(e) => Some(Outcome::NotAVersion(e.kind)),
            Ok(v) => match range.verdict(&v) {
                Verdict::Accepted => {
                    in_range += 1;
                    if best.as_ref().is_none_or(|(_, b)| v > *b) {
                        best = Some((c, v));
                    }
                    None
                }
                Verdict::PrereleaseExcluded => Some(Outcome::PrereleaseExcluded),
                Verdict::OutOfRange => Some(Outcome::OutOfRange),
            },
        };
        if let (Some(outcome), Some((outcomes, _))) = (rejected, trace.as_deref_mut()) {
            outcomes[c.index] = Some(outcome);
        }
    }
    (best.map(|(c, _)| c), in_range)
}

/// Byte-wise greatest (`asc`) or smallest (`desc`) value.
fn latest_string<'c, 't>(
    order: Order,
    mut candidates: impl Iterator<Item = Cand<'c, 't>>,
) -> Option<Cand<'c, 't>> {
    let first = candidates.next()?;
    Some(candidates.fold(first, |best, c| {
        let better = match order {
            Order::Asc => c.value.as_bytes() > best.value.as_bytes(),
            Order::Desc => c.value.as_bytes() < best.value.as_bytes(),
        };
        if better { c } else { best }
    }))
}

/// Flux's loop exactly: a later value replaces the best unless it is strictly worse, so ties
/// and `NaN` go to the later value.
fn latest_number<'c, 't>(
    order: Order,
    candidates: impl Iterator<Item = Cand<'c, 't>>,
) -> Result<Option<Cand<'c, 't>>, SelectError> {
    let mut best: Option<(Cand<'c, 't>, f64)> = None;
    for c in candidates {
        let value = parse_go_float(c.value).ok_or_else(|| SelectError::NotANumber {
            tag: c.tag.to_owned(),
            value: c.value.to_owned(),
        })?;
        let worse = best.is_some_and(|(_, b)| match order {
            Order::Asc => value < b,
            Order::Desc => value > b,
        });
        if !worse {
            best = Some((c, value));
        }
    }
    Ok(best.map(|(c, _)| c))
}

/// The values a rule judges: every tag (no filter), or the filter's deduplicated output.
enum Candidates<'t, S> {
    All(&'t [S]),
    Filtered(Vec<Candidate<'t>>),
}

/// One candidate as the rules see it.
#[derive(Clone, Copy)]
struct Cand<'c, 't> {
    index: usize,
    tag: &'t str,
    value: &'c str,
}

impl<'t, S: AsRef<str>> Candidates<'t, S> {
    fn len(&self) -> usize {
        match self {
            Candidates::All(tags) => tags.len(),
            Candidates::Filtered(c) => c.len(),
        }
    }

    fn iter(&self) -> impl Iterator<Item = Cand<'_, 't>> {
        let (all, filtered): (&'t [S], &[Candidate<'t>]) = match self {
            Candidates::All(tags) => (tags, &[]),
            Candidates::Filtered(c) => (&[], c),
        };
        let all = all.iter().enumerate().map(|(index, tag)| {
            let tag = tag.as_ref();
            Cand {
                index,
                tag,
                value: tag,
            }
        });
        let filtered = filtered.iter().map(|c| Cand {
            index: c.index,
            tag: c.tag,
            value: c.value.as_ref(),
        });
        all.chain(filtered)
    }

    /// The winner's value, borrowed from the input when it is the tag itself.
    fn value_of(&self, winner: Cand<'_, 't>) -> Cow<'t, str> {
        match self {
            Candidates::Filtered(c) => c
                .iter()
                .find(|c| c.index == winner.index)
                .map_or_else(|| Cow::Owned(winner.value.to_owned()), |c| c.value.clone()),
            Candidates::All(_) => Cow::Borrowed(winner.tag),
        }
    }
}

//! The setters on one file's text: find the marked scalars, splice their new values in, check
//! the result.

use std::collections::BTreeMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::result::{Change, ObjectId, Policies};

use super::marker::{self, Part, Reading};
use super::note::{Note, NoteKind};
use super::quote;
use super::scan::{self, Ending, Role, Scalar, Scan};

/// The outcome of [`apply`] on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdit {
    /// The new text: the input with only the changed values' bytes replaced.
    pub text: String,
    /// What changed, in document order, each with the object (document) it happened in.
    pub changes: Vec<(ObjectId, Change)>,
    /// Markers that were not applied as written, in document order.
    pub notes: Vec<Note>,
}

impl FileEdit {
    /// Whether any value changed (then the file needs writing).
    #[must_use]
    pub fn is_changed(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// Why a file cannot be edited safely; nothing is written then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The YAML does not parse.
    #[error("line {line}, column {column}: {message}")]
    Parse {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A document's root is a sequence or a scalar, which Flux refuses.
    #[error(
        "line {line}: the document's root is {found}, but Flux only reads documents whose root is a mapping"
    )]
    NotAMapping {
        /// 1-based line of the root node.
        line: usize,
        /// `a sequence`, `a scalar` or `an alias`.
        found: &'static str,
    },
    /// A mapping has the same key twice, which Flux refuses.
    #[error("line {line}: duplicate key {key:?} (first at line {first_line})")]
    DuplicateKey {
        /// The key (truncated).
        key: String,
        /// 1-based line of the second occurrence.
        line: usize,
        /// 1-based line of the first.
        first_line: usize,
    },
    /// A single-document `kind: List` with markers: Flux writes its items to new files
    /// (fluxcd/flux2#5064), so imagebump declines the file rather than differ silently.
    #[error(
        "line {line}: markers inside a single-document `kind: {kind}` file are not supported (Flux moves its items to new files, fluxcd/flux2#5064)"
    )]
    ListKind {
        /// 1-based line of the first marker in it.
        line: usize,
        /// `List` or `ResourceList`.
        kind: String,
    },
    /// A scalar's bytes are not where the parser says (a parser quirk this crate does not
    /// know); refusing is safer than guessing.
    #[error("line {line}: cannot locate the value's bytes in the text")]
    Locate {
        /// 1-based line.
        line: usize,
    },
    /// The edited text does not read back as the original with only the marked values
    /// changed. A bug guard: it means the splice or the quoting is wrong for this input.
    #[error("line {line}: after editing, {detail}; the file is left unchanged")]
    Verification {
        /// 1-based line in the edited text.
        line: usize,
        /// What differed.
        detail: String,
    },
}

impl EditError {
    /// Always `false`: the same text fails the same way until someone edits it.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// One planned splice.
struct Edit {
    range: Range<usize>,
    text: String,
    value: String,
    style: ScalarStyle,
    event: usize,
}

/// Writes the latest images of `policies` into the values marked with
/// `{"$imagepolicy": "ns:policy[:tag|:name|:digest]"}` comments, the way Flux's Setters
/// strategy decides which values to set, but changing only those values' bytes.
///
/// A marker is read from a scalar's line comment (after the value, on the line where the value
/// ends), or, for a sequence item without a line comment that starts its line (`- value`, or
/// an item of a flow sequence written one per line), from a comment alone on the line directly
/// above. Only scalar values of mappings and items of sequences are set;
/// block scalars, aliases, keys and collections never are. A value keeps its style (plain,
/// single- or double-quoted) unless a plain value would not read back as the same string, in
/// which case it becomes double-quoted (`tag: 1.0` → `tag: "1.1"`).
///
/// ```
/// use imagebump_writer::{LatestImage, Policies};
/// use imagebump_writer::setters::apply;
///
/// let mut policies = Policies::new();
/// let latest = LatestImage::parse("ghcr.io/stefanprodan/podinfo:5.0.3").expect("a valid reference");
/// policies.insert("flux-system:podinfo".into(), latest);
/// let before = "spec:\n  image: ghcr.io/stefanprodan/podinfo:5.0.0 # {\"$imagepolicy\": \"flux-system:podinfo\"}\n\n  tag: 5.0.0  # {\"$imagepolicy\": \"flux-system:podinfo:tag\"}\n";
/// let edit = apply(before, &policies)?;
/// assert_eq!(edit.text, "spec:\n  image: ghcr.io/stefanprodan/podinfo:5.0.3 # {\"$imagepolicy\": \"flux-system:podinfo\"}\n\n  tag: 5.0.3  # {\"$imagepolicy\": \"flux-system:podinfo:tag\"}\n");
/// assert_eq!(edit.changes.len(), 2);
/// # Ok::<(), imagebump_writer::setters::EditError>(())
/// ```
pub fn apply(text: &str, policies: &Policies) -> Result<FileEdit, EditError> {
    let scan = scan::scan(text)?;
    let mut plan = Plan::new(text, &scan, policies);
    for (index, scalar) in scan.scalars.iter().enumerate() {
        plan.scalar(index, scalar);
    }
    plan.unread_markers();
    let Plan {
        mut notes,
        edits,
        changes,
        first_resolved,
        ..
    } = plan;
    notes.sort_by_key(|n| n.line);
    if let Some((document, line)) = first_resolved
        && scan.documents.len() == 1
        && let Some(doc) = scan.documents.get(document)
        && doc.has_items
        && matches!(doc.object.kind.as_str(), "List" | "ResourceList")
    {
        return Err(EditError::ListKind {
            line,
            kind: doc.object.kind.clone(),
        });
    }
    if edits.is_empty() {
        return Ok(FileEdit {
            text: text.to_owned(),
            changes,
            notes,
        });
    }
    let new_text = splice(text, &edits)?;
    verify(&scan, &new_text, &edits)?;
    Ok(FileEdit {
        text: new_text,
        changes,
        notes,
    })
}

/// The decisions of one [`apply`].
struct Plan<'s, 'a> {
    text: &'a str,
    scan: &'s Scan<'a>,
    policies: &'s Policies,
    /// Per comment: what ends right before it on its line.
    owners: Vec<Option<Ending>>,
    /// Scalar → its line comment.
    line_comment: BTreeMap<usize, usize>,
    /// Line → the comment alone on it.
    own_line: BTreeMap<usize, usize>,
    /// Per comment: whether a scalar read it as its marker comment.
    read: Vec<bool>,
    notes: Vec<Note>,
    edits: Vec<Edit>,
    changes: Vec<(ObjectId, Change)>,
    /// The document and line of the first marker that named a policy.
    first_resolved: Option<(usize, usize)>,
}

impl<'s, 'a> Plan<'s, 'a> {
    fn new(text: &'a str, scan: &'s Scan<'a>, policies: &'s Policies) -> Self {
        let owners: Vec<Option<Ending>> = scan
            .comments
            .iter()
            .map(|c| owner(text, scan, &c.range))
            .collect();
        let line_comment = owners
            .iter()
            .enumerate()
            .filter_map(|(comment, owner)| match owner {
                Some(Ending::Scalar(scalar)) => Some((*scalar, comment)),
                _ => None,
            })
            .collect();
        let own_line = scan
            .comments
            .iter()
            .enumerate()
            .filter(|(_, c)| c.own_line)
            .map(|(i, c)| (c.line, i))
            .collect();
        Plan {
            text,
            scan,
            policies,
            owners,
            line_comment,
            own_line,
            read: vec![false; scan.comments.len()],
            notes: Vec::new(),
            edits: Vec::new(),
            changes: Vec::new(),
            first_resolved: None,
        }
    }

    fn comment_text(&self, comment: usize) -> &'a str {
        self.scan
            .comments
            .get(comment)
            .map_or("", |c| &self.text[c.range.clone()])
    }

    /// The comments kyaml reads for `scalar`: its line comment if there is one, else (for a
    /// sequence item that starts its line) the block of comment lines directly above it.
    fn marker_comments(&self, index: usize, scalar: &Scalar<'_>) -> Vec<usize> {
        match (self.line_comment.get(&index), scalar.head_line) {
            (Some(&comment), _) => vec![comment],
            (None, Some(line)) => {
                let mut block: Vec<usize> = (1..line)
                    .rev()
                    .map_while(|l| self.own_line.get(&l).copied())
                    .collect();
                block.reverse();
                block
            }
            (None, None) => Vec::new(),
        }
    }

    /// Reads the marker of one scalar and plans its edit.
    fn scalar(&mut self, index: usize, scalar: &Scalar<'a>) {
        if !scalar.settable() {
            return;
        }
        let source = self.marker_comments(index, scalar);
        let Some(&first) = source.first() else { return };
        for &comment in &source {
            self.read[comment] = true;
        }
        if source.len() > 1 {
            for &comment in &source {
                let text = self.comment_text(comment);
                if marker::mentions_marker(text) {
                    self.notes.push(Note {
                        line: self.scan.comments[comment].line,
                        marker: super::truncate(text, 80),
                        kind: NoteKind::MultiLineHeadComment,
                    });
                }
            }
            return;
        }
        let line = self.scan.comments[first].line;
        let setter = match marker::read(self.comment_text(first)) {
            Reading::Unrelated => return,
            Reading::Invalid(why) => {
                let marker = super::truncate(self.comment_text(first), 80);
                self.notes.push(Note {
                    line,
                    marker,
                    kind: NoteKind::InvalidMarker(why),
                });
                return;
            }
            Reading::Setter(setter) => setter,
        };
        let note = |kind| Note {
            line,
            marker: setter.clone(),
            kind,
        };
        let resolved = match marker::resolve(&setter, self.policies) {
            Ok(resolved) => resolved,
            Err(kind) => {
                self.notes.push(note(kind));
                return;
            }
        };
        self.first_resolved.get_or_insert((scalar.document, line));
        let new = resolved.value();
        if resolved.part == Part::Digest && resolved.image.digest.is_empty() {
            self.notes.push(note(NoteKind::EmptyDigest));
        }
        if new == scalar.value {
            return; // already at the latest: no change, as in Flux
        }
        if resolved.part == Part::Full && resolved.image.digest.is_empty() && scalar.value.contains('@') {
            self.notes.push(note(NoteKind::DigestDropped {
                old: super::truncate(&scalar.value, 120),
            }));
        }
        let (rendered, style) = quote::render(&new, scalar.style, scalar.flow);
        let object = self
            .scan
            .documents
            .get(scalar.document)
            .map(|d| d.object.clone())
            .unwrap_or_default();
        let change = Change {
            old_value: scalar.value.to_string(),
            new_value: new.clone(),
            setter,
        };
        self.changes.push((object, change));
        self.edits.push(Edit {
            range: scalar.range.clone(),
            text: rendered,
            value: new,
            style,
            event: scalar.event,
        });
    }

    /// Notes every comment that names a setter but that no scalar read, with the reason.
    fn unread_markers(&mut self) {
        for (index, comment) in self.scan.comments.iter().enumerate() {
            let body = self.comment_text(index);
            if self.read[index] || !marker::mentions_marker(body) {
                continue;
            }
            let (marker, kind) = match marker::read(body) {
                Reading::Unrelated => continue,
                Reading::Invalid(why) => (super::truncate(body, 80), NoteKind::InvalidMarker(why)),
                Reading::Setter(setter) => {
                    let kind = match self.owners[index] {
                        _ if comment.own_line => self.own_line_reason(comment.line),
                        Some(owner) => owned_reason(self.scan, owner),
                        None => line_reason(line_before(self.text, comment.range.start)),
                    };
                    (setter, kind)
                }
            };
            self.notes.push(Note {
                line: comment.line,
                marker,
                kind,
            });
        }
    }

    /// Why a marker on a line of its own was not read: it is not directly above a sequence
    /// item that starts its line, or that item has a line comment.
    fn own_line_reason(&self, line: usize) -> NoteKind {
        let mut below = line + 1;
        while self.own_line.contains_key(&below) {
            below += 1;
        }
        let item = self
            .scan
            .scalars
            .iter()
            .enumerate()
            .find(|(_, s)| s.settable() && s.head_line == Some(below));
        match item {
            Some((index, _)) if self.line_comment.contains_key(&index) => NoteKind::Shadowed { line: below },
            Some(_) => NoteKind::MultiLineHeadComment,
            None => NoteKind::NotAboveItem,
        }
    }
}

/// What ends right before the blanks before the comment at `range`: the candidate owner of a
/// line comment. In a flow collection, a comment after `value,` belongs to that value.
fn owner(text: &str, scan: &Scan<'_>, range: &Range<usize>) -> Option<Ending> {
    let before = |end: usize| text[..end].trim_end_matches([' ', '\t']).len();
    let end = before(range.start);
    if let Some(&ending) = scan.endings.get(&end) {
        return Some(ending);
    }
    let comma = end.checked_sub(1).filter(|&i| text.as_bytes()[i] == b',')?;
    match scan.endings.get(&before(comma)) {
        Some(&Ending::Scalar(i)) if scan.scalars.get(i).is_some_and(|s| s.flow) => Some(Ending::Scalar(i)),
        _ => None,
    }
}

/// Why a line comment after a node that cannot be set was not read.
fn owned_reason(scan: &Scan<'_>, owner: Ending) -> NoteKind {
    match owner {
        Ending::Alias => NoteKind::Alias,
        Ending::FlowEnd => NoteKind::Collection,
        Ending::Scalar(i) => match scan.scalars.get(i) {
            Some(s) if s.role == Role::Key => NoteKind::Key,
            Some(s) if matches!(s.style, ScalarStyle::Literal | ScalarStyle::Folded) => NoteKind::BlockScalar,
            _ => NoteKind::NotOnScalar,
        },
    }
}

/// Why a line comment after something other than a node was not read, judged by the last token
/// before it on its line.
fn line_reason(prefix: &str) -> NoteKind {
    let prefix = prefix.trim_end_matches([' ', '\t']);
    let token = prefix.rsplit([' ', '\t']).next().unwrap_or("");
    let block_header = token
        .strip_prefix(['|', '>'])
        .is_some_and(|rest| rest.len() <= 2 && rest.chars().all(|c| matches!(c, '1'..='9' | '+' | '-')));
    if block_header {
        NoteKind::BlockScalar
    } else if token == "-" || prefix.ends_with(':') {
        NoteKind::NoValue
    } else if prefix.ends_with(['[', '{']) {
        NoteKind::Collection
    } else {
        NoteKind::NotOnScalar
    }
}

/// The text of the line holding byte `offset`, up to it.
fn line_before(text: &str, offset: usize) -> &str {
    let start = text[..offset].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    &text[start..offset]
}

/// `text` with each edit's range replaced. Edits come in event order, which is text order;
/// were they ever not disjoint and in order, that is refused rather than guessed at.
fn splice(text: &str, edits: &[Edit]) -> Result<String, EditError> {
    let mut out = String::with_capacity(text.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut pos = 0;
    for edit in edits {
        let kept = text.get(pos..edit.range.start).ok_or_else(|| EditError::Locate {
            line: 1 + text
                .get(..edit.range.start)
                .map_or(0, |t| t.matches('\n').count()),
        })?;
        out.push_str(kept);
        out.push_str(&edit.text);
        pos = edit.range.end;
    }
    out.push_str(text.get(pos..).unwrap_or_default());
    Ok(out)
}

/// Re-parses `new_text` and checks that its events are the original ones, except that each
/// edited scalar now has its new value (and, where quoting was added, its new style), with the
/// same anchor and tag.
fn verify(scan: &Scan<'_>, new_text: &str, edits: &[Edit]) -> Result<(), EditError> {
    let mut edits = edits.iter().peekable();
    let mut parser = Parser::new_from_str(new_text);
    let mut last_line = 1;
    for (index, old) in scan.events.iter().enumerate() {
        let (found, at) = match parser.next() {
            Some(Ok(next)) => next,
            Some(Err(e)) => {
                return Err(EditError::Verification {
                    line: e.marker().line(),
                    detail: format!("the text does not parse: {}", e.info()),
                });
            }
            None => {
                return Err(EditError::Verification {
                    line: last_line,
                    detail: "the text ends early".to_owned(),
                });
            }
        };
        last_line = at.start.line();
        let fail = |what: &str| EditError::Verification {
            line: at.start.line(),
            detail: format!("{what} (expected {old:?}, found {found:?})"),
        };
        match edits.next_if(|e| e.event == index) {
            Some(edit) => {
                let Event::Scalar(_, _, anchor, tag) = old else {
                    return Err(fail("an edited node is not a scalar"));
                };
                let expected = Event::Scalar(edit.value.as_str().into(), edit.style, *anchor, tag.clone());
                if found != expected {
                    return Err(fail(&format!(
                        "the new value reads as something else than {:?}",
                        edit.value
                    )));
                }
            }
            None if found != *old => return Err(fail("an untouched node changed")),
            None => {}
        }
    }
    if parser.next().is_some() {
        return Err(EditError::Verification {
            line: last_line,
            detail: "the text has extra content".to_owned(),
        });
    }
    Ok(())
}

//! One pass over a file's YAML events: where every scalar's value bytes are, what role each
//! node plays (key, value, sequence item), which comments exist, and each document's object
//! identity.
//!
//! `saphyr-parser` reports spans in characters and emits no comments, so this module turns
//! spans into byte ranges and corrects its span quirks: a scalar's span starts at its anchor
//! or tag; a quoted scalar's span, like a flow collection's end, runs on over a following
//! comment; a block scalar's span covers its content lines, not the `|` header, and may end
//! inside the next line's indentation. Comments are then found in the bytes *between* scalar
//! values: there, a `#` at the start of a line or after a blank starts a comment, while inside
//! a value it never does.

use std::collections::BTreeMap;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use crate::result::ObjectId;

use super::apply::EditError;

/// The role of a node in its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A document's root node.
    Root,
    /// A mapping key, or any node inside one.
    Key,
    /// A mapping value.
    Value,
    /// A sequence item.
    Item,
}

/// A scalar node and where its value's bytes are.
#[derive(Debug)]
pub(crate) struct Scalar<'a> {
    /// The value as YAML reads it.
    pub(crate) value: std::borrow::Cow<'a, str>,
    /// How it is written.
    pub(crate) style: ScalarStyle,
    /// What it is to its parent.
    pub(crate) role: Role,
    /// Whether it sits inside a flow collection.
    pub(crate) flow: bool,
    /// For a sequence item that starts its line (`- [properties] value` in a block sequence,
    /// `[properties] value` in a flow one): that line, the one below a head comment.
    pub(crate) head_line: Option<usize>,
    /// The value's bytes: after anchor and tag, quotes included; for block scalars the
    /// content lines; empty for an empty plain scalar.
    pub(crate) range: Range<usize>,
    /// The index of its event in [`Scan::events`].
    pub(crate) event: usize,
    /// The index of its document in [`Scan::documents`].
    pub(crate) document: usize,
}

impl Scalar<'_> {
    /// Whether the setters may write this scalar: a non-empty, non-block value or item.
    pub(crate) fn settable(&self) -> bool {
        matches!(self.role, Role::Value | Role::Item)
            && !matches!(self.style, ScalarStyle::Literal | ScalarStyle::Folded)
            && !self.range.is_empty()
    }
}

/// A comment: from its `#` to the end of its line (line break excluded).
#[derive(Debug, Clone)]
pub(crate) struct Comment {
    /// Byte range.
    pub(crate) range: Range<usize>,
    /// 1-based line.
    pub(crate) line: usize,
    /// Whether only blanks precede it on its line.
    pub(crate) own_line: bool,
}

/// What ends right before a blank-then-`#`: the owner candidates of a line comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The value of [`Scan::scalars`]`[i]`.
    Scalar(usize),
    /// An alias.
    Alias,
    /// A flow collection's `]` or `}`.
    FlowEnd,
}

/// One YAML document of the file.
#[derive(Debug, Default)]
pub(crate) struct Document {
    /// `apiVersion`, `kind`, `metadata.name`, `metadata.namespace`.
    pub(crate) object: ObjectId,
    /// Whether the root mapping has an `items` key (with `kind: List`, kyaml unwraps it).
    pub(crate) has_items: bool,
}

/// The result of [`scan`].
pub(crate) struct Scan<'a> {
    /// Every event, without spans, for the post-edit comparison.
    pub(crate) events: Vec<Event<'a>>,
    /// Every scalar in document order.
    pub(crate) scalars: Vec<Scalar<'a>>,
    /// Every comment in document order.
    pub(crate) comments: Vec<Comment>,
    /// End offset → what ends there.
    pub(crate) endings: BTreeMap<usize, Ending>,
    /// The documents that have a root node.
    pub(crate) documents: Vec<Document>,
    /// Byte offsets where lines start.
    pub(crate) lines: Lines,
}

/// Byte offset ↔ line number.
pub(crate) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        for (i, &b) in bytes.iter().enumerate() {
            let lf = b == b'\n';
            let lone_cr = b == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            if lf || lone_cr {
                starts.push(i + 1);
            }
        }
        Self { starts }
    }

    /// 1-based line of byte `offset`.
    pub(crate) fn line(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }

    /// Byte offset where 1-based `line` starts, if it exists.
    pub(crate) fn start(&self, line: usize) -> Option<usize> {
        line.checked_sub(1).and_then(|i| self.starts.get(i)).copied()
    }
}

/// Character index → byte offset (saphyr counts characters).
struct Offsets {
    table: Option<Vec<usize>>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Self {
        let table =
            (!text.is_ascii()).then(|| text.char_indices().map(|(b, _)| b).chain([text.len()]).collect());
        Self {
            table,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.table {
            Some(table) => table.get(char_index).copied().unwrap_or(self.len),
            None => char_index.min(self.len),
        }
    }

    fn range(&self, span: &Span) -> Range<usize> {
        let start = self.byte(span.start.index());
        start..self.byte(span.end.index()).max(start)
    }
}

/// Which kind of object-identity field a mapping is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// A document's root mapping.
    Root,
    /// The root mapping's `metadata`.
    Metadata,
    /// Anything else.
    Other,
}

/// What the next node of an open collection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A sequence item.
    Item,
    /// A mapping key.
    Key,
    /// A mapping value.
    Value,
}

/// An open collection.
struct Frame {
    next: Slot,
    flow: bool,
    in_key: bool,
    level: Level,
    /// For mappings: the last key, if it was a scalar.
    last_key: Option<String>,
    /// For mappings: scalar keys seen, with their lines.
    keys: BTreeMap<String, usize>,
}

/// Where a node sits.
struct Place {
    role: Role,
    /// Whether its parent is a flow collection.
    flow: bool,
    /// Whether it is a key of the innermost mapping (not a node inside a complex key).
    direct_key: bool,
    /// The parent mapping's level.
    parent_level: Level,
    /// For a mapping value: its key, if that was a scalar.
    key: Option<String>,
}

impl Place {
    fn is_value_of(&self, level: Level, key: &str) -> bool {
        self.role == Role::Value && self.parent_level == level && self.key.as_deref() == Some(key)
    }
}

/// The state of one [`scan`].
struct Builder<'a> {
    text: &'a str,
    scan: Scan<'a>,
    opaque: Vec<Range<usize>>,
    stack: Vec<Frame>,
}

/// Parses `text` and collects what the setters need. Fails on YAML that does not parse, on
/// documents whose root is not a mapping, and on duplicate keys (as Flux does).
pub(crate) fn scan(text: &str) -> Result<Scan<'_>, EditError> {
    let offsets = Offsets::new(text);
    let scan = Scan {
        events: Vec::new(),
        scalars: Vec::new(),
        comments: Vec::new(),
        endings: BTreeMap::new(),
        documents: Vec::new(),
        lines: Lines::new(text),
    };
    let mut builder = Builder {
        text,
        scan,
        opaque: Vec::new(),
        stack: Vec::new(),
    };
    for item in Parser::new_from_str(text) {
        let (event, at) = item.map_err(|e| EditError::Parse {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_owned(),
        })?;
        let range = offsets.range(&at);
        match &event {
            Event::Scalar(value, style, _, _) => {
                let place = builder.place(&event, range.start)?;
                builder.scalar(value.clone(), *style, &place, range)?;
            }
            Event::Alias(_) => {
                builder.place(&event, range.start)?;
                builder.scan.endings.insert(range.end, Ending::Alias);
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let place = builder.place(&event, range.start)?;
                builder.open(matches!(event, Event::MappingStart(..)), &place, &range);
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(&range),
            Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd
            | Event::Nothing => {}
        }
        builder.scan.events.push(event);
    }
    let Builder { mut scan, opaque, .. } = builder;
    scan.comments = find_comments(text, opaque, &scan.lines);
    Ok(scan)
}

impl<'a> Builder<'a> {
    /// Places the node `event` in its parent (and starts a document at a root node).
    fn place(&mut self, event: &Event<'_>, offset: usize) -> Result<Place, EditError> {
        let Some(frame) = self.stack.last_mut() else {
            check_root(event, &self.scan.lines, offset)?;
            if !is_empty_scalar(event) {
                self.scan.documents.push(Document::default());
            }
            return Ok(Place {
                role: Role::Root,
                flow: false,
                direct_key: false,
                parent_level: Level::Other,
                key: None,
            });
        };
        let slot = frame.next;
        frame.next = match slot {
            Slot::Item => Slot::Item,
            Slot::Key => Slot::Value,
            Slot::Value => Slot::Key,
        };
        let role = match slot {
            _ if frame.in_key => Role::Key,
            Slot::Item => Role::Item,
            Slot::Key => Role::Key,
            Slot::Value => Role::Value,
        };
        Ok(Place {
            role,
            flow: frame.flow,
            direct_key: slot == Slot::Key,
            parent_level: frame.level,
            key: if slot == Slot::Value {
                frame.last_key.take()
            } else {
                None
            },
        })
    }

    fn scalar(
        &mut self,
        value: std::borrow::Cow<'a, str>,
        style: ScalarStyle,
        place: &Place,
        range: Range<usize>,
    ) -> Result<(), EditError> {
        let lines = &self.scan.lines;
        let value_range = value_range(self.text, range.clone(), style, &value).ok_or(EditError::Locate {
            line: lines.line(range.start),
        })?;
        if !value_range.is_empty() {
            self.opaque.push(value_range.clone());
            if !matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                self.scan
                    .endings
                    .insert(value_range.end, Ending::Scalar(self.scan.scalars.len()));
            }
        }
        if let Some(frame) = self.stack.last_mut().filter(|_| place.direct_key) {
            let line = lines.line(value_range.start);
            // `<<` may repeat: merge keys are not data keys.
            if value != "<<"
                && let Some(&first_line) = frame.keys.get(value.as_ref())
            {
                return Err(EditError::DuplicateKey {
                    key: super::truncate(&value, 80),
                    line,
                    first_line,
                });
            }
            frame.keys.insert(value.to_string(), line);
            frame.last_key = Some(value.to_string());
        }
        if place.role == Role::Value
            && let Some(key) = &place.key
            && let Some(doc) = self.scan.documents.last_mut()
        {
            identify(&mut doc.object, place.parent_level, key, &value);
        }
        let head_line = (place.role == Role::Item && starts_line(self.text, range.start, place.flow))
            .then(|| lines.line(range.start));
        self.scan.scalars.push(Scalar {
            value,
            style,
            role: place.role,
            flow: place.flow,
            head_line,
            range: value_range,
            event: self.scan.events.len(),
            document: self.scan.documents.len().saturating_sub(1),
        });
        Ok(())
    }

    fn open(&mut self, mapping: bool, place: &Place, range: &Range<usize>) {
        let opener = if mapping { b'{' } else { b'[' };
        let flow = place.flow || self.text.as_bytes().get(range.end.wrapping_sub(1)) == Some(&opener);
        let level = if place.role == Role::Root {
            Level::Root
        } else if place.is_value_of(Level::Root, "metadata") {
            Level::Metadata
        } else {
            Level::Other
        };
        if place.is_value_of(Level::Root, "items")
            && let Some(doc) = self.scan.documents.last_mut()
        {
            doc.has_items = true;
        }
        self.stack.push(Frame {
            next: if mapping { Slot::Key } else { Slot::Item },
            flow,
            in_key: place.role == Role::Key,
            level,
            last_key: None,
            keys: BTreeMap::new(),
        });
    }

    fn close(&mut self, range: &Range<usize>) {
        // A flow collection's end event spans its `]` or `}` (and, like quoted scalars, may
        // run on over a following comment).
        if self.stack.pop().is_some_and(|frame| frame.flow)
            && matches!(self.text.as_bytes().get(range.start), Some(b']' | b'}'))
        {
            self.scan.endings.insert(range.start + 1, Ending::FlowEnd);
        }
    }
}

/// Flux (kyaml) refuses documents whose root is a sequence or a scalar; an empty document
/// (no node, or only comments) is dropped.
fn check_root(event: &Event<'_>, lines: &Lines, offset: usize) -> Result<(), EditError> {
    let found = match event {
        Event::MappingStart(..) => return Ok(()),
        _ if is_empty_scalar(event) => return Ok(()),
        Event::SequenceStart(..) => "a sequence",
        Event::Alias(_) => "an alias",
        _ => "a scalar",
    };
    Err(EditError::NotAMapping {
        line: lines.line(offset),
        found,
    })
}

fn is_empty_scalar(event: &Event<'_>) -> bool {
    matches!(event, Event::Scalar(value, ScalarStyle::Plain, _, _) if value.is_empty())
}

/// The object-identity fields of a document (kyaml's `GetMeta`).
fn identify(object: &mut ObjectId, level: Level, key: &str, value: &str) {
    let field = match (level, key) {
        (Level::Root, "apiVersion") => &mut object.api_version,
        (Level::Root, "kind") => &mut object.kind,
        (Level::Metadata, "name") => &mut object.name,
        (Level::Metadata, "namespace") => &mut object.namespace,
        _ => return,
    };
    value.clone_into(field);
}

/// The bytes of a scalar's value within its span: after its anchor and tag, up to its closing
/// quote for quoted styles. `None` when the text does not look as the event says (which would
/// be a parser bug; the caller refuses to edit the file then).
fn value_range(text: &str, span: Range<usize>, style: ScalarStyle, value: &str) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    match style {
        // Block scalars: saphyr's span covers the content lines (not the `|` header).
        ScalarStyle::Literal | ScalarStyle::Folded => Some(span),
        ScalarStyle::Plain if value.is_empty() => Some(span.start..span.start),
        ScalarStyle::Plain => {
            let start = skip_properties(bytes, span.start);
            let mut end = span.end;
            while end > start && matches!(bytes[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
                end -= 1;
            }
            (start < end).then_some(start..end)
        }
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            let quote = if style == ScalarStyle::SingleQuoted {
                b'\''
            } else {
                b'"'
            };
            let start = skip_properties(bytes, span.start);
            if bytes.get(start) != Some(&quote) {
                return None;
            }
            let mut i = start + 1;
            while let Some(&b) = bytes.get(i) {
                match b {
                    b'\\' if quote == b'"' => i += 2,
                    b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    b if b == quote => return Some(start..i + 1),
                    _ => i += 1,
                }
            }
            None
        }
    }
}

/// Skips node properties (`&anchor`, `!tag`, `!<verbatim>`) and the blanks, line breaks and
/// comments after them.
fn skip_properties(bytes: &[u8], mut i: usize) -> usize {
    let token_end = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b',' | b'[' | b']' | b'{' | b'}');
    loop {
        match (bytes.get(i), bytes.get(i + 1)) {
            (Some(b'!'), Some(b'<')) => {
                while bytes.get(i).is_some_and(|&b| b != b'>') {
                    i += 1;
                }
                i += 1;
            }
            (Some(b'&' | b'!'), _) => {
                while bytes.get(i).is_some_and(|&b| !token_end(b)) {
                    i += 1;
                }
            }
            _ => return i.min(bytes.len()),
        }
        loop {
            match bytes.get(i) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
                Some(b'#') => {
                    while bytes.get(i).is_some_and(|&b| b != b'\n' && b != b'\r') {
                        i += 1;
                    }
                }
                _ => break,
            }
        }
    }
}

/// Whether a sequence item starting at `start` starts its line: after `<blanks>-<blanks>` in a
/// block sequence, after blanks in a flow one. Only such an item has a head comment that Flux
/// (go-yaml v3, then kyaml) would read as the item's own.
fn starts_line(text: &str, start: usize, flow: bool) -> bool {
    let line_start = text[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let prefix = text[line_start..start]
        .trim_start_matches('\u{FEFF}')
        .trim_start_matches([' ', '\t']);
    if flow {
        return prefix.is_empty();
    }
    prefix
        .strip_prefix('-')
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c == ' ' || c == '\t'))
}

/// Finds every comment outside the scalar values in `opaque` (sorted, possibly overlapping).
fn find_comments(text: &str, mut opaque: Vec<Range<usize>>, lines: &Lines) -> Vec<Comment> {
    opaque.sort_by_key(|r| r.start);
    let bytes = text.as_bytes();
    let bom = if text.starts_with('\u{FEFF}') { 3 } else { 0 };
    let mut comments = Vec::new();
    let mut pos = 0;
    let mut next = 0; // the first opaque range that may still matter
    while let Some(found) = bytes.get(pos..).and_then(|rest| memchr::memchr(b'#', rest)) {
        let i = pos + found;
        while opaque.get(next).is_some_and(|r| r.end <= i) {
            next += 1;
        }
        if let Some(r) = opaque.get(next).filter(|r| r.start <= i) {
            pos = r.end.max(i + 1);
            continue;
        }
        let blank_before = i == bom || i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r');
        if !blank_before {
            pos = i + 1;
            continue;
        }
        let end = memchr::memchr2(b'\n', b'\r', &bytes[i..]).map_or(bytes.len(), |e| i + e);
        let line = lines.line(i);
        let line_start = lines.start(line).unwrap_or(0);
        let own_line = text.get(line_start..i).is_some_and(|p| {
            p.trim_start_matches('\u{FEFF}')
                .chars()
                .all(|c| c == ' ' || c == '\t')
        });
        comments.push(Comment {
            range: i..end,
            line,
            own_line,
        });
        pos = end;
    }
    comments
}

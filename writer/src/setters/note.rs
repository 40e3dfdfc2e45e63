//! What the setters noticed but did not do, with line numbers: the messages Flux keeps in its
//! trace logs (flux-automation.md §7, item 14), surfaced.

use std::fmt;

/// One thing about a marker that a user probably wants to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// 1-based line of the marker comment.
    pub line: usize,
    /// The setter the marker names (`ns:policy:tag`), or the comment's text (truncated) when it
    /// is not a readable marker.
    pub marker: String,
    /// What happened.
    pub kind: NoteKind,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.marker, self.kind)
    }
}

/// Why a marker was not applied as written. Every variant but [`NoteKind::EmptyDigest`] and
/// [`NoteKind::DigestDropped`] means the marked value was left alone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteKind {
    /// The namespace has policies, but none of this name (Flux: silently ignored).
    #[error("no policy of that name; the marker is ignored")]
    UnknownPolicy,
    /// No policy lives in the marker's namespace: Flux only sets policies of the automation's
    /// own namespace (fluxcd/image-automation-controller#85, #361).
    #[error(
        "no policy in namespace {namespace:?} (only the automation's own namespace counts); the marker is ignored"
    )]
    OtherNamespace {
        /// The marker's namespace.
        namespace: String,
    },
    /// Something other than `:tag`, `:name` or `:digest` after the policy.
    #[error("unknown setter suffix {suffix:?} (expected :tag, :name or :digest); the marker is ignored")]
    UnknownSuffix {
        /// The text after `ns:policy:`.
        suffix: String,
    },
    /// The setter is not `namespace:policy…`.
    #[error("the setter must be namespace:policy[:tag|:name|:digest]; the marker is ignored")]
    MissingNamespace,
    /// A `:digest` marker whose policy has no digest: the field was set to `""`, as Flux does.
    #[error("the policy has no digest (digest reflection is off), so the value was set to \"\"")]
    EmptyDigest,
    /// A full-image marker whose old value was pinned by digest, while the policy has none:
    /// the digest was dropped, as Flux does.
    #[error("the old value {old:?} had a digest and the policy has none: the digest was dropped")]
    DigestDropped {
        /// The value before.
        old: String,
    },
    /// The comment mentions `$imagepolicy` but Flux would not read it as a marker.
    #[error("not a marker: {0}; the comment is ignored")]
    InvalidMarker(InvalidMarker),
    /// On the header line of a `|` or `>` block scalar, which is never set.
    #[error("block scalars (| and >) are never set; the marker is ignored")]
    BlockScalar,
    /// After an alias (`*name`), which is never set: mark the anchored value instead.
    #[error("aliases are never set (mark the anchored value instead); the marker is ignored")]
    Alias,
    /// After a mapping key (`? key # marker`) or inside a key.
    #[error("mapping keys are never set; the marker is ignored")]
    Key,
    /// After a flow collection (`[a, b] # marker`): only scalars are set.
    #[error("it follows a collection, and only scalar values are set; the marker is ignored")]
    Collection,
    /// After `key:` or `-` whose value is empty or starts on the next line.
    #[error("it follows `key:` or `-`, not a value on the same line; the marker is ignored")]
    NoValue,
    /// After something that is not a value (an anchor, a tag, `---`).
    #[error("it does not follow a scalar value; the marker is ignored")]
    NotOnScalar,
    /// On a line of its own, not directly above a sequence item `- value` (or a flow sequence
    /// item alone on its line): Flux reads a comment above `key: value` as the key's, not the
    /// value's.
    #[error(
        "a marker on its own line is read only directly above a sequence item (`- value`); put it after the value, on the same line"
    )]
    NotAboveItem,
    /// Directly above a sequence item that has its own line comment, which Flux reads instead.
    #[error(
        "the item below has its own line comment (line {line}), which is read instead; the marker is ignored"
    )]
    Shadowed {
        /// The line of the item (and of its line comment).
        line: usize,
    },
    /// One line of several comment lines above a sequence item: Flux reads the whole block as
    /// one comment, which is then not a JSON object.
    #[error(
        "Flux reads the whole comment block above the item as one comment, which is not a marker; the marker is ignored"
    )]
    MultiLineHeadComment,
}

/// Why a comment that mentions `$imagepolicy` is not a marker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidMarker {
    /// After the leading `#`s, the text is not JSON (often: prose after the object).
    #[error("after the leading #, the text must be exactly one JSON object")]
    NotJson,
    /// JSON, but not an object.
    #[error("the JSON is not an object")]
    NotAnObject,
    /// An object with a value that is not a string (Flux requires all strings).
    #[error("the value of {key:?} is not a string")]
    NonStringValue {
        /// The offending key.
        key: String,
    },
    /// `"$imagepolicy": ""`.
    #[error("the setter is empty")]
    EmptySetter,
    /// A `$ref` that does not point into `#/definitions/io.k8s.cli.setters.`.
    #[error("the $ref does not name a setter")]
    BadRef,
}

//! YAML documents as small trees whose every node knows where it starts, so that problems can
//! name the line and column of the offending key or value.
//!
//! `yaml_serde` reports positions only for its own errors; `saphyr-parser` reports a span for
//! every event, so this module builds the tree from its events. Anchors and aliases are
//! resolved by copying the anchored node (Kubernetes objects rarely use them; the result is the
//! same as a YAML library's `Value`).

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A position in a file: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mark {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl Mark {
    fn of(span: &Span) -> Self {
        Mark {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// What it holds.
    pub value: Value,
    /// Where it starts.
    pub mark: Mark,
}

/// The content of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar's text; `plain` when it was written without quotes or block style (only then
    /// can it be `null`, `true` or a number).
    Scalar {
        /// The text as YAML reads it.
        text: String,
        /// Written without quotes.
        plain: bool,
    },
    /// A sequence.
    Sequence(Vec<Node>),
    /// A mapping, in file order.
    Mapping(Vec<(Node, Node)>),
}

impl Node {
    /// Whether this is YAML's null (`~`, `null`, or nothing).
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(&self.value, Value::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// The scalar's text, if this is a scalar.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value of mapping key `key`, if this is a mapping that has it.
    #[cfg(test)]
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Mapping(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// What kind of node this is, for messages: "a mapping", "a sequence", "a string".
    #[must_use]
    pub fn describe(&self) -> &'static str {
        match &self.value {
            Value::Scalar { .. } if self.is_null() => "null",
            Value::Scalar { .. } => "a scalar",
            Value::Sequence(_) => "a sequence",
            Value::Mapping(_) => "a mapping",
        }
    }
}

/// A file that is not valid YAML.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{mark}: not valid YAML: {message}")]
pub struct SyntaxError {
    /// Where the parser stopped.
    pub mark: Mark,
    /// What it says.
    pub message: String,
}

/// A node being built: a collection still open.
enum Open {
    Sequence(Vec<Node>, Mark, usize),
    Mapping(Vec<(Node, Node)>, Option<Node>, Mark, usize),
}

/// Parses every document of `text`; each is its root node (null for an empty document).
pub fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut documents = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut document_mark = Mark::default();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| SyntaxError {
            mark: Mark {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
            message: e.info().to_owned(),
        })?;
        let mark = Mark::of(&span);
        let (node, anchor) = match event {
            Event::DocumentStart(_) => {
                root = None;
                document_mark = mark;
                continue;
            }
            Event::DocumentEnd => {
                documents.push(root.take().unwrap_or(Node {
                    value: Value::Scalar {
                        text: String::new(),
                        plain: true,
                    },
                    mark: document_mark,
                }));
                continue;
            }
            Event::Scalar(text, style, anchor, _) => (
                Node {
                    value: Value::Scalar {
                        text: text.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                    mark,
                },
                anchor,
            ),
            Event::Alias(id) => {
                let node = anchors.get(&id).cloned().ok_or_else(|| SyntaxError {
                    mark,
                    message: "alias to an unknown anchor".to_owned(),
                })?;
                (node, 0)
            }
            Event::SequenceStart(anchor, _) => {
                stack.push(Open::Sequence(Vec::new(), mark, anchor));
                continue;
            }
            Event::MappingStart(anchor, _) => {
                stack.push(Open::Mapping(Vec::new(), None, mark, anchor));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Sequence(items, mark, anchor)) => (
                    Node {
                        value: Value::Sequence(items),
                        mark,
                    },
                    anchor,
                ),
                Some(Open::Mapping(entries, _, mark, anchor)) => (
                    Node {
                        value: Value::Mapping(entries),
                        mark,
                    },
                    anchor,
                ),
                None => continue,
            },
            Event::StreamStart | Event::StreamEnd | Event::Nothing => continue,
        };
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        match stack.last_mut() {
            Some(Open::Sequence(items, ..)) => items.push(node),
            Some(Open::Mapping(entries, key, ..)) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => root = Some(node),
        }
    }
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_documents() {
        let text = "a: 1\nb:\n  c: [x, 'y']\n---\n---\nkind: K\n";
        let docs = parse(text).expect("valid YAML");
        assert_eq!(docs.len(), 3);
        let c = docs[0].get("b").and_then(|b| b.get("c")).expect("b.c");
        assert_eq!(c.mark, Mark { line: 3, column: 6 });
        assert!(docs[1].is_null());
        let kind = docs[2].get("kind").expect("kind");
        assert_eq!(kind.as_str(), Some("K"));
        assert_eq!(kind.mark, Mark { line: 6, column: 7 });
    }

    #[test]
    fn aliases_copy_and_errors_have_marks() {
        let docs = parse("a: &x {b: 1}\nc: *x\n").expect("valid YAML");
        let b = docs[0].get("c").and_then(|c| c.get("b"));
        assert_eq!(b.and_then(Node::as_str), Some("1"));
        let err = parse("a: [1\nb: 2\n").expect_err("unclosed flow sequence");
        assert!(err.mark.line >= 1, "{err}");
    }
}

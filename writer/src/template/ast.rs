//! The parse tree of a template, and how its nodes print themselves in error messages
//! (Go's `at <.A.B>`).

use std::fmt;

use super::format::quote;
use super::literal::Number;

/// A node of a template's body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// Text copied to the output.
    Text(String),
    /// `{{pipeline}}`: prints the value unless the pipeline declares variables.
    Action { pos: usize, pipe: Pipe },
    /// `{{if}}`.
    If(Control),
    /// `{{with}}`.
    With(Control),
    /// `{{range}}`.
    Range(Control),
    /// `{{template "name" pipeline}}` (and the call half of `{{block}}`).
    Template {
        pos: usize,
        name: String,
        pipe: Option<Pipe>,
    },
    /// `{{break}}`.
    Break { pos: usize },
    /// `{{continue}}`.
    Continue { pos: usize },
}

/// The parts of `if`, `with` and `range`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Control {
    pub pos: usize,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// `$x := cmd | cmd …`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pipe {
    pub pos: usize,
    /// `=` rather than `:=`.
    pub is_assign: bool,
    /// Declared or assigned variables, `$` included.
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

/// One stage of a pipeline: an operand followed by arguments.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

/// An operand.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    /// `.A.B`: the names without dots.
    Field { pos: usize, idents: Vec<String> },
    /// `$x.A.B`: `$x` first.
    Variable { pos: usize, idents: Vec<String> },
    /// `(pipeline).A.B`.
    Chain {
        pos: usize,
        node: Box<Arg>,
        fields: Vec<String>,
    },
    /// A function name.
    Identifier { pos: usize, name: String },
    /// `.`.
    Dot { pos: usize },
    /// `nil`.
    Nil { pos: usize },
    /// `true`, `false`.
    Bool { pos: usize, value: bool },
    /// A number or character literal.
    Number { pos: usize, number: Number },
    /// A string literal: as written, and its value.
    String {
        pos: usize,
        quoted: String,
        text: String,
    },
    /// `(pipeline)`.
    Pipe(Box<Pipe>),
}

impl Arg {
    pub(crate) fn pos(&self) -> usize {
        match self {
            Arg::Field { pos, .. }
            | Arg::Variable { pos, .. }
            | Arg::Chain { pos, .. }
            | Arg::Identifier { pos, .. }
            | Arg::Dot { pos }
            | Arg::Nil { pos }
            | Arg::Bool { pos, .. }
            | Arg::Number { pos, .. }
            | Arg::String { pos, .. } => *pos,
            Arg::Pipe(pipe) => pipe.pos,
        }
    }
}

impl Node {
    pub(crate) fn pos(&self) -> usize {
        match self {
            Node::Text(_) => 0,
            Node::Action { pos, .. }
            | Node::Template { pos, .. }
            | Node::Break { pos }
            | Node::Continue { pos } => *pos,
            Node::If(c) | Node::With(c) | Node::Range(c) => c.pos,
        }
    }
}

// How Go's nodes print themselves in error messages (`at <.A.B>`).

fn write_list(f: &mut fmt::Formatter<'_>, list: &[Node]) -> fmt::Result {
    list.iter().try_for_each(|n| write!(f, "{n}"))
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let control = |f: &mut fmt::Formatter<'_>, name: &str, c: &Control| {
            write!(f, "{{{{{name} {}}}}}", c.pipe)?;
            write_list(f, &c.list)?;
            if let Some(else_list) = &c.else_list {
                f.write_str("{{else}}")?;
                write_list(f, else_list)?;
            }
            f.write_str("{{end}}")
        };
        match self {
            Node::Text(text) => f.write_str(text),
            Node::Action { pipe, .. } => write!(f, "{{{{{pipe}}}}}"),
            Node::If(c) => control(f, "if", c),
            Node::With(c) => control(f, "with", c),
            Node::Range(c) => control(f, "range", c),
            Node::Template { name, pipe, .. } => match pipe {
                Some(pipe) => write!(f, "{{{{template {} {pipe}}}}}", quote(name, false)),
                None => write!(f, "{{{{template {}}}}}", quote(name, false)),
            },
            Node::Break { .. } => f.write_str("{{break}}"),
            Node::Continue { .. } => f.write_str("{{continue}}"),
        }
    }
}

impl fmt::Display for Pipe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match arg {
                Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                arg => write!(f, "{arg}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Field { idents, .. } => idents.iter().try_for_each(|i| write!(f, ".{i}")),
            Arg::Variable { idents, .. } => f.write_str(&idents.join(".")),
            Arg::Chain { node, fields, .. } => {
                match &**node {
                    Arg::Pipe(pipe) => write!(f, "({pipe})")?,
                    node => write!(f, "{node}")?,
                }
                fields.iter().try_for_each(|i| write!(f, ".{i}"))
            }
            Arg::Identifier { name, .. } => f.write_str(name),
            Arg::Dot { .. } => f.write_str("."),
            Arg::Nil { .. } => f.write_str("nil"),
            Arg::Bool { value, .. } => write!(f, "{value}"),
            Arg::Number { number, .. } => f.write_str(&number.text),
            Arg::String { quoted, .. } => f.write_str(quoted),
            Arg::Pipe(pipe) => write!(f, "{pipe}"),
        }
    }
}

//! Runs a parsed template over a [`Value`], following Go's `text/template/exec.go`.
//!
//! Values from the data are borrowed ([`Cow::Borrowed`]); only function results are owned, so
//! ranging over `.Changed.FileChanges` copies nothing. Errors carry the node being evaluated,
//! whose position and source form make Go's `template: message:5:12: executing "message" at
//! <.Updated.Files>: …` prefix.

use std::borrow::Cow;

use super::ast::{Arg, Command, Control, Node, Pipe};
use super::funcs::{self, Ctx, Func, Param};
use super::value::Value;
use super::{ExecError, ExecFailure, MissingKey, RenderOptions, Template, format};

/// A value during execution: borrowed from the data, or computed.
pub(crate) type V<'d> = Cow<'d, Value>;

/// How deeply execution may nest: `{{template}}` calls, controls (`if`, `with`, `range`) and
/// parenthesised pipelines together. Go allows 100000 template calls on goroutine stacks that
/// grow; ours do not (a 2 MiB thread must do), and no commit template comes near this.
const MAX_DEPTH: usize = 200;

/// How many times `{{range N}}` may iterate: Go has no bound, but an empty body would spin.
const MAX_RANGE_INT: i64 = 1_000_000;

/// Why a walk stopped early.
pub(crate) enum Flow {
    Break,
    Continue,
    Error(ExecError),
}

type R<T> = Result<T, Flow>;

/// The node being evaluated, for error messages.
#[derive(Clone, Copy)]
enum At<'t> {
    Node(&'t Node),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

impl At<'_> {
    fn pos(self) -> usize {
        match self {
            At::Node(n) => n.pos(),
            At::Pipe(p) => p.pos,
            At::Cmd(c) => c.pos,
            At::Arg(a) => a.pos(),
        }
    }

    fn context(self) -> String {
        match self {
            At::Node(n) => n.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Arg(a) => a.to_string(),
        }
    }
}

struct State<'t, 'd> {
    tmpl: &'t Template,
    options: &'t RenderOptions,
    /// The template being executed (a `define`'s name inside `{{template}}`).
    current: &'t str,
    vars: Vec<(&'t str, V<'d>)>,
    out: String,
    at: Option<At<'t>>,
    depth: usize,
}

/// Renders `tmpl` with `data` as `.` and `$`.
pub(crate) fn execute(tmpl: &Template, data: &Value, options: &RenderOptions) -> Result<String, ExecError> {
    let mut state = State {
        tmpl,
        options,
        current: &tmpl.name,
        vars: vec![("$", Cow::Borrowed(data))],
        out: String::new(),
        at: None,
        depth: 0,
    };
    let Some(root) = tmpl.trees.get(&tmpl.name) else {
        return Err(state.error_box(format!(
            "{} is an incomplete or empty template",
            format::quote(&tmpl.name, false)
        )));
    };
    match state.walk_list(&Cow::Borrowed(data), root) {
        Err(Flow::Error(e)) => Err(e),
        // The parser allows break and continue only inside range.
        Ok(()) | Err(Flow::Break | Flow::Continue) => Ok(state.out),
    }
}

impl<'t, 'd> State<'t, 'd> {
    fn at(&mut self, at: At<'t>) {
        self.at = Some(at);
    }

    fn error_box(&self, message: String) -> ExecError {
        let (line, column, context) = match self.at {
            Some(at) => {
                let pos = at.pos().min(self.tmpl.text.len());
                let before = &self.tmpl.text[..pos];
                let line = before.matches('\n').count() + 1;
                let column = pos - before.rfind('\n').map_or(0, |i| i + 1);
                (line, column, at.context())
            }
            None => (0, 0, String::new()),
        };
        ExecError(Box::new(ExecFailure {
            name: self.tmpl.name.clone(),
            template: self.current.to_owned(),
            line,
            column,
            context,
            message,
            missing_field: None,
        }))
    }

    fn error(&self, message: impl Into<String>) -> Flow {
        Flow::Error(self.error_box(message.into()))
    }

    fn write(&mut self, s: &str) -> R<()> {
        self.out.push_str(s);
        if self.out.len() > self.options.max_output {
            return Err(self.error(format!("output exceeds {} bytes", self.options.max_output)));
        }
        Ok(())
    }

    fn walk_list(&mut self, dot: &V<'d>, list: &'t [Node]) -> R<()> {
        list.iter().try_for_each(|node| self.walk(dot, node))
    }

    fn walk(&mut self, dot: &V<'d>, node: &'t Node) -> R<()> {
        self.at(At::Node(node));
        match node {
            Node::Text(text) => self.write(text),
            Node::Action { pipe, .. } => {
                // Variables declared here live until the enclosing control ends.
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(At::Node(node));
                    let printed = match &*value {
                        Value::Nil => "<no value>".to_owned(),
                        v => format::to_string(v),
                    };
                    self.write(&printed)?;
                }
                Ok(())
            }
            Node::If(c) => self.walk_if_or_with(dot, c, false),
            Node::With(c) => self.walk_if_or_with(dot, c, true),
            Node::Range(c) => self.walk_range(dot, node, c),
            Node::Template { name, pipe, .. } => self.walk_template(dot, name, pipe.as_ref()),
            Node::Break { .. } => Err(Flow::Break),
            Node::Continue { .. } => Err(Flow::Continue),
        }
    }

    /// Enters one more level of nesting; the caller leaves it with `self.depth -= 1`.
    fn enter(&mut self) -> R<()> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("exceeded maximum nesting depth ({MAX_DEPTH})")));
        }
        self.depth += 1;
        Ok(())
    }

    fn walk_if_or_with(&mut self, dot: &V<'d>, c: &'t Control, is_with: bool) -> R<()> {
        self.enter()?;
        let mark = self.vars.len();
        let result = (|| {
            let value = self.eval_pipeline(dot, &c.pipe)?;
            if value.is_true() {
                if is_with {
                    self.walk_list(&value, &c.list)
                } else {
                    self.walk_list(dot, &c.list)
                }
            } else if let Some(else_list) = &c.else_list {
                self.walk_list(dot, else_list)
            } else {
                Ok(())
            }
        })();
        self.vars.truncate(mark);
        self.depth -= 1;
        result
    }

    fn walk_range(&mut self, dot: &V<'d>, node: &'t Node, c: &'t Control) -> R<()> {
        self.enter()?;
        let mark = self.vars.len();
        let result = self.walk_range_inner(dot, node, c);
        self.vars.truncate(mark);
        self.depth -= 1;
        match result {
            Err(Flow::Break) => Ok(()),
            other => other,
        }
    }

    fn walk_range_inner(&mut self, dot: &V<'d>, node: &'t Node, c: &'t Control) -> R<()> {
        self.at(At::Node(node));
        let value = self.eval_pipeline(dot, &c.pipe)?;
        let decls = c.pipe.decl.len();
        let body_mark = self.vars.len();
        let ran = match value {
            Cow::Borrowed(Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    self.iteration(c, decls, body_mark, Value::from(i), &Cow::Borrowed(item))?;
                }
                !items.is_empty()
            }
            Cow::Owned(Value::List(items)) => {
                let ran = !items.is_empty();
                for (i, item) in items.into_iter().enumerate() {
                    self.iteration(c, decls, body_mark, Value::from(i), &Cow::Owned(item))?;
                }
                ran
            }
            Cow::Borrowed(Value::Map(map)) => {
                for (key, item) in map.sorted() {
                    self.iteration(c, decls, body_mark, key.clone(), &Cow::Borrowed(item))?;
                }
                !map.is_empty()
            }
            Cow::Owned(Value::Map(map)) => {
                let ran = !map.is_empty();
                for (key, item) in map.into_sorted() {
                    self.iteration(c, decls, body_mark, key, &Cow::Owned(item))?;
                }
                ran
            }
            Cow::Borrowed(&Value::Int(n)) | Cow::Owned(Value::Int(n)) => {
                // Go 1.22 ranges over integers: 0, 1, …, n-1.
                if decls > 1 {
                    return Err(self.error(format!("can't use {n} to iterate over more than one variable")));
                }
                if n > MAX_RANGE_INT {
                    return Err(self.error(format!("range over {n} exceeds {MAX_RANGE_INT} iterations")));
                }
                for i in 0..n {
                    self.iteration(c, decls, body_mark, Value::Int(i), &Cow::Owned(Value::Int(i)))?;
                }
                n > 0
            }
            // Nil (a missing key, say) acts like an empty collection: no error, unlike gtmpl.
            Cow::Borrowed(Value::Nil) | Cow::Owned(Value::Nil) => false,
            other => {
                return Err(self.error(format!("range can't iterate over {}", format::to_string(&other))));
            }
        };
        if !ran && let Some(else_list) = &c.else_list {
            self.walk_list(dot, else_list)?;
        }
        Ok(())
    }

    /// One pass of a range body: the element is the last declared variable, the key or index
    /// the one before. `break` is passed up; `continue` ends the pass.
    fn iteration(
        &mut self,
        c: &'t Control,
        decls: usize,
        body_mark: usize,
        key: Value,
        elem: &V<'d>,
    ) -> R<()> {
        if decls > 0 {
            self.vars[body_mark - 1].1.clone_from(elem);
        }
        if decls > 1 {
            self.vars[body_mark - 2].1 = Cow::Owned(key);
        }
        let result = self.walk_list(elem, &c.list);
        self.vars.truncate(body_mark);
        match result {
            Err(Flow::Continue) => Ok(()),
            other => other,
        }
    }

    fn walk_template(&mut self, dot: &V<'d>, name: &'t str, pipe: Option<&'t Pipe>) -> R<()> {
        let Some(tree) = self.tmpl.trees.get(name) else {
            return Err(self.error(format!("template {} not defined", format::quote(name, false))));
        };
        if self.depth >= MAX_DEPTH {
            return Err(self.error(format!("exceeded maximum template depth ({MAX_DEPTH})")));
        }
        // Variables declared by the pipeline persist in the caller.
        let new_dot = match pipe {
            Some(pipe) => self.eval_pipeline(dot, pipe)?,
            None => Cow::Owned(Value::Nil),
        };
        // No dynamic scoping: the called template sees only `$`.
        let vars = std::mem::replace(&mut self.vars, vec![("$", new_dot.clone())]);
        let current = std::mem::replace(&mut self.current, name);
        self.depth += 1;
        let result = self.walk_list(&new_dot, tree);
        self.depth -= 1;
        self.current = current;
        self.vars = vars;
        result
    }

    fn eval_pipeline(&mut self, dot: &V<'d>, pipe: &'t Pipe) -> R<V<'d>> {
        self.at(At::Pipe(pipe));
        self.enter()?;
        let mut value: Option<V<'d>> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        self.depth -= 1;
        let value = value.unwrap_or(Cow::Owned(Value::Nil));
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(name, value.clone())?;
            } else {
                self.vars.push((name, value.clone()));
            }
        }
        Ok(value)
    }

    fn set_var(&mut self, name: &str, value: V<'d>) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn var_value(&self, name: &str) -> R<V<'d>> {
        match self.vars.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.error(format!("undefined variable: {name}"))),
        }
    }

    fn not_a_function(&self, args: &[Arg], has_final: bool) -> R<()> {
        if args.len() > 1 || has_final {
            return Err(self.error(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &V<'d>, cmd: &'t Command, last: Option<V<'d>>) -> R<V<'d>> {
        let first = &cmd.args[0];
        let has_args = cmd.args.len() > 1 || last.is_some();
        match first {
            Arg::Field { idents, .. } => {
                self.at(At::Arg(first));
                self.eval_field_chain(dot.clone(), idents, has_args)
            }
            Arg::Chain { .. } => self.eval_chain(dot, first, has_args),
            Arg::Identifier { name, .. } => {
                self.at(At::Arg(first));
                self.eval_function(dot, name, At::Cmd(cmd), &cmd.args[1..], last)
            }
            Arg::Pipe(pipe) => {
                self.not_a_function(&cmd.args, last.is_some())?;
                self.eval_pipeline(dot, pipe)
            }
            Arg::Variable { .. } => self.eval_variable(first, &cmd.args, last.is_some()),
            _ => {
                self.at(At::Arg(first));
                self.not_a_function(&cmd.args, last.is_some())?;
                self.eval_literal(dot, first)
            }
        }
    }

    /// A literal or `.` where no type is expected (Go's `evalEmptyInterface` and
    /// `idealConstant`).
    fn eval_literal(&mut self, dot: &V<'d>, arg: &'t Arg) -> R<V<'d>> {
        Ok(Cow::Owned(match arg {
            Arg::Bool { value, .. } => Value::Bool(*value),
            Arg::Dot { .. } => return Ok(dot.clone()),
            Arg::Nil { .. } => return Err(self.error("nil is not a command")),
            Arg::Number { number, .. } => {
                if number.is_float {
                    Value::Float(number.float)
                } else if let Some(i) = number.int {
                    Value::Int(i)
                } else {
                    return Err(self.error(format!("{} overflows int", number.text)));
                }
            }
            Arg::String { text, .. } => Value::String(text.clone()),
            other => {
                return Err(self.error(format!(
                    "can't evaluate command {}",
                    format::quote(&other.to_string(), false)
                )));
            }
        }))
    }

    fn eval_chain(&mut self, dot: &V<'d>, chain: &'t Arg, has_args: bool) -> R<V<'d>> {
        self.at(At::Arg(chain));
        let Arg::Chain { node, fields, .. } = chain else {
            return Err(self.error("internal error: not a chain"));
        };
        if let Arg::Nil { .. } = **node {
            return Err(self.error(format!("indirection through explicit nil in {chain}")));
        }
        // Go leaves the error position at the last node evaluated inside `node`.
        let receiver = self.eval_arg(dot, Param::Any, node)?;
        self.eval_field_chain(receiver, fields, has_args)
    }

    fn eval_variable(&mut self, arg: &'t Arg, args: &[Arg], has_final: bool) -> R<V<'d>> {
        self.at(At::Arg(arg));
        let Arg::Variable { idents, .. } = arg else {
            return Err(self.error("internal error: not a variable"));
        };
        let value = self.var_value(&idents[0])?;
        if idents.len() == 1 {
            self.not_a_function(args, has_final)?;
            return Ok(value);
        }
        self.eval_field_chain(value, &idents[1..], args.len() > 1 || has_final)
    }

    /// `.A.B.C` from `receiver`; only the last field could take arguments, which no field can.
    fn eval_field_chain(&mut self, mut receiver: V<'d>, idents: &[String], has_args: bool) -> R<V<'d>> {
        for (i, name) in idents.iter().enumerate() {
            receiver = self.eval_field(&receiver, name, has_args && i + 1 == idents.len())?;
        }
        Ok(receiver)
    }

    fn eval_field(&mut self, receiver: &V<'d>, name: &str, has_args: bool) -> R<V<'d>> {
        enum Found {
            Field,
            Key,
        }
        let lookup = |v: &Value| -> Option<(Found, Option<Value>)> {
            match v {
                Value::Struct(s) => s.get(name).map(|f| (Found::Field, Some(f.clone()))),
                Value::Map(m) if m.has_string_keys() => Some((Found::Key, m.get_str(name).cloned())),
                _ => None,
            }
        };
        // Borrowed data yields borrowed fields; computed values are copied out.
        let (found, value): (Option<Found>, Option<V<'d>>) = match receiver {
            &Cow::Borrowed(Value::Nil) | Cow::Owned(Value::Nil) => {
                if self.options.missing_key == MissingKey::Error {
                    return Err(self.error(format!(
                        "nil data; no entry for key {}",
                        format::quote(name, false)
                    )));
                }
                return Ok(Cow::Owned(Value::Nil));
            }
            &Cow::Borrowed(Value::Struct(s)) => {
                (s.get(name).map(|_| Found::Field), s.get(name).map(Cow::Borrowed))
            }
            &Cow::Borrowed(Value::Map(m)) if m.has_string_keys() => {
                (Some(Found::Key), m.get_str(name).map(Cow::Borrowed))
            }
            other => match lookup(other) {
                Some((found, value)) => (Some(found), value.map(Cow::Owned)),
                None => (None, None),
            },
        };
        match found {
            Some(Found::Field) => {
                if has_args {
                    return Err(self.error(format!("{name} has arguments but cannot be invoked as function")));
                }
                Ok(value.unwrap_or(Cow::Owned(Value::Nil)))
            }
            Some(Found::Key) => {
                if has_args {
                    return Err(self.error(format!("{name} is not a method but has arguments")));
                }
                match value {
                    Some(v) => Ok(v),
                    None => {
                        match self.options.missing_key {
                            MissingKey::Default => Ok(Cow::Owned(Value::Nil)),
                            MissingKey::Zero => match receiver {
                                &Cow::Borrowed(Value::Map(m)) => Ok(Cow::Borrowed(m.zero())),
                                Cow::Owned(Value::Map(m)) => Ok(Cow::Owned(m.zero().clone())),
                                _ => Ok(Cow::Owned(Value::Nil)),
                            },
                            MissingKey::Error => Err(self
                                .error(format!("map has no entry for key {}", format::quote(name, false)))),
                        }
                    }
                }
            }
            None => {
                let type_name = receiver.type_name();
                let Flow::Error(mut e) =
                    self.error(format!("can't evaluate field {name} in type {type_name}"))
                else {
                    return Err(self.error("internal error"));
                };
                e.0.missing_field = Some(name.to_owned());
                Err(Flow::Error(e))
            }
        }
    }

    fn eval_function(
        &mut self,
        dot: &V<'d>,
        name: &str,
        node: At<'t>,
        args: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        let Some(func) = funcs::lookup(name) else {
            return Err(self.error(format!(
                "{} is not a defined function",
                format::quote(name, false)
            )));
        };
        self.eval_call(dot, func, node, args, last)
    }

    fn eval_call(
        &mut self,
        dot: &V<'d>,
        func: &Func,
        node: At<'t>,
        args: &'t [Arg],
        last: Option<V<'d>>,
    ) -> R<V<'d>> {
        let name = func.name;
        let fixed = func.params.len();
        let num_in = args.len() + usize::from(last.is_some());
        if func.variadic.is_some() {
            if num_in < fixed {
                return Err(self.error(format!(
                    "wrong number of args for {name}: want at least {fixed} got {}",
                    args.len()
                )));
            }
        } else if num_in != fixed {
            return Err(self.error(format!(
                "wrong number of args for {name}: want {fixed} got {num_in}"
            )));
        }
        let param = |i: usize| {
            func.params
                .get(i)
                .copied()
                .or(func.variadic)
                .unwrap_or(Param::Any)
        };
        if name == "and" || name == "or" {
            // Short-circuit: the first deciding argument is the result, unevaluated ones stay so.
            let mut result = None;
            for arg in args {
                let v = self.eval_arg(dot, Param::Any, arg)?;
                if v.is_true() == (name == "or") {
                    return Ok(v);
                }
                result = Some(v);
            }
            return Ok(last.or(result).unwrap_or(Cow::Owned(Value::Nil)));
        }
        let mut values = Vec::with_capacity(num_in);
        for (i, arg) in args.iter().enumerate() {
            values.push(self.eval_arg(dot, param(i), arg)?);
        }
        if let Some(last) = last {
            values.push(self.validate_type(last, param(num_in - 1))?);
        }
        let ctx = Ctx {
            max_output: self.options.max_output,
        };
        (func.call)(&ctx, &mut values).map_err(|message| {
            self.at(node);
            self.error(format!("error calling {name}: {message}"))
        })
    }

    /// An argument evaluated for a parameter of a given type (Go's `evalArg`).
    fn eval_arg(&mut self, dot: &V<'d>, param: Param, arg: &'t Arg) -> R<V<'d>> {
        self.at(At::Arg(arg));
        let value = match arg {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => {
                return match param {
                    Param::Any => Ok(Cow::Owned(Value::Nil)),
                    Param::StrMap => Ok(Cow::Owned(Value::Map(super::Map::new()))),
                    _ => Err(self.error(format!("cannot assign nil to {}", param.go_type()))),
                };
            }
            Arg::Field { idents, .. } => self.eval_field_chain(dot.clone(), idents, false)?,
            Arg::Variable { .. } => self.eval_variable(arg, &[], false)?,
            Arg::Pipe(pipe) => self.eval_pipeline(dot, pipe)?,
            Arg::Identifier { name, .. } => self.eval_function(dot, name, At::Arg(arg), &[], None)?,
            Arg::Chain { .. } => self.eval_chain(dot, arg, false)?,
            Arg::Bool { value, .. } => {
                return match param {
                    Param::Any | Param::Bool => Ok(Cow::Owned(Value::Bool(*value))),
                    _ => Err(self.literal_mismatch(param, arg)),
                };
            }
            Arg::Number { number, .. } => {
                return match (param, number.int) {
                    (Param::Any, _) => self.eval_literal(dot, arg),
                    (Param::Int, Some(i)) => Ok(Cow::Owned(Value::Int(i))),
                    _ => Err(self.literal_mismatch(param, arg)),
                };
            }
            Arg::String { text, .. } => {
                return match param {
                    Param::Any | Param::Str => Ok(Cow::Owned(Value::String(text.clone()))),
                    _ => Err(self.literal_mismatch(param, arg)),
                };
            }
        };
        // Like Go, a type error names the last node evaluated.
        self.validate_type(value, param)
    }

    fn literal_mismatch(&self, param: Param, arg: &Arg) -> Flow {
        match param {
            Param::Bool => self.error(format!("expected bool; found {arg}")),
            Param::Int => self.error(format!("expected integer; found {arg}")),
            Param::Str => self.error(format!("expected string; found {arg}")),
            Param::Any | Param::StrMap => {
                self.error(format!("can't handle {arg} for arg of type {}", param.go_type()))
            }
        }
    }

    /// Checks a computed value against a parameter type (Go's `validateType`).
    fn validate_type(&self, value: V<'d>, param: Param) -> R<V<'d>> {
        let ok = match (&*value, param) {
            (_, Param::Any)
            | (Value::String(_), Param::Str)
            | (Value::Int(_), Param::Int)
            | (Value::Bool(_), Param::Bool) => true,
            (Value::Map(m), Param::StrMap) => m.is_string_interface_map(),
            (Value::Nil, Param::StrMap) => return Ok(Cow::Owned(Value::Map(super::Map::new()))),
            (Value::Nil, _) => return Err(self.error(format!("invalid value; expected {}", param.go_type()))),
            _ => false,
        };
        if ok {
            Ok(value)
        } else {
            Err(self.error(format!(
                "wrong type for value; expected {}; got {}",
                param.go_type(),
                value.type_name()
            )))
        }
    }
}

//! Go's `text/template` language, as Flux users write commit messages, with Sprig's functions.
//!
//! Flux renders `spec.git.commit.messageTemplate` with Go's `text/template` plus
//! `sprig.HermeticTxtFuncMap()`. Users' templates range over maps keyed by structs
//! (`{{ range $resource, $_ := .Updated.Objects }}`), read fields of those keys, and rely on
//! Go's trim markers and map ordering, so the output must be byte-identical to Go's. The
//! existing Rust ports key maps by strings only or fail on ranging over a missing field, hence
//! this interpreter.
//!
//! * [`Template::parse`] checks syntax, functions and variables, as Go's parser does.
//! * [`Template::render`] runs the template over a [`Value`]: structs (with an optional
//!   `String()` result), maps with any keys, lists and scalars.
//!
//! Building data: a Go type with a `String()` method is a [`Struct`] with a
//! [`display`](Struct::display); Go methods (`Changed.Objects`, `ImageRef.Repository`) are
//! fields computed beforehand; a map's [`zero`](Map::zero) is what `index` yields for a missing
//! key (`""` for Flux's `map[string]string` `.Values`, built with [`Map::strings`]).
//!
//! Not supported: function values in the data, complex numbers, custom delimiters,
//! `html/template`'s escaping, `%x` on floats and explicit argument indexes in `printf`, and
//! the Sprig functions that mutate dicts (`set`, `unset`, `merge`) or handle dates, semver,
//! crypto keys or UUIDs. Unknown functions are parse errors, as in Go.
//!
//! Where it differs from Go on purpose or by construction:
//!
//! * Values carry no static Go types. A nil inside the data acts like a missing map key (Go
//!   tells a nil `interface{}` apart), and errors name a value's own type (`string`) where Go
//!   names the declared one (`interface {}`).
//! * Execution nests at most 200 levels (template calls, controls and parentheses together;
//!   Go allows 100000 template calls) and output is capped by [`RenderOptions::max_output`],
//!   so a hostile template cannot exhaust the stack or memory.
//! * Sprig's `keys` and `values` come out sorted (in random order in Go).
//! * Where Go changed, current Go is followed: `range` over an integer (1.22),
//!   `{{else with}}` (1.23), JSON's `\b` and `\f` (1.22).
//!
//! ```
//! use imagebump_writer::template::{Map, Struct, Template, Value};
//!
//! let data = Value::from(
//!     Struct::new("Data")
//!         .field(
//!             "AutomationObject",
//!             Struct::new("NamespacedName")
//!                 .field("Namespace", "flux-system")
//!                 .field("Name", "apps")
//!                 .display("flux-system/apps"),
//!         )
//!         .field("Values", Map::strings([("cluster", "prod")])),
//! );
//! let template = Template::parse("message", "Update {{ .AutomationObject }} on {{ .Values.cluster | upper }}")?;
//! assert_eq!(template.render(&data)?, "Update flux-system/apps on PROD");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ast;
mod exec;
mod float;
mod format;
mod funcs;
mod lexer;
mod literal;
mod parse;
mod sprig;
mod value;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

pub use value::{Map, Struct, Value, compare_keys};

/// A parsed template: the main body and every template it defines.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    name: String,
    text: String,
    trees: BTreeMap<String, Vec<ast::Node>>,
}

/// What a missing map key yields when read as a field (`.Values.nope`); Go's
/// `Option("missingkey=…")`. Flux uses the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// No value: printed as `<no value>`, false in `if`, nothing to range over.
    #[default]
    Default,
    /// The zero value of the map's element type (`""` for a `map[string]string`).
    Zero,
    /// An execution error.
    Error,
}

/// How to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// What a missing map key yields.
    pub missing_key: MissingKey,
    /// The most output (in bytes) a template may produce, and the largest string a function
    /// such as `repeat` may build. Go has no limit; one here keeps a runaway template from
    /// exhausting memory.
    pub max_output: usize,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            missing_key: MissingKey::Default,
            max_output: 16 << 20,
        }
    }
}

/// A template that does not parse. Displays as Go does: `template: message:3: unexpected "}"
/// in operand`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template: {name}:{line}: {message}")]
pub struct ParseError {
    /// The template's name.
    pub name: String,
    /// The 1-based line of the last token read.
    pub line: usize,
    /// Where that token starts in its line (0-based bytes). Go does not print it.
    pub column: usize,
    /// What is wrong, in Go's words.
    pub message: String,
}

impl ParseError {
    /// Never: the template text has to change.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        false
    }
}

/// A template that fails while rendering. Displays as Go does: `template: message:5:12:
/// executing "message" at <.Updated.Files>: can't evaluate field Updated in type Data`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct ExecError(Box<ExecFailure>);

/// The parts of an [`ExecError`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct ExecFailure {
    name: String,
    template: String,
    line: usize,
    column: usize,
    context: String,
    message: String,
    missing_field: Option<String>,
}

impl ExecError {
    /// Never: the same data fails the same way.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        false
    }

    /// For "can't evaluate field X in type T": X. Lets callers explain removed fields such as
    /// `.Updated` without matching message text.
    #[must_use]
    pub fn missing_field(&self) -> Option<&str> {
        self.0.missing_field.as_deref()
    }

    /// The name the template was parsed with.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// The template executing when it failed: [`name`](Self::name), or a `define`d one.
    #[must_use]
    pub fn template(&self) -> &str {
        &self.0.template
    }

    /// 1-based line of the failing node (0 if there is none).
    #[must_use]
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// Byte offset of the failing node within its line, 0-based as Go counts it.
    #[must_use]
    pub fn column(&self) -> usize {
        self.0.column
    }

    /// The failing node as written (`.Updated.Files`).
    #[must_use]
    pub fn context(&self) -> &str {
        &self.0.context
    }

    /// What failed, in Go's words.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.0.message
    }

    fn describe(&self) -> String {
        let e = &self.0;
        if e.context.is_empty() && e.line == 0 {
            format!("template: {}: {}", e.name, e.message)
        } else {
            format!(
                "template: {}:{}:{}: executing {} at <{}>: {}",
                e.name,
                e.line,
                e.column,
                format::quote(&e.template, false),
                e.context,
                e.message
            )
        }
    }
}

impl Template {
    /// Parses `text` as template `name` (the name appears in error messages).
    pub fn parse(name: &str, text: &str) -> Result<Template, ParseError> {
        let trees = parse::parse(name, text)?;
        Ok(Template {
            name: name.to_owned(),
            text: text.to_owned(),
            trees,
        })
    }

    /// The name the template was parsed with.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names of the templates it defines (`define` and `block`), and its own.
    pub fn defined(&self) -> impl Iterator<Item = &str> {
        self.trees.keys().map(String::as_str)
    }

    /// Renders with `data` as `.` and `$`, with default options.
    pub fn render(&self, data: &Value) -> Result<String, ExecError> {
        self.render_with(data, &RenderOptions::default())
    }

    /// Renders with `data` as `.` and `$`.
    pub fn render_with(&self, data: &Value, options: &RenderOptions) -> Result<String, ExecError> {
        exec::execute(self, data, options)
    }
}

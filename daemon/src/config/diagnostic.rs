//! Problems found while loading the config and objects: errors stop an object (or the whole
//! config), warnings (unknown fields) only inform. Each names the file, line and column and,
//! when known, the object.

use std::fmt;
use std::path::{Path, PathBuf};

use super::yaml::Mark;

/// How serious a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The object (or config) cannot be used.
    Error,
    /// Probably a mistake (an unknown field), but the object is usable.
    Warning,
}

/// One problem, printed as `FILE:LINE:COL: [warning: ]Kind ns/name: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The file it is in.
    pub file: PathBuf,
    /// Where in the file; `None` for problems with the whole file (unreadable).
    pub mark: Option<Mark>,
    /// `Kind namespace/name` of the object, when the problem belongs to one.
    pub object: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl Diagnostic {
    /// An error at `mark` in `file`.
    pub fn error(file: &Path, mark: Option<Mark>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            mark,
            object: None,
            message: message.into(),
        }
    }

    /// A warning at `mark` in `file`.
    pub fn warning(file: &Path, mark: Option<Mark>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Self::error(file, mark, message)
        }
    }

    /// The same problem, attributed to `object` (`Kind namespace/name`).
    #[must_use]
    pub fn for_object(mut self, object: &str) -> Self {
        self.object = Some(object.to_owned());
        self
    }

    /// Whether this is an error.
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The order problems are printed in: file, then position, errors before warnings.
    pub fn sort(diagnostics: &mut [Diagnostic]) {
        diagnostics.sort_by(|a, b| {
            (&a.file, a.mark, a.severity, &a.message).cmp(&(&b.file, b.mark, b.severity, &b.message))
        });
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file.display())?;
        if let Some(mark) = self.mark {
            write!(f, "{mark}:")?;
        }
        if self.severity == Severity::Warning {
            write!(f, " warning:")?;
        }
        if let Some(object) = &self.object {
            write!(f, " {object}:")?;
        }
        // One problem, one line: multi-line messages (regex errors) are joined.
        let mut lines = self.message.lines().map(str::trim).filter(|l| !l.is_empty());
        write!(f, " {}", lines.next().unwrap_or_default())?;
        lines.try_for_each(|line| write!(f, " {line}"))
    }
}

impl std::error::Error for Diagnostic {}

//! The setters over a directory tree: which files Flux's reader considers
//! (internal/update/filereader.go), the `"$imagepolicy"` screen, atomic writes, and one
//! outcome per file.

use std::fs;
use std::io::{self, Write as _};
use std::path::{Component, Path, PathBuf};

use memchr::memmem;

use crate::result::{Policies, UpdateResult};

use super::apply::{EditError, apply};
use super::note::Note;

/// The literal a file must contain, quotes included, to be parsed at all (Flux's screen: it is
/// what keeps Helm templates and other non-YAML `.yaml` files out).
const TOKEN: &[u8] = b"\"$imagepolicy\"";

/// What [`update`] did.
#[derive(Debug, Default)]
pub struct Report {
    /// The changes written (or, in a dry run, to be written), keyed by path relative to the
    /// update path (`/`-separated).
    pub result: UpdateResult,
    /// Markers not applied as written, per file, in walk order.
    pub notes: Vec<(String, Note)>,
    /// Files skipped, and why, in walk order. None of them was written.
    pub problems: Vec<(String, Problem)>,
    /// Each changed file's text before and after, in walk order (for diffs and dry runs).
    pub previews: Vec<Preview>,
}

/// One changed file's text before and after the update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The path relative to the update path (`/`-separated), as in [`Report::result`].
    pub path: String,
    /// The text before.
    pub before: String,
    /// The text after.
    pub after: String,
}

/// How [`update_with`] runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Decide and report everything, but write nothing.
    pub dry_run: bool,
}

/// Why a file was skipped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// The file cannot be edited safely (does not parse, root not a mapping, …).
    #[error(transparent)]
    Edit(#[from] EditError),
    /// The file is not UTF-8.
    #[error("not UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// A symlink whose target lies outside the repository: never read, never written.
    #[error("symlink points outside the repository (to {target})")]
    SymlinkOutside {
        /// The canonical target.
        target: PathBuf,
    },
    /// A symlink whose target does not exist (Flux skips these silently, #996).
    #[error("symlink target does not exist")]
    DanglingSymlink,
    /// Reading the file or listing the directory failed.
    #[error("cannot read: {0}")]
    Read(#[source] io::Error),
}

/// Why [`update`] could not run, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UpdateError {
    /// The update path is absolute or leaves the repository (`..`, or a symlink out of it).
    #[error("update path {path:?} must be relative and stay inside the repository")]
    PathEscapes {
        /// The update path as given.
        path: String,
    },
    /// The repository root cannot be resolved.
    #[error("repository root {}: {source}", path.display())]
    Root {
        /// The root as given.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The update path does not exist or cannot be read.
    #[error("update path {path:?}: {source}")]
    UpdatePath {
        /// The update path as given.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// Writing a changed file failed. Files written before it stay written, so the caller
    /// must not commit this run's working tree.
    #[error("writing {path}: {source}")]
    Write {
        /// The file, relative to the update path.
        path: String,
        /// Why.
        source: io::Error,
    },
}

impl UpdateError {
    /// Whether retrying may help: I/O errors other than a missing update path may be; a bad
    /// update path is configuration.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::PathEscapes { .. } => false,
            Self::UpdatePath { source, .. } => source.kind() != io::ErrorKind::NotFound,
            Self::Root { .. } | Self::Write { .. } => true,
        }
    }
}

/// Applies the setters to every file under `root/update_path`, as Flux's Setters strategy does,
/// and writes the files that changed.
///
/// `update_path` is relative to `root` (`./clusters/my-cluster`; `""` is the root) and may name
/// a single file, whose path in the result is then its file name. Files named `*.yaml`,
/// `*.yml` (case-sensitive) or exactly `Kustomization` are considered; hidden directories are
/// entered, as Flux does, except `.git`. A file is parsed only if its bytes contain
/// `"$imagepolicy"`. Directory symlinks are never followed; a file symlink is processed (and
/// written through) only if its target is inside `root`.
///
/// A file that cannot be processed becomes a [`Problem`] and the walk goes on. Changed files
/// are replaced atomically (a temporary file in the same directory, the original permissions,
/// then a rename); unchanged files are not touched.
pub fn update(root: &Path, update_path: &str, policies: &Policies) -> Result<Report, UpdateError> {
    update_with(root, update_path, policies, &Options::default())
}

/// [`update`] with [`Options`]: with `dry_run`, the report (result, notes, problems, previews)
/// is the same, and no file is written.
pub fn update_with(
    root: &Path,
    update_path: &str,
    policies: &Policies,
    options: &Options,
) -> Result<Report, UpdateError> {
    let escapes = || UpdateError::PathEscapes {
        path: update_path.to_owned(),
    };
    let mut relative = PathBuf::new();
    for component in Path::new(update_path).components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return Err(escapes()),
        }
    }
    let root = root.canonicalize().map_err(|source| UpdateError::Root {
        path: root.to_owned(),
        source,
    })?;
    let start = root
        .join(&relative)
        .canonicalize()
        .map_err(|source| UpdateError::UpdatePath {
            path: update_path.to_owned(),
            source,
        })?;
    if !start.starts_with(&root) {
        return Err(escapes());
    }
    let mut walk = Walk {
        root: &root,
        policies,
        options,
        finder: memmem::Finder::new(TOKEN),
        report: Report::default(),
    };
    if start.is_file() {
        let name = start
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        walk.file(&name, &start)?;
    } else {
        let entries = read_dir(&start).map_err(|source| UpdateError::UpdatePath {
            path: update_path.to_owned(),
            source,
        })?;
        walk.dir(&start, "", entries)?;
    }
    Ok(walk.report)
}

/// The state of one walk.
struct Walk<'a> {
    root: &'a Path,
    policies: &'a Policies,
    options: &'a Options,
    finder: memmem::Finder<'static>,
    report: Report,
}

/// A directory's entries, sorted by name so that walk order (and the order of notes and
/// problems) is deterministic.
fn read_dir(dir: &Path) -> io::Result<Vec<fs::DirEntry>> {
    let mut entries = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(fs::DirEntry::file_name);
    Ok(entries)
}

/// Flux's file filter: `*.yaml`, `*.yml` or exactly `Kustomization`.
#[expect(
    clippy::case_sensitive_file_extension_comparisons,
    reason = "Flux matches case-sensitively: `.YAML` files are never touched"
)]
fn considered(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml") || name == "Kustomization"
}

impl Walk<'_> {
    fn dir(&mut self, dir: &Path, prefix: &str, entries: Vec<fs::DirEntry>) -> Result<(), UpdateError> {
        for entry in entries {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == ".git" {
                continue;
            }
            let relative = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let path = dir.join(entry.file_name());
            let file_type = match entry.file_type() {
                Ok(file_type) => file_type,
                Err(e) => {
                    self.report.problems.push((relative, Problem::Read(e)));
                    continue;
                }
            };
            if file_type.is_dir() {
                match read_dir(&path) {
                    Ok(entries) => self.dir(&path, &relative, entries)?,
                    Err(e) => self.report.problems.push((relative, Problem::Read(e))),
                }
            } else if file_type.is_symlink() {
                if considered(&name) {
                    self.symlink(&relative, &path)?;
                }
            } else if file_type.is_file() && considered(&name) {
                // Only regular files: reading a FIFO or a device named `x.yaml` would block.
                self.file(&relative, &path)?;
            }
        }
        Ok(())
    }

    /// A symlink named like a manifest: followed only to a file inside the repository (a link
    /// to a directory is never followed, as in Flux).
    fn symlink(&mut self, relative: &str, link: &Path) -> Result<(), UpdateError> {
        let target = match link.canonicalize() {
            Ok(target) => target,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.report
                    .problems
                    .push((relative.to_owned(), Problem::DanglingSymlink));
                return Ok(());
            }
            Err(e) => {
                self.report.problems.push((relative.to_owned(), Problem::Read(e)));
                return Ok(());
            }
        };
        if !target.starts_with(self.root) {
            self.report
                .problems
                .push((relative.to_owned(), Problem::SymlinkOutside { target }));
            return Ok(());
        }
        if target.is_file() {
            self.file(relative, &target)
        } else {
            Ok(())
        }
    }

    /// Screens, applies and, when something changed, writes one file (`path` is never a
    /// symlink).
    fn file(&mut self, relative: &str, path: &Path) -> Result<(), UpdateError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                self.report.problems.push((relative.to_owned(), Problem::Read(e)));
                return Ok(());
            }
        };
        if self.finder.find(&bytes).is_none() {
            return Ok(());
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let offset = e.utf8_error().valid_up_to();
                self.report
                    .problems
                    .push((relative.to_owned(), Problem::NotUtf8 { offset }));
                return Ok(());
            }
        };
        let edit = match apply(&text, self.policies) {
            Ok(edit) => edit,
            Err(e) => {
                self.report.problems.push((relative.to_owned(), Problem::Edit(e)));
                return Ok(());
            }
        };
        self.report
            .notes
            .extend(edit.notes.into_iter().map(|n| (relative.to_owned(), n)));
        if edit.changes.is_empty() {
            return Ok(());
        }
        if !self.options.dry_run {
            write_atomically(path, edit.text.as_bytes()).map_err(|source| UpdateError::Write {
                path: relative.to_owned(),
                source,
            })?;
        }
        for (object, change) in edit.changes {
            self.report.result.push(relative, &object, change);
        }
        self.report.previews.push(Preview {
            path: relative.to_owned(),
            before: text,
            after: edit.text,
        });
        Ok(())
    }
}

/// Replaces `path` with `contents`: a temporary file in the same directory, given the
/// original's permissions, then renamed over it, so readers never see a partial file.
///
/// No fsync: the rename makes the swap atomic for every reader, and durability across a power
/// cut is not this step's job (the daemon's clone is a cache that the next run resets, and
/// the commit is what persists). An fsync per file made a 1,000-file update 2x slower.
fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a file path has a parent"))?;
    let permissions = fs::metadata(path)?.permissions();
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(contents)?;
    temp.as_file().set_permissions(permissions)?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

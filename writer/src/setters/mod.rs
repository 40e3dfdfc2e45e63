//! Flux's Setters update strategy, editing in place: values marked with
//! `# {"$imagepolicy": "ns:policy[:tag|:name|:digest]"}` get the policies' latest images, and
//! nothing else in the file changes, not one byte.
//!
//! Flux decodes each marked file with kyaml and re-serialises it, which drops blank lines,
//! re-indents, moves comments and loses `---` comments (flux-automation.md §3.4, §7). This
//! module decides *which* values to set exactly as Flux does (§3.2: the marker grammar, one
//! comment per scalar, only scalar values and items) and then splices only those values'
//! bytes, keeping comments, anchors, blank lines, indentation, flow style, CRLF, a BOM and
//! the final newline (or its absence). The edited text is parsed again and compared event by
//! event with the original before anything is written.
//!
//! * [`apply`]: one file's text → [`FileEdit`] (new text, changes, [`Note`]s), or an
//!   [`EditError`] when the file cannot be edited safely. Pure.
//! * [`update`]: walks a directory as Flux's file reader does, applies, writes changed files
//!   atomically and reports every file it skipped and why ([`Report`]); [`update_with`] takes
//!   [`Options`] (a dry run).
//!
//! ```
//! use imagebump_writer::{LatestImage, Policies};
//! use imagebump_writer::setters::apply;
//!
//! let mut policies = Policies::new();
//! let latest = LatestImage::parse("nginx:1.28").expect("a valid reference");
//! policies.insert("apps:web".into(), latest);
//! let before = r#"containers:
//!   ## {"$imagepolicy": "apps:web"}
//!   - nginx:1.27
//!   - &pinned '1.27'  # {"$imagepolicy": "apps:web:tag"}
//!
//! tag: 1.27 #{"$imagepolicy":"apps:web:tag"}
//! "#;
//! let edit = apply(before, &policies)?;
//! // Only the three values changed; `1.28` unquoted would read as a number, hence `"1.28"`.
//! assert_eq!(edit.text, r#"containers:
//!   ## {"$imagepolicy": "apps:web"}
//!   - nginx:1.28
//!   - &pinned '1.28'  # {"$imagepolicy": "apps:web:tag"}
//!
//! tag: "1.28" #{"$imagepolicy":"apps:web:tag"}
//! "#);
//! assert_eq!(edit.changes.len(), 3);
//! # Ok::<(), imagebump_writer::setters::EditError>(())
//! ```
//!
//! Where Flux is silent, imagebump reports: markers naming unknown policies or other
//! namespaces, markers on keys, block scalars, aliases or collections, and comments that
//! mention `$imagepolicy` without being markers all become [`Note`]s with line numbers;
//! unparsable files become [`Problem`]s.
//!
//! # Where Flux's behaviour is only implied
//!
//! * **Which comment**: the line comment is the one after the value on the line where the
//!   value ends (after `value,` inside a flow collection, as go-yaml v3 reads it). Without one, a
//!   sequence item that starts its line takes the comment lines directly above it; go-yaml
//!   joins them into one head comment, so only a single line can be a marker. A comment above
//!   `key: value`, or separated from the item by a blank line, is not read (a [`Note`] says so).
//! * **Quoting**: a plain value becomes double-quoted when YAML 1.1 or 1.2 would read it as
//!   something other than that string (`1.10`, `on`, `0x1F`, `2024-01-15`, …) or it could not
//!   be plain at all; quoted values keep their quotes, escaped as their style needs.
//! * **Refused files**: besides YAML errors, documents whose root is not a mapping, duplicate
//!   keys (both refused by Flux) and markers in a single-document `kind: List` (which Flux
//!   moves to new files, fluxcd/flux2#5064).
//!
//! Not here: choosing the latest images (`imagebump-policy`), committing (`crate::git`).

mod apply;
mod marker;
mod note;
mod quote;
mod scan;
mod update;

pub use apply::{EditError, FileEdit, apply};
pub use note::{InvalidMarker, Note, NoteKind};
pub use update::{Options, Preview, Problem, Report, UpdateError, update, update_with};

/// Shortens user input quoted in a message, so one absurd value cannot flood a log line.
fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

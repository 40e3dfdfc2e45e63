//! The setters (`imagebump_writer::setters`) against golden directories and edge cases.
//!
//! * `fixtures`: every case under `tests/fixtures/<case>/` (`before/` → `after/`, with
//!   `policies.yaml` and optional `changes.json`, `notes.txt`, `problems.txt`, `update-path`).
//! * `apply`: one text in, one text out: quoting, comments, notes, errors.
//! * `update`: the directory walk: symlinks, permissions, `..`, `.git`, non-UTF-8.
//! * `fuzz`: random and mutated YAML never panics, and edits are idempotent.

// Tests may unwrap: a panic there is the failure report. clippy.toml's `allow-unwrap-in-tests`
// covers `#[test]` functions only, not the helpers here.
#![allow(clippy::unwrap_used)]

mod apply;
mod fixtures;
mod fuzz;
mod support;
mod update;

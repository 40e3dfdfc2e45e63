//! Helpers shared by the setters tests: policies from text, directory copies, and the one
//! directory comparison every golden case goes through.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use imagebump_writer::{LatestImage, Policies, UpdateResult};

/// Policies from `ns:name: image:tag[@digest]` lines (`#` comments and blank lines skipped).
pub fn parse_policies(text: &str) -> Policies {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (key, reference) = line
                .split_once(": ")
                .unwrap_or_else(|| panic!("bad policy line {line:?}"));
            let image =
                LatestImage::parse(reference.trim()).unwrap_or_else(|| panic!("bad reference {reference:?}"));
            (key.trim().to_owned(), image)
        })
        .collect()
}

/// Policies from `(key, reference)` pairs.
pub fn policies(pairs: &[(&str, &str)]) -> Policies {
    pairs
        .iter()
        .map(|(k, r)| ((*k).to_owned(), LatestImage::parse(r).expect("valid reference")))
        .collect()
}

/// Copies a directory tree, keeping permissions and symlinks (as links).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let file_type = entry.file_type().unwrap();
        if file_type.is_dir() {
            copy_dir(&entry.path(), &target);
        } else if file_type.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every path under `dir` (files and symlinks), relative, `/`-separated, sorted.
fn files(dir: &Path) -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, PathBuf>) {
        let Ok(entries) = fs::read_dir(dir) else { return };
        for entry in entries {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if prefix.is_empty() {
                name
            } else {
                format!("{prefix}/{name}")
            };
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &relative, out);
            } else {
                out.insert(relative, entry.path());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, "", &mut out);
    out
}

/// The contents to compare: a symlink's target, or a file's bytes.
fn contents(path: &Path) -> Vec<u8> {
    match fs::read_link(path) {
        Ok(target) => format!("symlink -> {}", target.display()).into_bytes(),
        Err(_) => fs::read(path).unwrap(),
    }
}

/// Asserts that two trees hold the same paths with the same bytes, and otherwise panics once
/// with every path only on the left, only on the right, and for each differing file the
/// first differing byte with the lines around it on both sides (escaped, so CR, BOM, tabs and
/// trailing blanks show).
pub fn assert_dirs_eq(got: &Path, expected: &Path) {
    let left = files(got);
    let right = files(expected);
    let mut report = String::new();
    for path in left.keys().filter(|p| !right.contains_key(*p)) {
        writeln!(report, "only in {} (got): {path}", got.display()).unwrap();
    }
    for path in right.keys().filter(|p| !left.contains_key(*p)) {
        writeln!(report, "only in {} (expected): {path}", expected.display()).unwrap();
    }
    for (path, left_path) in &left {
        let Some(right_path) = right.get(path) else {
            continue;
        };
        let (a, b) = (contents(left_path), contents(right_path));
        if a == b {
            continue;
        }
        let at = a
            .iter()
            .zip(&b)
            .position(|(x, y)| x != y)
            .unwrap_or(a.len().min(b.len()));
        let line = 1 + memchr::memchr_iter(b'\n', &b[..at]).count();
        writeln!(
            report,
            "{path}: first difference at byte {at} (line {line} of expected)"
        )
        .unwrap();
        for (name, bytes) in [("got", &a), ("expected", &b)] {
            writeln!(report, "\n{name}:\n---------------------------").unwrap();
            report.push_str(&context(bytes, at));
            writeln!(report, "---------------------------").unwrap();
        }
    }
    assert!(report.is_empty(), "directories differ:\n{report}");
}

/// The lines from two before to two after the one holding byte `at`, each escaped.
fn context(bytes: &[u8], at: usize) -> String {
    let line_of = |offset: usize| memchr::memchr_iter(b'\n', &bytes[..offset.min(bytes.len())]).count();
    let target = line_of(at);
    let mut out = String::new();
    for (number, line) in bytes.split_inclusive(|&c| c == b'\n').enumerate() {
        if number + 2 >= target && number <= target + 2 {
            let marker = if number == target { ">" } else { " " };
            writeln!(out, "{marker}{:4} | {}", number + 1, line.escape_ascii()).unwrap();
        }
    }
    if bytes.is_empty() || at >= bytes.len() {
        writeln!(out, ">     | <end of file at byte {}>", bytes.len()).unwrap();
    }
    out
}

/// An [`UpdateResult`] as JSON in Flux's field names, for `changes.json`.
pub fn result_json(result: &UpdateResult) -> serde_json::Value {
    let files: serde_json::Map<String, serde_json::Value> = result
        .files
        .iter()
        .map(|(file, objects)| {
            let objects = objects
                .iter()
                .map(|(object, changes)| {
                    serde_json::json!({
                        "object": {
                            "APIVersion": object.api_version,
                            "Kind": object.kind,
                            "Name": object.name,
                            "Namespace": object.namespace,
                        },
                        "changes": changes.iter().map(|c| serde_json::json!({
                            "OldValue": c.old_value,
                            "NewValue": c.new_value,
                            "Setter": c.setter,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            (file.clone(), serde_json::Value::Array(objects))
        })
        .collect();
    serde_json::Value::Object(files)
}

//! Checking for external programs: skip locally, fail on CI.

use std::env;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Returns `true` when `program` is an executable on `PATH` (or, when it contains a `/`, when
/// that path is an executable file).
///
/// When it is missing:
///
/// * if the environment variable `CI` is set (to anything but the empty string), this panics
///   with a message naming the program and `scripts/install-test-deps.sh`, so a CI run cannot
///   silently skip tests;
/// * otherwise it prints a `SKIPPED: …` line on stderr (written directly, so the test harness
///   does not capture it) and returns `false`; the test should then return early.
///
/// ```no_run
/// if !imagebump_testsupport::require("skopeo") {
///     return;
/// }
/// ```
#[must_use]
pub fn require(program: &str) -> bool {
    // Straight to the process's stderr, not `eprintln!`: the test harness captures the latter
    // for passing tests, and a skip should be visible in a plain `cargo test` run.
    require_with(program, is_ci(), &mut std::io::stderr())
}

/// [`require`] with the `CI` decision and the output made by the caller (so it can be tested
/// without touching the process environment).
pub(crate) fn require_with(program: &str, ci: bool, out: &mut dyn Write) -> bool {
    if find_program(program).is_some() {
        return true;
    }
    report_missing_to(&format!("`{program}`"), ci, out)
}

/// Reports that `what` (already quoted as the message should show it) is missing: panics when
/// `ci`, else prints `SKIPPED: …` on stderr and returns `false`.
pub(crate) fn report_missing(what: &str, ci: bool) -> bool {
    report_missing_to(what, ci, &mut std::io::stderr())
}

fn report_missing_to(what: &str, ci: bool, out: &mut dyn Write) -> bool {
    let what = format!("{what} is missing; scripts/install-test-deps.sh installs it");
    assert!(
        !ci,
        "{what} (CI is set, so a test that needs it fails instead of skipping)"
    );
    let _ = writeln!(out, "SKIPPED: {what}");
    false
}

/// Whether the environment says this is a CI run (`CI` set to a non-empty value).
pub(crate) fn is_ci() -> bool {
    env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Where `program` is: itself when it contains a `/`, else the first executable match on `PATH`.
pub(crate) fn find_program(program: &str) -> Option<std::path::PathBuf> {
    if program.is_empty() {
        return None;
    }
    if program.contains('/') {
        let path = Path::new(program);
        return is_executable(path).then(|| path.to_path_buf());
    }
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn present_program_is_found() {
        let mut out = Vec::new();
        assert!(require_with("sh", true, &mut out));
        assert!(require_with("sh", false, &mut out));
        assert!(require_with("/bin/sh", true, &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn missing_program_is_skipped_without_ci() {
        for program in [
            "imagebump-no-such-program",
            "/nonexistent/imagebump-no-such-program",
        ] {
            let mut out = Vec::new();
            assert!(!require_with(program, false, &mut out));
            assert_eq!(
                String::from_utf8(out).unwrap(),
                format!("SKIPPED: `{program}` is missing; scripts/install-test-deps.sh installs it\n")
            );
        }
        assert!(!require_with("", false, &mut Vec::new()));
    }

    #[test]
    #[should_panic(
        expected = "`imagebump-no-such-program` is missing; scripts/install-test-deps.sh installs it (CI is set"
    )]
    fn missing_program_fails_on_ci() {
        let _ = require_with("imagebump-no-such-program", true, &mut Vec::new());
    }

    #[test]
    fn directories_are_not_programs() {
        assert!(find_program("/tmp").is_none());
    }
}

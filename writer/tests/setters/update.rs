//! `update` on directories built in the test: what git fixtures cannot hold (symlinks out of
//! the tree, `.git`, file modes, mtimes, invalid UTF-8) and the update-path rules.

use std::fs;
use std::os::unix::fs::{PermissionsExt as _, symlink};
use std::path::Path;
use std::time::{Duration, SystemTime};

use imagebump_writer::setters::{Options, Preview, Problem, UpdateError, update, update_with};

use crate::support::policies;

const BEFORE: &str = "image: reg.example/web:1.0.0 # {\"$imagepolicy\": \"apps:web\"}\n";
const AFTER: &str = "image: reg.example/web:1.1.0 # {\"$imagepolicy\": \"apps:web\"}\n";

fn web() -> imagebump_writer::Policies {
    policies(&[("apps:web", "reg.example/web:1.1.0")])
}

fn write(path: &Path, text: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

fn problems(report: &imagebump_writer::setters::Report) -> Vec<(&str, String)> {
    report
        .problems
        .iter()
        .map(|(p, e)| (p.as_str(), e.to_string()))
        .collect()
}

#[test]
fn symlinks_out_of_the_repository_are_reported_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let outside = tmp.path().join("outside.yaml");
    write(&outside, BEFORE.as_bytes());
    write(&repo.join("ok.yaml"), BEFORE.as_bytes());
    symlink("../outside.yaml", repo.join("escape.yaml")).unwrap();
    symlink("/etc/hostname", repo.join("etc.yaml")).unwrap();
    symlink("missing.yaml", repo.join("dangling.yaml")).unwrap();

    let report = update(&repo, "", &web()).unwrap();
    assert_eq!(read(&outside), BEFORE, "the file outside must not be written");
    assert_eq!(read(&repo.join("ok.yaml")), AFTER);
    let got: Vec<_> = report.problems.iter().map(|(p, e)| (p.as_str(), e)).collect();
    assert!(
        matches!(got[0], ("dangling.yaml", Problem::DanglingSymlink)),
        "{got:?}"
    );
    assert!(
        matches!(got[1], ("escape.yaml", Problem::SymlinkOutside { .. })),
        "{got:?}"
    );
    assert!(
        matches!(got[2], ("etc.yaml", Problem::SymlinkOutside { .. })),
        "{got:?}"
    );
    assert_eq!(got.len(), 3);
    assert!(
        got[1]
            .1
            .to_string()
            .starts_with("symlink points outside the repository")
    );
    assert_eq!(report.result.files.keys().collect::<Vec<_>>(), ["ok.yaml"]);
}

#[test]
fn symlinks_inside_the_repository_are_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    write(&repo.join("real/deploy.yaml"), BEFORE.as_bytes());
    symlink("real/deploy.yaml", repo.join("a-link.yaml")).unwrap();
    // A directory symlink is never followed (no second visit of real/).
    symlink("real", repo.join("b-linked-dir")).unwrap();

    let report = update(repo, "", &web()).unwrap();
    assert!(
        fs::symlink_metadata(repo.join("a-link.yaml"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert_eq!(read(&repo.join("real/deploy.yaml")), AFTER);
    assert_eq!(report.result.files.keys().collect::<Vec<_>>(), ["a-link.yaml"]);
    assert!(report.problems.is_empty(), "{:?}", problems(&report));
}

#[test]
fn update_paths_stay_inside_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    write(&repo.join("apps/a.yaml"), BEFORE.as_bytes());
    write(&tmp.path().join("other/b.yaml"), BEFORE.as_bytes());
    symlink("../other", repo.join("out")).unwrap();
    for path in ["../other", "apps/../../other", "/etc", "out"] {
        let err = update(&repo, path, &web()).unwrap_err();
        assert!(matches!(err, UpdateError::PathEscapes { .. }), "{path}: {err}");
        assert!(!err.is_transient());
    }
    let err = update(&repo, "./missing", &web()).unwrap_err();
    assert!(matches!(err, UpdateError::UpdatePath { .. }), "{err}");
    assert!(!err.is_transient());
    assert_eq!(read(&tmp.path().join("other/b.yaml")), BEFORE);
    // `.`, `./apps/` and `apps` are fine; paths in the result are relative to the update path.
    let report = update(&repo, "./apps/", &web()).unwrap();
    assert_eq!(report.result.files.keys().collect::<Vec<_>>(), ["a.yaml"]);
    assert!(update(&repo, ".", &web()).unwrap().result.is_empty());
}

#[test]
fn git_directories_are_skipped_other_hidden_ones_are_not() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    write(&repo.join(".git/config.yaml"), BEFORE.as_bytes());
    write(&repo.join("sub/.git/x.yaml"), BEFORE.as_bytes());
    write(&repo.join(".github/workflows/ci.yaml"), BEFORE.as_bytes());
    let report = update(repo, "", &web()).unwrap();
    assert_eq!(read(&repo.join(".git/config.yaml")), BEFORE);
    assert_eq!(read(&repo.join("sub/.git/x.yaml")), BEFORE);
    assert_eq!(read(&repo.join(".github/workflows/ci.yaml")), AFTER);
    assert_eq!(
        report.result.files.keys().collect::<Vec<_>>(),
        [".github/workflows/ci.yaml"]
    );
}

#[test]
fn files_that_are_not_utf8_are_skipped_with_a_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    let mut latin1 = b"# caf\xe9\n".to_vec();
    latin1.extend_from_slice(BEFORE.as_bytes());
    write(&repo.join("latin1.yaml"), &latin1);
    // Without the token it is not even read as text: no problem.
    write(&repo.join("binary.yaml"), b"\xff\xfe\x00garbage");
    write(&repo.join("z.yaml"), BEFORE.as_bytes());
    let report = update(repo, "", &web()).unwrap();
    assert_eq!(fs::read(repo.join("latin1.yaml")).unwrap(), latin1);
    assert_eq!(
        problems(&report),
        [("latin1.yaml", "not UTF-8 (invalid byte at offset 5)".to_owned())]
    );
    assert!(matches!(report.problems[0].1, Problem::NotUtf8 { offset: 5 }));
    assert_eq!(read(&repo.join("z.yaml")), AFTER);
}

#[test]
fn permissions_are_kept_and_unchanged_files_are_not_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    let changed = repo.join("changed.yaml");
    let script = repo.join("script.yaml");
    let readonly = repo.join("readonly.yaml");
    let unchanged = repo.join("unchanged.yaml");
    write(&changed, BEFORE.as_bytes());
    write(&script, BEFORE.as_bytes());
    write(&readonly, BEFORE.as_bytes());
    write(&unchanged, AFTER.as_bytes());
    fs::set_permissions(&changed, fs::Permissions::from_mode(0o640)).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&readonly, fs::Permissions::from_mode(0o444)).unwrap();
    let old = SystemTime::now() - Duration::from_hours(1);
    for path in [&changed, &unchanged] {
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }
    let inode = |p: &Path| std::os::unix::fs::MetadataExt::ino(&fs::metadata(p).unwrap());
    let unchanged_inode = inode(&unchanged);

    let report = update(repo, "", &web()).unwrap();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        (mode(&changed), mode(&script), mode(&readonly)),
        (0o640, 0o755, 0o444)
    );
    assert_eq!(read(&readonly), AFTER);
    assert_ne!(fs::metadata(&changed).unwrap().modified().unwrap(), old);
    assert_eq!(
        fs::metadata(&unchanged).unwrap().modified().unwrap(),
        old,
        "an unchanged file is not rewritten"
    );
    assert_eq!(inode(&unchanged), unchanged_inode);
    assert_eq!(report.result.files.len(), 3);
    // No temporary files are left behind.
    let mut names: Vec<_> = fs::read_dir(repo)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["changed.yaml", "readonly.yaml", "script.yaml", "unchanged.yaml"]
    );
}

#[test]
fn a_single_file_update_path_is_read_whatever_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    write(&repo.join("deploy/app.yaml.in"), BEFORE.as_bytes());
    let report = update(repo, "deploy/app.yaml.in", &web()).unwrap();
    assert_eq!(read(&repo.join("deploy/app.yaml.in")), AFTER);
    assert_eq!(report.result.files.keys().collect::<Vec<_>>(), ["app.yaml.in"]);
}

#[test]
fn unreadable_entries_are_problems_not_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    // A FIFO named like a manifest: not a regular file, so not considered at all.
    let status = std::process::Command::new("mkfifo")
        .arg(repo.join("pipe.yaml"))
        .status();
    write(&repo.join("ok.yaml"), BEFORE.as_bytes());
    let report = update(repo, "", &web()).unwrap();
    assert_eq!(read(&repo.join("ok.yaml")), AFTER);
    if status.is_ok_and(|s| s.success()) {
        assert!(report.problems.is_empty(), "{:?}", problems(&report));
    }
}

#[test]
fn a_dry_run_reports_everything_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path();
    write(&repo.join("a.yaml"), BEFORE.as_bytes());
    write(&repo.join("b.yaml"), AFTER.as_bytes());
    let options = Options { dry_run: true };
    let report = update_with(repo, "", &web(), &options).unwrap();
    assert_eq!(read(&repo.join("a.yaml")), BEFORE);
    assert_eq!(report.result.files.keys().collect::<Vec<_>>(), ["a.yaml"]);
    assert_eq!(
        report.previews,
        [Preview {
            path: "a.yaml".into(),
            before: BEFORE.into(),
            after: AFTER.into()
        }]
    );
    // The same run for real writes exactly what the preview showed.
    let real = update(repo, "", &web()).unwrap();
    assert_eq!(real.previews, report.previews);
    assert_eq!(read(&repo.join("a.yaml")), AFTER);
}

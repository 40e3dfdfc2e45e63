//! `imagebump policy select`: the seed document's ranges, calver and build IDs, ImagePolicy
//! files of every API version, and each exit code.

use crate::support::{example, imagebump, write};

fn select(args: &[&str], tags_file: &str) -> (i32, String) {
    let tags = example(tags_file);
    let mut all = vec!["policy", "select", "--tags", tags.to_str().expect("utf-8 path")];
    all.extend_from_slice(args);
    let run = imagebump(&all, "");
    (run.code, run.stdout.trim().to_owned())
}

#[test]
fn seed_ranges_on_podinfo_tags() {
    let cases = [
        ("5.0.x", Some("5.0.3")),
        (">=1.0.0 <2.0.0", None),
        ("^1.x-0", None),
        (">1.0.0-rc <2.0.0-rc", None),
        (">=5.0.0", Some("6.0.1")),
        ("5.0.0", Some("5.0.0")),
        (">5.0.1", Some("6.0.1")),
        ("^6.x-0", Some("6.1.0-alpha.1")),
        (">=5.0.0 <6.0.0", Some("5.2.0")),
        (">=5.1.0-0 <5.1.0", Some("5.1.0-rc.1")),
    ];
    for (range, want) in cases {
        let (code, out) = select(&["--semver", range], "podinfo-tags.txt");
        match want {
            Some(tag) => assert_eq!((code, out.as_str()), (0, tag), "range {range:?}"),
            None => assert_eq!((code, out.as_str()), (1, ""), "range {range:?}"),
        }
    }
}

#[test]
fn calver_and_build_ids_with_filter_tags() {
    let (code, out) = select(
        &[
            "--numerical",
            "asc",
            "--filter-tags",
            r"^main-[a-f0-9]+-(?P<ts>[0-9]+)$",
            "--extract",
            "$ts",
        ],
        "build-id-tags.txt",
    );
    assert_eq!((code, out.as_str()), (0, "main-3f2a1b0-1700000300"));

    let (code, out) = select(&["--semver", ">=2025.1.0"], "calver-tags.txt");
    assert_eq!((code, out.as_str()), (0, "v2025.01.05"));

    let (code, out) = select(
        &[
            "--alphabetical",
            "asc",
            "--filter-tags",
            r"^RELEASE\.(?P<ts>.*)Z$",
            "--extract",
            "$ts",
        ],
        "calver-tags.txt",
    );
    assert_eq!((code, out.as_str()), (0, "RELEASE.2025-07-15T09-30-00Z"));
}

#[test]
fn image_policy_files_of_every_version() {
    let dir = tempfile::tempdir().expect("temp dir");
    for version in ["v1beta1", "v1beta2", "v1"] {
        let file = write(
            dir.path(),
            &format!("{version}.yaml"),
            &format!(
                "apiVersion: image.toolkit.fluxcd.io/{version}\nkind: ImagePolicy\nmetadata:\n  name: podinfo\n\
                 spec:\n  imageRepositoryRef:\n    name: podinfo\n  policy:\n    semver:\n      range: '>=5.0.0 <6.0.0'\n"
            ),
        );
        let (code, out) = select(&["--policy", &file], "podinfo-tags.txt");
        assert_eq!((code, out.as_str()), (0, "5.2.0"), "{version}");
    }
    let seed = example("podinfo-policy.yaml");
    let (code, out) = select(&["--policy", seed.to_str().expect("utf-8")], "podinfo-tags.txt");
    assert_eq!((code, out.as_str()), (0, "5.0.3"));
}

#[test]
fn multi_document_file_needs_a_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let doc = |name: &str, order: &str| {
        format!(
            "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: {name}\n\
             spec:\n  imageRepositoryRef:\n    name: app\n  policy:\n    alphabetical:\n      order: {order}\n"
        )
    };
    let other = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
    let file = write(
        dir.path(),
        "many.yaml",
        &format!("{}---\n{other}---\n{}", doc("up", "asc"), doc("down", "desc")),
    );
    let tags = "b\na\nc\n";
    let run = imagebump(&["policy", "select", "--policy", &file], tags);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("choose one with --name (up, down)"),
        "{}",
        run.stderr
    );
    let run = imagebump(&["policy", "select", "--policy", &file, "--name", "down"], tags);
    assert_eq!((run.code, run.stdout.trim()), (0, "a"));
}

#[test]
fn invalid_input_exits_2_and_names_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--semver".into(), ">=1.0.0 <".into()],
            "expected a version at byte 9",
        ),
        (
            vec!["--semver".into(), "*".into(), "--filter-tags".into(), "[".into()],
            "invalid filterTags pattern",
        ),
        (vec!["--numerical".into(), "random".into()], "order \"random\""),
        (
            vec!["--numerical".into(), "asc".into()],
            "\"1.0.0\" (from tag \"1.0.0\") is not a number",
        ),
        (
            vec![
                "--policy".into(),
                write(
                    dir.path(),
                    "bad.yaml",
                    "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: p\nspec:\n  policy: [\n",
                ),
            ],
            "bad.yaml",
        ),
        (
            vec![
                "--policy".into(),
                write(
                    dir.path(),
                    "range.yaml",
                    "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: p\n  namespace: apps\n\
                     spec:\n  imageRepositoryRef:\n    name: p\n  policy:\n    semver:\n      range: 1.x.x.x\n",
                ),
            ],
            "ImagePolicy apps/p: spec.policy.semver.range: invalid policy: invalid semver range \"1.x.x.x\"",
        ),
        (
            vec![
                "--policy".into(),
                write(
                    dir.path(),
                    "ver.yaml",
                    "apiVersion: image.toolkit.fluxcd.io/v2\nkind: ImagePolicy\nmetadata:\n  name: p\n",
                ),
            ],
            "apiVersion \"image.toolkit.fluxcd.io/v2\"",
        ),
        (
            vec![
                "--semver".into(),
                "*".into(),
                "--tags".into(),
                "/nonexistent/tags".into(),
            ],
            "/nonexistent/tags",
        ),
    ];
    for (args, needle) in cases {
        let mut all = vec!["policy", "select"];
        all.extend(args.iter().map(String::as_str));
        let run = imagebump(&all, "1.0.0\nlatest\n");
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(needle),
            "{args:?}: want {needle:?} in {}",
            run.stderr
        );
    }
}

#[test]
fn yaml_errors_carry_line_numbers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = write(
        dir.path(),
        "p.yaml",
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata:\n  name: p\nspec:\n  policy:\n    semver:\n      range: [1]\n",
    );
    let run = imagebump(&["policy", "select", "--policy", &file], "1.0.0\n");
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("line 8"), "{}", run.stderr);
}

#[test]
fn stdin_json_and_explain() {
    let run = imagebump(
        &["policy", "select", "--semver", "^1.x-0", "-o", "json"],
        r#"{"Repository": "ghcr.io/org/app", "Tags": ["1.0.0", "1.2.0-rc.1", "2.0.0-alpha", "main"]}"#,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    assert_eq!(json["tag"], "1.2.0-rc.1");
    let outcomes: Vec<&str> = json["trace"]
        .as_array()
        .expect("trace array")
        .iter()
        .map(|d| d["outcome"].as_str().expect("outcome string"))
        .collect();
    assert_eq!(outcomes, ["lost", "selected", "out_of_range", "not_a_version"]);

    let run = imagebump(
        &[
            "policy",
            "select",
            "--semver",
            ">=1.0.0",
            "--explain",
            "--tags",
            "-",
        ],
        "1.0.0\n2.0.0-rc.1\n",
    );
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("2.0.0-rc.1  skipped: prerelease"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("1.0.0\n"), "{}", run.stdout);

    let run = imagebump(&["policy", "select", "--semver", "*", "-o", "json"], "[]");
    assert_eq!(run.code, 1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON output");
    assert_eq!(json["tag"], serde_json::Value::Null);
    assert_eq!(json["reason"], "no tags to choose from");
}

//! `imagebump update`: markers applied to a directory, `--dry-run`, outputs and exit codes.

use crate::support::{imagebump, write};

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
  namespace: default

spec:
  template:
    spec:
      containers:
        - name: podinfod
          image: ghcr.io/stefanprodan/podinfo:5.0.0 # {\"$imagepolicy\": \"flux-system:podinfo\"}
";

const HELMRELEASE: &str = "apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata:
  name: podinfo
  namespace: default
spec:
  values:
    image:
      repository: ghcr.io/stefanprodan/podinfo # {\"$imagepolicy\": \"flux-system:podinfo:name\"}
      tag: 5.0.0  # {\"$imagepolicy\": \"flux-system:podinfo:tag\"}
";

const SET: &str = "flux-system:podinfo=ghcr.io/stefanprodan/podinfo:5.0.3";

#[test]
fn updates_only_the_marked_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deploy = write(dir.path(), "deploy.yaml", DEPLOYMENT);
    let release = write(dir.path(), "release.yaml", HELMRELEASE);
    let root = dir.path().display().to_string();

    let run = imagebump(&["update", "--path", &root, "--set", SET], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&deploy).expect("read"),
        DEPLOYMENT.replace("5.0.0", "5.0.3")
    );
    assert_eq!(
        std::fs::read_to_string(&release).expect("read"),
        HELMRELEASE.replace("5.0.0", "5.0.3")
    );
    assert!(
        run.stdout.contains("deploy.yaml Deployment/default/podinfo: ghcr.io/stefanprodan/podinfo:5.0.0 -> ghcr.io/stefanprodan/podinfo:5.0.3 (flux-system:podinfo)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("release.yaml HelmRelease/default/podinfo: 5.0.0 -> 5.0.3 (flux-system:podinfo:tag)"),
        "{}",
        run.stdout
    );
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deploy = write(dir.path(), "deploy.yaml", DEPLOYMENT);
    let root = dir.path().display().to_string();
    let run = imagebump(&["update", "--path", &root, "--set", SET, "--dry-run"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("--- a/deploy.yaml\n+++ b/deploy.yaml\n@@ "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\n-          image: ghcr.io/stefanprodan/podinfo:5.0.0 #"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\n+          image: ghcr.io/stefanprodan/podinfo:5.0.3 #"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&deploy).expect("read"),
        DEPLOYMENT,
        "untouched"
    );
}

#[test]
fn json_output_and_notes() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "deploy.yaml", DEPLOYMENT);
    write(
        dir.path(),
        "other.yaml",
        "image: foo:1 # {\"$imagepolicy\": \"flux-system:unknown\"}\n",
    );
    let root = dir.path().display().to_string();
    let run = imagebump(&["update", "--path", &root, "--set", SET, "-o", "json"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["fileChanges"][0]["file"], "deploy.yaml");
    assert_eq!(json["fileChanges"][0]["objects"][0]["kind"], "Deployment");
    assert_eq!(
        json["fileChanges"][0]["objects"][0]["changes"][0]["newValue"],
        "ghcr.io/stefanprodan/podinfo:5.0.3"
    );
    assert_eq!(json["notes"][0]["file"], "other.yaml");
    assert!(run.stderr.contains("note: other.yaml"), "{}", run.stderr);
}

#[test]
fn invalid_input_exits_2() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().display().to_string();
    for (args, needle) in [
        (
            vec!["update", "--path", root.as_str(), "--set", "podinfo=img:1"],
            "NAMESPACE:NAME",
        ),
        (
            vec!["update", "--path", root.as_str(), "--set", "ns:p=no-tag"],
            "IMAGE:TAG",
        ),
        (
            vec!["update", "--path", "/nonexistent/dir", "--set", SET],
            "/nonexistent/dir",
        ),
    ] {
        let run = imagebump(&args, "");
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(needle),
            "{args:?}: want {needle:?} in {}",
            run.stderr
        );
    }
}

//! `imagebump scan` against the real registry: credentials from a Secret file, TLS with a CA,
//! exclusions, and the exit codes.

use base64::Engine;
use imagebump_testsupport::{RegistryMode, TestRegistry};

use crate::support::{imagebump, write};

/// A `kubernetes.io/dockerconfigjson` Secret as `kubectl create secret docker-registry
/// --dry-run=client -o yaml` writes it.
fn secret_yaml(server: &str, user: &str, password: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let json = format!(
        r#"{{"auths":{{"{server}":{{"username":"{user}","password":"{password}","auth":"{}"}}}}}}"#,
        b64(&format!("{user}:{password}"))
    );
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: flux-system\n\
         type: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: {}\n",
        b64(&json)
    )
}

#[tokio::test]
async fn scan_with_a_docker_registry_secret() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    registry
        .push("team/app", &["1.0.0", "1.1.0", "sha256-abc.sig"])
        .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (user, password) = registry.credentials().expect("basic mode");
    let secret = write(
        dir.path(),
        "regcred.yaml",
        &secret_yaml(registry.host(), user, password),
    );
    let image = format!("{}/team/app", registry.host());

    let run = imagebump(&["scan", &image, "--secret", &secret, "-o", "json"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["tagCount"], 2, "the .sig tag is excluded by default");
    assert_eq!(json["tags"], serde_json::json!(["1.1.0", "1.0.0"]));
    assert!(
        json["revision"]
            .as_str()
            .is_some_and(|r| r.starts_with("sha256:"))
    );
    assert_eq!(json["canonicalImageName"], image);

    let run = imagebump(&["scan", &image, "--secret", &secret, "--exclude", "^1\\.0"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("successful scan: found 2 tags with checksum sha256:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("sha256-abc.sig") && !run.stdout.contains("\n1.0.0"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn wrong_or_missing_credentials_exit_3_without_the_password() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let secret = write(
        dir.path(),
        "bad.yaml",
        &secret_yaml(registry.host(), "testuser", "hunter2-wrong"),
    );
    let image = format!("{}/team/app", registry.host());
    let run = imagebump(&["scan", &image, "--secret", &secret], "");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("authentication failed"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"), "password leaked: {}", run.stderr);

    let run = imagebump(&["scan", &image], "");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("requires credentials"), "{}", run.stderr);
}

#[tokio::test]
async fn scan_over_tls_with_a_ca_file() {
    let Some(registry) = TestRegistry::start(RegistryMode::Tls).await else {
        return;
    };
    registry.push("team/app", &["2.0.0"]).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (user, password) = registry.credentials().expect("tls mode has credentials");
    let secret = write(
        dir.path(),
        "regcred.yaml",
        &secret_yaml(registry.host(), user, password),
    );
    let ca = registry
        .ca_path()
        .expect("tls mode has a CA")
        .display()
        .to_string();
    let image = format!("{}/team/app", registry.host());

    let run = imagebump(&["scan", &image, "--secret", &secret, "--ca", &ca], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.ends_with("2.0.0\n"), "{}", run.stdout);

    let run = imagebump(&["scan", &image, "--secret", &secret], "");
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("TLS certificate rejected"), "{}", run.stderr);
}

#[test]
fn invalid_input_exits_2() {
    for (args, needle) in [
        (
            vec!["scan", "https://ghcr.io/org/app"],
            "should not include URL scheme",
        ),
        (vec!["scan", "ghcr.io/org/app:1.0"], "should not include a tag"),
        (
            vec!["scan", "ghcr.io/org/app", "--exclude", "("],
            "exclusionList[0]",
        ),
        (
            vec!["scan", "ghcr.io/org/app", "--secret", "/nonexistent"],
            "/nonexistent",
        ),
        (vec!["scan", "ghcr.io/org/app", "--timeout", "5"], "missing unit"),
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

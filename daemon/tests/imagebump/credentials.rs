//! Registry credentials in the daemon: the refreshed-secret mode (a timer or `CronJob` rewrites
//! a docker-registry Secret; the next scan uses it, no restart) and cloud logins.

use imagebump_testsupport::{Moto, RegistryMode, TestRegistry};

use crate::daemon_support::objects::{policy, repository};
use crate::daemon_support::{DaemonUnderTest, PATIENCE, Settings, TAGS, registry_secret, wait_until};
use crate::support::{imagebump, write};

/// Rewrites the registry's htpasswd so only `user:password` gets in (docker-registry reads
/// the file again when it changes).
async fn rotate_htpasswd(registry: &TestRegistry, user: &str, password: &str) {
    let out = tokio::process::Command::new("htpasswd")
        .args(["-Bbn", user, password])
        .output()
        .await
        .expect("running htpasswd");
    let path = registry.dir().join("htpasswd");
    std::fs::write(path.with_extension("new"), out.stdout).expect("writing htpasswd");
    std::fs::rename(path.with_extension("new"), &path).expect("replacing htpasswd");
}

/// `.dockerconfigjson` for `host`, as the refresh script writes it into `secrets_dir`.
fn docker_config(host: &str, user: &str, password: &str) -> String {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#)
}

/// Writes a file the way `kubectl` mounts and refresh scripts write: a new file renamed over
/// the old one.
fn replace(path: &std::path::Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a file in a directory")).expect("creating the directory");
    std::fs::write(path.with_extension("tmp"), text).expect("writing the new file");
    std::fs::rename(path.with_extension("tmp"), path).expect("replacing the file");
}

fn tag_count(daemon: &DaemonUnderTest) -> Option<u64> {
    daemon.object("repository", "app")["status"]["lastScanResult"]["tagCount"].as_u64()
}

#[tokio::test]
async fn a_rotated_secret_in_secrets_dir_is_used_by_the_next_scan_without_a_restart() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    registry.push("c1/app", &TAGS).await;
    let (user, old) = registry.credentials().expect("basic mode has credentials");
    let (user, old) = (user.to_owned(), old.to_owned());
    let image = format!("{}/c1/app", registry.host());
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("secrets/flux-system/regcred/.dockerconfigjson");
    replace(&secret_file, &docker_config(registry.host(), &user, &old));
    let mut object = repository("app", &image, "1h");
    object.push_str("  secretRef:\n    name: regcred\n");
    // secrets_dir sits beside the objects, as a mounted Secret would.
    let settings = Settings {
        top_level_config: "secrets_dir = \"secrets\"\n".to_owned(),
        ..Settings::default()
    };
    let daemon = DaemonUnderTest::start_with(
        dir.path(),
        &[
            ("registry.yaml", object),
            ("policy.yaml", policy("app", "app", "5.0.x")),
        ],
        settings,
    );
    wait_until(PATIENCE, "the first scan", || tag_count(&daemon) == Some(4));

    // The registry's password changes, then the refresh job rewrites the secret file.
    registry.push("c1/app", &["5.0.4"]).await;
    rotate_htpasswd(&registry, &user, "rotated-password").await;
    replace(
        &secret_file,
        &docker_config(registry.host(), &user, "rotated-password"),
    );
    let run = daemon.cli(&["reconcile", "image", "repository", "app"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("scan fetched 5 tags"), "{}", run.stderr);
    let log = daemon.log();
    assert!(
        !log.contains("authentication"),
        "the old password was not tried again: {log}"
    );
    assert!(
        !log.contains("rotated-password") && !log.contains(&old),
        "no password in the log"
    );
}

#[tokio::test]
async fn a_rotated_secret_object_is_reloaded_and_used() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    registry.push("c2/app", &TAGS).await;
    let (user, password) = registry.credentials().expect("basic mode has credentials");
    let (user, password) = (user.to_owned(), password.to_owned());
    let image = format!("{}/c2/app", registry.host());
    let mut object = repository("app", &image, "1h");
    object.push_str("  secretRef:\n    name: regcred\n");
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(
        dir.path(),
        &[
            ("secret.yaml", registry_secret(registry.host(), &user, &password)),
            ("registry.yaml", object),
            ("policy.yaml", policy("app", "app", "5.0.x")),
        ],
    );
    wait_until(PATIENCE, "the first scan", || tag_count(&daemon) == Some(4));
    registry.push("c2/app", &["5.0.4"]).await;
    rotate_htpasswd(&registry, &user, "second-password").await;
    daemon.write_object(
        "secret.yaml",
        &registry_secret(registry.host(), &user, "second-password"),
    );
    // The reload (inotify) and the scan it is followed by are asynchronous: ask until it works.
    wait_until(PATIENCE, "a scan with the new password", || {
        daemon.cli(&["reconcile", "image", "repository", "app"]).code == 0 && tag_count(&daemon) == Some(5)
    });
}

#[tokio::test]
async fn provider_aws_logs_in_through_the_ecr_api() {
    let Some(moto) = Moto::start().await else {
        return;
    };
    // An ECR host does not resolve here, so the scan itself fails after the login; the
    // crate's own test (auth-providers/tests) lists tags with moto's token on a real registry.
    let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app";
    let mut object = repository("app", image, "1h").replace("v1beta2", "v1");
    object.push_str("  provider: aws\n");
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        extra_config: format!("[aws]\nendpoint_url = \"{}\"\n", moto.endpoint()),
        // Every crate's debug lines, the AWS SDK's included: still no secret.
        args: vec!["--log-level".to_owned(), "debug".to_owned()],
        env: vec![
            ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDEXAMPLE".to_owned()),
            (
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                "not-a-real-secret-key".to_owned(),
            ),
            ("AWS_REGION".to_owned(), "us-east-1".to_owned()),
        ],
        ..Settings::default()
    };
    let daemon = DaemonUnderTest::start_with(dir.path(), &[("registry.yaml", object)], settings);
    wait_until(PATIENCE, "the login and the scan attempt", || {
        daemon.get("/metrics").is_some_and(|(_, m)| {
            m.contains(r#"imagebump_cloud_token_requests_total{provider="aws",outcome="success"} 1"#)
                && m.contains(
                    r#"imagebump_scans_total{namespace="flux-system",name="app",outcome="failure"}"#,
                )
        })
    });
    let status = daemon.object("repository", "app");
    let message = status["message"].as_str().unwrap_or_default().to_owned();
    assert!(
        message.contains("123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        "{status:#}"
    );
    let log = daemon.log();
    assert!(
        !log.contains("123456789012-auth-token"),
        "the ECR password is never logged"
    );
    assert!(!log.contains("not-a-real-secret-key"));
}

#[test]
fn check_warns_that_a_secret_ref_is_ignored_with_a_cloud_provider() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("objects")).unwrap();
    let config = write(
        dir.path(),
        "imagebump.toml",
        "objects = [\"objects\"]\nstate_dir = \"state\"\n",
    );
    write(
        dir.path(),
        "objects/ecr.yaml",
        "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageRepository\nmetadata:\n  name: app\n  \
         namespace: flux-system\nspec:\n  image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/app\n  \
         interval: 5m\n  provider: aws\n  secretRef:\n    name: regcred\n---\napiVersion: v1\nkind: Secret\n\
         metadata:\n  name: regcred\n  namespace: flux-system\nstringData:\n  x: y\n",
    );
    let run = imagebump(&["check", "--config", &config], "");
    assert_eq!(run.code, 0, "a warning, not an error: {}", run.stdout);
    assert!(
        run.stdout.contains(
            "ecr.yaml:11:11: warning: ImageRepository flux-system/app: spec.secretRef is ignored: with spec.provider aws"
        ),
        "{}",
        run.stdout
    );
}

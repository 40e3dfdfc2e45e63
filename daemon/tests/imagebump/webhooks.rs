//! Webhook receivers end to end: a tag pushed to the real registry plus the registry's webhook
//! becomes a commit on the remote, without waiting for any interval (every object here has
//! `interval: 1h`).

use std::time::Instant;

use imagebump_testsupport::RegistryMode;
use sha2::{Digest as _, Sha256};

use crate::daemon_support::objects::Automation;
use crate::daemon_support::{
    DaemonUnderTest, Fixture, PATIENCE, QUIET, Settings, TAGS, deployment, fixture, pipeline, servers,
    wait_for_file, wait_until,
};

/// A receiver of `kind` for the repositories `resources` (YAML list items), and its token.
fn receiver(name: &str, kind: &str, resources: &str, suspend: bool) -> String {
    format!(
        "apiVersion: notification.toolkit.fluxcd.io/v1beta1\nkind: Receiver\nmetadata:\n  name: {name}\n  \
         namespace: flux-system\nspec:\n  type: {kind}\n  suspend: {suspend}\n  secretRef:\n    name: {name}-token\n  \
         resources:\n{resources}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}-token\n  \
         namespace: flux-system\nstringData:\n  token: {TOKEN}\n"
    )
}

const TOKEN: &str = "6d1c5c3f0e0b4b7e9f5a";

/// The hook path as Flux documents it, computed here independently of the daemon.
fn hook_path(name: &str) -> String {
    let digest = Sha256::digest(format!("{TOKEN}{name}flux-system").as_bytes());
    format!("/hook/{}", hex::encode(digest))
}

fn hmac_sha256(key: &[u8], body: &[u8]) -> String {
    // HMAC by its definition (RFC 2104), so the test does not share code with the daemon.
    let mut block = [0u8; 64];
    block[..key.len()].copy_from_slice(key);
    let inner: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x36)
        .chain(body.iter().copied())
        .collect();
    let inner = Sha256::digest(&inner);
    let outer: Vec<u8> = block
        .iter()
        .map(|b| b ^ 0x5c)
        .chain(inner.iter().copied())
        .collect();
    hex::encode(Sha256::digest(&outer))
}

#[tokio::test]
async fn a_dockerhub_webhook_turns_a_pushed_tag_into_a_commit() {
    let Some(Fixture {
        registry,
        git,
        image,
        url,
    }) = fixture("w1", "app").await
    else {
        return;
    };
    let mut objects = pipeline("app", &image, &url, "5.0.x", &Automation::new("app", "app"));
    let resources = "    - kind: ImageRepository\n      name: app\n";
    objects.push((
        "receiver.yaml".to_owned(),
        receiver("dockerhub", "dockerhub", resources, false),
    ));
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(dir.path(), &objects);
    wait_for_file(
        &git,
        "w1",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.3", "app"),
    );

    // `get receivers` shows the path Flux would give this receiver.
    let receivers = daemon.status("receivers", None);
    assert_eq!(
        receivers[0]["status"]["webhookPath"],
        hook_path("dockerhub"),
        "{receivers:#?}"
    );

    registry.push("w1/app", &["5.0.4"]).await;
    // Docker Hub's push event (docs.docker.com/docker-hub/repos/manage/webhooks/). It names a
    // Docker Hub repository, not the loopback one, so every listed resource is scanned, as Flux
    // does.
    let payload = r#"{"callback_url":"https://registry.hub.docker.com/u/org/app/hook/x/","push_data":{"pushed_at":1417566161,"pusher":"trustedbuilder","tag":"5.0.4"},"repository":{"name":"app","namespace":"org","repo_name":"org/app","repo_url":"https://registry.hub.docker.com/u/org/app/","status":"Active"}}"#;
    let started = Instant::now();
    let (code, body) = daemon
        .request(
            "POST",
            &hook_path("dockerhub"),
            &[("Content-Type", "application/json")],
            payload.as_bytes(),
        )
        .expect("the daemon answers");
    assert_eq!(code, 202, "{body}");
    assert!(body.is_empty(), "reasons stay in the log: {body}");
    wait_for_file(
        &git,
        "w1",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.4", "app"),
    );
    eprintln!("webhook to commit: {:?}", started.elapsed());

    // The daemon records the run just after git's push returns, so the remote can show the
    // commit a moment before the metric does.
    wait_until(PATIENCE, "the push to be recorded", || {
        daemon
            .get("/metrics")
            .is_some_and(|(_, m)| m.contains("imagebump_webhook_to_commit_seconds_count 1"))
    });
    let (_, metrics) = daemon.get("/metrics").expect("metrics");
    assert!(
        metrics.contains(r#"imagebump_webhook_requests_total{receiver="flux-system/dockerhub",type="dockerhub",outcome="accepted"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("imagebump_webhook_to_commit_seconds_count 1"),
        "{metrics}"
    );
    let receivers = daemon.status("receivers", None);
    assert!(receivers[0]["last_time"].is_string(), "{receivers:#?}");
}

#[tokio::test]
async fn the_payloads_image_picks_which_repositories_scan() {
    let Some((registry, git)) = servers(RegistryMode::Open).await else {
        return;
    };
    registry.push("w2/a", &TAGS).await;
    registry.push("w2/b", &TAGS).await;
    let (image_a, image_b) = (
        format!("{}/w2/a", registry.host()),
        format!("{}/w2/b", registry.host()),
    );
    let url = git.create_repo(
        "w2",
        &[
            ("a/app.yaml", &deployment(&image_a, "5.0.0", "a")),
            ("b/app.yaml", &deployment(&image_b, "5.0.0", "b")),
        ],
        "main",
    );
    let mut objects = pipeline("a", &image_a, &url, "5.0.x", &Automation::new("a", "a"));
    objects.extend(pipeline("b", &image_b, &url, "5.0.x", &Automation::new("b", "a")));
    objects.retain(|(file, _)| file != "b-source.yaml");
    // Both repositories carry the label the receiver selects with `name: "*"`.
    for (file, text) in &mut objects {
        if file.ends_with("-registry.yaml") {
            *text = text.replace(
                "  namespace: flux-system\n",
                "  namespace: flux-system\n  labels:\n    team: web\n",
            );
        }
    }
    let resources = "    - kind: ImageRepository\n      name: \"*\"\n      matchLabels:\n        team: web\n";
    objects.push((
        "receiver.yaml".to_owned(),
        receiver("quay", "quay", resources, false),
    ));
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(dir.path(), &objects);
    wait_for_file(
        &git,
        "w2",
        "main",
        "a/app.yaml",
        &deployment(&image_a, "5.0.3", "a"),
    );
    wait_for_file(
        &git,
        "w2",
        "main",
        "b/app.yaml",
        &deployment(&image_b, "5.0.3", "b"),
    );

    registry.push("w2/a", &["5.0.4"]).await;
    registry.push("w2/b", &["5.0.4"]).await;
    // Quay's repository push notification (docs.quay.io, "Repository Push").
    let payload = format!(
        r#"{{"name":"a","repository":"w2/a","namespace":"w2","docker_url":"{image_a}","homepage":"https://quay.io/repository/w2/a","updated_tags":["5.0.4"]}}"#
    );
    let (code, _) = daemon
        .request("POST", &hook_path("quay"), &[], payload.as_bytes())
        .expect("the daemon answers");
    assert_eq!(code, 202);
    wait_for_file(
        &git,
        "w2",
        "main",
        "a/app.yaml",
        &deployment(&image_a, "5.0.4", "a"),
    );
    std::thread::sleep(QUIET);
    assert_eq!(
        git.read_file("w2", "main", "b/app.yaml").as_deref(),
        Some(deployment(&image_b, "5.0.3", "b").as_str()),
        "b was not named by the payload and must not have been scanned"
    );
    let b = daemon.object("repository", "b");
    assert_eq!(b["status"]["lastScanResult"]["tagCount"], 4, "{b:#}");
}

#[tokio::test]
async fn refused_requests_get_their_status_and_scan_nothing() {
    let Some(Fixture {
        registry,
        git,
        image,
        url,
    }) = fixture("w3", "app").await
    else {
        return;
    };
    let mut objects = pipeline("app", &image, &url, "5.0.x", &Automation::new("app", "app"));
    let resources = "    - kind: ImageRepository\n      name: app\n";
    objects.push((
        "hmac.yaml".to_owned(),
        receiver("hmac", "generic-hmac", resources, false),
    ));
    objects.push((
        "paused.yaml".to_owned(),
        receiver("paused", "generic", resources, true),
    ));
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        extra_config: "[webhooks]\nmax_body_bytes = 1024\n".to_owned(),
        ..Settings::default()
    };
    let daemon = DaemonUnderTest::start_with(dir.path(), &objects, settings);
    wait_for_file(
        &git,
        "w3",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.3", "app"),
    );
    registry.push("w3/app", &["5.0.4"]).await;

    let body = br#"{"tag":"5.0.4"}"#;
    let good = format!("sha256={}", hmac_sha256(TOKEN.as_bytes(), body));
    let bad = format!("sha256={}", hmac_sha256(b"not-the-token", body));
    let post = |path: &str, headers: &[(&str, &str)], body: &[u8]| {
        daemon
            .request("POST", path, headers, body)
            .expect("the daemon answers")
            .0
    };
    assert_eq!(post("/hook/0123", &[], body), 404, "unknown path");
    assert_eq!(post(&hook_path("hmac"), &[], body), 400, "no X-Signature");
    assert_eq!(
        post(&hook_path("hmac"), &[("X-Signature", &bad)], body),
        401,
        "wrong key"
    );
    assert_eq!(
        post(&hook_path("hmac"), &[("X-Signature", "md5=00")], body),
        400,
        "unknown algorithm"
    );
    assert_eq!(post(&hook_path("paused"), &[], body), 503, "suspended receiver");
    let large = vec![b'x'; 4096];
    let large_signature = format!("sha256={}", hmac_sha256(TOKEN.as_bytes(), &large));
    assert_eq!(
        post(&hook_path("hmac"), &[("X-Signature", &large_signature)], &large),
        413,
        "over max_body_bytes"
    );
    std::thread::sleep(QUIET);
    assert_eq!(
        git.read_file("w3", "main", "app.yaml").as_deref(),
        Some(deployment(&image, "5.0.3", "app").as_str()),
        "no refused request may cause a scan"
    );
    let log = daemon.log();
    assert!(!log.contains(TOKEN), "the token is never logged");
    assert!(log.contains("webhook refused"), "{log}");

    assert_eq!(post(&hook_path("hmac"), &[("X-Signature", &good)], body), 202);
    wait_for_file(
        &git,
        "w3",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.4", "app"),
    );
    let (_, metrics) = daemon.get("/metrics").expect("metrics");
    for line in [
        r#"imagebump_webhook_requests_total{receiver="",type="",outcome="not_found"} 1"#,
        r#"imagebump_webhook_requests_total{receiver="flux-system/hmac",type="generic-hmac",outcome="unauthorized"} 1"#,
        r#"imagebump_webhook_requests_total{receiver="flux-system/hmac",type="generic-hmac",outcome="bad_request"} 2"#,
        r#"imagebump_webhook_requests_total{receiver="flux-system/paused",type="generic",outcome="suspended"} 1"#,
        r#"imagebump_webhook_requests_total{receiver="flux-system/hmac",type="generic-hmac",outcome="accepted"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
}

//! `imagebump daemon` end to end: a real registry (`docker-registry`), a bare git repository,
//! the daemon as a child process, and the CLI talking to it, as a user runs them.
//!
//! Automations have `interval: 1h`, so every run comes from a policy change, a reconcile or a
//! resume, never from a timer firing at a bad moment.

use std::time::Duration;

use base64::Engine as _;
use imagebump_testsupport::{GitServer, RegistryMode, TestRegistry};
use serde_json::Value;

use crate::daemon_support::objects::{Automation, automation, git_repository, policy, repository};
use crate::daemon_support::{
    DaemonUnderTest, Fixture, PATIENCE, QUIET, Settings, TAGS, deployment, first_commit, fixture, pipeline,
    registry_secret, servers, wait_for_file, wait_until,
};
use crate::support::repo_root;

/// The object of `kind` (`ImageRepository`, ...) in a `get images all -o json` answer.
fn of_kind<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {objects:#?}"))
}

#[tokio::test]
async fn a_new_tag_becomes_a_commit_and_a_reconcile_picks_up_the_next() {
    let Some((registry, git)) = servers(RegistryMode::Open).await else {
        return;
    };
    registry.push("t1/app", &TAGS).await;
    let image = format!("{}/t1/app", registry.host());
    let before = deployment(&image, "5.0.0", "app");
    let readme = "# fleet\n";
    let url = git.create_repo(
        "t1",
        &[("deploy/app.yaml", &before), ("README.md", readme)],
        "main",
    );
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(
        dir.path(),
        &pipeline("app", &image, &url, "5.0.x", &Automation::new("app", "app")),
    );

    wait_for_file(
        &git,
        "t1",
        "main",
        "deploy/app.yaml",
        &deployment(&image, "5.0.3", "app"),
    );
    assert_eq!(
        git.commit_message("t1", "main").unwrap(),
        format!("{image}:5.0.3\n")
    );
    assert_eq!(
        git.commit_author("t1", "main").unwrap(),
        (
            "fluxcdbot".to_owned(),
            "fluxcdbot@users.noreply.github.com".to_owned()
        )
    );
    assert_eq!(git.read_file("t1", "main", "README.md").unwrap(), readme);
    assert_eq!(git.log("t1", "main").len(), 2, "{:?}", git.log("t1", "main"));

    registry.push("t1/app", &["5.0.4"]).await;
    let run = daemon.cli(&["reconcile", "image", "repository", "app"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("scan fetched 5 tags"), "{}", run.stderr);
    wait_for_file(
        &git,
        "t1",
        "main",
        "deploy/app.yaml",
        &deployment(&image, "5.0.4", "app"),
    );
    assert_eq!(
        git.commit_message("t1", "main").unwrap(),
        format!("{image}:5.0.4\n")
    );
    assert_eq!(git.log("t1", "main").len(), 3, "{:?}", git.log("t1", "main"));

    let head = git.head("t1", "main").unwrap();
    wait_until(PATIENCE, "lastPushCommit to be the remote's head", || {
        daemon.object("update", "app")["status"]["lastPushCommit"] == head.as_str()
    });
    let all = daemon.status("all", None);
    assert_eq!(all.len(), 3, "{all:#?}");
    let repository = of_kind(&all, "ImageRepository");
    assert_eq!(repository["ready"], "True", "{repository:#}");
    assert_eq!(repository["message"], "successful scan: found 5 tags");
    let policy = of_kind(&all, "ImagePolicy");
    assert_eq!(policy["ready"], "True", "{policy:#}");
    assert_eq!(
        policy["message"],
        format!("Latest image tag for '{image}' resolved to 5.0.4 (previously {image}:5.0.3)")
    );
    assert_eq!(policy["latest_image"], format!("{image}:5.0.4"));
    let update = of_kind(&all, "ImageUpdateAutomation");
    assert_eq!(update["ready"], "True", "{update:#}");
    assert_eq!(update["status"]["lastPushCommit"], head.as_str());
    let short: String = head.chars().take(7).collect();
    assert_eq!(
        update["message"],
        format!("pushed commit '{short}' to branch 'main'")
    );
}

#[tokio::test]
async fn a_push_branch_that_does_not_exist_is_created_from_the_checkout_branch() {
    let Some((registry, git)) = servers(RegistryMode::Open).await else {
        return;
    };
    registry.push("t2/app", &TAGS).await;
    let image = format!("{}/t2/app", registry.host());
    let before = deployment(&image, "5.0.0", "app");
    let url = git.create_repo("t2", &[("app.yaml", &before)], "main");
    let main = git.head("t2", "main").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = Automation {
        push_branch: "auto-updates",
        ..Automation::new("app", "app")
    };
    let _daemon = DaemonUnderTest::start(dir.path(), &pipeline("app", &image, &url, "5.0.x", &spec));

    wait_for_file(
        &git,
        "t2",
        "auto-updates",
        "app.yaml",
        &deployment(&image, "5.0.3", "app"),
    );
    assert_eq!(
        git.commit_message("t2", "auto-updates").unwrap(),
        format!("{image}:5.0.3\n")
    );
    assert_eq!(
        git.log("t2", "auto-updates"),
        [format!("{image}:5.0.3"), "Initial commit".to_owned()]
    );
    assert_eq!(git.head("t2", "main").unwrap(), main, "main must not move");
    assert_eq!(git.read_file("t2", "main", "app.yaml").unwrap(), before);
}

/// The SUSPENDED column of `name` in a `get images update` table.
fn suspended_column(daemon: &DaemonUnderTest, name: &str) -> String {
    let run = daemon.cli(&["get", "images", "update"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let mut lines = run.stdout.lines();
    let headers: Vec<&str> = lines
        .next()
        .expect("a header line")
        .split('\t')
        .map(str::trim)
        .collect();
    let column = headers
        .iter()
        .position(|h| *h == "SUSPENDED")
        .expect("a SUSPENDED column");
    lines
        .map(|l| l.split('\t').map(str::trim).collect::<Vec<_>>())
        .find(|cells| cells[0] == name)
        .unwrap_or_else(|| panic!("no row for {name} in\n{}", run.stdout))[column]
        .to_owned()
}

#[tokio::test]
async fn a_suspended_automation_commits_nothing_until_resumed() {
    let Some(Fixture {
        registry,
        git,
        image,
        url,
    }) = fixture("t3", "app").await
    else {
        return;
    };
    // A second automation on its own repository, suspended in its file.
    let pinned_before = deployment(&image, "5.0.0", "app");
    let pinned_url = git.create_repo("t3-pinned", &[("app.yaml", &pinned_before)], "main");
    let mut files = pipeline("app", &image, &url, "5.0.x", &Automation::new("app", "app"));
    files.push((
        "pinned-source.yaml".to_owned(),
        git_repository("pinned", &pinned_url),
    ));
    files.push((
        "pinned-automation.yaml".to_owned(),
        automation(&Automation {
            suspend: true,
            ..Automation::new("pinned", "pinned")
        }),
    ));
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(dir.path(), &files);
    wait_for_file(
        &git,
        "t3",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.3", "app"),
    );
    let commits = git.log("t3", "main").len();

    let run = daemon.cli(&["suspend", "image", "update", "app"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(daemon.object("update", "app")["suspended"], true);
    assert_eq!(suspended_column(&daemon, "app"), "True");
    assert_eq!(suspended_column(&daemon, "pinned"), "True");

    registry.push("t3/app", &["5.0.4"]).await;
    let run = daemon.cli(&["reconcile", "image", "repository", "app"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    wait_until(PATIENCE, "the policy to select 5.0.4", || {
        daemon.object("policy", "app")["latest_image"] == format!("{image}:5.0.4")
    });
    std::thread::sleep(QUIET);
    assert_eq!(
        git.log("t3", "main").len(),
        commits,
        "a suspended automation committed"
    );
    assert_eq!(
        git.log("t3-pinned", "main").len(),
        1,
        "spec.suspend: true committed"
    );
    assert_eq!(
        git.read_file("t3-pinned", "main", "app.yaml").unwrap(),
        pinned_before
    );

    let run = daemon.cli(&["reconcile", "image", "update", "app"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("✗ ImageUpdateAutomation flux-system/app is suspended"),
        "{}",
        run.stderr
    );

    let run = daemon.cli(&["resume", "image", "update", "pinned"]);
    assert_eq!(run.code, 3, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("suspended by spec.suspend in its file"),
        "{}",
        run.stderr
    );
    assert_eq!(suspended_column(&daemon, "pinned"), "True");

    let run = daemon.cli(&["resume", "image", "update", "app"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    wait_for_file(
        &git,
        "t3",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.4", "app"),
    );
    assert_eq!(git.log("t3", "main").len(), commits + 1);
    assert_eq!(suspended_column(&daemon, "app"), "False");
    assert_eq!(git.log("t3-pinned", "main").len(), 1);
}

#[tokio::test]
async fn a_narrower_range_in_the_file_reverts_the_tag_without_a_restart() {
    let Some(Fixture {
        registry: _registry,
        git,
        image,
        url,
    }) = fixture("t4", "app").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let daemon = first_commit(dir.path(), &git, "t4", &image, &url, "app");

    // Nothing but the file changes: the daemon sees it by itself.
    daemon.write_object("app-policy.yaml", &policy("app", "app", "<5.0.2"));
    wait_for_file(
        &git,
        "t4",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.1", "app"),
    );
    assert_eq!(
        git.commit_message("t4", "main").unwrap(),
        format!("{image}:5.0.1\n")
    );
    assert_eq!(git.log("t4", "main").len(), 3, "{:?}", git.log("t4", "main"));
    assert!(!daemon.log().contains("SIGHUP"), "{}", daemon.log());
}

#[tokio::test]
async fn sighup_reloads_objects_swapped_in_behind_a_symlink() {
    let Some(Fixture {
        registry: _registry,
        git,
        image,
        url,
    }) = fixture("t4h", "app").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // As Kubernetes mounts a ConfigMap: `live` is a symlink to a directory of files, and an
    // update swaps the symlink. Nothing inside the watched directory changes, which is the
    // case SIGHUP is for.
    let files = pipeline("app", &image, &url, "5.0.x", &Automation::new("app", "app"));
    std::fs::create_dir(dir.path().join("v1")).unwrap();
    std::os::unix::fs::symlink("v1", dir.path().join("live")).unwrap();
    let mut daemon = DaemonUnderTest::start_with(
        dir.path(),
        &files,
        Settings {
            objects_entry: "live".to_owned(),
            ..Settings::default()
        },
    );
    wait_for_file(
        &git,
        "t4h",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.3", "app"),
    );

    let v2 = dir.path().join("v2");
    std::fs::create_dir(&v2).unwrap();
    for (name, text) in &files {
        let text = if name == "app-policy.yaml" {
            policy("app", "app", "5.0.1")
        } else {
            text.clone()
        };
        std::fs::write(v2.join(name), text).unwrap();
    }
    std::os::unix::fs::symlink("v2", dir.path().join("live.new")).unwrap();
    std::fs::rename(dir.path().join("live.new"), dir.path().join("live")).unwrap();
    daemon.signal("HUP");
    wait_for_file(
        &git,
        "t4h",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.1", "app"),
    );
    assert_eq!(
        git.commit_message("t4h", "main").unwrap(),
        format!("{image}:5.0.1\n")
    );
    assert!(
        daemon.log().contains("SIGHUP: reloading the objects"),
        "{}",
        daemon.log()
    );
    assert!(daemon.try_wait().is_none(), "SIGHUP must not stop the daemon");
    let (status, _) = daemon.stop();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn two_automations_on_one_branch_both_land() {
    let Some((registry, git)) = servers(RegistryMode::Open).await else {
        return;
    };
    registry.push("t5/a", &TAGS).await;
    registry.push("t5/b", &["1.0.0", "1.1.0", "2.0.0"]).await;
    let image_a = format!("{}/t5/a", registry.host());
    let image_b = format!("{}/t5/b", registry.host());
    let url = git.create_repo(
        "t5",
        &[
            ("apps/a/app.yaml", &deployment(&image_a, "5.0.0", "a")),
            ("apps/b/app.yaml", &deployment(&image_b, "1.0.0", "b")),
        ],
        "main",
    );
    let files = vec![
        ("a-registry.yaml".to_owned(), repository("a", &image_a, "1h")),
        ("b-registry.yaml".to_owned(), repository("b", &image_b, "1h")),
        ("a-policy.yaml".to_owned(), policy("a", "a", "5.0.x")),
        ("b-policy.yaml".to_owned(), policy("b", "b", "1.x")),
        ("source.yaml".to_owned(), git_repository("fleet", &url)),
        (
            "a-automation.yaml".to_owned(),
            automation(&Automation {
                path: "./apps/a",
                ..Automation::new("a", "fleet")
            }),
        ),
        (
            "b-automation.yaml".to_owned(),
            automation(&Automation {
                path: "./apps/b",
                ..Automation::new("b", "fleet")
            }),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(dir.path(), &files);

    wait_for_file(
        &git,
        "t5",
        "main",
        "apps/a/app.yaml",
        &deployment(&image_a, "5.0.3", "a"),
    );
    wait_for_file(
        &git,
        "t5",
        "main",
        "apps/b/app.yaml",
        &deployment(&image_b, "1.1.0", "b"),
    );
    let mut log = git.log("t5", "main");
    log.sort();
    assert_eq!(
        log,
        [
            format!("{image_a}:5.0.3"),
            format!("{image_b}:1.1.0"),
            "Initial commit".to_owned()
        ]
    );
    for name in ["a", "b"] {
        wait_until(PATIENCE, &format!("automation {name} to report its push"), || {
            let update = daemon.object("update", name);
            update["ready"] == "True" && update["status"]["lastPushCommit"].is_string()
        });
        let update = daemon.object("update", name);
        assert!(
            update["message"].as_str().unwrap().starts_with("pushed commit '"),
            "{update:#}"
        );
    }
}

/// Runs a pipeline on repository `repo` whose remote is missing until the policy has selected
/// 5.0.3 and the automation has failed; then SIGKILLs the daemon, restores the remote, stops
/// the registry for good and starts the daemon again on the same state. Returns the git
/// server, the daemon and the image, or `None` when the test is skipped.
async fn restarted_after_a_failed_push(
    dir: &std::path::Path,
    repo: &str,
) -> Option<(GitServer, DaemonUnderTest, String)> {
    let (registry, git) = servers(RegistryMode::Open).await?;
    registry.push(&format!("{repo}/app"), &TAGS).await;
    let image = format!("{}/{repo}/app", registry.host());
    let url = git.create_repo(repo, &[("app.yaml", &deployment(&image, "5.0.0", "app"))], "main");
    let bare = git.repo_path(repo);
    let away = bare.with_extension("away");
    std::fs::rename(&bare, &away).expect("moving the remote away");
    let mut daemon = DaemonUnderTest::start(
        dir,
        &pipeline("app", &image, &url, "5.0.x", &Automation::new("app", "app")),
    );
    wait_until(PATIENCE, "the policy to select 5.0.3", || {
        daemon.object("policy", "app")["latest_image"] == format!("{image}:5.0.3")
    });
    wait_until(PATIENCE, "the automation to fail", || {
        daemon.object("update", "app")["ready"] == "False"
    });

    daemon.kill();
    std::fs::rename(&away, &bare).expect("restoring the remote");
    drop(registry);
    daemon.restart();
    Some((git, daemon, image))
}

/// After [`restarted_after_a_failed_push`] and the commit: exactly one commit, made from the
/// stored scan, and no second one after another restart.
fn landed_once(git: &GitServer, daemon: &mut DaemonUnderTest, repo: &str, image: &str) {
    wait_for_file(git, repo, "main", "app.yaml", &deployment(image, "5.0.3", "app"));
    assert_eq!(
        git.log(repo, "main"),
        [format!("{image}:5.0.3"), "Initial commit".to_owned()]
    );
    assert!(
        daemon.log().contains("resumed from the stored scan"),
        "{}",
        daemon.log()
    );
    let head = git.head(repo, "main").expect("the branch exists");
    wait_until(PATIENCE, "lastPushCommit to be the remote's head", || {
        daemon.object("update", "app")["status"]["lastPushCommit"] == head.as_str()
    });
    assert_eq!(
        daemon.object("repository", "app")["message"],
        "successful scan: found 4 tags",
        "the stored scan stands; no scan of the stopped registry was needed"
    );

    let (status, _) = daemon.stop();
    assert!(status.success(), "{status}");
    daemon.restart();
    let run = daemon.cli(&["reconcile", "image", "update", "app"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("repository up-to-date"), "{}", run.stderr);
    std::thread::sleep(QUIET);
    assert_eq!(git.log(repo, "main").len(), 2, "{:?}", git.log(repo, "main"));
    assert_eq!(git.head(repo, "main").as_deref(), Some(head.as_str()));
}

#[tokio::test]
async fn a_push_that_failed_before_a_crash_lands_once_after_restart_without_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let Some((git, mut daemon, image)) = restarted_after_a_failed_push(dir.path(), "t6").await else {
        return;
    };
    // Asked for explicitly here; `a_push_that_failed_before_a_crash_lands_after_restart_unasked`
    // shows the daemon doing it by itself.
    let run = daemon.cli(&["reconcile", "image", "update", "app"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    landed_once(&git, &mut daemon, "t6", &image);
}

#[tokio::test]
async fn a_push_that_failed_before_a_crash_lands_after_restart_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let Some((git, mut daemon, image)) = restarted_after_a_failed_push(dir.path(), "t6u").await else {
        return;
    };
    landed_once(&git, &mut daemon, "t6u", &image);
}

#[tokio::test]
async fn fixing_the_git_repository_url_after_a_failed_run_commits_at_once() {
    let Some(Fixture {
        registry: _registry,
        git,
        image,
        url,
    }) = fixture("t6f", "app").await
    else {
        return;
    };
    let mut files = pipeline("app", &image, &url, "5.0.x", &Automation::new("app", "app"));
    files[2].1 = git_repository("app", &git.url("no-such-repository"));
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(dir.path(), &files);
    wait_until(PATIENCE, "the policy to select 5.0.3", || {
        daemon.object("policy", "app")["latest_image"] == format!("{image}:5.0.3")
    });
    wait_until(PATIENCE, "the automation to fail", || {
        daemon.object("update", "app")["ready"] == "False"
    });

    daemon.write_object("app-source.yaml", &git_repository("app", &url));
    wait_for_file(
        &git,
        "t6f",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.3", "app"),
    );
}

#[tokio::test]
async fn a_broken_file_stops_only_its_own_objects() {
    let Some(Fixture {
        registry: _registry,
        git,
        image,
        url,
    }) = fixture("t7", "app").await
    else {
        return;
    };
    let mut files = pipeline("app", &image, &url, "5.0.x", &Automation::new("app", "app"));
    files.push((
        "broken.yaml".to_owned(),
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: broken\n\
         spec: [unclosed\n  imageRepositoryRef: {name: app}\n"
            .to_owned(),
    ));
    files.push((
        "bad-range.yaml".to_owned(),
        policy("bad-range", "app", ">=5.0.x.y"),
    ));
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(dir.path(), &files);

    wait_for_file(
        &git,
        "t7",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.3", "app"),
    );
    let policies: Vec<String> = daemon
        .status("policy", None)
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(policies, ["app"]);

    let run = daemon.cli(&["check"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let report = format!("{}{}", run.stdout, run.stderr);
    let objects = daemon.objects.display();
    for place in [
        // The `:` after `imageRepositoryRef` inside an unclosed flow sequence.
        format!("{objects}/broken.yaml:6:21: not valid YAML"),
        // The value of `range:`.
        format!(
            "{objects}/bad-range.yaml:11:14: ImagePolicy flux-system/bad-range: spec.policy.semver.range"
        ),
    ] {
        assert!(report.contains(&place), "{place} missing from\n{report}");
        assert!(
            daemon.log().contains(&place),
            "{place} missing from the daemon log"
        );
    }
}

#[tokio::test]
async fn the_seed_documents_objects_run_as_shipped() {
    let Some((registry, git)) = servers(RegistryMode::Open).await else {
        return;
    };
    registry.push("stefanprodan/podinfo", &TAGS).await;
    let image = format!("{}/stefanprodan/podinfo", registry.host());
    let manifest = |tag: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\n  namespace: default\n\
             spec:\n  selector:\n    matchLabels:\n      app: podinfo\n  template:\n    metadata:\n      \
             labels:\n        app: podinfo\n    spec:\n      containers:\n        - name: podinfod\n          \
             image: {image}:{tag} # {{\"$imagepolicy\": \"flux-system:podinfo\"}}\n          \
             imagePullPolicy: IfNotPresent\n          ports:\n            - name: http\n              \
             containerPort: 9898\n              protocol: TCP\n"
        )
    };
    let path = "clusters/my-cluster/podinfo-deployment.yaml";
    let url = git.create_repo("flux-image-updates", &[(path, &manifest("5.0.0"))], "main");
    let shipped = repo_root().join("etc/imagebump/objects");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(&shipped).unwrap() {
        let entry = entry.unwrap();
        let text = std::fs::read_to_string(entry.path())
            .unwrap()
            .replace("ghcr.io/stefanprodan/podinfo", &image)
            .replace("https://git.example.invalid/flux-image-updates.git", &url);
        files.push((entry.file_name().to_string_lossy().into_owned(), text));
    }
    assert_eq!(files.len(), 4, "{files:?}");
    assert!(
        files.iter().any(|(_, t)| t.contains(&url)) && files.iter().any(|(_, t)| t.contains(&image)),
        "the placeholders of etc/imagebump/objects changed: {files:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let _daemon = DaemonUnderTest::start(dir.path(), &files);

    wait_for_file(&git, "flux-image-updates", "main", path, &manifest("5.0.3"));
    assert_eq!(
        git.commit_message("flux-image-updates", "main").unwrap(),
        format!("{image}:5.0.3\n")
    );
}

/// The value of the first sample of `metric` whose labels include every one of `labels`.
fn sample(metrics: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(metric)?.strip_prefix('{')?;
        let (set, value) = rest.split_once("} ")?;
        let names: Vec<&str> = set.split(',').collect();
        labels
            .iter()
            .all(|l| names.contains(l))
            .then(|| value.trim().parse().ok())?
    })
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let Some(Fixture {
        registry: _registry,
        git,
        image,
        url,
    }) = fixture("t9", "app9").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let daemon = DaemonUnderTest::start(
        dir.path(),
        &pipeline("app9", &image, &url, "5.0.x", &Automation::new("app9", "app9")),
    );
    assert_eq!(daemon.get("/healthz"), Some((200, "ok".to_owned())));
    assert_eq!(daemon.get("/readyz"), Some((200, "ready".to_owned())));
    wait_for_file(
        &git,
        "t9",
        "main",
        "app.yaml",
        &deployment(&image, "5.0.3", "app9"),
    );

    let ours = ["namespace=\"flux-system\"", "name=\"app9\""];
    let mut metrics = String::new();
    wait_until(PATIENCE, "imagebump_pushes_total to count the push", || {
        metrics = daemon.get("/metrics").map(|(_, body)| body).unwrap_or_default();
        sample(&metrics, "imagebump_pushes_total", &ours) == Some(1.0)
    });
    let scans = sample(
        &metrics,
        "imagebump_scans_total",
        &[ours[0], ours[1], "outcome=\"success\""],
    );
    assert_eq!(scans, Some(1.0), "{metrics}");
    assert!(
        metrics.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF: {metrics}"
    );
}

#[tokio::test]
async fn sigterm_stops_the_daemon_cleanly() {
    let Some(Fixture {
        registry: _registry,
        git,
        image,
        url,
    }) = fixture("t10", "app").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = first_commit(dir.path(), &git, "t10", &image, &url, "app");
    assert!(daemon.socket.exists());

    let (status, took) = daemon.stop();
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(!daemon.socket.exists(), "the control socket is left behind");
    assert!(daemon.log().trim_end().ends_with("stopped"), "{}", daemon.log());
}

/// Runs a repository and a policy on a registry with htpasswd credentials from a Secret,
/// with `--log-format json --log-level debug`, until the policy has selected, then stops the
/// daemon. Returns the log and `user:password`, or `None` when the test is skipped.
async fn json_log_of_an_authenticated_scan() -> Option<(String, String)> {
    let registry = TestRegistry::start(RegistryMode::Basic).await?;
    registry.push("t11/app", &TAGS).await;
    let image = format!("{}/t11/app", registry.host());
    let (user, password) = registry.credentials().expect("basic mode has credentials");
    let mut registry_object = repository("app11", &image, "1h");
    registry_object.push_str("  secretRef:\n    name: regcred\n");
    let files = vec![
        (
            "secret.yaml".to_owned(),
            registry_secret(registry.host(), user, password),
        ),
        ("registry.yaml".to_owned(), registry_object),
        ("policy.yaml".to_owned(), policy("app11", "app11", "5.0.x")),
    ];
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut daemon = DaemonUnderTest::start_with(
        dir.path(),
        &files,
        Settings {
            args: ["--log-format", "json", "--log-level", "debug"]
                .map(str::to_owned)
                .to_vec(),
            ..Settings::default()
        },
    );
    wait_until(PATIENCE, "the policy to select 5.0.3", || {
        daemon.object("policy", "app11")["latest_image"] == format!("{image}:5.0.3")
    });
    let (status, _) = daemon.stop();
    assert!(status.success(), "{status}");
    Some((daemon.log(), format!("{user}:{password}")))
}

/// Every line of a JSON log, parsed (the harness's own marker lines left out).
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter(|l| !l.starts_with("===== "))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The one line saying the scan succeeded (span fields are flattened into it).
fn scan_span(lines: &[Value]) -> &Value {
    let scans: Vec<&Value> = lines
        .iter()
        .filter(|l| l["message"] == "successful scan: found 4 tags")
        .collect();
    assert_eq!(scans.len(), 1, "{lines:#?}");
    scans[0]
}

#[tokio::test]
async fn json_logs_name_their_object_and_never_the_password() {
    let Some((log, credentials)) = json_log_of_an_authenticated_scan().await else {
        return;
    };
    let lines = json_lines(&log);
    let span = scan_span(&lines);
    assert_eq!(span["kind"], "ImageRepository", "{span}");
    assert_eq!(span["namespace"], "flux-system", "{span}");
    assert_eq!(span["name"], "app11", "{span}");

    let (_, password) = credentials.split_once(':').unwrap();
    let basic = base64::engine::general_purpose::STANDARD.encode(&credentials);
    for secret in [password, basic.as_str()] {
        assert!(!log.contains(secret), "the log shows a credential: {log}");
    }
}

#[tokio::test]
async fn text_logs_keep_one_event_per_line() {
    let Some(Fixture {
        registry: _registry,
        git,
        image,
        url,
    }) = fixture("t12", "app").await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let daemon = first_commit(dir.path(), &git, "t12", &image, &url, "app");
    wait_until(PATIENCE, "the push to be logged", || {
        daemon.log().contains("pushed commit")
    });
    let log = daemon.log();
    for line in log.lines().filter(|l| !l.starts_with("===== ")) {
        assert!(
            line.split_whitespace()
                .next()
                .is_some_and(|t| t.starts_with("20") && t.ends_with('Z')),
            "a log line without its timestamp and level: {line:?}\n{log}"
        );
    }
}

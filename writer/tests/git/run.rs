//! Whole automation runs: setters, message template and push against a real remote, and
//! eight automations racing on one branch.

use std::collections::BTreeMap;
use std::time::Duration;

use imagebump_testsupport::{GitServer, GitTransport};
use imagebump_writer::git::{CheckoutRef, GitAuth, Remote, Signature};
use imagebump_writer::run::{Automation, Outcome, run};
use imagebump_writer::template::Template;
use imagebump_writer::{LatestImage, Policies};

const SEED_DEPLOYMENT: &str = "apiVersion: apps/v1
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

fn automation<'a>(
    remote: Remote,
    template: Option<&'a Template>,
    values: &'a BTreeMap<String, String>,
) -> Automation<'a> {
    Automation {
        namespace: "flux-system",
        name: "flux-system",
        remote,
        checkout: CheckoutRef::Branch("main".into()),
        push_branch: "main",
        refspecs: &[],
        push_options: &[],
        update_path: "./clusters/my-cluster",
        author: Signature {
            name: "fluxcdbot".into(),
            email: "fluxcdbot@users.noreply.github.com".into(),
        },
        signing: None,
        template,
        values,
        max_attempts: 10,
    }
}

fn file_remote(url: &str) -> Remote {
    Remote {
        url: url.to_owned(),
        auth: GitAuth::Anonymous,
        ca_pem: None,
        timeout: Duration::from_secs(30),
        proxy: None,
    }
}

fn policies(pairs: &[(&str, &str)]) -> Policies {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), LatestImage::parse(v).expect("reference")))
        .collect()
}

/// The seed document's workflow: the marker in the deployment, the `.Updated.Images` template.
#[tokio::test]
async fn the_seed_automation_pushes_the_new_tag() {
    let Some(server) = GitServer::start(GitTransport::File).await else {
        return;
    };
    let path = "clusters/my-cluster/podinfo-deployment.yaml";
    let url = server.create_repo("fleet", &[(path, SEED_DEPLOYMENT)], "main");
    let template =
        Template::parse("message", "{{range .Updated.Images}}{{println .}}{{end}}").expect("template");
    let values = BTreeMap::new();
    let cache = tempfile::tempdir().expect("cache");
    let auto = automation(file_remote(&url), Some(&template), &values);
    let policies = policies(&[("flux-system:podinfo", "ghcr.io/stefanprodan/podinfo:5.0.3")]);

    let outcome = run(&auto, &policies, cache.path()).expect("run");
    let Outcome::Pushed {
        message, attempts, ..
    } = outcome
    else {
        panic!("expected a push, got {outcome:?}");
    };
    assert_eq!(message, "ghcr.io/stefanprodan/podinfo:5.0.3\n");
    assert_eq!(attempts, 1);
    let written = server
        .read_file("fleet", "main", path)
        .expect("file on the remote");
    assert_eq!(
        written,
        SEED_DEPLOYMENT.replace("5.0.0", "5.0.3"),
        "only the tag's bytes changed"
    );
    assert_eq!(
        server.commit_message("fleet", "main").as_deref(),
        Some("ghcr.io/stefanprodan/podinfo:5.0.3\n")
    );

    // Running again changes nothing: no commit.
    let again = run(&auto, &policies, cache.path()).expect("second run");
    assert!(matches!(again, Outcome::UpToDate { .. }), "{again:?}");
    assert_eq!(server.log("fleet", "main").len(), 2);
}

/// Eight automations, each owning one file, push to one branch at once: every change lands.
#[tokio::test]
async fn eight_concurrent_writers_lose_nothing() {
    let Some(server) = GitServer::start(GitTransport::File).await else {
        return;
    };
    let files: Vec<(String, String)> = (0..8)
        .map(|i| {
            (
                format!("clusters/my-cluster/app-{i}.yaml"),
                format!("image: ghcr.io/org/app-{i}:1.0.0 # {{\"$imagepolicy\": \"flux-system:app-{i}\"}}\n"),
            )
        })
        .collect();
    let seeded: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
    let url = server.create_repo("fleet", &seeded, "main");

    let handles: Vec<_> = (0..8)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let cache = tempfile::tempdir().expect("cache");
                let values = BTreeMap::new();
                let auto = automation(file_remote(&url), None, &values);
                let name = format!("flux-system:app-{i}");
                let image = format!("ghcr.io/org/app-{i}:2.0.0");
                let policies = policies(&[(name.as_str(), image.as_str())]);
                match run(&auto, &policies, cache.path()).expect("run") {
                    Outcome::Pushed { attempts, .. } => attempts,
                    other @ Outcome::UpToDate { .. } => panic!("writer {i}: {other:?}"),
                }
            })
        })
        .collect();
    let attempts: Vec<u32> = handles
        .into_iter()
        .map(|h| h.join().expect("writer thread"))
        .collect();

    for (path, _) in &files {
        let content = server.read_file("fleet", "main", path).expect("file");
        assert!(content.contains(":2.0.0 #"), "{path} lost its update: {content}");
    }
    let log = server.log("fleet", "main");
    assert_eq!(log.len(), 9, "one commit per writer on top of the seed: {log:?}");
    assert!(attempts.iter().sum::<u32>() >= 8, "{attempts:?}");
}

/// V18 as a whole run: a tag checkout pushes to a new branch and records the tag's revision;
/// a same-branch run records the pushed commit.
#[tokio::test]
async fn runs_record_flux_s_observed_source_revision() {
    let Some(server) = GitServer::start(GitTransport::File).await else {
        return;
    };
    let path = "clusters/my-cluster/podinfo-deployment.yaml";
    let url = server.create_repo("fleet", &[(path, SEED_DEPLOYMENT)], "main");
    let seed = server.head("fleet", "main").expect("main");
    let tagged = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(server.repo_path("fleet"))
        .args(["tag", "v1.0.0", &seed])
        .status()
        .expect("git tag");
    assert!(tagged.success());
    let values = BTreeMap::new();
    let policies = policies(&[("flux-system:podinfo", "ghcr.io/stefanprodan/podinfo:5.0.3")]);

    let cache = tempfile::tempdir().expect("cache");
    let mut from_tag = automation(file_remote(&url), None, &values);
    from_tag.checkout = CheckoutRef::Tag("v1.0.0".into());
    from_tag.push_branch = "main2";
    let outcome = run(&from_tag, &policies, cache.path()).expect("run");
    let Outcome::Pushed {
        commit,
        revision,
        branch,
        ..
    } = outcome
    else {
        panic!("expected a push, got {outcome:?}");
    };
    assert_eq!(branch, "main2");
    assert_eq!(server.head("fleet", "main2"), Some(commit));
    assert_eq!(revision, format!("v1.0.0@sha1:{seed}"));
    let again = run(&from_tag, &policies, cache.path()).expect("second run");
    assert!(
        matches!(&again, Outcome::UpToDate { revision, .. } if *revision == format!("v1.0.0@sha1:{seed}")),
        "{again:?}"
    );

    let cache = tempfile::tempdir().expect("cache");
    let in_place = automation(file_remote(&url), None, &values);
    let outcome = run(&in_place, &policies, cache.path()).expect("run");
    let Outcome::Pushed { commit, revision, .. } = outcome else {
        panic!("expected a push, got {outcome:?}");
    };
    assert_eq!(revision, format!("main@sha1:{commit}"));
}

//! Checking out tags, semver ranges, ref names and commits (Flux's V18 and V19): where the push
//! branch starts, and the revision recorded.

use std::path::Path;
use std::process::Command;

use imagebump_testsupport::{GitServer, GitTransport};
use imagebump_writer::git::{CheckoutRef, Error, Repository};

use super::{AFTER, BEFORE, DEPLOY, Fixture, bot, edit, fixture};

/// Runs git on the served bare repository `fleet`, as its owner would.
fn on_server(server: &GitServer, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("--git-dir")
        .arg(server.repo_path("fleet"))
        .args(["-c", "user.name=owner", "-c", "user.email=owner@example.com"])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("running git");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// `fleet` with three commits on `main` (`Initial commit`, `second`, `third`); their ids, oldest
/// first.
async fn history(transport: GitTransport) -> Option<(Fixture, [String; 3])> {
    let fixture = fixture(transport, &[(DEPLOY, BEFORE), ("README.md", "one\n")]).await?;
    let server = &fixture.server;
    let first = server.head("fleet", "main").expect("main");
    server.push_change("fleet", "main", "README.md", "two\n", "second");
    let second = server.head("fleet", "main").expect("main");
    server.push_change("fleet", "main", "README.md", "three\n", "third");
    let third = server.head("fleet", "main").expect("main");
    Some((fixture, [first, second, third]))
}

fn tag(name: &str) -> CheckoutRef {
    CheckoutRef::Tag(name.to_owned())
}

fn commit(sha: &str, branch: Option<&str>) -> CheckoutRef {
    CheckoutRef::Commit {
        sha: sha.to_owned(),
        branch: branch.map(str::to_owned),
    }
}

fn readme(repo: &Repository) -> String {
    std::fs::read_to_string(repo.workdir().join("README.md")).expect("README")
}

/// Applies the update, commits and pushes it to `branch`, as a run does.
fn bump(repo: &Repository, branch: &str, message: &str) -> String {
    edit(repo.workdir(), AFTER);
    let commit = repo.commit(message, &bot()).expect("commit").expect("a change");
    repo.push(branch, &[], &[]).expect("push");
    commit
}

fn is_shallow(dir: &Path) -> bool {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", "--is-shallow-repository"])
        .output()
        .expect("git rev-parse");
    String::from_utf8_lossy(&out.stdout).trim() == "true"
}

/// V18: a checkout by tag pushes to a new branch created from the tag's commit; annotated tags
/// are peeled to their commit.
#[tokio::test]
async fn a_tag_starts_a_new_push_branch_at_its_commit() {
    let Some((fixture, [first, second, _])) = history(GitTransport::File).await else {
        return;
    };
    let (server, repo) = (&fixture.server, &fixture.repo);
    on_server(server, &["tag", "v1.0.0", &first]);
    on_server(server, &["tag", "-a", "-m", "release", "v1.1.0", &second]);

    let checked = repo.checkout(&tag("v1.0.0"), "main2").expect("checkout");
    assert_eq!(checked.commit, first);
    assert!(!checked.push_branch_existed);
    assert_eq!(checked.revision, format!("v1.0.0@sha1:{first}"));
    assert_eq!(readme(repo), "one\n");
    bump(repo, "main2", "bump\n");
    assert_eq!(server.log("fleet", "main2"), ["bump", "Initial commit"]);
    assert_eq!(server.read_file("fleet", "main2", DEPLOY).as_deref(), Some(AFTER));
    assert_eq!(server.log("fleet", "main").len(), 3, "main is untouched");

    let annotated = repo.checkout(&tag("v1.1.0"), "main3").expect("checkout");
    assert_eq!(annotated.commit, second, "the tag object is peeled");
    assert_eq!(annotated.revision, format!("v1.1.0@sha1:{second}"));
    bump(repo, "main3", "bump\n");
    assert_eq!(server.log("fleet", "main3"), ["bump", "second", "Initial commit"]);
}

#[tokio::test]
async fn a_semver_range_starts_from_the_highest_tag_inside_it() {
    let Some((fixture, [first, second, third])) = history(GitTransport::File).await else {
        return;
    };
    let (server, repo) = (&fixture.server, &fixture.repo);
    on_server(server, &["tag", "v1.0.0", &first]);
    on_server(server, &["tag", "-a", "-m", "release", "v1.2.0", &second]);
    on_server(server, &["tag", "v2.0.0", &third]);
    on_server(server, &["tag", "not-a-version", &third]);

    let checked = repo
        .checkout(&CheckoutRef::Semver("1.x".into()), "release-1")
        .expect("checkout");
    assert_eq!(checked.commit, second);
    assert_eq!(checked.revision, format!("v1.2.0@sha1:{second}"));
    bump(repo, "release-1", "bump\n");
    assert_eq!(
        server.log("fleet", "release-1"),
        ["bump", "second", "Initial commit"]
    );
}

#[tokio::test]
async fn a_ref_name_starts_from_what_it_names() {
    let Some((fixture, [first, second, _])) = history(GitTransport::File).await else {
        return;
    };
    let (server, repo) = (&fixture.server, &fixture.repo);
    on_server(server, &["tag", "-a", "-m", "release", "v1.0.0", &first]);
    on_server(server, &["update-ref", "refs/pull/1/head", &second]);

    let by_tag = repo
        .checkout(&CheckoutRef::Name("refs/tags/v1.0.0".into()), "from-tag")
        .expect("checkout");
    assert_eq!(by_tag.commit, first);
    assert_eq!(by_tag.revision, format!("v1.0.0@sha1:{first}"));

    let by_pull = repo
        .checkout(&CheckoutRef::Name("refs/pull/1/head".into()), "from-pull")
        .expect("checkout");
    assert_eq!(by_pull.commit, second);
    assert_eq!(by_pull.revision, format!("1/head@sha1:{second}"));
    bump(repo, "from-pull", "bump\n");
    assert_eq!(
        server.log("fleet", "from-pull"),
        ["bump", "second", "Initial commit"]
    );
}

/// An older commit of `main`: the push branch starts there, not at `main`'s tip.
async fn an_older_commit_starts_the_push_branch(transport: GitTransport) {
    let Some((fixture, [_, second, _])) = history(transport).await else {
        return;
    };
    let (server, repo) = (&fixture.server, &fixture.repo);
    let checked = repo.checkout(&commit(&second, None), "pinned").expect("checkout");
    assert_eq!(checked.commit, second, "{transport:?}");
    assert_eq!(checked.revision, format!("sha1:{second}"));
    assert_eq!(readme(repo), "two\n");
    assert!(
        is_shallow(repo.workdir()),
        "{transport:?}: fetched by id at depth 1, not through the fallback"
    );
    bump(repo, "pinned", "bump\n");
    assert_eq!(
        server.log("fleet", "pinned"),
        ["bump", "second", "Initial commit"]
    );

    let on_main = repo
        .checkout(&commit(&second, Some("main")), "pinned-main")
        .expect("checkout");
    assert_eq!(on_main.commit, second);
    assert_eq!(on_main.revision, format!("main@sha1:{second}"));
}

#[tokio::test]
async fn a_commit_over_file() {
    an_older_commit_starts_the_push_branch(GitTransport::File).await;
}

#[tokio::test]
async fn a_commit_over_smart_http_protocol_v2() {
    an_older_commit_starts_the_push_branch(GitTransport::Http).await;
}

/// A server that will not send a commit by id (protocol v0 without
/// `uploadpack.allowReachableSHA1InWant`): the commit is found in its branch's history.
#[tokio::test]
async fn a_commit_the_server_refuses_by_id_is_found_in_its_branch() {
    let Some((fixture, [first, _, _])) = history(GitTransport::File).await else {
        return;
    };
    let (server, repo) = (&fixture.server, &fixture.repo);
    let local = |args: &[&str]| {
        let status = Command::new("git")
            .arg("-C")
            .arg(repo.workdir())
            .args(args)
            .status()
            .expect("git config");
        assert!(status.success());
    };
    // A shallow clone first, as earlier runs leave it.
    repo.checkout(&CheckoutRef::Branch("main".into()), "main")
        .expect("checkout");
    local(&["config", "protocol.version", "0"]);

    let checked = repo
        .checkout(&commit(&first, Some("main")), "pinned")
        .expect("checkout");
    assert_eq!(checked.commit, first);
    assert_eq!(checked.revision, format!("main@sha1:{first}"));
    bump(repo, "pinned", "bump\n");
    assert_eq!(server.log("fleet", "pinned"), ["bump", "Initial commit"]);

    let missing = "0123456789abcdef0123456789abcdef01234567";
    let err = repo
        .checkout(&commit(missing, None), "pinned-2")
        .expect_err("unknown");
    assert!(
        matches!(err, Error::NoSuchCommit { ref commit, .. } if commit == missing),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains("refused") && text.contains("any branch"), "{text}");
}

/// V19: once the push branch exists, runs start from its tip, whatever the checkout ref: later
/// updates stack on earlier ones, and what the branch holds is never dropped.
#[tokio::test]
async fn an_existing_push_branch_is_where_runs_start() {
    let Some((fixture, [first, second, _])) = history(GitTransport::File).await else {
        return;
    };
    let (server, repo) = (&fixture.server, &fixture.repo);
    on_server(server, &["tag", "v1.0.0", &first]);

    let created = repo.checkout(&tag("v1.0.0"), "updates").expect("checkout");
    assert!(!created.push_branch_existed);
    let pushed = bump(repo, "updates", "first\n");
    // Someone merges main into the push branch.
    server.push_change("fleet", "updates", "NOTES.md", "merged\n", "theirs");
    let theirs = server.head("fleet", "updates").expect("updates");

    let again = repo.checkout(&tag("v1.0.0"), "updates").expect("checkout");
    assert!(again.push_branch_existed);
    assert_eq!(again.commit, theirs, "starts from the push branch's tip");
    assert_eq!(
        again.revision,
        format!("v1.0.0@sha1:{first}"),
        "the revision stays the checkout ref's"
    );
    assert_ne!(again.commit, pushed);
    assert_eq!(
        std::fs::read_to_string(repo.workdir().join(DEPLOY)).expect("read"),
        AFTER,
        "the earlier update is kept"
    );
    edit(repo.workdir(), &AFTER.replace("1.1.0", "1.2.0"));
    repo.commit("second update\n", &bot()).expect("commit");
    repo.push("updates", &[], &[]).expect("push");
    assert_eq!(
        server.log("fleet", "updates"),
        ["second update", "theirs", "first", "Initial commit"]
    );

    // A commit checkout behaves the same, and still proves the commit exists.
    let by_commit = repo
        .checkout(&commit(&second, None), "updates")
        .expect("checkout");
    assert!(by_commit.push_branch_existed);
    assert_eq!(
        by_commit.commit,
        server.head("fleet", "updates").expect("updates")
    );
    assert_eq!(by_commit.revision, format!("sha1:{second}"));
}

#[tokio::test]
async fn refs_that_do_not_exist_are_named() {
    let Some((fixture, [first, _, _])) = history(GitTransport::File).await else {
        return;
    };
    let (server, repo) = (&fixture.server, &fixture.repo);
    on_server(server, &["tag", "v1.0.0", &first]);

    let err = repo.checkout(&tag("v9.9.9"), "out").expect_err("no such tag");
    assert_eq!(err, Error::NoSuchTag("v9.9.9".into()));
    assert_eq!(err.to_string(), "tag \"v9.9.9\" does not exist on the remote");
    assert!(!err.is_transient());

    let err = repo
        .checkout(&CheckoutRef::Semver(">=2.0.0".into()), "out")
        .expect_err("no tag in range");
    assert_eq!(err.to_string(), "no tag matches semver range \">=2.0.0\"");

    let err = repo
        .checkout(&CheckoutRef::Semver("not a range".into()), "out")
        .expect_err("bad range");
    assert!(matches!(err, Error::InvalidSemver(_)), "{err:?}");
    assert!(err.to_string().contains("not a range"), "{err}");

    let err = repo
        .checkout(&CheckoutRef::Name("refs/pull/7/head".into()), "out")
        .expect_err("no such ref");
    assert_eq!(
        err.to_string(),
        "ref \"refs/pull/7/head\" does not exist on the remote"
    );

    let missing = "0123456789abcdef0123456789abcdef01234567";
    let err = repo
        .checkout(&commit(missing, None), "out")
        .expect_err("no such commit");
    assert!(err.to_string().contains(missing), "{err}");
    assert!(!err.is_transient(), "{err:?}");

    assert!(matches!(
        repo.checkout(&commit("abc1234", None), "out"),
        Err(Error::InvalidCommit(_))
    ));
    assert!(matches!(
        repo.checkout(&tag("--upload-pack=touch /tmp/x"), "out"),
        Err(Error::InvalidRef(_))
    ));
    assert_eq!(server.log("fleet", "out"), Vec::<String>::new(), "nothing pushed");
}

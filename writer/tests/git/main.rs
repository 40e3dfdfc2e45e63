//! The writer's git operations against real remotes on loopback: `file://`, smart HTTP and
//! HTTPS (lighttpd + git-http-backend, basic auth) and SSH (sshd, host key checked).

mod checkout;
mod run;
mod signing;

use std::path::Path;
use std::time::Duration;

use imagebump_testsupport::{GitServer, GitTransport};
use imagebump_writer::git::{CheckoutRef, Error, GitAuth, Proxy, Remote, Repository, Signature};

const DEPLOY: &str = "apps/deploy.yaml";
const BEFORE: &str = "image: ghcr.io/org/app:1.0.0 # {\"$imagepolicy\": \"flux-system:app\"}\n";
const AFTER: &str = "image: ghcr.io/org/app:1.1.0 # {\"$imagepolicy\": \"flux-system:app\"}\n";

fn remote(server: &GitServer, url: &str) -> Remote {
    let auth = match server.transport() {
        GitTransport::Http | GitTransport::Https => {
            let (username, password) = server.credentials().expect("http has credentials");
            GitAuth::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            }
        }
        GitTransport::Ssh => GitAuth::Ssh {
            identity: server.ssh_identity_pem().expect("ssh identity").to_owned(),
            known_hosts: server.known_hosts().expect("known_hosts"),
        },
        GitTransport::File => GitAuth::Anonymous,
    };
    Remote {
        url: url.to_owned(),
        auth,
        ca_pem: server.ca_pem(),
        timeout: Duration::from_secs(30),
        proxy: None,
    }
}

/// A served bare repository `fleet` seeded with `files` on `main`, and a writer clone of it in a
/// fresh cache directory. `None` when the server's programs are missing (and `CI` is unset).
struct Fixture {
    server: GitServer,
    _cache: tempfile::TempDir,
    repo: Repository,
}

async fn fixture(transport: GitTransport, files: &[(&str, &str)]) -> Option<Fixture> {
    let server = GitServer::start(transport).await?;
    let url = server.create_repo("fleet", files, "main");
    let cache = tempfile::tempdir().expect("cache dir");
    let repo = Repository::open(cache.path(), remote(&server, &url)).expect("open");
    Some(Fixture {
        server,
        _cache: cache,
        repo,
    })
}

fn branch(name: &str) -> CheckoutRef {
    CheckoutRef::Branch(name.to_owned())
}

fn bot() -> Signature {
    Signature {
        name: "imagebump".into(),
        email: "imagebump@example.com".into(),
    }
}

fn edit(workdir: &Path, content: &str) {
    std::fs::write(workdir.join(DEPLOY), content).expect("editing the working tree");
}

async fn round_trip(transport: GitTransport) {
    let Some(fixture) = fixture(transport, &[(DEPLOY, BEFORE)]).await else {
        return;
    };
    // Held whole: dropping the fixture stops the server and removes the clone.
    let (server, repo) = (&fixture.server, &fixture.repo);
    let checked = repo.checkout(&branch("main"), "main").expect("checkout");
    assert_eq!(
        Some(checked.commit.clone()),
        server.head("fleet", "main"),
        "{transport:?}"
    );
    edit(repo.workdir(), AFTER);
    let commit = repo
        .commit("Update app to 1.1.0\n", &bot())
        .expect("commit")
        .expect("a change");
    let pushed = repo
        .push("main", &[], &[])
        .unwrap_or_else(|e| panic!("{transport:?}: {e}"));
    assert_eq!(pushed.commit, commit);
    assert_eq!(server.head("fleet", "main"), Some(commit), "{transport:?}");
    assert_eq!(server.read_file("fleet", "main", DEPLOY).as_deref(), Some(AFTER));
    assert_eq!(
        server.commit_message("fleet", "main").as_deref(),
        Some("Update app to 1.1.0\n")
    );
    assert_eq!(
        server.commit_author("fleet", "main"),
        Some(("imagebump".into(), "imagebump@example.com".into()))
    );
}

#[tokio::test]
async fn push_over_file() {
    round_trip(GitTransport::File).await;
}

#[tokio::test]
async fn push_over_http_with_basic_auth() {
    round_trip(GitTransport::Http).await;
}

#[tokio::test]
async fn push_over_https_with_a_ca() {
    round_trip(GitTransport::Https).await;
}

#[tokio::test]
async fn push_over_ssh_with_host_key_checking() {
    round_trip(GitTransport::Ssh).await;
}

#[tokio::test]
async fn a_push_branch_is_created_from_the_checkout_branch_then_reused() {
    let Some(fixture) = fixture(GitTransport::File, &[(DEPLOY, BEFORE)]).await else {
        return;
    };
    // Held whole: dropping the fixture stops the server and removes the clone.
    let (server, repo) = (&fixture.server, &fixture.repo);
    let main_before = server.head("fleet", "main");

    let first = repo.checkout(&branch("main"), "image-updates").expect("checkout");
    assert!(!first.push_branch_existed);
    edit(repo.workdir(), AFTER);
    repo.commit("first\n", &bot()).expect("commit");
    repo.push("image-updates", &[], &[])
        .expect("push creates the branch");
    assert_eq!(server.head("fleet", "main"), main_before, "main is untouched");
    assert_eq!(server.log("fleet", "image-updates"), ["first", "Initial commit"]);

    // The next run starts from the push branch, so earlier updates are kept (Flux #205).
    let second = repo.checkout(&branch("main"), "image-updates").expect("checkout");
    assert!(second.push_branch_existed);
    assert_eq!(
        std::fs::read_to_string(repo.workdir().join(DEPLOY)).expect("read"),
        AFTER
    );
    edit(repo.workdir(), &AFTER.replace("1.1.0", "1.2.0"));
    repo.commit("second\n", &bot()).expect("commit");
    repo.push("image-updates", &[], &[]).expect("push");
    assert_eq!(
        server.log("fleet", "image-updates"),
        ["second", "first", "Initial commit"]
    );
}

#[tokio::test]
async fn nothing_to_commit_is_not_a_commit() {
    let Some(fixture) = fixture(GitTransport::File, &[(DEPLOY, BEFORE)]).await else {
        return;
    };
    // Held whole: dropping the fixture stops the server and removes the clone.
    let repo = &fixture.repo;
    repo.checkout(&branch("main"), "main").expect("checkout");
    assert_eq!(repo.commit("nothing\n", &bot()).expect("commit"), None);
}

#[tokio::test]
async fn a_rejected_push_is_reported_and_a_retry_lands_both_changes() {
    let Some(fixture) = fixture(GitTransport::File, &[(DEPLOY, BEFORE), ("README.md", "hello\n")]).await
    else {
        return;
    };
    let (server, repo) = (&fixture.server, &fixture.repo);
    repo.checkout(&branch("main"), "main").expect("checkout");
    edit(repo.workdir(), AFTER);
    repo.commit("ours\n", &bot()).expect("commit");

    server.push_change("fleet", "main", "README.md", "hello again\n", "theirs");
    let err = repo.push("main", &[], &[]).expect_err("the branch moved");
    assert_eq!(
        err,
        Error::Rejected {
            branch: "main".into()
        }
    );
    assert!(err.is_transient());

    // What the writer does next: check out the new tip, apply again, commit, push.
    repo.checkout(&branch("main"), "main").expect("checkout");
    edit(repo.workdir(), AFTER);
    repo.commit("ours\n", &bot()).expect("commit");
    repo.push("main", &[], &[]).expect("push after re-applying");
    assert_eq!(server.log("fleet", "main"), ["ours", "theirs", "Initial commit"]);
    assert_eq!(
        server.read_file("fleet", "main", "README.md").as_deref(),
        Some("hello again\n")
    );
    assert_eq!(server.read_file("fleet", "main", DEPLOY).as_deref(), Some(AFTER));
}

#[tokio::test]
async fn wrong_credentials_fail_without_showing_them() {
    let Some(server) = GitServer::start(GitTransport::Http).await else {
        return;
    };
    let url = server.create_repo("fleet", &[(DEPLOY, BEFORE)], "main");
    let cache = tempfile::tempdir().expect("cache dir");
    let mut remote = remote(&server, &url);
    remote.auth = GitAuth::Basic {
        username: "testuser".into(),
        password: "hunter2-wrong".into(),
    };
    let repo = Repository::open(cache.path(), remote).expect("open");
    let err = repo.checkout(&branch("main"), "main").expect_err("refused");
    let text = format!("{err} {err:?}");
    assert!(text.contains("ls-remote"), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
}

#[tokio::test]
async fn a_missing_checkout_branch_is_named() {
    let Some(fixture) = fixture(GitTransport::File, &[(DEPLOY, BEFORE)]).await else {
        return;
    };
    // Held whole: dropping the fixture stops the server and removes the clone.
    let repo = &fixture.repo;
    assert_eq!(
        repo.checkout(&branch("develop"), "develop"),
        Err(Error::NoSuchBranch("develop".into()))
    );
}

/// Flux's V18: a refspec pushes the same commit to a second ref.
#[tokio::test]
async fn refspecs_push_the_commit_to_more_refs() {
    let Some(fixture) = fixture(GitTransport::File, &[(DEPLOY, BEFORE)]).await else {
        return;
    };
    // Held whole: dropping the fixture stops the server and removes the clone.
    let (server, repo) = (&fixture.server, &fixture.repo);
    repo.checkout(&branch("main"), "main").expect("checkout");
    edit(repo.workdir(), AFTER);
    let commit = repo.commit("bump\n", &bot()).expect("commit").expect("a change");
    repo.push("main", &["refs/heads/main:refs/heads/smth/else".to_owned()], &[])
        .expect("push with a refspec");
    assert_eq!(server.head("fleet", "main"), Some(commit.clone()));
    assert_eq!(server.head("fleet", "smth/else"), Some(commit));
}

#[tokio::test]
async fn names_that_look_like_options_are_refused() {
    let Some(fixture) = fixture(GitTransport::File, &[(DEPLOY, BEFORE)]).await else {
        return;
    };
    // Held whole: dropping the fixture stops the server and removes the clone.
    let repo = &fixture.repo;
    assert!(matches!(
        repo.checkout(&branch("--upload-pack=touch /tmp/x"), "main"),
        Err(Error::InvalidRef(_))
    ));
    assert!(matches!(
        repo.checkout(&branch("main"), "a..b"),
        Err(Error::InvalidRef(_))
    ));
    repo.checkout(&branch("main"), "main").expect("checkout");
    let refspecs = ["--receive-pack=touch /tmp/x".to_owned()];
    assert!(matches!(
        repo.push("main", &refspecs, &[]),
        Err(Error::InvalidRef(_))
    ));
}

#[tokio::test]
async fn push_over_https_through_an_authenticating_proxy() {
    let Some(server) = GitServer::start(GitTransport::Https).await else {
        return;
    };
    let proxy = imagebump_testsupport::TestProxy::with_credentials("bot", "pr0xy:p@ss");
    let url = server.create_repo("fleet", &[(DEPLOY, BEFORE)], "main");
    let cache = tempfile::tempdir().expect("cache dir");
    let mut through_proxy = remote(&server, &url);
    through_proxy.proxy = Some(Proxy {
        address: proxy.url(),
        credentials: Some(("bot".to_owned(), "pr0xy:p@ss".to_owned())),
    });
    let repo = Repository::open(cache.path(), through_proxy.clone()).expect("open");
    repo.checkout(&branch("main"), "main")
        .expect("checkout through the proxy");
    edit(repo.workdir(), AFTER);
    repo.commit("Update app to 1.1.0\n", &bot()).expect("commit");
    repo.push("main", &[], &[]).expect("push through the proxy");
    assert_eq!(server.read_file("fleet", "main", DEPLOY).as_deref(), Some(AFTER));
    assert!(
        proxy.tunnels() >= 2,
        "fetch and push both went through CONNECT: {proxy:?}"
    );
    assert!(
        format!("{through_proxy:?}").contains("Proxy") && !format!("{through_proxy:?}").contains("p@ss"),
        "Debug never shows the proxy password"
    );

    // A wrong proxy password fails without showing it, in either spelling.
    through_proxy.proxy = Some(Proxy {
        address: proxy.url(),
        credentials: Some(("bot".to_owned(), "wr0ng:p@ss".to_owned())),
    });
    let cache = tempfile::tempdir().expect("cache dir");
    let repo = Repository::open(cache.path(), through_proxy).expect("open");
    let error = repo
        .checkout(&branch("main"), "main")
        .expect_err("the proxy refuses");
    let shown = error.to_string();
    assert!(
        !shown.contains("wr0ng") && !shown.contains("wr0ng%3Ap%40ss"),
        "{shown}"
    );
    assert!(proxy.refused() >= 1, "{proxy:?}");
}

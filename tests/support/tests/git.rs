//! Tests of the git remotes: each transport takes a clone, a commit and a push from the `git`
//! CLI configured only by `git_env()`; HTTP refuses requests without credentials; SSH checks
//! the host key and the client key; the assertion helpers read the bare repositories.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use imagebump_testsupport::{GitServer, GitTransport, require};
use reqwest::StatusCode;
use reqwest::header::WWW_AUTHENTICATE;

const DEPLOY: &str = "apps/deploy.yaml";
const DEPLOY_V1: &str = "image: 127.0.0.1:5000/team/app:1.0.0 # {\"$imagepolicy\": \"flux-system:app\"}\n";
const DEPLOY_V2: &str = "image: 127.0.0.1:5000/team/app:1.1.0 # {\"$imagepolicy\": \"flux-system:app\"}\n";
const SEED_AUTHOR: (&str, &str) = ("imagebump-testsupport", "testsupport@imagebump.test");

/// Runs `git args…` in `dir` with `env` (and nothing from the user's or system's git
/// configuration).
fn git(dir: &Path, env: &[(String, String)], args: &[&str]) -> Output {
    Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("running git")
}

/// [`git`], asserting success; returns stdout.
fn git_ok(dir: &Path, env: &[(String, String)], args: &[&str]) -> String {
    let output = git(dir, env, args);
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("git prints UTF-8 here")
}

/// [`git`], asserting failure; returns stderr.
fn git_fails(dir: &Path, env: &[(String, String)], args: &[&str]) -> String {
    let output = git(dir, env, args);
    assert!(!output.status.success(), "git {args:?} succeeded");
    String::from_utf8(output.stderr).expect("git prints UTF-8 here")
}

/// `args` after `-c user.name=Flux Bot -c user.email=bot@example.com`.
fn as_bot<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut all = vec!["-c", "user.name=Flux Bot", "-c", "user.email=bot@example.com"];
    all.extend_from_slice(args);
    all
}

/// Clone, commit, push and a rejected push against a server of `transport`.
async fn round_trip(transport: GitTransport) {
    let Some(server) = GitServer::start(transport).await else {
        return;
    };
    let url = server.create_repo("fleet", &[(DEPLOY, DEPLOY_V1), ("README.md", "fleet\n")], "main");
    assert_eq!(url, server.url("fleet"));
    let seed = server.head("fleet", "main").expect("the seed commit is on main");
    assert_eq!(seed.len(), 40, "{seed}");
    assert_eq!(
        server.read_file("fleet", "main", DEPLOY).as_deref(),
        Some(DEPLOY_V1)
    );
    assert_eq!(server.log("fleet", "main"), ["Initial commit"]);
    assert_eq!(
        server.commit_author("fleet", "main"),
        Some((SEED_AUTHOR.0.to_owned(), SEED_AUTHOR.1.to_owned()))
    );

    let env = server.git_env();
    let work = tempfile::tempdir().expect("a temporary directory");
    let clone = work.path().join("clone");
    git_ok(work.path(), &env, &["clone", "-q", &url, "clone"]);
    let cloned = std::fs::read_to_string(clone.join(DEPLOY)).expect("the clone has the file");
    assert_eq!(cloned, DEPLOY_V1);
    assert_eq!(git_ok(&clone, &env, &["rev-parse", "HEAD"]).trim(), seed);

    std::fs::write(clone.join(DEPLOY), DEPLOY_V2).expect("writing into the clone");
    let message = "Update app to 1.1.0\n\nteam/app: 1.0.0 -> 1.1.0";
    git_ok(&clone, &env, &as_bot(&["commit", "-q", "-am", message]));
    git_ok(&clone, &env, &["push", "-q", "origin", "main"]);
    let pushed = git_ok(&clone, &env, &["rev-parse", "HEAD"]);
    assert_eq!(server.head("fleet", "main").as_deref(), Some(pushed.trim()));
    assert_eq!(
        server.read_file("fleet", "main", DEPLOY).as_deref(),
        Some(DEPLOY_V2)
    );
    assert_eq!(
        server.log("fleet", "main"),
        ["Update app to 1.1.0", "Initial commit"]
    );
    assert_eq!(
        server.commit_message("fleet", "main").as_deref(),
        Some("Update app to 1.1.0\n\nteam/app: 1.0.0 -> 1.1.0\n")
    );
    assert_eq!(
        server.commit_author("fleet", "main"),
        Some(("Flux Bot".to_owned(), "bot@example.com".to_owned()))
    );

    // Someone else pushes first: the clone's next push is not a fast-forward.
    server.push_change("fleet", "main", "README.md", "fleet, edited\n", "Edit README");
    assert_eq!(server.log("fleet", "main")[0], "Edit README");
    git_ok(
        &clone,
        &env,
        &as_bot(&["commit", "-q", "--allow-empty", "-m", "late"]),
    );
    let stderr = git_fails(&clone, &env, &["push", "origin", "main"]);
    assert!(stderr.contains("[rejected]"), "{stderr}");
    assert_eq!(server.log("fleet", "main")[0], "Edit README");

    // Fetch and push again over the same transport: a push to a new branch works too.
    git_ok(
        &clone,
        &env,
        &as_bot(&["pull", "-q", "--rebase", "origin", "main"]),
    );
    git_ok(
        &clone,
        &env,
        &["push", "-q", "origin", "main", "HEAD:refs/heads/update"],
    );
    assert_eq!(server.log("fleet", "update")[..2], ["late", "Edit README"]);
    assert_eq!(server.head("fleet", "update"), server.head("fleet", "main"));
}

#[tokio::test]
async fn file_round_trip() {
    round_trip(GitTransport::File).await;
}

#[tokio::test]
async fn http_round_trip() {
    round_trip(GitTransport::Http).await;
}

#[tokio::test]
async fn https_round_trip() {
    round_trip(GitTransport::Https).await;
}

#[tokio::test]
async fn ssh_round_trip() {
    round_trip(GitTransport::Ssh).await;
}

#[tokio::test]
async fn urls_and_accessors_fit_the_transport() {
    let Some(file) = GitServer::start(GitTransport::File).await else {
        return;
    };
    let repos = file.dir().join("repos");
    assert_eq!(file.url("a/b"), format!("file://{}/a/b.git", repos.display()));
    assert_eq!(file.repo_path("a/b"), repos.join("a/b.git"));
    assert_eq!(file.port(), None);
    assert_eq!(file.credentials(), None);
    assert_eq!(file.ca_pem(), None);
    assert_eq!(file.known_hosts(), None);
    assert_eq!(file.ssh_identity_pem(), None);
    assert_eq!(file.server_log(), None);
    assert_eq!(
        file.git_env(),
        [("GIT_TERMINAL_PROMPT".to_owned(), "0".to_owned())]
    );

    let Some(https) = GitServer::start(GitTransport::Https).await else {
        return;
    };
    let port = https.port().unwrap();
    assert_eq!(
        https.url("fleet"),
        format!("https://localhost:{port}/git/fleet.git")
    );
    assert_eq!(https.credentials(), Some(("testuser", "testpass")));
    let ca = https.ca_path().unwrap();
    assert!(
        String::from_utf8(https.ca_pem().unwrap())
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let env = https.git_env();
    let get = |key: &str| env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    assert_eq!(get("GIT_SSL_CAINFO"), ca.to_str());
    assert_eq!(get("GIT_CONFIG_COUNT"), Some("2"));
    assert_eq!(
        get("GIT_CONFIG_KEY_0"),
        Some(format!("http.https://localhost:{port}/.extraHeader").as_str())
    );
    assert_eq!(
        get("GIT_CONFIG_VALUE_0"),
        Some("Authorization: Basic dGVzdHVzZXI6dGVzdHBhc3M=")
    );

    let Some(ssh) = GitServer::start(GitTransport::Ssh).await else {
        return;
    };
    let port = ssh.port().unwrap();
    let ssh_repos = ssh.dir().join("repos");
    let url = ssh.url("fleet");
    assert!(
        url.starts_with("ssh://") && url.contains(&format!("@127.0.0.1:{port}/")),
        "{url}"
    );
    assert!(
        url.ends_with(&format!("{}/fleet.git", ssh_repos.display())),
        "{url}"
    );
    let known_hosts = ssh.known_hosts().unwrap();
    assert!(
        known_hosts.starts_with(&format!("[127.0.0.1]:{port} ssh-ed25519 AAAA")),
        "{known_hosts}"
    );
    assert_eq!(known_hosts.lines().count(), 1);
    assert_eq!(
        std::fs::read_to_string(ssh.known_hosts_path().unwrap()).unwrap(),
        known_hosts
    );
    let identity = ssh.ssh_identity_pem().unwrap();
    assert!(
        identity.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"),
        "{identity}"
    );
    assert_eq!(
        std::fs::read_to_string(ssh.ssh_identity_path().unwrap()).unwrap(),
        identity
    );
    assert_eq!(ssh.credentials(), None);
    assert!(
        ssh.server_log()
            .unwrap()
            .contains("Server listening on 127.0.0.1")
    );
}

#[tokio::test]
async fn http_without_credentials_is_refused() {
    for transport in [GitTransport::Http, GitTransport::Https] {
        let Some(server) = GitServer::start(transport).await else {
            return;
        };
        let url = server.create_repo("fleet", &[(DEPLOY, DEPLOY_V1)], "main");
        let client = server.http_client();
        let (user, password) = server.credentials().unwrap();
        for service in ["git-upload-pack", "git-receive-pack"] {
            let refs = format!("{url}/info/refs?service={service}");
            let anonymous = client.get(&refs).send().await.unwrap();
            assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{refs}");
            let challenge = anonymous.headers()[WWW_AUTHENTICATE].to_str().unwrap();
            assert!(challenge.starts_with("Basic realm=\"git\""), "{challenge}");
            let wrong = client
                .get(&refs)
                .basic_auth(user, Some("wrong"))
                .send()
                .await
                .unwrap();
            assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{refs}");
            let right = client
                .get(&refs)
                .basic_auth(user, Some(password))
                .send()
                .await
                .unwrap();
            assert_eq!(right.status(), StatusCode::OK, "{refs}");
            let body = right.text().await.unwrap();
            assert!(body.contains(&format!("# service={service}")), "{body}");
        }

        // The git CLI with only the CA (no credentials) is refused and does not prompt.
        let work = tempfile::tempdir().unwrap();
        let mut env: Vec<(String, String)> = vec![("GIT_TERMINAL_PROMPT".into(), "0".into())];
        if let Some(ca) = server.ca_path() {
            env.push(("GIT_SSL_CAINFO".into(), ca.display().to_string()));
        }
        let stderr = git_fails(work.path(), &env, &["ls-remote", &url]);
        assert!(
            stderr.contains("could not read Username") || stderr.contains("Authentication failed"),
            "{stderr}"
        );
        git_ok(work.path(), &server.git_env(), &["ls-remote", &url]);
    }
}

#[tokio::test]
async fn https_needs_the_test_ca() {
    let Some(server) = GitServer::start(GitTransport::Https).await else {
        return;
    };
    let url = server.create_repo("fleet", &[(DEPLOY, DEPLOY_V1)], "main");
    let work = tempfile::tempdir().unwrap();
    // The credentials without the CA: the system bundle does not know the test CA.
    let env: Vec<(String, String)> = server
        .git_env()
        .into_iter()
        .filter(|(k, v)| k != "GIT_SSL_CAINFO" && !v.ends_with("/.sslCAInfo"))
        .map(|(k, v)| {
            if k == "GIT_CONFIG_COUNT" {
                (k, "1".to_owned())
            } else {
                (k, v)
            }
        })
        .chain([(
            "GIT_SSL_CAINFO".to_owned(),
            "/etc/ssl/certs/ca-certificates.crt".to_owned(),
        )])
        .collect();
    let stderr = git_fails(work.path(), &env, &["ls-remote", &url]);
    assert!(stderr.contains("certificate"), "{stderr}");
    // `GIT_SSL_CAINFO` wins over `http.sslCAInfo`: git_env() sets both.
    let config_only: Vec<(String, String)> = server
        .git_env()
        .into_iter()
        .map(|(k, v)| {
            if k == "GIT_SSL_CAINFO" {
                (k, "/etc/ssl/certs/ca-certificates.crt".to_owned())
            } else {
                (k, v)
            }
        })
        .collect();
    let stderr = git_fails(work.path(), &config_only, &["ls-remote", &url]);
    assert!(stderr.contains("certificate"), "{stderr}");
    let refs = git_ok(work.path(), &server.git_env(), &["ls-remote", &url]);
    assert!(refs.contains("refs/heads/main"), "{refs}");
}

/// `GIT_SSH_COMMAND` for the server's key (or `identity`) and `known_hosts`.
fn ssh_env(identity: &Path, known_hosts: &Path) -> Vec<(String, String)> {
    vec![
        ("GIT_TERMINAL_PROMPT".to_owned(), "0".to_owned()),
        (
            "GIT_SSH_COMMAND".to_owned(),
            format!(
                "ssh -F /dev/null -i '{}' -o IdentitiesOnly=yes -o UserKnownHostsFile='{}' \
                 -o StrictHostKeyChecking=yes -o BatchMode=yes",
                identity.display(),
                known_hosts.display()
            ),
        ),
    ]
}

/// Makes an ed25519 key pair at `path` (and `path.pub`).
fn ssh_keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("running ssh-keygen");
    assert!(status.success());
}

#[tokio::test]
async fn ssh_checks_the_host_key_and_the_client_key() {
    let Some(server) = GitServer::start(GitTransport::Ssh).await else {
        return;
    };
    let url = server.create_repo("fleet", &[(DEPLOY, DEPLOY_V1)], "main");
    let work = tempfile::tempdir().unwrap();
    let other_key = work.path().join("other_ed25519");
    ssh_keygen(&other_key);
    let identity = server.ssh_identity_path().unwrap();
    let known_hosts = server.known_hosts_path().unwrap();

    // A known_hosts entry for the server's address with another key.
    let port = server.port().unwrap();
    let other_public = std::fs::read_to_string(other_key.with_extension("pub")).unwrap();
    let other_public: Vec<&str> = other_public.split_whitespace().take(2).collect();
    let wrong_known_hosts = work.path().join("known_hosts_wrong");
    std::fs::write(
        &wrong_known_hosts,
        format!("[127.0.0.1]:{port} {}\n", other_public.join(" ")),
    )
    .unwrap();
    let stderr = git_fails(
        work.path(),
        &ssh_env(identity, &wrong_known_hosts),
        &["ls-remote", &url],
    );
    assert!(
        stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
        "{stderr}"
    );
    assert!(stderr.contains("Host key verification failed"), "{stderr}");

    // No entry at all.
    let empty_known_hosts = work.path().join("known_hosts_empty");
    std::fs::write(&empty_known_hosts, "").unwrap();
    let stderr = git_fails(
        work.path(),
        &ssh_env(identity, &empty_known_hosts),
        &["ls-remote", &url],
    );
    assert!(stderr.contains("Host key verification failed"), "{stderr}");

    // The right host key but another client key.
    let stderr = git_fails(
        work.path(),
        &ssh_env(&other_key, known_hosts),
        &["ls-remote", &url],
    );
    assert!(stderr.contains("Permission denied (publickey)"), "{stderr}");

    let refs = git_ok(work.path(), &ssh_env(identity, known_hosts), &["ls-remote", &url]);
    assert!(refs.contains("refs/heads/main"), "{refs}");
}

#[tokio::test]
async fn helpers_read_the_bare_repository() {
    let Some(server) = GitServer::start(GitTransport::File).await else {
        return;
    };
    let _ = server.create_repo(
        "team/fleet",
        &[("a/b/c.yaml", "c: 1\n"), ("top.txt", "top\n")],
        "trunk",
    );
    assert_eq!(
        server.read_file("team/fleet", "trunk", "a/b/c.yaml").as_deref(),
        Some("c: 1\n")
    );
    assert_eq!(server.read_file("team/fleet", "trunk", "missing"), None);
    assert_eq!(
        server.read_file("team/fleet", "trunk", "a/b"),
        None,
        "a directory is not a file"
    );
    assert_eq!(server.read_file("team/fleet", "main", "top.txt"), None);
    assert_eq!(server.read_file("nope", "trunk", "top.txt"), None);
    assert_eq!(server.head("team/fleet", "main"), None);
    assert_eq!(server.head("nope", "trunk"), None);
    assert!(server.log("team/fleet", "main").is_empty());
    assert_eq!(server.commit_message("team/fleet", "main"), None);
    assert_eq!(server.commit_author("team/fleet", "main"), None);
    assert_eq!(
        server.commit_message("team/fleet", "trunk").as_deref(),
        Some("Initial commit\n")
    );

    // The bare repository's HEAD names the seeded branch, so a plain clone checks it out.
    let head_ref = std::fs::read_to_string(server.repo_path("team/fleet").join("HEAD")).unwrap();
    assert_eq!(head_ref, "ref: refs/heads/trunk\n");

    // push_change on an existing branch, then on a new one (made from HEAD).
    let before = server.head("team/fleet", "trunk").unwrap();
    server.push_change("team/fleet", "trunk", "a/b/c.yaml", "c: 2\n", "Bump c\n\nto 2");
    assert_ne!(server.head("team/fleet", "trunk").unwrap(), before);
    assert_eq!(
        server.read_file("team/fleet", "trunk", "a/b/c.yaml").as_deref(),
        Some("c: 2\n")
    );
    assert_eq!(
        server.commit_message("team/fleet", "trunk").as_deref(),
        Some("Bump c\n\nto 2\n")
    );
    assert_eq!(
        server.commit_author("team/fleet", "trunk"),
        Some((SEED_AUTHOR.0.to_owned(), SEED_AUTHOR.1.to_owned()))
    );
    server.push_change("team/fleet", "feature", "new/file.txt", "new\n", "Add file");
    assert_eq!(
        server.log("team/fleet", "feature"),
        ["Add file", "Bump c", "Initial commit"]
    );
    assert_eq!(
        server.read_file("team/fleet", "feature", "top.txt").as_deref(),
        Some("top\n")
    );
    assert_eq!(server.log("team/fleet", "trunk"), ["Bump c", "Initial commit"]);
}

#[tokio::test]
async fn dropping_the_server_stops_it() {
    for transport in [GitTransport::Http, GitTransport::Ssh] {
        let Some(server) = GitServer::start(transport).await else {
            return;
        };
        let port = server.port().unwrap();
        let dir = server.dir().to_path_buf();
        assert!(TcpStream::connect(("127.0.0.1", port)).is_ok());
        drop(server);
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "{transport:?} still listens"
        );
        assert!(!dir.exists());
    }
}

#[test]
fn require_finds_git() {
    assert!(require("git"));
}

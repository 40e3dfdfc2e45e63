//! Signed commits (Flux's `spec.git.commit.signingKey`): keys made here with the real `gpg` and
//! `ssh-keygen`, commits pushed to a `file://` remote and checked there with `git
//! verify-commit`; key and passphrase problems are named without showing either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use imagebump_testsupport::{GitServer, GitTransport, require};
use imagebump_writer::git::{CheckoutRef, Error, GitAuth, Remote, Repository, SigningError, SigningKey};
use imagebump_writer::run::{Automation, Outcome, run};
use imagebump_writer::{LatestImage, Policies};

use super::{AFTER, BEFORE, DEPLOY, bot, edit};

const SIGNER: &str = "imagebump signer <signer@example.com>";
const PASSPHRASE: &str = "correct horse battery staple";

/// A throwaway `GNUPGHOME` that stops its agent when dropped.
struct GpgHome {
    dir: tempfile::TempDir,
}

impl GpgHome {
    fn new() -> GpgHome {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("gpg home");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
        GpgHome { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `gpg ARGS` in this home (batch, loopback pinentry), `input` on stdin; panics on failure.
    fn gpg(&self, args: &[&str], input: &[u8]) -> String {
        let output = self.try_gpg(args, input);
        assert!(
            output.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    }

    fn try_gpg(&self, args: &[&str], input: &[u8]) -> Output {
        let mut command = Command::new("gpg");
        command
            .arg("--homedir")
            .arg(self.path())
            .args(["--batch", "--pinentry-mode", "loopback"])
            .args(args);
        run_with_input(&mut command, input)
    }

    /// Generates a signing key for `uid` protected by `passphrase` (none when empty); returns
    /// its fingerprint.
    fn generate(&self, uid: &str, passphrase: &str) -> String {
        self.gpg(
            &[
                "--passphrase",
                passphrase,
                "--quick-gen-key",
                uid,
                "ed25519",
                "sign",
                "never",
            ],
            b"",
        );
        let listing = self.gpg(&["--with-colons", "--list-secret-keys", uid], b"");
        listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').nth(8))
            .expect("a fingerprint")
            .to_owned()
    }

    /// Every secret key of this home, armored.
    fn export_secret(&self, passphrase: &str) -> String {
        self.gpg(
            &["--passphrase", passphrase, "--armor", "--export-secret-keys"],
            b"",
        )
    }

    fn export_public(&self) -> String {
        self.gpg(&["--armor", "--export"], b"")
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .arg("--homedir")
            .arg(self.path())
            .args(["--kill", "all"])
            .status();
    }
}

fn run_with_input(command: &mut Command, input: &[u8]) -> Output {
    use std::io::Write as _;
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("stdin");
    child.wait_with_output().expect("wait")
}

/// A key made for these tests: the armored secret key, the public key, the fingerprint.
struct OpenPgpKey {
    secret: String,
    public: String,
    fingerprint: String,
}

fn openpgp_key(passphrase: &str) -> OpenPgpKey {
    let home = GpgHome::new();
    let fingerprint = home.generate(SIGNER, passphrase);
    OpenPgpKey {
        secret: home.export_secret(passphrase),
        public: home.export_public(),
        fingerprint,
    }
}

/// A repository seeded on a `file://` remote, checked out with one edit to commit.
struct Fixture {
    server: GitServer,
    repo: Repository,
    _cache: tempfile::TempDir,
}

async fn fixture() -> Option<Fixture> {
    let server = GitServer::start(GitTransport::File).await?;
    let url = server.create_repo("fleet", &[(DEPLOY, BEFORE)], "main");
    let cache = tempfile::tempdir().expect("cache dir");
    let repo = Repository::open(cache.path(), file_remote(&url)).expect("open");
    repo.checkout(&CheckoutRef::Branch("main".into()), "main")
        .expect("checkout");
    edit(repo.workdir(), AFTER);
    Some(Fixture {
        server,
        repo,
        _cache: cache,
    })
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

/// `git ARGS` in the remote's bare repository, with only `env` added to a clean config.
fn git_in_remote(server: &GitServer, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(server.repo_path("fleet"))
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("git")
}

/// The raw commit object at the tip of `main` on the remote.
fn remote_commit(server: &GitServer) -> String {
    let out = git_in_remote(server, &["cat-file", "commit", "refs/heads/main"], &[]);
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Checks the `OpenPGP` signature of the remote's `main` with only `public` known to gpg.
fn verify_openpgp(server: &GitServer, key: &OpenPgpKey) {
    let verifier = GpgHome::new();
    verifier.gpg(&["--import"], key.public.as_bytes());
    let out = git_in_remote(
        server,
        &["verify-commit", "--raw", "refs/heads/main"],
        &[("GNUPGHOME", verifier.path())],
    );
    let status = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify-commit failed: {status}");
    assert!(
        status.contains(&format!("[GNUPG:] VALIDSIG {}", key.fingerprint)),
        "{status}"
    );
}

fn assert_hidden(text: &str, key: &str, passphrase: &str) {
    assert!(!text.contains(passphrase), "the passphrase leaked: {text}");
    for line in key.lines().filter(|l| l.len() > 20 && !l.starts_with("-----")) {
        assert!(!text.contains(line), "the key leaked: {text}");
    }
}

/// Processes whose command line names a `--homedir` that is one of the writer's signing homes.
fn writer_gpg_agents() -> Vec<(u32, PathBuf)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if !args.first().is_some_and(|a| a.ends_with("gpg-agent")) {
            continue;
        }
        if let Some(home) = args.windows(2).find(|w| w[0] == "--homedir").map(|w| &w[1])
            && home.contains("imagebump-sign-")
        {
            found.push((pid, PathBuf::from(home)));
        }
    }
    found
}

#[tokio::test]
async fn an_openpgp_signed_commit_verifies_on_the_remote() {
    if !require("gpg") || !require("gpgconf") {
        return;
    }
    let Some(f) = fixture().await else {
        return;
    };
    let key = openpgp_key("");
    let signing = SigningKey::OpenPgp {
        armored: key.secret.clone(),
        passphrase: None,
    };
    let commit = f
        .repo
        .commit_signed("Update app to 1.1.0\n", &bot(), Some(&signing))
        .expect("signed commit")
        .expect("a change");
    f.repo.push("main", &[], &[]).expect("push");
    assert_eq!(f.server.head("fleet", "main"), Some(commit));
    assert!(remote_commit(&f.server).contains("\ngpgsig -----BEGIN PGP SIGNATURE-----"));
    assert_eq!(
        f.server.commit_message("fleet", "main").as_deref(),
        Some("Update app to 1.1.0\n")
    );
    verify_openpgp(&f.server, &key);
}

#[tokio::test]
async fn a_passphrase_protected_openpgp_key_signs_with_its_passphrase() {
    if !require("gpg") || !require("gpgconf") {
        return;
    }
    let Some(f) = fixture().await else {
        return;
    };
    let key = openpgp_key(PASSPHRASE);
    assert!(key.secret.contains("PRIVATE KEY BLOCK"));
    let signing = SigningKey::OpenPgp {
        armored: key.secret.clone(),
        passphrase: Some(PASSPHRASE.to_owned()),
    };
    f.repo
        .commit_signed("signed\n", &bot(), Some(&signing))
        .expect("signed commit")
        .expect("a change");
    f.repo.push("main", &[], &[]).expect("push");
    verify_openpgp(&f.server, &key);
}

#[tokio::test]
async fn a_wrong_openpgp_passphrase_is_named_without_the_key_or_passphrase() {
    if !require("gpg") || !require("gpgconf") {
        return;
    }
    let Some(f) = fixture().await else {
        return;
    };
    let before = f.repo.head().expect("head");
    let key = openpgp_key(PASSPHRASE);
    let wrong = "Tr0ub4dor&3-not-it";
    let signing = SigningKey::OpenPgp {
        armored: key.secret.clone(),
        passphrase: Some(wrong.to_owned()),
    };
    let err = f
        .repo
        .commit_signed("signed\n", &bot(), Some(&signing))
        .expect_err("a wrong passphrase");
    assert_eq!(err, Error::Signing(SigningError::WrongPassphrase("OpenPGP")));
    assert!(!err.is_transient());
    let text = format!("{err} {err:?} {signing:?}");
    assert!(text.contains("passphrase"), "{text}");
    assert_hidden(&text, &key.secret, wrong);
    assert_hidden(&text, &key.secret, PASSPHRASE);
    assert_eq!(f.repo.head().expect("head"), before, "nothing was committed");

    // Without any passphrase, the error says one is needed.
    let signing = SigningKey::OpenPgp {
        armored: key.secret.clone(),
        passphrase: None,
    };
    let err = f
        .repo
        .commit_signed("signed\n", &bot(), Some(&signing))
        .expect_err("no passphrase");
    assert_eq!(err, Error::Signing(SigningError::PassphraseRequired("OpenPGP")));
    assert_hidden(&format!("{err}"), &key.secret, PASSPHRASE);
}

#[tokio::test]
async fn unusable_openpgp_keys_are_named() {
    if !require("gpg") || !require("gpgconf") {
        return;
    }
    let Some(f) = fixture().await else {
        return;
    };
    let commit = |armored: &str, passphrase: Option<&str>| {
        let signing = SigningKey::OpenPgp {
            armored: armored.to_owned(),
            passphrase: passphrase.map(str::to_owned),
        };
        f.repo
            .commit_signed("signed\n", &bot(), Some(&signing))
            .expect_err("unusable")
    };

    let garbage = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nbm90IGEga2V5IGF0IGFsbCwgc29ycnkgYWJvdXQgdGhhdA==\n-----END PGP PRIVATE KEY BLOCK-----\n";
    let err = commit(garbage, None);
    assert!(
        matches!(&err, Error::Signing(SigningError::BadKey { kind: "OpenPGP", .. })),
        "{err:?}"
    );
    assert_hidden(&format!("{err} {err:?}"), garbage, PASSPHRASE);

    let key = openpgp_key("");
    assert_eq!(
        commit(&key.public, None),
        Error::Signing(SigningError::NoPrivateKey)
    );

    let home = GpgHome::new();
    home.generate("one <one@example.com>", "");
    home.generate("two <two@example.com>", "");
    assert_eq!(
        commit(&home.export_secret(""), None),
        Error::Signing(SigningError::TooManyKeys(2))
    );

    assert_eq!(
        commit(&key.secret, Some("two\nlines")),
        Error::Signing(SigningError::UnusablePassphrase("OpenPGP"))
    );
}

/// Each commit's `GNUPGHOME` is gone afterwards, and so is the `gpg-agent` it started.
#[tokio::test]
async fn no_gpg_agent_or_home_outlives_a_signed_commit() {
    if !require("gpg") || !require("gpgconf") {
        return;
    }
    let Some(f) = fixture().await else {
        return;
    };
    let key = openpgp_key(PASSPHRASE);
    let signing = SigningKey::OpenPgp {
        armored: key.secret.clone(),
        passphrase: Some(PASSPHRASE.to_owned()),
    };
    f.repo
        .commit_signed("signed\n", &bot(), Some(&signing))
        .expect("signed commit")
        .expect("a change");
    // Other tests may be signing right now: only agents whose home is already removed are
    // leaks. An agent that was told to stop may take a moment to exit.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let leaked: Vec<_> = writer_gpg_agents()
            .into_iter()
            .filter(|(_, home)| !home.exists())
            .collect();
        if leaked.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "gpg-agents outlived their homes: {leaked:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The whole automation run signs when the automation has a key.
#[tokio::test]
async fn a_signed_automation_run_pushes_a_verified_commit() {
    if !require("gpg") || !require("gpgconf") {
        return;
    }
    let Some(server) = GitServer::start(GitTransport::File).await else {
        return;
    };
    let path = "clusters/app.yaml";
    let url = server.create_repo("fleet", &[(path, BEFORE)], "main");
    let key = openpgp_key(PASSPHRASE);
    let signing = SigningKey::OpenPgp {
        armored: key.secret.clone(),
        passphrase: Some(PASSPHRASE.to_owned()),
    };
    let values = BTreeMap::new();
    let automation = Automation {
        namespace: "flux-system",
        name: "flux-system",
        remote: file_remote(&url),
        checkout: CheckoutRef::Branch("main".into()),
        push_branch: "main",
        refspecs: &[],
        push_options: &[],
        update_path: "./clusters",
        author: bot(),
        signing: Some(&signing),
        template: None,
        values: &values,
        max_attempts: 3,
    };
    let policies: Policies = [(
        "flux-system:app".to_owned(),
        LatestImage::parse("ghcr.io/org/app:1.1.0").expect("reference"),
    )]
    .into_iter()
    .collect();
    let cache = tempfile::tempdir().expect("cache");
    let outcome = run(&automation, &policies, cache.path()).expect("run");
    assert!(matches!(outcome, Outcome::Pushed { .. }), "{outcome:?}");
    assert_eq!(server.read_file("fleet", "main", path).as_deref(), Some(AFTER));
    verify_openpgp(&server, &key);
}

#[tokio::test]
async fn unsigned_commits_carry_no_signature() {
    let Some(f) = fixture().await else {
        return;
    };
    f.repo
        .commit_signed("unsigned\n", &bot(), None)
        .expect("commit")
        .expect("a change");
    f.repo.push("main", &[], &[]).expect("push");
    assert!(!remote_commit(&f.server).contains("gpgsig"));
}

/// An SSH key pair made by `ssh-keygen`: private key text, `allowed_signers` file.
struct SshKey {
    private: String,
    allowed_signers: PathBuf,
    _dir: tempfile::TempDir,
}

fn ssh_key(passphrase: &str) -> SshKey {
    let dir = tempfile::tempdir().expect("key dir");
    let path = dir.path().join("key");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-C", "signer", "-N", passphrase, "-f"])
        .arg(&path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("public key");
    let allowed_signers = dir.path().join("allowed_signers");
    std::fs::write(
        &allowed_signers,
        format!("imagebump@example.com namespaces=\"git\" {public}"),
    )
    .expect("allowed signers");
    SshKey {
        private: std::fs::read_to_string(&path).expect("private key"),
        allowed_signers,
        _dir: dir,
    }
}

fn verify_ssh(server: &GitServer, key: &SshKey) {
    let setting = format!("gpg.ssh.allowedSignersFile={}", key.allowed_signers.display());
    let out = git_in_remote(server, &["-c", &setting, "verify-commit", "refs/heads/main"], &[]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "verify-commit failed: {said}");
    assert!(
        said.contains("Good \"git\" signature for imagebump@example.com"),
        "{said}"
    );
}

#[tokio::test]
async fn an_ssh_signed_commit_verifies_with_allowed_signers() {
    if !require("ssh-keygen") {
        return;
    }
    let Some(f) = fixture().await else {
        return;
    };
    let key = ssh_key("");
    let signing = SigningKey::Ssh {
        private_key: key.private.clone(),
        passphrase: None,
    };
    f.repo
        .commit_signed("ssh signed\n", &bot(), Some(&signing))
        .expect("signed commit")
        .expect("a change");
    f.repo.push("main", &[], &[]).expect("push");
    assert!(remote_commit(&f.server).contains("\ngpgsig -----BEGIN SSH SIGNATURE-----"));
    verify_ssh(&f.server, &key);
}

#[tokio::test]
async fn an_encrypted_ssh_key_signs_with_its_passphrase() {
    if !require("ssh-keygen") {
        return;
    }
    let Some(f) = fixture().await else {
        return;
    };
    let key = ssh_key(PASSPHRASE);
    let signing = SigningKey::Ssh {
        private_key: key.private.clone(),
        passphrase: Some(PASSPHRASE.to_owned()),
    };
    f.repo
        .commit_signed("ssh signed\n", &bot(), Some(&signing))
        .expect("signed commit")
        .expect("a change");
    f.repo.push("main", &[], &[]).expect("push");
    verify_ssh(&f.server, &key);
}

#[tokio::test]
async fn ssh_key_problems_are_named_without_the_key_or_passphrase() {
    if !require("ssh-keygen") {
        return;
    }
    let Some(f) = fixture().await else {
        return;
    };
    let before = f.repo.head().expect("head");
    let key = ssh_key(PASSPHRASE);
    let commit = |private_key: &str, passphrase: Option<&str>| {
        let signing = SigningKey::Ssh {
            private_key: private_key.to_owned(),
            passphrase: passphrase.map(str::to_owned),
        };
        f.repo
            .commit_signed("signed\n", &bot(), Some(&signing))
            .expect_err("unusable")
    };

    let wrong = "Tr0ub4dor&3-not-it";
    let err = commit(&key.private, Some(wrong));
    assert_eq!(err, Error::Signing(SigningError::WrongPassphrase("SSH")));
    assert_hidden(&format!("{err} {err:?}"), &key.private, wrong);

    let err = commit(&key.private, None);
    assert_eq!(err, Error::Signing(SigningError::PassphraseRequired("SSH")));

    let garbage = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5IGF0IGFsbCwgc29ycnkgYWJvdXQgdGhhdA==\n-----END OPENSSH PRIVATE KEY-----\n";
    let err = commit(garbage, None);
    assert!(
        matches!(&err, Error::Signing(SigningError::BadKey { kind: "SSH", .. })),
        "{err:?}"
    );
    assert_hidden(&format!("{err} {err:?}"), garbage, PASSPHRASE);
    assert_eq!(f.repo.head().expect("head"), before, "nothing was committed");
}

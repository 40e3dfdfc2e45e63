//! Git remotes on loopback: bare repositories served over `file://`, smart HTTP and HTTPS
//! (lighttpd + `git-http-backend`, basic auth) and SSH (`sshd` from openssh-server, key-only auth).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;
use tempfile::TempDir;
use tokio::io::AsyncReadExt as _;

use crate::process::{ChildGuard, log_tail, run_tool, spawn_until, spawn_until_ready};
use crate::require::{find_program, is_ci, report_missing, require};
use crate::tls::{http_client, make_tls_certificates};

const USERNAME: &str = "testuser";
const PASSWORD: &str = "testpass";
/// Who makes the commits of [`GitServer::create_repo`] and [`GitServer::push_change`].
const AUTHOR_NAME: &str = "imagebump-testsupport";
const AUTHOR_EMAIL: &str = "testsupport@imagebump.test";
/// The module `mod_openssl` of Debian's `lighttpd-mod-openssl`.
const LIGHTTPD_MOD_OPENSSL: &str = "/usr/lib/lighttpd/mod_openssl.so";
/// `sshd`'s privilege separation directory (compiled in; `sshd` refuses to start as root
/// without it, and without systemd nothing creates it).
const SSHD_PRIVSEP_DIR: &str = "/run/sshd";

/// Environment variables that would make the `git` commands of [`GitServer`]'s helpers act on
/// something else (as when the tests run from a git hook) or commit as someone else.
const GIT_ENV_REMOVED: [&str; 16] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
    "GIT_COMMITTER_DATE",
];

/// How a [`GitServer`] serves its repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GitTransport {
    /// `file:///…/NAME.git`: no server process, no authentication.
    File,
    /// `http://127.0.0.1:PORT/git/NAME.git`: lighttpd running `git-http-backend` (smart HTTP,
    /// push allowed), basic authentication (`testuser` / `testpass`) required for every request.
    Http,
    /// `https://localhost:PORT/git/NAME.git`: as [`Http`](GitTransport::Http), over TLS with a
    /// certificate for `localhost` and `127.0.0.1` signed by a test CA
    /// ([`GitServer::ca_pem`]).
    Https,
    /// `ssh://USER@127.0.0.1:PORT/ABSOLUTE/PATH/NAME.git`: `sshd` (openssh-server) accepting only the
    /// key [`GitServer::ssh_identity_pem`], as the user running the tests (`root` here: no `git`
    /// user exists).
    Ssh,
}

impl GitTransport {
    /// Every transport, in declaration order.
    pub const ALL: [GitTransport; 4] = [Self::File, Self::Http, Self::Https, Self::Ssh];

    /// Whether it is [`Http`](GitTransport::Http) or [`Https`](GitTransport::Https) (basic
    /// authentication with [`GitServer::credentials`]).
    #[must_use]
    pub fn is_http(self) -> bool {
        matches!(self, Self::Http | Self::Https)
    }
}

/// Where the SSH transport's keys are, and what a Flux secret holds for them.
#[derive(Debug)]
struct SshKeys {
    identity_path: PathBuf,
    identity_pem: String,
    known_hosts_path: PathBuf,
    known_hosts: String,
}

/// Bare git repositories in a temporary directory, served over one [`GitTransport`] by a child
/// process (lighttpd or sshd) on a free loopback port. Dropping it kills the server and removes
/// the directory.
///
/// Repositories are made with [`create_repo`](Self::create_repo) and inspected directly in the
/// bare repository with [`head`](Self::head), [`read_file`](Self::read_file),
/// [`log`](Self::log), [`commit_message`](Self::commit_message) and
/// [`commit_author`](Self::commit_author); [`push_change`](Self::push_change) moves a branch
/// behind a client's back. A `git` CLI client authenticates with [`git_env`](Self::git_env).
///
/// ```no_run
/// # async fn demo() {
/// use imagebump_testsupport::{GitServer, GitTransport};
///
/// let Some(server) = GitServer::start(GitTransport::Ssh).await else {
///     return; // skipped: sshd is not installed and CI is not set
/// };
/// let url = server.create_repo("fleet", &[("apps/app.yaml", "image: app:1.0.0\n")], "main");
/// let status = std::process::Command::new("git")
///     .args(["ls-remote", &url])
///     .envs(server.git_env())
///     .status()
///     .unwrap();
/// assert!(status.success());
/// # }
/// ```
#[derive(Debug)]
pub struct GitServer {
    transport: GitTransport,
    /// Where the bare repositories are (`DIR/repos`).
    repos: PathBuf,
    /// The clone URL of a repository is `{base_url}/NAME.git`.
    base_url: String,
    port: Option<u16>,
    ca_pem: Option<Vec<u8>>,
    ca_path: Option<PathBuf>,
    ssh: Option<SshKeys>,
    log: Option<PathBuf>,
    client: reqwest::Client,
    /// Declared before `dir` so the server dies before its directory is removed.
    children: Vec<ChildGuard>,
    dir: TempDir,
}

impl GitServer {
    /// Starts a server for `transport` (none for [`GitTransport::File`]) and waits until it
    /// answers.
    ///
    /// Returns `None` when a program it needs is missing and the test should be skipped (see
    /// [`require`]; on CI that panics instead). Needs `git`; `lighttpd` and `git-http-backend`
    /// for [`Http`](GitTransport::Http) and [`Https`](GitTransport::Https); `openssl` and
    /// lighttpd's `mod_openssl` (Debian package `lighttpd-mod-openssl`) for
    /// [`Https`](GitTransport::Https); `sshd`, `ssh-keygen` and `ssh` for
    /// [`Ssh`](GitTransport::Ssh). As root, the SSH transport creates `/run/sshd` when it is
    /// missing.
    ///
    /// # Panics
    ///
    /// When a setup step fails, or the server does not answer within 10 s (the message then
    /// includes the end of its log).
    pub async fn start(transport: GitTransport) -> Option<GitServer> {
        if !require("git") {
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("imagebump-git-")
            .tempdir()
            .expect("creating a temporary directory for the git server");
        let root = dir.path().to_path_buf();
        let repos = root.join("repos");
        fs::create_dir(&repos).expect("creating the repositories' directory");
        fs::create_dir(root.join("work")).expect("creating the work directory");

        let mut server = GitServer {
            transport,
            base_url: format!("file://{}", repos.display()),
            repos,
            port: None,
            ca_pem: None,
            ca_path: None,
            ssh: None,
            log: None,
            client: http_client(None, None),
            children: Vec::new(),
            dir,
        };
        match transport {
            GitTransport::File => {}
            GitTransport::Http | GitTransport::Https => server.start_lighttpd(&root).await?,
            GitTransport::Ssh => server.start_sshd(&root).await?,
        }
        Some(server)
    }

    /// Starts lighttpd with `git-http-backend` behind basic authentication.
    async fn start_lighttpd(&mut self, root: &Path) -> Option<()> {
        let tls = self.transport == GitTransport::Https;
        let lighttpd = sbin_program("lighttpd")?;
        if tls && !require("openssl") {
            return None;
        }
        if tls && !Path::new(LIGHTTPD_MOD_OPENSSL).is_file() {
            report_missing(
                &format!("`{LIGHTTPD_MOD_OPENSSL}` (Debian package lighttpd-mod-openssl)"),
                is_ci(),
            );
            return None;
        }
        let exec_path = git_output(Command::new("git").arg("--exec-path"), "git --exec-path");
        let backend = PathBuf::from(exec_path.trim()).join("git-http-backend");
        if !require(&backend.to_string_lossy()) {
            return None;
        }

        if tls {
            let ca_path = make_tls_certificates(root).await;
            let pem = fs::read(&ca_path).expect("reading the test CA certificate");
            self.client = http_client(Some(&pem), None);
            self.ca_pem = Some(pem);
            self.ca_path = Some(ca_path);
        }
        fs::write(root.join("lighttpd.users"), format!("{USERNAME}:{PASSWORD}\n"))
            .expect("writing lighttpd's user file");
        fs::create_dir(root.join("www")).expect("creating lighttpd's document root");

        let (scheme, host) = if tls {
            ("https", "localhost")
        } else {
            ("http", "127.0.0.1")
        };
        let log = root.join("lighttpd.log");
        let config_path = root.join("lighttpd.conf");
        let (child, port) = spawn_until_ready("lighttpd", &log, &self.client, |port| {
            let config = lighttpd_config(root, &self.repos, &backend, port, tls);
            fs::write(&config_path, config).expect("writing lighttpd's configuration");
            let mut cmd = Command::new(&lighttpd);
            cmd.arg("-D").arg("-f").arg(&config_path);
            (cmd, format!("{scheme}://{host}:{port}/git/"))
        })
        .await;
        self.children.push(child);
        self.port = Some(port);
        self.base_url = format!("{scheme}://{host}:{port}/git");
        self.log = Some(log);
        Some(())
    }

    /// Makes the host and client keys and starts `sshd -D -e`.
    async fn start_sshd(&mut self, root: &Path) -> Option<()> {
        // sshd re-executes itself, so it must be started by its absolute path.
        let sshd = sbin_program("sshd")?;
        if !require("ssh-keygen") || !require("ssh") {
            return None;
        }
        let user = String::from_utf8(run_tool(tokio::process::Command::new("id").arg("-un"), "id -un").await)
            .expect("a user name is UTF-8")
            .trim()
            .to_owned();
        if user == "root" && !Path::new(SSHD_PRIVSEP_DIR).is_dir() {
            fs::create_dir_all(SSHD_PRIVSEP_DIR).unwrap_or_else(|e| {
                panic!("creating sshd's privilege separation directory {SSHD_PRIVSEP_DIR}: {e}")
            });
        }

        let ssh_dir = root.join("ssh");
        fs::create_dir(&ssh_dir).expect("creating the ssh directory");
        let host_key = ssh_dir.join("host_ed25519");
        let identity_path = ssh_dir.join("client_ed25519");
        for (key, comment) in [
            (&host_key, "imagebump test host"),
            (&identity_path, "imagebump test client"),
        ] {
            run_tool(
                tokio::process::Command::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
                    .arg(key),
                "ssh-keygen",
            )
            .await;
        }
        let authorized_keys = ssh_dir.join("authorized_keys");
        fs::copy(identity_path.with_extension("pub"), &authorized_keys).expect("writing authorized_keys");
        let host_public = fs::read_to_string(host_key.with_extension("pub")).expect("reading the host key");
        let host_public: Vec<&str> = host_public.split_whitespace().take(2).collect();
        let host_public = host_public.join(" ");

        let log = ssh_dir.join("sshd.log");
        let config_path = ssh_dir.join("sshd_config");
        let (child, port) = spawn_until(
            "sshd",
            &log,
            |port| {
                let config = sshd_config(&ssh_dir, port);
                fs::write(&config_path, config).expect("writing sshd's configuration");
                let mut cmd = Command::new(&sshd);
                cmd.args(["-D", "-e", "-f"]).arg(&config_path);
                (cmd, format!("127.0.0.1:{port}"))
            },
            ssh_banner,
        )
        .await;
        self.children.push(child);

        let known_hosts = format!("[127.0.0.1]:{port} {host_public}\n");
        let known_hosts_path = ssh_dir.join("known_hosts");
        fs::write(&known_hosts_path, &known_hosts).expect("writing known_hosts");
        self.ssh = Some(SshKeys {
            identity_pem: fs::read_to_string(&identity_path).expect("reading the client key"),
            identity_path,
            known_hosts_path,
            known_hosts,
        });
        self.port = Some(port);
        self.base_url = format!("ssh://{user}@127.0.0.1:{port}{}", self.repos.display());
        self.log = Some(log);
        Some(())
    }

    /// The transport it was started for.
    #[must_use]
    pub fn transport(&self) -> GitTransport {
        self.transport
    }

    /// The server's port (`None` for [`GitTransport::File`]).
    #[must_use]
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Creates the bare repository `NAME.git` (`name` may contain `/`), with `HEAD` on
    /// `branch` and `http.receivepack true`, seeds it with one commit (`Initial commit`, by
    /// `imagebump-testsupport <testsupport@imagebump.test>`) holding `files` (path relative to
    /// the repository root, content) on `branch`, and returns its clone URL (see
    /// [`url`](Self::url)).
    ///
    /// # Panics
    ///
    /// When the repository exists already, or a `git` command fails.
    #[must_use = "the clone URL is the way to reach the repository"]
    pub fn create_repo(&self, name: &str, files: &[(&str, &str)], branch: &str) -> String {
        let bare = self.repo_path(name);
        assert!(!bare.exists(), "repository {name} exists already");
        git_output(
            git_command()
                .args(["init", "-q", "--bare", "-b", branch])
                .arg(&bare),
            "git init --bare",
        );
        git_output(
            git_command()
                .arg("--git-dir")
                .arg(&bare)
                .args(["config", "http.receivepack", "true"]),
            "git config http.receivepack",
        );

        let work = self.work_dir();
        let tree = work.path();
        git_output(
            git_command().args(["init", "-q", "-b", branch]).arg(tree),
            "git init (seed)",
        );
        for (path, content) in files {
            write_file(tree, path, content);
        }
        git_output(git_command().current_dir(tree).args(["add", "-A"]), "git add");
        commit(tree, "Initial commit");
        git_output(
            git_command()
                .current_dir(tree)
                .args(["push", "-q"])
                .arg(&bare)
                .arg(format!("HEAD:refs/heads/{branch}")),
            "git push (seed)",
        );
        self.url(name)
    }

    /// Commits `content` to `path` on `branch` of repository `repo` as another client would:
    /// clones it over `file://` into a temporary directory, commits (by
    /// `imagebump-testsupport <testsupport@imagebump.test>`, with `message`) and pushes. When
    /// `branch` does not exist, it is created from the repository's `HEAD`.
    ///
    /// # Panics
    ///
    /// When a `git` command fails (for instance when `content` is what `path` holds already:
    /// there is nothing to commit).
    pub fn push_change(&self, repo: &str, branch: &str, path: &str, content: &str, message: &str) {
        let work = self.work_dir();
        let tree = work.path();
        let source = format!("file://{}", self.repo_path(repo).display());
        let mut clone = git_command();
        clone.args(["clone", "-q", "--no-tags"]);
        if self.head(repo, branch).is_some() {
            clone.args(["--branch", branch]);
        }
        git_output(clone.arg(&source).arg(tree), "git clone (push_change)");
        git_output(
            git_command()
                .current_dir(tree)
                .args(["checkout", "-q", "-B", branch]),
            "git checkout -B",
        );
        write_file(tree, path, content);
        git_output(
            git_command().current_dir(tree).args(["add", "--", path]),
            "git add",
        );
        commit(tree, message);
        git_output(
            git_command()
                .current_dir(tree)
                .args(["push", "-q", "origin"])
                .arg(format!("HEAD:refs/heads/{branch}")),
            "git push (push_change)",
        );
    }

    /// The clone URL of repository `name` for this transport (whether or not it exists):
    ///
    /// * `file:///DIR/repos/NAME.git`
    /// * `http://127.0.0.1:PORT/git/NAME.git`
    /// * `https://localhost:PORT/git/NAME.git`
    /// * `ssh://USER@127.0.0.1:PORT/DIR/repos/NAME.git` (`USER` is the user running the tests)
    ///
    /// None of them holds credentials.
    #[must_use]
    pub fn url(&self, name: &str) -> String {
        format!("{}/{name}.git", self.base_url)
    }

    /// Where the bare repository `NAME.git` is on disk.
    #[must_use]
    pub fn repo_path(&self, name: &str) -> PathBuf {
        self.repos.join(format!("{name}.git"))
    }

    /// The commit id (40 hex digits) at the tip of `branch` of repository `repo`, or `None`
    /// when the branch (or the repository) does not exist.
    #[must_use]
    pub fn head(&self, repo: &str, branch: &str) -> Option<String> {
        self.git_in(
            repo,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("refs/heads/{branch}^{{commit}}"),
            ],
        )
        .map(|out| out.trim().to_owned())
    }

    /// The content of the file `path` at the tip of `branch`, or `None` when the branch, the
    /// repository or the file does not exist (or `path` is a directory).
    ///
    /// # Panics
    ///
    /// When the file is not UTF-8.
    #[must_use]
    pub fn read_file(&self, repo: &str, branch: &str, path: &str) -> Option<String> {
        self.git_in(
            repo,
            &["cat-file", "blob", &format!("refs/heads/{branch}:{path}")],
        )
    }

    /// The subjects of the commits reachable from `branch`, newest first (empty when the
    /// branch does not exist).
    #[must_use]
    pub fn log(&self, repo: &str, branch: &str) -> Vec<String> {
        self.git_in(
            repo,
            &["log", "--format=%s", &format!("refs/heads/{branch}"), "--"],
        )
        .map(|out| out.lines().map(str::to_owned).collect())
        .unwrap_or_default()
    }

    /// The full message of the commit at the tip of `branch`, exactly as stored (it usually
    /// ends with a newline; `git commit` strips trailing blank lines, other writers may not).
    #[must_use]
    pub fn commit_message(&self, repo: &str, branch: &str) -> Option<String> {
        let raw = self.git_in(repo, &["cat-file", "commit", &format!("refs/heads/{branch}")])?;
        // The headers end at the first empty line (continuation lines of a multi-line header,
        // such as `gpgsig`, start with a space).
        Some(
            raw.split_once("\n\n")
                .map_or("", |(_, message)| message)
                .to_owned(),
        )
    }

    /// `(name, email)` of the author of the commit at the tip of `branch`.
    #[must_use]
    pub fn commit_author(&self, repo: &str, branch: &str) -> Option<(String, String)> {
        let out = self.git_in(
            repo,
            &[
                "log",
                "-1",
                "--format=%an%x00%ae",
                &format!("refs/heads/{branch}"),
                "--",
            ],
        )?;
        let (name, email) = out.trim_end_matches('\n').split_once('\0')?;
        Some((name.to_owned(), email.to_owned()))
    }

    /// `("testuser", "testpass")` for [`Http`](GitTransport::Http) and
    /// [`Https`](GitTransport::Https) (the server demands them for every request, fetch and
    /// push alike), `None` otherwise.
    #[must_use]
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.transport.is_http().then_some((USERNAME, PASSWORD))
    }

    /// The test CA's certificate (PEM) for [`Https`](GitTransport::Https), as a Flux secret's
    /// `ca.crt` (or `caFile`) holds it.
    #[must_use]
    pub fn ca_pem(&self) -> Option<Vec<u8>> {
        self.ca_pem.clone()
    }

    /// Path of [`ca_pem`](Self::ca_pem).
    #[must_use]
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca_path.as_deref()
    }

    /// Path of the client's private key (ed25519, in the `openssh-key-v1` format, no passphrase) for
    /// [`Ssh`](GitTransport::Ssh).
    #[must_use]
    pub fn ssh_identity_path(&self) -> Option<&Path> {
        self.ssh.as_ref().map(|ssh| ssh.identity_path.as_path())
    }

    /// The client's private key as text (`-----BEGIN OPENSSH PRIVATE KEY-----…`), as a Flux
    /// `GitRepository` secret's `identity` key holds it, for [`Ssh`](GitTransport::Ssh). `ssh`
    /// refuses a key file that others can read: write it with mode `0600`.
    #[must_use]
    pub fn ssh_identity_pem(&self) -> Option<&str> {
        self.ssh.as_ref().map(|ssh| ssh.identity_pem.as_str())
    }

    /// The server's host key as one `known_hosts` line, `[127.0.0.1]:PORT ssh-ed25519 AAAA…\n`,
    /// as a Flux secret's `known_hosts` key holds it, for [`Ssh`](GitTransport::Ssh).
    #[must_use]
    pub fn known_hosts(&self) -> Option<String> {
        self.ssh.as_ref().map(|ssh| ssh.known_hosts.clone())
    }

    /// Path of a file holding [`known_hosts`](Self::known_hosts).
    #[must_use]
    pub fn known_hosts_path(&self) -> Option<&Path> {
        self.ssh.as_ref().map(|ssh| ssh.known_hosts_path.as_path())
    }

    /// Environment for a plain `git` CLI client (`Command::envs`) to reach this server's
    /// repositories with the URLs of [`url`](Self::url), without touching any configuration
    /// file:
    ///
    /// * always `GIT_TERMINAL_PROMPT=0`, so a refused login fails instead of prompting;
    /// * [`Http`](GitTransport::Http): `GIT_CONFIG_COUNT=1` with
    ///   `http.http://127.0.0.1:PORT/.extraHeader` = `Authorization: Basic …` (the
    ///   [`credentials`](Self::credentials); scoped to this server, not written to the clone's
    ///   config);
    /// * [`Https`](GitTransport::Https): the same header for `https://localhost:PORT/`, plus
    ///   `http.https://localhost:PORT/.sslCAInfo` = [`ca_path`](Self::ca_path) and
    ///   `GIT_SSL_CAINFO` = [`ca_path`](Self::ca_path): git lets `GIT_SSL_CAINFO` override
    ///   `http.sslCAInfo`, and machines may export it (this one points it at the system
    ///   bundle), so it is replaced for this client;
    /// * [`Ssh`](GitTransport::Ssh): `GIT_SSH_COMMAND` = `ssh -F /dev/null -i KEY -o
    ///   IdentitiesOnly=yes -o UserKnownHostsFile=KNOWN_HOSTS -o StrictHostKeyChecking=yes -o
    ///   BatchMode=yes` (no user ssh configuration, only the test key, the host key checked
    ///   against [`known_hosts_path`](Self::known_hosts_path));
    /// * [`File`](GitTransport::File): nothing else.
    ///
    /// `GIT_CONFIG_COUNT` replaces any `GIT_CONFIG_COUNT` the caller sets; callers adding their
    /// own `-c` settings should pass them as arguments.
    #[must_use]
    pub fn git_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("GIT_TERMINAL_PROMPT".to_owned(), "0".to_owned())];
        let mut config = Vec::new();
        if self.transport.is_http() {
            let origin = self.origin();
            let header = format!("Authorization: {}", basic_authorization(USERNAME, PASSWORD));
            config.push((format!("http.{origin}/.extraHeader"), header));
            if let Some(ca) = &self.ca_path {
                let ca = ca.display().to_string();
                config.push((format!("http.{origin}/.sslCAInfo"), ca.clone()));
                env.push(("GIT_SSL_CAINFO".to_owned(), ca));
            }
        }
        if !config.is_empty() {
            env.push(("GIT_CONFIG_COUNT".to_owned(), config.len().to_string()));
            for (i, (key, value)) in config.into_iter().enumerate() {
                env.push((format!("GIT_CONFIG_KEY_{i}"), key));
                env.push((format!("GIT_CONFIG_VALUE_{i}"), value));
            }
        }
        if let Some(ssh) = &self.ssh {
            let command = format!(
                "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} \
                 -o StrictHostKeyChecking=yes -o BatchMode=yes",
                shell_quote(&ssh.identity_path),
                shell_quote(&ssh.known_hosts_path),
            );
            env.push(("GIT_SSH_COMMAND".to_owned(), command));
        }
        env
    }

    /// An HTTP client that trusts the test CA (for [`Https`](GitTransport::Https)) and ignores
    /// proxy settings. It sends no credentials by itself.
    #[must_use]
    pub fn http_client(&self) -> reqwest::Client {
        self.client.clone()
    }

    /// The last lines of the server's log (lighttpd's, or sshd's at `LogLevel VERBOSE`), for
    /// failure messages; `None` for [`File`](GitTransport::File).
    #[must_use]
    pub fn server_log(&self) -> Option<String> {
        self.log.as_deref().map(log_tail)
    }

    /// The temporary directory holding the repositories (`repos/`), configuration, keys,
    /// certificates and logs.
    #[must_use]
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `scheme://host:port` of the HTTP(S) server.
    fn origin(&self) -> String {
        self.base_url.trim_end_matches("/git").to_owned()
    }

    /// A fresh temporary directory for a working tree.
    fn work_dir(&self) -> TempDir {
        tempfile::Builder::new()
            .prefix("work-")
            .tempdir_in(self.dir.path().join("work"))
            .expect("creating a temporary working directory")
    }

    /// Runs `git --git-dir REPO args…`; its stdout when it succeeds, `None` when it fails.
    fn git_in(&self, repo: &str, args: &[&str]) -> Option<String> {
        let output = git_command()
            .arg("--git-dir")
            .arg(self.repo_path(repo))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running git {args:?}: {e}"));
        output.status.success().then(|| {
            String::from_utf8(output.stdout).unwrap_or_else(|e| panic!("git {args:?} printed non-UTF-8: {e}"))
        })
    }
}

impl Drop for GitServer {
    /// Kills the server (it is also killed when its guard is dropped on its own).
    fn drop(&mut self) {
        while let Some(child) = self.children.pop() {
            drop(child);
        }
    }
}

/// `program` from `PATH`, else from `/usr/sbin` (not on every user's `PATH`); `None` (or a
/// panic on CI) when it is in neither.
fn sbin_program(program: &str) -> Option<PathBuf> {
    let found = find_program(program).or_else(|| find_program(&format!("/usr/sbin/{program}")));
    if found.is_none() {
        report_missing(&format!("`{program}`"), is_ci());
    }
    found
}

/// `git` with no system or global configuration, and none of the environment variables that
/// would point it elsewhere ([`GIT_ENV_REMOVED`]).
fn git_command() -> Command {
    let mut cmd = Command::new("git");
    for var in GIT_ENV_REMOVED {
        cmd.env_remove(var);
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    cmd
}

/// Runs a `git` command to completion and returns its stdout; panics with its stderr on
/// failure.
fn git_output(command: &mut Command, what: &str) -> String {
    let output: Output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Commits what is staged in the working tree `tree`, as [`AUTHOR_NAME`].
fn commit(tree: &Path, message: &str) {
    git_output(
        git_command()
            .current_dir(tree)
            .arg("-c")
            .arg(format!("user.name={AUTHOR_NAME}"))
            .arg("-c")
            .arg(format!("user.email={AUTHOR_EMAIL}"))
            .args(["commit", "-q", "--allow-empty", "-m", message]),
        "git commit",
    );
}

/// Writes `content` to `path` (relative, `/`-separated) under `tree`, making directories.
fn write_file(tree: &Path, path: &str, content: &str) {
    assert!(
        !path.starts_with('/') && !path.split('/').any(|part| part == ".."),
        "file path {path:?} must be relative and stay inside the repository"
    );
    let file = tree.join(path);
    if let Some(parent) = file.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("creating {}: {e}", parent.display()));
    }
    fs::write(&file, content).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
}

/// `path` in single quotes for the shell that runs `GIT_SSH_COMMAND`.
fn shell_quote(path: &Path) -> String {
    let text = path.display().to_string();
    assert!(!text.contains('\''), "path {text:?} contains a single quote");
    format!("'{text}'")
}

/// `Basic base64(user:password)`.
fn basic_authorization(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// Succeeds when `address` answers with an SSH identification line (`SSH-2.0-…`).
fn ssh_banner(address: &str) -> impl Future<Output = Result<(), String>> + use<> {
    let address = address.to_owned();
    async move { ssh_banner_of(&address).await }
}

/// See [`ssh_banner`].
async fn ssh_banner_of(address: &str) -> Result<(), String> {
    let read = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        let mut banner = [0_u8; 4];
        stream.read_exact(&mut banner).await?;
        Ok::<_, std::io::Error>(banner)
    };
    match tokio::time::timeout(Duration::from_secs(2), read).await {
        Ok(Ok(banner)) if &banner == b"SSH-" => Ok(()),
        Ok(Ok(banner)) => Err(format!("not an SSH server: it sent {banner:?}")),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no banner within 2 s".to_owned()),
    }
}

/// lighttpd's configuration: `git-http-backend` at `/git/` over `repos`, basic auth required
/// for everything (wrong credentials are refused at once: lighttpd would wait 1 s by default),
/// TLS with `tls.crt` / `tls.key` from `dir` when `tls`. Logs go to stderr.
fn lighttpd_config(dir: &Path, repos: &Path, backend: &Path, port: u16, tls: bool) -> String {
    let d = dir.display();
    let mut config = String::from("server.modules = (");
    if tls {
        config.push_str("\"mod_openssl\", ");
    }
    let _ = write!(
        config,
        "\"mod_auth\", \"mod_authn_file\", \"mod_alias\", \"mod_setenv\", \"mod_cgi\")\n\
         server.bind = \"127.0.0.1\"\n\
         server.port = {port}\n\
         server.document-root = \"{d}/www\"\n\
         server.feature-flags = (\"auth.delay-invalid-creds\" => \"disable\")\n\
         alias.url = (\"/git/\" => \"{backend}/\")\n\
         $HTTP[\"url\"] =~ \"^/git/\" {{\n\
         \x20 cgi.assign = (\"\" => \"\")\n\
         \x20 setenv.add-environment = (\"GIT_PROJECT_ROOT\" => \"{repos}\", \"GIT_HTTP_EXPORT_ALL\" => \"1\")\n\
         }}\n\
         auth.backend = \"plain\"\n\
         auth.backend.plain.userfile = \"{d}/lighttpd.users\"\n\
         auth.require = (\"/\" => (\"method\" => \"basic\", \"realm\" => \"git\", \"require\" => \"valid-user\"))\n",
        backend = backend.display(),
        repos = repos.display(),
    );
    if tls {
        let _ = write!(
            config,
            "ssl.engine = \"enable\"\nssl.pemfile = \"{d}/tls.crt\"\nssl.privkey = \"{d}/tls.key\"\n"
        );
    }
    config
}

/// `sshd`'s configuration for `port`, with its keys in `dir`: key-only authentication (the
/// key in `dir/authorized_keys`, for any existing user, root included), no PAM, `AcceptEnv
/// GIT_PROTOCOL` so clients can speak protocol v2, and room for many parallel logins
/// (`MaxStartups` would otherwise drop connections beyond 10 unauthenticated ones).
fn sshd_config(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        "ListenAddress 127.0.0.1\n\
         Port {port}\n\
         HostKey {d}/host_ed25519\n\
         PidFile none\n\
         AuthorizedKeysFile {d}/authorized_keys\n\
         StrictModes no\n\
         PubkeyAuthentication yes\n\
         PasswordAuthentication no\n\
         KbdInteractiveAuthentication no\n\
         PermitRootLogin prohibit-password\n\
         UsePAM no\n\
         AcceptEnv GIT_PROTOCOL\n\
         MaxStartups 100\n\
         LogLevel VERBOSE\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lighttpd_config_names_its_files() {
        let plain = lighttpd_config(
            Path::new("/d"),
            Path::new("/d/repos"),
            Path::new("/usr/lib/git-core/git-http-backend"),
            8080,
            false,
        );
        assert!(plain.starts_with("server.modules = (\"mod_auth\""), "{plain}");
        assert!(plain.contains("server.port = 8080\n"), "{plain}");
        assert!(
            plain.contains("alias.url = (\"/git/\" => \"/usr/lib/git-core/git-http-backend/\")"),
            "{plain}"
        );
        assert!(plain.contains("\"GIT_PROJECT_ROOT\" => \"/d/repos\""), "{plain}");
        assert!(!plain.contains("ssl."), "{plain}");
        let tls = lighttpd_config(
            Path::new("/d"),
            Path::new("/d/repos"),
            Path::new("/b"),
            8443,
            true,
        );
        assert!(tls.starts_with("server.modules = (\"mod_openssl\", "), "{tls}");
        assert!(
            tls.contains("ssl.pemfile = \"/d/tls.crt\"\nssl.privkey = \"/d/tls.key\"\n"),
            "{tls}"
        );
    }

    #[test]
    fn sshd_config_is_key_only() {
        let config = sshd_config(Path::new("/d/ssh"), 2222);
        for line in [
            "Port 2222",
            "HostKey /d/ssh/host_ed25519",
            "PasswordAuthentication no",
            "UsePAM no",
            "PidFile none",
        ] {
            assert!(config.lines().any(|l| l == line), "{line} missing from\n{config}");
        }
    }

    #[test]
    fn start_can_be_spawned() {
        fn send<T: Send>(_: T) {}
        send(GitServer::start(GitTransport::Ssh));
    }

    #[test]
    fn paths_are_quoted_for_the_shell() {
        assert_eq!(shell_quote(Path::new("/tmp/a b/key")), "'/tmp/a b/key'");
    }
}

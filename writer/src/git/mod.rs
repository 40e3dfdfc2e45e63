//! Git: fetch the ref to start from, commit the edits, push, and retry a rejected push.
//!
//! Everything goes through the `git` command line, with an argument vector and never a shell.
//! One implementation for fetch and push means one place where credentials, CAs and SSH host
//! keys are configured, and transports behave the same both ways (gix, the alternative, cannot
//! push, so it would have meant two). Credentials never appear in a URL, on disk in the
//! repository, or in an error: HTTP credentials travel as an `Authorization` header set through
//! `GIT_CONFIG_*` environment variables of the child, SSH keys live in a private (0600)
//! temporary file for the duration of a call.
//!
//! Branch semantics follow Flux's image-automation-controller: check out a branch, tag, semver
//! range, ref name or commit ([`CheckoutRef`]); work on the push branch if it already exists on
//! the remote, otherwise start it from the checked-out commit; never force-push.
//!
//! Commits can be signed ([`SigningKey`], Flux's `spec.git.commit.signingKey`): `OpenPGP` through
//! `gpg` in a private, throwaway `GNUPGHOME` whose agent is stopped after the commit, SSH through
//! `ssh-keygen` with the key in a private temporary file. Keys and passphrases never appear in
//! arguments or errors, and nothing of them outlives the commit.

use std::ffi::OsString;
use std::fmt;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine as _;

mod checkout;
mod signing;

pub use checkout::CheckoutRef;
use signing::Signer;
pub use signing::{SigningError, SigningKey};

/// How to authenticate to the remote (a Flux `GitRepository`'s `secretRef`).
#[derive(Clone, Default)]
pub enum GitAuth {
    /// No credentials.
    #[default]
    Anonymous,
    /// `username` and `password` (HTTP basic; also personal access tokens).
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: String,
    },
    /// `bearerToken` (HTTP).
    Bearer(String),
    /// `identity` (a private key, OpenSSH or PEM) and `known_hosts`.
    Ssh {
        /// The private key text.
        identity: String,
        /// `known_hosts` lines; host keys are always checked.
        known_hosts: String,
    },
}

impl fmt::Debug for GitAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GitAuth::Anonymous => "Anonymous",
            GitAuth::Basic { .. } => "Basic(<redacted>)",
            GitAuth::Bearer(_) => "Bearer(<redacted>)",
            GitAuth::Ssh { .. } => "Ssh(<redacted>)",
        })
    }
}

/// An HTTP(S) proxy for the remote (a `GitRepository`'s `proxySecretRef`).
#[derive(Clone)]
pub struct Proxy {
    /// `http://host:port`, without credentials.
    pub address: String,
    /// User name and password, sent as proxy basic authentication.
    pub credentials: Option<(String, String)>,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("address", &self.address)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

impl Proxy {
    /// The value of git's `http.proxy`: `scheme://user:password@host:port`, the credentials
    /// percent-encoded.
    fn git_config_value(&self) -> String {
        let Some((user, password)) = &self.credentials else {
            return self.address.clone();
        };
        let (scheme, rest) = self.address.split_once("://").unwrap_or(("http", &self.address));
        format!(
            "{scheme}://{}:{}@{rest}",
            percent_encode(user),
            percent_encode(password)
        )
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// Where and how to reach the remote.
#[derive(Debug, Clone)]
pub struct Remote {
    /// The URL, without credentials (`https://…`, `ssh://…`, `file://…`).
    pub url: String,
    /// Credentials.
    pub auth: GitAuth,
    /// Extra CA certificates (PEM) for HTTPS (`ca.crt` of the secret).
    pub ca_pem: Option<Vec<u8>>,
    /// Bound on each git network operation (Flux: the `GitRepository`'s `timeout`).
    pub timeout: Duration,
    /// The proxy for HTTP(S) remotes; `None` leaves git to the environment (`HTTPS_PROXY`).
    pub proxy: Option<Proxy>,
}

/// Who commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// Author name.
    pub name: String,
    /// Author email.
    pub email: String,
}

/// A git operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// `git` could not be started.
    #[error("cannot run git: {0}")]
    Spawn(String),
    /// A git command failed.
    #[error("git {operation} failed ({status}): {stderr}")]
    Command {
        /// What was attempted (`fetch`, `commit`, …), without arguments that could hold secrets.
        operation: &'static str,
        /// Exit status.
        status: String,
        /// What git said (secrets scrubbed, truncated).
        stderr: String,
    },
    /// The remote refused the push because the branch moved (non-fast-forward).
    #[error("push to {branch} was rejected: the branch moved on the remote")]
    Rejected {
        /// The branch pushed to.
        branch: String,
    },
    /// The checkout branch does not exist on the remote.
    #[error("branch {0:?} does not exist on the remote")]
    NoSuchBranch(String),
    /// The checkout tag does not exist on the remote.
    #[error("tag {0:?} does not exist on the remote")]
    NoSuchTag(String),
    /// The checkout ref name does not exist on the remote.
    #[error("ref {0:?} does not exist on the remote")]
    NoSuchRef(String),
    /// No tag on the remote is inside the checkout semver range.
    #[error("no tag matches semver range {0:?}")]
    NoMatchingTag(String),
    /// The checkout semver range does not parse (the message names it).
    #[error("{0}")]
    InvalidSemver(String),
    /// The checkout commit is not on the remote (or not where the ref says it is).
    #[error("commit {commit} cannot be found on the remote: {detail}")]
    NoSuchCommit {
        /// The commit id.
        commit: String,
        /// What was tried.
        detail: String,
    },
    /// The checkout commit is not a full commit id.
    #[error("{0:?} is not a full commit id (40 hex digits)")]
    InvalidCommit(String),
    /// A branch name or refspec that git would misread (an option, a malformed ref).
    #[error("{0:?} is not a valid branch name or refspec")]
    InvalidRef(String),
    /// Local file system trouble (cache directory, key files).
    #[error("{context}: {reason}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        reason: String,
    },
    /// The commit could not be signed with the key given.
    #[error("cannot sign the commit: {0}")]
    Signing(#[from] SigningError),
}

impl Error {
    /// Whether retrying later may help: network and rejected pushes may; a missing branch, tag,
    /// ref or commit, a git that cannot run or an unusable signing key will not until something
    /// changes.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Command { .. }
                | Error::Rejected { .. }
                | Error::Io { .. }
                | Error::Signing(SigningError::Tool { .. })
        )
    }
}

/// A working clone of one remote, kept in a cache directory between runs.
#[derive(Debug)]
pub struct Repository {
    dir: PathBuf,
    remote: Remote,
}

/// The state after [`Repository::checkout`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedOut {
    /// The commit the working tree is at.
    pub commit: String,
    /// Whether the push branch already existed on the remote (and was checked out).
    pub push_branch_existed: bool,
    /// Flux's `observedSourceRevision` of the checkout ref: `main@sha1:<id>` for a branch,
    /// `v1.0.0@sha1:<id>` for a tag (or the tag a semver range chose), the ref name without
    /// its first two components for a name (`1/head@sha1:<id>` for `refs/pull/1/head`),
    /// `sha1:<id>` for a commit (`<branch>@sha1:<id>` when given with its branch). The id is
    /// the ref's commit, which is not [`CheckedOut::commit`] when an existing push branch was
    /// checked out instead.
    pub revision: String,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// The commit pushed.
    pub commit: String,
    /// The branch it was pushed to.
    pub branch: String,
}

impl Repository {
    /// Opens the clone in `dir`, creating it (an empty repository with `origin`) if needed.
    pub fn open(dir: &Path, remote: Remote) -> Result<Self, Error> {
        let repo = Repository {
            dir: dir.to_owned(),
            remote,
        };
        if !dir.join(".git").is_dir() {
            std::fs::create_dir_all(dir).map_err(|e| io("creating the clone directory", &e))?;
            repo.git("init", &["init", "-q"], None)?;
        }
        // The URL may have changed since the clone was made; it never holds credentials. A
        // remote needs no more than its URL: every fetch names its refspec.
        repo.git("remote", &["config", "remote.origin.url", &repo.remote.url], None)?;
        Ok(repo)
    }

    /// The working tree.
    #[must_use]
    pub fn workdir(&self) -> &Path {
        &self.dir
    }

    /// Commits every change in the working tree, unsigned; `None` when there is nothing to
    /// commit.
    pub fn commit(&self, message: &str, author: &Signature) -> Result<Option<String>, Error> {
        self.commit_signed(message, author, None)
    }

    /// Commits every change in the working tree, signed with `signing` when given; `None` when
    /// there is nothing to commit. The key is checked (and its passphrase tried) before git
    /// runs, so a bad key or passphrase is a [`SigningError`] naming the problem.
    pub fn commit_signed(
        &self,
        message: &str,
        author: &Signature,
        signing: Option<&SigningKey>,
    ) -> Result<Option<String>, Error> {
        self.git("add", &["add", "--all"], None)?;
        let status = self.git("status", &["status", "--porcelain"], None)?;
        if status.trim().is_empty() {
            return Ok(None);
        }
        let name = format!("user.name={}", author.name);
        let email = format!("user.email={}", author.email);
        // The message goes through a file: no length limits, no interpretation.
        let mut file = tempfile::NamedTempFile::new().map_err(|e| io("writing the commit message", &e))?;
        file.write_all(message.as_bytes())
            .map_err(|e| io("writing the commit message", &e))?;
        let message_path = file.path().to_string_lossy().into_owned();
        // Set up after the early return: an up-to-date run never touches the key.
        let signer = signing.map(Signer::prepare).transpose()?;
        let signer_config = signer.as_ref().map(Signer::config).unwrap_or_default();
        let mut args: Vec<&str> = vec!["-c", &name, "-c", &email];
        for setting in &signer_config {
            args.extend(["-c", setting.as_str()]);
        }
        args.extend([
            "commit",
            "-q",
            "--no-verify",
            "--cleanup=verbatim",
            if signer.is_some() { "-S" } else { "--no-gpg-sign" },
            "-F",
            &message_path,
        ]);
        let (env, remove) = signer.as_ref().map(Signer::environment).unwrap_or_default();
        let secrets = signing.map(SigningKey::secrets).unwrap_or_default();
        self.git_with("commit", &args, None, &env, remove, &secrets)?;
        drop(signer);
        self.head().map(Some)
    }

    /// Pushes `HEAD` to `branch` (never forced), plus extra `refspecs` and push `options`.
    pub fn push(&self, branch: &str, refspecs: &[String], options: &[String]) -> Result<Pushed, Error> {
        check_ref(branch)?;
        for refspec in refspecs {
            check_ref(refspec.trim_start_matches('+'))?;
        }
        let head = format!("HEAD:refs/heads/{branch}");
        let mut args: Vec<&str> = vec!["push", "--porcelain", "origin", &head];
        args.extend(refspecs.iter().map(String::as_str));
        let option_args: Vec<String> = options.iter().map(|o| format!("--push-option={o}")).collect();
        args.splice(1..1, option_args.iter().map(String::as_str));
        match self.git("push", &args, Some(self.remote.timeout)) {
            Ok(_) => Ok(Pushed {
                commit: self.head()?,
                branch: branch.to_owned(),
            }),
            Err(Error::Command { stderr, .. }) if lost_a_race(&stderr) => Err(Error::Rejected {
                branch: branch.to_owned(),
            }),
            Err(e) => Err(e),
        }
    }

    /// The commit id of `HEAD`.
    pub fn head(&self) -> Result<String, Error> {
        Ok(self
            .git("rev-parse", &["rev-parse", "HEAD"], None)?
            .trim()
            .to_owned())
    }

    /// Fetches the tip of `branch` (depth 1) into `refs/remotes/origin/<branch>`.
    fn fetch(&self, branch: &str) -> Result<(), Error> {
        let refspec = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
        self.git(
            "fetch",
            &["fetch", "-q", "--no-tags", "--depth=1", "origin", &refspec],
            Some(self.remote.timeout),
        )
        .map(drop)
    }

    /// Runs `git ARGS` in the clone. Operations that talk to the remote pass a `timeout`; only
    /// they get the remote's credentials, in their environment.
    fn git(
        &self,
        operation: &'static str,
        args: &[&str],
        timeout: Option<Duration>,
    ) -> Result<String, Error> {
        self.git_with(operation, args, timeout, &[], &[], &[])
    }

    /// [`Repository::git`] with more environment (`env` set, `remove` removed) and
    /// `more_secrets` to scrub from what git prints.
    fn git_with(
        &self,
        operation: &'static str,
        args: &[&str],
        timeout: Option<Duration>,
        env: &[(OsString, OsString)],
        remove: &[&str],
        more_secrets: &[&str],
    ) -> Result<String, Error> {
        let network = timeout.is_some();
        let secrets = if network {
            SecretFiles::new(&self.remote)?
        } else {
            SecretFiles::none()
        };
        let mut command = Command::new("git");
        command.arg("-C").arg(&self.dir).args(args);
        for (key, value) in self.environment(&secrets, network) {
            command.env(key, value);
        }
        for key in remove {
            command.env_remove(key);
        }
        if network && self.remote.proxy.is_some() {
            // A proxy the object names is for every request, loopback remotes included.
            for key in ["NO_PROXY", "no_proxy"] {
                command.env_remove(key);
            }
        }
        for (key, value) in env {
            command.env(key, value);
        }
        // Settings of the machine or user must not change what is committed or pushed.
        for key in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
        ] {
            command.env_remove(key);
        }
        let output = match run_with_timeout(&mut command, timeout, None) {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Err(Error::Command {
                    operation,
                    status: "timeout".into(),
                    stderr: e.to_string(),
                });
            }
            Err(e) => return Err(Error::Spawn(e.to_string())),
        };
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        stderr.push_str(&String::from_utf8_lossy(&output.stdout));
        Err(Error::Command {
            operation,
            status: output.status.to_string(),
            stderr: self.scrub(&stderr, more_secrets),
        })
    }

    fn environment(&self, secrets: &SecretFiles, network: bool) -> Vec<(OsString, OsString)> {
        let mut config: Vec<(String, String)> = Vec::new();
        let origin = self.remote.url.clone();
        let auth = if network {
            &self.remote.auth
        } else {
            &GitAuth::Anonymous
        };
        match auth {
            GitAuth::Basic { username, password } => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                config.push((
                    format!("http.{origin}.extraHeader"),
                    format!("Authorization: Basic {token}"),
                ));
            }
            GitAuth::Bearer(token) => {
                config.push((
                    format!("http.{origin}.extraHeader"),
                    format!("Authorization: Bearer {token}"),
                ));
            }
            GitAuth::Anonymous | GitAuth::Ssh { .. } => {}
        }
        if network && let Some(proxy) = &self.remote.proxy {
            config.push(("http.proxy".to_owned(), proxy.git_config_value()));
        }
        let mut env: Vec<(OsString, OsString)> = vec![
            ("GIT_TERMINAL_PROMPT".into(), "0".into()),
            ("GIT_CONFIG_NOSYSTEM".into(), "1".into()),
            ("GIT_CONFIG_GLOBAL".into(), "/dev/null".into()),
        ];
        env.push(("GIT_CONFIG_COUNT".into(), config.len().to_string().into()));
        for (i, (key, value)) in config.into_iter().enumerate() {
            env.push((format!("GIT_CONFIG_KEY_{i}").into(), key.into()));
            env.push((format!("GIT_CONFIG_VALUE_{i}").into(), value.into()));
        }
        // `GIT_SSL_CAINFO` overrides `http.sslCAInfo`, and machines often export it.
        if let Some(ca) = &secrets.ca {
            env.push(("GIT_SSL_CAINFO".into(), ca.path().as_os_str().to_owned()));
        }
        if let (Some(identity), Some(known_hosts)) = (&secrets.identity, &secrets.known_hosts) {
            // git runs GIT_SSH_COMMAND through `sh -c`; the only variable parts are our own
            // temporary paths, single-quoted.
            let ssh = format!(
                "ssh -F /dev/null -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o BatchMode=yes",
                shell_quote(&identity.path().to_string_lossy()),
                shell_quote(&known_hosts.path().to_string_lossy())
            );
            env.push(("GIT_SSH_COMMAND".into(), ssh.into()));
        }
        env
    }

    /// Removes every secret we hold (the remote's and `more`) from text git printed, and
    /// truncates it.
    fn scrub(&self, text: &str, more: &[&str]) -> String {
        let mut secrets: Vec<&str> = match &self.remote.auth {
            GitAuth::Basic {
                username: _,
                password,
            } => vec![password],
            GitAuth::Bearer(token) => vec![token],
            GitAuth::Ssh { identity, .. } => vec![identity],
            GitAuth::Anonymous => vec![],
        };
        let proxy_password = self
            .remote
            .proxy
            .as_ref()
            .and_then(|p| p.credentials.as_ref())
            .map(|(_, password)| (password.as_str(), percent_encode(password)));
        if let Some((password, encoded)) = &proxy_password {
            secrets.push(password);
            secrets.push(encoded);
        }
        secrets.extend_from_slice(more);
        scrub(text, &secrets)
    }
}

/// Removes `secrets` from `text`, trims and truncates it.
fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret, "<redacted>");
    }
    let text = text.trim();
    match text.char_indices().nth(2000) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Credentials as private temporary files, removed when the call ends.
struct SecretFiles {
    identity: Option<tempfile::NamedTempFile>,
    known_hosts: Option<tempfile::NamedTempFile>,
    ca: Option<tempfile::NamedTempFile>,
}

impl SecretFiles {
    fn none() -> Self {
        SecretFiles {
            identity: None,
            known_hosts: None,
            ca: None,
        }
    }

    fn new(remote: &Remote) -> Result<Self, Error> {
        let write = |text: &[u8]| -> Result<tempfile::NamedTempFile, Error> {
            // NamedTempFile creates files with mode 0600, which ssh insists on for keys.
            let mut file = tempfile::NamedTempFile::new().map_err(|e| io("writing a credential file", &e))?;
            file.write_all(text)
                .map_err(|e| io("writing a credential file", &e))?;
            if !text.ends_with(b"\n") {
                file.write_all(b"\n")
                    .map_err(|e| io("writing a credential file", &e))?;
            }
            Ok(file)
        };
        let (identity, known_hosts) = match &remote.auth {
            GitAuth::Ssh {
                identity,
                known_hosts,
            } => (
                Some(write(identity.as_bytes())?),
                Some(write(known_hosts.as_bytes())?),
            ),
            _ => (None, None),
        };
        let ca = remote.ca_pem.as_deref().map(write).transpose()?;
        Ok(SecretFiles {
            identity,
            known_hosts,
            ca,
        })
    }
}

fn io(context: &str, error: &std::io::Error) -> Error {
    Error::Io {
        context: context.to_owned(),
        reason: error.to_string(),
    }
}

/// `'text'` with embedded single quotes escaped, for the one string git hands to `sh -c`.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// Refuses names git would take for an option (`--upload-pack=…`) or cannot store as a ref:
/// they come from configuration and end up as arguments.
fn check_ref(name: &str) -> Result<(), Error> {
    let bad = name.is_empty()
        || name.starts_with('-')
        || name.contains("..")
        || name.contains("@{")
        || name.ends_with('/')
        // git refuses `.lock` suffixes in any case on case-insensitive file systems.
        || name.to_ascii_lowercase().ends_with(".lock")
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "~^?*[\\".contains(c));
    if bad {
        return Err(Error::InvalidRef(name.chars().take(100).collect()));
    }
    Ok(())
}

/// Whether a failed push lost a race for the branch (retry from the new tip) rather than being
/// refused for good (a hook, permissions). The porcelain output is the only signal git gives.
fn lost_a_race(stderr: &str) -> bool {
    stderr.contains("[rejected]")
        || stderr.contains("non-fast-forward")
        || stderr.contains("fetch first")
        // Two pushes reaching the server together: the loser's ref update fails to lock.
        || (stderr.contains("[remote rejected]")
            && (stderr.contains("cannot lock ref") || stderr.contains("failed to update ref")))
}

fn drain<R: std::io::Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buf);
        }
        buf
    })
}

/// Runs a command with `input` (or nothing) on its standard input, killing it if it outlives
/// `timeout`.
fn run_with_timeout(
    command: &mut Command,
    timeout: Option<Duration>,
    input: Option<&[u8]>,
) -> std::io::Result<std::process::Output> {
    use std::process::Stdio;
    let mut child = command
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        // On a thread, so a child that writes before it has read everything cannot deadlock
        // with us; a child that exits without reading makes the write fail, which is fine.
        let input = input.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
    }
    let Some(timeout) = timeout else {
        return child.wait_with_output();
    };
    let started = std::time::Instant::now();
    // Drain the pipes on threads so a chatty git cannot block on a full pipe while we wait.
    let out_thread = drain(child.stdout.take());
    let err_thread = drain(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("git did not finish within {timeout:?}"),
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Ok(std::process::Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    })
}

//! Commit signing: an `OpenPGP` key in a private, temporary `GNUPGHOME`, or an SSH key in a
//! private file, readied and checked before git runs, and cleaned up afterwards.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{Error, io, run_with_timeout, scrub};

/// A key to sign commits with (Flux's `spec.git.commit.signingKey`, read from its Secret).
#[derive(Clone)]
pub enum SigningKey {
    /// `type: gpg` (the default): the Secret's `git.asc` and `passphrase`.
    OpenPgp {
        /// An ASCII-armored `OpenPGP` private key; exactly one key (entity) is allowed.
        armored: String,
        /// The key's passphrase, when it is protected. It cannot contain a line break.
        passphrase: Option<String>,
    },
    /// `type: ssh` (Flux v1.2.0): the Secret's `identity` and `password`.
    Ssh {
        /// A private key, OpenSSH or PEM (ed25519, ecdsa, rsa).
        private_key: String,
        /// The key's passphrase, when it is encrypted. It cannot contain a line break.
        passphrase: Option<String>,
    },
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SigningKey::OpenPgp { .. } => "OpenPgp(<redacted>)",
            SigningKey::Ssh { .. } => "Ssh(<redacted>)",
        })
    }
}

/// Why a commit could not be signed. Messages name the problem, never the key or passphrase.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// The key text is not a usable private key (what the tool said, secrets scrubbed).
    #[error("the {kind} signing key cannot be read: {reason}")]
    BadKey {
        /// `OpenPGP` or `SSH`.
        kind: &'static str,
        /// What `gpg` or `ssh-keygen` said.
        reason: String,
    },
    /// The `OpenPGP` key text holds more than one key (Flux refuses this too).
    #[error("the OpenPGP signing key holds {0} keys; exactly one is allowed")]
    TooManyKeys(usize),
    /// The `OpenPGP` key text holds only a public key.
    #[error("the OpenPGP signing key holds no private key")]
    NoPrivateKey,
    /// The key is protected and no passphrase was given.
    #[error("the {0} signing key is protected by a passphrase, and none was given")]
    PassphraseRequired(&'static str),
    /// The passphrase does not unlock the key.
    #[error("the passphrase of the {0} signing key is wrong")]
    WrongPassphrase(&'static str),
    /// The passphrase holds a line break, which the tools read as its end.
    #[error("the passphrase of the {0} signing key contains a line break")]
    UnusablePassphrase(&'static str),
    /// `gpg`, `gpgconf` or `ssh-keygen` could not be started.
    #[error("cannot run {program}: {reason}")]
    Spawn {
        /// The program.
        program: &'static str,
        /// The OS error.
        reason: String,
    },
    /// The key was read but signing failed for another reason (expired key, no signing
    /// capability, a tool timing out).
    #[error("{program} failed ({status}): {stderr}")]
    Tool {
        /// The program.
        program: &'static str,
        /// Exit status.
        status: String,
        /// What it said (secrets scrubbed, truncated).
        stderr: String,
    },
}

/// How long `gpg`, `gpgconf` or `ssh-keygen` may take for one step of preparing a key.
const SIGNING_TOOL_TIMEOUT: Duration = Duration::from_mins(1);

/// Environment that could make `ssh-keygen` ask for a passphrase elsewhere than on its
/// standard input (an askpass program, a display) or sign with an agent's key.
const SSH_KEYGEN_ENV_REMOVED: &[&str] = &[
    "SSH_AUTH_SOCK",
    "SSH_ASKPASS",
    "SSH_ASKPASS_REQUIRE",
    "DISPLAY",
    "WAYLAND_DISPLAY",
];

impl SigningKey {
    /// What must never appear in an error: the key, its longer lines (should a tool quote
    /// one), and the passphrase.
    pub(super) fn secrets(&self) -> Vec<&str> {
        let (key, passphrase) = match self {
            SigningKey::OpenPgp { armored, passphrase } => (armored, passphrase),
            SigningKey::Ssh {
                private_key,
                passphrase,
            } => (private_key, passphrase),
        };
        let mut secrets = vec![key.as_str()];
        secrets.extend(
            key.lines()
                .map(str::trim)
                .filter(|line| line.len() >= 16 && !line.starts_with("-----")),
        );
        secrets.extend(passphrase.as_deref());
        secrets
    }
}

/// A signing key made ready for one commit. Dropping it stops what it started and removes its
/// files.
pub(super) enum Signer {
    /// The key imported into a private `GNUPGHOME`, known by its fingerprint.
    OpenPgp { home: GpgHome, fingerprint: String },
    /// The (decrypted) key in a private file; `_dir` holds it.
    Ssh { _dir: tempfile::TempDir, key: PathBuf },
}

impl Signer {
    /// Readies `key` and checks that it can sign (with its passphrase, if any).
    pub(super) fn prepare(key: &SigningKey) -> Result<Signer, Error> {
        let secrets = key.secrets();
        match key {
            SigningKey::OpenPgp { armored, passphrase } => {
                prepare_openpgp(armored, passphrase.as_deref(), &secrets)
            }
            SigningKey::Ssh {
                private_key,
                passphrase,
            } => prepare_ssh(private_key, passphrase.as_deref(), &secrets),
        }
    }

    /// `git -c` settings that make `commit -S` use this key.
    pub(super) fn config(&self) -> Vec<String> {
        match self {
            Signer::OpenPgp { fingerprint, .. } => vec![
                "gpg.format=openpgp".to_owned(),
                "gpg.program=gpg".to_owned(),
                format!("user.signingKey={fingerprint}"),
            ],
            Signer::Ssh { key, .. } => vec![
                "gpg.format=ssh".to_owned(),
                "gpg.ssh.program=ssh-keygen".to_owned(),
                format!("user.signingKey={}", key.display()),
            ],
        }
    }

    /// Environment for the `git commit` child: set, and removed.
    pub(super) fn environment(&self) -> (Vec<(OsString, OsString)>, &'static [&'static str]) {
        match self {
            Signer::OpenPgp { home, .. } => (
                vec![("GNUPGHOME".into(), home.path().as_os_str().to_owned())],
                &[],
            ),
            Signer::Ssh { .. } => (Vec::new(), SSH_KEYGEN_ENV_REMOVED),
        }
    }
}

/// A private (0700), throwaway `GNUPGHOME`. Dropping it stops the `gpg-agent` (and anything
/// else) gpg started for it, then removes the directory with the imported key.
pub(super) struct GpgHome {
    dir: tempfile::TempDir,
}

impl GpgHome {
    fn new() -> Result<Self, Error> {
        Ok(GpgHome { dir: private_dir()? })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `gpg ARGS` in this home.
    fn gpg(&self, args: &[&str], input: Option<&[u8]>) -> Result<std::process::Output, SigningError> {
        let mut command = Command::new("gpg");
        command
            .arg("--homedir")
            .arg(self.path())
            .args(args)
            .env("GNUPGHOME", self.path());
        run_tool("gpg", &mut command, input)
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        // `--kill all` asks the agent to exit and waits for it; `--remove-socketdir` removes
        // the socket directory gpg makes under /run/user for a non-default home (a no-op when
        // the sockets live in the home itself).
        for args in [["--kill", "all"].as_slice(), ["--remove-socketdir"].as_slice()] {
            let mut command = Command::new("gpgconf");
            command.arg("--homedir").arg(self.path()).args(args);
            let _ = run_with_timeout(&mut command, Some(SIGNING_TOOL_TIMEOUT), None);
        }
    }
}

/// Imports an `OpenPGP` key into a fresh private home and signs a test message with it, so a
/// wrong or missing passphrase is found before git runs. The passphrase reaches gpg (and so
/// the `gpg` git runs) through `passphrase-file` in the home's `gpg.conf`, with loopback
/// pinentry: never as an argument, and no prompt can wait for a terminal.
fn prepare_openpgp(armored: &str, passphrase: Option<&str>, secrets: &[&str]) -> Result<Signer, Error> {
    const KIND: &str = "OpenPGP";
    // gpg reads only the first line of a passphrase file.
    if passphrase.is_some_and(has_line_break) {
        return Err(SigningError::UnusablePassphrase(KIND).into());
    }
    let home = GpgHome::new()?;
    let mut conf = String::from("batch\nno-tty\npinentry-mode loopback\n");
    if let Some(passphrase) = passphrase {
        let file = home.path().join("passphrase");
        write_private(&file, passphrase.as_bytes())?;
        let file = file.to_string_lossy();
        if file.contains(['"', '\n', '\r']) {
            return Err(Error::Io {
                context: "writing gpg.conf".into(),
                reason: format!("the temporary directory {file:?} cannot be named in it"),
            });
        }
        conf.push_str("passphrase-file \"");
        conf.push_str(&file);
        conf.push_str("\"\n");
    }
    write_private(&home.path().join("gpg.conf"), conf.as_bytes())?;

    let imported = home.gpg(&["--import"], Some(armored.as_bytes()))?;
    if !imported.status.success() {
        return Err(SigningError::BadKey {
            kind: KIND,
            reason: scrub(&String::from_utf8_lossy(&imported.stderr), secrets),
        }
        .into());
    }
    // Flux reads the armored text as a key ring and refuses more than one entity.
    let listed = home.gpg(&["--with-colons", "--list-keys"], None)?;
    let keys = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .filter(|l| l.starts_with("pub:"))
        .count();
    if keys > 1 {
        return Err(SigningError::TooManyKeys(keys).into());
    }
    let listed = home.gpg(&["--with-colons", "--list-secret-keys"], None)?;
    let fingerprint =
        secret_key_fingerprint(&String::from_utf8_lossy(&listed.stdout)).ok_or(SigningError::NoPrivateKey)?;

    // The test signature goes to a new file in the home: never `--output /dev/null`, since gpg
    // deletes its output file when signing fails, and as root that is the device node.
    let probe_file = home.path().join("probe.sig");
    let probe_file = probe_file.to_string_lossy();
    let probe = home.gpg(
        &[
            "--status-fd",
            "1",
            "--local-user",
            &fingerprint,
            "--detach-sign",
            "--output",
            &probe_file,
        ],
        None,
    )?;
    let status = String::from_utf8_lossy(&probe.stdout);
    if probe.status.success() && status.contains("[GNUPG:] SIG_CREATED ") {
        return Ok(Signer::OpenPgp { home, fingerprint });
    }
    Err(match passphrase {
        None if status.contains("[GNUPG:] NEED_PASSPHRASE ") => SigningError::PassphraseRequired(KIND),
        Some(_) if bad_passphrase(&status) => SigningError::WrongPassphrase(KIND),
        _ => tool_failure("gpg", &probe, secrets),
    }
    .into())
}

/// The fingerprint of the first secret key in `gpg --with-colons --list-secret-keys` output.
fn secret_key_fingerprint(listing: &str) -> Option<String> {
    let mut lines = listing.lines().skip_while(|l| !l.starts_with("sec:"));
    lines.next()?;
    let fpr = lines
        .take_while(|l| !l.starts_with("sec:"))
        .find(|l| l.starts_with("fpr:"))?;
    let fingerprint = fpr.split(':').nth(9)?;
    (!fingerprint.is_empty() && fingerprint.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| fingerprint.to_owned())
}

/// Whether gpg's status lines say the passphrase was wrong (`BAD_PASSPHRASE`, or a failure
/// with `GPG_ERR_BAD_PASSPHRASE`, code 11, from any error source).
fn bad_passphrase(status: &str) -> bool {
    status.lines().any(|line| {
        let Some(rest) = line.strip_prefix("[GNUPG:] ") else {
            return false;
        };
        rest.starts_with("BAD_PASSPHRASE")
            || rest
                .strip_prefix("FAILURE ")
                .and_then(|f| f.split_whitespace().nth(1))
                .and_then(|code| code.parse::<u32>().ok())
                .is_some_and(|code| code & 0xffff == 11)
    })
}

/// Writes an SSH key to a private file for `ssh-keygen`, decrypting that copy first when a
/// passphrase is given: `ssh-keygen -p` reads the old passphrase from its standard input when
/// that is not a terminal and no askpass program is allowed (the environment that could allow
/// one is removed).
fn prepare_ssh(private_key: &str, passphrase: Option<&str>, secrets: &[&str]) -> Result<Signer, Error> {
    const KIND: &str = "SSH";
    if passphrase.is_some_and(has_line_break) {
        return Err(SigningError::UnusablePassphrase(KIND).into());
    }
    let dir = private_dir()?;
    let key = dir.path().join("signing-key");
    let mut text = private_key.as_bytes().to_vec();
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    write_private(&key, &text)?;
    let unreadable = |output: &std::process::Output| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("incorrect passphrase") {
            if passphrase.is_some() {
                SigningError::WrongPassphrase(KIND)
            } else {
                SigningError::PassphraseRequired(KIND)
            }
        } else {
            SigningError::BadKey {
                kind: KIND,
                reason: scrub(&stderr, secrets),
            }
        }
    };
    if let Some(passphrase) = passphrase {
        let input = format!("{passphrase}\n");
        let decrypted = ssh_keygen(
            &[
                OsStr::new("-p"),
                OsStr::new("-N"),
                OsStr::new(""),
                OsStr::new("-f"),
                key.as_os_str(),
            ],
            Some(input.as_bytes()),
        )?;
        if !decrypted.status.success() {
            return Err(unreadable(&decrypted).into());
        }
    }
    // Derive the public key: proves the file is a private key that needs no passphrase now.
    let public = ssh_keygen(
        &[
            OsStr::new("-y"),
            OsStr::new("-P"),
            OsStr::new(""),
            OsStr::new("-f"),
            key.as_os_str(),
        ],
        None,
    )?;
    if !public.status.success() {
        return Err(unreadable(&public).into());
    }
    Ok(Signer::Ssh { _dir: dir, key })
}

fn ssh_keygen(args: &[&OsStr], input: Option<&[u8]>) -> Result<std::process::Output, SigningError> {
    let mut command = Command::new("ssh-keygen");
    command.args(args);
    for key in SSH_KEYGEN_ENV_REMOVED {
        command.env_remove(key);
    }
    run_tool("ssh-keygen", &mut command, input)
}

fn has_line_break(text: &str) -> bool {
    text.contains(['\n', '\r'])
}

/// Runs a signing tool, bounded by [`SIGNING_TOOL_TIMEOUT`]; its exit status is the caller's
/// to judge.
fn run_tool(
    program: &'static str,
    command: &mut Command,
    input: Option<&[u8]>,
) -> Result<std::process::Output, SigningError> {
    match run_with_timeout(command, Some(SIGNING_TOOL_TIMEOUT), input) {
        Ok(output) => Ok(output),
        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(SigningError::Tool {
            program,
            status: "timeout".into(),
            stderr: format!("{program} did not finish within {SIGNING_TOOL_TIMEOUT:?}"),
        }),
        Err(e) => Err(SigningError::Spawn {
            program,
            reason: e.to_string(),
        }),
    }
}

fn tool_failure(program: &'static str, output: &std::process::Output, secrets: &[&str]) -> SigningError {
    SigningError::Tool {
        program,
        status: output.status.to_string(),
        stderr: scrub(&String::from_utf8_lossy(&output.stderr), secrets),
    }
}

/// A temporary directory only we can enter (0700), removed on drop.
fn private_dir() -> Result<tempfile::TempDir, Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::Builder::new()
        .prefix("imagebump-sign-")
        .tempdir()
        .map_err(|e| io("creating a directory for the signing key", &e))?;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .map_err(|e| io("creating a directory for the signing key", &e))?;
    Ok(dir)
}

/// Creates `path` (which must not exist) with mode 0600 and writes `content`.
fn write_private(path: &Path, content: &[u8]) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io("writing a signing key file", &e))?;
    file.write_all(content)
        .map_err(|e| io("writing a signing key file", &e))
}

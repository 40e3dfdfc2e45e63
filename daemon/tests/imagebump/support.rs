//! Helpers shared by the end-to-end tests.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The repository root, for the shipped examples under `etc/`.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A shipped example file.
pub fn example(name: &str) -> PathBuf {
    repo_root().join("etc/imagebump/examples").join(name)
}

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `imagebump ARGS`, feeding `stdin`.
pub fn imagebump(args: &[&str], stdin: &str) -> Run {
    run_imagebump(Command::new(env!("CARGO_BIN_EXE_imagebump")).args(args), stdin)
}

/// Variables through which a child could pick up (or skip) a proxy from the test runner's own
/// environment: reqwest reads the first three pairs, skips `NO_PROXY` hosts, and ignores them
/// all when `REQUEST_METHOD` is set (CGI).
const PROXY_VARIABLES: [&str; 9] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUEST_METHOD",
];

/// Runs `imagebump ARGS` as [`imagebump`] does, but with the proxy variables of the test's own
/// environment removed and `env` set instead, so proxy tests do not depend on the machine.
pub fn imagebump_with_env(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_imagebump"));
    for name in PROXY_VARIABLES {
        command.env_remove(name);
    }
    command.args(args).envs(env.iter().copied());
    run_imagebump(&mut command, stdin)
}

fn run_imagebump(command: &mut Command, stdin: &str) -> Run {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the imagebump binary starts");
    // A command that fails before reading its input closes the pipe early; that is fine.
    let _ = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(stdin.as_bytes());
    child.wait_with_output().expect("imagebump finishes").into()
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("writing a test file");
    path.display().to_string()
}

/// The seed document's `ImageRepository`, as `flux create image repository --export` prints it.
pub const SEED_REPOSITORY: &str = "apiVersion: image.toolkit.fluxcd.io/v1beta1
kind: ImageRepository
metadata:
  name: podinfo
  namespace: flux-system
spec:
  image: ghcr.io/stefanprodan/podinfo
  interval: 1m0s
";

/// The seed document's `ImagePolicy`.
pub const SEED_POLICY: &str = "apiVersion: image.toolkit.fluxcd.io/v1beta1
kind: ImagePolicy
metadata:
  name: podinfo
  namespace: flux-system
spec:
  imageRepositoryRef:
    name: podinfo
  policy:
    semver:
      range: 5.0.x
";

/// The seed document's `ImageUpdateAutomation`.
pub const SEED_AUTOMATION: &str = "apiVersion: image.toolkit.fluxcd.io/v1beta1
kind: ImageUpdateAutomation
metadata:
  name: flux-system
  namespace: flux-system
spec:
  interval: 1m0s
  sourceRef:
    kind: GitRepository
    name: flux-system
  git:
    checkout:
      ref:
        branch: main
    commit:
      author:
        email: fluxcdbot@users.noreply.github.com
        name: fluxcdbot
      messageTemplate: '{{range .Updated.Images}}{{println .}}{{end}}'
    push:
      branch: main
  update:
    path: ./clusters/my-cluster
    strategy: Setters
";

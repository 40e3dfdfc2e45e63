//! A running `imagebump daemon` for the end-to-end tests of `daemon.rs` and `webhooks.rs`: its config and
//! objects in a temporary directory, its log in a file (printed when the test fails), its
//! HTTP endpoints, its control socket through the CLI, and signals.

use std::fmt::Write as _;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use imagebump_testsupport::{GitServer, GitTransport, RegistryMode, TestRegistry};
use serde_json::Value;

use crate::support::Run;

/// Long enough for a clone, a commit and a push on two loaded cores; a passing test never
/// waits this long.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How long a test watches for something that must *not* happen (a commit while suspended).
pub const QUIET: Duration = Duration::from_secs(2);

/// Polls `condition` every 50 ms until it holds; panics naming `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if condition() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How to start the daemon beyond the defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The `objects` entry of imagebump.toml, relative to the directory (`objects`); it may be
    /// a symbolic link the test made before starting.
    pub objects_entry: String,
    /// Extra arguments after `daemon --config FILE` (`--log-format json`).
    pub args: Vec<String>,
    /// Extra imagebump.toml tables (`[webhooks]\nmax_body_bytes = 64\n`).
    pub extra_config: String,
    /// Extra environment of the daemon process.
    pub env: Vec<(String, String)>,
    /// Extra top-level imagebump.toml keys (`secrets_dir = "secrets"`), before any table.
    pub top_level_config: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            objects_entry: "objects".to_owned(),
            args: Vec::new(),
            extra_config: String::new(),
            env: Vec::new(),
            top_level_config: String::new(),
        }
    }
}

/// See the module docs. imagebump.toml, the objects, the state, the socket and the log all
/// live in the directory given to [`start`](Self::start). Dropping it kills the daemon; if the test is failing, the daemon's
/// log is printed first.
pub struct DaemonUnderTest {
    /// imagebump.toml.
    pub config: PathBuf,
    /// Where the object files are (`dir/objects` unless [`Settings::objects_entry`] says else).
    pub objects: PathBuf,
    /// `state_dir`.
    pub state: PathBuf,
    /// The control socket.
    pub socket: PathBuf,
    /// `[http] listen` of the running process (a new port on each start).
    pub http: SocketAddr,
    settings: Settings,
    child: Option<Child>,
    /// Every start appends to the same log, with a marker line between runs.
    log: PathBuf,
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl DaemonUnderTest {
    /// Writes `objects` (file name, YAML) into `dir/objects`, a config naming them, and starts
    /// the daemon; returns once `/readyz` answers 200.
    pub fn start<N: AsRef<str>, T: AsRef<str>>(dir: &Path, objects: &[(N, T)]) -> Self {
        Self::start_with(dir, objects, Settings::default())
    }

    /// [`start`](Self::start) with [`Settings`].
    pub fn start_with<N: AsRef<str>, T: AsRef<str>>(
        dir: &Path,
        objects: &[(N, T)],
        settings: Settings,
    ) -> Self {
        let objects_dir = dir.join(&settings.objects_entry);
        std::fs::create_dir_all(&objects_dir).expect("creating the objects directory");
        for (name, text) in objects {
            std::fs::write(objects_dir.join(name.as_ref()), text.as_ref()).expect("writing an object file");
        }
        let mut daemon = DaemonUnderTest {
            config: dir.join("imagebump.toml"),
            objects: objects_dir,
            state: dir.join("state"),
            socket: dir.join("control.sock"),
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            settings,
            child: None,
            log: dir.join("daemon.log"),
        };
        daemon.spawn();
        daemon
    }

    /// Starts the process again (after [`kill`](Self::kill) or [`stop`](Self::stop)) with the
    /// same objects and state, on a new HTTP port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the daemon is still running");
        self.spawn();
    }

    fn spawn(&mut self) {
        self.http = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = format!(
            "objects = [{objects:?}]\nstate_dir = {state:?}\ndefault_namespace = \"flux-system\"\n{top}\
             [http]\nlisten = \"{http}\"\n[control]\nsocket = {socket:?}\n{extra}",
            objects = self.settings.objects_entry,
            state = self.state.display().to_string(),
            http = self.http,
            socket = self.socket.display().to_string(),
            extra = self.settings.extra_config,
            top = self.settings.top_level_config,
        );
        std::fs::write(&self.config, config).expect("writing imagebump.toml");
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("opening the daemon log");
        writeln!(log, "===== imagebump daemon starting =====").expect("writing the daemon log");
        let child = Command::new(env!("CARGO_BIN_EXE_imagebump"))
            .arg("daemon")
            .arg("--config")
            .arg(&self.config)
            .args(&self.settings.args)
            .env_remove("IMAGEBUMP_CONFIG")
            .env_remove("IMAGEBUMP_LOG")
            .env_remove("IMAGEBUMP_LOG_FORMAT")
            .env_remove("NOTIFY_SOCKET")
            .envs(self.settings.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("duplicating the log handle"))
            .stderr(log)
            .spawn()
            .expect("starting imagebump daemon");
        self.child = Some(child);
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.try_wait() {
                panic!("imagebump daemon exited at start with {status}");
            }
            if self.get("/readyz").is_some_and(|(code, _)| code == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "/readyz was not 200 within {PATIENCE:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process id of the running daemon.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the daemon is running").id()
    }

    /// Sends `signal` (`TERM`, `HUP`) with `kill(1)`.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("running kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGKILL, and waits for the process to be gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM; returns the exit status and how long the process took to exit (panics after
    /// [`PATIENCE`]).
    pub fn stop(&mut self) -> (ExitStatus, Duration) {
        let started = Instant::now();
        self.signal("TERM");
        let mut child = self.child.take().expect("the daemon is running");
        loop {
            if let Some(status) = child.try_wait().expect("waiting for the daemon") {
                return (status, started.elapsed());
            }
            if started.elapsed() > PATIENCE {
                let _ = child.kill();
                let _ = child.wait();
                panic!("imagebump daemon did not exit within {PATIENCE:?} of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().expect("waiting for the daemon"))
    }

    /// Everything the daemon logged so far (all runs).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` on the daemon's HTTP listener: status code and body, `None` when nothing
    /// answers.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        self.request("GET", path, &[], b"")
    }

    /// One HTTP/1.1 request to the daemon's `[http] listen` address: status and body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect_timeout(&self.http, Duration::from_secs(2)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.http,
            body.len()
        );
        for (name, value) in headers {
            let _ = write!(head, "{name}: {value}\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).ok()?;
        // A server may answer (413) before reading a large body; the answer still counts.
        let _ = stream.write_all(body);
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        let code = head.split_whitespace().nth(1)?.parse().ok()?;
        Some((code, body.to_owned()))
    }

    /// Runs `imagebump ARGS --config imagebump.toml`.
    pub fn cli(&self, args: &[&str]) -> Run {
        Command::new(env!("CARGO_BIN_EXE_imagebump"))
            .args(args)
            .arg("--config")
            .arg(&self.config)
            .env_remove("IMAGEBUMP_CONFIG")
            .stdin(Stdio::null())
            .output()
            .expect("running imagebump")
            .into()
    }

    /// `imagebump get images KIND [NAME] -o json` (`imagebump get receivers` for
    /// `receivers`), parsed (an empty array when nothing is found).
    pub fn status(&self, kind: &str, name: Option<&str>) -> Vec<Value> {
        let mut args = if kind == "receivers" {
            vec!["get", "receivers"]
        } else {
            vec!["get", "images", kind]
        };
        args.extend(name);
        args.extend(["-o", "json"]);
        let run = self.cli(&args);
        assert!(
            run.code == 0 || run.code == 1,
            "imagebump get failed ({}): {}",
            run.code,
            run.stderr
        );
        serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("imagebump get -o json printed no JSON ({e}): {}", run.stdout))
    }

    /// The status of one object (`repository`, `policy` or `update`), `Value::Null` when the
    /// daemon does not know it.
    pub fn object(&self, kind: &str, name: &str) -> Value {
        self.status(kind, Some(name))
            .into_iter()
            .next()
            .unwrap_or(Value::Null)
    }

    /// Writes (or replaces) an object file in the objects directory, atomically (write then
    /// rename), as an editor or a config management tool would.
    pub fn write_object(&self, name: &str, text: &str) {
        let temporary = self.objects.join(format!(".{name}.tmp"));
        std::fs::write(&temporary, text).expect("writing an object file");
        std::fs::rename(&temporary, self.objects.join(name)).expect("renaming an object file");
    }
}

impl Drop for DaemonUnderTest {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "----- imagebump daemon log ({}) -----\n{}----- end of the daemon log -----",
                self.log.display(),
                self.log()
            );
        }
    }
}

/// Flux objects as YAML, the way users write them.
pub mod objects {
    /// An `ImageRepository` (v1beta2) scanning `image` every `interval`.
    pub fn repository(name: &str, image: &str, interval: &str) -> String {
        format!(
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata:\n  \
             name: {name}\n  namespace: flux-system\nspec:\n  image: {image}\n  interval: {interval}\n"
        )
    }

    /// An `ImagePolicy` (v1beta2) with a semver range.
    pub fn policy(name: &str, repository: &str, range: &str) -> String {
        format!(
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  \
             name: {name}\n  namespace: flux-system\nspec:\n  imageRepositoryRef:\n    \
             name: {repository}\n  policy:\n    semver:\n      range: '{range}'\n"
        )
    }

    /// A `GitRepository` (v1) on `url`, branch `main`.
    pub fn git_repository(name: &str, url: &str) -> String {
        format!(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  \
             name: {name}\n  namespace: flux-system\nspec:\n  interval: 1h\n  url: {url}\n  \
             ref:\n    branch: main\n"
        )
    }

    /// What an [`automation`] writes where.
    pub struct Automation<'a> {
        /// Its name.
        pub name: &'a str,
        /// The `GitRepository`.
        pub source: &'a str,
        /// `spec.git.push.branch`.
        pub push_branch: &'a str,
        /// `spec.update.path`.
        pub path: &'a str,
        /// `spec.suspend`.
        pub suspend: bool,
    }

    impl<'a> Automation<'a> {
        /// Checks out and pushes `main`, updates the whole tree, not suspended.
        pub fn new(name: &'a str, source: &'a str) -> Self {
            Automation {
                name,
                source,
                push_branch: "main",
                path: "./",
                suspend: false,
            }
        }
    }

    /// An `ImageUpdateAutomation` (v1beta2) with the seed document's commit template,
    /// interval 1h (runs come from policy changes and reconciles, never from the timer).
    pub fn automation(a: &Automation<'_>) -> String {
        format!(
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageUpdateAutomation\nmetadata:\n  \
             name: {name}\n  namespace: flux-system\nspec:\n  interval: 1h\n  suspend: {suspend}\n  \
             sourceRef:\n    kind: GitRepository\n    name: {source}\n  git:\n    checkout:\n      \
             ref:\n        branch: main\n    commit:\n      author:\n        \
             email: fluxcdbot@users.noreply.github.com\n        name: fluxcdbot\n      \
             messageTemplate: '{{{{range .Updated.Images}}}}{{{{println .}}}}{{{{end}}}}'\n    \
             push:\n      branch: {push}\n  update:\n    path: {path}\n    strategy: Setters\n",
            name = a.name,
            suspend = a.suspend,
            source = a.source,
            push = a.push_branch,
            path = a.path,
        )
    }
}

// What the end-to-end tests build on: servers, a marked deployment, one image's objects.

/// The four tags every test starts with; `5.0.x` selects 5.0.3.
pub const TAGS: [&str; 4] = ["5.0.0", "5.0.1", "5.0.2", "5.0.3"];

/// A registry and a git server, or `None` when the test is skipped (see `require`).
pub async fn servers(mode: RegistryMode) -> Option<(TestRegistry, GitServer)> {
    let registry = TestRegistry::start(mode).await?;
    let git = GitServer::start(GitTransport::File).await?;
    Some((registry, git))
}

/// A deployment with one marked image, and layout and comments imagebump must leave alone.
pub fn deployment(image: &str, tag: &str, policy: &str) -> String {
    format!(
        "# Deployed by hand; only the marked value is imagebump's.\n\
         apiVersion: apps/v1\n\
         kind: Deployment\n\
         metadata:\n\
         \x20 name: app   # two spaces before this comment\n\
         spec:\n\
         \x20 replicas:    2\n\
         \x20 template:\n\
         \x20   spec:\n\
         \x20     containers:\n\
         \x20       - name: app\n\
         \x20         image: {image}:{tag} # {{\"$imagepolicy\": \"flux-system:{policy}\"}}\n\
         \x20         ports: [ {{containerPort: 9898}} ]   # flow style stays flow style\n\
         \x20       - name: sidecar\n\
         \x20         image: busybox:1.36\n"
    )
}

/// What most end-to-end tests start from.
pub struct Fixture {
    /// The registry, with [`TAGS`] pushed to `<id>/app`.
    pub registry: TestRegistry,
    /// The git server, with a repository `<id>`.
    pub git: GitServer,
    /// `<registry>/<id>/app`.
    pub image: String,
    /// The repository's URL; its `app.yaml` runs `<image>:5.0.0`, marked for the policy.
    pub url: String,
}

/// Starts the servers, pushes [`TAGS`] to `<id>/app`, and creates the git repository `<id>`
/// with a marked deployment for policy `policy`. `None` when the test is skipped.
pub async fn fixture(id: &str, policy: &str) -> Option<Fixture> {
    let (registry, git) = servers(RegistryMode::Open).await?;
    registry.push(&format!("{id}/app"), &TAGS).await;
    let image = format!("{}/{id}/app", registry.host());
    let url = git.create_repo(id, &[("app.yaml", &deployment(&image, "5.0.0", policy))], "main");
    Some(Fixture {
        registry,
        git,
        image,
        url,
    })
}

/// Starts the daemon on the objects of [`pipeline`] `name` (range `5.0.x`, writing repository
/// `repo` of `git`) and waits for its first commit, 5.0.3.
pub fn first_commit(
    dir: &Path,
    git: &GitServer,
    repo: &str,
    image: &str,
    url: &str,
    name: &str,
) -> DaemonUnderTest {
    let daemon = DaemonUnderTest::start(
        dir,
        &pipeline(name, image, url, "5.0.x", &objects::Automation::new(name, name)),
    );
    wait_for_file(git, repo, "main", "app.yaml", &deployment(image, "5.0.3", name));
    daemon
}

/// The object files of one image flowing into one git repository: `NAME-registry.yaml`,
/// `NAME-policy.yaml` (range `range`), `NAME-source.yaml` and `NAME-automation.yaml`, every
/// object called `name`.
pub fn pipeline(
    name: &str,
    image: &str,
    url: &str,
    range: &str,
    automation_spec: &objects::Automation<'_>,
) -> Vec<(String, String)> {
    vec![
        (
            format!("{name}-registry.yaml"),
            objects::repository(name, image, "1h"),
        ),
        (format!("{name}-policy.yaml"), objects::policy(name, name, range)),
        (format!("{name}-source.yaml"), objects::git_repository(name, url)),
        (
            format!("{name}-automation.yaml"),
            objects::automation(automation_spec),
        ),
    ]
}

/// Waits until `path` on `branch` of `repo` holds exactly `expected`.
pub fn wait_for_file(git: &GitServer, repo: &str, branch: &str, path: &str, expected: &str) {
    wait_until(PATIENCE, &format!("{repo}:{branch}:{path} to be updated"), || {
        git.read_file(repo, branch, path).as_deref() == Some(expected)
    });
}

/// A `kubernetes.io/dockerconfigjson` Secret for `host`, in `stringData` as people write it.
pub fn registry_secret(host: &str, user: &str, password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: regcred\n  namespace: flux-system\n\
         type: kubernetes.io/dockerconfigjson\nstringData:\n  .dockerconfigjson: \
         '{{\"auths\":{{\"{host}\":{{\"username\":\"{user}\",\"password\":\"{password}\",\"auth\":\"{auth}\"}}}}}}'\n"
    )
}

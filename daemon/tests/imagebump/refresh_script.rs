//! `etc/imagebump/refresh-ecr-secret.sh`, the refreshed-secret mode's writer for ECR, run
//! against a fake `aws` CLI: the file it writes is one the daemon reads, it replaces it
//! atomically, a failed login leaves the previous file alone, and the password never shows.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use imagebump_auth::Credential;
use imagebump_auth::docker_config::{DockerConfig, Format, MatchOptions};

use crate::support::{Run, repo_root};

const REGISTRY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
/// ECR passwords are long base64 text; these look alike and are easy to search for.
const FIRST: &str = "eyJwYXlsb2FkIjoiZmFrZS1lY3ItcGFzc3dvcmQtb25lIn0";
const SECOND: &str = "eyJwYXlsb2FkIjoiZmFrZS1lY3ItcGFzc3dvcmQtdHdvIn0";

/// A temporary `secrets_dir` and a fake `aws` that answers exactly
/// `aws ecr get-login-password --region us-east-1` with the contents of `password` (and fails
/// as the real CLI does without credentials when that file is missing).
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(dir.path().join("secrets")).expect("creating secrets_dir");
        let password = dir.path().join("password");
        let fake = format!(
            r#"#!/bin/sh
if [ "$#" -ne 4 ] || [ "$1" != ecr ] || [ "$2" != get-login-password ] || [ "$3" != --region ] || [ "$4" != us-east-1 ]; then
    echo "fake aws: unexpected arguments: $*" >&2
    exit 64
fi
if [ ! -f '{password}' ]; then
    echo "Unable to locate credentials. You can configure credentials by running \"aws configure\"." >&2
    exit 255
fi
cat '{password}'
"#,
            password = password.display()
        );
        let aws = dir.path().join("aws");
        std::fs::write(&aws, fake).expect("writing the fake aws");
        std::fs::set_permissions(&aws, std::fs::Permissions::from_mode(0o755))
            .expect("making the fake aws executable");
        Setup { dir }
    }

    /// What the next `get-login-password` prints (with a newline, as the CLI does); `None` makes
    /// it fail.
    fn password(&self, password: Option<&str>) {
        let path = self.dir.path().join("password");
        match password {
            Some(p) => std::fs::write(path, format!("{p}\n")).expect("writing the password"),
            None => std::fs::remove_file(path).expect("removing the password"),
        }
    }

    fn secret_dir(&self) -> PathBuf {
        self.dir.path().join("secrets/flux-system/ecr-credentials")
    }

    fn target(&self) -> PathBuf {
        self.secret_dir().join(".dockerconfigjson")
    }

    /// Runs the script (under `bash -x` with `xtrace`) with `env` over the defaults.
    fn run(&self, xtrace: bool, env: &[(&str, &str)]) -> Run {
        let script = repo_root().join("etc/imagebump/refresh-ecr-secret.sh");
        let mut command = if xtrace {
            let mut bash = Command::new("bash");
            bash.arg("-x").arg(&script);
            bash
        } else {
            Command::new(&script)
        };
        for name in ["AWS_REGION", "NAMESPACE", "NAME", "REGISTRY", "SECRETS_DIR"] {
            command.env_remove(name);
        }
        command
            .env("AWS_CLI", self.dir.path().join("aws"))
            .env("REGISTRY", REGISTRY)
            .env("SECRETS_DIR", self.dir.path().join("secrets"))
            .envs(env.iter().copied());
        command.output().expect("the script runs").into()
    }
}

/// The `auth` value docker writes for `password`.
fn auth(password: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("AWS:{password}"))
}

/// Neither the password nor its `auth` form is in what the script printed.
fn assert_quiet(run: &Run, password: &str) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains(password), "the password is in {stream}:\n{text}");
        assert!(
            !text.contains(&auth(password)),
            "the auth value is in {stream}:\n{text}"
        );
    }
}

/// Checks the file holds `password` for the registry, as JSON and as the daemon parses it.
fn assert_holds(path: &Path, password: &str) {
    let bytes = std::fs::read(path).expect("the secret file is there");
    let json: serde_json::Value = serde_json::from_slice(&bytes).expect("the secret file is JSON");
    assert_eq!(json["auths"][REGISTRY]["auth"], auth(password).as_str(), "{json}");
    let config = DockerConfig::parse(Format::DockerConfigJson, &bytes).expect("the daemon parses the file");
    match config.credential(REGISTRY, "team/app", MatchOptions::default()) {
        Credential::Basic {
            username,
            password: found,
        } => {
            assert_eq!((username.as_str(), found.expose()), ("AWS", password));
        }
        other => panic!("expected AWS basic credentials, got {other:?}"),
    }
    let mode = std::fs::metadata(path)
        .expect("the secret file is there")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
}

/// Only the target is left in the secret's directory: no temporary file survives.
fn assert_alone(setup: &Setup) {
    let names: Vec<String> = std::fs::read_dir(setup.secret_dir())
        .expect("the secret's directory is there")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(names, [".dockerconfigjson"]);
}

#[test]
fn writes_the_login_then_replaces_it_atomically() {
    let setup = Setup::new();
    setup.password(Some(FIRST));
    let run = setup.run(false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_quiet(&run, FIRST);
    assert!(run.stdout.contains("region us-east-1"), "{}", run.stdout);
    assert_holds(&setup.target(), FIRST);
    assert_alone(&setup);

    // A reader that opened the old file keeps reading the old file, whole: the new one is
    // renamed over it, never written in place.
    let before = std::fs::metadata(setup.target()).unwrap().ino();
    let old = std::fs::File::open(setup.target()).unwrap();
    setup.password(Some(SECOND));
    let run = setup.run(false, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_quiet(&run, SECOND);
    assert_holds(&setup.target(), SECOND);
    assert_ne!(std::fs::metadata(setup.target()).unwrap().ino(), before);
    let old: serde_json::Value = serde_json::from_reader(old).unwrap();
    assert_eq!(old["auths"][REGISTRY]["auth"], auth(FIRST).as_str());
    assert_alone(&setup);
}

#[test]
fn a_failed_login_leaves_the_previous_file_alone() {
    let setup = Setup::new();
    setup.password(Some(FIRST));
    assert_eq!(setup.run(false, &[]).code, 0);
    let before = std::fs::metadata(setup.target()).unwrap().ino();

    setup.password(None);
    let run = setup.run(false, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("Unable to locate credentials"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("is unchanged"), "{}", run.stderr);
    assert_holds(&setup.target(), FIRST);
    assert_eq!(std::fs::metadata(setup.target()).unwrap().ino(), before);
    assert_alone(&setup);

    // Exit 0 with nothing printed is a failure too, not an empty password.
    setup.password(Some(""));
    let run = setup.run(false, &[]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("printed no password"), "{}", run.stderr);
    assert_holds(&setup.target(), FIRST);
    assert_alone(&setup);
}

#[test]
fn xtrace_shows_no_password() {
    let setup = Setup::new();
    setup.password(Some(FIRST));
    let run = setup.run(true, &[("NAMESPACE", "apps"), ("NAME", "ecr")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("+ "), "not traced: {}", run.stderr);
    assert_quiet(&run, FIRST);
    assert!(
        setup
            .dir
            .path()
            .join("secrets/apps/ecr/.dockerconfigjson")
            .is_file()
    );
}

#[test]
fn the_region_comes_from_the_host_unless_aws_region_is_set() {
    let setup = Setup::new();
    setup.password(Some(FIRST));
    let other = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
    // The fake answers us-east-1 only.
    let run = setup.run(false, &[("REGISTRY", other)]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("--region eu-west-1"), "{}", run.stderr);
    let run = setup.run(false, &[("REGISTRY", other), ("AWS_REGION", "us-east-1")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn bad_arguments_exit_2_and_write_nothing() {
    let setup = Setup::new();
    setup.password(Some(FIRST));
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("REGISTRY", "ghcr.io")], "is not an ECR registry host"),
        (&[("REGISTRY", "")], "no registry"),
        (&[("NAMESPACE", "../etc")], "is not a Kubernetes namespace name"),
        (&[("SECRETS_DIR", "/nonexistent/secrets")], "does not exist"),
    ];
    for (env, message) in cases {
        let run = setup.run(false, env);
        assert_eq!(run.code, 2, "{env:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{env:?}: {}", run.stderr);
    }
    assert!(!setup.dir.path().join("secrets/flux-system").exists());
}

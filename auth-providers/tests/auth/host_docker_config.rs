//! `HostDockerConfigProvider::from_env` and credential helpers, in child processes.
//!
//! The environment (`DOCKER_CONFIG`, `HOME`, `PATH`) is process-wide, and changing it is
//! `unsafe` in edition 2024 (and racy with other test threads). So the test runs itself again
//! as a child process with the environment set, and the child does the checks.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use imagebump_auth::{Credential, CredentialProvider, HostDockerConfigProvider, Secret, host_docker_config};

/// Set in the child; its value names the scenario.
const CHILD: &str = "IMAGEBUMP_AUTH_TEST_CHILD";
const TEST_NAME: &str = "host_docker_config::from_env_reads_the_docker_config_and_its_helpers";

/// A credential helper speaking the `docker-credential-helpers` protocol: `get` reads the
/// server address on stdin and prints `{"Username", "Secret"}`.
const FAKE_HELPER: &str = r#"#!/bin/sh
[ "$1" = get ] || exit 2
server=$(cat)
case "$server" in
  https://index.docker.io/v1/) printf '%s' '{"ServerURL":"https://index.docker.io/v1/","Username":"hub-user","Secret":"hub-pass"}' ;;
  helped.example.com) printf '%s' '{"Username":"helped-user","Secret":"helped-pass"}' ;;
  token.example.com) printf '%s' '{"Username":"<token>","Secret":"refresh-token"}' ;;
  broken.example.com) echo "TOPSECRET on stdout"; echo "TOPSECRET on stderr" >&2; exit 1 ;;
  garbled.example.com) echo "TOPSECRET garbled" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
"#;

#[test]
fn from_env_reads_the_docker_config_and_its_helpers() {
    match std::env::var(CHILD).as_deref() {
        Ok("docker-config") => return child_with_docker_config(),
        Ok("home") => return child_with_home(),
        _ => {}
    }
    let root = tempfile::tempdir().unwrap();
    let bin = root.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let helper = bin.join("docker-credential-imagebump-fake");
    std::fs::write(&helper, FAKE_HELPER).unwrap();
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let docker_config = root.path().join("docker-config");
    write_config(
        &docker_config,
        r#"{
            "auths": {
                "ghcr.io": {"auth": "ZW52LXVzZXI6ZW52LXBhc3M="},
                "https://index.docker.io/v1/": {}
            },
            "credsStore": "imagebump-fake",
            "credHelpers": {
                "helped.example.com": "imagebump-fake",
                "missing.example.com": "imagebump-absent"
            }
        }"#,
    );
    run_child("docker-config", |command| {
        command.env("DOCKER_CONFIG", &docker_config).env("PATH", &path);
    });

    let home = root.path().join("home");
    write_config(
        &home.join(".docker"),
        r#"{"auths": {"ghcr.io": {"username": "home-user", "password": "p"}}}"#,
    );
    run_child("home", |command| {
        command.env_remove("DOCKER_CONFIG").env("HOME", &home);
    });
}

fn write_config(dir: &Path, json: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), json).unwrap();
}

fn run_child(scenario: &str, configure: impl FnOnce(&mut Command)) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, scenario);
    configure(&mut command);
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {scenario} failed:\n{stdout}\n{stderr}"
    );
}

fn child_with_docker_config() {
    let provider = HostDockerConfigProvider::from_env();
    let dir = std::env::var_os("DOCKER_CONFIG").unwrap();
    assert_eq!(provider.config_path(), Some(Path::new(&dir).join("config.json")));
    let lookup = |registry: &str| provider.lookup_blocking(registry);

    // `auths` entries, then the helpers.
    assert_eq!(lookup("ghcr.io"), Ok(Credential::basic("env-user", "env-pass")));
    assert_eq!(
        lookup("index.docker.io"),
        Ok(Credential::basic("hub-user", "hub-pass"))
    );
    assert_eq!(
        lookup("helped.example.com"),
        Ok(Credential::basic("helped-user", "helped-pass"))
    );
    assert_eq!(
        lookup("token.example.com"),
        Ok(Credential::IdentityToken(Secret::new("refresh-token")))
    );
    // "credentials not found" from the store is no credential, not an error.
    assert_eq!(lookup("unknown.example.com"), Ok(Credential::Anonymous));

    let broken = lookup("broken.example.com").unwrap_err();
    assert!(
        matches!(&broken, host_docker_config::Error::HelperFailed { helper, .. } if helper == "docker-credential-imagebump-fake"),
        "{broken:?}"
    );
    let garbled = lookup("garbled.example.com").unwrap_err();
    assert!(
        matches!(garbled, host_docker_config::Error::HelperMalformedResponse { .. }),
        "{garbled:?}"
    );
    let missing = lookup("missing.example.com").unwrap_err();
    assert!(
        matches!(&missing, host_docker_config::Error::HelperUnavailable { helper, .. } if helper == "docker-credential-imagebump-absent"),
        "{missing:?}"
    );
    for error in [broken, garbled, missing] {
        assert!(error.is_transient());
        for shown in [error.to_string(), format!("{error:?}")] {
            assert!(!shown.contains("TOPSECRET"), "{shown}");
        }
    }

    // The async path runs the same lookup on the blocking pool and wraps errors.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let found = provider
            .credentials("helped.example.com", "any/repo")
            .await
            .unwrap();
        assert_eq!(found.credential, Credential::basic("helped-user", "helped-pass"));
        let error = provider
            .credentials("broken.example.com", "any/repo")
            .await
            .unwrap_err();
        assert!(error.is_transient());
        assert_eq!(
            error.to_string(),
            "getting credentials for broken.example.com from the host docker config"
        );
        let source = std::error::Error::source(&error).unwrap().to_string();
        assert_eq!(
            source,
            "credential helper docker-credential-imagebump-fake failed for broken.example.com"
        );
    });
}

fn child_with_home() {
    let provider = HostDockerConfigProvider::from_env();
    let home = std::env::var_os("HOME").unwrap();
    assert_eq!(
        provider.config_path(),
        Some(Path::new(&home).join(".docker/config.json"))
    );
    assert_eq!(
        provider.lookup_blocking("ghcr.io"),
        Ok(Credential::basic("home-user", "p"))
    );
    assert_eq!(provider.lookup_blocking("quay.io"), Ok(Credential::Anonymous));
}

//! [`HostDockerConfigProvider`]: the credentials `docker login` left on this host.
//!
//! Flux has no such provider (it runs in a cluster); imagebump adds it so that a user on a
//! workstation or a plain server can reuse `~/.docker/config.json`, including `credsStore` and
//! `credHelpers` (Docker Desktop, `pass`, `secretservice`, `ecr-login`, …). The lookup rules are
//! Docker's, as implemented by the `docker_credential` crate, not Flux's keyring rules (§3.2):
//! keys are compared by host only, and `docker.io` keys do apply to Docker Hub.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use docker_credential::{CredentialRetrievalError, DockerCredential};
use serde::Deserialize;

use crate::provider::{self, BoxFuture, CredentialProvider};
use crate::util::truncated;
use crate::{Credential, Credentials, Secret};

/// The server address Docker uses for Docker Hub in config keys and credential stores.
const DOCKER_HUB_SERVER: &str = "https://index.docker.io/v1/";

/// Credentials from the host's docker config (`$DOCKER_CONFIG/config.json`, else
/// `~/.docker/config.json`), read again on every call so a new `docker login` takes effect.
///
/// A missing file, or a file with nothing for the registry, gives anonymous credentials. A
/// credential helper that answers "credentials not found" counts as nothing. The result has no
/// expiry; wrap the provider in a [`CachedProvider`](crate::CachedProvider) to avoid running a
/// helper on every scan. The `repository` is not used: docker config keys name hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDockerConfigProvider {
    config_dir: Option<PathBuf>,
}

impl HostDockerConfigProvider {
    /// The directory Docker would use: `DOCKER_CONFIG` if set and not empty, else `$HOME/.docker`;
    /// no directory (always anonymous) if neither is set. The environment is read once, here.
    #[must_use]
    pub fn from_env() -> Self {
        Self {
            config_dir: config_dir_from(|name| std::env::var_os(name)),
        }
    }

    /// Reads `config.json` in `dir`.
    #[must_use]
    pub fn with_config_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            config_dir: Some(dir.into()),
        }
    }

    /// The file this provider reads, if it has a directory at all.
    #[must_use]
    pub fn config_path(&self) -> Option<PathBuf> {
        self.config_dir.as_ref().map(|dir| dir.join("config.json"))
    }

    /// The credential for `registry`, synchronously: reads the file and may run a credential
    /// helper, so call it where blocking is fine ([`CredentialProvider::credentials`] runs it on
    /// tokio's blocking pool).
    pub fn lookup_blocking(&self, registry: &str) -> Result<Credential, Error> {
        match self.config_path() {
            Some(path) => lookup(&path, registry),
            None => Ok(Credential::Anonymous),
        }
    }
}

impl CredentialProvider for HostDockerConfigProvider {
    fn name(&self) -> &'static str {
        "host-docker-config"
    }

    fn credentials<'a>(
        &'a self,
        registry: &'a str,
        _repository: &'a str,
    ) -> BoxFuture<'a, Result<Credentials, provider::Error>> {
        Box::pin(async move {
            let this = self.clone();
            let owned = registry.to_owned();
            let result = tokio::task::spawn_blocking(move || this.lookup_blocking(&owned))
                .await
                .unwrap_or(Err(Error::TaskFailed));
            result
                .map(Credentials::new)
                .map_err(|source| provider::Error::host_docker_config(registry, source))
        })
    }
}

/// Why the host's docker config could not give credentials.
///
/// Never carries a secret: a failing helper's output is dropped, since helpers may print what
/// they store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file exists but could not be read.
    #[error("reading {}: {kind}", path.display())]
    Read {
        /// The docker config file.
        path: PathBuf,
        /// What the OS said.
        kind: io::ErrorKind,
    },
    /// The file is not a docker config Docker would accept.
    #[error("{}: {reason}", path.display())]
    InvalidConfig {
        /// The docker config file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The credential helper could not be started or talked to.
    #[error("could not run credential helper {helper} for {server} (is it on PATH?)")]
    HelperUnavailable {
        /// The helper program, `docker-credential-<name>`.
        helper: String,
        /// The server address it was asked about.
        server: String,
    },
    /// The credential helper exited with an error other than "credentials not found".
    #[error("credential helper {helper} failed for {server}")]
    HelperFailed {
        /// The helper program.
        helper: String,
        /// The server address it was asked about.
        server: String,
    },
    /// The credential helper's answer was not `{"Username": …, "Secret": …}`.
    #[error("credential helper {helper} gave a malformed answer for {server}")]
    HelperMalformedResponse {
        /// The helper program.
        helper: String,
        /// The server address it was asked about.
        server: String,
    },
    /// The blocking task doing the lookup panicked or was cancelled.
    #[error("the task reading the host docker config did not finish")]
    TaskFailed,
}

impl Error {
    /// Always `true`. The host's docker config and its helpers live outside the objects
    /// imagebump watches, so the only way to notice a fix (`docker login`, an installed helper, a
    /// repaired file) is to try again; marking the object stalled would wait for a change that
    /// imagebump never sees.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Read { .. }
            | Self::InvalidConfig { .. }
            | Self::HelperUnavailable { .. }
            | Self::HelperFailed { .. }
            | Self::HelperMalformedResponse { .. }
            | Self::TaskFailed => true,
        }
    }
}

/// Docker's rule for the config directory, over an injectable environment.
fn config_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let set = |name| var(name).filter(|value| !value.is_empty());
    set("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|home| Path::new(&home).join(".docker")))
}

/// The helper names a config declares, for error messages (`docker_credential` does not say
/// which helper failed to start).
#[derive(Deserialize, Default)]
struct Helpers {
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers")]
    cred_helpers: Option<BTreeMap<String, String>>,
}

impl Helpers {
    fn for_server(&self, server: &str) -> String {
        let name = self
            .cred_helpers
            .as_ref()
            .and_then(|helpers| helpers.get(server))
            .filter(|name| !name.is_empty())
            .or(self.creds_store.as_ref())
            .map_or("(unknown)", String::as_str);
        truncated(&format!("docker-credential-{name}"))
    }
}

fn lookup(path: &Path, registry: &str) -> Result<Credential, Error> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Credential::Anonymous),
        Err(error) => {
            return Err(Error::Read {
                path: path.to_owned(),
                kind: error.kind(),
            });
        }
    };
    // Docker files Hub credentials under its v1 URL; `docker_credential` maps `docker.io`,
    // `index.docker.io` and `registry-1.docker.io` keys to the bare host, so try both.
    let servers: &[&str] = if registry == "index.docker.io" {
        &[DOCKER_HUB_SERVER, registry]
    } else {
        &[registry]
    };
    for server in servers {
        match docker_credential::get_credential_from_reader(bytes.as_slice(), server) {
            Ok(credential) => return Ok(convert(credential)),
            Err(
                CredentialRetrievalError::NoCredentialConfigured | CredentialRetrievalError::ConfigNotFound,
            ) => {}
            // The helper protocol's "not found" answer, from `docker-credential-helpers`.
            Err(CredentialRetrievalError::HelperFailure { stdout, .. })
                if stdout.contains("credentials not found") => {}
            Err(error) => {
                let helpers: Helpers = serde_json::from_slice(&bytes).unwrap_or_default();
                return Err(error_for(error, path, server, &helpers));
            }
        }
    }
    Ok(Credential::Anonymous)
}

fn convert(credential: DockerCredential) -> Credential {
    match credential {
        DockerCredential::IdentityToken(token) if token.is_empty() => Credential::Anonymous,
        DockerCredential::IdentityToken(token) => Credential::IdentityToken(Secret::new(token)),
        DockerCredential::UsernamePassword(username, password)
            if username.is_empty() && password.is_empty() =>
        {
            Credential::Anonymous
        }
        DockerCredential::UsernamePassword(username, password) => Credential::basic(username, password),
    }
}

fn error_for(error: CredentialRetrievalError, path: &Path, server: &str, helpers: &Helpers) -> Error {
    let invalid = |reason| Error::InvalidConfig {
        path: path.to_owned(),
        reason,
    };
    let server = truncated(server);
    match error {
        CredentialRetrievalError::ConfigReadError | CredentialRetrievalError::ConfigNotFound => {
            invalid("not a docker config (malformed JSON, or a field of the wrong type)")
        }
        CredentialRetrievalError::CredentialDecodingError => {
            invalid("an `auth` field is not base64 of `username:password`")
        }
        CredentialRetrievalError::CredentialMismatchError => {
            invalid("an `auth` field disagrees with the `username` and `password` beside it")
        }
        CredentialRetrievalError::HelperCommunicationError => Error::HelperUnavailable {
            helper: helpers.for_server(&server),
            server,
        },
        CredentialRetrievalError::MalformedHelperResponse => Error::HelperMalformedResponse {
            helper: helpers.for_server(&server),
            server,
        },
        CredentialRetrievalError::HelperFailure { helper, .. } => Error::HelperFailed {
            helper: truncated(&helper),
            server,
        },
        CredentialRetrievalError::NoCredentialConfigured => invalid("no credential configured"),
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::PathBuf;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::{Error, HostDockerConfigProvider, config_dir_from};
    use crate::{Credential, CredentialProvider, Secret};

    fn dir_with(config: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), config).unwrap();
        dir
    }

    #[test]
    fn config_dir_follows_docker() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| OsString::from(value))
            }
        };
        assert_eq!(
            config_dir_from(env(&[("DOCKER_CONFIG", "/cfg"), ("HOME", "/home/u")])),
            Some(PathBuf::from("/cfg"))
        );
        assert_eq!(
            config_dir_from(env(&[("DOCKER_CONFIG", ""), ("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.docker"))
        );
        assert_eq!(
            config_dir_from(env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.docker"))
        );
        assert_eq!(config_dir_from(env(&[])), None);
    }

    #[tokio::test]
    async fn reads_auths_entries() {
        let auth = STANDARD.encode("hub-user:hub-pass");
        let dir = dir_with(&format!(
            r#"{{"auths": {{
                "https://index.docker.io/v1/": {{"auth": "{auth}"}},
                "ghcr.io": {{"username": "gh", "password": "gh-pass"}},
                "https://quay.io": {{"identitytoken": "quay-refresh"}}
            }}}}"#
        ));
        let provider = HostDockerConfigProvider::with_config_dir(dir.path());
        assert_eq!(provider.name(), "host-docker-config");
        let credential = |registry: &'static str| {
            let provider = provider.clone();
            async move { provider.credentials(registry, "any/repo").await.unwrap() }
        };
        assert_eq!(
            credential("index.docker.io").await.credential,
            Credential::basic("hub-user", "hub-pass")
        );
        assert_eq!(
            credential("ghcr.io").await.credential,
            Credential::basic("gh", "gh-pass")
        );
        assert_eq!(
            credential("quay.io").await.credential,
            Credential::IdentityToken(Secret::new("quay-refresh"))
        );
        let other = credential("registry.example.com").await;
        assert_eq!(other.credential, Credential::Anonymous);
        assert_eq!(other.expires_at, None);
    }

    #[test]
    fn docker_io_keys_apply_to_docker_hub_here() {
        let dir = dir_with(r#"{"auths": {"docker.io": {"username": "u", "password": "p"}}}"#);
        let provider = HostDockerConfigProvider::with_config_dir(dir.path());
        assert_eq!(
            provider.lookup_blocking("index.docker.io"),
            Ok(Credential::basic("u", "p"))
        );
    }

    #[test]
    fn no_file_or_no_directory_is_anonymous() {
        let dir = tempfile::tempdir().unwrap();
        let provider = HostDockerConfigProvider::with_config_dir(dir.path().join("missing"));
        assert_eq!(provider.lookup_blocking("ghcr.io"), Ok(Credential::Anonymous));
        assert_eq!(
            provider.config_path(),
            Some(dir.path().join("missing/config.json"))
        );
        let nowhere = HostDockerConfigProvider { config_dir: None };
        assert_eq!(nowhere.lookup_blocking("ghcr.io"), Ok(Credential::Anonymous));
        assert_eq!(nowhere.config_path(), None);
    }

    #[tokio::test]
    async fn broken_configs_are_transient_errors_without_secrets() {
        let cases = [
            r#"{"auths": {"ghcr.io": {"password": "TOPSECRET""#.to_owned(),
            r#"{"auths": {"ghcr.io": {"auth": "TOPSECRET!"}}}"#.to_owned(),
            format!(
                r#"{{"auths": {{"ghcr.io": {{"auth": "{}"}}}}}}"#,
                STANDARD.encode("TOPSECRET")
            ),
            format!(
                r#"{{"auths": {{"ghcr.io": {{"auth": "{}", "username": "a", "password": "TOPSECRET"}}}}}}"#,
                STANDARD.encode("a:b")
            ),
            r#"{"credsStore": "imagebump-test-no-such-helper"}"#.to_owned(),
        ];
        for config in cases {
            let dir = dir_with(&config);
            let provider = HostDockerConfigProvider::with_config_dir(dir.path());
            let error = provider.credentials("ghcr.io", "org/app").await.unwrap_err();
            assert!(error.is_transient(), "{error:?}");
            let source = std::error::Error::source(&error).unwrap().to_string();
            for shown in [error.to_string(), format!("{error:?}"), source] {
                assert!(!shown.contains("TOPSECRET"), "{shown}");
            }
        }
    }

    #[test]
    fn every_error_variant_is_free_of_secrets() {
        let path = PathBuf::from("/home/u/.docker/config.json");
        let all = [
            Error::Read {
                path: path.clone(),
                kind: std::io::ErrorKind::PermissionDenied,
            },
            Error::InvalidConfig { path, reason: "x" },
            Error::HelperUnavailable {
                helper: "docker-credential-x".into(),
                server: "ghcr.io".into(),
            },
            Error::HelperFailed {
                helper: "docker-credential-x".into(),
                server: "ghcr.io".into(),
            },
            Error::HelperMalformedResponse {
                helper: "docker-credential-x".into(),
                server: "ghcr.io".into(),
            },
            Error::TaskFailed,
        ];
        for error in all {
            assert!(error.is_transient());
            let wrapped = crate::provider::Error::host_docker_config("ghcr.io", error.clone());
            assert!(wrapped.is_transient());
            for shown in [
                error.to_string(),
                format!("{error:?}"),
                wrapped.to_string(),
                format!("{wrapped:?}"),
            ] {
                assert!(!shown.is_empty());
            }
        }
    }
}

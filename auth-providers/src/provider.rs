//! The [`CredentialProvider`] trait and the [`Error`] of its one operation.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::cloud::CloudError;
use crate::{Credentials, host_docker_config, util::truncated};

/// A boxed, `Send` future: what [`CredentialProvider::credentials`] returns, so the trait stays
/// dyn-compatible and the daemon can hold an `Arc<dyn CredentialProvider>`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A source of registry credentials: a docker config secret, the host's docker config, a cloud
/// login, or a cache in front of any of these.
///
/// Implementations decide from `registry` and `repository` alone; they never see tags or
/// policies. A provider that has nothing for a registry answers
/// [`Credential::Anonymous`](crate::Credential::Anonymous), not an error: Flux pulls anonymously
/// when no docker config entry matches, and so does imagebump.
///
/// Callers bound the call with their own timeout (Flux: `spec.timeout` covers credential fetching
/// and the tag listing together); dropping the future cancels the fetch.
pub trait CredentialProvider: Send + Sync + fmt::Debug {
    /// A short, stable name for logs and metrics (`generic`, `host-docker-config`, …).
    fn name(&self) -> &'static str;

    /// Credentials for `repository` (`library/alpine`) on `registry`, the canonical host and
    /// optional port (`index.docker.io`, `ghcr.io`, `127.0.0.1:5000`).
    fn credentials<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
    ) -> BoxFuture<'a, Result<Credentials, Error>>;
}

impl<P: CredentialProvider + ?Sized> CredentialProvider for Arc<P> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn credentials<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
    ) -> BoxFuture<'a, Result<Credentials, Error>> {
        (**self).credentials(registry, repository)
    }
}

impl<P: CredentialProvider + ?Sized> CredentialProvider for Box<P> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn credentials<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
    ) -> BoxFuture<'a, Result<Credentials, Error>> {
        (**self).credentials(registry, repository)
    }
}

/// Why [`CredentialProvider::credentials`] failed.
///
/// `Clone`, because [`CachedProvider`](crate::CachedProvider) hands one failure to every caller
/// that waited for the same fetch. Messages name the registry and the source of the failure, never
/// a secret.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The host's docker config (or a credential helper it names) failed.
    #[error("getting credentials for {registry} from the host docker config")]
    HostDockerConfig {
        /// The registry asked for.
        registry: String,
        /// What went wrong.
        #[source]
        source: host_docker_config::Error,
    },
    /// A cloud login (`provider: aws | gcp | azure`) failed.
    #[error("cloud login for {registry} failed")]
    Cloud {
        /// The registry asked for.
        registry: String,
        /// What went wrong.
        #[source]
        source: CloudError,
    },
    /// A provider defined outside this crate failed.
    #[error("credential provider {provider} failed for {registry}: {message}")]
    Other {
        /// [`CredentialProvider::name`] of the failing provider.
        provider: &'static str,
        /// The registry asked for.
        registry: String,
        /// What went wrong, free of secrets.
        message: String,
        /// What [`Error::is_transient`] answers.
        transient: bool,
    },
}

impl Error {
    /// A [`Error::HostDockerConfig`]; `registry` is truncated if long.
    #[must_use]
    pub fn host_docker_config(registry: &str, source: host_docker_config::Error) -> Self {
        Self::HostDockerConfig {
            registry: truncated(registry),
            source,
        }
    }

    /// An [`Error::Cloud`]; `registry` is truncated if long.
    #[must_use]
    pub fn cloud(registry: &str, source: CloudError) -> Self {
        Self::Cloud {
            registry: truncated(registry),
            source,
        }
    }

    /// An [`Error::Other`]; `registry` and `message` are truncated if long.
    #[must_use]
    pub fn other(provider: &'static str, registry: &str, message: &str, transient: bool) -> Self {
        Self::Other {
            provider,
            registry: truncated(registry),
            message: truncated(message),
            transient,
        }
    }

    /// Whether retrying later may succeed without a change to imagebump's configuration.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Self::HostDockerConfig { source, .. } => source.is_transient(),
            Self::Cloud { source, .. } => source.is_transient(),
            Self::Other { transient, .. } => *transient,
        }
    }
}

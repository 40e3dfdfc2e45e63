//! Cloud registry logins (Flux `provider: aws | gcp | azure`, flux-scanning-and-policy §3.3).
//!
//! One provider per cloud, each turning the machine's ambient cloud identity into registry
//! credentials:
//!
//! - [`aws::AwsProvider`]: the AWS default credential chain → ECR `GetAuthorizationToken` →
//!   `Basic AWS:<password>`.
//! - [`gcp::GcpProvider`]: Application Default Credentials (a service-account or
//!   authorized-user JSON, else the metadata server) → `Basic oauth2accesstoken:<token>`.
//! - [`azure::AzureProvider`]: an Entra ID token (client secret, workload identity or managed
//!   identity) → ACR `/oauth2/exchange` → an identity (refresh) token.
//!
//! [`CloudProviders`] holds one [`CachedProvider`] per cloud, built on first use, checks that
//! the registry host belongs to the cloud asked for (Flux refuses `provider: aws` for a GHCR
//! image), and reports token requests and cache hits to a [`CloudObserver`] for metrics.
//!
//! Every provider takes its endpoints from options, so tests (and private clouds) can point
//! them at loopback servers; `*Options::from_env()` gives what a real deployment uses.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::Credentials;
use crate::cache::{CachedProvider, Clock, DEFAULT_MAX_AGE, SystemClock};
use crate::provider::{BoxFuture, CredentialProvider, Error};

/// Implements [`CredentialProvider`] for a cloud provider with an inherent
/// `async fn fetch(&self, registry) -> Result<Credentials, CloudError>`: every cloud logs in
/// per registry, whatever the repository.
macro_rules! fetch_is_the_credential_provider {
    ($provider:ty, $cloud:expr) => {
        impl $crate::provider::CredentialProvider for $provider {
            fn name(&self) -> &'static str {
                $cloud.name()
            }

            fn credentials<'a>(
                &'a self,
                registry: &'a str,
                _repository: &'a str,
            ) -> $crate::provider::BoxFuture<'a, Result<$crate::Credentials, $crate::provider::Error>> {
                Box::pin(async move {
                    self.fetch(registry)
                        .await
                        .map_err(|e| $crate::provider::Error::cloud(registry, e))
                })
            }
        }
    };
}
use fetch_is_the_credential_provider;

pub mod aws;
pub mod azure;
pub mod gcp;
mod http;
mod jwt;

/// A cloud whose registries imagebump can log in to, as in Flux's `spec.provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cloud {
    /// Amazon ECR (`provider: aws`).
    Aws,
    /// Google Container Registry and Artifact Registry (`provider: gcp`).
    Gcp,
    /// Azure Container Registry (`provider: azure`).
    Azure,
}

impl Cloud {
    /// Every cloud.
    pub const ALL: [Cloud; 3] = [Cloud::Aws, Cloud::Gcp, Cloud::Azure];

    /// The `spec.provider` value: `aws`, `gcp` or `azure`; also the provider's
    /// [`CredentialProvider::name`] and a good metrics label.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
        }
    }

    /// Parses a `spec.provider` value (`aws`, `gcp`, `azure`); `None` for anything else
    /// (including `generic`, which is not a cloud).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Cloud> {
        Cloud::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The registry host pattern of this cloud, as shown in errors.
    #[must_use]
    pub fn host_pattern(self) -> &'static str {
        match self {
            Cloud::Aws => aws::HOST_PATTERN,
            Cloud::Gcp => gcp::HOST_PATTERN,
            Cloud::Azure => azure::HOST_PATTERN,
        }
    }

    /// Whether `host` (without a port) is a registry of this cloud.
    #[must_use]
    pub fn matches_host(self, host: &str) -> bool {
        match self {
            Cloud::Aws => aws::parse_ecr_host(host).is_some(),
            Cloud::Gcp => gcp::is_gcp_host(host),
            Cloud::Azure => azure::is_acr_host(host),
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The cloud whose registry host pattern `host` matches, if any.
///
/// ```
/// use imagebump_auth::cloud::{Cloud, cloud_for_host};
///
/// assert_eq!(cloud_for_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), Some(Cloud::Aws));
/// assert_eq!(cloud_for_host("europe-docker.pkg.dev"), Some(Cloud::Gcp));
/// assert_eq!(cloud_for_host("myteam.azurecr.io"), Some(Cloud::Azure));
/// assert_eq!(cloud_for_host("ghcr.io"), None);
/// ```
#[must_use]
pub fn cloud_for_host(host: &str) -> Option<Cloud> {
    Cloud::ALL.into_iter().find(|c| c.matches_host(host))
}

/// Why a cloud login failed. Messages name endpoints and hosts, never a token or key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloudError {
    /// The registry is not one of the cloud's (Flux: "invalid registry" for the provider).
    #[error("{host} is not a registry of provider {cloud} (expected a host matching {pattern})")]
    HostMismatch {
        /// The cloud asked for.
        cloud: Cloud,
        /// The registry host, truncated if long.
        host: String,
        /// [`Cloud::host_pattern`].
        pattern: &'static str,
    },
    /// A feature of the cloud that imagebump does not implement.
    #[error("{cloud}: {what} is not supported yet")]
    Unsupported {
        /// The cloud.
        cloud: Cloud,
        /// What is missing.
        what: String,
    },
    /// The machine's cloud identity is missing or unusable (a file that cannot be read, a
    /// key that does not parse, no credential source at all).
    #[error("{cloud}: {reason}")]
    Configuration {
        /// The cloud.
        cloud: Cloud,
        /// What is wrong.
        reason: String,
    },
    /// A token endpoint refused or failed.
    #[error("{cloud}: {endpoint}: {reason}")]
    Request {
        /// The cloud.
        cloud: Cloud,
        /// What was asked (`ECR GetAuthorizationToken`, a URL without its query, …).
        endpoint: String,
        /// The failure: status and the service's error code, or the transport error.
        reason: String,
        /// Whether a retry may succeed (timeouts, 5xx, 429).
        transient: bool,
    },
}

impl CloudError {
    /// Whether retrying later may succeed without a configuration change.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            CloudError::Request { transient, .. } => *transient,
            CloudError::HostMismatch { .. }
            | CloudError::Unsupported { .. }
            | CloudError::Configuration { .. } => false,
        }
    }

    /// A [`CloudError::HostMismatch`] for `host`.
    pub(crate) fn host_mismatch(cloud: Cloud, host: &str) -> Self {
        CloudError::HostMismatch {
            cloud,
            host: crate::util::truncated(host),
            pattern: cloud.host_pattern(),
        }
    }

    pub(crate) fn configuration(cloud: Cloud, reason: impl Into<String>) -> Self {
        CloudError::Configuration {
            cloud,
            reason: crate::util::truncated(&reason.into()),
        }
    }
}

/// Receives what the cloud providers do, for metrics. The daemon implements it with counters
/// labelled by [`Cloud::name`].
pub trait CloudObserver: Send + Sync {
    /// A token was fetched from the cloud (not from the cache), successfully or not.
    fn token_request(&self, cloud: Cloud, ok: bool);
    /// [`CloudProviders::credentials`] answered from the cache (`hit`) or had to fetch.
    /// Callers that waited for another caller's fetch count as hits.
    fn cache(&self, cloud: Cloud, hit: bool);
}

/// The removed host part: `host:port` → `host`, `[::1]:5000` → `[::1]`.
fn host_of(registry: &str) -> &str {
    match registry.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => registry,
    }
}

/// Settings of [`CloudProviders`].
#[derive(Clone)]
pub struct CloudOptions {
    /// ECR settings.
    pub aws: aws::AwsOptions,
    /// GCR / Artifact Registry settings.
    pub gcp: gcp::GcpOptions,
    /// ACR settings.
    pub azure: azure::AzureOptions,
    /// Longest reuse of a credential ([`DEFAULT_MAX_AGE`], Flux's `--token-cache-max-duration`).
    pub max_age: Duration,
    /// The clock of the caches.
    pub clock: Arc<dyn Clock>,
    /// Where counts go; `None` for nowhere.
    pub observer: Option<Arc<dyn CloudObserver>>,
}

impl CloudOptions {
    /// What a deployment uses: each cloud's settings from the process environment
    /// (`*Options::from_env`), the default cache age, the system clock, no observer.
    #[must_use]
    pub fn from_env() -> Self {
        CloudOptions::with(
            aws::AwsOptions::default(),
            gcp::GcpOptions::from_env(),
            azure::AzureOptions::from_env(),
        )
    }

    /// The given cloud settings with the default cache age, the system clock, no observer.
    #[must_use]
    pub fn with(aws: aws::AwsOptions, gcp: gcp::GcpOptions, azure: azure::AzureOptions) -> Self {
        CloudOptions {
            aws,
            gcp,
            azure,
            max_age: DEFAULT_MAX_AGE,
            clock: Arc::new(SystemClock),
            observer: None,
        }
    }
}

impl fmt::Debug for CloudOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudOptions")
            .field("aws", &self.aws)
            .field("gcp", &self.gcp)
            .field("azure", &self.azure)
            .field("max_age", &self.max_age)
            .field("clock", &self.clock)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

tokio::task_local! {
    /// Set by [`Observed`] when the inner provider was called during a
    /// [`CloudProviders::credentials`] call: that call was a cache miss. The inner fetch runs in
    /// the caller's own future (see `CachedProvider`), so a task-local reaches it exactly.
    static FETCHED: Arc<AtomicBool>;
}

/// A cloud provider that reports each fetch to the observer.
#[derive(Debug)]
struct Observed {
    cloud: Cloud,
    inner: Box<dyn CredentialProvider>,
    observer: Option<Arc<dyn CloudObserver>>,
}

impl CredentialProvider for Observed {
    fn name(&self) -> &'static str {
        self.cloud.name()
    }

    fn credentials<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
    ) -> BoxFuture<'a, Result<Credentials, Error>> {
        Box::pin(async move {
            let _ = FETCHED.try_with(|fetched| fetched.store(true, Ordering::Relaxed));
            let result = self.inner.credentials(registry, repository).await;
            if let Some(observer) = &self.observer {
                observer.token_request(self.cloud, result.is_ok());
            }
            result
        })
    }
}

impl fmt::Debug for dyn CloudObserver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CloudObserver")
    }
}

type Slot = OnceLock<Result<CachedProvider<Observed>, CloudError>>;

/// One cached provider per cloud, each built on first use.
///
/// Caches are keyed per registry (a cloud token serves every repository of a registry). The
/// daemon holds one `CloudProviders` (in an `Arc`) and hands [`CloudProviders::provider`] to
/// each `ImageRepository` with a cloud `spec.provider`.
///
/// ```no_run
/// # async fn demo() -> Result<(), imagebump_auth::provider::Error> {
/// use imagebump_auth::cloud::{Cloud, CloudOptions, CloudProviders};
///
/// let clouds = CloudProviders::new(CloudOptions::from_env());
/// let creds = clouds
///     .credentials(Cloud::Aws, "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "team/app")
///     .await?;
/// # let _ = creds;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct CloudProviders {
    options: CloudOptions,
    aws: Slot,
    gcp: Slot,
    azure: Slot,
}

impl CloudProviders {
    /// Providers with these settings; nothing is built or fetched yet.
    #[must_use]
    pub fn new(options: CloudOptions) -> Self {
        CloudProviders {
            options,
            aws: OnceLock::new(),
            gcp: OnceLock::new(),
            azure: OnceLock::new(),
        }
    }

    /// Credentials for `repository` on `registry` (`host[:port]`) from `cloud`'s login, cached.
    ///
    /// A registry whose host does not match the cloud's pattern is an error
    /// ([`CloudError::HostMismatch`]), checked before anything is fetched.
    pub async fn credentials(
        &self,
        cloud: Cloud,
        registry: &str,
        repository: &str,
    ) -> Result<Credentials, Error> {
        if !cloud.matches_host(host_of(registry)) {
            return Err(Error::cloud(registry, CloudError::host_mismatch(cloud, registry)));
        }
        let provider = self.cached(cloud).map_err(|e| Error::cloud(registry, e))?;
        let fetched = Arc::new(AtomicBool::new(false));
        let result = FETCHED
            .scope(Arc::clone(&fetched), provider.credentials(registry, repository))
            .await;
        if let Some(observer) = &self.options.observer {
            observer.cache(cloud, !fetched.load(Ordering::Relaxed));
        }
        result
    }

    /// A [`CredentialProvider`] answering with `cloud`'s login through these caches, for the
    /// daemon's per-object provider table.
    #[must_use]
    pub fn provider(self: &Arc<Self>, cloud: Cloud) -> CloudProvider {
        CloudProvider {
            providers: Arc::clone(self),
            cloud,
        }
    }

    /// Forgets every cached credential of every cloud.
    pub fn clear(&self) {
        for slot in [&self.aws, &self.gcp, &self.azure] {
            if let Some(Ok(cached)) = slot.get() {
                cached.clear();
            }
        }
    }

    fn cached(&self, cloud: Cloud) -> Result<&CachedProvider<Observed>, CloudError> {
        let slot = match cloud {
            Cloud::Aws => &self.aws,
            Cloud::Gcp => &self.gcp,
            Cloud::Azure => &self.azure,
        };
        slot.get_or_init(|| self.build(cloud))
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build(&self, cloud: Cloud) -> Result<CachedProvider<Observed>, CloudError> {
        let inner: Box<dyn CredentialProvider> = match cloud {
            Cloud::Aws => Box::new(aws::AwsProvider::new(self.options.aws.clone())),
            Cloud::Gcp => Box::new(gcp::GcpProvider::new(self.options.gcp.clone())?),
            Cloud::Azure => Box::new(azure::AzureProvider::new(self.options.azure.clone())?),
        };
        let observed = Observed {
            cloud,
            inner,
            observer: self.options.observer.clone(),
        };
        Ok(CachedProvider::builder(observed)
            .max_age(self.options.max_age)
            .per_registry(true)
            .clock(Arc::clone(&self.options.clock))
            .build())
    }
}

/// One cloud's login from a shared [`CloudProviders`], as a [`CredentialProvider`].
#[derive(Debug, Clone)]
pub struct CloudProvider {
    providers: Arc<CloudProviders>,
    cloud: Cloud,
}

impl CloudProvider {
    /// The cloud it logs in to.
    #[must_use]
    pub fn cloud(&self) -> Cloud {
        self.cloud
    }
}

impl CredentialProvider for CloudProvider {
    fn name(&self) -> &'static str {
        self.cloud.name()
    }

    fn credentials<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
    ) -> BoxFuture<'a, Result<Credentials, Error>> {
        Box::pin(self.providers.credentials(self.cloud, registry, repository))
    }
}

#[cfg(test)]
mod tests;

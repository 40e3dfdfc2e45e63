//! Registry credentials for imagebump: given a registry and a repository, say what to present.
//!
//! Every provider implements one trait, [`CredentialProvider`]: `(registry, repository)` in,
//! [`Credentials`] out (a [`Credential`] plus an optional expiry). The registry client turns
//! that into `Authorization` headers; the daemon picks a provider per `ImageRepository` from its
//! `spec.provider` and `secretRef`, as Flux does.
//!
//! - [`StaticProvider`]: Flux's `generic` provider over docker config secrets, parsed by
//!   [`docker_config`] and matched to registries with Flux's exact rules (key normalization,
//!   descending key order, host-label globs, path prefixes, first match wins).
//! - [`HostDockerConfigProvider`]: the host's `~/.docker/config.json` and credential helpers,
//!   for imagebump outside Kubernetes.
//! - [`cloud`]: cloud registry logins (`provider: aws | gcp | azure`): ECR
//!   `GetAuthorizationToken`, Google access tokens, ACR refresh tokens; [`CloudProviders`]
//!   holds one cached provider per cloud.
//! - [`CachedProvider`]: wraps any provider with Flux's token cache (80 % of the remaining
//!   lifetime, at most 1 h; one fetch per key at a time; failures kept only briefly).
//!
//! Secrets are held in [`Secret`], which prints as `<redacted>`; no `Debug`, `Display` or error
//! message in this crate contains a password or token.
//!
//! This crate does not talk to registries (token exchange and the `/v2/` challenge belong to
//! `imagebump-registry`; the one exception is ACR's `/oauth2/exchange`, which is part of the
//! Azure login), does not find or watch secrets (the daemon reads them and hands the
//! bytes to [`docker_config::DockerConfig::parse`]), and holds no global state.
//!
//! ```
//! use imagebump_auth::{Credential, StaticProvider, docker_config::DockerConfig};
//!
//! // The `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` Secret; `auth` is
//! // base64("bot:s3cret").
//! let json = br#"{"auths": {
//!     "https://index.docker.io/v1/": {"auth": "Ym90OnMzY3JldA=="},
//!     "registry.example.com:5000/team": {"registrytoken": "bearer-token"}
//! }}"#;
//! let provider = StaticProvider::new(DockerConfig::parse_dockerconfigjson(json)?);
//!
//! // Docker Hub images have the canonical registry `index.docker.io`.
//! let hub = provider.lookup("index.docker.io", "library/alpine");
//! assert_eq!(hub.credential, Credential::basic("bot", "s3cret"));
//! assert_eq!(format!("{:?}", hub.credential), r#"Basic { username: "bot", password: <redacted> }"#);
//!
//! // Path keys apply below their path only; no match means anonymous.
//! let team = provider.lookup("registry.example.com:5000", "team/app");
//! assert!(matches!(team.credential, Credential::RegistryToken(_)));
//! assert!(provider.lookup("registry.example.com:5000", "other/app").credential.is_anonymous());
//! # Ok::<(), imagebump_auth::docker_config::Error>(())
//! ```

mod cache;
pub mod cloud;
mod credential;
pub mod docker_config;
pub mod host_docker_config;
pub mod provider;
mod secret;
mod static_provider;
mod util;

pub use cache::{
    CachedProvider, CachedProviderBuilder, Clock, DEFAULT_ERROR_BACKOFF, DEFAULT_MAX_AGE, SystemClock,
};
pub use cloud::{Cloud, CloudError, CloudObserver, CloudOptions, CloudProvider, CloudProviders};
pub use credential::{Credential, Credentials};
pub use host_docker_config::HostDockerConfigProvider;
pub use provider::{BoxFuture, CredentialProvider};
pub use secret::Secret;
pub use static_provider::StaticProvider;

//! [`StaticProvider`]: Flux's `generic` provider over docker config secrets.

use crate::Credentials;
use crate::docker_config::{DockerConfig, MatchOptions};
use crate::provider::{BoxFuture, CredentialProvider, Error};

/// Credentials from parsed docker config secrets (Flux `provider: generic` with `secretRef`
/// and the service account's `imagePullSecrets`).
///
/// Answers without I/O and never fails: a registry no key matches gets
/// [`Credential::Anonymous`](crate::Credential::Anonymous). The credentials have no expiry; the
/// daemon rebuilds the provider when the secret changes (Flux re-reads secrets every reconcile).
#[derive(Debug, Clone, Default)]
pub struct StaticProvider {
    config: DockerConfig,
    options: MatchOptions,
}

impl StaticProvider {
    /// A provider over `config`, matching exactly as Flux does.
    #[must_use]
    pub fn new(config: DockerConfig) -> Self {
        Self {
            config,
            options: MatchOptions::default(),
        }
    }

    /// Sets [`MatchOptions::docker_hub_aliases`]: whether `docker.io` and
    /// `registry-1.docker.io` keys apply to Docker Hub images when nothing else matches.
    #[must_use]
    pub fn docker_hub_aliases(mut self, enabled: bool) -> Self {
        self.options = self.options.docker_hub_aliases(enabled);
        self
    }

    /// The docker config this provider answers from.
    #[must_use]
    pub fn config(&self) -> &DockerConfig {
        &self.config
    }

    /// The credentials for `repository` on `registry`, synchronously.
    #[must_use]
    pub fn lookup(&self, registry: &str, repository: &str) -> Credentials {
        Credentials::new(self.config.credential(registry, repository, self.options))
    }
}

impl CredentialProvider for StaticProvider {
    fn name(&self) -> &'static str {
        "generic"
    }

    fn credentials<'a>(
        &'a self,
        registry: &'a str,
        repository: &'a str,
    ) -> BoxFuture<'a, Result<Credentials, Error>> {
        Box::pin(std::future::ready(Ok(self.lookup(registry, repository))))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::StaticProvider;
    use crate::docker_config::DockerConfig;
    use crate::{Credential, CredentialProvider, Credentials};

    fn provider() -> StaticProvider {
        let config = DockerConfig::parse_dockerconfigjson(
            br#"{"auths": {"ghcr.io/org": {"username": "u", "password": "p"}, "docker.io": {"registrytoken": "t"}}}"#,
        )
        .unwrap();
        StaticProvider::new(config)
    }

    #[tokio::test]
    async fn answers_the_matching_entry_or_anonymous() {
        let provider: Arc<dyn CredentialProvider> = Arc::new(provider());
        assert_eq!(provider.name(), "generic");
        let found = provider.credentials("ghcr.io", "org/app").await.unwrap();
        assert_eq!(found, Credentials::new(Credential::basic("u", "p")));
        assert_eq!(found.expires_at, None);
        let other = provider.credentials("ghcr.io", "elsewhere/app").await.unwrap();
        assert_eq!(other, Credentials::anonymous());
    }

    #[tokio::test]
    async fn docker_hub_aliases_are_opt_in() {
        let flux = provider();
        assert!(
            flux.lookup("index.docker.io", "library/alpine")
                .credential
                .is_anonymous()
        );
        let friendly = provider().docker_hub_aliases(true);
        let found = friendly
            .credentials("index.docker.io", "library/alpine")
            .await
            .unwrap();
        assert!(matches!(found.credential, Credential::RegistryToken(_)));
        assert_eq!(friendly.config().len(), 2);
    }
}

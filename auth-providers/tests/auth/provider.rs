//! Providers as the daemon holds them: behind `Arc<dyn CredentialProvider>`, cached.

use std::sync::Arc;

use imagebump_auth::docker_config::DockerConfig;
use imagebump_auth::{
    CachedProvider, Credential, CredentialProvider, Credentials, HostDockerConfigProvider, Secret,
    StaticProvider,
};

/// The examples of flux-scanning-and-policy §3.2, through the trait object the daemon uses.
#[tokio::test]
async fn spec_examples_through_a_cached_trait_object() {
    let config = DockerConfig::parse_dockerconfigjson(
        br#"{"auths": {
            "host:8083/repository/internal": {"username": "nexus", "password": "n"},
            "*.azurecr.io": {"identitytoken": "acr-refresh"},
            "127.0.0.1:5000": {"username": "local", "password": "l"},
            "https://index.docker.io/v1/": {"auth": "aHViOmh1Yg"},
            "docker.io": {"username": "ignored-by-flux", "password": "x"},
            "ghcr.io": {"username": "host", "password": "h"},
            "ghcr.io/org": {"registrytoken": "org-token"}
        }}"#,
    )
    .unwrap();
    let provider: Arc<dyn CredentialProvider> = Arc::new(CachedProvider::new(StaticProvider::new(config)));
    let cases: [(&str, &str, Credential); 10] = [
        (
            "host:8083",
            "repository/internal/app",
            Credential::basic("nexus", "n"),
        ),
        ("host:8083", "other", Credential::Anonymous),
        (
            "myteam.azurecr.io",
            "app",
            Credential::IdentityToken(Secret::new("acr-refresh")),
        ),
        ("127.0.0.1:5000", "app", Credential::basic("local", "l")),
        ("127.0.0.1:5001", "app", Credential::Anonymous),
        ("127.0.0.1", "app", Credential::Anonymous),
        (
            "index.docker.io",
            "library/alpine",
            Credential::basic("hub", "hub"),
        ),
        (
            "ghcr.io",
            "org/app",
            Credential::RegistryToken(Secret::new("org-token")),
        ),
        ("ghcr.io", "someone/app", Credential::basic("host", "h")),
        ("quay.io", "org/app", Credential::Anonymous),
    ];
    for (registry, repository, expected) in cases {
        let got = provider.credentials(registry, repository).await.unwrap();
        assert_eq!(got, Credentials::new(expected), "{registry}/{repository}");
    }
    assert_eq!(provider.name(), "generic");
}

#[tokio::test]
async fn caches_can_wrap_trait_objects_and_futures_are_send() {
    fn assert_send<T: Send>(value: T) -> T {
        value
    }
    let dir = tempfile::tempdir().unwrap();
    let host: Arc<dyn CredentialProvider> = Arc::new(HostDockerConfigProvider::with_config_dir(dir.path()));
    let cached = Arc::new(CachedProvider::new(host));
    let future = assert_send(cached.credentials("ghcr.io", "org/app"));
    assert_eq!(future.await.unwrap(), Credentials::anonymous());
    assert_eq!(cached.name(), "host-docker-config");
    // Cached answers are shared across tasks.
    let task = tokio::spawn({
        let cached = Arc::clone(&cached);
        async move { cached.credentials("ghcr.io", "org/app").await.unwrap() }
    });
    assert_eq!(task.await.unwrap(), Credentials::anonymous());
}

//! Listing and digests against the real `docker-registry` in each auth mode.

use imagebump_auth::Credential;
use imagebump_registry::request;
use imagebump_registry::{Client, digest, list_tags};
use imagebump_testsupport::{RegistryMode, TestRegistry};

use super::{client, image, options};

fn basic(registry: &TestRegistry) -> Credential {
    let (user, password) = registry.credentials().expect("mode has credentials");
    Credential::basic(user, password)
}

fn client_for(registry: &TestRegistry) -> Client {
    match registry.ca_pem() {
        Some(pem) => Client::builder()
            .ca_pem(pem)
            .build()
            .expect("client with test CA"),
        None => client(),
    }
}

fn sorted(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags
}

/// Pushes three tags, lists them back, and resolves each digest.
async fn round_trip(mode: RegistryMode) {
    let Some(registry) = TestRegistry::start(mode).await else {
        return;
    };
    let tags = ["1.0.0", "1.1.0", "2.0.0-rc.1"];
    let digests = registry.push("team/app", &tags).await;
    let image = image(registry.host(), "team/app");
    let credential = if mode == RegistryMode::Open {
        Credential::Anonymous
    } else {
        basic(&registry)
    };
    let client = client_for(&registry);
    let listed = list_tags(&client, &image, &credential, &options())
        .await
        .unwrap_or_else(|e| panic!("{mode:?}: {e}"));
    assert_eq!(sorted(listed), ["1.0.0", "1.1.0", "2.0.0-rc.1"], "{mode:?}");
    for (tag, pushed) in tags.iter().zip(&digests) {
        let found = digest(&client, &image, tag, &credential, &options())
            .await
            .unwrap_or_else(|e| panic!("{mode:?} digest of {tag}: {e}"));
        assert_eq!(&found, pushed, "{mode:?} {tag}");
    }
}

#[tokio::test]
async fn open_registry() {
    round_trip(RegistryMode::Open).await;
}

#[tokio::test]
async fn htpasswd_basic_auth() {
    round_trip(RegistryMode::Basic).await;
}

#[tokio::test]
async fn tls_with_test_ca() {
    round_trip(RegistryMode::Tls).await;
}

#[tokio::test]
async fn bearer_token_auth() {
    round_trip(RegistryMode::Token).await;
}

#[tokio::test]
async fn anonymous_pull_token() {
    let Some(registry) = TestRegistry::start(RegistryMode::Token).await else {
        return;
    };
    registry.push("team/app", &["1.0.0"]).await;
    let listed = list_tags(
        &client(),
        &image(registry.host(), "team/app"),
        &Credential::Anonymous,
        &options(),
    )
    .await
    .expect("anonymous pull tokens are handed out");
    assert_eq!(listed, ["1.0.0"]);
}

#[tokio::test]
async fn tls_without_the_ca_is_refused() {
    let Some(registry) = TestRegistry::start(RegistryMode::Tls).await else {
        return;
    };
    let err = list_tags(
        &client(),
        &image(registry.host(), "team/app"),
        &basic(&registry),
        &options(),
    )
    .await
    .expect_err("the test CA is not trusted by default");
    let text = err.to_string();
    assert!(
        text.contains(registry.host()) && text.to_lowercase().contains("certificate"),
        "{text}"
    );
}

#[tokio::test]
async fn bad_credentials_fail_clearly_and_never_show_the_password() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    registry.push("team/app", &["1.0.0"]).await;
    let image = image(registry.host(), "team/app");
    let wrong = Credential::basic("testuser", "hunter2-not-the-password");
    let err = list_tags(&client(), &image, &wrong, &options())
        .await
        .expect_err("wrong password");
    let text = format!("{err} {err:?}");
    assert!(
        text.contains("authentication failed") && text.contains(registry.host()),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
    assert!(!err.is_transient());

    let err = list_tags(&client(), &image, &Credential::Anonymous, &options())
        .await
        .expect_err("no credentials");
    assert!(err.to_string().contains("requires credentials"), "{err}");
}

#[tokio::test]
async fn bad_credentials_at_the_token_server() {
    let Some(registry) = TestRegistry::start(RegistryMode::Token).await else {
        return;
    };
    let wrong = Credential::basic("testuser", "hunter2-not-the-password");
    let err = list_tags(&client(), &image(registry.host(), "team/app"), &wrong, &options())
        .await
        .expect_err("the token server refuses");
    let text = format!("{err} {err:?}");
    assert!(text.contains("token request") && text.contains("401"), "{text}");
    assert!(!text.contains("hunter2"), "the password leaked: {text}");
}

#[tokio::test]
async fn missing_repository_is_not_found() {
    let Some(registry) = TestRegistry::start(RegistryMode::Open).await else {
        return;
    };
    let err = list_tags(
        &client(),
        &image(registry.host(), "no/such"),
        &Credential::Anonymous,
        &options(),
    )
    .await
    .expect_err("unknown repository");
    assert!(
        matches!(
            &err,
            imagebump_registry::list_tags::Error::Request(request::Error::NotFound { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("NAME_UNKNOWN"), "{err}");
}

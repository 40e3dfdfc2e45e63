//! The transport against real servers on loopback: client certificates (mTLS) with
//! `docker-registry`'s `http.tls.clientcas`, and proxies (plain HTTP forwarding and `CONNECT`
//! tunnels, with Basic proxy credentials) with the test proxy.
//!
//! On proxies and loopback: Go's `http.ProxyFromEnvironment` never proxies `localhost` or
//! loopback addresses, so Flux talks to a local registry directly even with `HTTPS_PROXY` set.
//! reqwest 0.13 (hyper-util's proxy matcher) has no such exception: an explicit
//! [`ClientBuilder::proxy`](imagebump_registry::ClientBuilder::proxy) (`reqwest::Proxy::all`,
//! no `no_proxy` list) applies to every host, `127.0.0.1` and `localhost` included, and
//! environment proxies are skipped only for hosts listed in `NO_PROXY`/`no_proxy` (and
//! entirely when `REQUEST_METHOD` is set, as under CGI). The environment is not consulted at
//! all once a proxy is set explicitly. So these tests can use the test registries' usual hosts
//! (`127.0.0.1:PORT` plain, `localhost:PORT` with TLS) and still see every request go through
//! the proxy, whatever `NO_PROXY` the test runner has.

use std::time::{Duration, Instant};

use imagebump_auth::Credential;
use imagebump_registry::{Client, ClientBuilder, Options, digest, list_tags};
use imagebump_testsupport::{RegistryMode, TestProxy, TestRegistry};

use super::{image, options};

const PROXY_USER: &str = "proxyuser";
const PROXY_PASSWORD: &str = "proxy-secret-42";

/// A builder trusting the registry's test CA, if it has one.
fn builder_for(registry: &TestRegistry) -> ClientBuilder {
    match registry.ca_pem() {
        Some(pem) => Client::builder().ca_pem(pem),
        None => Client::builder(),
    }
}

fn with_client_certificate(builder: ClientBuilder, registry: &TestRegistry) -> ClientBuilder {
    let cert = registry
        .client_cert_pem()
        .expect("mTLS mode has a client certificate");
    let key = registry.client_key_pem().expect("mTLS mode has a client key");
    builder.client_certificate(&cert, &key)
}

fn basic(registry: &TestRegistry) -> Credential {
    let (user, password) = registry.credentials().expect("mode has credentials");
    Credential::basic(user, password)
}

fn sorted(mut tags: Vec<String>) -> Vec<String> {
    tags.sort();
    tags
}

#[tokio::test]
async fn mtls_lists_tags_and_digests_with_the_client_certificate() {
    let Some(registry) = TestRegistry::start(RegistryMode::MutualTls).await else {
        return;
    };
    let digests = registry.push("team/app", &["1.0.0", "1.1.0"]).await;
    let client = with_client_certificate(builder_for(&registry), &registry)
        .build()
        .expect("client with CA and client certificate");
    let image = image(registry.host(), "team/app");
    let listed = list_tags(&client, &image, &Credential::Anonymous, &options())
        .await
        .expect("the registry accepts the client certificate");
    assert_eq!(sorted(listed), ["1.0.0", "1.1.0"]);
    let found = digest(&client, &image, "1.1.0", &Credential::Anonymous, &options())
        .await
        .expect("digest over mTLS");
    assert_eq!(found, digests[1]);
}

#[tokio::test]
async fn mtls_without_a_client_certificate_fails_naming_the_registry() {
    let Some(registry) = TestRegistry::start(RegistryMode::MutualTls).await else {
        return;
    };
    let client = builder_for(&registry).build().expect("client with the CA only");
    let started = Instant::now();
    let err = list_tags(
        &client,
        &image(registry.host(), "team/app"),
        &Credential::Anonymous,
        &options(),
    )
    .await
    .expect_err("the registry demands a client certificate");
    let text = err.to_string();
    // With TLS 1.3 the registry's `certificate_required` alert reaches reqwest only as
    // "connection closed"; the plain-HTTP fallback for loopback hosts then gets Go's
    // `400 Client sent an HTTP request to an HTTPS server.`, which proves a TLS server, so the
    // transport reports a failed TLS handshake and points at the client certificate.
    assert!(
        text.starts_with(&format!("registry {}: ", registry.host())) && text.contains("/v2/"),
        "{text}"
    );
    assert!(
        text.contains("TLS handshake failed") && text.contains("client certificate"),
        "{text}"
    );
    assert!(!err.is_transient(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "failed after {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn plain_http_goes_through_a_proxy_with_credentials() {
    let Some(registry) = TestRegistry::start(RegistryMode::Open).await else {
        return;
    };
    let digests = registry.push("team/app", &["1.0.0", "2.0.0"]).await;
    let proxy = TestProxy::with_credentials(PROXY_USER, PROXY_PASSWORD);
    let client = Client::builder()
        .proxy(&proxy.url(), Some((PROXY_USER, PROXY_PASSWORD)))
        .build()
        .expect("client with a proxy");
    let image = image(registry.host(), "team/app");
    let listed = list_tags(&client, &image, &Credential::Anonymous, &options())
        .await
        .expect("listing through the proxy");
    assert_eq!(sorted(listed), ["1.0.0", "2.0.0"]);
    let found = digest(&client, &image, "2.0.0", &Credential::Anonymous, &options())
        .await
        .expect("digest through the proxy");
    assert_eq!(found, digests[1]);

    // `127.0.0.1:PORT` is a loopback host, so the transport first probes HTTPS: one CONNECT
    // tunnel (the TLS handshake then fails against the plain-HTTP registry), then plain HTTP
    // in absolute form. Everything went to the registry, nothing around the proxy.
    assert!(
        proxy.forwarded() >= 3,
        "/v2/, tags/list and the manifest; {proxy:?}: {:?}",
        proxy.requests()
    );
    assert!(proxy.tunnels() <= 2, "{proxy:?}: {:?}", proxy.requests());
    assert_eq!(proxy.refused(), 0, "{:?}", proxy.requests());
    let targets = proxy.targets();
    assert!(targets.iter().all(|t| t == registry.host()), "{targets:?}");
    let requests = proxy.requests();
    let tags_list = format!("GET {}/v2/team/app/tags/list", registry.base_url());
    assert!(requests.iter().any(|r| r.starts_with(&tags_list)), "{requests:?}");
}

#[tokio::test]
async fn insecure_scans_send_only_plain_http_to_the_proxy() {
    let Some(registry) = TestRegistry::start(RegistryMode::Basic).await else {
        return;
    };
    registry.push("team/app", &["1.0.0"]).await;
    let proxy = TestProxy::start();
    let client = Client::builder()
        .proxy(&proxy.url(), None)
        .build()
        .expect("client with a proxy");
    let options = Options {
        insecure: true,
        ..options()
    };
    let listed = list_tags(
        &client,
        &image(registry.host(), "team/app"),
        &basic(&registry),
        &options,
    )
    .await
    .expect("listing through the proxy with registry credentials");
    assert_eq!(listed, ["1.0.0"]);
    assert_eq!(proxy.tunnels(), 0, "{:?}", proxy.requests());
    assert!(proxy.forwarded() >= 2, "{:?}", proxy.requests());
}

#[tokio::test]
async fn a_wrong_proxy_password_fails_without_showing_it() {
    let Some(registry) = TestRegistry::start(RegistryMode::Open).await else {
        return;
    };
    let proxy = TestProxy::with_credentials(PROXY_USER, PROXY_PASSWORD);
    let image = image(registry.host(), "team/app");
    for credentials in [Some((PROXY_USER, "hunter2-wrong")), None] {
        let client = Client::builder()
            .proxy(&proxy.url(), credentials)
            .build()
            .expect("client with a proxy");
        let err = list_tags(&client, &image, &Credential::Anonymous, &options())
            .await
            .expect_err("the proxy refuses");
        let text = format!("{err} {err:?}");
        // The CONNECT probe fails ("proxy authorization required"), then the plain-HTTP
        // request gets the proxy's 407, which the transport reports as the answer.
        assert!(
            text.contains(registry.host()) && text.contains("407"),
            "{credentials:?}: {text}"
        );
        assert!(!text.contains("hunter2"), "the password leaked: {text}");
        assert!(!text.contains(PROXY_PASSWORD), "the password leaked: {text}");
        assert!(!err.is_transient(), "{err:?}");
    }
    assert!(proxy.refused() >= 2, "{:?}", proxy.requests());
    assert_eq!(proxy.forwarded() + proxy.tunnels(), 0);
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel() {
    let Some(registry) = TestRegistry::start(RegistryMode::Tls).await else {
        return;
    };
    registry.push("team/app", &["3.0.0"]).await;
    let proxy = TestProxy::with_credentials(PROXY_USER, PROXY_PASSWORD);
    let client = builder_for(&registry)
        .proxy(&proxy.url(), Some((PROXY_USER, PROXY_PASSWORD)))
        .build()
        .expect("client with the CA and a proxy");
    let listed = list_tags(
        &client,
        &image(registry.host(), "team/app"),
        &basic(&registry),
        &options(),
    )
    .await
    .expect("listing through the tunnel");
    assert_eq!(listed, ["3.0.0"]);
    // `localhost:PORT` is tunnelled too; the registry's credentials went inside the tunnel.
    assert!(proxy.tunnels() >= 1, "{:?}", proxy.requests());
    assert_eq!(proxy.forwarded(), 0, "{:?}", proxy.requests());
    assert!(
        proxy.targets().iter().all(|t| t == registry.host()),
        "{:?}",
        proxy.targets()
    );
    assert!(
        proxy
            .requests()
            .iter()
            .all(|r| r.starts_with(&format!("CONNECT {} ", registry.host()))),
        "{:?}",
        proxy.requests()
    );
}

#[tokio::test]
async fn mtls_through_a_connect_tunnel() {
    let Some(registry) = TestRegistry::start(RegistryMode::MutualTls).await else {
        return;
    };
    registry.push("team/app", &["4.0.0"]).await;
    let proxy = TestProxy::start();
    let client = with_client_certificate(builder_for(&registry), &registry)
        .proxy(&proxy.url(), None)
        .build()
        .expect("client with CA, client certificate and proxy");
    let listed = list_tags(
        &client,
        &image(registry.host(), "team/app"),
        &Credential::Anonymous,
        &options(),
    )
    .await
    .expect("the client certificate is presented end to end through the tunnel");
    assert_eq!(listed, ["4.0.0"]);
    assert!(
        proxy.tunnels() >= 1 && proxy.forwarded() == 0,
        "{:?}",
        proxy.requests()
    );
}

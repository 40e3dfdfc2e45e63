//! ACR logins against a loopback Entra ID authority, IMDS and `/oauth2/exchange`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use imagebump_auth::cloud::aws::AwsOptions;
use imagebump_auth::cloud::azure::{AzureCredential, AzureOptions, AzureProvider, RESOURCE, SCOPE, USERNAME};
use imagebump_auth::cloud::gcp::GcpOptions;
use imagebump_auth::cloud::{Cloud, CloudOptions, CloudProviders};
use imagebump_auth::{Credential, CredentialProvider, Secret};
use serde_json::json;

use super::{Counts, Fake, Recorded, assert_hidden, chain, secret_of};

const REGISTRY: &str = "myteam.azurecr.io";
const AAD_TOKEN: &str = "aad-access-token-41d2";
const CLIENT_SECRET: &str = "client-secret-value-e5f6";
/// The refresh token's `exp`: about three hours from now, as ACR does.
fn refresh_exp() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 100
        * 100
        + 3 * 3600
}

fn refresh_token(exp: u64) -> String {
    let segment = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        segment(json!({"alg": "RS256", "typ": "JWT"})),
        segment(json!({"exp": exp, "grant_type": "refresh_token", "aud": REGISTRY}))
    )
}

/// Entra ID at `/<tenant>/oauth2/v2.0/token` and IMDS at `/metadata/identity/oauth2/token`
/// answer `AAD_TOKEN`; `/oauth2/exchange` answers a refresh token expiring at `exp` if it is
/// given `AAD_TOKEN`.
async fn azure_fake(exp: u64) -> Fake {
    Fake::start(move |request: &Recorded| match request.path.as_str() {
        "/oauth2/exchange" if request.form.get("access_token").map(String::as_str) == Some(AAD_TOKEN) => {
            (StatusCode::OK, json!({"refresh_token": refresh_token(exp)}))
        }
        "/oauth2/exchange" => (
            StatusCode::UNAUTHORIZED,
            json!({"errors": [{"code": "UNAUTHORIZED", "message": "invalid access token"}]}),
        ),
        "/metadata/identity/oauth2/token" => (
            StatusCode::OK,
            // IMDS writes its numbers as strings.
            json!({"access_token": AAD_TOKEN, "expires_in": "86399", "resource": RESOURCE, "token_type": "Bearer"}),
        ),
        path if path.ends_with("/oauth2/v2.0/token") => {
            if request.form.get("client_secret").is_some_and(|s| s != CLIENT_SECRET) {
                return (
                    StatusCode::UNAUTHORIZED,
                    json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1"}),
                );
            }
            (StatusCode::OK, json!({"access_token": AAD_TOKEN, "expires_in": 3599, "token_type": "Bearer"}))
        }
        _ => (StatusCode::NOT_FOUND, json!({})),
    })
    .await
}

fn options(fake: &Fake, credential: AzureCredential) -> AzureOptions {
    AzureOptions {
        credential,
        authority_host: fake.base.clone(),
        imds_endpoint: format!("{}/metadata/identity/oauth2/token", fake.base),
        exchange_base: Some(fake.base.clone()),
        http: None,
    }
}

fn client_secret(secret: &str) -> AzureCredential {
    AzureCredential::ClientSecret {
        tenant_id: "tenant-1".into(),
        client_id: "client-1".into(),
        client_secret: Secret::new(secret),
    }
}

fn assert_exchange(request: &Recorded, tenant: Option<&str>) {
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/oauth2/exchange")
    );
    assert_eq!(request.form["grant_type"], "access_token");
    assert_eq!(request.form["service"], REGISTRY);
    assert_eq!(request.form["access_token"], AAD_TOKEN);
    assert_eq!(request.form.get("tenant").map(String::as_str), tenant);
}

#[tokio::test]
async fn client_secret_then_exchange() {
    let exp = refresh_exp();
    let fake = azure_fake(exp).await;
    let provider = AzureProvider::new(options(&fake, client_secret(CLIENT_SECRET))).unwrap();
    let credentials = provider.credentials(REGISTRY, "team/app").await.unwrap();
    assert_eq!(
        credentials.credential,
        Credential::IdentityToken(Secret::new(refresh_token(exp)))
    );
    assert_eq!(
        credentials.expires_at,
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(exp))
    );
    assert_eq!(USERNAME, "00000000-0000-0000-0000-000000000000");
    assert_hidden(
        &format!("{credentials:?} {provider:?}"),
        &[CLIENT_SECRET, AAD_TOKEN, secret_of(&credentials)],
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let token = &requests[0];
    assert_eq!(
        (token.method.as_str(), token.path.as_str()),
        ("POST", "/tenant-1/oauth2/v2.0/token")
    );
    assert_eq!(token.form["grant_type"], "client_credentials");
    assert_eq!(token.form["client_id"], "client-1");
    assert_eq!(token.form["client_secret"], CLIENT_SECRET);
    assert_eq!(token.form["scope"], SCOPE);
    assert_eq!(SCOPE, "https://containerregistry.azure.net/.default");
    assert_exchange(&requests[1], Some("tenant-1"));
}

#[tokio::test]
async fn workload_identity_sends_the_federated_token() {
    let fake = azure_fake(refresh_exp()).await;
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("azure-identity-token");
    std::fs::write(&token_file, "federated-sa-token-7a7a\n").unwrap();
    let credential = AzureCredential::WorkloadIdentity {
        tenant_id: "tenant-2".into(),
        client_id: "client-2".into(),
        token_file,
    };
    let provider = AzureProvider::new(options(&fake, credential)).unwrap();
    let credentials = provider.credentials(REGISTRY, "team/app").await.unwrap();
    assert!(matches!(credentials.credential, Credential::IdentityToken(_)));
    let requests = fake.requests();
    let token = &requests[0];
    assert_eq!(token.path, "/tenant-2/oauth2/v2.0/token");
    assert_eq!(token.form["grant_type"], "client_credentials");
    assert_eq!(token.form["client_id"], "client-2");
    assert_eq!(
        token.form["client_assertion_type"],
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    );
    assert_eq!(token.form["client_assertion"], "federated-sa-token-7a7a");
    assert_eq!(token.form["scope"], SCOPE);
    assert!(!token.form.contains_key("client_secret"));
    assert_exchange(&requests[1], Some("tenant-2"));
}

#[tokio::test]
async fn managed_identity_through_imds() {
    let fake = azure_fake(refresh_exp()).await;
    let credential = AzureCredential::ManagedIdentity {
        client_id: Some("user-assigned-1".into()),
    };
    let provider = AzureProvider::new(options(&fake, credential)).unwrap();
    provider.credentials(REGISTRY, "team/app").await.unwrap();
    let requests = fake.requests();
    let imds = &requests[0];
    assert_eq!(
        (imds.method.as_str(), imds.path.as_str()),
        ("GET", "/metadata/identity/oauth2/token")
    );
    assert_eq!(imds.headers["metadata"], "true");
    assert_eq!(imds.query["api-version"], "2018-02-01");
    assert_eq!(imds.query["resource"], "https://containerregistry.azure.net");
    assert_eq!(imds.query["client_id"], "user-assigned-1");
    assert_exchange(&requests[1], None);
}

#[tokio::test]
async fn refused_logins_keep_secrets_out_of_errors() {
    let fake = azure_fake(refresh_exp()).await;
    let wrong = "wrong-secret-0c0c";
    let provider = AzureProvider::new(options(&fake, client_secret(wrong))).unwrap();
    let error = provider.credentials(REGISTRY, "team/app").await.unwrap_err();
    let text = format!("{} | {error:?} | {provider:?}", chain(&error));
    assert!(
        text.contains("invalid_client: AADSTS7000215: Invalid client secret provided."),
        "{text}"
    );
    assert!(
        text.contains(&format!("{}/tenant-1/oauth2/v2.0/token", fake.base)),
        "{text}"
    );
    assert!(!text.contains("Trace ID"), "{text}");
    assert!(!error.is_transient());
    assert_hidden(&text, &[wrong]);

    let error = provider.credentials("ghcr.io", "team/app").await.unwrap_err();
    assert!(
        chain(&error).contains("not a registry of provider azure"),
        "{}",
        chain(&error)
    );
}

/// Through [`CloudProviders`]: cached per registry until 80 % of the refresh token's lifetime,
/// with hits, misses and requests reported.
#[tokio::test]
async fn cached_and_observed() {
    let fake = azure_fake(refresh_exp()).await;
    let counts = Arc::new(Counts::default());
    let mut cloud_options = CloudOptions::with(
        AwsOptions::default(),
        GcpOptions::default(),
        options(&fake, client_secret(CLIENT_SECRET)),
    );
    cloud_options.observer = Some(Arc::clone(&counts) as _);
    let clouds = Arc::new(CloudProviders::new(cloud_options));
    let shown = format!("{clouds:?}");
    assert_hidden(&shown, &[CLIENT_SECRET]);
    let provider = clouds.provider(Cloud::Azure);
    assert_eq!(provider.name(), "azure");
    let first = provider.credentials(REGISTRY, "team/app").await.unwrap();
    let second = provider.credentials(REGISTRY, "team/other").await.unwrap();
    assert_eq!(first, second);
    assert_eq!(counts.get(), (1, 0, 1, 1), "(ok, failed, hits, misses)");
    assert_eq!(fake.requests().len(), 2);
    assert_hidden(
        &format!("{clouds:?}"),
        &[CLIENT_SECRET, AAD_TOKEN, secret_of(&first)],
    );
}

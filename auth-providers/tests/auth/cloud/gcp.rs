//! Google tokens from a loopback token endpoint (the key file's own `token_uri`) and a
//! loopback metadata server.

use std::path::PathBuf;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use imagebump_auth::cloud::gcp::{GcpOptions, GcpProvider, SCOPES};
use imagebump_auth::cloud::{CloudError, cloud_for_host};
use imagebump_auth::provider::Error;
use imagebump_auth::{Credential, CredentialProvider};
use serde_json::json;

use super::{Fake, assert_expires_in, assert_hidden, chain, secret_of};

const ACCESS_TOKEN: &str = "ya29.test-access-token-5b1c";

fn token_answer(_: &super::Recorded) -> (StatusCode, serde_json::Value) {
    (
        StatusCode::OK,
        json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"}),
    )
}

/// A fresh RSA key: the key pair and its PKCS #8 PEM.
fn rsa_key() -> (KeyPair, String) {
    let key = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let der: Pkcs8V1Der = key.as_der().unwrap();
    let lines: Vec<String> = STANDARD
        .encode(der.as_ref())
        .as_bytes()
        .chunks(64)
        .map(|chunk| String::from_utf8(chunk.to_vec()).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    (key, pem)
}

fn write_json(dir: &tempfile::TempDir, json: &serde_json::Value) -> PathBuf {
    let path = dir.path().join("credentials.json");
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

fn provider(credentials_file: Option<PathBuf>, metadata_host: Option<&str>) -> GcpProvider {
    GcpProvider::new(GcpOptions {
        credentials_file,
        metadata_host: metadata_host.map(str::to_owned),
        http: None,
    })
    .unwrap()
}

fn decode_segment(segment: &str) -> serde_json::Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).unwrap()).unwrap()
}

#[tokio::test]
async fn service_account_key_signs_a_jwt_bearer_grant() {
    let server = Fake::start(token_answer).await;
    let token_uri = format!("{}/token", server.base);
    let (key, pem) = rsa_key();
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(
        &dir,
        &json!({
            "type": "service_account",
            "project_id": "demo",
            "private_key_id": "kid-1",
            "private_key": pem,
            "client_email": "imagebump@demo.iam.gserviceaccount.com",
            "client_id": "1234",
            "token_uri": token_uri,
        }),
    );
    let provider = provider(Some(path), None);
    let credentials = provider
        .credentials("europe-west1-docker.pkg.dev", "demo/repo/app")
        .await
        .unwrap();
    assert_eq!(
        credentials.credential,
        Credential::basic("oauth2accesstoken", ACCESS_TOKEN)
    );
    assert_expires_in(&credentials, 3599);
    assert_hidden(
        &format!("{credentials:?} {provider:?}"),
        &[ACCESS_TOKEN, "PRIVATE KEY"],
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/token")
    );
    assert_eq!(
        request.form["grant_type"],
        "urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
    let assertion = &request.form["assertion"];
    let parts: Vec<&str> = assertion.split('.').collect();
    assert_eq!(parts.len(), 3, "{assertion}");
    assert_eq!(
        decode_segment(parts[0]),
        json!({"alg": "RS256", "typ": "JWT", "kid": "kid-1"})
    );
    let claims = decode_segment(parts[1]);
    assert_eq!(claims["iss"], "imagebump@demo.iam.gserviceaccount.com");
    assert_eq!(claims["aud"], token_uri.as_str());
    assert_eq!(claims["scope"], SCOPES.join(" "));
    assert_eq!(
        claims["scope"],
        "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email"
    );
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key().as_ref())
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the assertion is signed with the key file's key");
}

#[tokio::test]
async fn authorized_user_refreshes() {
    let server = Fake::start(token_answer).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_json(
        &dir,
        &json!({
            "type": "authorized_user",
            "client_id": "cid.apps.googleusercontent.com",
            "client_secret": "client-secret-77aa",
            "refresh_token": "1//refresh-token-88bb",
            "token_uri": format!("{}/token", server.base),
        }),
    );
    let credentials = provider(Some(path), None)
        .credentials("gcr.io", "demo/app")
        .await
        .unwrap();
    assert_eq!(secret_of(&credentials), ACCESS_TOKEN);
    let form = &server.requests()[0].form;
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["client_id"], "cid.apps.googleusercontent.com");
    assert_eq!(form["client_secret"], "client-secret-77aa");
    assert_eq!(form["refresh_token"], "1//refresh-token-88bb");
}

#[tokio::test]
async fn metadata_server_token() {
    let server = Fake::start(|_| {
        (
            StatusCode::OK,
            json!({"access_token": "metadata-token-3c3c", "expires_in": 1800, "token_type": "Bearer"}),
        )
    })
    .await;
    let provider = provider(None, Some(server.host()));
    let credentials = provider.credentials("eu.gcr.io", "demo/app").await.unwrap();
    assert_eq!(
        credentials.credential,
        Credential::basic("oauth2accesstoken", "metadata-token-3c3c")
    );
    assert_expires_in(&credentials, 1800);
    let request = &server.requests()[0];
    assert_eq!(request.method.as_str(), "GET");
    assert_eq!(
        request.path,
        "/computeMetadata/v1/instance/service-accounts/default/token"
    );
    assert_eq!(request.headers["metadata-flavor"], "Google");
    assert_eq!(request.query["scopes"], SCOPES.join(","));
}

#[tokio::test]
async fn failures_name_the_endpoint_but_not_the_secrets() {
    let server = Fake::start(|request| {
        if request.path == "/busy" {
            (StatusCode::SERVICE_UNAVAILABLE, json!({}))
        } else {
            // Some services echo their input; ours must not repeat it.
            let echoed = request.form.get("client_secret").cloned().unwrap_or_default();
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "invalid_grant", "error_description": format!("Bad secret {echoed}")}),
            )
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let user = |uri: &str| {
        json!({"type": "authorized_user", "client_id": "c", "client_secret": "client-secret-77aa",
               "refresh_token": "1//refresh-token-88bb", "token_uri": uri})
    };
    let path = write_json(&dir, &user(&format!("{}/token", server.base)));
    let error = provider(Some(path), None)
        .credentials("gcr.io", "a")
        .await
        .unwrap_err();
    let text = format!("{} | {error:?}", chain(&error));
    assert!(
        text.contains("invalid_grant: Bad secret <redacted>")
            && text.contains(&format!("{}/token", server.base)),
        "{text}"
    );
    assert!(!error.is_transient(), "{text}");
    assert_hidden(&text, &["client-secret-77aa", "1//refresh-token-88bb"]);

    let path = write_json(&dir, &user(&format!("{}/busy", server.base)));
    let error = provider(Some(path), None)
        .credentials("gcr.io", "a")
        .await
        .unwrap_err();
    assert!(
        error.is_transient() && chain(&error).contains("HTTP 503"),
        "{}",
        chain(&error)
    );

    let path = write_json(&dir, &json!({"type": "external_account", "audience": "x"}));
    let error = provider(Some(path), None)
        .credentials("gcr.io", "a")
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Cloud {
                source: CloudError::Unsupported { .. },
                ..
            }
        ),
        "{error:?}"
    );

    let path = write_json(
        &dir,
        &json!({"type": "service_account", "client_email": "e", "private_key": "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END PRIVATE KEY-----"}),
    );
    let error = provider(Some(path), None)
        .credentials("gcr.io", "a")
        .await
        .unwrap_err();
    let text = format!("{} | {error:?}", chain(&error));
    assert!(text.contains("is not an RSA key in PKCS #8 PEM"), "{text}");
    assert_hidden(&text, &["c2VjcmV0LWtleS1ieXRlcw"]);

    let error = provider(Some(dir.path().join("missing.json")), None)
        .credentials("gcr.io", "a")
        .await
        .unwrap_err();
    assert!(chain(&error).contains("missing.json"), "{}", chain(&error));

    let error = provider(None, Some(server.host()))
        .credentials("myteam.azurecr.io", "a")
        .await
        .unwrap_err();
    assert!(
        chain(&error).contains("myteam.azurecr.io is not a registry of provider gcp"),
        "{}",
        chain(&error)
    );
    assert_eq!(
        cloud_for_host("myteam.azurecr.io").map(imagebump_auth::Cloud::name),
        Some("azure")
    );
}

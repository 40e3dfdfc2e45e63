//! `gcr`: Google OIDC ID tokens checked against a JWKS served on loopback, signed here with
//! RSA keys generated for the test.
//!
//! Pub/Sub push authentication: <https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions>
//! Artifact Registry notifications: <https://cloud.google.com/artifact-registry/docs/configure-notifications>

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair};
use axum::extract::State;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{
    TOKEN, accepted, assert_bad_request, assert_ignored, assert_unauthorized, headers, image, sample,
};
use crate::receiver::{GoogleVerifier, ReceiverSecret, Rejection, Verdict, WebhookType, verify};

const AUDIENCE: &str = "https://hooks.example.com/hook/abc";
const EMAIL: &str = "pusher@my-project.iam.gserviceaccount.com";

/// Key generation is slow in debug builds: two keys for the whole module.
static KEYS: LazyLock<[RsaKeyPair; 2]> = LazyLock::new(|| {
    [
        RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
        RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
    ]
});

/// A JWKS endpoint whose key set the test can change, counting fetches.
pub(super) struct Jwks {
    body: Mutex<String>,
    hits: AtomicUsize,
}

impl Jwks {
    pub(super) fn set(&self, keys: &[(&str, &RsaKeyPair)]) {
        let keys: Vec<Value> = keys.iter().map(|(kid, key)| jwk(kid, key)).collect();
        *self.body.lock().unwrap() = json!({ "keys": keys }).to_string();
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

pub(super) async fn serve_jwks(keys: &[(&str, &RsaKeyPair)]) -> (Arc<Jwks>, GoogleVerifier) {
    let jwks = Arc::new(Jwks {
        body: Mutex::new(String::new()),
        hits: AtomicUsize::new(0),
    });
    jwks.set(keys);
    let app = axum::Router::new()
        .route(
            "/oauth2/v3/certs",
            get(|State(jwks): State<Arc<Jwks>>| async move {
                jwks.hits.fetch_add(1, Ordering::SeqCst);
                let body = jwks.body.lock().unwrap().clone();
                ([(axum::http::header::CONTENT_TYPE, "application/json")], body)
            }),
        )
        .with_state(Arc::clone(&jwks));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/oauth2/v3/certs", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    (jwks, GoogleVerifier::with_client(url.parse().unwrap(), client))
}

pub(super) fn key(index: usize) -> &'static RsaKeyPair {
    &KEYS[index]
}

/// The JWK of `key`: `n` and `e` read from its PKCS#1 `RSAPublicKey` DER.
fn jwk(kid: &str, key: &RsaKeyPair) -> Value {
    let der = key.public_key().as_ref();
    let (sequence, _) = der_element(der, 0x30);
    let (n, rest) = der_element(sequence, 0x02);
    let (e, _) = der_element(rest, 0x02);
    let unpad = |b: &[u8]| b[b.iter().position(|&x| x != 0).unwrap()..].to_vec();
    json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
           "n": URL_SAFE_NO_PAD.encode(unpad(n)), "e": URL_SAFE_NO_PAD.encode(unpad(e))})
}

/// One DER element of type `tag`: its content and what follows it.
fn der_element(der: &[u8], tag: u8) -> (&[u8], &[u8]) {
    assert_eq!(der[0], tag);
    let (len, start) = match der[1] {
        short if short < 0x80 => (usize::from(short), 2),
        long => {
            let count = usize::from(long & 0x7f);
            let len = der[2..2 + count]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, 2 + count)
        }
    };
    (&der[start..start + len], &der[start + len..])
}

fn now() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()).unwrap()
}

pub(super) fn claims() -> Value {
    let now = now();
    json!({"iss": "https://accounts.google.com", "aud": AUDIENCE, "azp": "1234567890",
           "email": EMAIL, "email_verified": true, "sub": "1234567890",
           "iat": now, "exp": now + 3600})
}

pub(super) fn jwt(kid: &str, key: &RsaKeyPair, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(
        &RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

pub(super) fn gcr_secret() -> ReceiverSecret {
    ReceiverSecret {
        token: TOKEN.as_bytes().to_vec(),
        audience: Some(AUDIENCE.to_owned()),
        email: Some(EMAIL.to_owned()),
    }
}

async fn push(
    google: &GoogleVerifier,
    secret: &ReceiverSecret,
    token: &str,
    body: &[u8],
) -> Result<Verdict, Rejection> {
    let bearer = format!("Bearer {token}");
    verify(
        WebhookType::Gcr,
        secret,
        &[],
        &headers(&[("Authorization", &bearer)]),
        body,
        google,
    )
    .await
}

fn with(claims: &Value, field: &str, value: Value) -> Value {
    let mut claims = claims.clone();
    claims[field] = value;
    claims
}

#[tokio::test]
async fn valid_token_and_insert_names_the_image() {
    let (_, google) = serve_jwks(&[("k1", key(0))]).await;
    let token = jwt("k1", key(0), &claims());
    let result = push(&google, &gcr_secret(), &token, &sample("gcr")).await;
    assert_eq!(
        result,
        accepted(vec![image(
            "us-east1-docker.pkg.dev/my-project/my-repo/hello-world",
            Some("1.1")
        )])
    );
    // The bare issuer form is Google's too.
    let token = jwt(
        "k1",
        key(0),
        &with(&claims(), "iss", json!("accounts.google.com")),
    );
    assert!(matches!(
        push(&google, &gcr_secret(), &token, &sample("gcr")).await,
        Ok(Verdict::Accept { .. })
    ));
}

#[tokio::test]
async fn claims_that_do_not_match_are_refused() {
    let (_, google) = serve_jwks(&[("k1", key(0))]).await;
    let body = sample("gcr");
    let base = claims();
    let now = now();
    let cases = [
        (
            "wrong aud",
            with(&base, "aud", json!("https://elsewhere.example.com")),
        ),
        ("wrong iss", with(&base, "iss", json!("https://evil.example.com"))),
        (
            "wrong email",
            with(&base, "email", json!("other@my-project.iam.gserviceaccount.com")),
        ),
        ("email not verified", with(&base, "email_verified", json!(false))),
        (
            "expired",
            with(&with(&base, "exp", json!(now - 120)), "iat", json!(now - 3720)),
        ),
        ("issued in the future", with(&base, "iat", json!(now + 600))),
        ("not valid yet", with(&base, "nbf", json!(now + 600))),
        ("no exp", {
            let mut c = base.clone();
            c.as_object_mut().unwrap().remove("exp");
            c
        }),
    ];
    for (case, claims) in cases {
        let result = push(&google, &gcr_secret(), &jwt("k1", key(0), &claims), &body).await;
        assert!(
            matches!(result, Err(Rejection::Unauthorized(_))),
            "{case}: {result:?}"
        );
    }
    // Within the skew is fine.
    let skewed = with(&with(&base, "exp", json!(now - 30)), "iat", json!(now + 30));
    assert!(
        push(&google, &gcr_secret(), &jwt("k1", key(0), &skewed), &body)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn bad_signatures_are_refused() {
    let (_, google) = serve_jwks(&[("k1", key(0))]).await;
    let body = sample("gcr");
    // Signed by another key under k1's id.
    assert_unauthorized(&push(&google, &gcr_secret(), &jwt("k1", key(1), &claims()), &body).await);
    // Claims changed after signing.
    let token = jwt("k1", key(0), &claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(with(&claims(), "email", json!("attacker@example.com")).to_string());
    parts[1] = &forged;
    assert_unauthorized(&push(&google, &gcr_secret(), &parts.join("."), &body).await);
    // An unsigned token.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": "k1"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    );
    assert_unauthorized(&push(&google, &gcr_secret(), &none, &body).await);
    assert_unauthorized(&push(&google, &gcr_secret(), "not.a-jwt", &body).await);
    assert_unauthorized(&push(&google, &gcr_secret(), "", &body).await);
}

#[tokio::test]
async fn unknown_kid_refetches_once_a_minute() {
    let (jwks, google) = serve_jwks(&[("k1", key(0))]).await;
    let body = sample("gcr");
    assert!(
        push(&google, &gcr_secret(), &jwt("k1", key(0), &claims()), &body)
            .await
            .is_ok()
    );
    assert!(
        push(&google, &gcr_secret(), &jwt("k1", key(0), &claims()), &body)
            .await
            .is_ok()
    );
    assert_eq!(jwks.hits(), 1, "cached keys are reused");
    // Google rotates: k2 appears; a token signed with it triggers one refetch.
    jwks.set(&[("k1", key(0)), ("k2", key(1))]);
    assert!(
        push(&google, &gcr_secret(), &jwt("k2", key(1), &claims()), &body)
            .await
            .is_ok()
    );
    assert_eq!(jwks.hits(), 2);
    // Another unknown kid within the minute does not refetch.
    let result = push(&google, &gcr_secret(), &jwt("k3", key(1), &claims()), &body).await;
    assert_unauthorized(&result);
    assert_eq!(jwks.hits(), 2);
}

#[tokio::test]
async fn secret_without_audience_or_email_tells_which_key_is_missing() {
    let (jwks, google) = serve_jwks(&[("k1", key(0))]).await;
    let token = jwt("k1", key(0), &claims());
    let body = sample("gcr");
    let mut secret = gcr_secret();
    secret.audience = None;
    let result = push(&google, &secret, &token, &body).await;
    assert!(
        matches!(&result, Err(Rejection::Unauthorized(m)) if m.contains("`audience`")),
        "{result:?}"
    );
    let mut secret = gcr_secret();
    secret.email = None;
    let result = push(&google, &secret, &token, &body).await;
    assert!(
        matches!(&result, Err(Rejection::Unauthorized(m)) if m.contains("`email`")),
        "{result:?}"
    );
    assert_eq!(jwks.hits(), 0);
}

#[tokio::test]
async fn headers_and_bodies() {
    let (_, google) = serve_jwks(&[("k1", key(0))]).await;
    let token = jwt("k1", key(0), &claims());
    let body = sample("gcr");
    assert_bad_request(
        &verify(
            WebhookType::Gcr,
            &gcr_secret(),
            &[],
            &headers(&[]),
            &body,
            &google,
        )
        .await,
    );
    let basic = headers(&[("Authorization", &format!("Basic {token}"))]);
    assert_unauthorized(&verify(WebhookType::Gcr, &gcr_secret(), &[], &basic, &body, &google).await);
    let message = |data: &Value| {
        json!({"message": {"data": STANDARD.encode(data.to_string()), "messageId": "1"}}).to_string()
    };
    let delete = message(&json!({"action": "DELETE", "tag": "gcr.io/p/app:1"}));
    assert_ignored(&push(&google, &gcr_secret(), &token, delete.as_bytes()).await);
    let by_digest = message(&json!({"action": "INSERT", "digest": "gcr.io/p/app@sha256:6ec128e26cd5"}));
    assert_eq!(
        push(&google, &gcr_secret(), &token, by_digest.as_bytes()).await,
        accepted(vec![image("gcr.io/p/app", None)])
    );
    assert_bad_request(&push(&google, &gcr_secret(), &token, b"{\"message\":{}}").await);
    assert_bad_request(
        &push(
            &google,
            &gcr_secret(),
            &token,
            b"{\"message\":{\"data\":\"***\"}}",
        )
        .await,
    );
    let not_json = json!({"message": {"data": STANDARD.encode("INSERT gcr.io/p/app")}}).to_string();
    assert_bad_request(&push(&google, &gcr_secret(), &token, not_json.as_bytes()).await);
    assert_bad_request(&push(&google, &gcr_secret(), &token, b"{").await);
}

#[tokio::test]
async fn unreachable_jwks_is_unavailable() {
    let result = push(
        &super::unreachable_google(),
        &gcr_secret(),
        &jwt("k1", key(0), &claims()),
        &sample("gcr"),
    )
    .await;
    assert!(matches!(result, Err(Rejection::Unavailable(_))), "{result:?}");
}

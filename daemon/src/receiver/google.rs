//! Google OIDC ID tokens, as Pub/Sub push subscriptions send them (`gcr` receivers).
//!
//! Checks what notification-controller checks through `google.golang.org/api/idtoken`: an RS256
//! signature by one of Google's published keys, issuer `accounts.google.com`, audience and
//! service-account email from the receiver's Secret, a verified email, and the token's validity
//! window. Keys are cached for an hour; a token signed by a key not in the cache (Google rotates
//! keys) triggers at most one extra refetch a minute, so forged `kid`s cannot make us hammer
//! Google.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::verify::{ReceiverSecret, Rejection, truncate};

/// Where Google publishes the keys that sign its ID tokens.
pub const GOOGLE_JWKS_URL: &str = "https://www.googleapis.com/oauth2/v3/certs";

/// How long fetched keys are trusted without refetching.
const KEYS_MAX_AGE: Duration = Duration::from_hours(1);
/// The least time between two fetches.
const MIN_REFETCH: Duration = Duration::from_mins(1);
/// Clock skew tolerated on `exp`, `iat` and `nbf` (idtoken allows 30 s; Pub/Sub and us may
/// both drift).
const SKEW_SECS: i64 = 60;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const ISSUERS: [&str; 2] = ["accounts.google.com", "https://accounts.google.com"];

/// Verifies Google OIDC ID tokens against a JWKS, caching its keys.
#[derive(Debug)]
pub struct GoogleVerifier {
    jwks_url: url::Url,
    client: reqwest::Client,
    cache: Mutex<KeyCache>,
}

#[derive(Debug, Default)]
struct KeyCache {
    keys: HashMap<String, RsaPublicKeyComponents<Vec<u8>>>,
    /// When `keys` was last fetched successfully.
    fetched: Option<Instant>,
    /// When a fetch was last attempted, successful or not.
    attempted: Option<Instant>,
    /// When fresh keys were last refetched because a token named an unknown `kid`.
    refetched: Option<Instant>,
}

impl GoogleVerifier {
    /// A verifier fetching keys from `jwks_url` (normally [`GOOGLE_JWKS_URL`]) with a client
    /// that honours the system proxy settings.
    #[must_use]
    pub fn new(jwks_url: url::Url) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            // Building only fails when the TLS backend cannot start; the default client then
            // fails the same way at first use, which surfaces as `Unavailable`.
            .unwrap_or_default();
        Self::with_client(jwks_url, client)
    }

    /// A verifier using `client` (proxy, CA and timeout settings are the caller's).
    #[must_use]
    pub fn with_client(jwks_url: url::Url, client: reqwest::Client) -> Self {
        GoogleVerifier {
            jwks_url,
            client,
            cache: Mutex::new(KeyCache::default()),
        }
    }

    /// Checks `Authorization: Bearer <ID token>` against the receiver's `audience` and `email`.
    pub(super) async fn verify_request(
        &self,
        secret: &ReceiverSecret,
        headers: &HeaderMap,
    ) -> Result<(), Rejection> {
        let missing_key = |key: &str| {
            Rejection::Unauthorized(format!(
                "the receiver's Secret has no `{key}` key; gcr receivers need `audience` and `email`"
            ))
        };
        let audience = secret
            .audience
            .as_deref()
            .ok_or_else(|| missing_key("audience"))?;
        let email = secret.email.as_deref().ok_or_else(|| missing_key("email"))?;
        let value = headers
            .get("Authorization")
            .ok_or_else(|| Rejection::BadRequest("missing Authorization header".to_owned()))?
            .to_str()
            .map_err(|_| Rejection::BadRequest("Authorization header is not visible ASCII".to_owned()))?;
        let token = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .ok_or_else(|| Rejection::Unauthorized("Authorization is not a Bearer token".to_owned()))?;
        let claims = self.verify_token(token).await?;
        check_claims(&claims, audience, email, unix_now())
    }

    /// Checks the JWT's structure and signature; returns its claims, not yet checked.
    async fn verify_token(&self, token: &str) -> Result<Claims, Rejection> {
        let invalid = |why: &str| Rejection::Unauthorized(format!("ID token {why}"));
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("is not a JWT (three dot-separated parts)"));
        };
        let header: JwtHeader = decode_part(header).ok_or_else(|| invalid("header is malformed"))?;
        if header.alg != "RS256" {
            return Err(invalid(&format!(
                "uses algorithm {:?}, not RS256",
                truncate(&header.alg)
            )));
        }
        let kid = header.kid.ok_or_else(|| invalid("header has no `kid`"))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| invalid("signature is not base64url"))?;
        let key = self.key(&kid).await?;
        // The signed input is the first two parts exactly as sent.
        let signed = &token[..header_and_payload_len(token)];
        key.verify(&RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &signature)
            .map_err(|_| invalid("signature does not verify"))?;
        decode_part(payload).ok_or_else(|| invalid("claims are malformed"))
    }

    /// The key `kid`, refetching the JWKS when stale or when `kid` is unknown (rate-limited).
    async fn key(&self, kid: &str) -> Result<RsaPublicKeyComponents<Vec<u8>>, Rejection> {
        // Held across the fetch: concurrent requests wait for one fetch instead of each starting one.
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        let elapsed = |at: Option<Instant>, span| at.is_none_or(|t| now.duration_since(t) >= span);
        let stale = elapsed(cache.fetched, KEYS_MAX_AGE);
        let unknown = !cache.keys.contains_key(kid);
        let fetch = if stale {
            // Keys are due; but while fetching fails, try once a minute, not on every request.
            elapsed(cache.attempted, MIN_REFETCH)
        } else {
            unknown && elapsed(cache.refetched, MIN_REFETCH)
        };
        if fetch {
            cache.attempted = Some(now);
            if !stale {
                cache.refetched = Some(now);
            }
            match self.fetch().await {
                Ok(keys) => {
                    cache.keys = keys;
                    cache.fetched = Some(now);
                }
                // Stale keys still verify tokens signed before a rotation; use them if they can.
                Err(error) if cache.keys.contains_key(kid) => {
                    tracing::warn!(url = %self.jwks_url, %error, "refreshing Google's signing keys failed; using cached keys");
                }
                Err(error) => return Err(Rejection::Unavailable(error)),
            }
        }
        if let Some(key) = cache.keys.get(kid) {
            return Ok(key.clone());
        }
        if cache.fetched.is_none() {
            return Err(Rejection::Unavailable(
                "Google's signing keys could not be fetched in the last minute".to_owned(),
            ));
        }
        Err(Rejection::Unauthorized(format!(
            "ID token is signed by unknown key {:?}",
            truncate(kid)
        )))
    }

    async fn fetch(&self) -> Result<HashMap<String, RsaPublicKeyComponents<Vec<u8>>>, String> {
        let failed =
            |e: &dyn std::fmt::Display| format!("fetching Google's signing keys from {}: {e}", self.jwks_url);
        let response = self
            .client
            .get(self.jwks_url.clone())
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| failed(&e))?;
        let body = response.bytes().await.map_err(|e| failed(&e))?;
        let jwks: Jwks = serde_json::from_slice(&body).map_err(|e| failed(&e))?;
        let keys: HashMap<_, _> = jwks
            .keys
            .into_iter()
            .filter(|k| k.kty == "RSA" && k.alg.as_deref().is_none_or(|a| a == "RS256"))
            .filter_map(|k| {
                // aws-lc wants the big-endian integers without leading zeros; some JWKS pad them.
                let unpad = |b64: String| {
                    let bytes = URL_SAFE_NO_PAD.decode(b64.trim_end_matches('=')).ok()?;
                    let start = bytes.iter().position(|&b| b != 0)?;
                    Some(bytes[start..].to_vec())
                };
                let n = unpad(k.n?)?;
                let e = unpad(k.e?)?;
                Some((k.kid?, RsaPublicKeyComponents { n, e }))
            })
            .collect();
        if keys.is_empty() {
            return Err(failed(&"the key set has no RSA keys"));
        }
        Ok(keys)
    }
}

impl Default for GoogleVerifier {
    /// Google's production keys.
    fn default() -> Self {
        GoogleVerifier::new(url::Url::parse(GOOGLE_JWKS_URL).expect("GOOGLE_JWKS_URL is a valid URL"))
    }
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Option<T> {
    // Tokens are unpadded base64url; tolerate padding some encoders add.
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[derive(Deserialize)]
struct JwtHeader {
    alg: String,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    alg: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    aud: Option<Audience>,
    email: Option<String>,
    email_verified: Option<serde_json::Value>,
    exp: Option<i64>,
    iat: Option<i64>,
    nbf: Option<i64>,
}

/// `aud` is a string in Google's tokens; JWT also allows an array.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

fn check_claims(claims: &Claims, audience: &str, email: &str, now: i64) -> Result<(), Rejection> {
    let invalid = |why: String| Err(Rejection::Unauthorized(format!("ID token {why}")));
    let iss = claims.iss.as_deref().unwrap_or_default();
    if !ISSUERS.contains(&iss) {
        return invalid(format!("issuer {:?} is not accounts.google.com", truncate(iss)));
    }
    if !claims.aud.as_ref().is_some_and(|a| a.contains(audience)) {
        return invalid("audience does not match the Secret's `audience`".to_owned());
    }
    if claims.email.as_deref() != Some(email) {
        return invalid("email does not match the Secret's `email`".to_owned());
    }
    let verified = matches!(&claims.email_verified, Some(serde_json::Value::Bool(true)))
        || matches!(&claims.email_verified, Some(serde_json::Value::String(s)) if s == "true");
    if !verified {
        return invalid("email is not verified".to_owned());
    }
    match claims.exp {
        None => return invalid("has no `exp`".to_owned()),
        Some(exp) if now > exp.saturating_add(SKEW_SECS) => return invalid("has expired".to_owned()),
        Some(_) => {}
    }
    if claims.iat.is_some_and(|iat| iat > now.saturating_add(SKEW_SECS)) {
        return invalid("was issued in the future".to_owned());
    }
    if claims.nbf.is_some_and(|nbf| nbf > now.saturating_add(SKEW_SECS)) {
        return invalid("is not valid yet".to_owned());
    }
    Ok(())
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

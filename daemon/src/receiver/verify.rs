//! Request verification per receiver type, as notification-controller's `receiver_handlers.go`.
//!
//! Every secret comparison is constant-time: HMACs through `aws_lc_rs::hmac::verify`, plain
//! tokens by comparing their SHA-256 digests with `aws_lc_rs::constant_time`, so neither the
//! content nor the length of a token leaks through timing. No secret value ever reaches a
//! `Rejection`, a log line or `Debug` output.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::{constant_time, hmac};
use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};

use super::google::GoogleVerifier;
use super::payload::{self, PushedImage};

/// Flux's receiver types (`Receiver.spec.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookType {
    /// `generic`: no validation.
    Generic,
    /// `generic-hmac`: `X-Signature` HMAC of the body.
    GenericHmac,
    /// `github`: `X-Hub-Signature-256` (or `X-Hub-Signature`) HMAC, `X-GitHub-Event`.
    Github,
    /// `gitlab`: `X-Gitlab-Token` equals the token, `X-Gitlab-Event`.
    Gitlab,
    /// `bitbucket` (Bitbucket Server): `X-Hub-Signature: sha256=` HMAC, `X-Event-Key`.
    Bitbucket,
    /// `harbor`: `Authorization` equals the token.
    Harbor,
    /// `dockerhub`: no authentication beyond the secret path.
    Dockerhub,
    /// `quay`: no authentication beyond the secret path.
    Quay,
    /// `gcr`: Google OIDC ID token from a Pub/Sub push subscription.
    Gcr,
    /// `nexus`: `X-Nexus-Webhook-Signature` HMAC-SHA1 of the body.
    Nexus,
    /// `acr`: no authentication beyond the secret path.
    Acr,
    /// `cdevents`: `Ce-Type` header.
    Cdevents,
}

impl WebhookType {
    /// Every type, in the order of Flux's documentation.
    pub const ALL: [WebhookType; 12] = [
        WebhookType::Generic,
        WebhookType::GenericHmac,
        WebhookType::Github,
        WebhookType::Gitlab,
        WebhookType::Bitbucket,
        WebhookType::Harbor,
        WebhookType::Dockerhub,
        WebhookType::Quay,
        WebhookType::Gcr,
        WebhookType::Nexus,
        WebhookType::Acr,
        WebhookType::Cdevents,
    ];

    /// Whether requests are checked against the Secret's `token` (beyond the hook path).
    #[must_use]
    pub fn uses_token(self) -> bool {
        matches!(
            self,
            WebhookType::GenericHmac
                | WebhookType::Github
                | WebhookType::Gitlab
                | WebhookType::Bitbucket
                | WebhookType::Harbor
                | WebhookType::Nexus
        )
    }

    /// Flux's spelling (`generic-hmac`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookType::Generic => "generic",
            WebhookType::GenericHmac => "generic-hmac",
            WebhookType::Github => "github",
            WebhookType::Gitlab => "gitlab",
            WebhookType::Bitbucket => "bitbucket",
            WebhookType::Harbor => "harbor",
            WebhookType::Dockerhub => "dockerhub",
            WebhookType::Quay => "quay",
            WebhookType::Gcr => "gcr",
            WebhookType::Nexus => "nexus",
            WebhookType::Acr => "acr",
            WebhookType::Cdevents => "cdevents",
        }
    }
}

/// `spec.type` is not one of Flux's receiver types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown receiver type {0:?}")]
pub struct UnknownWebhookType(pub String);

impl FromStr for WebhookType {
    type Err = UnknownWebhookType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WebhookType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownWebhookType(truncate(s)))
    }
}

impl fmt::Display for WebhookType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a receiver verifies with, from its Secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ReceiverSecret {
    /// Secret key `token`: the HMAC key or the expected header value.
    pub token: Vec<u8>,
    /// Secret key `audience` (`gcr`): the expected `aud` of the Google ID token.
    pub audience: Option<String>,
    /// Secret key `email` (`gcr`): the push subscription's service account.
    pub email: Option<String>,
}

impl fmt::Debug for ReceiverSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |present: bool| if present { "<redacted>" } else { "<unset>" };
        f.debug_struct("ReceiverSecret")
            .field("token", &redact(!self.token.is_empty()))
            .field("audience", &redact(self.audience.is_some()))
            .field("email", &redact(self.email.is_some()))
            .finish()
    }
}

/// A verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Scan. `images` empty means "the payload names no image": scan every listed resource;
    /// otherwise scan the listed `ImageRepository` objects that `matches` one of them.
    Accept {
        /// The images the payload says were pushed.
        images: Vec<PushedImage>,
    },
    /// Authentic, but nothing to do (a `ping` to a `github` receiver, an event not in `spec.events`, a
    /// registry event that is not a push): answer 200 without scanning. The text is for the log.
    Ignore(String),
}

impl Verdict {
    pub(super) fn all() -> Verdict {
        Verdict::Accept { images: Vec::new() }
    }
}

/// Why a request was refused. The text is for the log only, never the response body, and never
/// holds a secret.
///
/// A required header that is absent is a `BadRequest`, like a malformed body; a header that is
/// present but carries the wrong signature or token is `Unauthorized`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// 401: the signature, token or OIDC token does not verify.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 400: a required header is missing, or the body is not what the type sends.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 503: the request could not be verified now (Google's signing keys could not be fetched);
    /// the sender should retry.
    #[error("cannot verify now: {0}")]
    Unavailable(String),
}

impl Rejection {
    /// The HTTP status to answer with.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Rejection::BadRequest(_) => StatusCode::BAD_REQUEST,
            Rejection::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Verifies one webhook request for a receiver of type `kind` and reads the images it names.
///
/// `events` is `spec.events`; `body` the raw request body (signatures cover these exact bytes).
pub async fn verify(
    kind: WebhookType,
    secret: &ReceiverSecret,
    events: &[String],
    headers: &HeaderMap,
    body: &[u8],
    google: &GoogleVerifier,
) -> Result<Verdict, Rejection> {
    // An empty HMAC key or token is one anybody can match.
    if kind.uses_token() && secret.token.is_empty() {
        return Err(Rejection::Unauthorized(format!(
            "the receiver's Secret has an empty `token`; {kind} receivers verify requests with it"
        )));
    }
    match kind {
        WebhookType::Generic => Ok(Verdict::all()),
        WebhookType::GenericHmac => {
            let signature = required_header(headers, "X-Signature")?;
            check_prefixed_hmac(signature, "X-Signature", &ANY_ALGORITHM, body, &secret.token)?;
            Ok(Verdict::all())
        }
        WebhookType::Github => github(secret, events, headers, body),
        WebhookType::Gitlab => {
            let token = required_header(headers, "X-Gitlab-Token")?;
            check_token(token, &secret.token, "X-Gitlab-Token")?;
            Ok(
                filter_event(events, optional_header(headers, "X-Gitlab-Event")?, "GitLab")
                    .unwrap_or_else(Verdict::all),
            )
        }
        WebhookType::Bitbucket => {
            let signature = required_header(headers, "X-Hub-Signature")?;
            check_prefixed_hmac(
                signature,
                "X-Hub-Signature",
                &[Algorithm::Sha256],
                body,
                &secret.token,
            )?;
            Ok(
                filter_event(events, optional_header(headers, "X-Event-Key")?, "Bitbucket")
                    .unwrap_or_else(Verdict::all),
            )
        }
        WebhookType::Harbor => {
            let token = required_header(headers, "Authorization")?;
            check_token(token, &secret.token, "Authorization")?;
            payload::harbor(body)
        }
        WebhookType::Dockerhub => payload::dockerhub(body),
        WebhookType::Quay => payload::quay(body),
        WebhookType::Nexus => {
            let signature = required_header(headers, "X-Nexus-Webhook-Signature")?;
            check_hmac(
                Algorithm::Sha1,
                signature,
                "X-Nexus-Webhook-Signature",
                body,
                &secret.token,
            )?;
            payload::nexus(body)
        }
        WebhookType::Acr => payload::acr(body),
        WebhookType::Gcr => {
            google.verify_request(secret, headers).await?;
            payload::gcr(body)
        }
        WebhookType::Cdevents => {
            let event = required_header(headers, "Ce-Type")?;
            payload::json_value(body)?;
            Ok(filter_event(events, Some(event), "CDEvents").unwrap_or_else(Verdict::all))
        }
    }
}

// As go-github's `ValidatePayload` (SHA-256 preferred, SHA-1 accepted); `ping` is answered
// without a scan; GHCR images are read from package events.
fn github(
    secret: &ReceiverSecret,
    events: &[String],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verdict, Rejection> {
    if let Some(signature) = optional_header(headers, "X-Hub-Signature-256")? {
        check_prefixed_hmac(
            signature,
            "X-Hub-Signature-256",
            &[Algorithm::Sha256],
            body,
            &secret.token,
        )?;
    } else if let Some(signature) = optional_header(headers, "X-Hub-Signature")? {
        check_prefixed_hmac(
            signature,
            "X-Hub-Signature",
            &[Algorithm::Sha1],
            body,
            &secret.token,
        )?;
    } else {
        return Err(Rejection::BadRequest(
            "missing X-Hub-Signature-256 (or X-Hub-Signature) header".to_owned(),
        ));
    }
    let event = required_header(headers, "X-GitHub-Event")?;
    if event.eq_ignore_ascii_case("ping") {
        return Ok(Verdict::Ignore("GitHub ping event".to_owned()));
    }
    if let Some(ignored) = filter_event(events, Some(event), "GitHub") {
        return Ok(ignored);
    }
    if event.eq_ignore_ascii_case("package") || event.eq_ignore_ascii_case("registry_package") {
        let content_type = optional_header(headers, "Content-Type")?.unwrap_or("application/json");
        return payload::github_package(body, content_type);
    }
    Ok(Verdict::all())
}

/// `Some(Ignore)` when `spec.events` is set and does not list `event` (compared as Flux does,
/// ignoring ASCII case).
fn filter_event(events: &[String], event: Option<&str>, sender: &str) -> Option<Verdict> {
    if events.is_empty() {
        return None;
    }
    match event {
        Some(event) if events.iter().any(|e| e.eq_ignore_ascii_case(event)) => None,
        Some(event) => Some(Verdict::Ignore(format!(
            "{sender} event {:?} is not in spec.events",
            truncate(event)
        ))),
        None => Some(Verdict::Ignore(format!(
            "{sender} request names no event and spec.events is set"
        ))),
    }
}

/// HMAC algorithms that signature headers name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha1,
    Sha256,
    Sha512,
}

const ANY_ALGORITHM: [Algorithm; 3] = [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

impl Algorithm {
    fn parse(name: &str) -> Option<Algorithm> {
        ANY_ALGORITHM
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name))
    }

    fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            Algorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Algorithm::Sha256 => hmac::HMAC_SHA256,
            Algorithm::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

/// Checks `<algorithm>=<hex>` against the HMAC of `body`.
fn check_prefixed_hmac(
    value: &str,
    header: &str,
    allowed: &[Algorithm],
    body: &[u8],
    key: &[u8],
) -> Result<(), Rejection> {
    let (name, hex) = value
        .split_once('=')
        .ok_or_else(|| Rejection::BadRequest(format!("{header} is not of the form <algorithm>=<hex>")))?;
    let algorithm = Algorithm::parse(name)
        .filter(|a| allowed.contains(a))
        .ok_or_else(|| {
            let allowed: Vec<_> = allowed.iter().map(|a| a.name()).collect();
            Rejection::BadRequest(format!(
                "{header} uses unsupported algorithm {:?} (expected {})",
                truncate(name),
                allowed.join(", ")
            ))
        })?;
    check_hmac(algorithm, hex, header, body, key)
}

/// Checks a hex HMAC in constant time.
fn check_hmac(
    algorithm: Algorithm,
    hex: &str,
    header: &str,
    body: &[u8],
    key: &[u8],
) -> Result<(), Rejection> {
    let mismatch =
        || Rejection::Unauthorized(format!("{header}: {} signature does not match", algorithm.name()));
    let tag = hex::decode(hex.trim()).map_err(|_| mismatch())?;
    let key = hmac::Key::new(algorithm.hmac(), key);
    hmac::verify(&key, body, &tag).map_err(|_| mismatch())
}

/// Compares a token in constant time: digests first, so the length does not leak either.
fn check_token(value: &str, token: &[u8], header: &str) -> Result<(), Rejection> {
    let given = Sha256::digest(value.as_bytes());
    let expected = Sha256::digest(token);
    constant_time::verify_slices_are_equal(&given, &expected)
        .map_err(|_| Rejection::Unauthorized(format!("{header} does not match the receiver token")))
}

fn required_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, Rejection> {
    optional_header(headers, name)?.ok_or_else(|| Rejection::BadRequest(format!("missing {name} header")))
}

fn optional_header<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, Rejection> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(Some)
            .map_err(|_| Rejection::BadRequest(format!("{name} header is not visible ASCII"))),
    }
}

/// Shortens text from a request before it goes into a log line.
pub(super) fn truncate(text: &str) -> String {
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

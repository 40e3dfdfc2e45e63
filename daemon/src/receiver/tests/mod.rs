//! Receiver tests, split by behaviour. Sample payloads live in `daemon/tests/data/webhooks/`,
//! written from each sender's published documentation (the URL is next to each test).

mod fuzz;
mod gcr;
mod matching;
mod registries;
mod signed;

use std::path::Path;

use aws_lc_rs::hmac;
use axum::http::{HeaderMap, HeaderName, HeaderValue};

use super::payload::PushedImage;
use super::{GoogleVerifier, ReceiverSecret, Rejection, Verdict, WebhookType, verify};

pub(super) const TOKEN: &str = "s3cr3t-t0ken-do-not-log";

pub(super) fn sample(kind: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/webhooks")
        .join(format!("{kind}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub(super) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

pub(super) fn hmac_hex(algorithm: hmac::Algorithm, key: &[u8], body: &[u8]) -> String {
    hex::encode(hmac::sign(&hmac::Key::new(algorithm, key), body).as_ref())
}

pub(super) fn secret() -> ReceiverSecret {
    ReceiverSecret {
        token: TOKEN.as_bytes().to_vec(),
        audience: None,
        email: None,
    }
}

/// A verifier that must never be reached (nothing listens on the discard port).
pub(super) fn unreachable_google() -> GoogleVerifier {
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    GoogleVerifier::with_client("http://127.0.0.1:9/certs".parse().unwrap(), client)
}

pub(super) async fn check(
    kind: WebhookType,
    events: &[&str],
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Verdict, Rejection> {
    let events: Vec<String> = events.iter().map(|e| (*e).to_owned()).collect();
    verify(kind, &secret(), &events, headers, body, &unreachable_google()).await
}

pub(super) fn image(repository: &str, tag: Option<&str>) -> PushedImage {
    PushedImage {
        repository: repository.to_owned(),
        tag: tag.map(str::to_owned),
        path_only: false,
    }
}

#[allow(clippy::unnecessary_wraps, reason = "compared with what `verify` returns")]
pub(super) fn accepted(images: Vec<PushedImage>) -> Result<Verdict, Rejection> {
    Ok(Verdict::Accept { images })
}

#[track_caller]
pub(super) fn assert_unauthorized(result: &Result<Verdict, Rejection>) {
    assert!(
        matches!(result, Err(Rejection::Unauthorized(_))),
        "want Unauthorized, got {result:?}"
    );
    assert_no_secret(result);
}

#[track_caller]
pub(super) fn assert_bad_request(result: &Result<Verdict, Rejection>) {
    assert!(
        matches!(result, Err(Rejection::BadRequest(_))),
        "want BadRequest, got {result:?}"
    );
    assert_no_secret(result);
}

#[track_caller]
pub(super) fn assert_ignored(result: &Result<Verdict, Rejection>) {
    assert!(
        matches!(result, Ok(Verdict::Ignore(_))),
        "want Ignore, got {result:?}"
    );
}

#[track_caller]
pub(super) fn assert_no_secret(result: &Result<Verdict, Rejection>) {
    let text = format!("{result:?}");
    assert!(!text.contains(TOKEN), "secret leaked: {text}");
}

#[test]
fn type_names_round_trip_as_flux_spells_them() {
    let names = [
        "generic",
        "generic-hmac",
        "github",
        "gitlab",
        "bitbucket",
        "harbor",
        "dockerhub",
        "quay",
        "gcr",
        "nexus",
        "acr",
        "cdevents",
    ];
    for name in names {
        let kind: WebhookType = name.parse().unwrap();
        assert_eq!(kind.to_string(), name);
    }
    assert_eq!(WebhookType::ALL.len(), names.len());
    assert!("GitHub".parse::<WebhookType>().is_err());
    assert!("".parse::<WebhookType>().is_err());
}

#[test]
fn secret_debug_redacts_every_value() {
    let secret = ReceiverSecret {
        token: TOKEN.as_bytes().to_vec(),
        audience: Some("https://hooks.example.com/aud-value".to_owned()),
        email: Some("pusher@proj.iam.gserviceaccount.com".to_owned()),
    };
    let shown = format!("{secret:?}");
    assert!(!shown.contains(TOKEN), "{shown}");
    assert!(!shown.contains("aud-value"), "{shown}");
    assert!(!shown.contains("pusher@"), "{shown}");
    assert!(shown.contains("<redacted>"), "{shown}");
}

#[test]
fn rejections_map_to_statuses() {
    use axum::http::StatusCode;
    assert_eq!(
        Rejection::Unauthorized(String::new()).status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        Rejection::BadRequest(String::new()).status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        Rejection::Unavailable(String::new()).status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

//! Token requests over reqwest shared by the GCP and Azure flows: bounded bodies, errors that
//! name the endpoint and the service's error code but never echo what was sent.

use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;

use super::{Cloud, CloudError};
use crate::util::truncated;

/// Bound on one token request.
pub(super) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bound on metadata-server requests: on a machine without one the connection hangs, and Go's
/// clients give up just as fast.
pub(super) const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest token response read.
const MAX_BODY: usize = 1 << 20;

/// A client for cloud token endpoints (proxy from the environment, system roots).
pub(super) fn default_client(cloud: Cloud) -> Result<reqwest::Client, CloudError> {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|e| CloudError::configuration(cloud, format!("cannot set up the HTTP client: {e}")))
}

/// A client for a link-local metadata endpoint: never through a proxy (Go's metadata clients
/// bypass it too), short timeouts.
pub(super) fn metadata_client(cloud: Cloud) -> Result<reqwest::Client, CloudError> {
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(3))
        .timeout(METADATA_TIMEOUT)
        .build()
        .map_err(|e| CloudError::configuration(cloud, format!("cannot set up the HTTP client: {e}")))
}

/// `scheme://host[:port]/path` of a URL: what errors show (queries may carry ids nobody needs
/// to see in a log).
pub(super) fn endpoint_of(url: &reqwest::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    truncated(shown.as_str())
}

/// Sends `request` to `endpoint` and parses a 2xx JSON answer as `T`.
///
/// `sent` lists the secrets in the request: an error message that happens to contain one has it
/// replaced, in case a service echoes its input.
pub(super) async fn send_json<T: DeserializeOwned>(
    cloud: Cloud,
    endpoint: &str,
    request: reqwest::RequestBuilder,
    sent: &[&str],
) -> Result<T, CloudError> {
    let failed = |reason: String, transient: bool| CloudError::Request {
        cloud,
        endpoint: endpoint.to_owned(),
        reason: scrub(&reason, sent),
        transient,
    };
    let response = request.send().await.map_err(|e| failed(describe(&e), true))?;
    let status = response.status();
    let body = read_capped(response).await.map_err(|e| failed(e, true))?;
    if !status.is_success() {
        let transient = matches!(status.as_u16(), 408 | 429) || status.is_server_error();
        let detail = service_error(&body);
        let reason = if detail.is_empty() {
            format!("HTTP {}", status.as_u16())
        } else {
            format!("HTTP {}: {detail}", status.as_u16())
        };
        return Err(failed(reason, transient));
    }
    serde_json::from_slice(&body)
        .map_err(|e| failed(format!("the answer is not the expected JSON: {e}"), false))
}

/// A reqwest error without its URL (the caller names the endpoint), with its causes.
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("reading the answer: {}", describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(format!("the answer is larger than {MAX_BODY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The OAuth2 `error` / `error_description` (or ACR's `errors[].message`) of an error body;
/// empty when there is none. Other body text is not shown: it may echo the request.
fn service_error(body: &[u8]) -> String {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let field = |name: &str| json.get(name).and_then(serde_json::Value::as_str);
    let mut parts: Vec<&str> = [field("error"), field("error_description")]
        .into_iter()
        .flatten()
        .collect();
    if let Some(errors) = json.get("errors").and_then(serde_json::Value::as_array) {
        parts.extend(
            errors
                .iter()
                .filter_map(|e| e.get("message").and_then(serde_json::Value::as_str)),
        );
    }
    // Entra ID descriptions run to several lines with trace ids; the first line says it all.
    let joined = parts.join(": ");
    truncated(joined.lines().next().unwrap_or_default())
}

/// `text` with every non-empty `secret` replaced by `<redacted>`.
pub(super) fn scrub(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_owned(), |text, secret| text.replace(secret, "<redacted>"))
}

/// `now + seconds`, for `expires_in` answers.
pub(super) fn expiry_after(seconds: u64) -> Option<SystemTime> {
    SystemTime::now().checked_add(Duration::from_secs(seconds))
}

/// A number or a numeric string: `expires_in` is a number from Google and Entra ID but a string
/// from Azure's IMDS.
pub(super) fn lenient_u64<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(u64),
        String(String),
    }
    Ok(
        match <Option<NumberOrString> as serde::Deserialize>::deserialize(deserializer)? {
            Some(NumberOrString::Number(n)) => Some(n),
            Some(NumberOrString::String(s)) => s.trim().parse().ok(),
            None => None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::{endpoint_of, scrub, service_error};

    #[test]
    fn service_errors_show_codes_only() {
        assert_eq!(
            service_error(br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret.\r\nTrace ID: x"}"#),
            "invalid_client: AADSTS7000215: Invalid client secret."
        );
        assert_eq!(
            service_error(br#"{"errors":[{"code":"UNAUTHORIZED","message":"bad token"}]}"#),
            "bad token"
        );
        assert_eq!(service_error(b"<html>echo of the request</html>"), "");
    }

    #[test]
    fn scrubbing_and_endpoints() {
        assert_eq!(scrub("bad key s3cr3t!", &["s3cr3t", ""]), "bad key <redacted>!");
        let url = reqwest::Url::parse("https://u:p@login.example/t/oauth2/v2.0/token?client_id=x#f").unwrap();
        assert_eq!(endpoint_of(&url), "https://login.example/t/oauth2/v2.0/token");
    }
}
